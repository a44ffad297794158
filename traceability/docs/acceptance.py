"""Unit acceptance criteria (IEC 62304 5.5.3, 5.5.4 class C), per unit and true
for it: what the C function's own body shows (memory, recursion, each loop and
what bounds it), and thresholds read from the scripts that enforce them, never
typed (SRS-290)."""
from __future__ import annotations

import re
from pathlib import Path

from traceability.docs.units import blank_comments, block_end

ALLOC = re.compile(r"\b(?:malloc|calloc|realloc|free|alloca)\s*\(")
LOOP_START = re.compile(r"\b(?:for|while)\s*\(")
CONST_BOUND = re.compile(r"<\s*(?:[A-Z][A-Z0-9_]*|\d+)\b")


def c_body(root: Path, file: str, line: int) -> str:
    """The function from its definition line to the `}` that closes its body (braces
    matched, so a one-line or indented definition ends where it ends), comments and
    string literals blanked."""
    lines = (root / file).read_text(encoding="utf-8").splitlines(keepends=True)
    code = blank_comments("".join(lines))[sum(len(x) for x in lines[:line - 1]):]
    brace = code.find("{")
    return code if brace < 0 else code[:block_end(code, brace)]


def loop_heads(body: str) -> list[str]:
    """Each `for (...)` / `while (...)` head, parentheses matched at any depth and lines joined."""
    heads = []
    for m in LOOP_START.finditer(body):
        depth, i = 1, m.end()
        while depth and i < len(body):
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            i += 1
        heads.append(" ".join(body[m.start():i].split()))
    return heads


def loop_facts(body: str) -> list[str]:
    """One sentence per loop, saying what bounds it (or that nothing does)."""
    facts = []
    for head in loop_heads(body):
        if "g_running" in head:
            facts.append(f"`{head}`: a thread loop that runs for as long as the session runs, unbounded by "
                         "design and ended by rt_stop; a stall is caught by the monitor's heartbeat check (SRS-215)")
        elif "EINTR" in head:
            facts.append(f"`{head}`: retries while interrupted by a signal (EINTR), with no bound on the count; "
                         "the lateness it causes is measured and faulted by the loop thread")
        elif head.startswith("for") and CONST_BOUND.search(head):
            facts.append(f"`{head}`: bounded by a constant")
        else:
            facts.append(f"`{head}`: bounded by its arguments or state, not by a constant")
    return facts


def c_criteria(root: Path, unit, regulator_c: str) -> str:
    body = c_body(root, unit.file, unit.line)
    after_head = body.split("{", 1)[-1]
    parts = ["every test below passes",
             "MISRA C:2012 clean (cppcheck, scripts/cppcheck.sh; deviations in cext/misra-deviations.md)"]
    parts.append("allocates memory (malloc/free)" if ALLOC.search(body) else "no dynamic memory")
    parts.append("calls itself (recursion)" if re.search(rf"\b{re.escape(unit.name)}\s*\(", after_head)
                 else "no recursion")
    loops = loop_facts(body)
    parts.append("no loop" if not loops else "loops: " + "; ".join(loops))
    if unit.file == regulator_c:
        parts.append("the limits it enforces tested at their bounds")
    return "; ".join(parts)


def py_criteria(root: Path, unit, mutated: set[str], mutation_min: str) -> str:
    text = (root / unit.file).read_text(encoding="utf-8") if (root / unit.file).exists() else ""
    parts = ["every test below passes"]
    if re.search(r"\bpydantic\b|ValidationError|raise \w*(?:Error|Exception)\(", text):
        parts.append("bad input rejected with a message naming field and range")
    if unit.file in mutated:
        parts.append(f"mutation score at or above MUTATION_MIN_SCORE of scripts/mutation.sh ({mutation_min} %)")
    return "; ".join(parts)
