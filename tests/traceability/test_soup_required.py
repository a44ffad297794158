"""PR-048, PR-057 (SRS-292): `ionto-trace check` itself, not only a test, fails when a
platform component or tool of hazard_analysis/soup_required.yaml (data) has no
SOUP entry, even after its deletion was reviewed, and when an entry's on_device
is not what the device process loads (requirements/runtime.lock and the names
the list marks on_device). The list is derived where it can be: every command
that the scripts, tools and tests call is in it or stated as no SOUP item.
Each rule runs once over every entry it concerns (each must get its own error)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability.cli import main
from traceability.data import load_project
from traceability.docs import soupgen
from traceability.docs.soupver import runtime_closure
from traceability.lock import review
from traceability.soup_commands import called_commands, python_commands, shell_commands
from traceability.soup_rules import DEVICE_FLOOR, REQUIRED_FLOOR, device_names

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"
REQUIRED = "hazard_analysis/soup_required.yaml"
# the components the reviewer deleted with 0 errors (PR-048), and the brief's list
NAMED = {"CPython", "SQLite", "glibc", "gcc", "cppcheck", "Frama-C", "SPIN", "clang"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _required(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / REQUIRED).read_text())


def _entries(root: Path) -> list[dict]:
    return yaml.safe_load((root / SOUP).read_text())["soup"]


def _drop(root: Path, names: set[str]) -> None:
    path = root / SOUP
    text = path.read_text()
    for name in names:
        m = re.search(r'^  - name: "?' + re.escape(name) + r'"?\n(?:(?:    |      |        ).*\n)*', text, re.M)
        assert m, name
        text = text[:m.start()] + text[m.end():]
    path.write_text(text)


# ---------------------------------------------------------------- the data list
@pytest.mark.req("SRS-292")
def test_the_parser_finds_what_the_scripts_call():
    """The derivation below must see the tools, or its coverage test proves nothing."""
    assert shell_commands('step "x (y)" env A=1 "$PY" -m pytest -q; [ -f "$(gcc -print-file-name=a)" ] && '
                          "sh -c 'frama-c -eva && python -m coverage'\nX=(spin)\ncase $1 in\n  a) f ;;\nesac\n"
                          "command -v dot >/dev/null || missing+=(graphviz)", {"f"}) == {
        "python", "pytest", "gcc", "sh", "frama-c", "coverage", "dot"}
    called = called_commands(ROOT)
    assert {"gcc", "cc", "clang", "frama-c", "cppcheck", "spin", "arm-none-eabi-gcc", "arm-none-eabi-size",
            "chromium", "dot", "git", "pytest", "coverage", "gcovr", "mutmut", "pip", "python", "ldd",
            "strictdoc", "bash", "grep", "ionto-trace"} <= set(called), sorted(called)


@pytest.mark.req("SRS-292")
def test_the_required_list_covers_the_named_components_and_every_command_called():
    data = _required()
    mapped = {c: r["name"] for r in data["required"] for c in r.get("commands", [])}
    not_soup = {c for group in data["not_soup"] for c in group["commands"]}
    names = {r["name"] for r in data["required"]}
    assert NAMED <= names
    called = called_commands(ROOT)
    unlisted = {c: sorted(f) for c, f in called.items() if c not in mapped and c not in not_soup}
    assert unlisted == {}, f"called but neither required nor declared no SOUP item: {unlisted}"
    stale = sorted((set(mapped) | not_soup) - set(called))
    assert stale == [], f"listed commands nothing calls: {stale}"
    assert not set(mapped) & not_soup
    # every entry a library of the device process maps to (soupgen.DEVICE_LIBRARIES) is on the device
    device = device_names(load_project(ROOT))
    covers = {v for v in soupgen.DEVICE_LIBRARIES.values() if not v.startswith("not used")}
    assert {_norm(n) for n in covers} <= set(device), covers


@pytest.mark.req("SRS-292")
def test_what_the_device_process_loads_is_the_runtime_closure_and_the_listed_platform():
    device = device_names(load_project(ROOT))
    platform = {_norm(r["name"]) for r in _required()["required"] if r["on_device"]}
    assert platform == {"cpython", "glibc", "sqlite", "openssl", "setuptools"}
    assert set(device) == set(runtime_closure("ionto-core")) | platform
    on = {_norm(e["name"]) for e in _entries(ROOT) if e["on_device"]}
    assert on == set(device)
    assert [e for e in static_errors_of(ROOT) if "[rule: soup]" in e] == []


def static_errors_of(root: Path) -> list[str]:
    from traceability.check import run_check
    return [str(f) for f in run_check(root, static=True).errors]


# ---------------------------------------------------------------- the check
@pytest.mark.req("SRS-292")
def test_a_reviewed_deletion_of_each_required_entry_still_fails_naming_it(copy, capsys):
    names = {r["name"] for r in _required(copy)["required"]}
    assert NAMED <= names and len(names) >= 20
    _drop(copy, names)
    review(load_project(copy), [f"SOUP:{n}" for n in names])    # the deletion reviewed (SRS-288 passes)
    errs = static_errors(capsys, copy)
    assert not [e for e in errs if "[rule: reviewed]" in e], errs
    for name in names:
        mine = [e for e in errs if e.startswith(f"ERROR: {SOUP}: {name}: field 'soup': {name} has no SOUP entry, "
                                                f"but {REQUIRED} requires one: ") and e.endswith("[rule: soup]")]
        assert len(mine) == 1, (name, [e for e in errs if name in e])


@pytest.mark.req("SRS-292")
def test_a_dev_or_report_tool_without_entry_fails_also_outside_a_virtual_environment(copy, capsys, monkeypatch):
    import tomllib
    extras = tomllib.loads((copy / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    direct = {_norm(re.split(r"[=<>]", t)[0]): extra for extra, reqs in extras.items() for t in reqs}
    names = {e["name"] for e in _entries(copy) if _norm(e["name"]) in direct}
    assert len(names) == len(direct) == 12
    _drop(copy, names)
    review(load_project(copy), [f"SOUP:{n}" for n in names])
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)       # the installed-distribution rule is off
    errs = static_errors(capsys, copy)
    for name in names:
        key = _norm(name)
        assert [e for e in errs if e.startswith(f"ERROR: {SOUP}: {key}: field 'soup': {key}, a requirement of "
                                                f"the {direct[key]} extra of pyproject.toml, has no SOUP entry")], name


@pytest.mark.req("SRS-292")
def test_on_device_other_than_what_the_device_process_loads_fails_both_ways(copy, capsys):
    """Every entry flipped at once (and the flip reviewed): each gets its own error."""
    device = set(device_names(load_project(copy)))
    path = copy / SOUP
    text = re.sub(r"^(    on_device: )(true|false)$", lambda m: m.group(1) + ("false" if m.group(2) == "true"
                                                                              else "true"), path.read_text(),
                  flags=re.M)
    path.write_text(text)
    p = load_project(copy)
    review(p, [f"SOUP:{s.name}" for s in p.soup])
    errs = static_errors(capsys, copy)
    entries = _entries(copy)
    assert len(entries) >= 130 and sum(_norm(e["name"]) in device for e in entries) == 14
    for e in entries:
        name = e["name"]
        said = (f"on_device is false, but the device process loads {name}: " if _norm(name) in device else
                f"on_device is true, but the device process does not load {name}: it is neither pinned in "
                f"requirements/runtime.lock nor on_device in {REQUIRED}")
        mine = [x for x in errs if x.startswith(f"ERROR: {SOUP}: {name}: field 'on_device': {said}")]
        assert len(mine) == 1, (name, [x for x in errs if f": {name}: " in x])


@pytest.mark.parametrize("rel, said", [
    ("requirements/runtime.lock", "ERROR: requirements/runtime.lock: file not found: the distributions the device "
     "process loads are not known"),
    (REQUIRED, f"ERROR: {REQUIRED}: file not found"),
])
@pytest.mark.req("SRS-292")
def test_a_missing_lock_or_required_list_fails(copy, capsys, rel, said):
    (copy / rel).unlink()
    assert [e for e in static_errors(capsys, copy) if e.startswith(said)]


@pytest.mark.req("SRS-292")
def test_the_required_list_is_a_reviewed_record(copy, capsys):
    """Taking a name off the list is a change to review, not a silent way around the rule."""
    path = copy / REQUIRED
    data = yaml.safe_load(path.read_text())
    data["required"] = [r for r in data["required"] if r["name"] != "SPIN"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert [e for e in static_errors(capsys, copy) if e.startswith(
        f"ERROR: {REQUIRED}: SOUPREQ: text changed since its last review") and e.endswith("[rule: reviewed]")]


# ---------------------------------------------------------------- PR-057: the floor and the scan in the check
def _write_required(root: Path, data: dict) -> None:
    (root / REQUIRED).write_text(yaml.safe_dump(data, sort_keys=False))
    review(load_project(root), ["SOUPREQ"])


@pytest.mark.req("SRS-292")
def test_the_floor_is_the_list_of_srs_292():
    statement = " ".join(load_project(ROOT).reqs["SRS-292"].statement.split())
    named = statement[statement.index("(at least ") + len("(at least "):statement.index(")", statement.index(
        "(at least "))]
    assert sorted(REQUIRED_FLOOR) == sorted(re.split(r",\s*(?:and\s+)?|\s+and\s+", named))
    assert len(REQUIRED_FLOOR) == 20 and NAMED <= set(REQUIRED_FLOOR)
    assert set(DEVICE_FLOOR) == {"CPython", "glibc", "SQLite", "OpenSSL", "setuptools"}


@pytest.mark.req("SRS-292")
def test_cpython_removed_from_the_list_and_the_soup_list_and_reviewed_fails(copy, capsys):
    """The auditor's reproducer: 0 errors before, only this test failed."""
    data = _required(copy)
    data["required"] = [r for r in data["required"] if r["name"] != "CPython"]
    _drop(copy, {"CPython"})
    review(load_project(copy), ["SOUP:CPython"])
    _write_required(copy, data)
    errs = static_errors(capsys, copy)
    assert not [e for e in errs if "[rule: reviewed]" in e], errs
    assert [e for e in errs if e.startswith(f"ERROR: {REQUIRED}: CPython: field 'required': CPython is not listed, "
                                            "but SRS-292 requires it") and e.endswith("[rule: soup]")], errs
    # its commands are now called but listed nowhere
    for cmd in ("python", "venv"):
        assert [e for e in errs if e.startswith(f"ERROR: {REQUIRED}: {cmd}: field 'commands': {cmd} is called by ")]


