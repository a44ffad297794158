"""The supervisor's checks one method at a time (core/supervisor.py; issue 12
point 2, its fast mutation list), with rows built by hand at the boundaries
the requirements state: the loop checks of SRS-091, the session bounds of
SRS-090, the batch ends of SRS-252/092, the output table's commands of
SRS-060/074/092, the open-circuit check of SRS-256, the stall checks of
SRS-254/257, the cut's contact check of SRS-061, the density excess of
SRS-141, the outcome and the history records of SRS-071/081/090.
Plan: 5 mA, 10 min, ramps 10 s; a tick is 100 us, a row 100 ticks."""
from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from core.device import SimulatedDevice
from core.regulator import FaultCode, Polarity, RegulatorError
from core.supervisor import DENSITY_CHECK_S, Supervisor

from tests.core._session_kit import PASSED_CHECKLIST, settings

HZ = 10_000
SET_MA = 5.0


class Spy(SimulatedDevice):
    """The simulated device, recording the supervisor's commands; `refuse`
    names the commands that raise RegulatorError."""

    def __init__(self, refuse=()):
        super().__init__(seed=1)
        self.calls: list[tuple] = []
        self.refuse = set(refuse)

    def advance(self, max_rows, ticks_per_row):
        # a session of these tests needs a few hundred batches: a supervisor
        # that never ends fails at once instead of looping
        self.batches = getattr(self, "batches", 0) + 1
        assert self.batches <= 3000, "the session does not end"
        return super().advance(max_rows, ticks_per_row)

    def _call(self, name, *args):
        self.calls.append((name, *args))
        if name in self.refuse:
            raise RegulatorError(-3, f"{name} refused")

    def command(self, target_ma, slew):
        self._call("command", round(target_ma, 6), round(slew, 6))
        super().command(target_ma, slew)

    def enable_output(self, on):
        self._call("enable", on)
        super().enable_output(on)

    def search_contact(self):
        self._call("search")
        super().search_contact()

    def set_polarity(self, polarity):
        self._call("polarity", polarity)
        super().set_polarity(polarity)

    def reset_fault(self):
        self._call("reset")
        super().reset_fault()

    def disconnect_output(self):
        self._call("disconnect")
        super().disconnect_output()


@pytest.fixture(autouse=True)
def _ends_within_10_s():
    """A supervisor that never ends (a loop that runs no batch) fails the test
    after 10 s of wall time instead of hanging: every test here takes under 1 s."""
    def _hung(signum, frame):
        raise TimeoutError("the test ran over 10 s: the session does not end")
    old = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 10.0)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0.0)
    signal.signal(signal.SIGALRM, old)


def sup_in(state: str = "ramp", device=None, monotonic=None, **overrides) -> Supervisor:
    data = {"current_ma": SET_MA, "ramp_up_s": 10.0, "ramp_down_s": 10.0, **overrides}
    sup = Supervisor(device or Spy(), settings(**data), checklist=PASSED_CHECKLIST, monotonic=monotonic)
    sup.begin()
    sup._enforce()                      # the ramp's command: the output on
    path = {"ramp": [], "treat": ["ramp_complete"], "limited": ["ramp_complete", "density_limit"],
            "paused": ["contact_lost"], "ramp_down": ["stop"], "fault": ["fault"],
            "reverse_down": ["ramp_complete", "half_time"]}[state]
    for ev in path:
        sup.machine.dispatch(ev)
    assert sup.state == state
    if isinstance(sup.device, Spy):
        sup.device.calls.clear()
    return sup


def row(**kw):
    r = dict(fault=FaultCode.NONE, contact_lost=False, measured_current_ma=0.0, reference_ma=0.0,
             target_ma=0.0, antishock_cuts=0, load_estimate_ohms=float("inf"), compliance_limited=False,
             mean_current_ma=0.0, peak_current_ma=0.0, output_enabled=True, voltage_v=0.0)
    r.update(kw)
    return SimpleNamespace(**r)


# ---- the loop checks (SRS-091) ---------------------------------------------------

def _loop(advanced: int, ran: int, mono_s: float | None = None):
    now = [0.0]
    sup = sup_in(monotonic=lambda: now[0])
    sup._mono_at_batch_s = advanced / HZ if mono_s is None else mono_s
    hit = sup._check_loop(SimpleNamespace(loop_ticks=advanced), rows_run_ticks=ran)
    return hit, sup


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("advanced,ran,fault", [
    (5000, 5000, None), (4900, 5000, None), (5100, 5000, None),          # within 2 %
    (4899, 5000, "clock_drift"), (5101, 5000, "clock_drift"),            # 101 ticks off
    (2501, 5000, "clock_drift"), (2500, 5000, "loop_stalled"), (0, 5000, "loop_stalled"),
    (98, 100, None), (102, 100, None), (97, 100, "clock_drift"), (103, 100, "clock_drift"),
    (50, 100, "loop_stalled"), (51, 100, "clock_drift"),
    (9, 10, None), (11, 10, None), (8, 10, "clock_drift"), (12, 10, "clock_drift"),   # at least 1 tick
    (5, 10, "loop_stalled"),
])
def test_the_ticks_run_must_match_the_rows_within_2_percent_and_at_least_a_tick(advanced, ran, fault):
    hit, sup = _loop(advanced, ran, mono_s=ran / HZ)
    assert hit is (fault is not None) and sup.fault == fault
    if fault:
        assert sup.state == "fault" and ("disconnect",) in sup.device.calls
        assert any(f"{fault}: regulator ticks advanced {advanced} in {ran}; output disconnected" in e
                   for e in sup.log)
    else:
        assert sup.state == "ramp" and ("disconnect",) not in sup.device.calls
    assert sup._loop_ticks_prev == advanced


