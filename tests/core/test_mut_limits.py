"""Mutation survivors of core/limits.py (issue 12 point 2): the allowed range
that a rejection prints (SRS-041) shows a whole number as its digits at every
magnitude, never in exponent form; a limits file without the ranges of every site
is refused naming the missing sites (SRS-040)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.limits import LimitsFileError, Range, parse_limits

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


def _shipped_limits() -> dict:
    return yaml.safe_load((Path(__file__).resolve().parents[2] / "spec" / "limits.yaml").read_text())


@pytest.mark.req("SRS-040")
@pytest.mark.parametrize("dropped", [("feet",), ("hands", "underarms"), ("hands", "feet", "underarms")])
def test_a_limits_file_without_every_site_is_refused_naming_the_missing_ones(dropped):
    data = _shipped_limits()
    for site in dropped:
        del data["sites"][site]
    with pytest.raises(LimitsFileError) as err:
        parse_limits(yaml.safe_dump(data), "x/limits.yaml")
    assert str(err.value) == f"x/limits.yaml: (top): Value error, sites missing: {sorted(dropped)}"


@pytest.mark.req("SRS-040")
def test_the_shipped_limits_file_with_all_three_sites_is_accepted():
    limits = parse_limits(yaml.safe_dump(_shipped_limits()), "x/limits.yaml")
    assert sorted(limits.sites) == ["feet", "hands", "underarms"]
