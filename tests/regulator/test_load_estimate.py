"""The regulator's published load estimate (SRS-027): the one interface the
supervisor's current-density tracking (issue 8 point 7) reads; and its update
rule at its numbers (every REG_REST_EVERY_TICKS drive ticks, from
REG_REST_MIN_CURRENT_UA, the first value whole, then 1/REG_REST_FILTER_DIV of
the error), shared by the estimate that scales the PI gains (SRS-002,
regulator_config.h). scripts/c_mutation.py runs this file in its FAST
selection."""
from __future__ import annotations

import math

import pytest

from _regulator_kit import CAPACITANCES_UF, ramped_rig
from core.regulator import FaultCode, Regulator, SimulatedRig
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from tests.arming_kit import CLEAR


@pytest.mark.req("SRS-027")
@pytest.mark.parametrize("capacitance_uf", CAPACITANCES_UF)
@pytest.mark.parametrize("load_ohms,target_ma", [(500, 10.0), (2000, 15.0), (5000, 8.0), (10000, 4.0)])
def test_estimate_under_drive_is_within_5_percent_of_the_model_load(load_ohms, target_ma, capacitance_uf):
    rig = ramped_rig(load_ohms, target_ma, capacitance_uf, settle_s=0.5)
    rows = list(rig.run_rows(50, 10, stop_on_event=False).rows())
    for r in rows:
        assert r.load_estimate_ohms == pytest.approx(r.load_ohms, rel=0.05), r


