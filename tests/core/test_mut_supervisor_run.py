"""The supervisor's session loop (core/supervisor.py `begin`, `run`, `step`,
the scenario events, the observers, the fault's aftermath; issue 12 point 2):
what reaches the device and the record, with a spy device and rows built by
hand. Plan: 5 mA, 10 min, ramps 10 s."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.regulator import Polarity
from core.scenario import parse_scenario
from core.supervisor import Supervisor

from tests.core._session_kit import PASSED_CHECKLIST, settings
from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse fixture
from tests.core.test_mut_supervisor_units import HZ, SET_MA, Spy, row, sup_in


def _sup(device=None, scenario=(), history=None, **overrides):
    data = {"current_ma": SET_MA, "ramp_up_s": 10.0, "ramp_down_s": 10.0, **overrides}
    return Supervisor(device or Spy(), settings(**data), checklist=PASSED_CHECKLIST, history=history,
                      scenario=parse_scenario(list(scenario)))


@pytest.mark.req("SRS-230", "SRS-091", "SRS-071")
def test_begin_sets_a_reversed_start_before_the_record_and_takes_the_loop_reference():
    order = []

    class _H:
        def begin_session(self, settings, checklist=None):
            order.append("history")
            return 3
    dev = Spy()
    dev.set_polarity = lambda p: order.append(("polarity", p))
    sup = _sup(dev, history=_H(), reverse_polarity=True, start_polarity="reversed")
    dev._rig.run_rows(3, 100)                       # the loop has ticked before Start
    sup.begin()
    assert order == [("polarity", Polarity.REVERSED), "history"]
    assert (sup.session_id, sup.state) == (3, "ramp")
    assert sup._loop_ticks0 == sup._loop_ticks_prev == int(dev.loop_ticks)
    assert sup._mono0_s == float(dev.simulated_time_s)
    assert sup.machine.states_visited == ["idle", "checklist", "ramp"]
    plain = _sup()
    plain.begin()
    assert [c for c in plain.device.calls if c[0] == "polarity"] == []


@pytest.mark.req("SRS-091")
def test_the_simulated_devices_own_clock_is_the_time_base():
    dev = Spy()
    sup = _sup(dev)
    dev._rig.run_rows(25, 100)
    assert sup._monotonic() == pytest.approx(float(dev.simulated_time_s))
    assert isinstance(sup._monotonic(), float)


@pytest.mark.req("SRS-057")
def test_an_interrupt_inside_the_loop_de_energises_and_propagates():
    class _Ctrl(Spy):
        def advance(self, max_rows, ticks_per_row):
            if self.loop_ticks > 5 * HZ:
                raise KeyboardInterrupt
            return super().advance(max_rows, ticks_per_row)
    sup = _sup(_Ctrl())
    with pytest.raises(KeyboardInterrupt):
        sup.run()
    assert sup.device.calls[-2:] == [("enable", False), ("command", 0.0, 0.5)]


@pytest.mark.req("SRS-033")
def test_scenario_events_act_at_their_tick_and_a_stop_event_is_the_stop_button():
    sup = _sup(scenario=[{"at_s": 0.0, "event": "lift_off"}, {"at_s": 0.0, "event": "stop"}])
    sup.begin()
    assert sup._apply_due_events() is True
    assert sup._stop_requested and sup._next_event == 2
    assert sup.log[-2:] == ["0.000s scenario lift_off", "0.000s scenario stop"]
    assert sup._apply_due_events() is False
    later = _sup(scenario=[{"at_s": 1.0, "event": "load", "ohms": 3000}])
    later.begin()
    later.tick = 10_000 - 1
    assert later._apply_due_events() is False
    later.tick = 10_000
    assert later._apply_due_events() is True
    assert later.log[-1] == "1.000s scenario load {'ohms': 3000.0}"


@pytest.mark.req("SRS-053", "SRS-057")
def test_after_a_fault_the_output_is_kept_off_and_watched_for_half_a_second():
    sup = sup_in("fault")
    sup.tick = 1_000
    sup._observe_after_fault()
    assert sup.tick == 1_000 + 5_000
    assert sup.device.calls[:2] == [("enable", False), ("command", 0.0, 0.5)]

    class _NoRows(Spy):
        def advance(self, max_rows, ticks_per_row):
            return SimpleNamespace(rows_run=0, charge_mas=0.0, max_current_ma=0.0, last=row(), loop_ticks=0)
    none = sup_in("fault", device=_NoRows())
    none._observe_after_fault()
    assert none.log[-1].endswith("the device ran no row in fault") and none.tick == 0

    class _On(Spy):
        def advance(self, max_rows, ticks_per_row):
            b = super().advance(max_rows, ticks_per_row)
            return SimpleNamespace(rows_run=b.rows_run, charge_mas=0.0, max_current_ma=0.0,
                                   last=row(output_enabled=True), loop_ticks=b.loop_ticks)
    on = sup_in("fault", device=_On())
    on._observe_after_fault()
    assert any(e.endswith("output enabled in fault") for e in on.log)


@pytest.mark.req("SRS-071")
def test_progress_is_written_only_with_a_record_and_at_most_every_10_s():
    calls = []

    class _H:
        def begin_session(self, settings, checklist=None):
            return 9

        def update_progress(self, sid, **kw):
            calls.append((sid, kw))
    sup = _sup(history=_H())
    sup.begin()
    sup._next_progress_wall = 0.0
    sup.charge_mas, sup.max_current_ma, sup.treat_ticks = 120.0, 5.1, 20_000
    sup.device.calls.clear()
    sup._record_progress()
    assert calls == [(9, dict(treat_s=2.0, delivered_mamin=2.0, max_current_ma=5.1, faults=[],
                              states=["idle", "checklist", "ramp"], wait_s=0.02))]
    sup._record_progress()                          # within 10 s of wall time: not again
    assert len(calls) == 1
    import time
    assert sup._next_progress_wall == pytest.approx(time.monotonic() + 10.0, abs=1.0)
    sup.fault = "short"
    sup._next_progress_wall = 0.0
    sup._record_progress()
    assert calls[-1][1]["faults"] == ["short"]
    unrecorded = _sup(history=None)
    unrecorded._next_progress_wall = 0.0
    unrecorded._record_progress()
    assert unrecorded._next_progress_wall == 0.0
    no_id = _sup(history=_H())
    no_id._next_progress_wall = 0.0
    no_id._record_progress()                        # begin() not run: no row yet
    assert len(calls) == 2


@pytest.mark.req("SRS-060")
def test_a_step_runs_one_bounded_batch_of_the_state():
    sup = _sup()
    sup.begin()
    sup.step()
    # the ramp's new command is checked after one row
    assert sup.tick == 100 and sup.device.calls[:2] == [("command", 5.0, 0.5), ("enable", True)]
    sup.step()
    assert 100 < sup.tick <= 100 + 5_000            # at most 0.5 s (SRS-252)


@pytest.mark.req("SRS-061", "SRS-092", "SRS-257")
def test_the_states_entry_clocks_restart_on_entry():
    sup = sup_in("treat")
    sup._cut_tick, sup._probe_loss, sup._ref_seen_ma, sup._absent_since_tick = 5, True, 1.0, 7
    sup.tick = 12_345
    sup.machine.dispatch("contact_lost")
    assert (sup.paused_ticks, sup.pauses) == (0, 1)
    assert (sup._cut_tick, sup._probe_loss, sup._ref_seen_ma, sup._absent_since_tick) == (None, False, None, None)
    sup.paused_ticks = 99
    sup.machine.dispatch("contact_restored")
    assert sup._ramp_start_tick == 12_345
    sup.machine.dispatch("stop")
    assert sup._fall_start_tick == 12_345
    keep = sup_in("treat")
    keep._cut_tick, keep._probe_loss = 5, True
    keep.machine.dispatch("density_limit")
    assert (keep._cut_tick, keep._probe_loss) == (5, True)
    rev = sup_in("treat", reverse_polarity=True)
    rev._cut_tick, rev.tick = 5, 777
    rev.machine.dispatch("half_time")
    assert (rev._cut_tick, rev._fall_start_tick) == (5, 777)
    rev._switch_ticks = 50
    rev.machine.dispatch("at_zero")
    assert rev._switch_ticks == 0


@pytest.mark.req("SRS-257")
def test_a_current_shown_in_a_ramp_treat_or_limited_clears_the_quiet_stalls():
    for state in ("ramp", "treat", "limited"):
        sup = sup_in(state)
        sup._quiet_stalls = 1
        sup._translate(row(measured_current_ma=0.1599, reference_ma=0.2))
        assert sup._quiet_stalls == 1, state
        sup._translate(row(measured_current_ma=0.16, reference_ma=0.2))
        assert sup._quiet_stalls == 0, state
    paused = sup_in("paused")
    paused._quiet_stalls = 1
    paused._translate(row(contact_lost=True, measured_current_ma=1.0))
    assert paused._quiet_stalls == 1
