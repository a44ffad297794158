"""PR-048, in part (third review of issue 10, finding 6): `ionto-trace check
--static` itself (not only a test) fails on a platform component or tool
without a version_probe and on a requirements/runtime.lock pin that differs
from its SOUP entry's version. Each rule is broken for every non-Python entry
(every pin) at once, in one run, and each must get its own error."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"
LOCK = "requirements/runtime.lock"
NON_PY = sorted(s["name"] for s in yaml.safe_load((ROOT / SOUP).read_text())["soup"] if s["kind"] != "python")
PINS = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", (ROOT / LOCK).read_text(), re.M)


_errors = static_errors


@pytest.mark.req("SRS-274")
def test_every_tool_without_a_version_probe_fails_the_check(copy, capsys):
    text = (copy / SOUP).read_text()
    for name in NON_PY:
        m = re.search(rf"^  - name: \"?{re.escape(name)}\"?\n(?:    .*\n)*?    version_probe: .*\n", text, re.M)
        assert m, name
        text = text[:m.start()] + re.sub(r"    version_probe: .*\n", "", m.group(0)) + text[m.end():]
    (copy / SOUP).write_text(text)
    errs = _errors(capsys, copy)
    for name in NON_PY:
        mine = [e for e in errs if e.startswith(f"ERROR: {SOUP}: {name}: field 'version_probe': ")
                and e.endswith("[rule: soup]")]
        assert len(mine) == 1, (name, [e for e in errs if f": {name}: " in e])


@pytest.mark.req("SRS-274")
def test_every_runtime_lock_pin_that_differs_from_the_soup_entry_fails_the_check(copy, capsys):
    text = (copy / LOCK).read_text()
    for name, pin in PINS:
        text = text.replace(f"{name}=={pin} ", f"{name}=={pin}.999 ", 1)
    (copy / LOCK).write_text(text)
    errs = _errors(capsys, copy)
    for name, pin in PINS:
        mine = [e for e in errs if f"{LOCK} pins {name}=={pin}.999 but the SOUP entry reviews {pin}" in e
                and e.endswith("[rule: soup]")]
        assert len(mine) == 1, (name, errs)


@pytest.mark.req("SRS-274")
def test_the_repository_pins_and_probes_pass(capsys):
    assert len(PINS) >= 9 and len(NON_PY) >= 8
    assert [e for e in _errors(capsys, ROOT) if "[rule: soup]" in e] == []