@pytest.mark.req("SRS-027")
def test_estimate_is_unknown_when_off_and_while_open():
    rig = SimulatedRig(seed=3)
    assert math.isinf(rig.run(10).load_estimate_ohms)             # output off
    rig.command(5.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    on = rig.run_rows(200, 10, stop_on_event=False).last
    assert on.load_estimate_ohms == pytest.approx(on.load_ohms, rel=0.05)
    rig.lift_off()
    lifted = rig.run_rows(20, 10, stop_on_event=False).last
    assert lifted.contact_lost and math.isinf(lifted.load_estimate_ohms)
    rig.enable_output(False)
    assert math.isinf(rig.run(10).load_estimate_ohms)


@pytest.mark.req("SRS-027")
def test_estimate_follows_a_load_change():
    rig = ramped_rig(2000, 10.0)
    rig.change_load(4000, 0.5)
    rows = list(rig.run_rows(200, 10, stop_on_event=False).rows())
    assert rows[-1].load_estimate_ohms == pytest.approx(rows[-1].load_ohms, rel=0.05)
    assert all(r.load_estimate_ohms == pytest.approx(r.load_ohms, rel=0.10) for r in rows[60:])


# ---- the update rule at its numbers (SRS-027; the gains' estimate, SRS-002) ----
# Bare regulator on an ideal resistive load, readings known to the microampere
# (as in test_mutation_kills.py): under plain drive the voltage reading is the
# drive and the current drive / R, plus 13 uA on every other reading (a live
# channel moves, SRS-026/SRS-130). Written against the C mutants of
# update_load_estimate that survived every other test (issue 12).

EVERY_TICKS = lib.REG_REST_EVERY_TICKS          # 4
FILTER_DIV = lib.REG_REST_FILTER_DIV            # 4
MIN_CURRENT_UA = lib.REG_REST_MIN_CURRENT_UA    # 200 uA
Q_PER_MV = 1024                                 # the estimate in 1/1024 mV per uA (regulator.c)
LOAD_Q_MAX = lib.REG_SENSE_LOAD_MAX_OHMS * Q_PER_MV // 1000
R_EST_MIN_Q = lib.REG_REST_MIN_OHMS * Q_PER_MV // 1000
R_EST_MAX_Q = lib.REG_REST_MAX_OHMS * Q_PER_MV // 1000


def _toward(value: int, goal: int) -> int:
    """One filter step: 1/FILTER_DIV of the error, truncated toward zero (C division)."""
    return value + int((goal - value) / FILTER_DIV)


class _Bench:
    """The bare regulator on a resistor; the enable probe's window reads probe_mv."""

    def __init__(self, ohms: int, probe_mv: int, target_ua: int = 1000):
        self.reg = Regulator()
        assert self.reg.raw_command(target_ua, lib.REG_SLEW_MAX_NA_PER_S) == lib.REG_OK
        self.reg.arm(CLEAR)
        assert self.reg.raw_enable(1) == lib.REG_OK
        self.ohms, self.probe_mv = ohms, probe_mv
        self.out = None
        self.k = 0
        self.drive_ticks = 0     # plain-drive ticks since the enable (the estimate's tick count)

    def readings(self) -> tuple[int, int]:
        out = self.out
        if out is None or not out.stage_on:
            return 0, 0
        if out.sense:
            return 0, self.probe_mv
        i_ua = out.drive_mv * 1000 // self.ohms
        return i_ua + (13 if (self.k % 2 and i_ua > lib.REG_OPEN_NOISE_UA) else 0), out.drive_mv

    def tick(self, current_ua: int | None = None):
        i_ua, v_mv = self.readings()
        if current_ua is not None:
            i_ua = current_ua
        self.k += 1
        self.reg.kick_watchdog()
        self.out = self.reg.step(i_ua, i_ua, v_mv)
        # no fault, cut or lift: none restarts the estimates
        assert self.out.fault == FaultCode.NONE, self.out
        assert not self.out.flags & (lib.REG_FLAG_ANTISHOCK_CUT | lib.REG_FLAG_CONTACT_LOST), self.out
        if self.out.stage_on and not self.out.sense:   # a plain-drive tick: the PI law ran
            self.drive_ticks += 1
        return i_ua, v_mv

    def probe(self):
        """The enable probe's window; ends on its last reading's tick (no drive yet)."""
        for _ in range(lib.REG_CONTACT_WINDOW_TICKS):
            self.tick()
            assert self.drive_ticks == 0
        assert not self.out.flags & lib.REG_FLAG_CONTACT_LOST


def _published_ohms(load_q: int) -> int:
    return load_q * 1000 // Q_PER_MV


@pytest.mark.req("SRS-027", "SRS-002")
def test_estimate_updates_every_4th_drive_tick_first_value_whole_then_a_quarter_of_the_error():
    # probe window at 0 mV: the sense estimate is 0 (unknown) when the drive
    # starts; then 1 kOhm up to the 1 mA target, and a step to 2.2 kOhm so
    # that every update moves the estimate by hundreds of 1/1024 mV/uA
    bench = _Bench(ohms=1000, probe_mv=0)
    bench.probe()
    assert bench.out.load_ohms == 0 and bench.reg._reg.load_q == 0
    load_q, r_est_q = 0, R_EST_MIN_Q              # the gains' estimate restarts at 500 ohm
    updates = []                                  # (drive tick, load_q) where the estimate moved
    first = None
    for t in range(3000):
        if t == 2500:
            bench.ohms = 2200
        n_before = bench.drive_ticks
        i_ua, v_mv = bench.tick()
        assert bench.drive_ticks == n_before + 1  # every tick after the probe is a drive tick
        n = bench.drive_ticks
        if n % EVERY_TICKS == 0 and i_ua >= MIN_CURRENT_UA:
            r_inst = v_mv * Q_PER_MV // i_ua
            if load_q == 0:
                load_q, first = r_inst, (n, i_ua, v_mv, r_inst)   # the first value taken whole
            else:
                load_q = min(max(_toward(load_q, r_inst), 0), LOAD_Q_MAX)
            r_est_q = _toward(r_est_q, min(max(r_inst, R_EST_MIN_Q), R_EST_MAX_Q))
        if load_q != bench.reg._reg.load_q:
            pytest.fail(f"drive tick {n}: load_q {bench.reg._reg.load_q}, SRS-027 gives {load_q}")
        assert bench.reg._reg.r_est_q == r_est_q, n
        assert bench.out.load_ohms == _published_ohms(load_q), n
        if not updates or updates[-1][1] != load_q:
            updates.append((n, load_q))
    # the first update: at the first 4th drive tick with >= 0.2 mA, V/I taken
    # whole (the published value is 1000 x V / I to the ohm)
    assert first is not None and first[1] >= MIN_CURRENT_UA and first[0] % EVERY_TICKS == 0
    assert updates[1] == (first[0], first[3])
    assert _published_ohms(first[3]) == pytest.approx(1000 * first[2] / first[1], abs=1)
    # after the step to 2.2 kOhm the estimate moves on every 4th tick, never between
    moves = [u for u in updates if u[0] > 2500]
    assert len(moves) >= 8 and all((b[0] - a[0]) == EVERY_TICKS for a, b in zip(moves, moves[1:8]))
    assert _published_ohms(updates[-1][1]) == pytest.approx(2200, rel=0.05)


@pytest.mark.req("SRS-027", "SRS-002")
@pytest.mark.parametrize("first_ua,then_ua", [(MIN_CURRENT_UA - 1, MIN_CURRENT_UA)])
def test_estimate_takes_a_reading_from_exactly_0_2_ma_and_not_below(first_ua, then_ua):
    # steady at 1 kOhm and 0.4 mA (a reading of 0.2 mA is not a collapse
    # toward a lift there, SRS-025), estimates known; on an update tick a
    # current reading of 199 uA (V/I about 2 kOhm) leaves both estimates as
    # they are, on the next one 200 uA moves each by 1/4 of its error
    bench = _Bench(ohms=1000, probe_mv=9, target_ua=400)   # the probe's sense estimate: about 1 kOhm
    bench.probe()
    assert bench.out.load_ohms == pytest.approx(1000, rel=0.05)
    for _ in range(3000):
        bench.tick()
    while bench.drive_ticks % EVERY_TICKS != EVERY_TICKS - 1:
        bench.tick()
    state = bench.reg._reg
    load_q, r_est_q = state.load_q, state.r_est_q
    assert _published_ohms(load_q) == pytest.approx(1000, rel=0.05)
    _, v_mv = bench.tick(current_ua=first_ua)     # an update tick, below 0.2 mA
    assert bench.drive_ticks % EVERY_TICKS == 0 and v_mv * Q_PER_MV // first_ua > 3 * load_q // 2
    assert (state.load_q, state.r_est_q) == (load_q, r_est_q)
    for _ in range(EVERY_TICKS - 1):
        bench.tick()
        assert (state.load_q, state.r_est_q) == (load_q, r_est_q)
    _, v_mv = bench.tick(current_ua=then_ua)      # the next update tick, exactly 0.2 mA
    r_inst = v_mv * Q_PER_MV // then_ua
    assert state.load_q == _toward(load_q, r_inst) > load_q
    assert state.r_est_q == _toward(r_est_q, min(max(r_inst, R_EST_MIN_Q), R_EST_MAX_Q))
    assert bench.out.load_ohms == _published_ohms(state.load_q)
