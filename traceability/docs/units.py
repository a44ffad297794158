"""The software units (IEC 62304 5.4), read from the code's own declarations and
comments (SRS-184, SRS-293):

- every C function defined in cext/*.c and cext/*.h, found by pycparser (a SOUP
  item, cffi's parser) on the file as gcc's preprocessor gives it, never by a
  pattern over the text: static, inline, a return type on its own line, two-word
  types, pointer returns, any name;
- every Python module under core/, at any depth, __init__.py included.

A unit is keyed by its file and its name (`cext/runner.c:max_i32`, or the module's
path), so two static helpers of the same name in two files are two units.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
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
def blank_comments(text: str) -> str:
    """The text with comments, string and character literals replaced by spaces
    (newlines kept), so that braces and semicolons in them are not code."""
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
    """Every C source and header of cext/."""
    d = root / C_DIR
    return sorted(f"{C_DIR}/{p.name}" for p in d.iterdir() if p.suffix in (".c", ".h") and p.is_file()) \
        if d.is_dir() else []


def _preprocess(mirror: Path, rel: str) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise UnitError(rel, "gcc is not installed (its preprocessor is needed to read the C units; "
                             "bash scripts/dev.sh installs it)")
    r = subprocess.run([gcc, "-E", "-nostdinc", "-std=c99", "-x", "c", "-include", str(mirror / "__fake_libc.h"),
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


def _parse(mirror: Path, rel: str):
    from pycparser import c_parser
    text = _preprocess(mirror, rel)
    try:
        return c_parser.CParser().parse(text, str(mirror / rel))
    except Exception as exc:    # pycparser's ParseError names the file and line
        msg = str(exc).replace(str(mirror) + "/", "")
        raise UnitError(rel, f"pycparser cannot parse it ({msg}); a libc type it needs may be missing from "
                             "FAKE_LIBC of traceability/docs/units.py") from None


def _units_of(root: Path, mirror: Path, rel: str) -> list[Unit]:
    from pycparser import c_ast
    tree = _parse(mirror, rel)
    own = str(mirror / rel)
    # a function declared in another header of cext/ is public: that header's comment too
    public: dict[str, tuple[str, int]] = {}
    for node in tree.ext:
        if (isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl) and node.coord
                and node.coord.file != own and node.coord.file.startswith(str(mirror / C_DIR))):
            public.setdefault(node.name, (node.coord.file[len(str(mirror)) + 1:], node.coord.line))
    text = (root / rel).read_text(encoding="utf-8")
    lines = text.splitlines()
    code = blank_comments(text)
    code_lines = code.splitlines()
    offsets = [0]
    for ln in code.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(ln))
    units = []
    for node in tree.ext:
        if not (isinstance(node, c_ast.FuncDef) and node.coord and node.coord.file == own):
            continue
        name = node.decl.name
        first = _start_index(code_lines, node.coord.line - 1)
        brace = offsets[node.body.coord.line - 1] + node.body.coord.column - 1
        if code[brace:brace + 1] != "{":        # a column counted otherwise: the first brace on that line
            brace = code.index("{", offsets[node.body.coord.line - 1])
        end = block_end(code, brace)
        sig = " ".join(code[offsets[first]:brace].split())
        comment = _comment_above(lines, first)
        if name in public:
            hrel, hline = public[name]
            hlines = (root / hrel).read_text(encoding="utf-8").splitlines()
            hc = _comment_above(hlines, _start_index(blank_comments("\n".join(hlines)).splitlines(), hline - 1))
            comment = (hc + " " + comment).strip() if hc else comment
            sig += f"  [public: {hrel}]"
        last = code.count("\n", 0, end)
        ids = sorted(set(IDS.findall(comment + " " + " ".join(lines[first:last + 1]))))
        units.append(Unit(name, "C function", rel, first + 1, sig, comment, ids, _params(node),
                          _return_type(node.decl.type)))
    return units


@lru_cache(maxsize=8)
def _c_scan(root: str, digest: str) -> tuple[tuple[Unit, ...], tuple[UnitError, ...]]:
    base = Path(root)
    units: list[Unit] = []
    errors: list[UnitError] = []
    with tempfile.TemporaryDirectory(prefix="ionto-units-") as tmp:
        mirror = Path(tmp)
        (mirror / C_DIR).mkdir()
        (mirror / "__fake_libc.h").write_text(FAKE_LIBC, encoding="utf-8")
        files = c_files(base)
        for rel in files:   # system includes become blank lines: the line numbers stay true
            src = (base / rel).read_text(encoding="utf-8")
            (mirror / rel).write_text(SYSTEM_INCLUDE.sub("", src), encoding="utf-8")
        for rel in files:
            try:
                units += _units_of(base, mirror, rel)
            except UnitError as exc:
                errors.append(exc)
    return tuple(units), tuple(errors)


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
