"""`ionto session --mode pulsed [--pulse-khz F] [--duty P]` (SRS-300, issue 14
slice 3a): the site's default mode, refusals naming the option and its range
with exit 1 and nothing recorded, Last Setting of the mode, and the
supervisor commanding the pulse train before the output is first enabled."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.checklist import ChecklistRecord, load_checklist
from core.device import SimulatedDevice
from core.history import History
from core.settings import Mode, parse_settings
from core.supervisor import Supervisor
from in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
PASSED = ChecklistRecord(mode="file", answers=load_checklist(Path(CHECKLIST)), source=CHECKLIST)


def session(db: Path, *extra: str, site: str = "underarms", current: str = "4") -> list[str]:
    return ["session", "--site", site, "--current", current, "--minutes", "10", "--checklist", CHECKLIST,
            "--seed", "1", "--db", str(db), "--json", *extra]


def stored_settings(db: Path) -> list[dict]:
    with History(db, readonly=True) as h:
        return [r.settings for r in h.list_sessions()]


@pytest.mark.req("SRS-300")
def test_underarms_run_pulsed_without_mode_and_hands_dc(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    code, out, _ = run(capsys, *session(db))
    assert code == 0 and json.loads(out)["outcome"] == "completed"
    code, out, _ = run(capsys, *session(tmp_path / "h2.sqlite", site="hands", current="15"))
    assert code == 0
    st = stored_settings(db)[0]
    assert (st["mode"], st["pulse_khz"], st["duty_percent"]) == ("pulsed", 10.0, 50)
    assert "mode" not in stored_settings(tmp_path / "h2.sqlite")[0]      # dc: the record of before


@pytest.mark.req("SRS-300")
def test_mode_and_train_from_the_options(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    code, _, err = run(capsys, *session(db, "--mode", "pulsed", "--pulse-khz", "4.3", "--duty", "80",
                                        site="hands", current="15"))
    assert code == 0, err
    code, _, err = run(capsys, *session(tmp_path / "dc.sqlite", "--mode", "dc"))
    assert code == 0, err
    st = stored_settings(db)[0]
    assert (st["site"], st["mode"], st["pulse_khz"], st["duty_percent"]) == ("hands", "pulsed", 4.3, 80)
    assert "mode" not in stored_settings(tmp_path / "dc.sqlite")[0]


@pytest.mark.req("SRS-300", "SRS-082")
@pytest.mark.parametrize("extra,expected", [
    (["--pulse-khz", "11"], "--pulse-khz (pulse_khz): 11 kHz is outside the allowed range 4.3..10 kHz"),
    (["--pulse-khz", "4.35"], "--pulse-khz (pulse_khz): 4.35 kHz is not a multiple of 0.1 kHz; "
                              "allowed 4.3..10 kHz"),
    (["--duty", "85"], "--duty (duty_percent): 85 % is outside the allowed range 50..80 %"),
    (["--duty", "abc"], "--duty (duty_percent): 'abc' is not a number; allowed: 50..80 % (whole percent)"),
    (["--mode", "ac"], "--mode (mode): 'ac' is not a mode; allowed: one of dc, pulsed"),
    (["--mode", "dc", "--duty", "60"], "--duty (duty_percent): 60 % is given, but only mode pulsed has a "
                                       "pulse train"),
])
def test_bad_mode_options_exit_1_naming_option_and_range_with_nothing_recorded(tmp_path, capsys, extra,
                                                                              expected):
    db = tmp_path / "h.sqlite"
    code, out, err = run(capsys, *session(db, *extra))
    assert code == 1 and expected in err, err
    assert json.loads(out)["outcome"] == "refused"
    assert digest(db) == "absent"          # nothing recorded, so nothing energised


@pytest.mark.req("SRS-300", "SRS-082")
def test_a_train_on_a_dc_site_needs_mode_pulsed(tmp_path, capsys):
    code, _, err = run(capsys, *session(tmp_path / "h.sqlite", "--pulse-khz", "5", site="hands",
                                        current="15"))
    assert code == 1 and "--pulse-khz (pulse_khz): 5 kHz is given, but only mode pulsed" in err


@pytest.mark.req("SRS-300", "SRS-072")
def test_last_setting_keeps_the_mode_and_dc_over_it_drops_the_train(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *session(db, "--pulse-khz", "5", "--duty", "60"))[0] == 0
    last = ["session", "--last", "--checklist", CHECKLIST, "--db", str(db), "--json", "--now",
            "2031-01-02T10:00:00+00:00"]
    assert run(capsys, *last)[0] == 0
    assert run(capsys, *last[:-2], "--now", "2031-01-03T10:00:00+00:00", "--mode", "dc")[0] == 0
    first, second, third = stored_settings(db)
    assert first == second and (second["mode"], second["pulse_khz"], second["duty_percent"]) == (
        "pulsed", 5.0, 60)
    assert {k: v for k, v in first.items() if k not in ("mode", "pulse_khz", "duty_percent")} == third


@pytest.mark.req("SRS-300")
def test_the_runner_has_no_pulse_stage_and_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, *session(tmp_path / "h.sqlite", "--realtime", "--runner"))
    assert code == 1 and "--runner: the real-time runner's board has no pulsed output" in err
    assert digest(tmp_path / "h.sqlite") == "absent"


class _Recording(SimulatedDevice):
    """The simulated device, its commands recorded in order."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.calls: list[tuple] = []

    def set_pulse(self, pulse_khz, duty_percent=None):
        self.calls.append(("set_pulse", pulse_khz, duty_percent))
        super().set_pulse(pulse_khz, duty_percent)

    def enable_output(self, on):
        self.calls.append(("enable_output", on))
        super().enable_output(on)


