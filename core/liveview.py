"""Live view of a running session on a terminal (SRS-088).

One status line on stderr, redrawn in place at most a few times a second:
state, current, voltage, load, % of the set current flowing, time left and a
progress bar. It never writes to stdout, which `--json` keeps for the summary.
"""
from __future__ import annotations

import time
from typing import IO

BAR_WIDTH = 24
REDRAW_S = 0.1  # wall-clock; a faster redraw only costs time in simulation


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    full = round(fraction * width)
    return "[" + "#" * full + "." * (width - full) + "]"


def format_line(state: str, current_ma: float, voltage_v: float, load_ohms: float,
                flowing_fraction: float, time_left_s: float, progress: float) -> str:
    minutes, seconds = divmod(max(0, round(time_left_s)), 60)
    kohm = f"{load_ohms / 1000:6.2f}" if load_ohms < 1e7 else "  open"
    return (f"{state:<15} {current_ma:6.2f} mA {voltage_v:5.1f} V {kohm} kOhm "
            f"{100 * flowing_fraction:4.0f}% flowing  {minutes:2d}:{seconds:02d} left "
            f"{progress_bar(progress)}")


class LiveView:
    def __init__(self, stream: IO[str], set_current_ma: float, set_time_s: float) -> None:
        self._stream = stream
        self._set_current_ma = set_current_ma
        self._set_time_s = set_time_s
        self._last_draw = float("-inf")
        self._width = 0

    def update(self, state: str, reading, treat_s: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_S:
            return
        self._last_draw = now
        line = format_line(state, reading.mean_current_ma, reading.voltage_v, reading.load_ohms,
                           abs(reading.mean_current_ma) / self._set_current_ma,
                           self._set_time_s - treat_s,
                           treat_s / self._set_time_s if self._set_time_s else 1.0)
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self._stream.write("\r" + line + " " * pad)
        self._stream.flush()

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()
