"""Shared helpers of the regulator tests: a rig ramped to its target, the
load/target grid of SRS-002 and the figures of issue 2 point 5."""
from __future__ import annotations

from core.regulator import LIMITS, BatchResult, FaultCode, Regulator, SimulatedRig
from tests.arming_kit import CLEAR

TICK_S = 1 / LIMITS.tick_hz
# The load model's skin resistance starts 25 % high and falls at DC onset
# (SIM_ONSET_EXCESS_PERCENT): "within compliance" must hold for that load too.
ONSET_FACTOR = 1.25
COMPLIANCE_MARGIN_V = 3.0

LOADS_OHMS = (500, 1000, 2000, 5000, 10000)
TARGETS_MA = (1, 4, 10, 15, 20, 25)
CAPACITANCES_UF = (0.01, 1.0, 10.0)


def within_compliance(load_ohms: float, target_ma: float) -> bool:
    needed_v = target_ma / 1000 * load_ohms * ONSET_FACTOR
    return needed_v <= LIMITS.compliance_v - COMPLIANCE_MARGIN_V


def grid(loads=LOADS_OHMS, targets=TARGETS_MA):
    return [(r, i) for r in loads for i in targets if within_compliance(r, i)]


def ramp_error_ma(row: BatchResult) -> float:
    """How far the true current went above the reference (SRS-003 allows 2 % + 0.1 mA)."""
    return row.peak_current_ma - (row.reference_ma * 1.02 + 0.1)


def ramped_rig(load_ohms: float = 2000, target_ma: float = 15, capacitance_uf: float = 1.0,
               slew_ma_per_s: float = 5.0, seed: int = 0, settle_s: float = 0.1) -> SimulatedRig:
    """A rig whose reference has reached the target, then held for settle_s."""
    rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    rig.command(target_ma, slew_ma_per_s)
    rig.arm(CLEAR)
    rig.enable_output(True)
    ramp_rows = int(target_ma / slew_ma_per_s / 0.01) + 10
    batch = rig.run_rows(ramp_rows, 100, stop_on_event=False)
    assert batch.last.reference_ma == target_ma, batch.last
    assert batch.last.fault.name == "NONE", batch.last
    rig.run_rows(max(1, int(settle_s / 0.01)), 100, stop_on_event=False)
    return rig


def rows_ticks(rig: SimulatedRig, ticks: int) -> list[BatchResult]:
    """One row per tick (exact per-tick trace), watchdog kicked each tick."""
    return list(rig.run_rows(ticks, 1, stop_on_event=False).rows())


def tick(reg: Regulator, i_ua: int, v_mv: int):
    """One tick of the bare regulator with both channels reading i_ua; no fault."""
    reg.kick_watchdog()
    out = reg.step(i_ua, i_ua, v_mv)
    assert out.fault == FaultCode.NONE, out
    return out


def v_of(out) -> int:
    """The voltage reading a plain drive gives: the drive (0 after a sense tick)."""
    return 0 if out.sense else out.drive_mv
