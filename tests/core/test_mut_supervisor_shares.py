"""The supervisor at the edges the 1-in-10 shares 5 to 9 of its mutation run
left open (core/supervisor.py, issue 12 point 2): the two-slew ramp and its
batch end at the slew change (SRS-074), the batch end before the charge bound
(SRS-090), the row that checks a density cut (SRS-060), a re-ramp's excess
episode (SRS-304), the return to the set current from limited (SRS-092), the
records of SRS-071. Plan: 5 mA, 10 min, ramps 10 s unless said."""
from __future__ import annotations

import pytest

from core.supervisor import ramp_duration_s, ramp_slews

from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse fixture
from tests.core.test_mut_supervisor_units import _History, _recorded, row, sup_in

HZ = 10_000


@pytest.mark.req("SRS-074")
def test_two_slews_of_a_coarse_step_reach_the_current_at_ramp_up_s():
    # a regulator whose slew step is 1 mA/s: 1.5 mA in 1 s is 2 mA/s for 0.5 s, then 1 mA/s
    fast, n1, slow = ramp_slews(1.5, 1.0, HZ, step_ma_per_s=1.0)
    assert (fast, n1, slow) == (2.0, 5_000, 1.0)
    assert ramp_duration_s(1.5, fast, n1, slow, HZ) == 1.0


@pytest.mark.req("SRS-074")
def test_a_reference_that_reaches_the_current_at_the_fast_slew_takes_current_over_slew():
    # 1 mA/s allowed for 10 s reaches 5 mA at 5 s: the slow slew never starts
    assert ramp_duration_s(5.0, 1.0, 100_000, 0.5, HZ) == 5.0


@pytest.mark.req("SRS-074")
def test_a_re_ramp_takes_the_fast_slew_until_its_own_tick_then_the_slow_one():
    # 5 mA in 12 s: 0.417 mA/s for 8 s, then 0.416 mA/s
    sup = sup_in("ramp", ramp_up_s=12.0)
    assert (sup.slew_up, sup.slew_fast_ticks, sup.slew_up_late) == (0.417, 80_000, pytest.approx(0.416))
    sup._ramp_start_tick = 200_000                     # a ramp again after a pause at 20 s
    sup.tick = 200_000 + 79_999
    assert sup._rising_slew() == 0.417
    sup.tick = 200_000 + 80_000
    assert sup._rising_slew() == pytest.approx(0.416)


@pytest.mark.req("SRS-074")
def test_the_batch_ends_at_the_tick_the_slew_changes():
    sup = sup_in("ramp", ramp_up_s=12.0)
    sup._verify_next_row = False
    sup.tick = 79_999
    assert sup._rows_to_boundary() == (1, 1)
    sup.tick = 79_900
    assert sup._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-090")
def test_under_drive_a_batch_ends_a_row_before_the_charge_bound_is_in_reach():
    # 1.375 mA*s left: 0.25 s at 5 mA x 1.1, less one row: 24 rows
    sup = sup_in("treat")
    sup._verify_next_row = False
    sup.charge_bound_mas = 1.375
    assert sup._rows_to_boundary() == (24, 100)


@pytest.mark.req("SRS-060", "SRS-141")
def test_after_a_density_cut_one_row_checks_that_the_regulator_obeys():
    sup = sup_in("limited")
    sup._verify_next_row = False
    sup.density_target_ma = 2.5
    assert sup._density_cut() is True
    assert sup._rows_to_boundary() == (1, 100)
    assert sup._rows_to_boundary() == (50, 100)        # then the density check's 0.5 s again


@pytest.mark.req("SRS-304", "SRS-141")
def test_a_re_ramp_ended_for_the_density_starts_its_excess_from_zero():
    sup = sup_in("ramp")
    sup._r_base = sup._r_base0 = 2000.0
    sup._excess_s, sup.tick, sup.density_limits = 3.0, 40_000, 2
    assert sup._ramp_density(4000.0) is True
    assert (sup.state, sup.density_target_ma, sup.density_limits) == ("limited", 2.5, 3)
    assert (sup._excess_s, sup._excess_tick) == (0.0, 40_000)
    assert sup.log[-3].endswith("load 4000 ohm in the ramp, 2.00x the baseline 2000 ohm: ramp ended, "
                                "current lowered to 2.500 mA (current density)")


@pytest.mark.req("SRS-092")
def test_limited_gives_the_set_current_back_when_the_load_is_back():
    sup = sup_in("limited")
    sup._r_base = sup._r_base0 = 2000.0
    sup.density_target_ma = 2.5
    sup._translate(row(load_estimate_ohms=2000.0, measured_current_ma=5.0, reference_ma=5.0,
                       target_ma=5.0, mean_current_ma=5.0))
    assert sup.state == "treat"
    assert any("load 2000 ohm back within the baseline 2000 ohm: set current again" in e for e in sup.log)