@pytest.mark.req("SRS-091")
def test_a_batch_with_no_row_run_is_a_stalled_loop():
    hit, sup = _loop(0, 0, mono_s=0.0)
    assert hit and sup.fault == "loop_stalled"
    assert any("loop_stalled: the device returned without running a row; output disconnected" in e
               for e in sup.log)


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("mono_s,fault", [(0.4801, None), (0.5199, None), (0.4799, "clock_drift"),
                                          (0.5201, "clock_drift")])
def test_the_device_clock_agrees_with_ours_within_20_ms(mono_s, fault):
    hit, sup = _loop(5000, 5000, mono_s=mono_s)
    assert sup.fault == fault
    if fault:
        drift = (0.5 - mono_s) * 1000
        assert any(f"device clock 0.500 s, supervisor's monotonic clock {mono_s:.3f} s: {drift:+.1f} ms "
                   f"over the last {mono_s:.1f} s (bound 20.0 ms)" in e for e in sup.log)


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("mono_s,fault", [(19.961, None), (19.959, "clock_drift")])
def test_over_a_batch_longer_than_the_window_the_bound_scales_with_the_span(mono_s, fault):
    # 20 s in one batch: 2000 ppm of it is 40 ms (the bound 20 ms x 20 s / 10 s)
    hit, sup = _loop(200_000, 200_000, mono_s=mono_s)
    assert sup.fault == fault


@pytest.mark.req("SRS-091")
def test_the_drift_is_measured_over_the_last_10_s_only():
    sup = sup_in()
    # 12 s: the clocks agree for 2 s, then the device 15 ms ahead over the last 10 s
    assert sup._window_drift_ms(1.0, 1.0) == (0.0, 1.0)
    assert sup._window_drift_ms(2.0, 2.0) == (0.0, 2.0)
    drift, span = sup._window_drift_ms(12.0, 12.015)
    assert (round(drift, 6), span) == (15.0, 10.0)          # from the sample at 2 s
    assert list(sup._clock_samples) == [(2.0, 2.0), (12.0, 12.015)]
    drift, span = sup._window_drift_ms(12.5, 12.5)          # the sample at 2 s stays the reference
    assert (round(drift, 6), span) == (0.0, 10.5)


# ---- the session bounds (SRS-090) -------------------------------------------------

@pytest.mark.req("SRS-090")
@pytest.mark.parametrize("field,below,at,reason", [
    ("cuts", 10, 11, "cuts_bound"), ("pauses", 10, 11, "pauses_bound"),
    ("tick", 12_200_000 - 1, 12_200_000, "length_bound"),          # 600 s + the ramps 20 s + 600 s
    ("ramp_ticks", 12 * 100_000 - 1, 12 * 100_000, "ramp_time_bound"),          # 12 ramps of 10 s
])
def test_each_bound_ends_the_session_with_a_ramp_down_naming_it(field, below, at, reason):
    sup = sup_in("treat")
    setattr(sup, field, below)
    assert sup._session_bound() is False and sup.state == "treat"
    setattr(sup, field, at)
    assert sup._session_bound() is True
    assert (sup.state, sup.end_reason) == ("ramp_down", reason)
    assert sup.result().outcome == "interrupted" and sup.result().end_reason == reason
    assert any(f"session bound {reason}: delivered" in e for e in sup.log)


@pytest.mark.req("SRS-090")
def test_the_charge_bound_counts_the_ramp_down_and_one_more_row():
    sup = sup_in("treat")
    bound = 5.0 * (600 + 10) * 1.1                # 5 mA x (600 s + half of each ramp) + 10 %
    assert sup.charge_bound_mas == pytest.approx(bound)
    assert sup._row_charge_mas() == pytest.approx(0.05)       # 5 mA for 10 ms
    sup.last = row(reference_ma=4.0)
    assert sup._ramp_down_charge_mas() == pytest.approx(16.0)  # 4 mA falling at 0.5 mA/s: 8 s x 2 mA
    sup.charge_mas = bound - 16.0 - 0.05 - 0.001
    assert sup._session_bound() is False
    sup.charge_mas = bound - 16.0 - 0.05 + 1e-9
    assert sup._session_bound() is True and sup.end_reason == "charge_bound"
    assert any(f"(bound {bound / 60:.2f})" in e for e in sup.log)


@pytest.mark.req("SRS-090")
@pytest.mark.parametrize("state", ["ramp_down", "fault", "idle"])
def test_no_bound_is_checked_once_the_session_ends(state):
    sup = sup_in("ramp_down" if state == "idle" else state)
    if state == "idle":
        sup.machine.dispatch("at_zero")
    sup.cuts = sup.pauses = 99
    assert sup._session_bound() is False and sup.state == state


