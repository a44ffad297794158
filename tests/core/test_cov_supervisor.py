"""The supervisor's fault, refusal and I/O-error paths (issue 12 point 3):
a device that refuses a command, runs no row, cannot open its disconnect
or refuses the polarity swap; an anti-shock cut during the final ramp-down. Each ends as the
requirement says, with the output off where it must be."""
from __future__ import annotations

import pytest

from core.device import SimulatedDevice
from core.regulator import CommandRejected, FaultLatched, PolarityChangeRefused, RegulatorError
from core.scenario import parse_scenario
from core.supervisor import SWITCH_ATTEMPTS, Supervisor

from tests.core._session_kit import (LIMITS, PASSED_CHECKLIST, REF_EPS_MA, ROW_S, ZERO_MA, RowLog,
                                     run_session, settings, table_violations)

SET_MA = 15.0
TREAT_S = 600.0          # MIN_MINUTES (10 min) of the kit's default settings
RAMP_S = 30.0


def _fault_rows_are_off(rows) -> bool:
    fault = [r for r in rows if r.state == "fault"]
    return bool(fault) and all(not r.r.output_enabled and abs(r.r.mean_current_ma) <= ZERO_MA
                               for r in fault)


# -- an exception that is not the device's: the output is off before it propagates --------
class _Interrupting:
    """Raises KeyboardInterrupt (a BaseException, not caught as an observer failure)."""

    def batch(self, start_tick, state, rowbatch, sup) -> None:
        if state == "treat" and sup.treat_s >= 5.0:
            raise KeyboardInterrupt


@pytest.mark.req("SRS-060")
def test_an_interrupt_inside_the_loop_leaves_the_output_off_and_propagates():
    device = SimulatedDevice(seed=1)
    sup = Supervisor(device, settings(), observers=[_Interrupting()], checklist=PASSED_CHECKLIST)
    with pytest.raises(KeyboardInterrupt):
        sup.run()
    assert sup.state == "treat"    # nothing handled it as a stop: it was propagated
    after = device.advance(1, sup.ticks_per_row).last
    assert not after.output_enabled and after.target_ma == 0.0
    assert abs(after.mean_current_ma) <= SET_MA   # the stage is off; the current decays below
    late = device.advance(20, sup.ticks_per_row).last
    assert abs(late.mean_current_ma) <= ZERO_MA and late.reference_ma == 0.0


# -- loop liveness (SRS-091, SRS-064) -------------------------------------------------------
class _NoRowDevice(SimulatedDevice):
    """From 5 s of treatment on, advance reports no row run (a driver that
    returned early); counts the disconnects."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.sup: Supervisor | None = None
        self.disconnects = 0

    def advance(self, max_rows, ticks_per_row):
        batch = super().advance(max_rows, ticks_per_row)
        if self.sup is not None and self.sup.state == "treat" and self.sup.treat_s >= 5.0:
            batch.rows_run = 0
        return batch

    def disconnect_output(self) -> None:
        self.disconnects += 1
        super().disconnect_output()


@pytest.mark.req("SRS-091")
def test_a_device_that_runs_no_row_latches_loop_stalled_and_opens_the_disconnect():
    device = _NoRowDevice()
    result, _, _ = run_session(device=device)
    assert result.outcome == "fault" and result.fault == "loop_stalled"
    assert any(e.endswith("loop_stalled: the device returned without running a row; "
                          "output disconnected") for e in result.events)
    assert device.disconnects == 1


class _DisconnectFails(SimulatedDevice):
    def disconnect_output(self) -> None:
        raise OSError(5, "Input/output error")


@pytest.mark.req("SRS-091", "SRS-064")
def test_a_failing_disconnect_is_logged_and_the_stalled_loop_still_latches_a_fault():
    result, rows, _ = run_session([{"at_s": 40.0, "event": "ticks_stop"}], device=_DisconnectFails(seed=1))
    assert result.outcome == "fault" and result.fault == "loop_stalled"
    stalled = next(i for i, e in enumerate(result.events) if "loop_stalled: regulator ticks advanced 0" in e)
    assert "output disconnect failed: [Errno 5] Input/output error" in result.events[stalled + 1]
    # seen within the 0.5 s liveness batch (SRS-252)
    assert float(result.events[stalled].split("s ")[0]) <= 40.0 + 0.5 + 1e-9


# -- a command the device refuses (SRS-060) ----------------------------------------------------
class _RefusesTheFirstRamp(SimulatedDevice):
    """Refuses the first non-zero target, as a regulator with a latched fault would."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.refused = 0

    def command(self, target_ma, slew_ma_per_s) -> None:
        if target_ma > 0 and not self.refused:
            self.refused += 1
            raise FaultLatched(-4, "output cannot be enabled: fault latched (test)")
        super().command(target_ma, slew_ma_per_s)