@pytest.mark.req("SRS-292")
def test_every_floor_name_taken_off_the_list_fails_once_and_the_device_platform_must_be_on_device(copy, capsys):
    data = _required(copy)
    data["required"] = [r for r in data["required"] if r["name"] not in REQUIRED_FLOOR]
    assert len(data["required"]) >= 1    # the list may not be empty (pytest-xdist stays)
    _write_required(copy, data)
    errs = static_errors(capsys, copy)
    for name in REQUIRED_FLOOR:
        assert len([e for e in errs if e.startswith(f"ERROR: {REQUIRED}: {name}: field 'required': {name} is not "
                                                    "listed, but SRS-292 requires it")]) == 1, name
    data = _required(ROOT)
    for r in data["required"]:
        if r["name"] in DEVICE_FLOOR:
            r["on_device"] = False
    _write_required(copy, data)
    errs = static_errors(capsys, copy)
    for name in DEVICE_FLOOR:
        assert [e for e in errs if e.startswith(f"ERROR: {REQUIRED}: {name}: field 'on_device': on_device is false, "
                                                f"but the device process loads {name} (DEVICE_FLOOR")], name


# every form of call the audit found unseen (PR-057), each with a tool name of its own
SHELL_FORMS = [
    ("find -exec", "find cext -name '*.c' -exec findtool {} \\;\n", "findtool"),
    ('"$TOOLVAR"', 'TOOLVAR=${TOOLVAR:-vartool}\n"$TOOLVAR" --check\n', "vartool"),
    ("absolute path", "/usr/bin/abstool -q out\n", "abstool"),
    ("single-quoted name", "'quotedtool' -q\n", "quotedtool"),
    ("xargs", "ls | xargs -n 1 xargstool\n", "xargstool"),
]
PY_FORMS = [
    ("shell=True", 'subprocess.run("shelltool --all | wc -l", shell=True)\n', "shelltool"),
    ("os.system", 'os.system("systemtool -q")\n', "systemtool"),
    ("argv in a variable", 'ARGV = ["argvtool", "-x"]\nsubprocess.run(ARGV)\n', "argvtool"),
    ("single-quoted name", "subprocess.run(['quotedpytool'])\n", "quotedpytool"),
    ("os.execvp", 'os.execvp("exectool", ["exectool"])\n', "exectool"),
    ("create_subprocess_exec", 'asyncio.create_subprocess_exec("asynctool", "-v")\n', "asynctool"),
]


