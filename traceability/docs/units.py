"""The software units (IEC 62304 5.4), read from the code's own declarations and
comments (SRS-184, SRS-293):

- every C function defined in a .c or .h file of cext/ at any depth, found by
  pycparser (a SOUP item, cffi's parser) on the file as gcc's preprocessor gives
  it in each build configuration (BUILD_CONFIGS), never by a pattern over the
  text: static, inline, a return type on its own line, two-word types, pointer
  returns, any name; code in a conditional block that no configuration compiles
  is refused (PR-058: such a function would be a unit nobody lists);
- every Python module under core/, at any depth, __init__.py included.

A unit is keyed by its file and its name (`cext/runner.c:max_i32`, or the module's
path), so two static helpers of the same name in two files are two units.
"""
from __future__ import annotations

import ast
import copy
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REGULATOR_C = "cext/regulator.c"
C_DIR = "cext"
CORE_DIR = "core"
IDS = re.compile(r"\b(?:SRS|PROP)-\d+\b")
# System headers are left out and these few types declared instead (pycparser's
# "fake libc" idea): the units are the project's functions, and a libc type
# name only has to be known as a type for the file to parse.
FAKE_LIBC = """
typedef signed char int8_t; typedef short int16_t; typedef int int32_t; typedef long long int64_t;
typedef unsigned char uint8_t; typedef unsigned short uint16_t; typedef unsigned int uint32_t;
typedef unsigned long long uint64_t; typedef unsigned long size_t; typedef long ssize_t;
typedef long ptrdiff_t; typedef long intptr_t; typedef unsigned long uintptr_t;
typedef long long intmax_t; typedef unsigned long long uintmax_t;
typedef int int_least32_t; typedef unsigned int uint_least32_t; typedef int int_fast32_t;
typedef unsigned int uint_fast32_t; typedef int sig_atomic_t; typedef long time_t; typedef int clockid_t;
typedef unsigned long pthread_t; typedef int pthread_attr_t; typedef int pthread_mutex_t;
typedef int pthread_cond_t; typedef int FILE; typedef char *va_list; typedef int errno_t;
#define bool _Bool
#define true 1
#define false 0
#define NULL ((void *)0)
"""
# PR-058: the builds of cext/ and the macros each defines; the units are the union
# of the functions every one of them compiles. host: the cffi extension
# (cext/build_cffi.py); board: a microcontroller build (scripts/cverify.sh arm).
BUILD_CONFIGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("host", ()),
    ("board", ("IONTO_TARGET_HW",)),
)
CONDITIONAL = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b")
DIRECTIVE = re.compile(r"^[ \t]*#")
SYSTEM_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<[^>\n]*>[^\n]*$", re.M)


class UnitError(Exception):
    """A C file whose functions cannot be read (no preprocessor, or it does not parse)."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


@dataclass
class Unit:
    name: str              # reg_tick, core/machine.py
    kind: str              # "C function" | "Python module"
    file: str
    line: int              # where the definition starts (its return type), 1-based
    interface: str         # signature, or the public names with their signatures
    comment: str           # the code's own comment or docstring
    ids: list[str] = field(default_factory=list)   # requirement ids the code names
    params: list[str] = field(default_factory=list)  # a C function's parameter names
    returns: str = ""      # a C function's return type ("" for void and for a module)

    @property
    def key(self) -> str:
        """The design note's heading: `file:name` for a C function, the path for a module."""
        return self.file if self.kind == "Python module" else f"{self.file}:{self.name}"


# ---------------------------------------------------------------- C source text helpers
@functools.lru_cache(maxsize=256)
def blank_comments(text: str) -> str:
    """The text with comments, string and character literals replaced by spaces
    (newlines kept), so that braces and semicolons in them are not code.
    Cached: the unit list and the acceptance criteria blank the same file
    texts hundreds of times in one check (4.5 of its 15 s, profiled)."""
    out, i, n = [], 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "/*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif two == "//":
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text[i] in "\"'":
            j = i + 1
            while j < n and text[j] != text[i] and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


def block_end(code: str, start: int) -> int:
    """Offset just past the `}` that closes the `{` at offset `start` of comment-free code."""
    depth = 0
    for k in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[k], 0)
        if depth == 0:
            return k + 1
    return len(code)


def _start_index(code_lines: list[str], i: int) -> int:
    """Index of the line where the declaration whose name is on line i starts: the
    lines above it that carry its return type and storage class."""
    while i > 0:
        prev = code_lines[i - 1].strip()
        if not prev or prev.startswith("#") or prev.endswith((";", "}", "{")):
            break
        i -= 1
    return i


