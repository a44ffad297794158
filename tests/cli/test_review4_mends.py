"""Review 4 of issue 11: a session id beyond SQLite's INTEGER is a clear error
(not a traceback); `course restart` sizes the new initial phase by the
profile's severity as it is now (SRS-197, SRS-279); a removed user named with
--user is pointed to `ionto user restore`, never to adding a new profile
(SRS-193, RC-89)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.cli.in_process import run
from tests.cli.test_user_set_hdss import CHECKLIST, TARGET, hal

SQLITE_INTEGER_MAX = 2**63 - 1


@pytest.fixture
def db(tmp_path, capsys) -> str:
    path = str(tmp_path / "h.sqlite")
    hal(capsys, path, 3)
    return path


@pytest.mark.req("SRS-199")
@pytest.mark.parametrize("session, ok", [("1", True), (str(SQLITE_INTEGER_MAX), False),
                                         (str(SQLITE_INTEGER_MAX + 1), False), ("99999999999999999999", False),
                                         ("0", False), ("-1", False)])
def test_a_session_id_out_of_range_is_a_clear_error(db, capsys, session, ok):
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    code, _, err = run(capsys, "course", "score", "--user", "hal", "--session", session, "--hdss", "2",
                       "--db", db, "--now", "2026-01-02T08:00:00+00:00")
    assert (code == 0) is ok, err
    if not ok:
        assert code == 1 and "--session" in err
        assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before
        if int(session) > SQLITE_INTEGER_MAX:
            assert f"from 1 to {SQLITE_INTEGER_MAX}" in err


@pytest.mark.req("SRS-279", "SRS-197")
@pytest.mark.parametrize("now_hdss", [1, 2, 3, 4])
def test_a_restart_takes_the_profiles_severity_as_it_is_now(tmp_path, capsys, now_hdss):
    db = str(tmp_path / "h.sqlite")
    hal(capsys, db, 1)   # HDSS 1: 9 sessions to maintenance
    for day in range(2, 10):
        now = f"2026-01-{day + (day > 5) * 2:02d}T08:00:00+00:00"
        assert run(capsys, "session", "--user", "hal", "--site", "hands", "--current", "10", "--minutes", "10",
                   "--checklist", CHECKLIST, "--db", db, "--now", now)[0] == 0
    assert run(capsys, "user", "set", "hal", "--hdss", str(now_hdss), "--db", db,
               "--now", "2026-01-20T08:00:00+00:00")[0] == 0
    code, _, err = run(capsys, "course", "restart", "--user", "hal", "--site", "hands", "--yes", "--db", db,
                       "--now", "2026-01-20T09:00:00+00:00")
    assert code == 0, err
    code, out, _ = run(capsys, "course", "--user", "hal", "--site", "hands", "--db", db, "--json", "--no-chart",
                       "--now", "2026-01-20T10:00:00+00:00")
    course = json.loads(out)[0]
    assert (course["phase"], course["target_sessions"]) == ("initial", TARGET[now_hdss])


@pytest.mark.req("SRS-193")
@pytest.mark.parametrize("command", [["session", "--site", "hands", "--current", "10", "--minutes", "10",
                                      "--checklist", CHECKLIST, "--now", "2026-01-03T08:00:00+00:00"],
                                     ["history"], ["course", "--no-chart", "--now", "2026-01-03T08:00:00+00:00"]])
def test_a_removed_user_named_with_user_is_pointed_to_restore(db, capsys, command):
    assert run(capsys, "user", "remove", "hal", "--db", db, "--now", "2026-01-02T08:00:00+00:00")[0] == 0
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    code, _, err = run(capsys, *command, "--user", "hal", "--db", db)
    assert code == 1 and "was removed" in err and "ionto user restore hal" in err
    assert "ionto user add" not in err
    assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before
