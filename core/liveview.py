"""Live view of a running session on a terminal (SRS-088).

One status line on stderr, redrawn in place at most a few times a second:
state, current, voltage, load, % of the set current flowing, time left and a
progress bar. It never writes to stdout, which `--json` keeps for the summary.
Before the first line it says how to stop (Ctrl-C: a controlled ramp-down);
during a ramp the line says what the ramp is doing (the treatment timer only
runs at full current), instead of a time left that does not move.
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


STOP_HINT = "Ctrl-C stops the session: the current ramps down to 0 first, then the output is off."
RAMP_TEXT = {  # state -> what the ramp is doing (the timer runs only in treat)
    "ramp": "ramping up to {set_ma:g} mA, timer starts at full current",
    "ramp_down": "ramping down to 0 mA",
    "reverse_down": "ramping down to reverse the polarity",
    "polarity_switch": "switching polarity at 0 mA",
}


def format_line(state: str, current_ma: float, voltage_v: float, load_ohms: float,
                flowing_fraction: float, time_left_s: float, progress: float,
                set_current_ma: float | None = None, mean_ma: float | None = None) -> str:
    """`mean_ma` given (pulsed, SRS-301): `current_ma` is the pulse peak and
    both are shown, the peak first (the set current is the peak)."""
    minutes, seconds = divmod(max(0, round(time_left_s)), 60)
    kohm = f"{load_ohms / 1000:6.2f}" if load_ohms < 1e7 else "  open"
    amps = f"{current_ma:6.2f} mA" if mean_ma is None else f"{current_ma:6.2f} mA peak {mean_ma:6.2f} mA mean"
    line = (f"{state:<15} {amps} {voltage_v:5.1f} V {kohm} kOhm "
            f"{100 * flowing_fraction:4.0f}% flowing  {minutes:2d}:{seconds:02d} left "
            f"{progress_bar(progress)}")
    ramp = RAMP_TEXT.get(state)
    if ramp is not None:
        line += "  " + ramp.format(set_ma=set_current_ma if set_current_ma is not None else 0)
    return line


class LiveView:
    def __init__(self, stream: IO[str], set_current_ma: float, set_time_s: float,
                 pulsed: bool = False) -> None:
        self._pulsed = pulsed   # show the peak and the mean (SRS-301)
        self._stream = stream
        self._set_current_ma = set_current_ma
        self._set_time_s = set_time_s
        self._last_draw = float("-inf")
        self._width = 0
        self._stream.write(STOP_HINT + "\n")

    def update(self, state: str, reading, treat_s: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_S:
            return
        self._last_draw = now
        shown_ma = reading.peak_current_ma if self._pulsed else reading.mean_current_ma
        line = format_line(state, shown_ma, reading.voltage_v, reading.load_ohms,
                           abs(shown_ma) / self._set_current_ma,
                           self._set_time_s - treat_s,
                           treat_s / self._set_time_s if self._set_time_s else 1.0,
                           self._set_current_ma,
                           reading.mean_current_ma if self._pulsed else None)
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self._stream.write("\r" + line + " " * pad)
        self._stream.flush()

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()
