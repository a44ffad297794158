"""Mutation survivors of core/limits.py (issue 12 point 2): the allowed range
that a rejection prints (SRS-041) shows a whole number as its digits at every
magnitude, never in exponent form."""
from __future__ import annotations

import pytest

from core.limits import Range

REASON = "a rationale long enough to pass"


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("lo,hi,text", [(0, 1_000_000, "0..1000000 ohm"),
                                        (100, 10_000_000, "100..10000000 ohm"),
                                        (1, 123_456_789, "1..123456789 ohm")])
def test_whole_numbers_of_a_million_and_more_are_printed_as_digits(lo, hi, text):
    # f"{x:g}" would print 1e+06: a user could not read the range
    assert Range(min=lo, max=hi, unit="ohm", rationale=REASON).text() == text


@pytest.mark.req("SRS-041")
def test_a_fraction_next_to_a_million_keeps_its_point():
    assert Range(min=0.5, max=1_000_000, unit="ohm", rationale=REASON).text() == "0.5..1000000 ohm"
