"""The `--trace` CSV: one row per supervisor row of ticks (SRS-085).

Rows are at most 10 ms apart (the supervisor's row length). `current_mA` is
the mean and `peak_mA` the largest *true* patient current over the row, from
the load model, so that a check on the trace sees what the patient felt.
"""
from __future__ import annotations

import csv
from typing import IO, Iterable

COLUMNS = ("t_s", "state", "target_mA", "reference_mA", "current_mA", "peak_mA",
           "voltage_V", "polarity", "fault")


class TraceWriter:
    def __init__(self, stream: IO[str], tick_hz: int) -> None:
        self._stream = stream
        self._tick_hz = tick_hz
        self._csv = csv.writer(stream, lineterminator="\n")
        self._csv.writerow(COLUMNS)

    def write_rows(self, start_tick: int, state: str, rows: Iterable) -> None:
        """Write the rows of one batch; `start_tick` is the tick (since Start)
        at which the batch began. `t_s` is the time at the end of each row."""
        tick = start_tick
        hz = self._tick_hz
        put = self._csv.writerow
        for r in rows:
            tick += r.ticks
            put((f"{tick / hz:.4f}", state, f"{r.target_ma:.4f}", f"{r.reference_ma:.4f}",
                 f"{r.mean_current_ma:.4f}", f"{r.peak_current_ma:.4f}", f"{r.voltage_v:.3f}",
                 r.polarity.name.lower(), r.fault.name.lower()))

    def flush(self) -> None:
        self._stream.flush()
