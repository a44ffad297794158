"""What a user of `ionto` expects (SRS-080, SRS-082, SRS-087, SRS-088): --version,
help with defaults, ranges from spec/limits.yaml, exit codes and examples; one
form of error message; a read-only history that creates nothing; the history's
JSON keys are the session summary's; the live view says how to stop and what
the ramp is doing."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from core import cli
from core.settings import allowed_text

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = str(ROOT / "examples/checklist.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:   # --help and --version exit through argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.req("SRS-080")
def test_version_and_help_with_defaults_ranges_exit_codes_and_examples(capsys):
    import importlib.metadata as md
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"ionto {md.version('ionto-core')}"
    code, out, _ = run(capsys, "session", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for text in ("required unless --last", allowed_text("current_ma"), allowed_text("minutes"),
                 f"{allowed_text('ramp_up_s')} (default 30)", "(default: 0)", "(default: off)",
                 "0 the session completed", "1 refused or invalid input", "3 the session ended in a fault",
                 "4 the session was stopped", "ionto session --site hands --current 15 --minutes 10",
                 "examples/scenario-liftoff.yaml"):
        assert " ".join(text.split()) in flat, text
    assert "spec/limits.yaml" not in out      # the range itself, not where to look it up
    code, out, _ = run(capsys, "history", "--help")
    assert code == 0 and "never created" in out and "ionto history --db out/history.sqlite --json" in out


@pytest.mark.req("SRS-082", "SRS-081")
@pytest.mark.parametrize("argv, words", [
    (["session", "--bogus"], ["unrecognized arguments: --bogus", "(see `ionto --help`)"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    ([], ["the following arguments are required"]),
    (["session", "--seed", "x"], ["--seed", "'x' is not an integer", "(see `ionto session --help`)"]),
])
def test_a_malformed_command_line_is_one_error_line_exit_1(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("ionto: error: ") and err.count("ionto:") == 1, err
    for word in words:
        assert word in err


@pytest.mark.req("SRS-087")
def test_history_never_creates_a_database(tmp_path, capsys):
    typo = tmp_path / "histroy.sqlite"
    code, out, _ = run(capsys, "history", "--db", str(typo))
    assert code == 0 and f"no sessions recorded: {typo} does not exist" in out
    code, out, _ = run(capsys, "history", "--db", str(typo), "--json")
    assert code == 0 and json.loads(out) == []
    assert not typo.exists()


@pytest.mark.req("SRS-087", "SRS-084")
def test_history_json_has_the_keys_of_the_session_summary(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    code, out, _ = run(capsys, "session", "--site", "hands", "--current", "15", "--minutes", "10",
                       "--checklist", CHECKLIST, "--db", db, "--json")
    assert code == 0
    summary = json.loads(out)
    code, out, _ = run(capsys, "history", "--db", db, "--json")
    row = json.loads(out)[0]
    assert set(summary) <= set(row), set(summary) - set(row)
    for key in ("session_id", "outcome", "fault", "site", "current_mA", "minutes", "treat_s",
                "delivered_mAmin", "max_current_mA", "states"):
        if isinstance(row[key], float):   # the summary rounds to 4 decimals
            assert row[key] == pytest.approx(summary[key], abs=1e-4), key
        else:
            assert row[key] == summary[key], key
    assert not any(k.endswith(("_ma", "_mamin")) for k in row)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.req("SRS-088")
def test_live_view_says_how_to_stop_and_what_the_ramp_is_doing(tmp_path, capsys, monkeypatch):
    from core.liveview import STOP_HINT, format_line
    line = format_line("ramp", 6.0, 12.0, 2000.0, 0.4, 600.0, 0.0, 15.0)
    assert "ramping up to 15 mA, timer starts at full current" in line
    assert "ramping down to 0 mA" in format_line("ramp_down", 6.0, 12.0, 2000.0, 0.4, 0.0, 1.0, 15.0)
    assert "ramping" not in format_line("treat", 15.0, 30.0, 2000.0, 1.0, 300.0, 0.5, 15.0)
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    code = cli.main(["session", "--site", "hands", "--current", "15", "--minutes", "10",
                     "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite")])
    assert code == 0
    text = err.getvalue()
    assert STOP_HINT in text and "Ctrl-C" in text
    assert text.index(STOP_HINT) < text.index("\r")
