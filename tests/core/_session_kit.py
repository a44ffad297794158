"""Shared helpers for the supervisor tests: short simulated sessions with every
row recorded, and the output-table check applied to each row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pathlib import Path

from core.checklist import ChecklistRecord, load_checklist
from core.device import SimulatedDevice
from core.limits import load_limits
from core.machine import OutputPermission, TherapyMachine
from core.scenario import parse_scenario
from core.settings import TherapySettings, parse_settings
from core.supervisor import SessionResult, Supervisor

class CallSpy(SimulatedDevice):
    """A simulated device that records each arm, disarm and polarity call
    with the machine state it came in (`sup`, set by the test)."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.sup = None
        self.calls: list[tuple[str, str]] = []

    def _record(self, name: str) -> None:
        self.calls.append((name, self.sup.state if self.sup else "-"))

    def arm(self, answers) -> None:
        self._record("arm")
        super().arm(answers)

    def disarm(self) -> None:
        self._record("disarm")
        super().disarm()

    def set_polarity(self, polarity) -> None:
        self._record("set_polarity")
        super().set_polarity(polarity)


# the shipped checklist, answered and passed: a Supervisor refuses to run without one (SRS-093)
_EXAMPLE_CHECKLIST = Path(__file__).resolve().parents[2] / "examples" / "checklist.yaml"
PASSED_CHECKLIST = ChecklistRecord(mode="file", answers=load_checklist(_EXAMPLE_CHECKLIST),
                                   source=str(_EXAMPLE_CHECKLIST))

LIMITS = load_limits()
MIN_MINUTES = int(LIMITS.settings.minutes.min)      # shortest allowed session
ZERO_MA = LIMITS.zero_current_ma                     # "no current" (0.1 mA)
ROW_S = LIMITS.supervisor_period_max_ms / 1000.0     # one row
NOISE_FLOOR_MA = 0.05                                # "no current at all" after a fault
REF_EPS_MA = 1e-6


def settings(**overrides: Any) -> TherapySettings:
    data = {"site": "hands", "current_ma": 15.0, "minutes": MIN_MINUTES,
            "ramp_up_s": 30.0, "ramp_down_s": 30.0, "reverse_polarity": False}
    data.update(overrides)
    return parse_settings(data)


@dataclass(frozen=True)
class Row:
    t_s: float        # end of the row, since Start
    state: str        # machine state while the row ran
    r: Any            # BatchResult of the row


class RowLog:
    """Observer keeping every row with the state it ran in."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def batch(self, start_tick: int, state: str, rowbatch, sup: Supervisor) -> None:
        tick = start_tick
        for r in rowbatch.rows():
            tick += r.ticks
            self.rows.append(Row(tick / sup.tick_hz, state, r))


def run_session(scenario: list[dict] | None = None, seed: int = 1, history=None,
                device: Any = None, **overrides: Any) -> tuple[SessionResult, list[Row], Supervisor]:
    log = RowLog()
    device = device if device is not None else SimulatedDevice(seed=seed)
    sup = Supervisor(device, settings(**overrides), scenario=parse_scenario(scenario or []),
                     observers=[log], history=history, checklist=PASSED_CHECKLIST)
    if hasattr(device, "sup"):  # spies that log the state each command came in
        device.sup = sup
    result = sup.run()
    return result, log.rows, sup


def table_violations(rows: list[Row], set_current_ma: float) -> list[str]:
    """Every row against the machine's OUTPUT_TABLE; empty when all rows obey."""
    bad: list[str] = []
    prev_state, prev_ref = None, 0.0
    for row in rows:
        r, state = row.r, row.state
        permission = TherapyMachine.OUTPUT_TABLE[state]
        if permission is OutputPermission.OFF:
            # paused keeps the stage at the sense level (target 0) to see the contact return
            if r.output_enabled and state != "paused":
                bad.append(f"{row.t_s:.3f}s {state}: output enabled")
            if max(r.reference_ma, r.target_ma) > REF_EPS_MA:
                bad.append(f"{row.t_s:.3f}s {state}: reference {r.reference_ma} target {r.target_ma}")
        elif r.reference_ma > set_current_ma + REF_EPS_MA or r.target_ma > set_current_ma + REF_EPS_MA:
            bad.append(f"{row.t_s:.3f}s {state}: reference {r.reference_ma} above {set_current_ma}")
        if permission is OutputPermission.FALLING:
            if r.target_ma > REF_EPS_MA:
                bad.append(f"{row.t_s:.3f}s {state}: target {r.target_ma} not 0")
            if state == prev_state and r.reference_ma > prev_ref + REF_EPS_MA:
                bad.append(f"{row.t_s:.3f}s {state}: reference rose {prev_ref} -> {r.reference_ma}")
        prev_state, prev_ref = state, r.reference_ma
    return bad


def first_row(rows: list[Row], pred) -> int:
    return next(i for i, row in enumerate(rows) if pred(row))