@pytest.mark.req("SRS-090")
def test_batches_stop_before_the_charge_bound_is_in_reach():
    sup = sup_in("treat")
    # left / (1.1 x 5 mA) in ticks, less one row
    assert sup._ticks_to_charge_bound() == int(sup.charge_bound_mas / 5.5 * HZ) - 100
    sup.charge_mas = sup.charge_bound_mas - 0.01
    assert sup._ticks_to_charge_bound() == 1
    sup.charge_mas = 100.0
    sup.last = row(reference_ma=2.0)                        # 4 mA*s still in the ramp-down
    assert sup._ticks_to_charge_bound() == int((sup.charge_bound_mas - 104.0) / 5.5 * HZ) - 100


# ---- where batches end (SRS-252, SRS-092, SRS-074) ---------------------------------

@pytest.mark.req("SRS-252", "SRS-092")
def test_batches_end_every_half_second_and_at_each_boundary():
    sup = sup_in("treat")
    sup._verify_next_row = False
    assert sup._rows_to_boundary() == (50, 100)             # 0.5 s
    sup._verify_next_row = True
    assert sup._rows_to_boundary() == (1, 100) and sup._verify_next_row is False
    sup.treat_ticks = sup.treat_ticks_set - 250
    assert sup._rows_to_boundary() == (2, 100)
    sup.treat_ticks = sup.treat_ticks_set - 42
    assert sup._rows_to_boundary() == (1, 42)
    sup.treat_ticks = sup.treat_ticks_set
    assert sup._rows_to_boundary() == (1, 1)                # never an empty batch
    sup.tick = sup.length_bound_ticks - 300
    sup.treat_ticks = 0
    assert sup._rows_to_boundary() == (3, 100)


@pytest.mark.req("SRS-066")
def test_a_batch_ends_at_half_time_with_the_reversal():
    sup = sup_in("treat", reverse_polarity=True)
    sup._verify_next_row = False
    sup.treat_ticks = sup.half_ticks - 300
    assert sup._rows_to_boundary() == (3, 100)
    sup.treat_ticks = sup.half_ticks
    assert sup._rows_to_boundary() == (50, 100)
    plain = sup_in("treat")
    plain._verify_next_row = False
    plain.treat_ticks = plain.half_ticks - 300
    assert plain._rows_to_boundary() == (50, 100)


@pytest.mark.req("SRS-062", "SRS-065", "SRS-074", "SRS-255")
def test_batches_end_at_the_contact_timeout_the_ramp_deadlines_and_the_fall_deadline():
    paused = sup_in("paused")
    paused._verify_next_row = False
    paused.paused_ticks = paused.contact_timeout_ticks - 700
    assert paused._rows_to_boundary() == (7, 100)
    ramp = sup_in("ramp", current_ma=1.01, ramp_up_s=119.0)   # two slews: 0.009 then 0.008 mA/s
    ramp._verify_next_row = False
    assert ramp.slew_fast_ticks == 580_000
    ramp.tick = 580_000 - 400
    assert ramp._rows_to_boundary() == (4, 100)            # the slew changes there
    ramp.tick = ramp.ramp_limit_ticks - 600                # 124 s: the overrun deadline
    assert ramp._rows_to_boundary() == (6, 100)
    ramp.tick = 700_000
    ramp.ramp_ticks = ramp.ramp_bound_ticks - 800
    assert ramp._rows_to_boundary() == (8, 100)
    ramp.ramp_ticks = 0
    ramp._r_base = 2000.0                                  # the pause bound checked in ramp too
    assert ramp._rows_to_boundary() == (50, 100)
    fall = sup_in("ramp_down")
    fall._verify_next_row = False
    fall.last = row(reference_ma=1.0)
    fall.tick = fall._fall_start_tick + fall.fall_limit_ticks - 900
    assert fall._rows_to_boundary() == (9, 100)
    fall.tick = 0
    assert fall._rows_to_boundary() == (50, 100)
    fall.last = row(reference_ma=0.0)                      # at zero: row by row until |I| settles
    assert fall._rows_to_boundary() == (1, 100)


@pytest.mark.req("SRS-033")
def test_a_batch_ends_at_the_next_scenario_event():
    from core.scenario import parse_scenario
    sup = Supervisor(Spy(), settings(current_ma=SET_MA, ramp_up_s=10.0, ramp_down_s=10.0),
                     checklist=PASSED_CHECKLIST,
                     scenario=parse_scenario([{"at_s": 0.0042, "event": "lift_off"}]))
    sup.begin()
    sup._verify_next_row = False
    assert sup._ticks_to_next_event() == 42
    assert sup._rows_to_boundary() == (1, 42)
    sup._next_event = 1
    assert sup._ticks_to_next_event() == 1 << 62


# ---- the commands of the output table (SRS-060, SRS-074, SRS-092) ------------------

@pytest.mark.req("SRS-060", "SRS-074")
def test_each_state_commands_what_its_table_entry_allows():
    ramp = sup_in("ramp")
    ramp._commanded = None
    ramp._enforce()
    assert ramp.device.calls == [("command", 5.0, 0.5), ("enable", True)]
    ramp._enforce()                                        # unchanged: no new command
    assert len(ramp.device.calls) == 2 and ramp._verify_next_row
    for state, want in (("paused", [("command", 0.0, 0.5)]), ("ramp_down", [("command", 0.0, 0.5)]),
                        ("fault", [("enable", False), ("command", 0.0, 0.5)])):
        sup = sup_in("ramp")
        sup._enforce()
        sup.machine.dispatch({"paused": "contact_lost", "ramp_down": "stop", "fault": "fault"}[state])
        sup.device.calls.clear()
        sup._enforce()
        assert sup.device.calls == want, state


