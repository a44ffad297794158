"""Static scan of the test sources for `req` markers (no test is imported or run).

Finds `@pytest.mark.req(...)` / `@mark.req(...)` on test functions and
classes, in module or class `pytestmark`, and inside decorator arguments
(e.g. `pytest.param(..., marks=pytest.mark.req(...))`). This lets `check`
reject a marker naming an unknown id before the tests run, and lets it tell
whether a recorded result still matches the source (a removed marker makes
the old result stale).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_STR = r"""(?:"[^"\\\n]*"|'[^'\\\n]*')"""
_DECOR = re.compile(r"@(?:pytest\.)?mark\.req\(\s*(" + _STR + r"(?:\s*,\s*" + _STR
                    + r")*)\s*,?\s*\)\s*(?:#.*)?$")
_IDS = re.compile(_STR)


@dataclass
class Marker:
    file: str
    line: int
    ids: list[str]
    dynamic: bool = False   # an argument that is not a string literal


@dataclass
class ScannedTest:
    file: str
    qualname: str           # "test_x" or "TestA::test_x", as in a pytest node id
    line: int
    ids: set[str] = field(default_factory=set)
    dynamic: bool = False


@dataclass
class Scan:
    markers: list[Marker] = field(default_factory=list)
    tests: dict[tuple[str, str], ScannedTest] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, message
    # test classes made by assignment (`TestX = Machine.TestCase`): their tests are not visible
    dynamic_prefixes: set[tuple[str, str]] = field(default_factory=set)

    def dynamic(self, file: str, qualname: str) -> bool:
        head = qualname.split("::", 1)[0] + "::"
        return (file, head) in self.dynamic_prefixes


def _is_req(func: ast.expr) -> bool:
    """`<...>.mark.req` or `mark.req`."""
    if not (isinstance(func, ast.Attribute) and func.attr == "req"):
        return False
    base = func.value
    return (isinstance(base, ast.Attribute) and base.attr == "mark") or (
        isinstance(base, ast.Name) and base.id == "mark")


def _markers_in(node: ast.AST, file: str) -> list[Marker]:
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _is_req(sub.func):
            ids, dynamic = [], False
            for arg in sub.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    ids.append(arg.value)
                else:
                    dynamic = True
            found.append(Marker(file, sub.lineno, ids, dynamic or not sub.args))
    return found


def _pytestmark(body: list[ast.stmt], file: str) -> list[Marker]:
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets):
            out += _markers_in(stmt.value, file)
    return out


def _collect(scan: Scan, body: list[ast.stmt], file: str, prefix: str, inherited: list[Marker]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Assign) and not prefix:
            for t in stmt.targets:
                if isinstance(t, ast.Name) and t.id.startswith("Test"):
                    scan.dynamic_prefixes.add((file, t.id + "::"))
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name.startswith("test"):
            marks = inherited + [mk for d in stmt.decorator_list for mk in _markers_in(d, file)]
            t = ScannedTest(file, prefix + stmt.name, stmt.lineno)
            for mk in marks:
                t.ids.update(mk.ids)
                t.dynamic |= mk.dynamic
            scan.tests[(file, t.qualname)] = t
        elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
            marks = inherited + [mk for d in stmt.decorator_list for mk in _markers_in(d, file)]
            marks += _pytestmark(stmt.body, file)
            _collect(scan, stmt.body, file, f"{prefix}{stmt.name}::", marks)


def scan_tests(root: Path, tests_dir: str = "tests") -> Scan:
    scan = Scan()
    base = root / tests_dir
    for path in sorted(base.rglob("*.py")) if base.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            scan.errors.append((rel, 0, f"cannot read: {exc}"))
            continue
        scan.files.add(rel)
        if _fast_scan(scan, source, rel):
            continue
        try:
            tree = ast.parse(source, filename=rel)
        except SyntaxError as exc:
            scan.errors.append((rel, exc.lineno or 0, f"syntax error: {exc.msg}"))
            continue
        scan.markers += _markers_in(tree, rel)
        _collect(scan, tree.body, rel, "", _pytestmark(tree.body, rel))
    return scan


_LINE = re.compile(r"^([ \t]*)(?:(@(?:pytest\.)?mark\.req\(.*)|(?:async[ \t]+def|def|class)[ \t]+(\w+))",
                   re.M)


def _fast_scan(scan: Scan, source: str, rel: str) -> bool:
    """Line scan for the plain forms (one-line `@pytest.mark.req("ID", ...)` decorators).

    Exact for those forms and far faster than ast.parse on large suites. Any
    other use of a req marker, or a pytestmark, sends the file to the ast scan
    (returns False before recording anything)."""
    if "pytestmark" in source or source.count("req(") != source.count("mark.req("):
        return False
    if re.search(r"^Test\w*\s*=", source, re.M):  # a test class made by assignment: ast handles it
        return False
    markers: list[Marker] = []
    tests: list[ScannedTest] = []
    stack: list[tuple[int, str, bool, set[str]]] = []  # indent, qualname prefix, collects, inherited ids
    pending: list[str] = []
    line, pos = 1, 0
    n_req = 0
    for m in _LINE.finditer(source):
        line += source.count("\n", pos, m.start())
        pos = m.start()
        if m.group(2) is not None:
            end = source.find("\n", m.start(2))
            d = _DECOR.match(source, m.start(2), len(source) if end < 0 else end)
            if d is None:
                return False
            ids = [x[1:-1] for x in _IDS.findall(d.group(1))]
            markers.append(Marker(rel, line, ids))
            pending += ids
            n_req += 1
            continue
        name = m.group(3)
        kind_class = source.startswith("class", m.end(1))
        indent = len(m.group(1).expandtabs())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        collects, prefix, ids = (stack[-1][2], stack[-1][1], set(stack[-1][3])) if stack else (True, "", set())
        ids.update(pending)
        pending = []
        if kind_class:
            stack.append((indent, prefix + name + "::", collects and name.startswith("Test"), ids))
        else:
            if collects and name.startswith("test"):
                tests.append(ScannedTest(rel, prefix + name, line, ids))
            stack.append((indent, prefix + name + "::", False, ids))
    if n_req != source.count("mark.req("):
        return False  # a marker not at the start of a line: let ast decide
    scan.markers += markers
    for t in tests:
        scan.tests[(rel, t.qualname)] = t
    return True


def split_nodeid(nodeid: str) -> tuple[str, str]:
    """'tests/a.py::TestX::test_y[1-2]' -> ('tests/a.py', 'TestX::test_y')."""
    file, _, rest = nodeid.partition("::")
    bracket = rest.find("[")
    return file, rest if bracket < 0 else rest[:bracket]