def _comment_above(lines: list[str], i: int) -> str:
    """The /* ... */ block that ends on the line before i (0-based), without the markers."""
    j = i - 1
    if j < 0 or not lines[j].rstrip().endswith("*/"):
        return ""
    block = []
    while j >= 0:
        block.append(lines[j])
        if "/*" in lines[j]:
            break
        j -= 1
    text = " ".join(reversed(block))
    text = re.sub(r"/\*+|\*+/", " ", text)
    return re.sub(r"\s*\*\s+", " ", re.sub(r"\s+", " ", text)).strip()


# ---------------------------------------------------------------- C: preprocess and parse
def c_files(root: Path) -> list[str]:
    """Every C source and header of cext/, at any depth (PR-058: cext/boards/board.c too)."""
    d = root / C_DIR
    return sorted(p.relative_to(root).as_posix() for p in d.rglob("*")
                  if p.suffix in (".c", ".h") and p.is_file()) if d.is_dir() else []


def _preprocess(mirror: Path, rel: str, defines: tuple[str, ...] = ()) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise UnitError(rel, "gcc is not installed (its preprocessor is needed to read the C units; "
                             "bash scripts/dev.sh installs it)")
    r = subprocess.run([gcc, "-E", "-nostdinc", "-std=c99", "-x", "c", *(f"-D{m}" for m in defines),
                        "-include", str(mirror / "__fake_libc.h"),
                        "-I", str(mirror / C_DIR), str(mirror / rel)], capture_output=True, text=True)
    if r.returncode != 0:
        raise UnitError(rel, "gcc -E failed: " + " ".join(r.stderr.split())[:300])
    return r.stdout


def _params(fdef) -> list[str]:
    from pycparser import c_ast
    args = fdef.decl.type.args
    names = []
    for p in (args.params if args is not None else []):
        if isinstance(p, (c_ast.Decl, c_ast.ID)) and p.name:   # ID: a K&R-style parameter list
            names.append(p.name)
    return names


def _return_type(fdecl) -> str:
    from pycparser import c_ast, c_generator
    ret = fdecl.type
    if isinstance(ret, c_ast.TypeDecl) and isinstance(ret.type, c_ast.IdentifierType) and ret.type.names == ["void"]:
        return ""
    ret = copy.deepcopy(ret)
    node = ret
    while not isinstance(node, c_ast.TypeDecl):   # through pointers, arrays, function types
        node = node.type
    node.declname = None
    return " ".join(c_generator.CGenerator().visit(c_ast.Typename(None, [], None, ret)).split()) or "?"


def _parse(mirror: Path, rel: str, defines: tuple[str, ...] = ()):
    from pycparser import c_parser
    text = _preprocess(mirror, rel, defines)
    try:
        return c_parser.CParser().parse(text, str(mirror / rel))
    except Exception as exc:    # pycparser's ParseError names the file and line
        msg = str(exc).replace(str(mirror) + "/", "")
        raise UnitError(rel, f"pycparser cannot parse it ({msg}); a libc type it needs may be missing from "
                             "FAKE_LIBC of traceability/docs/units.py") from None


class _Source:
    """One file of cext/ as text, comment-free code and line offsets."""

    def __init__(self, root: Path, rel: str) -> None:
        text = (root / rel).read_text(encoding="utf-8")
        self.lines = text.splitlines()
        self.code = blank_comments(text)
        self.code_lines = self.code.splitlines()
        self.offsets = [0]
        for ln in self.code.splitlines(keepends=True):
            self.offsets.append(self.offsets[-1] + len(ln))