@pytest.mark.req("SRS-074")
def test_the_ramp_changes_to_its_slow_slew_at_its_tick():
    sup = sup_in("ramp", current_ma=1.01, ramp_up_s=119.0)
    assert sup._rising_slew() == pytest.approx(0.009)
    sup.tick = 580_000 - 1
    assert sup._rising_slew() == pytest.approx(0.009)
    sup.tick = 580_000
    assert sup._rising_slew() == pytest.approx(0.008)
    sup.machine.dispatch("ramp_complete")
    assert sup._rising_slew() == pytest.approx(0.009)


@pytest.mark.req("SRS-092", "SRS-141")
def test_limited_lowers_at_the_fastest_slew_and_rises_under_the_ramp_slew():
    sup = sup_in("limited")
    sup.density_target_ma = 3.0
    sup.last = row(reference_ma=4.0)
    sup.device.calls.clear()
    sup._enforce()
    assert sup.device.calls == [("command", 3.0, 5.0), ("enable", True)]    # down at 5 mA/s
    sup.last = row(reference_ma=2.0)
    sup._enforce()                                         # the same target keeps its slew
    assert len(sup.device.calls) == 2
    sup.density_target_ma = 3.5
    sup._enforce()
    assert sup.device.calls[2:] == [("command", 3.5, 0.5), ("enable", True)]   # up at the ramp's
    sup._commanded = None
    sup.last = row(reference_ma=3.5 + 1e-7)                # at the target within the float slack
    sup._enforce()
    assert sup.device.calls[-2] == ("command", 3.5, 0.5)


@pytest.mark.req("SRS-060")
def test_a_refused_command_is_a_supervisor_fault():
    sup = sup_in("ramp")
    sup.device.refuse, sup._commanded = {"command"}, None
    sup._enforce()
    assert (sup.state, sup.fault) == ("fault", "supervisor_error")
    assert any("command refused in ramp: " in e for e in sup.log)


# ---- the open-circuit check of the supervisor (SRS-256) ---------------------------

@pytest.mark.req("SRS-256")
def test_a_reading_below_a_quarter_of_the_reference_for_half_a_second_pauses():
    sup = sup_in("treat")
    absent = row(reference_ma=1.0, measured_current_ma=0.249)
    sup.tick = 100_000
    assert sup._current_absent(absent) is False and sup._absent_since_tick == 100_000
    sup.tick = 104_999
    assert sup._current_absent(absent) is False
    sup.tick = 105_000
    sup.device.calls.clear()
    assert sup._current_absent(absent) is True
    assert sup.state == "paused" and sup.device.calls[:2] == [("command", 0.0, 0.5), ("search",)]
    assert any("reading 0.249 mA at a reference of 1.000 mA for 0.5 s in treat: no current flows, "
               "contact search" in e for e in sup.log)


@pytest.mark.req("SRS-256")
@pytest.mark.parametrize("kw", [dict(reference_ma=0.1999, measured_current_ma=0.0),
                                dict(reference_ma=1.0, measured_current_ma=0.25),
                                dict(reference_ma=1.0, compliance_limited=True),
                                dict(reference_ma=1.0, contact_lost=True)])
def test_no_open_check_below_0_2_mA_at_a_quarter_compliance_limited_or_a_reported_loss(kw):
    sup = sup_in("treat")
    sup._absent_since_tick = 0
    sup.tick = 200_000
    assert sup._current_absent(row(**kw)) is False and sup._absent_since_tick is None
    low = sup_in("treat")
    low.tick = 50_000
    low._current_absent(row(reference_ma=0.2, measured_current_ma=0.0))
    assert low._absent_since_tick == 50_000


# ---- the open circuit at compliance (SRS-315) ------------------------------------------

OPEN_AT_COMPLIANCE = dict(compliance_limited=True, measured_current_ma=1.0, reference_ma=5.0)


@pytest.mark.req("SRS-315")
@pytest.mark.parametrize("state", ["ramp", "treat", "limited", "reverse_down", "ramp_down"])
def test_an_open_circuit_at_compliance_for_half_a_second_opens_the_disconnect(state):
    """At every batch end compliance limited, a reading of 1.0 mA (the bound:
    60 kOhm at 60 V, either sign), no contact loss: 0.5 s after the first such
    batch end (5000 ticks) the disconnect opens and the session ends in the
    fault open_circuit_unreported; one tick earlier nothing happens."""
    sup = sup_in(state, reverse_polarity=state == "reverse_down")
    sup.tick = 300_000
    assert sup._open_at_compliance(row(**OPEN_AT_COMPLIANCE)) is False
    assert sup._open_held_since_tick == 300_000
    sup.tick = 304_999
    assert sup._open_at_compliance(row(**{**OPEN_AT_COMPLIANCE, "measured_current_ma": -1.0})) is False
    assert sup.device.calls == [] and sup.state == state
    sup.tick = 305_000
    assert sup._open_at_compliance(row(**OPEN_AT_COMPLIANCE)) is True
    assert sup.device.calls[0] == ("disconnect",)
    assert sup.state == "fault" and sup.fault == "open_circuit_unreported"
    assert any(f"compliance limited with a reading of 1.000 mA and no contact loss reported for 0.5 s in "
               f"{state}: an open circuit (or a contact above 60 kOhm) the regulator did not report; "
               "output disconnected" in e
               for e in sup.log)


