"""The course chart (SRS-199): sessions over time with current, treatment
time and the user's scores, as a PNG next to the history. The code computes,
the chart only lays out (matplotlib, Agg: no display needed)."""
from __future__ import annotations

from pathlib import Path

from core.course import CourseStatus, parse_time

import matplotlib  # ImportError here tells the caller the report extra is missing



def chart_path(status: CourseStatus, db: Path) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in status.user)
    return Path(db).with_name(f"{Path(db).stem}-course-{safe}-{status.site}.png")


def write_chart(status: CourseStatus, db: Path) -> Path:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = status.sessions
    when = [parse_time(r["started_at"]) for r in rows]
    current = [r["current_mA"] or 0 for r in rows]
    minutes = [r["treat_s"] / 60 for r in rows]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    colours = ["tab:blue" if r["counts"] else "tab:gray" for r in rows]
    ax1.plot(when, current, color="tab:blue", alpha=0.4)
    # marker shape = the polarity the session started with (SRS-230)
    for polarity, marker in (("normal", "o"), ("reversed", "v")):
        picked = [i for i, r in enumerate(rows) if r.get("start_polarity", "normal") == polarity]
        if picked:
            ax1.scatter([when[i] for i in picked], [current[i] for i in picked],
                        c=[colours[i] for i in picked], marker=marker, label=f"started {polarity}")
    if status.maintenance_since:
        for ax in (ax1, ax2):
            ax.axvline(parse_time(status.maintenance_since), color="tab:orange", linestyle="--",
                       label="maintenance from here" if ax is ax1 else None)
    ax1.legend(loc="lower right", fontsize="small")
    ax1.set_ylabel("current (mA)")
    # the target is the initial phase's: in maintenance "11/9" would read as an overrun
    of_target = f"/{status.target_sessions}" if status.phase == "initial" else ""
    ax1.set_title(f"{status.user}, {status.site}: {status.phase} phase, "
                  f"{status.counted_sessions}{of_target} sessions counted")
    ax2.bar(when, minutes, width=0.4, color=colours, label="treatment (min)")
    ax2.axhline(10, color="tab:red", linestyle=":", label="minimum effective 10 min")
    ax2.set_ylabel("treatment (min)")
    scored = [(w, r["hdss"]) for w, r in zip(when, rows) if r["hdss"] is not None]
    if scored:
        ax3 = ax2.twinx()
        ax3.plot([w for w, _ in scored], [h for _, h in scored], "o--", color="tab:green",
                 label="HDSS score")
        ax3.set_ylim(0.5, 4.5)
        ax3.set_ylabel("HDSS (1 normal .. 4)")
    ax2.legend(loc="lower left", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    path = chart_path(status, db)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