@pytest.mark.req("SRS-071", "SRS-081")
def test_the_result_asked_again_still_reports_the_failed_end_write():
    sup, r = _recorded(_History(fail_end=OSError("disk full")))
    assert sup.result().history_error == r.history_error == "OSError: disk full"


@pytest.mark.req("SRS-071", "SRS-277")
def test_the_record_keeps_the_time_in_band_to_the_millisecond():
    h = _History()
    sup, r = _recorded(h, stop_s=11.2345)
    counts = h.calls[-1][3]["counts"]
    assert r.treat_in_band_s != round(r.treat_in_band_s)       # a fraction of a second to keep
    assert counts["treat_in_band_s"] == round(r.treat_in_band_s, 3) and 0.5 < counts["treat_in_band_s"] < 1.3


@pytest.mark.req("SRS-066", "SRS-065")
def test_the_batch_before_half_time_ends_at_it_in_whole_rows_the_device_accepts():
    sup = sup_in("treat", reverse_polarity=True)
    sup._verify_next_row = False
    sup.treat_ticks = 3_000_000 - 250                   # 300 s of the 600 s is half time
    rows, tpr = sup._rows_to_boundary()
    assert (rows, tpr) == (2, 100) and isinstance(rows, int) and isinstance(tpr, int)
    sup.treat_ticks = 3_000_000 - 50
    rows, tpr = sup._rows_to_boundary()
    assert (rows, tpr) == (1, 50) and isinstance(tpr, int)
    assert sup.device.advance(rows, tpr).rows_run == 1


@pytest.mark.req("SRS-091", "SRS-069")
def test_paced_every_batch_is_one_row():
    from core.supervisor import SimulatedClock, Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    from tests.core.test_mut_supervisor_units import Spy
    sup = Supervisor(Spy(), settings(current_ma=5.0, ramp_up_s=10.0, ramp_down_s=10.0), realtime=True,
                     clock=SimulatedClock(), checklist=PASSED_CHECKLIST)
    sup.begin()
    sup._enforce()
    sup._verify_next_row = False
    assert sup._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-090")
def test_the_ramp_down_still_delivers_the_triangle_under_its_slew():
    # from 5 mA at 0.25 mA/s (a 20 s ramp-down): 5 x 20 / 2 = 50 mA*s
    sup = sup_in("treat", ramp_down_s=20.0)
    sup.last = row(reference_ma=5.0)
    assert sup._ramp_down_charge_mas() == pytest.approx(50.0)


@pytest.mark.req("SRS-092")
def test_limited_gives_the_set_current_back_with_the_reference_at_it_within_the_float_slack():
    sup = sup_in("limited")
    sup._r_base = sup._r_base0 = 2000.0
    sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=5.0, reference_ma=5.0 - 1e-6))
    assert sup.state == "treat"


@pytest.mark.req("SRS-254")
def test_translate_pauses_a_stalled_rise_in_limited():
    sup = sup_in("limited")
    sup.density_target_ma = 3.0
    sup._translate(row(reference_ma=1.0, measured_current_ma=1.0))
    sup.tick = 10_000
    sup._translate(row(reference_ma=1.12, measured_current_ma=1.12))
    assert sup.state == "paused" and sup.fault is None


@pytest.mark.req("SRS-256")
def test_a_refused_pause_command_is_logged_and_a_fault():
    from tests.core.test_mut_supervisor_units import Spy
    sup = sup_in("treat", device=Spy(refuse={"search"}))
    assert sup._pause_with_search() is False
    assert (sup.state, sup.fault) == ("fault", "supervisor_error")
    assert any("command refused in treat: search refused" in e for e in sup.log)


@pytest.mark.req("SRS-060", "SRS-053")
def test_a_refused_event_enters_fault_by_the_fault_event_not_by_a_machine_error():
    sup = sup_in("ramp")
    sup._send("half_time")
    assert (sup.state, sup.fault) == ("fault", "supervisor_error")
    assert sup.machine.last_error is None and sup.machine.transitions_taken[-1] == ("fault", "ramp", "fault")


@pytest.mark.req("SRS-071")
def test_progress_is_written_when_its_10_s_of_wall_time_are_up(monkeypatch):
    sup = sup_in("treat")
    sup.history, sup.session_id = _History(), 7
    monkeypatch.setattr("core.supervisor.time.monotonic", lambda: 100.0)
    sup._next_progress_wall = 100.0
    sup._record_progress()
    assert [c[0] for c in sup.history.calls] == ["progress"] and sup._next_progress_wall == 110.0