@pytest.mark.req("SRS-315")
@pytest.mark.parametrize("kw", [dict(compliance_limited=False), dict(measured_current_ma=1.0001),
                                dict(measured_current_ma=-1.0001), dict(contact_lost=True),
                                dict(output_enabled=False)])
def test_no_open_check_at_compliance_with_current_a_reported_loss_or_the_output_off(kw):
    """Each condition alone broken: no fault, and the window restarts."""
    sup = sup_in("treat")
    sup._open_held_since_tick = 0
    sup.tick = 900_000
    assert sup._open_at_compliance(row(**{**OPEN_AT_COMPLIANCE, **kw})) is False
    assert sup._open_held_since_tick is None and sup.state == "treat" and sup.device.calls == []


@pytest.mark.req("SRS-315")
@pytest.mark.parametrize("state", ["paused", "fault"])
def test_no_open_check_at_compliance_where_the_output_does_not_drive(state):
    sup = sup_in(state)
    sup._open_held_since_tick = 0
    sup.tick = 900_000
    assert sup._open_at_compliance(row(**OPEN_AT_COMPLIANCE)) is False
    assert sup._open_held_since_tick is None and sup.device.calls == []


@pytest.mark.req("SRS-315")
@pytest.mark.parametrize("polarity_reversed", [False, True])
@pytest.mark.parametrize("state", ["ramp", "treat", "limited", "reverse_down", "ramp_down"])
def test_every_batch_end_of_a_driving_state_runs_the_open_check(state, polarity_reversed):
    """The check is wired into the translation of every batch end of each
    driving state (either polarity: the reading's magnitude): the same batch
    end twice, 0.5 s apart, opens the disconnect and ends in the fault."""
    sup = sup_in(state, reverse_polarity=state == "reverse_down")
    last = row(**{**OPEN_AT_COMPLIANCE, "measured_current_ma": -0.5 if polarity_reversed else 0.5,
                  "target_ma": sup.plan.current_ma, "reference_ma": 1.0})   # a ramp not yet complete
    sup.tick += 100                     # a row into the state: no ramp or fall bound near
    sup._translate(last)
    assert sup.state == state
    sup.tick += 5_000
    sup._translate(last)
    assert sup.state == "fault" and sup.fault == "open_circuit_unreported"
    assert ("disconnect",) in sup.device.calls


class DetectorBroken(Spy):
    """The simulated device whose regulator never reports the open circuit
    it holds at compliance: from the 2nd s of treat every batch ends
    compliance limited with a reading of 0 and no contact loss."""

    def __init__(self):
        super().__init__()
        self.sup = None
        self.first_open_tick = None

    def advance(self, max_rows, ticks_per_row):
        batch = super().advance(max_rows, ticks_per_row)
        sup = self.sup
        end_tick = sup.tick + batch.rows_run * ticks_per_row
        if sup.state == "treat" and end_tick >= self.treat_from + 2 * HZ:
            self.first_open_tick = self.first_open_tick or end_tick
            batch.last = row(**{**OPEN_AT_COMPLIANCE, "measured_current_ma": 0.0}, target_ma=SET_MA)
        elif sup.state == "ramp":
            self.treat_from = end_tick
        return batch


@pytest.mark.req("SRS-315")
def test_the_open_check_at_compliance_runs_on_every_batch_end_of_a_session():
    """Wired into the session: the device above ends the session in
    open_circuit_unreported, the disconnect opened at most 0.5 s plus one
    batch of treat (DENSITY_CHECK_S) after the first such batch end."""
    dev = DetectorBroken()
    sup = Supervisor(dev, settings(current_ma=SET_MA, ramp_up_s=10.0, ramp_down_s=10.0),
                     checklist=PASSED_CHECKLIST)
    dev.sup = sup
    result = sup.run()
    assert result.outcome == "fault" and result.fault == "open_circuit_unreported"
    assert ("disconnect",) in dev.calls
    line = next(e for e in sup.log if "the regulator did not report; output disconnected" in e)
    fault_s = float(line.split("s ", 1)[0])
    assert 0.5 <= fault_s - dev.first_open_tick / HZ <= 0.5 + DENSITY_CHECK_S


# ---- the stall checks (SRS-254, SRS-257) ---------------------------------------------

@pytest.mark.req("SRS-254", "SRS-257")
def test_a_reference_that_rose_less_than_a_quarter_of_its_slew_over_the_window_stalled():
    sup = sup_in("ramp")
    assert sup._reference_stalled(row(reference_ma=1.0), 5.0, 0.5, 1.0) is None   # the window starts
    sup.tick = 9_999
    assert sup._reference_stalled(row(reference_ma=1.0), 5.0, 0.5, 1.0) is None   # under 1 s
    sup.tick = 10_000
    stall = sup._reference_stalled(row(reference_ma=1.1249), 5.0, 0.5, 1.0)
    assert stall == (pytest.approx(0.1249), 1.0)                                # < 0.25 x 0.5 mA/s x 1 s
    moved = sup_in("ramp")
    moved._reference_stalled(row(reference_ma=1.0), 5.0, 0.5, 1.0)
    moved.tick = 10_000
    assert moved._reference_stalled(row(reference_ma=1.125), 5.0, 0.5, 1.0) is None
    assert (moved._ref_seen_ma, moved._ref_moved_tick) == (1.125, 10_000)       # a new window
    # at the target, or fallen: a new window
    for ref in (5.0 - 1e-7, 0.9):
        s = sup_in("ramp")
        s._reference_stalled(row(reference_ma=1.0), 5.0, 0.5, 1.0)
        s.tick = 20_000
        assert s._reference_stalled(row(reference_ma=ref), 5.0, 0.5, 1.0) is None
        assert s._ref_moved_tick == 20_000


