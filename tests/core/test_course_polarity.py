"""Polarity alternating between maintenance sessions (SRS-230): the session's
starting polarity reaches the regulator, the course suggests the opposite of
the last session's only in maintenance and only where the user chose it, and
a history row from before the setting existed counts as normal."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from core.course import course_status, set_course
from core.history import History
from core.regulator import Polarity
from core.settings import parse_settings
from core.users import add_user
from tests.core._session_kit import run_session

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
D = timedelta(days=1)
TREAT = ("treat",)


def add_session(h: History, user, start: datetime, *, polarity: str | None = "normal",
                current: float = 12.0, treat_s: float = 600.0) -> int:
    data = {"site": "hands", "current_ma": current, "minutes": 10}
    if polarity is not None:
        data["start_polarity"] = polarity
    h.user_id = user.user_id
    sid = h.begin_session(parse_settings(data), started_at=start.isoformat())
    h.end_session(sid, "completed", treat_s=treat_s, delivered_mamin=current * treat_s / 60,
                  max_current_ma=current, faults=[], states=[],
                  ended_at=(start + timedelta(seconds=treat_s + 60)).isoformat())
    if polarity is None:   # a row written before start_polarity existed: the key is absent
        row = h.query("SELECT settings FROM sessions WHERE id = ?", (sid,))[0][0]
        old = {k: v for k, v in json.loads(row).items() if k != "start_polarity"}
        h.write("UPDATE sessions SET settings = ? WHERE id = ?", (json.dumps(old), sid))
    return sid


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        yield h


@pytest.fixture
def anna(hist):
    # HDSS 1: the initial phase ends after 9 counted sessions
    return add_user(hist, "anna", 1990, hdss=1, now=T0)


def initial_course(h, user, last_polarity="normal") -> datetime:
    """Nine daily sessions at 08:00 UTC (5 in the first 7 days, then 4): the
    initial phase is done; returns the last start."""
    days = [0, 1, 2, 3, 4, 7, 8, 9, 10]
    for n, day in enumerate(days):
        add_session(h, user, T0 + day * D, polarity=last_polarity if n == len(days) - 1 else "normal")
    return T0 + days[-1] * D


# --- the regulator gets the starting polarity ---------------------------------------------
@pytest.mark.req("SRS-230")
@pytest.mark.parametrize("start, expect", [("normal", Polarity.NORMAL), ("reversed", Polarity.REVERSED)])
def test_every_energised_row_has_the_sessions_starting_polarity(start, expect):
    result, rows, _ = run_session(current_ma=12.0, start_polarity=start)
    assert result.outcome == "completed" and result.polarity_switches == 0
    assert rows[0].r.polarity == expect                          # set before Start, output off
    energised = [row for row in rows if row.r.output_enabled]
    assert len(energised) > 1000                                 # the whole 10 min treatment
    assert {row.r.polarity for row in energised} == {expect}


@pytest.mark.req("SRS-230")
def test_a_session_started_reversed_with_half_time_reversal_ends_normal():
    result, rows, _ = run_session(current_ma=12.0, start_polarity="reversed", reverse_polarity=True)
    assert result.outcome == "completed" and result.polarity_switches == 1
    assert rows[0].r.polarity == Polarity.REVERSED and rows[-1].r.polarity == Polarity.NORMAL
    changes = [i for i in range(1, len(rows)) if rows[i].r.polarity != rows[i - 1].r.polarity]
    assert len(changes) == 1                                      # one swap, never back
    before = rows[changes[0] - 1]
    assert before.state == "polarity_switch" and not before.r.output_enabled
    assert abs(before.r.peak_current_ma) <= 0.1                  # swapped at 0 mA (0.1 mA)
    treat_before = sum(1 for row in rows[:changes[0]] if row.state == "treat")
    treat_after = sum(1 for row in rows[changes[0]:] if row.state == "treat")
    assert treat_before == treat_after                            # at half time


# --- the course's suggestion ------------------------------------------------------------------
@pytest.mark.req("SRS-230")
@pytest.mark.parametrize("last_initial, first_maintenance", [("normal", "reversed"), ("reversed", "normal")])
def test_maintenance_alternates_from_the_last_initial_session(hist, anna, last_initial, first_maintenance):
    last = initial_course(hist, anna, last_initial)
    set_course(hist, anna, "hands", last, alternate_polarity=True)
    status = course_status(hist, anna, "hands", last + 3 * D)
    assert status.phase == "maintenance" and status.counted_sessions == 9
    assert status.suggestion["settings"]["start_polarity"] == first_maintenance
    assert f"polarity {first_maintenance} (alternating, last {last_initial})" in status.suggestion["reason"]
    # six maintenance sessions 15 days apart, each taking the suggestion: they alternate
    got, when = [], last
    for _ in range(6):
        when += 15 * D
        polarity = course_status(hist, anna, "hands", when).suggestion["settings"]["start_polarity"]
        got.append(polarity)
        add_session(hist, anna, when, polarity=polarity)
    other = "normal" if first_maintenance == "reversed" else "reversed"
    assert got == [first_maintenance, other] * 3


@pytest.mark.req("SRS-230")
def test_without_the_choice_maintenance_keeps_the_last_polarity(hist, anna):
    last = initial_course(hist, anna, "reversed")
    status = course_status(hist, anna, "hands", last + 3 * D)
    assert status.phase == "maintenance" and status.alternate_polarity is False
    assert status.suggestion["settings"]["start_polarity"] == "reversed"
    assert "alternating" not in status.suggestion["reason"]


@pytest.mark.req("SRS-230")
def test_the_initial_phase_never_alternates_even_when_chosen(hist, anna):
    set_course(hist, anna, "hands", T0, alternate_polarity=True)
    for day in range(5):            # 5 of 9: still initial
        add_session(hist, anna, T0 + day * D, polarity="normal")
        status = course_status(hist, anna, "hands", T0 + (day + 1) * D)
        assert status.phase == "initial"
        assert status.suggestion["settings"]["start_polarity"] == "normal"


@pytest.mark.req("SRS-230")
def test_a_row_from_before_the_setting_counts_as_normal(hist, anna):
    days = [0, 1, 2, 3, 4, 7, 8, 9, 10]
    for day in days:
        add_session(hist, anna, T0 + day * D, polarity=None)
    stored = json.loads(hist.query("SELECT settings FROM sessions ORDER BY id DESC LIMIT 1")[0][0])
    assert "start_polarity" not in stored
    set_course(hist, anna, "hands", T0 + 10 * D, alternate_polarity=True)
    status = course_status(hist, anna, "hands", T0 + 13 * D)
    assert status.sessions[-1]["start_polarity"] == "normal"
    assert status.suggestion["settings"]["start_polarity"] == "reversed"


@pytest.mark.req("SRS-230", "SRS-201")
@pytest.mark.parametrize("value", [1, 0, "yes", 1.0])
def test_the_choice_must_be_a_real_yes_or_no(hist, anna, value):
    with pytest.raises(ValueError, match=r"--alternate-polarity: .* allowed: --alternate-polarity or "
                                         r"--no-alternate-polarity"):
        set_course(hist, anna, "hands", T0, alternate_polarity=value)
    assert hist.query("SELECT alternate_polarity FROM courses") in ([], [(0,)])
