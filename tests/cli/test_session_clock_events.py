"""Review 3 of issue 11, defect 7 (SRS-280, SRS-195): `ionto session` refuses
a clock earlier than ANY recorded event (profile created or removed, score,
course), as every other writing command does; nothing energised, the
history unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


def session(db, user, site, now):
    return ["session", "--checklist", CHECKLIST, "--db", str(db), "--user", user, "--site", site,
            "--current", "12", "--minutes", "10", "--now", now]


@pytest.mark.req("SRS-280", "SRS-195")
def test_the_reviewers_sequence_is_refused(tmp_path, capsys):
    db = tmp_path / "a.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db),
               "--now", "2026-01-05T07:00:00+01:00")[0] == 0
    assert run(capsys, *session(db, "anna", "hands", "2026-01-05T08:00:00+01:00"))[0] == 0
    assert run(capsys, "user", "add", "carol", "--born", "1985", "--db", str(db),
               "--now", "2026-01-20T08:00:00+01:00")[0] == 0
    before = digest(db)
    code, _, err = run(capsys, *session(db, "anna", "feet", "2026-01-12T09:00:00+01:00"))
    assert code == 1 and "earlier than the last recorded event (profile 2 created" in err
    assert "nothing was energised" in err and digest(db) == before


# each kind of event, recorded at E = 2026-02-01T12:00Z after anna's session on 2026-01-05
E = "2026-02-01T12:00:00+00:00"
EVENTS = {
    "profile created": [["user", "add", "carol", "--born", "1985", "--now", E]],
    "profile removed": [["user", "add", "carol", "--born", "1985", "--now", "2026-01-06T08:00:00+00:00"],
                        ["user", "remove", "carol", "--now", E]],
    "score": [["course", "score", "--user", "anna", "--session", "1", "--hdss", "2", "--now", E]],
    "course started": [["course", "set", "--user", "anna", "--site", "feet", "--per-month", "3", "--now", E]],
}


@pytest.mark.req("SRS-280", "SRS-195")
@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("now, allowed", [("2026-01-06T08:00:00+00:00", False),
                                          ("2026-02-01T11:59:59+00:00", False),
                                          ("2026-02-01T13:59:59+02:00", False),   # 11:59:59Z
                                          ("2026-02-01T12:00:00+00:00", True),
                                          ("2026-02-02T08:00:00+00:00", True)])
def test_a_session_before_any_recorded_event_is_refused(tmp_path, capsys, event, now, allowed):
    db = tmp_path / "a.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db),
               "--now", "2026-01-05T07:00:00+00:00")[0] == 0
    assert run(capsys, *session(db, "anna", "hands", "2026-01-05T08:00:00+00:00"))[0] == 0
    for argv in EVENTS[event]:
        assert run(capsys, *argv, "--db", str(db))[0] == 0, argv
    before = digest(db)
    code, _, err = run(capsys, *session(db, "anna", "feet", now))
    if allowed:
        assert code == 0, err
    else:
        assert code == 1 and "earlier than the last recorded event" in err
        assert "nothing was energised" in err and digest(db) == before
