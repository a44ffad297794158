"""Benchmark (prints figures, asserts nothing): random contact chatter against
the re-contact band of SRS-011/022/024 (issue 8 point 1, PR-038). Each case: a
load of 500 Ohm..10 kOhm, 0.01..10 uF, a reference of 0..1 mA (half of them
below 0.19 mA) at a random slew, a random start in the ramp, then 2..16
lift-offs and contacts of 1 tick, 2 ticks or up to 20 ms, and 100 ms in
contact. Prints every case whose peak exceeds the slewed reference + 0.5 mA
(its parameters reproduce it), then the count and the worst excess.
Usage: .venv/bin/python bench/recontact_chatter.py [CASES [FIRST_SEED]]   (2000 20000)"""
from __future__ import annotations

import random
import sys

from core.regulator import SimulatedRig
from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers  # noqa: E402

# the checklist arm a passed session gives the loop (SRS-307): all clear
CLEAR = ChecklistAnswers({i.id: False for i in CONTRAINDICATIONS}, {i.id: True for i in PREPARATION})

BAND_MA = 0.5
LOADS_OHMS = (500, 600, 800, 1500, 2500, 5000, 10_000)


def rows_for(rig: SimulatedRig, ticks: int) -> list:
    """One row per tick, the watchdog kicked each tick (as tests/regulator's rows_ticks)."""
    return list(rig.run_rows(ticks, 1, stop_on_event=False).rows()) if ticks else []


def worst_excess_ma(seed: int) -> tuple[float, tuple]:
    r = random.Random(seed)
    load, cap_uf = r.choice(LOADS_OHMS), 10 ** r.uniform(-2, 1)
    target_ma = r.choice([r.uniform(0, 0.19), r.uniform(0, 1)])
    slew, start = r.uniform(0.05, 5), r.randint(0, 600)
    chatter = [r.choice([1, 2, r.randint(1, 200)]) for _ in range(r.randint(2, 16))]
    rig = SimulatedRig(seed=r.randint(0, 2**32), load_ohms=load, capacitance_uf=cap_uf)
    rig.command(target_ma, slew)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = [rig.run(1)] + rows_for(rig, start)
    for k, ticks in enumerate(chatter):
        (rig.lift_off if k % 2 == 0 else rig.contact)()
        rows += rows_for(rig, ticks)
    rig.contact()
    rows += rows_for(rig, 1000)
    # the reference a sample is judged against: the lower of this tick's and the last
    excess = max(x.peak_current_ma - min(p.reference_ma, x.reference_ma) for p, x in zip(rows, rows[1:]))
    return excess, (load, round(cap_uf, 3), round(target_ma, 3), round(slew, 2), start, chatter)


def main(argv: list[str]) -> int:
    cases = int(argv[0]) if argv else 2000
    first = int(argv[1]) if len(argv) > 1 else 20_000
    worst, over = 0.0, 0
    for seed in range(first, first + cases):
        excess, params = worst_excess_ma(seed)
        worst = max(worst, excess)
        if excess > BAND_MA:
            over += 1
            print(f"over: seed {seed} excess {excess:.3f} mA (load, uF, mA, mA/s, start, chatter) {params}")
    print(f"re-contact chatter: {cases} cases from seed {first}: {over} over reference + {BAND_MA} mA, "
          f"worst {worst:.3f} mA")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
