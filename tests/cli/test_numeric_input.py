"""Numbers a user types: ASCII decimal notation only (SRS-140, issue 8 input
handling), and the checklist on a terminal whose stderr is redirected (SRS-086).

float() and int() read '５' (full-width), '١٠' (Arabic-Indic), '१०'
(Devanagari), '1_0' and ' 1'; pydantic reads '1_0' and ' 1'. Every one of
them, and the non-numbers 'inf', 'nan', '1e400', '0x1' and '', must be refused
with a message naming the field and its allowed range: exit 1, no traceback,
nothing energised.
"""
from __future__ import annotations

import io
import sys

import pytest

from core import cli
from core.settings import SettingsError, parse_settings, read_decimal

# the class of non-ASCII-decimal input, several scripts and Python's extras
BAD_NUMBERS = ["５", "１０", "١٠", "۱۰", "१०", "১০", "๑๐", "𝟏𝟎", "1_0", " 1", "1 ", "\t1", "0x1",
               "inf", "-inf", "nan", "Infinity", "1e400", "", "+", ".", "1,5", "٫5", "1.5.1"]
# numeric option -> (settings field, words of its allowed range in the message)
SESSION_NUMBERS = {
    "--current": ("current_ma", "1..25 mA"),
    "--minutes": ("minutes", "10..30 min"),
    "--ramp-up": ("ramp_up_s", "10..120 s"),
    "--ramp-down": ("ramp_down_s", "10..120 s"),
}
GOOD = {"--site": "hands", "--current": "10", "--minutes": "10", "--ramp-up": "30",
        "--ramp-down": "30"}


@pytest.fixture
def no_energy(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the device was created for a refused session")
    monkeypatch.setattr(cli, "SimulatedDevice", refuse)


def _argv(tmp_path, option: str, value: str) -> list[str]:
    args = dict(GOOD)
    args[option] = value
    argv = ["session", "--db", str(tmp_path / "h.sqlite"), "--checklist", "examples/checklist.yaml"]
    for k, v in args.items():
        argv.append(f"{k}={v}")   # '=': a value starting with '-' or empty stays the value
    return argv


@pytest.mark.req("SRS-140")
@pytest.mark.parametrize("option", sorted(SESSION_NUMBERS))
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_every_numeric_session_option_refuses_non_ascii_decimal(tmp_path, capsys, no_energy,
                                                                option, value):
    code = cli.main(_argv(tmp_path, option, value))
    out, err = capsys.readouterr()
    field, allowed = SESSION_NUMBERS[option]
    assert code == 1, err
    assert "Traceback" not in err and "Traceback" not in out
    assert f"{option} ({field}):" in err and allowed in err, err
    assert "not a number" in err, err


@pytest.mark.req("SRS-140")
@pytest.mark.parametrize("value", BAD_NUMBERS + ["-1", "1.5"])
def test_seed_refuses_everything_but_ascii_digits(tmp_path, capsys, no_energy, value):
    code = cli.main(_argv(tmp_path, "--current", "10") + [f"--seed={value}"])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "Traceback" not in err
    assert "--seed" in err and "0.." in err, err


@pytest.mark.req("SRS-140")
@pytest.mark.parametrize("option", sorted(SESSION_NUMBERS))
@pytest.mark.parametrize("value", ["10", "10.0", "+10", "1e1", "10."])
def test_ascii_decimal_values_are_read(tmp_path, option, value):
    # the same value as "10" in every ASCII form; parse only (no session)
    args = cli.build_parser().parse_args(_argv(tmp_path, option, value))
    field = SESSION_NUMBERS[option][0]
    assert getattr(args, {"current_ma": "current", "minutes": "minutes"}.get(field, field)) == 10.0


@pytest.mark.req("SRS-140")
@pytest.mark.parametrize("field", ["current_ma", "minutes", "ramp_up_s", "ramp_down_s"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_settings_records_refuse_non_ascii_decimal_text(field, value):
    # settings reach the model from the CLI and from stored records (--last)
    data = {"site": "hands", "current_ma": 10, "minutes": 10, "ramp_up_s": 30, "ramp_down_s": 30}
    data[field] = value
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    (line,) = info.value.messages
    assert line.startswith(f"{field}: ") and "not a number" in line and "allowed:" in line


@pytest.mark.req("SRS-140")
def test_read_decimal_is_exactly_ascii_decimal_notation():
    assert [read_decimal(t) for t in ("0", "-2.5", "+.5", "5.", "1E2")] == [0.0, -2.5, 0.5, 5.0, 100.0]
    # every decimal digit Python knows outside ASCII is refused
    for code_point in range(0x80, 0x110000):
        ch = chr(code_point)
        if ch.isdecimal() or ch.isdigit():
            assert read_decimal(ch) is None and read_decimal("1" + ch) is None, hex(code_point)


@pytest.mark.req("SRS-140", "SRS-086")
@pytest.mark.parametrize("value", ["５", "1_0", "nan"])
def test_history_settings_with_such_text_are_refused_by_last(tmp_path, capsys, no_energy, value):
    # a stored record edited by hand: --last refuses it naming the field
    import json
    import sqlite3

    from core.history import History
    db = tmp_path / "h.sqlite"
    h = History(db)
    sid = h.begin_session(parse_settings({"site": "hands", "current_ma": 10, "minutes": 10}))
    h.end_session(sid, "completed", treat_s=600, delivered_mamin=100, max_current_ma=10,
                  faults=[], states=["idle"])
    h.close() if hasattr(h, "close") else None
    con = sqlite3.connect(db)
    (raw,) = con.execute("SELECT settings FROM sessions").fetchone()
    stored = json.loads(raw)
    stored["current_ma"] = value
    con.execute("UPDATE sessions SET settings = ?", (json.dumps(stored),))
    con.commit()
    con.close()
    code = cli.main(["session", "--last", "--db", str(db), "--checklist", "examples/checklist.yaml"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "current_ma" in err and "1..25 mA" in err, err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _File(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.mark.req("SRS-086")
@pytest.mark.parametrize("confirm,code", [("n\n", 1), ("y\n", 0)])
def test_checklist_file_is_confirmed_on_a_terminal_with_stderr_redirected(tmp_path, monkeypatch,
                                                                          confirm, code):
    # `ionto session --checklist FILE 2>log` typed at a terminal: stdin and
    # stdout are the terminal, so the file's answers are shown there and confirmed
    stdout, stderr = _Tty(), _File()
    monkeypatch.setattr(sys, "stdin", _Tty(confirm))
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    got = cli.main(_argv(tmp_path, "--current", "10"))
    assert got == code, stderr.getvalue()
    shown = stdout.getvalue()
    assert "Checklist answers from examples/checklist.yaml" in shown
    assert "Are these answers true for you today? [y/n]" in shown
    if code == 1:
        assert "not confirmed" in stderr.getvalue()


@pytest.mark.req("SRS-086")
@pytest.mark.parametrize("stdin_tty,stdout_tty,stderr_tty,asked", [
    (True, True, True, True), (True, True, False, True), (True, False, True, True),
    (True, False, False, False), (False, True, True, False), (False, False, False, False)])
def test_which_streams_make_a_terminal(monkeypatch, stdin_tty, stdout_tty, stderr_tty, asked):
    monkeypatch.setattr(sys, "stdin", (_Tty if stdin_tty else _File)())
    monkeypatch.setattr(sys, "stdout", (_Tty if stdout_tty else _File)())
    monkeypatch.setattr(sys, "stderr", (_Tty if stderr_tty else _File)())
    assert cli._interactive() is asked
