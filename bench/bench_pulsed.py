"""Benchmark of a 20-minute pulsed session against plain DC at the same mean
current (issue 14, SRS-258, SRS-259, SRS-301). Prints figures; never asserts.

    python bench/bench_pulsed.py

For each site and skin capacitance: a 20-minute pulsed session at the site's
set current (the pulse peak), then a plain DC session whose set current is
the pulsed session's treatment mean (rounded to the 0.01 mA step). Figures of
the treatment phase: the peak (largest true current), the mean (charge over
time), the skin voltage swing within a tick (largest, and the mean over the
rows: what makes pulsed current feel milder), the delivered charge of the
whole session and the wall time of the in-process session.
"""
from __future__ import annotations

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.checklist import ChecklistRecord, load_checklist  # noqa: E402
from core.device import SimulatedDevice  # noqa: E402
from core.settings import parse_settings  # noqa: E402
from core.supervisor import Supervisor  # noqa: E402

MINUTES = 20
CHECKLIST = ROOT / "examples" / "checklist.yaml"
CASES = [  # (site, set peak mA, pulse kHz, duty %, skin capacitance uF)
    ("underarms", 5.0, 10.0, 50, 1.0),
    ("underarms", 5.0, 4.3, 50, 1.0),
    ("hands", 15.0, 10.0, 50, 1.0),
    ("hands", 15.0, 10.0, 50, 0.1),
    ("hands", 15.0, 5.0, 80, 1.0),
]


class TreatFigures:
    """Observer: the treatment rows' peak, charge and skin voltage swing."""

    def __init__(self) -> None:
        self.peak_ma = 0.0
        self.charge_mas = 0.0
        self.ticks = 0
        self.swing_max_v = 0.0
        self.swing_sum_v = 0.0
        self.rows = 0

    def batch(self, start_tick, state, rowbatch, sup) -> None:
        if state != "treat":
            return
        for r in rowbatch.rows():
            self.peak_ma = max(self.peak_ma, abs(r.peak_current_ma))
            self.charge_mas += abs(r.mean_current_ma) * r.ticks / sup.tick_hz
            self.ticks += r.ticks
            self.swing_max_v = max(self.swing_max_v, r.skin_swing_v)
            self.swing_sum_v += r.skin_swing_v
            self.rows += 1

    def mean_ma(self, tick_hz: int) -> float:
        return self.charge_mas / (self.ticks / tick_hz) if self.ticks else 0.0


def run(site: str, current_ma: float, capacitance_uf: float, **mode) -> tuple[TreatFigures, object, float]:
    checklist = ChecklistRecord(mode="file", answers=load_checklist(CHECKLIST), source=str(CHECKLIST))
    settings = parse_settings({"site": site, "current_ma": current_ma, "minutes": MINUTES, **mode})
    figures = TreatFigures()
    device = SimulatedDevice(seed=1, capacitance_uf=capacitance_uf)
    t0 = time.perf_counter()
    result = Supervisor(device, settings, observers=[figures], checklist=checklist).run()
    wall_s = time.perf_counter() - t0
    if result.outcome != "completed":
        print(f"{site} {mode}: session {result.outcome} ({result.fault or result.end_reason})")
        sys.exit(1)   # the figures would not be a session's
    return figures, result, wall_s


def main() -> None:
    print(f"20-minute sessions, 2 kOhm load (SimulatedDevice), treatment phase; DC at the pulsed mean")
    head = (f"{'site':<10} {'mode':<16} {'C uF':>5} {'set mA':>7} {'peak mA':>8} {'mean mA':>8} "
            f"{'swing max V':>11} {'swing mean V':>12} {'mA*min':>8} {'wall s':>7}")
    print(head)
    print("-" * len(head))
    for site, peak_ma, khz, duty, cap in CASES:
        pf, pr, pw = run(site, peak_ma, cap, mode="pulsed", pulse_khz=khz, duty_percent=duty)
        mean_ma = pf.mean_ma(10_000)
        dc_ma = round(mean_ma, 2)
        df, dr, dw = run(site, dc_ma, cap, mode="dc")
        for label, f, r, w, set_ma in ((f"pulsed {khz:g}k {duty}%", pf, pr, pw, peak_ma),
                                       ("dc (same mean)", df, dr, dw, dc_ma)):
            print(f"{site:<10} {label:<16} {cap:5g} {set_ma:7.2f} {f.peak_ma:8.3f} {f.mean_ma(10_000):8.3f} "
                  f"{f.swing_max_v:11.3f} {f.swing_sum_v / max(1, f.rows):12.3f} "
                  f"{r.delivered_mamin:8.1f} {w:7.2f}")


if __name__ == "__main__":
    main()
