"""The software units (IEC 62304 5.4): each C function of the regulator and
each Python module of core/, read from the code's own declarations and comments."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

REGULATOR_C = "cext/regulator.c"
RUNNER_C = "cext/runner.c"
CORE_DIRS = ("core", "core/verification")
IDS = re.compile(r"\b(?:SRS|PROP)-\d+\b")
# A function definition at column 0; the parameters may hold a function pointer.
C_DEF = re.compile(r"^((?:static\s+)?(?:const\s+)?(?:struct\s+)?[A-Za-z_]\w*\s+\**\s*([a-z_]\w*)\((.*)\))\s*$")
C_START = re.compile(r"^(?:static\s+)?(?:const\s+)?(?:struct\s+)?[A-Za-z_]\w*\s+\**\s*[a-z_]\w*\(")


@dataclass
class Unit:
    name: str              # reg_tick, core/machine.py
    kind: str              # "C function" | "Python module"
    file: str
    line: int
    interface: str         # signature, or the public names with their signatures
    comment: str           # the code's own comment or docstring
    ids: list[str] = field(default_factory=list)   # requirement ids the code names


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


def device_c_files(root: Path) -> list[str]:
    """The C files that run on a device: the regulator, the real-time runner and
    the board layers (hal*.c). simload.c is the simulated patient load of the
    test rig, never on a device."""
    names = [REGULATOR_C, RUNNER_C] + sorted(f"cext/{p.name}" for p in (root / "cext").glob("hal*.c"))
    return [n for n in names if (root / n).exists()]


def _definition(lines: list[str], i: int) -> tuple[str, str, int] | None:
    """(signature, name, index of the '{' line) of a function defined at line i,
    its parameter list possibly spread over several lines."""
    if not C_START.match(lines[i]):
        return None
    j, sig = i, lines[i].strip()
    while not sig.endswith(")") and j + 1 < len(lines) and j - i < 6:
        j += 1
        sig += " " + lines[j].strip()
    m = C_DEF.match(re.sub(r"\s+", " ", sig))
    if not m or j + 1 >= len(lines) or not lines[j + 1].startswith("{"):
        return None
    return m.group(1), m.group(2), j + 1


def c_units(root: Path) -> list[Unit]:
    units = []
    for rel in device_c_files(root):
        lines = (root / rel).read_text(encoding="utf-8").splitlines()
        header_rel = rel[:-2] + ".h"
        header = root / header_rel
        hlines = header.read_text(encoding="utf-8").splitlines() if header.exists() else []
        for i in range(len(lines)):
            d = _definition(lines, i)
            if d is None:
                continue
            sig, name, brace = d
            comment = _comment_above(lines, i)
            for k, h in enumerate(hlines):       # a public function: the header's comment too
                if re.search(rf"\b{name}\(", h) and h.rstrip().endswith(";"):
                    hc = _comment_above(hlines, k)
                    comment = (hc + " " + comment).strip() if hc else comment
                    sig += f"  [public: {header_rel}]"
                    break
            body_end = next((j for j in range(brace, len(lines)) if lines[j].startswith("}")), brace)
            ids = sorted(set(IDS.findall(comment + " ".join(lines[i:body_end]))))
            units.append(Unit(name, "C function", rel, i + 1, sig, comment, ids))
    return units


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"{node.name}({ast.unparse(node.args)})" + (f" -> {ast.unparse(node.returns)}" if node.returns else "")


def py_units(root: Path) -> list[Unit]:
    units = []
    for d in CORE_DIRS:
        for path in sorted((root / d).glob("*.py")):
            if path.name == "__init__.py":
                continue
            rel = f"{d}/{path.name}"
            src = path.read_text(encoding="utf-8")
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
