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


H = " --hash=sha256:" + "0" * 64
# (line appended to the lock, the error the check must give for it); the line numbers follow the lock's own.
OTHER_FORMS = [
    ("Pkg_Spaced == 1.0" + H, "pins Pkg_Spaced==1.0 but it has no SOUP entry"),
    ("pkg-extra[x, y]==1.0" + H, "pins pkg-extra==1.0 but it has no SOUP entry"),
    ("pkg-url @ https://example.org/pkg_url-1.0-py3-none-any.whl" + H, "'pkg-url @ https://example.org/"),
    ("pkg-ge>=1.0" + H, "'pkg-ge>=1.0' not an exact pin"),
    ("-r extra-runtime.txt", "'-r extra-runtime.txt' not an exact pin"),
    ("pkg-arb===1.0" + H, "'pkg-arb===1.0' not an exact pin"),
    ("pkg-wild==1.*" + H, "'pkg-wild==1.*' not an exact pin"),
    ("pkg-nohash==1.0", "'pkg-nohash==1.0' has no --hash=sha256:"),
    ("pydantic == 0.1 \\\n    --hash=sha256:" + "1" * 64, "pins pydantic==0.1 but the SOUP entry reviews"),
]


@pytest.mark.req("SRS-292")
def test_every_lock_line_is_an_exact_pin_with_a_hash_that_the_soup_rules_check_or_an_error_naming_it(
        copy, capsys):
    """Audit of issue 10, finding 2: only `^name==version` was read; the other forms pip accepts were
    ignored (1 error for 6 such lines). Spaces, extras and PEP 503 spellings are pins and checked."""
    text = (copy / LOCK).read_text().rstrip("\n") + "\n"
    first = text.count("\n") + 1
    (copy / LOCK).write_text(text + "".join(line + "\n" for line, _ in OTHER_FORMS))
    errs = [e for e in _errors(capsys, copy) if LOCK in e or "pydantic" in e]
    no = first
    for line, want in OTHER_FORMS:
        mine = [e for e in errs if want in e and e.endswith("[rule: soup]")]
        assert len(mine) == 1, (line, errs)
        if "not an exact pin" in want or "has no --hash" in want:
            assert mine[0].startswith(f"ERROR: {LOCK}: line {no}: "), mine
            assert "a device lock allows only exact pins with sha256 hashes" in mine[0]
        no += line.count("\n") + 1
    assert len([e for e in errs if e.startswith(f"ERROR: {LOCK}: line ")]) == 6, errs