def _units_of(root: Path, mirror: Path, rel: str, defines: tuple[str, ...] = ()) -> list[Unit]:
    """The functions gcc compiles for the translation unit `rel`: its own and, PR-058,
    those of the headers of cext/ it includes (a header's block that only an
    including file's macro enables is compiled there and nowhere else)."""
    from pycparser import c_ast
    tree = _parse(mirror, rel, defines)
    cext = os.path.normpath(mirror / C_DIR) + os.sep

    def where(node) -> str | None:   # the file of cext/ a node comes from, or None
        f = os.path.normpath(node.coord.file) if node.coord else ""
        return Path(f).relative_to(mirror).as_posix() if f.startswith(cext) else None

    # a function declared in another header of cext/ is public: that header's comment too
    declared: dict[str, list[tuple[str, int]]] = {}
    for node in tree.ext:
        if isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl) and where(node):
            declared.setdefault(node.name, []).append((where(node), node.coord.line))
    sources: dict[str, _Source] = {}
    units = []
    for node in tree.ext:
        frel = where(node) if isinstance(node, c_ast.FuncDef) else None
        if frel is None:
            continue
        s = sources.setdefault(frel, _Source(root, frel))
        name = node.decl.name
        first = _start_index(s.code_lines, node.coord.line - 1)
        brace = s.offsets[node.body.coord.line - 1] + node.body.coord.column - 1
        if s.code[brace:brace + 1] != "{":        # a column counted otherwise: the first brace on that line
            brace = s.code.index("{", s.offsets[node.body.coord.line - 1])
        end = block_end(s.code, brace)
        sig = " ".join(s.code[s.offsets[first]:brace].split())
        comment = _comment_above(s.lines, first)
        public = [d for d in declared.get(name, []) if d[0] != frel]
        if public:
            hrel, hline = public[0]
            hlines = (root / hrel).read_text(encoding="utf-8").splitlines()
            hc = _comment_above(hlines, _start_index(blank_comments("\n".join(hlines)).splitlines(), hline - 1))
            comment = (hc + " " + comment).strip() if hc else comment
            sig += f"  [public: {hrel}]"
        last = s.code.count("\n", 0, end)
        ids = sorted(set(IDS.findall(comment + " " + " ".join(s.lines[first:last + 1]))))
        units.append(Unit(name, "C function", frel, first + 1, sig, comment, ids, _params(node),
                          _return_type(node.decl.type)))
    return units


# ---------------------------------------------------------------- conditional blocks no build compiles
def _groups(code: str) -> list[tuple[int, int, int]]:
    """(directive line, first line, last line) of the body of every group of a
    conditional (#if/#ifdef/#ifndef, #elif, #else up to the next of them or
    #endif), 1-based, in comment-free code; a directive's continuation lines
    belong to it, so the body starts after them."""
    lines = code.splitlines()
    groups, stack = [], []       # stack: [directive line, first line] of each open group
    i = 0
    while i < len(lines):
        start = i
        while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
        m = CONDITIONAL.match(lines[start])
        if m:
            word = m.group(1)
            if word in ("elif", "else", "endif") and stack:
                d, first = stack.pop()
                groups.append((d, first, start))
            if word != "endif":
                stack.append([start + 1, i + 2])
        i += 1
    groups += [(d, first, len(lines)) for d, first in stack]   # unterminated: gcc reports it
    return groups


def _marker(tag: int, line: int) -> str:
    return f"__ionto_live_{tag}_{line}__"


def _marked(src: str, after: set[int], tag: int) -> str:
    """`src` with a marker token after each line of `after` (the last line of a
    directive that opens a group): the marker is in the preprocessed output
    exactly when gcc compiles that group."""
    out = []
    for n, text in enumerate(src.splitlines(), 1):
        out.append(text)
        if n in after:
            out.append(_marker(tag, n))
    return "\n".join(out) + "\n"


