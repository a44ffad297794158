"""Review 3 of issue 11, defect 9 (SRS-282): the PIN lockout is keyed by the
history's real path (a symbolic link reaches the same lockout), and a missing
PIN (nothing on stdin, no terminal) is an input error that is not counted."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

import core.users as users
from core.users import PIN_ATTEMPTS_MAX
from tests.cli.in_process import digest, run

T = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)
READS = [["user", "show", "pia"], ["history", "--user", "pia"], ["course", "--user", "pia", "--no-chart"]]


@pytest.fixture
def pia(tmp_path, capsys, monkeypatch) -> Path:
    monkeypatch.setattr(users, "_utc_now", lambda: T)
    db = tmp_path / "p.sqlite"
    assert run(capsys, "user", "add", "pia", "--born", "1990", "--pin", "--db", str(db),
               "--now", "2026-11-30T08:00:00Z", stdin="1234\n")[0] == 0
    return db


@pytest.mark.req("SRS-282")
@pytest.mark.parametrize("argv", READS)
@pytest.mark.parametrize("alias", ["symlink", "symlink-to-symlink", "relative"])
def test_a_lockout_holds_through_any_name_of_the_history(pia, capsys, monkeypatch, argv, alias):
    for _ in range(PIN_ATTEMPTS_MAX):
        assert run(capsys, *argv, "--db", str(pia), stdin="9999\n")[0] == 1
    if alias == "relative":
        monkeypatch.chdir(pia.parent)
        name = pia.name
    else:
        link = pia.parent / "link" / "p-link.sqlite"
        link.parent.mkdir()
        os.symlink(pia, link)
        if alias == "symlink-to-symlink":
            link2 = pia.parent / "p-link2.sqlite"
            os.symlink(link, link2)
            link = link2
        name = str(link)
    before = digest(pia)
    code, out, err = run(capsys, *argv, "--db", name, stdin="1234\n")   # the right PIN
    assert code == 1 and out == "" and "locked after 5 wrong PINs" in err
    assert digest(pia) == before
    assert not list(pia.parent.glob("link/*.pin-attempts")) and not list(pia.parent.glob("p-link2*attempts"))


@pytest.mark.req("SRS-282", "SRS-192")
@pytest.mark.parametrize("argv", READS)
@pytest.mark.parametrize("missing", ["", "\n", "   \n"])
def test_a_missing_pin_is_not_counted(pia, capsys, argv, missing):
    before = digest(pia)
    for _ in range(PIN_ATTEMPTS_MAX * 2):   # ten runs with nothing typed: no lockout
        code, out, err = run(capsys, *argv, "--db", str(pia), stdin=missing)
        assert code == 1 and out == "" and "none was given" in err and "not counted" in err
        assert "allowed: 4..8" in err
    code, out, _ = run(capsys, *argv, "--db", str(pia), stdin="1234\n")
    assert code == 0 and out
    # and a wrong PIN after them is the first of five
    code, _, err = run(capsys, *argv, "--db", str(pia), stdin="9999\n")
    assert code == 1 and "(1 of 5 before a 15 min lockout)" in err
    assert digest(pia) == before
