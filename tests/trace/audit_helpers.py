"""Helpers of tests/trace: find a record's line in the copy, edit one record, match a finding."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def line_of(repo, rel: str, item_id: str) -> int:
    """The line where `- id: ITEM` starts in the copy (what the message must name)."""
    for n, line in enumerate(repo.read(rel).splitlines(), 1):
        if re.match(rf"^\s*- id: {re.escape(item_id)}\s*$", line):
            return n
    raise AssertionError(f"{item_id} not found in {rel}")


def block(repo, rel: str, item_id: str) -> str:
    """The text of one record (from its `- id:` line to the next record at the same or a lower indent)."""
    text = repo.read(rel)
    start = text.index(f"- id: {item_id}\n")
    indent = text.rfind("\n", 0, start) + 1
    pad = start - indent
    nxt = re.compile(rf"(?m)^ {{0,{pad}}}- ").search(text, start + 1)
    return text[indent:nxt.start()] if nxt else text[indent:]


def edit(repo, rel: str, item_id: str, old: str, new: str) -> None:
    """Replace text inside one record only, so that the corruption is exactly where we say."""
    rec = block(repo, rel, item_id)
    assert old in rec, f"{old!r} not in {item_id}"
    repo.replace(rel, rec, rec.replace(old, new, 1))


def errors(out: str, rule: str) -> list[str]:
    return [x for x in out.splitlines() if x.startswith("ERROR:") and f"[rule: {rule}]" in x]


def expect(out: str, rel: str, line: int | None, item: str, rule: str, *parts: str) -> None:
    """An error at file:line for the item, under the rule, saying each of parts."""
    where = f"{rel}:{line}" if line else rel
    hits = [x for x in errors(out, rule) if x.startswith(f"ERROR: {where}: {item}:")]
    assert hits, f"no error at {where} {item} [rule: {rule}] in:\n{out}"
    for part in parts:
        assert any(part in x for x in hits), f"{part!r} not in {hits}"