@pytest.mark.req("SRS-065")
def test_the_set_time_up_is_sent_as_time_up():
    sup = sup_in("treat")
    sup.treat_ticks = sup.treat_ticks_set                # 600 s counted
    assert sup._timed_event() is True
    assert (sup.state, sup.end_reason) == ("ramp_down", "time_up")
    assert sup.log[-1].endswith("time_up -> ramp_down")
    assert sup.machine.transitions_taken[-1] == ("time_up", "treat", "ramp_down")


@pytest.mark.req("SRS-141")
def test_a_refused_density_cut_in_treat_is_a_fault_and_the_row_is_done_with():
    sup = sup_in("treat")
    sup.device.refuse = {"enable"}
    sup._r_base = sup._r_base0 = 2000.0
    sup._excess_s = 100.0                                  # far over the budget: a cut now
    assert sup._density(row(load_estimate_ohms=4000.0, measured_current_ma=5.0, reference_ma=5.0)) is True
    assert (sup.state, sup.fault, sup.density_limits) == ("fault", "supervisor_error", 0)


@pytest.mark.req("SRS-060")
def test_a_reference_that_rises_in_a_ramp_down_before_any_row_is_a_table_violation():
    from tests.core.test_mut_supervisor_edges import _Rewrites
    from types import SimpleNamespace
    dev = _Rewrites(lambda last: SimpleNamespace(**{**vars(last), "reference_ma": 0.5, "target_ma": 0.0}))
    sup = sup_in("ramp_down", device=dev)
    assert sup.last is None                                # stopped before the first row: from 0
    sup._run_batch((1, 100))
    assert (sup.state, sup.fault) == ("fault", "output_table_violation")
    assert any("reference rose from 0.0000 to 0.5000 mA" in e for e in sup.log)


@pytest.mark.req("SRS-090")
def test_the_bound_message_gives_the_charge_in_ma_min():
    sup = sup_in("treat")
    sup.charge_mas = 600.0                                 # 10 mA*min
    sup.cuts = 11
    assert sup._session_bound() is True
    assert any("session bound cuts_bound: delivered 10.00 mA*min (bound " in e for e in sup.log)


@pytest.mark.req("SRS-256")
def test_the_open_circuit_check_runs_in_treat():
    sup = sup_in("treat")
    sup._translate(row(reference_ma=5.0, measured_current_ma=1.2))     # under a quarter of 5 mA
    sup.tick = 4_999
    sup._translate(row(reference_ma=5.0, measured_current_ma=1.2))
    assert sup.state == "treat"
    sup.tick = 5_000                                       # 0.5 s
    sup._translate(row(reference_ma=5.0, measured_current_ma=1.2))
    assert sup.state == "paused" and sup.fault is None


@pytest.mark.req("SRS-141")
def test_each_density_cut_counts():
    sup = sup_in("limited")
    sup.density_target_ma = 2.5
    sup.density_cuts = 2
    assert sup._density_cut() is True
    assert sup.density_cuts == 3


@pytest.mark.req("SRS-257")
def test_a_first_ramp_stall_logs_the_contact_search_it_starts():
    sup = sup_in("ramp")
    sup._ramp_stalled(row(reference_ma=0.5))
    sup.tick = 50_000
    assert sup._ramp_stalled(row(reference_ma=1.1)) is True
    assert sup.state == "paused" and sup.log[-2].endswith("s contact search")


@pytest.mark.req("SRS-066")
def test_a_refused_swap_is_tried_again_row_by_row_within_the_200_ms():
    from tests.core.test_mut_supervisor_units import Spy
    sup = sup_in("reverse_down", device=Spy(refuse={"polarity"}), reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup._switch_polarity()                                  # one call: every row of the 200 ms
    assert (sup.state, sup.fault, sup.tick) == ("fault", "supervisor_error", 2_000)
    assert len([c for c in sup.device.calls if c[0] == "polarity"]) == 20


@pytest.mark.req("SRS-255")
def test_the_reversals_fall_not_at_zero_after_its_time_and_margin_is_a_fault():
    sup = sup_in("reverse_down", reverse_polarity=True)
    sup.tick = sup._fall_start_tick + sup.fall_limit_ticks
    sup._translate(row(reference_ma=1.0, mean_current_ma=1.0, measured_current_ma=1.0))
    assert (sup.state, sup.fault) == ("fault", "ramp_down_overrun")
    assert any("reverse_down not at zero after " in e for e in sup.log)


@pytest.mark.req("SRS-307")
def test_a_disarm_that_fails_is_logged():
    from core.regulator import RegulatorError
    from tests.core.test_mut_supervisor_units import Spy

    class BadDisarm(Spy):
        def disarm(self):
            raise RegulatorError(-3, "disarm refused")
    sup = sup_in("ramp", device=BadDisarm())
    sup._enter_fault("supervisor_error")
    assert sup.state == "fault" and "disarm: disarm refused" in sup.log


@pytest.mark.req("SRS-092")
def test_the_baseline_follows_drying_for_the_time_since_it_was_last_checked():
    # baseline at 60 s; half a minute later at most +5 % (10 %/min): 2100 ohm, 2300 is limited
    sup = sup_in("treat")
    sup.tick = 600_000
    assert sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=5.0)) is False
    sup.tick = 900_000
    assert sup._density(row(load_estimate_ohms=2300.0, measured_current_ma=5.0)) is True
    assert sup._r_base == pytest.approx(2100.0) and sup.state == "limited"


