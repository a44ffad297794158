"""SRS-190: a profile without a year of birth (the implied "default" of a
history without profiles, SRS-191) has no age to check; every session start
under it says so, names the checklist question that then checks the age and
the command that states the year. With the year stated, the notice is gone
and the age rule applies."""
from __future__ import annotations

import json

import pytest

from tests.cli.test_users_cli import run, session

NOTICE = "has no year of birth, so only the checklist's question 'child under 5' checks the age"


@pytest.mark.req("SRS-190", "SRS-191")
def test_every_session_of_the_implied_default_profile_names_the_missing_year(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    for day in ("2026-12-01", "2026-12-02"):   # created by the first session, then implied
        code, out, err = run(capsys, *session(db, now=f"{day}T08:00:00+01:00"))
        assert code == 0 and json.loads(out)["outcome"] == "completed"
        assert NOTICE in err and "`ionto user set default --born YEAR`" in err


@pytest.mark.req("SRS-190")
@pytest.mark.parametrize("born, allowed", [(2021, False), (2020, True), (1990, True)])
def test_once_the_year_is_stated_the_notice_goes_and_the_age_rule_applies(tmp_path, capsys, born, allowed):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *session(db, now="2026-12-01T08:00:00+01:00"))[0] == 0
    assert run(capsys, "user", "set", "default", "--born", str(born), "--db", str(db),
               "--now", "2026-12-01T09:00:00+01:00")[0] == 0
    code, out, err = run(capsys, *session(db, now="2026-12-02T08:00:00+01:00"))
    assert NOTICE not in err
    assert (code == 0) is allowed
    if not allowed:   # 2026 - 2021 - 1 = 4 < 5 years: refused before Start
        assert "may be under 5 years" in err and "nothing was energised" in err


@pytest.mark.req("SRS-190")
def test_a_named_profile_with_a_year_gets_no_notice(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db),
               "--now", "2026-12-01T07:00:00+01:00")[0] == 0
    code, _, err = run(capsys, *session(db, "--user", "anna"))
    assert code == 0 and NOTICE not in err
