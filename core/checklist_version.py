"""The version of the checklist the C loop arms on (SRS-309).

The version is derived from the ordered item ids of the list, not numbered
by hand: a reordered list, an item moved to the other section, or an item
replaced by another (same count) gives another version, which the C loop
refuses (reg_arm, REG_ERR_RANGE). The C holds the product list's version as a
constant generated from core/checklist.py (scripts/gen_checklist_version.py
writes cext/checklist_version.h; a test fails when the two disagree), and the
wrapper computes the version from the items whose answers it sends.
"""
from __future__ import annotations

from collections.abc import Iterable

__all__ = ["fnv1a_32", "checklist_version", "checklist_text"]

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_INT32_MAX = 0x7FFFFFFF


def fnv1a_32(data: bytes) -> int:
    """FNV-1a, 32 bits (the published offset basis and prime)."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def checklist_text(contraindication_ids: Iterable[str], preparation_ids: Iterable[str]) -> str:
    """The hashed text: both sections named, ids in their order, so that an
    item moved between sections changes it as much as a reordered one."""
    return ("contraindications=" + ",".join(contraindication_ids)
            + ";preparation=" + ",".join(preparation_ids))


def checklist_version(contraindication_ids: Iterable[str], preparation_ids: Iterable[str]) -> int:
    """FNV-1a 32 of checklist_text, top bit cleared: it fits reg_checklist_t's
    int32_t version field as a positive value on every target."""
    return fnv1a_32(checklist_text(contraindication_ids, preparation_ids).encode("utf-8")) & _INT32_MAX