@pytest.mark.req("SRS-060")
def test_a_refused_command_enters_fault_and_energises_nothing():
    device = _RefusesTheFirstRamp()
    result, rows, _ = run_session(device=device)
    assert device.refused == 1
    assert result.outcome == "fault" and result.fault == "supervisor_error"
    assert result.states == ["idle", "checklist", "ramp", "fault"]
    assert any("command refused in ramp: output cannot be enabled: fault latched (test)" in e
               for e in result.events)
    assert result.max_current_ma <= ZERO_MA and result.delivered_mamin == 0.0
    assert _fault_rows_are_off(rows)


# -- an anti-shock cut during the final ramp-down (SRS-054, SRS-063) --------------------------
@pytest.mark.req("SRS-054", "SRS-063")
def test_an_anti_shock_cut_in_the_ramp_down_does_not_ramp_up_again():
    cut_at_s = TREAT_S + RAMP_S + 15.0      # half-way down, at about 7.5 mA
    result, rows, sup = run_session([{"at_s": cut_at_s, "event": "load", "ohms": 1000.0}])
    assert sup.last.antishock_cuts == 1          # the regulator cut once
    assert result.antishock_cuts == 0            # not a session cut: no re-ramp (SRS-090 counts those)
    assert result.outcome == "completed" and result.states[-3:] == ["treat", "ramp_down", "idle"]
    down = [r for r in rows if r.state == "ramp_down"]
    refs = [r.r.reference_ma for r in down]
    assert all(b <= a + REF_EPS_MA for a, b in zip(refs, refs[1:]))
    assert abs(down[-1].r.mean_current_ma) <= ZERO_MA
    assert table_violations(rows, SET_MA) == []


# -- the half-time polarity swap refused (SRS-066, SRS-058) ------------------------------------
class _RefusesSwap(SimulatedDevice):
    def __init__(self, refusals: int) -> None:
        super().__init__(seed=1)
        self.refusals, self.attempts = refusals, 0

    def set_polarity(self, polarity) -> None:
        self.attempts += 1
        if self.attempts <= self.refusals:
            raise PolarityChangeRefused(-5, "polarity change refused: |I| >= 0.1 mA (test)")
        super().set_polarity(polarity)


def _switch_start_s() -> float:
    _, rows, _ = run_session(reverse_polarity=True)
    return next(r.t_s for r in rows if r.state == "polarity_switch") - ROW_S


@pytest.mark.req("SRS-066", "SRS-058")
def test_a_refused_swap_is_retried_row_by_row_with_the_output_off():
    switch_s = _switch_start_s()
    event_s = round(switch_s + 2.5 * ROW_S, 4)   # mid-row: the row ends there, the event fires
    device = _RefusesSwap(refusals=3)
    result, rows, _ = run_session([{"at_s": event_s, "event": "contact"}], device=device,
                                  reverse_polarity=True)
    assert device.attempts == 4
    assert result.outcome == "completed" and result.polarity_switches == 1
    assert sum("polarity change refused" in e for e in result.events) == 3
    assert any(e.startswith(f"{event_s:.3f}s scenario contact") for e in result.events)
    switch = [r for r in rows if r.state == "polarity_switch"]
    assert all(not r.r.output_enabled and r.r.reference_ma <= REF_EPS_MA for r in switch)
    assert table_violations(rows, SET_MA) == []