@pytest.mark.req("SRS-092")
def test_paused_with_the_contact_back_on_too_small_an_area_stays_paused_and_searches():
    from core.limits import load_limits
    sup = sup_in("paused")
    sup._r_base = sup._r_base0 = 2000.0
    sup._translate(row(load_estimate_ohms=2000.0 * load_limits().load_pause_ratio, output_enabled=True))
    assert sup.state == "paused" and ("search",) in sup.device.calls
    sup._translate(row(load_estimate_ohms=2000.0, output_enabled=True))
    assert sup.state == "ramp"


@pytest.mark.req("SRS-301", "SRS-071")
def test_a_pulsed_record_keeps_the_peak_and_the_mean_beside_the_counts():
    from core.scenario import parse_scenario
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    from tests.core.test_mut_supervisor_pulsed import PULSED, PulseSpy
    h = _History()
    sup = Supervisor(PulseSpy(), settings(current_ma=5.0, ramp_up_s=10.0, ramp_down_s=10.0, **PULSED),
                     history=h, checklist=PASSED_CHECKLIST,
                     scenario=parse_scenario([{"at_s": 11.0, "event": "stop"}]))
    r = sup.run()
    counts = h.calls[-1][3]["counts"]
    figures = r.pulsed_figures()
    assert counts["peak_current_mA"] == figures["peak_current_mA"] > 4.9
    assert counts["mean_current_mA"] == figures["mean_current_mA"] > 0.0
    assert "pulse_khz" not in counts and "mode" not in counts


@pytest.mark.req("SRS-090", "SRS-277")
def test_the_result_gives_the_cuts_and_the_treatment_charge_in_ma_min():
    sup = sup_in("treat")
    sup.cuts, sup.treat_charge_mas = 3, 1500.0             # 25 mA*min in the treatment phase
    r = sup.result()
    assert (r.antishock_cuts, r.treat_delivered_mamin) == (3, 25.0)


@pytest.mark.req("SRS-071", "SRS-301")
def test_before_any_row_the_largest_current_is_zero():
    sup = sup_in("ramp")
    assert sup.result().max_current_ma == 0.0
    sup._run_batch((1, 1))                                 # one tick of a ramp from 0: under 1 uA
    assert sup.result().max_current_ma < 0.01


@pytest.mark.req("SRS-141")
def test_an_excess_plus_fall_equal_to_half_the_bound_is_no_cut_yet():
    # the density 3 mA x 2 = 1.2 x the baseline's; 0.125 s of excess so far, no fall (reference at the target)
    sup = sup_in("limited")
    sup._r_base = sup._r_base0 = 2000.0
    sup._excess_s, sup._excess_tick = 0.125, sup.tick
    sup._density(row(load_estimate_ohms=4000.0, measured_current_ma=3.0, reference_ma=2.5))
    assert sup.density_cuts == 0
    sup._excess_s = 0.1251
    sup._density(row(load_estimate_ohms=4000.0, measured_current_ma=3.0, reference_ma=2.5))
    assert sup.density_cuts == 1


# ---- a second begin() on one Supervisor (SRS-310), fast: the mutants of begin() ----
@pytest.mark.req("SRS-310")
def test_a_second_begin_is_refused_word_for_word_before_any_command():
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, CallSpy, settings
    device = CallSpy()
    sup = Supervisor(device, settings(start_polarity="reversed"), checklist=PASSED_CHECKLIST)
    device.sup = sup
    sup.begin()
    calls, state, tick = list(device.calls), sup.state, sup.tick
    assert ("set_polarity", "idle") in calls and ("arm", "checklist") in calls and state == "ramp"
    for _ in range(2):                                  # refused each time, the flag stays set
        with pytest.raises(ValueError) as info:
            sup.begin()
        assert str(info.value) == (
            "session: this Supervisor has run its session (its answers armed the loop once and its result "
            "is kept); a new session needs a new Supervisor with its own checklist record; nothing was "
            "energised")
    assert (device.calls, sup.state, sup.tick) == (calls, state, tick)   # nothing sent, nothing moved