class _DcOnly:
    """A device without a pulse stage (no set_pulse)."""
    tick_hz = 10_000
    simulated_time_s = 0.0


@pytest.mark.req("SRS-300", "SRS-259")
def test_the_supervisor_commands_the_train_before_the_output_is_first_enabled():
    dev = _Recording()
    sup = Supervisor(dev, parse_settings({"site": "underarms", "current_ma": 4, "minutes": 10,
                                          "mode": "pulsed", "duty_percent": 70}), checklist=PASSED)
    sup.begin()
    for _ in range(20):
        sup.step()
    assert dev.calls[0] == ("set_pulse", 10.0, 70)
    assert ("enable_output", True) in dev.calls[1:]
    assert dev._rig.pulse == (10.0, 70)
    dc = _Recording()
    Supervisor(dc, parse_settings({"site": "hands", "current_ma": 4, "minutes": 10}), checklist=PASSED).begin()
    assert not [c for c in dc.calls if c[0] == "set_pulse"] and dc._rig.pulse is None   # dc: nothing new
    with pytest.raises(ValueError, match="has no pulsed output; nothing was energised"):
        Supervisor(_DcOnly(), parse_settings({"site": "underarms", "current_ma": 4, "minutes": 10,
                                              "mode": "pulsed"}), checklist=PASSED)


# ---- slice 3b: what a pulsed session shows and records (SRS-301) ----

DC_KEYS = {"outcome", "fault", "site", "current_mA", "minutes", "treat_s", "delivered_mAmin", "max_current_mA",
           "states", "session_id", "end_reason", "pauses", "antishock_cuts", "ramp_s", "density_limits",
           "density_pauses", "checklist"}
PULSED_KEYS = {"mode", "pulse_khz", "duty_percent", "peak_current_mA", "mean_current_mA"}


@pytest.mark.req("SRS-301")
def test_summary_trace_and_history_show_peak_and_mean(tmp_path, capsys):
    import csv
    db, trace = tmp_path / "h.sqlite", tmp_path / "t.csv"
    code, out, err = run(capsys, *session(db, "--trace", str(trace), "--mode", "pulsed", site="hands",
                                          current="15"))
    assert code == 0, err
    summary = json.loads(out)
    assert set(summary) == DC_KEYS | PULSED_KEYS
    assert 15 <= summary["peak_current_mA"] <= 15 * 1.02 + 0.1
    assert 0.45 * 15 <= summary["mean_current_mA"] <= 0.5 * 15
    # the delivered charge is the mean's: 10 min at the treatment mean plus the ramps' share
    assert summary["delivered_mAmin"] == pytest.approx(summary["mean_current_mA"] * 10.5, rel=0.02)
    rows = [r for r in csv.DictReader(trace.open()) if r["state"] == "treat"]
    assert min(float(r["peak_mA"]) for r in rows) >= 15 - 0.15
    assert max(float(r["current_mA"]) for r in rows) <= 0.5 * 15        # current_mA: the mean
    code, out, _ = run(capsys, "history", "--db", str(db), "--json")
    (row,) = json.loads(out)
    assert {k: row[k] for k in PULSED_KEYS} == {k: summary[k] for k in PULSED_KEYS}
    code, out, _ = run(capsys, "history", "--db", str(db))
    assert f"pulsed 10 kHz 50 % mean {summary['mean_current_mA']:.2f} mA" in out
    text_run = session(tmp_path / "h2.sqlite", "--mode", "pulsed", site="hands", current="15")
    code, out, err = run(capsys, *[a for a in text_run if a != "--json"])
    assert code == 0 and "; pulsed 10 kHz 50 %: peak 15." in err and " mA in treatment" in err


@pytest.mark.req("SRS-301")
def test_a_dc_summary_and_history_row_keep_their_keys(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    code, out, _ = run(capsys, *session(db, site="hands", current="15"))
    assert code == 0 and set(json.loads(out)) == DC_KEYS
    code, out, _ = run(capsys, "history", "--db", str(db), "--json")
    assert not PULSED_KEYS & set(json.loads(out)[0])
