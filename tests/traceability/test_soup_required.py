"""PR-048 (SRS-292): `ionto-trace check` itself, not only a test, fails when a
platform component or tool of hazard_analysis/soup_required.yaml (data) has no
SOUP entry, even after its deletion was reviewed, and when an entry's on_device
is not what the device process loads (requirements/runtime.lock and the names
the list marks on_device). The list is derived where it can be: every command
that the scripts, tools and tests call is in it or stated as no SOUP item.
Each rule runs once over every entry it concerns (each must get its own error)."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability.data import load_project
from traceability.docs import soupgen
from traceability.docs.soupver import runtime_closure
from traceability.lock import review
from traceability.soup_rules import device_names

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


# ---------------------------------------------------------------- what the files call
SHELL_FILES = ["scripts/dev.sh", "scripts/cverify.sh", "scripts/cppcheck.sh", "scripts/mutation.sh", ".ci/run"]
PY_DIRS = ["scripts", "bench", "core", "traceability", "tests"]
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}
BUILTINS = {"cd", "echo", "printf", "set", "local", "export", "declare", "readonly", "return", "exit", "shift",
            "trap", "read", "source", ".", "eval", "true", "false", "test", "[", "[[", "]]", "]", "wait", ":",
            "case", "esac", "for", "in", "command", "exec", "unset", "continue", "break"}
SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", ";;", "|&"}
ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
WRAPPERS = {"env", "sudo", "as_root", "nohup"}
PY_CALL = re.compile(r"\b(?:run|_run|_cmd|Popen|check_output|check_call|call)\(\s*\[\s*\"([A-Za-z][\w.+-]*)\"")
WHICH = re.compile(r"\bwhich\(\s*\"([^\"]+)\"\s*\)")


def _without_heredocs(text: str) -> str:
    out, end = [], None
    for line in text.splitlines():
        if end is not None:
            end = None if line.strip() == end else end
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        end = m.group(1) if m else None
        out.append(line)
    return "\n".join(out)


def _substitutions(word: str) -> list[str]:
    """The texts of the command substitutions $( ... ) in a word (not $(( arithmetic )))."""
    found, i = [], word.find("$(")
    while i >= 0:
        if word.startswith("$((", i):
            i = word.find("$(", i + 3)
            continue
        depth, j = 1, i + 2
        while j < len(word) and depth:
            depth += {"(": 1, ")": -1}.get(word[j], 0)
            j += 1
        found.append(word[i + 2:j - 1])
        i = word.find("$(", j)
    return found


def shell_commands(text: str, functions: set[str]) -> set[str]:
    """The commands a shell script runs: first words of its simple commands (after
    keywords, assignments and wrappers), `command -v NAME`, `python -m MODULE`,
    `sh -c '...'` and $( ... ), less the builtins and the script's own functions."""
    cmds: set[str] = set()
    for line in _without_heredocs(text).replace("\\\n", " ").splitlines():
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        try:
            tokens = list(lex)
        except ValueError:
            continue
        simple: list[list[str]] = [[]]
        depth, array = 0, False
        for k, tok in enumerate(tokens):
            if array:                          # NAME=( ... ): words, not commands
                array = tok != ")"
            elif tok == "(" and k and tokens[k - 1].endswith("="):
                array = True
            elif tok == ")" and depth == 0:    # `PATTERN)` of a case: a label
                simple[-1] = []
            elif tok in SEPARATORS:
                depth += {"(": 1, ")": -1}.get(tok, 0)
                simple.append([])
            else:
                simple[-1].append(tok)
        for words in simple:
            for w in words:
                for sub in _substitutions(w):
                    cmds |= shell_commands(sub, functions)
            cmds |= _command_of(words, functions)
    return cmds


def _command_of(words: list[str], functions: set[str]) -> set[str]:
    i = 0
    while i < len(words) and (words[i] in KEYWORDS or ASSIGN.match(words[i]) or words[i] in WRAPPERS
                              or words[i] == "step"):
        i += 2 if words[i] == "step" else 1      # step "NAME" COMMAND...
    if i >= len(words) or words[i] in ("for", "case"):
        return set()
    w, rest = words[i], words[i + 1:]
    if w == "command" and rest[:1] == ["-v"]:
        return set(rest[1:2])
    if w in ("sh", "bash") and rest[:1] == ["-c"] and len(rest) > 1:
        return {w} | shell_commands(rest[1], functions)
    python = w.startswith("python") or bool(re.fullmatch(r"\"?\$\{?PY\}?\"?", w))
    if python:
        return {"python" if "$" in w else w} | ({rest[1]} if rest[:1] == ["-m"] and len(rest) > 1 else set())
    if w in BUILTINS or w in functions or not re.fullmatch(r"[A-Za-z][\w.+-]*", w):
        return set()
    return {w}


def called_commands(root: Path) -> dict[str, set[str]]:
    """command -> the files calling it: the shell scripts CI runs, and the Python
    files' subprocess calls and shutil.which lookups."""
    out: dict[str, set[str]] = {}
    for rel in SHELL_FILES:
        text = (root / rel).read_text()
        functions = set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{", text, re.M))
        for c in shell_commands(text, functions):
            out.setdefault(c, set()).add(rel)
    for d in PY_DIRS:
        for path in sorted((root / d).rglob("*.py")):
            text = path.read_text()
            for c in set(PY_CALL.findall(text)) | set(WHICH.findall(text)):
                out.setdefault(c, set()).add(path.relative_to(root).as_posix())
    return out


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