def _stalled_ramp(quiet=0, weak=False):
    sup = sup_in("ramp")
    sup._quiet_stalls = quiet
    sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.0))
    if weak:
        sup.tick = 5_000
        sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.0501))
    return sup


@pytest.mark.req("SRS-257")
def test_a_ramp_stall_of_a_second_pauses_with_the_contact_search():
    sup = _stalled_ramp()
    sup.tick = 10_000
    sup.device.calls.clear()
    assert sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.05)) is True
    assert sup.state == "paused" and sup._stall_pause_tick == 10_000 and sup._stall_saw_open is False
    assert sup.device.calls[:2] == [("command", 0.0, 0.5), ("search",)]
    assert any("ramp reference at 0.5000 mA rose 0 uA in 1.00 s, reading 0.050 mA: no current shows" in e
               for e in sup.log)


@pytest.mark.req("SRS-257")
def test_a_weak_current_or_a_shown_one_is_no_ramp_stall():
    sup = _stalled_ramp(weak=True)
    sup.tick = 10_000
    assert sup._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.0)) is False
    assert sup.state == "ramp" and sup._ref_moved_tick == 10_000
    shown = _stalled_ramp()
    shown.tick = 10_000
    assert shown._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.16)) is False
    assert shown._ref_seen_ma is None and shown.state == "ramp"
    weak = _stalled_ramp()
    weak.tick = 10_000
    assert weak._ramp_stalled(row(reference_ma=0.5, measured_current_ma=0.1599)) is False
    assert weak._ref_seen_ma == 0.5 and weak._weak_current_tick == 10_000 and weak.state == "ramp"


@pytest.mark.req("SRS-257")
def test_after_a_quiet_stall_only_a_five_second_stall_is_the_no_current_fault():
    sup = _stalled_ramp(quiet=1)
    sup.tick = 49_999
    assert sup._ramp_stalled(row(reference_ma=0.5)) is False
    sup.tick = 50_000
    assert sup._ramp_stalled(row(reference_ma=0.5)) is True
    assert (sup.state, sup.fault) == ("fault", "no_current_with_contact")
    assert any("no current has shown over 2 ramps: current channels not plausible" in e for e in sup.log)


@pytest.mark.req("SRS-257")
def test_a_contact_found_within_a_second_of_a_stall_pause_with_no_open_row_counts():
    sup = sup_in("paused")
    sup._stall_pause_tick = 10_000
    sup._note_open_rows(SimpleNamespace(rows=lambda: [row(voltage_v=0.1), row(voltage_v=0.3139)]))
    assert sup._stall_saw_open is False
    sup.tick = 20_000
    sup._stall_search_contact()
    assert sup._quiet_stalls == 1 and sup._stall_pause_tick is None
    assert any("contact found at once after the stall: the hand was in (1 such stall)" in e for e in sup.log)
    late = sup_in("paused")
    late._stall_pause_tick, late.tick = 10_000, 20_001
    late._stall_search_contact()
    assert late._quiet_stalls == 0 and late._stall_pause_tick is None
    opened = sup_in("paused")
    opened._stall_pause_tick, opened.tick = 10_000, 10_100
    opened._note_open_rows(SimpleNamespace(rows=lambda: [row(voltage_v=0.1), row(voltage_v=0.314)]))
    assert opened._stall_saw_open is True
    opened._stall_search_contact()
    assert opened._quiet_stalls == 0
    assert any("the sense level read open during the pause: the hand was out" in e for e in opened.log)
    none = sup_in("paused")
    none._note_open_rows(SimpleNamespace(rows=lambda: [row(voltage_v=2.0)]))
    assert none._stall_saw_open is False


@pytest.mark.req("SRS-254")
def test_in_limited_a_stalled_rise_toward_the_target_pauses():
    sup = sup_in("limited")
    sup.density_target_ma = 3.0
    sup._limited_stalled(row(reference_ma=1.0))
    sup.tick = 10_000
    assert sup._limited_stalled(row(reference_ma=1.12)) is True
    assert sup.state == "paused"
    assert any("reference at 1.1200 mA below the target 3.000 mA rose 120 uA in 1.00 s" in e for e in sup.log)


# ---- the density cut's own contact check (SRS-061, PR-062) ---------------------------

