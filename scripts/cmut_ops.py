"""Mutant generator for C sources (the operators of scripts/c_mutation.py).

Operator-based, never line-number based: it reads whatever the C file holds.
Only function bodies are mutated (brace depth >= 1 at file level); comments,
strings and preprocessor lines are masked first. Operators:

  ROR  relational boundary and negation: < <=, > >=, == !=
  LCR  logical connector: && ||
  AOR  arithmetic: binary + -, * /, += -=, ++ --
  CRP  integer literal +1 / -1; a named limit (REG_*) + 1, - 1
  SDL  deletion of an expression statement (assignment, call, ++/--)
  RVR  return value: `return X;` -> `return 0;` / `return 1;`
  NEG  condition negation: `if (C)` -> `if (!(C))`
"""
from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class Mutant:
    path: str
    line: int          # 1-based
    start: int         # offset in the whole text
    end: int
    replacement: str
    operator: str
    original: str
    function: str

    @property
    def key(self) -> str:
        """Stable name: survives edits elsewhere in the file (function + text + occurrence)."""
        return f"{self.path}:{self.function}:{self.operator}:{self.original.strip()}->{self.replacement.strip()}"

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end:]


def closing_paren(masked: str, open_at: int, end: int | None = None) -> int:
    """Offset of the parenthesis that closes the one at open_at (or end, when
    it is not closed before end) in masked text."""
    stop = len(masked) if end is None else end
    depth, j = 0, open_at
    while j < stop:
        if masked[j] == "(":
            depth += 1
        elif masked[j] == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j