@pytest.mark.req("SRS-066", "SRS-058")
def test_a_swap_never_accepted_ends_in_fault_after_200_ms_never_swapped():
    device = _RefusesSwap(refusals=10**6)
    result, rows, _ = run_session(device=device, reverse_polarity=True)
    assert result.outcome == "fault" and result.fault == "supervisor_error"
    assert result.polarity_switches == 0
    assert device.attempts == SWITCH_ATTEMPTS
    assert any("current did not settle for the polarity switch" in e for e in result.events)
    switch = [r for r in rows if r.state == "polarity_switch"]
    assert len(switch) == SWITCH_ATTEMPTS
    assert all(not r.r.output_enabled and abs(r.r.mean_current_ma) <= ZERO_MA for r in switch)
    assert _fault_rows_are_off(rows)


# -- density: a refused cut, pause or search (SRS-141, SRS-092) ----------------------------
class _RefusesSearch(SimulatedDevice):
    """search_contact refused at its n-th call."""

    def __init__(self, nth: int) -> None:
        super().__init__(seed=1)
        self.nth, self.calls = nth, 0

    def search_contact(self) -> None:
        self.calls += 1
        if self.calls == self.nth:
            raise RegulatorError(-3, "sense level refused (test)")
        super().search_contact()


FINGERTIPS = [{"at_s": 120.0, "event": "load", "ohms": 15000.0, "over_s": 1.0}]


@pytest.mark.req("SRS-092")
def test_a_refused_density_pause_enters_fault():
    result, rows, _ = run_session(FINGERTIPS, device=_RefusesSearch(nth=1), current_ma=10.0)
    assert result.outcome == "fault" and result.fault == "supervisor_error"
    # 15 kOhm is 7.4x the baseline: past the pause bound (3x), from limited
    assert any("command refused in limited: sense level refused (test)" in e for e in result.events)
    assert result.density_pauses == 1 and result.states[-2:] == ["limited", "fault"]
    assert _fault_rows_are_off(rows)


@pytest.mark.req("SRS-092")
def test_a_refused_contact_search_while_paused_for_the_area_enters_fault():
    result, rows, _ = run_session(FINGERTIPS, device=_RefusesSearch(nth=2), current_ma=10.0)
    assert result.outcome == "fault" and result.fault == "supervisor_error"
    assert result.states[-2:] == ["paused", "fault"]
    assert any("contact search refused in paused: sense level refused (test)" in e
               for e in result.events)
    assert _fault_rows_are_off(rows)


class _RefusesTheCut(SimulatedDevice):
    """enable_output(False) refused once, after 60 s: the density cut's first step."""

    def __init__(self) -> None:
        super().__init__(seed=1, load_ohms=2000.0)
        self.sup: Supervisor | None = None
        self.refused = 0

    def enable_output(self, on) -> None:
        if on is False and not self.refused and self.sup is not None and self.sup.elapsed_s > 60.0:
            self.refused += 1
            raise CommandRejected(-2, "enable refused (test)")
        super().enable_output(on)


@pytest.mark.req("SRS-141")
def test_a_refused_density_cut_enters_fault_and_the_output_is_off():
    # underarms 5 mA, 2 -> 5.8 kOhm in 0.1 ms: the density needs the cut (SRS-141)
    device = _RefusesTheCut()
    result, rows, sup = run_session([{"at_s": 60.0, "event": "load", "ohms": 5800.0, "over_s": 0.0001}],
                                    device=device, site="underarms", current_ma=5.0,
                                    ramp_up_s=10.0, ramp_down_s=10.0)
    assert device.refused == 1 and sup.density_cuts == 0
    assert result.outcome == "fault" and result.fault == "supervisor_error"
    assert any("density cut refused in treat: enable refused (test)" in e for e in result.events)
    assert _fault_rows_are_off(rows)
