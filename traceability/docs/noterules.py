"""What a design note must say to count as the detailed design of its unit
(IEC 62304 5.4.2; SRS-184, SRS-293). A reviewed placeholder is still a
placeholder: the note must be long enough to say something, must not say it is
to be written, and a C function's note must speak of the function itself (one of
its parameters named as code, or what it returns)."""
from __future__ import annotations

import re

MIN_DISTINCT_WORDS = 12
WORD = re.compile(r"[A-Za-z][\w'’-]*")
# Phrases that say the design is not there. "later" alone is a real design word
# ("later faults never overwrite the first"), so only its placeholder uses are listed.
PLACEHOLDERS = [
    r"\bto be (?:written|done|added|completed|defined|described|documented|decided|determined|filled)\b",
    r"\b(?:write|written|add|added|fill|filled|describe|described|document|documented|complete|completed|"
    r"do|done|explain|explained|detail|detailed)(?: \w+)? later\b",
    r"\blater\W*$",
    r"\bto follow\W*$",
    r"\b(?:todo|to-do|tbd|tba|tbc|fixme|xxx+|placeholder|lorem|ipsum|wip)\b",
    r"\bcoming soon\b",
    r"^\W*not (?:yet )?(?:written|documented|described|designed)\b",
    r"\b(?:note|design|section|description) (?:is )?not (?:yet )?(?:written|done|complete|finished)\b",
    r"\bdummy (?:text|note)\b",
    r"(?<!\w)n/a(?!\w)",
    r"\?\?\?",
]
PLACEHOLDER = re.compile("|".join(f"(?:{p})" for p in PLACEHOLDERS), re.I)
RETURN_WORD = re.compile(r"\breturns\b|\breturn value\b", re.I)   # "the return of contact" is not one


def distinct_words(text: str) -> int:
    return len({w.lower() for w in WORD.findall(text)})


def note_faults(unit, text: str) -> list[str]:
    """Why the note `text` is not a design of `unit` (traceability.docs.units.Unit); [] when it is."""
    faults = []
    n = distinct_words(text)
    if n < MIN_DISTINCT_WORDS:
        faults.append(f"too short to be a design: {n} distinct word(s), at least {MIN_DISTINCT_WORDS} needed")
    m = PLACEHOLDER.search(text)
    if m:
        faults.append(f"a placeholder, not a design: it says '{m.group(0).strip()}'")
    if unit.kind == "C function" and (unit.params or unit.returns):
        named = [p for p in unit.params if f"`{p}`" in text]
        if not named and not (unit.returns and RETURN_WORD.search(text)):
            wants = []
            if unit.params:
                wants.append("one of its parameters as code (" + ", ".join(f"`{p}`" for p in unit.params) + ")")
            if unit.returns:
                wants.append(f"what it returns ({unit.returns}: 'returns ...')")
            faults.append("does not speak of the function: name " + " or ".join(wants))
    return faults
