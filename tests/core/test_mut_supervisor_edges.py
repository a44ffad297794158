"""The supervisor at the edges its first mutation run left open (core/supervisor.py,
issue 12 point 2): the open-level rows of a stall's pause, a row that breaks
the output table, the swap only at zero with the output off, the reversal's
fall past a density cut's probe, the open-circuit check in limited, the
anti-shock cut in a ramp, the density cut's budget. Plan: 5 mA, 10 min,
ramps 10 s."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.scenario import parse_scenario
from core.supervisor import SessionResult

from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse fixture
from tests.core.test_mut_supervisor_units import Spy, row, sup_in


class _Rewrites(Spy):
    """Runs the rows, then reports `last` as `rewrite(last)`: a regulator that
    reports what it did not do (the supervisor must act on the report)."""

    def __init__(self, rewrite):
        super().__init__()
        self.rewrite = rewrite

    def advance(self, max_rows, ticks_per_row):
        b = super().advance(max_rows, ticks_per_row)
        return SimpleNamespace(rows_run=b.rows_run, charge_mas=b.charge_mas, max_current_ma=b.max_current_ma,
                               loop_ticks=b.loop_ticks, rows=b.rows, last=self.rewrite(b.last))


@pytest.mark.req("SRS-090")
def test_the_counts_keep_the_ramp_time_to_the_millisecond():
    r = SessionResult(outcome="stopped", fault=None, treat_s=1.0, elapsed_s=2.0, delivered_mamin=0.1,
                      max_current_ma=5.0, states=[], pauses=2, antishock_cuts=3, ramp_s=12.34567,
                      density_limits=4, density_pauses=1)
    assert r.counts() == {"pauses": 2, "antishock_cuts": 3, "ramp_s": 12.346, "density_limits": 4,
                          "density_pauses": 1}


@pytest.mark.req("SRS-091")
def test_no_tick_in_a_one_tick_batch_is_within_the_one_tick_tolerance():
    now = [0.0]
    sup = sup_in(monotonic=lambda: now[0])
    sup._mono_at_batch_s = 0.0
    assert sup._check_loop(SimpleNamespace(loop_ticks=0), rows_run_ticks=1) is False
    assert sup.fault is None


@pytest.mark.req("SRS-257")
def test_a_stall_pause_notes_a_row_at_the_open_level_from_the_batches_it_runs():
    sup = sup_in("ramp")
    sup.device.lift_off()                                  # hand out: the sense level reads open
    sup._pause_with_search()
    sup._stall_pause_tick = sup.tick
    sup._run_batch((30, 100))
    assert sup.state == "paused" and sup._stall_saw_open is True


@pytest.mark.req("SRS-060", "SRS-256")
def test_the_pause_commands_once_what_paused_allows():
    sup = sup_in("treat")
    sup._pause_with_search()
    n = len(sup.device.calls)
    sup._enforce()                                         # the pause's command is paused's entry
    assert len(sup.device.calls) == n and sup._commanded == (0.0, 0.5, None)


@pytest.mark.req("SRS-060")
def test_a_row_above_the_set_current_is_a_table_violation_fault():
    dev = _Rewrites(lambda last: SimpleNamespace(**{**vars(last), "reference_ma": 5.5, "target_ma": 5.0}))
    sup = sup_in("treat", device=dev)
    sup._run_batch((1, 100))
    assert (sup.state, sup.fault) == ("fault", "output_table_violation")
    assert any("table violation in treat: reference 5.5000 mA / target 5.0000 mA above the set current" in e
               for e in sup.log)


@pytest.mark.req("SRS-066")
def test_the_swap_waits_for_zero_current_even_with_the_output_reported_off():
    # the output reported off, the mean within the table's 0.1 mA, but peaks of 0.2 mA:
    # not |I| <= 0.1 mA, never swapped, a fault after the 200 ms allowed
    dev = _Rewrites(lambda last: SimpleNamespace(**{**vars(last), "output_enabled": False,
                                                     "mean_current_ma": 0.05, "peak_current_ma": 0.2}))
    sup = sup_in("reverse_down", device=dev, reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup._switch_polarity()
    assert (sup.state, sup.fault, sup.polarity_switches) == ("fault", "supervisor_error", 0)
    assert not [c for c in dev.calls if c[0] == "polarity"] and sup.tick == 2_000


@pytest.mark.req("SRS-066", "SRS-033")
def test_the_switch_stops_its_rows_at_a_scenario_event():
    sup = sup_in("reverse_down", reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup._scenario, sup._next_event = parse_scenario([{"at_s": 0.0042, "event": "lift_off"}]), 0
    sup._switch_polarity()
    assert sup.tick == 42


@pytest.mark.req("SRS-061")
def test_the_reversals_fall_goes_on_through_a_cuts_own_contact_check():
    sup = sup_in("limited", reverse_polarity=True)
    sup.tick = 1_000
    sup._cut_tick = 900
    sup.machine.dispatch("half_time")
    assert sup.state == "reverse_down" and sup._cut_tick == 900
    sup._translate(row(contact_lost=True, reference_ma=3.0, mean_current_ma=3.0))
    assert sup.state == "reverse_down"
    other = sup_in("reverse_down", reverse_polarity=True)
    other._translate(row(contact_lost=True, reference_ma=3.0, mean_current_ma=3.0))
    assert other.state == "paused"


@pytest.mark.req("SRS-256")
def test_the_open_circuit_check_runs_in_limited():
    sup = sup_in("limited")
    sup._translate(row(reference_ma=1.0, measured_current_ma=0.0))
    sup.tick = 5_000
    sup._translate(row(reference_ma=1.0, measured_current_ma=0.0))
    assert sup.state == "paused"


@pytest.mark.req("SRS-090", "SRS-065")
def test_an_anti_shock_cut_in_a_ramp_counts_and_restarts_its_deadline():
    sup = sup_in("ramp")
    sup.tick = 30_000
    sup._translate(row(antishock_cuts=1, reference_ma=0.0, measured_current_ma=0.0))
    assert (sup.cuts, sup._cuts_seen, sup.state, sup._ramp_start_tick) == (1, 1, "ramp", 30_000)
    assert sup.log[-1].endswith("antishock_cut -> ramp")


@pytest.mark.req("SRS-141")
def test_the_cut_comes_when_the_excess_so_far_plus_a_falls_passes_half_the_bound():
    def limited():
        sup = sup_in("treat")
        sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=5.0))
        sup.machine.dispatch("density_limit")
        sup._excess_tick = 0
        return sup
    # 1.5x: target 3.30 mA; the fall from 5 mA lets 0.45 x 1.7 / 5 / 2 = 0.0765 s through;
    # 0.12 s at 1.5x so far is 0.054 s: 0.1305 s > 0.125 s, a cut
    sup = limited()
    sup.tick = 1_200
    sup._density(row(load_estimate_ohms=3000.0, measured_current_ma=5.0, reference_ma=5.0))
    assert sup.density_cuts == 1
    under = limited()
    under.tick = 1_000                                     # 0.045 s + 0.0765 s = 0.1215 s
    under._density(row(load_estimate_ohms=3000.0, measured_current_ma=5.0, reference_ma=5.0))
    assert under.density_cuts == 0


@pytest.mark.req("SRS-141")
def test_a_refused_density_cut_is_logged_and_a_fault():
    sup = sup_in("limited")
    sup.device.refuse = {"command"}
    assert sup._density_cut() is False
    assert any("density cut refused in limited: command refused" in e for e in sup.log)


@pytest.mark.req("SRS-257", "SRS-254")
@pytest.mark.parametrize("state,stalled,start_ma,ticks,text", [
    # 0.6 mA is under 0.25 x 0.5 mA/s x the window (5 s in the ramp, 10 s limited)
    ("ramp", "_ramp_stalled", 0.5, 50_000, "ramp reference at 1.1000 mA rose 600 uA in 5.00 s"),
    ("limited", "_limited_stalled", 1.0, 100_000, "rose 600 uA in 10.00 s"),
])
def test_the_stall_message_gives_the_rise_in_microamperes(state, stalled, start_ma, ticks, text):
    sup = sup_in(state)
    if state == "limited":
        sup.density_target_ma = 5.0
    check = getattr(sup, stalled)
    check(row(reference_ma=start_ma))
    sup.tick = ticks
    assert check(row(reference_ma=start_ma + 0.6)) is True
    assert any(text in e for e in sup.log)


@pytest.mark.req("SRS-255")
def test_the_reversals_fall_ends_its_batches_at_its_deadline_and_row_by_row_at_zero():
    sup = sup_in("reverse_down", reverse_polarity=True)
    sup._verify_next_row = False
    sup.last = row(reference_ma=1.0)
    sup.tick = sup._fall_start_tick + sup.fall_limit_ticks - 900
    assert sup._rows_to_boundary() == (9, 100)
    sup.tick = sup._fall_start_tick
    sup.last = row(reference_ma=0.0)
    assert sup._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-071")
def test_no_progress_write_within_the_first_10_s_of_wall_time():
    from tests.core.test_mut_supervisor_units import _History
    h = _History()
    sup = _recorded_session(h)
    assert [c[0] for c in h.calls] == ["begin", "end"]     # the session took under 10 s of wall time
    assert sup.result().outcome == "stopped"


def _recorded_session(history, begun=True):
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    sup = Supervisor(Spy(), settings(current_ma=5.0, ramp_up_s=10.0, ramp_down_s=10.0), history=history,
                     checklist=PASSED_CHECKLIST, scenario=parse_scenario([{"at_s": 11.0, "event": "stop"}]))
    if begun:
        sup.begin()
    else:          # driven without begin(): no history row
        sup.machine.dispatch("start")
        sup.machine.dispatch("checklist_passed")
    sup.run()
    return sup


@pytest.mark.req("SRS-060", "SRS-071")
def test_run_after_begin_goes_on_from_the_ramp_and_a_session_without_a_row_ends_none():
    from tests.core.test_mut_supervisor_units import _History
    h = _History()
    sup = _recorded_session(h)
    r = sup.result()
    assert (r.outcome, r.fault) == ("stopped", None)
    assert r.states == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    unbegun = _History()
    sup = _recorded_session(unbegun, begun=False)
    assert unbegun.calls == [] and sup.result().outcome == "stopped"


@pytest.mark.req("SRS-090")
def test_limited_counts_a_cut_once():
    sup = sup_in("limited")
    sup._count_limited_cuts(row(antishock_cuts=1))
    n = len(sup.log)
    sup._count_limited_cuts(row(antishock_cuts=1))
    assert (sup.cuts, len(sup.log)) == (1, n)


@pytest.mark.req("SRS-092")
def test_each_density_pause_counts():
    sup = sup_in("treat")
    sup._r_base, sup.density_pauses = 2000.0, 2
    sup._density_pause(7000.0)
    assert sup.density_pauses == 3


@pytest.mark.req("SRS-092")
def test_a_target_at_the_reference_within_the_float_slack_rises_under_the_ramp_slew():
    sup = sup_in("limited")
    sup.last = row(reference_ma=1.0)
    sup.density_target_ma = 1.0 - 1e-6                   # exactly the reference less the slack
    sup._commanded = None
    sup._enforce()
    assert sup.device.calls[0] == ("command", round(1.0 - 1e-6, 6), 0.5)


@pytest.mark.req("SRS-060")
def test_after_the_pause_command_one_row_checks_that_the_regulator_obeys():
    sup = sup_in("treat")
    sup._verify_next_row = False
    sup._pause_with_search()
    assert sup.state == "paused" and sup._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-092")
def test_a_refused_search_while_paused_for_the_area_is_logged_and_a_fault():
    sup = sup_in("paused")
    sup.device.refuse = {"search"}
    sup._search_again()
    assert sup.fault == "supervisor_error"
    assert any("contact search refused in paused: search refused" in e for e in sup.log)


@pytest.mark.req("SRS-090")
def test_the_bound_message_gives_the_time_in_ramp_in_seconds():
    sup = sup_in("ramp")
    sup.ramp_ticks = 1_200_000                            # 12 ramps of 10 s
    assert sup._session_bound() is True
    assert any("ramp 120.0 s, 0 cuts, 0 pauses" in e for e in sup.log)


@pytest.mark.req("SRS-066")
def test_the_switchs_200_ms_are_counted_across_a_scenario_event():
    dev = _Rewrites(lambda last: SimpleNamespace(**{**vars(last), "output_enabled": False,
                                                     "mean_current_ma": 0.05, "peak_current_ma": 0.2}))
    sup = sup_in("reverse_down", device=dev, reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup._scenario, sup._next_event = parse_scenario([{"at_s": 0.0042, "event": "contact"}]), 0
    sup._switch_polarity()
    assert sup.tick == 42 and sup.state == "polarity_switch"
    sup._apply_due_events()
    sup._switch_polarity()
    assert (sup.tick, sup.fault) == (2_000, "supervisor_error")


@pytest.mark.req("SRS-092")
def test_paused_for_the_area_resumes_once_settled_with_the_load_back():
    sup = sup_in("treat")
    sup._r_base = 2000.0
    sup._density_pause(6000.0)
    sup.paused_ticks = 10_000
    sup._translate(row(load_estimate_ohms=2000.0))
    assert sup.state == "ramp"


@pytest.mark.req("SRS-092")
def test_in_a_ramp_a_load_beyond_the_pause_bound_pauses():
    sup = sup_in("ramp")
    sup._r_base = 2000.0
    sup._translate(row(load_estimate_ohms=6000.0, measured_current_ma=2.0, reference_ma=2.0))
    assert sup.state == "paused" and sup.density_pauses == 1


@pytest.mark.req("SRS-277")
def test_a_one_tick_batch_at_the_set_current_counts_in_band():
    sup = sup_in("treat")
    sup.device = SimpleNamespace(kick_watchdog=lambda: None, advance=lambda rows, tpr: SimpleNamespace(
        rows_run=1, charge_mas=5.0 / 10_000, max_current_ma=5.0, last=row(), loop_ticks=0))
    sup._advance(1, 1)
    assert (sup.treat_ticks, sup.treat_in_band_ticks) == (1, 1)


@pytest.mark.req("SRS-091")
def test_without_begin_the_first_batch_takes_the_loop_reference():
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    now = [2.0]
    sup = Supervisor(Spy(), settings(), checklist=PASSED_CHECKLIST, monotonic=lambda: now[0])
    sup._mono_at_batch_s = 2.0
    assert sup._check_loop(SimpleNamespace(loop_ticks=7_000), rows_run_ticks=5_000) is False
    assert (sup._loop_ticks0, sup._loop_ticks_prev, sup._mono0_s) == (2_000, 7_000, 1.5)


@pytest.mark.req("SRS-090")
def test_limited_adds_its_cuts_to_those_of_the_session():
    sup = sup_in("limited")
    sup.cuts, sup._cuts_seen = 3, 1
    sup._count_limited_cuts(row(antishock_cuts=2))
    assert sup.cuts == 4


@pytest.mark.req("SRS-092")
def test_in_limited_the_baseline_never_follows_the_load():
    sup = sup_in("treat")
    sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=5.0))
    sup.machine.dispatch("density_limit")
    sup.tick = 60 * 10_000
    sup._density(row(load_estimate_ohms=2150.0, measured_current_ma=5.0, reference_ma=4.0))
    assert sup._r_base == 2000.0


@pytest.mark.req("SRS-141")
def test_the_cut_is_logged_with_its_target_and_reason():
    sup = sup_in("limited")
    sup.density_target_ma = 3.3
    sup._density_cut()
    assert sup.log[-1] == ("0.000s current cut to 0 and rising to 3.300 mA: a fall at the fastest slew "
                           "would exceed the density bound")


@pytest.mark.req("SRS-081")
def test_an_io_error_is_logged_with_its_time():
    sup = sup_in("treat")
    sup.tick = 12_345
    sup._io_error("history progress not written: locked")
    assert sup.log[-1] == "1.234s history progress not written: locked"
    assert sup.io_errors == ["history progress not written: locked"]


@pytest.mark.req("SRS-053")
def test_a_machine_error_makes_a_supervisor_fault_but_never_replaces_a_first_cause():
    sup = sup_in("treat")
    sup.fault = "short"
    sup.machine.last_error = RuntimeError("listener")
    sup._send("fault")
    assert sup.fault == "short"
    bare = sup_in("treat")
    bare.machine.last_error = RuntimeError("listener")
    bare._send("fault")
    assert bare.fault == "supervisor_error"


@pytest.mark.req("SRS-066")
def test_a_stop_during_the_switch_leaves_it_to_the_ramp_down_at_once():
    dev = _Rewrites(lambda last: SimpleNamespace(**{**vars(last), "output_enabled": False,
                                                     "mean_current_ma": 0.05, "peak_current_ma": 0.2}))
    sup = sup_in("reverse_down", device=dev, reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup.request_stop()
    sup._switch_polarity()
    assert (sup.tick, sup.state, sup.fault) == (0, "polarity_switch", None)


@pytest.mark.req("SRS-257")
def test_the_ramp_stall_check_runs_on_every_ramp_row():
    sup = sup_in("ramp")
    sup._translate(row(reference_ma=0.5))
    sup.tick = 10_000
    sup._translate(row(reference_ma=0.5))
    assert sup.state == "paused"


@pytest.mark.req("SRS-091")
def test_the_drift_window_starts_at_a_time_of_ours_not_of_the_device():
    sup = sup_in("ramp")
    sup._window_drift_ms(1.0, 1.0)
    sup._window_drift_ms(2.0, 2.5)          # the device's clock ahead by 0.5 s at our 2 s
    drift, span = sup._window_drift_ms(12.0, 12.5)
    assert (round(drift, 6), span) == (0.0, 10.0)     # from our 2 s: no drift since


@pytest.mark.req("SRS-071")
def test_the_record_of_a_fault_names_it():
    from tests.core.test_mut_supervisor_units import _History
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    h = _History()
    sup = Supervisor(Spy(), settings(current_ma=10.0, ramp_up_s=10.0, ramp_down_s=10.0), history=h,
                     checklist=PASSED_CHECKLIST,
                     scenario=parse_scenario([{"at_s": 11.0, "event": "short", "ohms": 100}]))
    r = sup.run()
    assert r.fault == "short" and h.calls[-1][2] == "fault" and h.calls[-1][3]["faults"] == ["short"]


@pytest.mark.req("SRS-069")
def test_each_batch_waits_for_the_sessions_time_on_the_clock():
    from core.supervisor import Supervisor
    from tests.core._session_kit import PASSED_CHECKLIST, settings
    waits = []
    clock = SimpleNamespace(start=lambda: None, wait_until=waits.append)
    sup = Supervisor(Spy(), settings(current_ma=5.0, ramp_up_s=10.0, ramp_down_s=10.0), clock=clock,
                     checklist=PASSED_CHECKLIST)
    sup.begin()
    sup.step()
    sup.step()
    assert waits == [0.01, sup.tick / 10_000] and waits[1] > 0.01


@pytest.mark.req("SRS-061", "SRS-090")
def test_translate_pauses_a_loss_in_limited_and_counts_every_cut():
    sup = sup_in("limited")
    sup._translate(row(contact_lost=True))
    assert sup.state == "paused"
    treat = sup_in("treat")
    treat.cuts, treat._cuts_seen = 3, 3
    treat._translate(row(antishock_cuts=4, measured_current_ma=5.0, reference_ma=0.0))
    assert (treat.cuts, treat.state) == (4, "ramp")


@pytest.mark.req("SRS-090")
def test_every_pause_and_density_limit_counts():
    sup = sup_in("paused")
    sup.machine.dispatch("contact_restored")
    sup.machine.dispatch("contact_lost")
    assert sup.pauses == 2
    lim = sup_in("treat")
    lim._density(row(load_estimate_ohms=2000.0, measured_current_ma=5.0))
    lim.density_limits = 2
    lim._density(row(load_estimate_ohms=2300.0, measured_current_ma=5.0))
    assert lim.density_limits == 3


@pytest.mark.req("SRS-065")
def test_a_second_stop_in_the_ramp_down_changes_nothing():
    sup = sup_in("ramp_down")
    sup.end_reason = "time_up"
    n = len(sup.log)
    sup.request_stop()
    sup.step()
    assert sup.tick > 0 and sup.end_reason == "time_up"
    assert not any("stop -> ramp_down" in e for e in sup.log[n:])


@pytest.mark.req("SRS-255")
def test_a_reference_at_the_float_slack_is_at_zero():
    sup = sup_in("ramp_down")
    sup._verify_next_row = False
    sup.last = row(reference_ma=1e-6)
    assert sup._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-053")
def test_a_fault_in_fault_is_not_sent_again_nor_an_event_refused_there():
    sup = sup_in("treat")
    sup._enter_fault("short")
    n = len(sup.log)
    sup._enter_fault("overcurrent_trip")
    assert not any("refused" in e for e in sup.log[n:]) and sup.fault == "short"
    sup._send("stop")
    assert (sup.state, sup.fault) == ("fault", "short")
    assert any("event stop refused in fault" in e for e in sup.log)


@pytest.mark.req("SRS-053")
def test_the_fault_is_watched_for_half_a_second_also_row_by_row():
    sup = sup_in("fault")
    sup.max_rows = 1                                        # paced: one row per batch
    sup._observe_after_fault()
    assert sup.tick == 5_000


@pytest.mark.req("SRS-257")
def test_a_weak_current_at_the_windows_first_row_is_no_stall():
    sup = sup_in("ramp")
    sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.06))
    sup.tick = 10_000
    assert sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.0)) is False
    assert sup.state == "ramp"


@pytest.mark.req("SRS-065", "SRS-074")
def test_limited_batches_end_at_the_set_time_and_a_ramp_at_its_slow_slew_runs_on():
    lim = sup_in("limited")
    lim._verify_next_row = False
    lim.treat_ticks = lim.treat_ticks_set - 250
    assert lim._rows_to_boundary() == (2, 100)
    ramp = sup_in("ramp", current_ma=1.01, ramp_up_s=119.0)
    ramp._verify_next_row = False
    ramp.tick = ramp.slew_fast_ticks
    assert ramp._rows_to_boundary() == (50, 100)


@pytest.mark.req("SRS-090")
def test_the_charge_bound_is_reached_at_equality():
    import math
    sup = sup_in("treat")
    row_mas = sup._row_charge_mas()
    c = sup.charge_bound_mas - row_mas
    while c + 0.0 + row_mas < sup.charge_bound_mas:
        c = math.nextafter(c, math.inf)
    assert c + 0.0 + row_mas == sup.charge_bound_mas
    sup.charge_mas = c
    assert sup._session_bound() is True and sup.end_reason == "charge_bound"


@pytest.mark.req("SRS-066", "SRS-033")
def test_the_switch_runs_the_one_tick_before_an_event():
    sup = sup_in("reverse_down", reverse_polarity=True)
    sup.machine.dispatch("at_zero")
    sup._scenario, sup._next_event = parse_scenario([{"at_s": 0.0001, "event": "contact"}]), 0
    sup._switch_polarity()
    assert sup.tick == 1


@pytest.mark.req("SRS-053")
def test_acknowledging_outside_a_fault_is_refused_as_the_machine_refuses_it():
    from core.machine import TransitionNotAllowed
    sup = sup_in("ramp")
    with pytest.raises(TransitionNotAllowed, match=r"^Can't Acknowledge when in Ramp\.$"):
        sup.acknowledge_fault()