@pytest.mark.req("SRS-061")
def test_only_a_loss_within_50_ms_of_a_cut_is_its_check_and_only_for_a_second():
    sup = sup_in("limited")
    sup._cut_tick = 1_000
    sup.tick = 1_500                                       # 50 ms after the cut
    assert sup._limited_contact_lost(row(contact_lost=True)) is True and sup.state == "limited"
    sup.tick = 10_999
    assert sup._limited_contact_lost(row(contact_lost=True)) is True and sup.state == "limited"
    sup.tick = 11_000                                      # 1 s after the cut: a lift-off
    assert sup._limited_contact_lost(row(contact_lost=True)) is True
    assert sup.state == "paused" and sup._cut_tick is None
    late = sup_in("limited")
    late._cut_tick, late.tick = 1_000, 1_501
    assert late._limited_contact_lost(row(contact_lost=True)) is True and late.state == "paused"
    assert any("contact lost in limited: a lift-off" in e for e in late.log)
    ok = sup_in("limited")
    ok._probe_loss = True
    assert ok._limited_contact_lost(row()) is False and ok._probe_loss is False
    assert sup_in("limited")._cut_probe_loss() is False


@pytest.mark.req("SRS-090", "SRS-061")
def test_an_anti_shock_cut_counts_in_the_row_that_reports_it():
    sup = sup_in("limited")
    sup._cuts_seen = 2
    sup._count_limited_cuts(row(antishock_cuts=4))
    assert (sup.cuts, sup._cuts_seen) == (2, 4)
    assert sup.log[-1].endswith("anti-shock cut in limited (2 this session)")
    sup._count_limited_cuts(row(antishock_cuts=4))
    assert sup.cuts == 2
    treat = sup_in("treat")
    treat.last = row(reference_ma=5.0, measured_current_ma=5.0)
    treat._translate(row(antishock_cuts=1, reference_ma=0.0, measured_current_ma=5.0))
    assert (treat.state, treat.cuts) == ("ramp", 1)


# ---- the density excess (SRS-141) ----------------------------------------------------

@pytest.mark.req("SRS-141")
def test_the_density_excess_sums_over_the_band_and_restarts_within_it():
    sup = sup_in("limited")
    sup.tick = 5_000
    assert sup._track_excess_s(1.2, row(measured_current_ma=5.0)) == pytest.approx(0.15 * 0.5)
    sup.tick = 10_000
    assert sup._track_excess_s(1.2, row(measured_current_ma=5.0)) == pytest.approx(0.15)
    sup.tick = 15_000
    assert sup._track_excess_s(1.05, row(measured_current_ma=5.0)) == 0.0
    assert sup._excess_tick == 15_000
    sup.density_target_ma = 4.0
    # from 5 to 4 mA at 5 mA/s with a density 1.2 x ref / I_set, linearly down: 0.15 x 1 / 5 / 2
    assert sup._fall_excess_s(1.2, 5.0) == pytest.approx(0.015)
    assert sup._fall_excess_s(1.2, 4.0) == 0.0
    assert sup._fall_excess_s(1.0, 5.0) == 0.0


@pytest.mark.req("SRS-141")
def test_a_density_cut_restarts_the_output_toward_the_target_under_the_ramp_slew():
    sup = sup_in("limited")
    sup.density_target_ma = 3.2
    sup.device.calls.clear()
    assert sup._density_cut() is True
    assert sup.device.calls == [("enable", False), ("command", 3.2, 0.5), ("enable", True)]
    assert (sup.density_cuts, sup._cut_tick, sup._commanded) == (1, sup.tick, (3.2, 0.5, True))
    refused = sup_in("limited")
    refused.device.refuse = {"command"}
    assert refused._density_cut() is False and refused.fault == "supervisor_error"


# ---- outcome, records, acknowledgement (SRS-053, SRS-071, SRS-081, SRS-090) -----------

@pytest.mark.req("SRS-090", "SRS-062", "SRS-065")
@pytest.mark.parametrize("reason,outcome", [
    ("time_up", "completed"), ("contact_timeout", "interrupted"), ("charge_bound", "interrupted"),
    ("length_bound", "interrupted"), ("ramp_time_bound", "interrupted"), ("cuts_bound", "interrupted"),
    ("pauses_bound", "interrupted"), ("stop", "stopped"), ("io_error", "stopped"), (None, "stopped")])
def test_the_outcome_follows_the_end_reason(reason, outcome):
    sup = sup_in("ramp")
    sup.end_reason = reason
    r = sup.result()
    assert (r.outcome, r.end_reason, r.fault) == (outcome, reason, None)
    sup.fault = "short"
    assert (sup.result().outcome, sup.result().end_reason) == ("fault", None)


class _History:
    def __init__(self, fail_end=None, fail_progress=None):
        self.calls = []
        self.fail_end, self.fail_progress = fail_end, fail_progress

    def begin_session(self, settings, checklist=None):
        self.calls.append(("begin", checklist))
        self.settings = settings
        return 7

    def update_progress(self, session_id, **kw):
        self.calls.append(("progress", session_id, kw))
        if self.fail_progress:
            raise self.fail_progress

    def end_session(self, session_id, outcome, **kw):
        self.calls.append(("end", session_id, outcome, kw))
        if self.fail_end:
            raise self.fail_end


def _recorded(history, stop_s=11.0):
    from core.scenario import parse_scenario
    sup = Supervisor(Spy(), settings(current_ma=SET_MA, ramp_up_s=10.0, ramp_down_s=10.0), history=history,
                     checklist=PASSED_CHECKLIST, scenario=parse_scenario([{"at_s": stop_s, "event": "stop"}]))
    sup._next_progress_wall = -1.0          # the first progress write is due at once
    return sup, sup.run()


