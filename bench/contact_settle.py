"""Benchmark (prints figures, asserts nothing): false contact and contact
detection time at the sense level over load x capacitance (issue 8, SRS-131).
  first ramp : enable onto the load; "contact" = any plain-drive row in 3 s
  pause      : ramped at 2 kOhm, paused (search_contact), load -> R, 5 s
  lift       : lifted 50 ms at the sense level, contact back at R, 5 s
  lift2s     : the same, lifted 2 s (skin capacitance discharged)
Usage: .venv/bin/python bench/contact_settle.py [seeds]"""
from __future__ import annotations

import sys

from core.regulator import EVENT_CONTACT_RESTORED, SimulatedRig
from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers  # noqa: E402

# the checklist arm a passed session gives the loop (SRS-307): all clear
CLEAR = ChecklistAnswers({i.id: False for i in CONTRAINDICATIONS}, {i.id: True for i in PREPARATION})

LOADS = (500, 2000, 8000, 12_000, 15_000, 18_000, 20_000, 22_000, 25_000, 30_000, 40_000, 100_000, 1_000_000)
CAPS = (0.01, 0.1, 1.0, 3.0, 10.0)


def first_ramp(r, c, seed):
    rig = SimulatedRig(seed=seed, load_ohms=min(r, 100_000), capacitance_uf=c)
    if r > 100_000:
        rig.change_load(r, 0.0)
    rig.command(2.0, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = list(rig.run_rows(3000, 10, stop_on_event=False).rows())
    t = next((i for i, x in enumerate(rows) if not x.contact_lost and x.drive_v != rig_sense_v()), None)
    return t, max(x.peak_current_ma for x in rows)


def rig_sense_v():
    from core.regulator import LIMITS
    return LIMITS.sense_v


def after(r, c, seed, how, lift_ms=50):
    rig = SimulatedRig(seed=seed, load_ohms=2000, capacitance_uf=c)
    rig.command(2.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(100, 100, stop_on_event=False)
    if how == "pause":
        rig.search_contact()
        rig.change_load(r, 0.0)
    else:
        rig.lift_off()
        rig.run_rows(lift_ms, 10, stop_on_event=False)
        rig.change_load(r, 0.0)
        rig.contact()
    rows = list(rig.run_rows(5000, 10, stop_on_event=False).rows())
    t = next((i for i, x in enumerate(rows) if x.events & EVENT_CONTACT_RESTORED), None)
    return t, max(x.peak_current_ma for x in rows)


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for how in ("first", "pause", "lift", "lift2s"):
        print(f"== {how}: ms to contact (worst of {seeds} seeds; '-' never), max mA")
        print("load_ohms " + " ".join(f"{c:>13}uF" for c in CAPS))
        for r in LOADS:
            cells = []
            for c in CAPS:
                ts, peak = [], 0.0
                for s in range(seeds):
                    t, p = first_ramp(r, c, s) if how == "first" else after(r, c, s, "lift" if how.startswith("lift") else how, 2000 if how == "lift2s" else 50)
                    ts.append(t)
                    peak = max(peak, p)
                hit = [t for t in ts if t is not None]
                tt = "-" if not hit else (f"{max(hit)}" if len(hit) == len(ts) else f"{len(hit)}/{len(ts)}:{min(hit)}")
                cells.append(f"{tt:>8} {peak:6.3f}")
            print(f"{r:>9} " + " ".join(f"{x:>15}" for x in cells))


if __name__ == "__main__":
    main()