def mask(text: str) -> str:
    """Comments, strings, char literals and preprocessor lines blanked (offsets kept)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and text[i:].lstrip(" \t").startswith("#"):
            j = i
            while j < n:  # preprocessor line with continuations
                k = text.find("\n", j)
                k = n if k < 0 else k
                if k > 0 and text[k - 1] == "\\":
                    j = k + 1
                    continue
                j = k
                break
            blank(i, j)
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            blank(i, j + 1)
            i = j + 1
            continue
        at_line_start = c == "\n" or (at_line_start and c in " \t")
        i += 1
    return "".join(out)


_FUNC = re.compile(r"([A-Za-z_]\w*)\s*\([^;{}]*\)\s*$")


def function_spans(masked: str) -> list[tuple[str, int, int]]:
    """(name, body start, body end) of each function at file level."""
    spans = []
    depth = 0
    start = 0
    name = ""
    for i, c in enumerate(masked):
        if c == "{":
            if depth == 0:
                head = masked[max(0, i - 400): i]
                m = _FUNC.search(head)
                name = m.group(1) if m else ""
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and name:
                spans.append((name, start + 1, i))
                name = ""
    return spans


_TOKEN = re.compile(
    r"(?P<num>\b\d+(?:u|U|LL|ll|ULL|ull|L|l)?\b)|(?P<name>\b[A-Za-z_]\w*\b)"
    r"|(?P<op><<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|\+=|-=|\*=|/=|->|[-+*/%<>!=&|^~?:;,(){}\[\]])"
)

_ROR = {"<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="]}
_LCR = {"&&": ["||"], "||": ["&&"]}
_AOR = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "+=": ["-="], "-=": ["+="], "++": ["--"], "--": ["++"]}


def _binary(prev: str | None) -> bool:
    """An operator after an operand (name, number or closing bracket) is binary."""
    return prev is not None and (prev[0].isalnum() or prev[0] == "_" or prev in (")", "]"))


def mutants(path: str, text: str, functions: set[str] | None = None,
            limit_prefix: str = "REG_") -> list[Mutant]:
    masked = mask(text)
    found: list[Mutant] = []

    def line_of(off: int) -> int:
        return text.count("\n", 0, off) + 1

    def add(fn, a, b, repl, op):
        found.append(Mutant(path, line_of(a), a, b, repl, op, text[a:b], fn))

    for fn, a, b in function_spans(masked):
        if functions is not None and fn not in functions:
            continue
        body = masked[a:b]
        toks = [(m.start() + a, m.end() + a, m.group(0), m.lastgroup) for m in _TOKEN.finditer(body)]
        prev = None
        for idx, (s, e, tok, kind) in enumerate(toks):
            nxt = toks[idx + 1][2] if idx + 1 < len(toks) else ""
            if kind == "op":
                if tok in _ROR:
                    for r in _ROR[tok]:
                        add(fn, s, e, r, "ROR")
                elif tok in _LCR:
                    for r in _LCR[tok]:
                        add(fn, s, e, r, "LCR")
                elif tok in ("+=", "-=", "++", "--"):
                    add(fn, s, e, _AOR[tok][0], "AOR")
                elif tok in ("+", "-", "*", "/") and _binary(prev):
                    add(fn, s, e, _AOR[tok][0], "AOR")
            elif kind == "num":
                digits = re.match(r"\d+", tok).group(0)
                suffix = tok[len(digits):]
                v = int(digits)
                if prev == "[" or nxt == "]":
                    pass  # array index constants: out of the object, not a fault model
                elif v <= 1 and (prev in ("==", "!=") or nxt in ("==", "!=")):
                    pass  # a 0/1 flag test: its negation is a ROR mutant already
                else:
                    add(fn, s, e, f"{v + 1}{suffix}", "CRP")
                    if v > 0:
                        add(fn, s, e, f"{v - 1}{suffix}", "CRP")
            prev = tok
        # statements: deletion, return values, condition negation
        for m in re.finditer(r"(?m)^[ \t]*((?:[A-Za-z_][\w>\-.\[\]*]*)\s*(?:=|\+=|-=|\|=|\+\+|--|\()[^;{}]*;)", body):
            stmt = m.group(1)
            s = m.start(1) + a
            if re.match(r"(?:return|if|while|for|switch|int\d+_t|uint\d+_t|int64_t|const|static)\b", stmt):
                continue
            if re.match(r"[A-Za-z_]\w*\s+[A-Za-z_]", stmt):
                continue  # declaration
            add(fn, s, s + len(stmt), ";", "SDL")
        for m in re.finditer(r"\breturn\s+([^;]+);", body):
            expr = m.group(1).strip()
            s, e = m.start(1) + a, m.end(1) + a
            for r in ("0", "1"):
                if expr != r:
                    add(fn, s, e, r, "RVR")
        for m in re.finditer(r"\b(if|while)\s*\(", body):
            s = m.end() + a - 1
            j = closing_paren(masked, s, b)
            cond = masked[s + 1:j]
            if re.search(r"&&|\|\||\?", cond) or not re.search(r"[<>]=?|[!=]=", cond):
                # a single comparison is negated by ROR already
                add(fn, s + 1, j, f"!({text[s + 1:j]})", "NEG")
    return found


_DEFINE = re.compile(r"(?m)^#define\s+([A-Z][A-Z0-9_]*)\s+(\d+)(u|U|LL)?\b")


def limit_mutants(path: str, text: str) -> list[Mutant]:
    """CRP on the named limits where they are defined: each numeric
    `#define NAME value` of the configuration header, value + 1 and - 1."""
    found = []
    for m in _DEFINE.finditer(text):
        name, v, suffix = m.group(1), int(m.group(2)), m.group(3) or ""
        line = text.count("\n", 0, m.start()) + 1
        for r in (v + 1, v - 1):
            if r >= 0:
                found.append(Mutant(path, line, m.start(2), m.end(3) if m.group(3) else m.end(2),
                                    f"{r}{suffix}", "CRP", m.group(0).split()[-1], name))
    return found


def keyed(ms: list[Mutant]) -> list[tuple[str, Mutant]]:
    """(stable key, mutant): the key adds the occurrence number of the same
    (function, operator, original, replacement) so that it survives edits
    elsewhere in the file and never names a line."""
    seen: dict[str, int] = {}
    out = []
    for m in ms:
        k = m.key
        seen[k] = seen.get(k, 0) + 1
        out.append((f"{k}#{seen[k]}", m))
    return out
