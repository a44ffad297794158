#!/usr/bin/env python3
"""MISRA C:2012 rule 10.8 check (issue 12 point 6): the value of a composite
expression shall not be cast to a different essential type category
(signed / unsigned) or to a wider essential type. cppcheck's addon missed
`(int32_t)((uint64_t)drive_q2 >> 20)`.

A focused, conservative reading of the code as this project writes it: a
cast `(T)(expr)` whose operand is composite (a binary operator at its top
level) takes the essential type of expr from the casts and literal suffixes
of its operands: unsigned if any operand is cast to uintN_t or has a `u`
suffix, else signed; width the widest named (intN_t, LL = 64, else 32).
Exit 1 with file:line for each violation.
"""
from __future__ import annotations

import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from cmut_ops import closing_paren, mask  # noqa: E402

CAST = re.compile(r"\(\s*(u?)int(8|16|32|64)_t\s*\)\s*\(")
BINARY = re.compile(r"<<|>>|[-+*/%&|^]")


def top_level(expr: str) -> str:
    out, depth = [], 0
    for c in expr:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def essential(expr: str) -> tuple[str, int]:
    unsigned = bool(re.search(r"\(\s*uint\d+_t\s*\)|\b\d+[uU]\b|\b\d+[uU][lL]{0,2}\b", expr))
    widths = [int(w) for w in re.findall(r"\(\s*u?int(\d+)_t\s*\)", expr)]
    if re.search(r"\b\d+[uU]?(LL|ll)\b", expr):
        widths.append(64)
    return ("unsigned" if unsigned else "signed"), max(widths or [32])


def check(path: str) -> list[str]:
    text = pathlib.Path(path).read_text()
    masked = mask(text)
    found = []
    for m in CAST.finditer(masked):
        start = m.end() - 1
        j = closing_paren(masked, start)
        expr = masked[start + 1:j]
        if not BINARY.search(top_level(expr).replace("->", "")):
            continue  # not composite
        category, width = essential(expr)
        t_category = "unsigned" if m.group(1) else "signed"
        t_width = int(m.group(2))
        if t_category != category or t_width > width:
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{path}:{line}: MISRA 10.8: composite {category} {width}-bit expression cast to "
                         f"{m.group(1)}int{t_width}_t: {text[m.start():j + 1].strip()}")
    return found


def main() -> int:
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for p in problems:
        print(p)
    print(f"misra-casts: {len(problems)} violations of rule 10.8 in {len(sys.argv) - 1} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