def _dead_code(base: Path, files: list[str], errors: list[UnitError]) -> None:
    """PR-058: code in a group of a conditional that no configuration of
    BUILD_CONFIGS compiles would hold functions that are no unit: refused,
    naming the file and lines (directives such as #error alone are no code)."""
    groups: dict[int, list[tuple[int, int, int]]] = {}
    codes: dict[int, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="ionto-live-") as tmp:
        mirror = Path(tmp)
        (mirror / "__fake_libc.h").write_text(FAKE_LIBC, encoding="utf-8")
        for tag, rel in enumerate(files):
            src = SYSTEM_INCLUDE.sub("", (base / rel).read_text(encoding="utf-8"))
            code = blank_comments(src)
            groups[tag], codes[tag] = _groups(code), code.splitlines()
            (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
            (mirror / rel).write_text(_marked(src, {first - 1 for _, first, _ in groups[tag]}, tag), encoding="utf-8")
        (mirror / C_DIR).mkdir(exist_ok=True)
        seen: set[str] = set()
        for rel in files:
            for _, defines in BUILD_CONFIGS:
                try:
                    seen.update(re.findall(r"__ionto_live_\d+_\d+__", _preprocess(mirror, rel, defines)))
                except UnitError:
                    pass    # the parse of the file reports it
    names = ", ".join(f"{name}" + (f" (-D{' -D'.join(d)})" if d else "") for name, d in BUILD_CONFIGS)
    for tag, rel in enumerate(files):
        code = codes[tag]
        dead = []
        for d, first, last in groups[tag]:
            if _marker(tag, first - 1) in seen:
                continue
            inner = {n for d2, f2, l2 in groups[tag] if f2 >= first and l2 <= last and (d2, f2) != (d, first)
                     for n in range(d2, l2 + 1)}   # nested groups report their own lines
            dead += [n for n in range(first, last + 1) if n not in inner and n <= len(code)
                     and code[n - 1].strip() and not DIRECTIVE.match(code[n - 1])
                     and not (n > 1 and code[n - 2].rstrip().endswith("\\"))]
        if dead:
            errors.append(UnitError(rel, f"line(s) {', '.join(map(str, sorted(dead)[:10]))} are code in a "
                                         f"conditional block that no build configuration compiles ({names}; "
                                         "BUILD_CONFIGS of traceability/docs/units.py): a function there would be "
                                         "no software unit; build it in a configuration listed there or remove it"))


# keyed on the files' contents alone, not on where they lie: the tests check many
# copies of the project, each with the same cext/ (`root` only says where to read it)
_C_SCANS: dict[str, tuple[tuple[Unit, ...], tuple[UnitError, ...]]] = {}
_C_SCANS_KEPT = 8


def _c_scan(root: str, digest: str) -> tuple[tuple[Unit, ...], tuple[UnitError, ...]]:
    if digest not in _C_SCANS:
        if len(_C_SCANS) >= _C_SCANS_KEPT:
            _C_SCANS.pop(next(iter(_C_SCANS)))   # the oldest
        _C_SCANS[digest] = _c_scan_uncached(Path(root))
    return _C_SCANS[digest]


def _c_scan_uncached(base: Path) -> tuple[tuple[Unit, ...], tuple[UnitError, ...]]:
    units: dict[str, Unit] = {}
    errors: list[UnitError] = []
    with tempfile.TemporaryDirectory(prefix="ionto-units-") as tmp:
        mirror = Path(tmp)
        (mirror / C_DIR).mkdir()
        (mirror / "__fake_libc.h").write_text(FAKE_LIBC, encoding="utf-8")
        files = c_files(base)
        for rel in files:   # system includes become blank lines: the line numbers stay true
            src = (base / rel).read_text(encoding="utf-8")
            (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
            (mirror / rel).write_text(SYSTEM_INCLUDE.sub("", src), encoding="utf-8")
        for rel in files:
            for _, defines in BUILD_CONFIGS:   # the union: the first configuration that has a unit gives it
                try:
                    for u in _units_of(base, mirror, rel, defines):
                        units.setdefault(u.key, u)
                except UnitError as exc:
                    errors.append(exc)
                    break
    _dead_code(base, files, errors)
    return tuple(sorted(units.values(), key=lambda u: (u.file, u.line))), tuple(errors)


def c_scan(root: Path) -> tuple[list[Unit], list[UnitError]]:
    """(units, files that could not be read) of cext/; cached on the files' contents."""
    h = hashlib.sha256()
    for rel in c_files(root):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    units, errors = _c_scan(str(root.resolve()), h.hexdigest())
    return [Unit(**vars(u)) for u in units], list(errors)


def c_units(root: Path) -> list[Unit]:
    return c_scan(root)[0]


# ---------------------------------------------------------------- Python modules of core/
def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"{node.name}({ast.unparse(node.args)})" + (f" -> {ast.unparse(node.returns)}" if node.returns else "")


def py_files(root: Path) -> list[str]:
    """Every Python module under core/, at any depth (packages' __init__.py too)."""
    d = root / CORE_DIR
    return sorted(p.relative_to(root).as_posix() for p in d.rglob("*.py")
                  if "__pycache__" not in p.parts) if d.is_dir() else []


def py_units(root: Path) -> list[Unit]:
    units = []
    for rel in py_files(root):
        src = (root / rel).read_text(encoding="utf-8")
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            units.append(Unit(rel, "Python module", rel, 1, f"(does not parse: {exc})", ""))
            continue
        public = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                public.append(_signature(node))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = ", ".join(ast.unparse(b) for b in node.bases)
                methods = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                           and (not n.name.startswith("_") or n.name == "__init__")]
                fields = [f"{ast.unparse(n.target)}: {ast.unparse(n.annotation)}" for n in node.body
                          if isinstance(n, ast.AnnAssign) and not ast.unparse(n.target).startswith("_")]
                public.append(f"class {node.name}({bases})"
                              + (f"\n    fields: {'; '.join(fields)}" if fields else "")
                              + (f"\n    methods: {', '.join(methods)}" if methods else ""))
        doc = ast.get_docstring(tree) or ""
        units.append(Unit(rel, "Python module", rel, 1, "\n".join(public) or "(no public names)",
                          doc, sorted(set(IDS.findall(src)))))
    return units


def all_units(root: Path) -> list[Unit]:
    return c_units(root) + py_units(root)
