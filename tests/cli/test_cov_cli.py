"""`ionto session` refusals not covered elsewhere (issue 12 point 3): each
names the option and what is allowed, exits 1, energises nothing and leaves
the history as it was (no file created)."""
from __future__ import annotations

import json

import pytest

from tests.cli.in_process import run
from tests.cli.test_cli import session_args, write_scenario


def _refused(code: int, out: str, err: str) -> str:
    assert code == 1
    assert json.loads(out)["outcome"] == "refused"    # --json: the refusal summary
    return err


@pytest.mark.req("SRS-216", "SRS-081")
def test_runner_without_realtime_is_refused_exit_1(tmp_path, capsys):
    err = _refused(*run(capsys, *session_args(tmp_path, "--runner")))
    assert err.endswith("ionto: refused: --runner needs --realtime (the loop ticks on the wall clock); "
                   "nothing was energised\n")
    # the history row is written only at Start: none was written
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"), "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.req("SRS-216", "SRS-081")
def test_a_clock_drift_scenario_with_the_runner_is_refused_exit_1(tmp_path, capsys):
    scenario = write_scenario(tmp_path, "- {at_s: 40, event: clock_drift, percent: 1.0}\n")
    err = _refused(*run(capsys, *session_args(tmp_path, "--runner", "--realtime",
                                              "--scenario", scenario)))
    assert err.endswith("ionto: refused: --scenario: event 'clock_drift' at 40 s cannot be simulated with "
                   "--runner (the loop runs on the monotonic clock); nothing was energised\n")
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"), "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.req("SRS-201", "SRS-081")
def test_user_on_a_missing_history_is_refused_and_creates_no_file(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    err = _refused(*run(capsys, *session_args(tmp_path, "--user", "ann")))
    assert err == (f"ionto: refused: --user: no user 'ann': the history {str(db)!r} "
                   "does not exist\n")
    assert not db.exists()