@pytest.mark.parametrize("form, text, tool", SHELL_FORMS)
@pytest.mark.req("SRS-292")
def test_the_shell_scan_sees_each_form_the_audit_named(form, text, tool):
    assert tool in shell_commands("set -euo pipefail\n" + text, set()), form


@pytest.mark.parametrize("form, text, tool", PY_FORMS)
@pytest.mark.req("SRS-292")
def test_the_python_scan_sees_each_form_the_audit_named(form, text, tool):
    assert tool in python_commands("import asyncio, os, subprocess\n\n\ndef f():\n" +
                                   "".join("    " + line + "\n" for line in text.splitlines())), form


@pytest.mark.req("SRS-292")
def test_a_new_script_and_every_form_of_call_fail_the_check_naming_the_tool_and_file(copy, capsys):
    (copy / "scripts/board_flash.sh").write_text("#!/bin/bash\nset -euo pipefail\nnewscripttool --flash\n" +
                                                 "".join(text for _, text, _ in SHELL_FORMS))
    (copy / "scripts/calls.py").write_text("import asyncio, os, subprocess\n\n\ndef f():\n" + "".join(
        "    " + line + "\n" for _, text, _ in PY_FORMS for line in text.splitlines()))
    errs = static_errors(capsys, copy)
    for tool, rel in [("newscripttool", "scripts/board_flash.sh")] + \
            [(tool, "scripts/board_flash.sh") for _, _, tool in SHELL_FORMS] + \
            [(tool, "scripts/calls.py") for _, _, tool in PY_FORMS]:
        mine = [e for e in errs if e.startswith(f"ERROR: {REQUIRED}: {tool}: field 'commands': {tool} is called by "
                                                f"{rel} but is neither among the commands of a required component "
                                                "nor under not_soup")]
        assert len(mine) == 1 and mine[0].endswith("[rule: soup]"), (tool, mine)


@pytest.mark.req("SRS-292")
def test_a_listed_command_nothing_calls_is_a_warning_not_an_error(copy, capsys):
    data = _required(copy)
    data["not_soup"][0]["commands"].append("retiredtool")
    _write_required(copy, data)
    capsys.readouterr()
    main(["--root", str(copy), "check", "--static"])
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert [x for x in lines if x.startswith(f"WARNING: {REQUIRED}: retiredtool: field 'commands': retiredtool is "
                                             "listed but no script or Python file calls it")]
    assert not [x for x in lines if x.startswith("ERROR")], lines