@pytest.mark.req("SRS-071")
def test_the_history_row_is_written_at_start_once_in_progress_and_at_the_end():
    h = _History()
    sup, r = _recorded(h)
    assert [c[0] for c in h.calls] == ["begin", "progress", "end"]
    assert h.calls[0][1] is PASSED_CHECKLIST and r.session_id == 7 and h.settings is sup.settings
    progress = h.calls[1][2]
    assert progress["wait_s"] == 0.02 and progress["faults"] == [] and progress["states"][:3] == [
        "idle", "checklist", "ramp"]
    _, sid, outcome, end = h.calls[2]
    assert (sid, outcome, end["end_reason"], end["faults"]) == (7, "stopped", "stop", [])
    assert end["treat_s"] == r.treat_s and end["delivered_mamin"] == r.delivered_mamin
    assert end["max_current_ma"] == r.max_current_ma and end["states"] == r.states
    assert end["counts"] == {**r.counts(), "treat_delivered_mAmin": round(r.treat_delivered_mamin, 4),
                             "treat_in_band_s": round(r.treat_in_band_s, 3)}


@pytest.mark.req("SRS-071", "SRS-081")
def test_a_failed_history_write_is_reported_and_never_changes_the_outcome():
    sup, r = _recorded(_History(fail_end=OSError("disk full")))
    assert (r.outcome, r.history_error) == ("stopped", "OSError: disk full")
    assert any("history end not written: disk full" in e for e in sup.log)
    sup, r = _recorded(_History(fail_progress=OSError("database is locked")))
    assert r.outcome == "stopped" and r.io_errors == ["history progress not written: database is locked"]


@pytest.mark.req("SRS-081")
def test_an_observer_that_fails_is_dropped_and_the_session_ramps_down():
    class _Boom:
        def batch(self, *a):
            raise RuntimeError("disk full")
    sup = Supervisor(Spy(), settings(current_ma=SET_MA, ramp_up_s=10.0, ramp_down_s=10.0),
                     observers=[_Boom()], checklist=PASSED_CHECKLIST)
    r = sup.run()
    assert (r.outcome, r.end_reason) == ("stopped", "io_error")
    assert r.io_errors == ["observer _Boom failed: RuntimeError: disk full; stopping the session"]
    assert sup.observers == [] and r.states[-2:] == ["ramp_down", "idle"]
    assert r.elapsed_s <= 10.0 + 0.02                      # a ramp-down from the first row's current


@pytest.mark.req("SRS-053")
def test_the_reset_guard_refuses_with_current_flowing_or_a_refused_reset():
    sup = sup_in("fault")
    sup.last = row(reference_ma=0.0, mean_current_ma=0.1, peak_current_ma=0.1)
    assert sup._reset_regulator() is True
    for flowing in (dict(mean_current_ma=0.1001), dict(peak_current_ma=-0.1001), dict(reference_ma=2e-6)):
        sup.last = row(**flowing)
        assert sup._reset_regulator() is False
        assert sup.acknowledge_fault() is False and sup.state == "fault"
    assert sup.log[-1].endswith("acknowledge refused: reset not possible")
    refused = sup_in("fault", device=Spy(refuse={"reset"}))
    assert refused._reset_regulator() is False


@pytest.mark.req("SRS-060")
def test_an_event_the_machine_refuses_is_a_supervisor_fault():
    sup = sup_in("ramp")
    sup._send("half_time")
    assert (sup.state, sup.fault) == ("fault", "supervisor_error")
    assert any("event half_time refused in ramp" in e for e in sup.log)
    assert sup.log[-1].endswith("half_time -> fault")


@pytest.mark.req("SRS-057")
def test_de_energising_disables_the_output_first_and_survives_a_refusal():
    sup = sup_in("ramp")
    sup.device.calls.clear()
    sup._deenergise()
    assert sup.device.calls == [("enable", False), ("command", 0.0, 0.5)]
    assert sup._commanded == (0.0, 0.5, False)
    bad = sup_in("ramp")
    bad.device.refuse = {"enable"}
    bad._deenergise()
    assert bad.log[-1] == "de-energise: enable refused" and bad._commanded == (0.0, 0.5, False)
    gone = sup_in("ramp")
    gone.device.refuse = {"disconnect"}
    gone._disconnect()
    assert gone.log[-1].endswith("output disconnect failed: disconnect refused")


@pytest.mark.req("SRS-066")
def test_a_swap_the_regulator_refuses_ends_in_fault_after_200_ms():
    sup = Supervisor(Spy(refuse={"polarity"}), settings(current_ma=SET_MA, ramp_up_s=10.0, ramp_down_s=10.0,
                                                         reverse_polarity=True), checklist=PASSED_CHECKLIST)
    sup.treat_ticks_set, sup.half_ticks = 20_000, 10_000
    r = sup.run()
    assert (r.outcome, r.fault, r.polarity_switches) == ("fault", "supervisor_error", 0)
    assert any("polarity change refused" in e for e in r.events)
    switch = at_line(r, "at_zero -> polarity_switch")
    assert at_line(r, "current did not settle for the polarity switch") == pytest.approx(switch + 0.2, abs=0.011)
    assert all(c[1] == Polarity.REVERSED for c in sup.device.calls if c[0] == "polarity")


def at_line(r, text):
    return float(next(e for e in r.events if text in e).split("s ", 1)[0])
