"""The `--trace` CSV writer (core/trace.py `TraceWriter`; issue 12 point 2,
mutation run of the module), fed directly with the rows of a simulated
device: the header of SRS-085's columns once, then one line per row whose
t_s is the end of that row since Start, and whose figures are the row's own
(currents to 0.1 uA, voltage to 1 mV; polarity and fault by name)."""
from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from core.device import SimulatedDevice
from core.regulator import FaultCode, Polarity
from core.trace import COLUMNS, TraceWriter
from tests.arming_kit import CLEAR

SRS_085_COLUMNS = ("t_s", "state", "target_mA", "reference_mA", "current_mA", "peak_mA",
                   "voltage_V", "polarity", "fault")


def _rows(n: int, ticks_per_row: int = 100) -> list:
    """n rows of a device driving 5 mA at 5 mA/s (current flowing, rising)."""
    dev = SimulatedDevice()
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    rows: list = []
    while len(rows) < 20 + n:
        rows += dev.advance(20 + n - len(rows), ticks_per_row).rows()
    return rows[20:]                     # from 0.2 s on: about 1 mA and more


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.req("SRS-085")
def test_the_header_is_the_columns_of_srs_085_written_once_lines_end_in_newline():
    assert COLUMNS == SRS_085_COLUMNS
    out = io.StringIO()
    w = TraceWriter(out, 10_000)
    assert out.getvalue() == ",".join(SRS_085_COLUMNS) + "\n"
    w.write_rows(0, "ramp", _rows(2))
    w.write_rows(200, "ramp", _rows(3))
    lines = out.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 1 + 5 + 1      # header, 5 rows, the final newline
    assert lines[0] == ",".join(SRS_085_COLUMNS)
    assert all("\r" not in line and len(line.split(",")) == 9 for line in lines[:-1])


@pytest.mark.req("SRS-085")
def test_t_s_is_the_end_of_each_row_since_start():
    out = io.StringIO()
    w = TraceWriter(out, 10_000)
    w.write_rows(12_000, "treat", _rows(3, ticks_per_row=100))     # from 1.2 s, rows of 10 ms
    w.write_rows(12_300, "treat", _rows(2, ticks_per_row=50))      # then rows of 5 ms
    t = [float(r[0]) for r in _read(out.getvalue())[1:]]
    assert t == [1.21, 1.22, 1.23, 1.235, 1.24]


@pytest.mark.req("SRS-085")
def test_t_s_follows_the_tick_rate_given():
    out = io.StringIO()
    TraceWriter(out, 1_000).write_rows(500, "treat", _rows(2, ticks_per_row=10))
    assert [float(r[0]) for r in _read(out.getvalue())[1:]] == [0.51, 0.52]


@pytest.mark.req("SRS-085")
def test_each_line_holds_its_rows_figures_and_the_state_given():
    rows = _rows(4)
    out = io.StringIO()
    TraceWriter(out, 10_000).write_rows(2000, "ramp", rows)
    lines = _read(out.getvalue())[1:]
    assert len(lines) == 4
    for line, r in zip(lines, rows):
        rec = dict(zip(SRS_085_COLUMNS, line))
        assert rec["state"] == "ramp"
        assert float(rec["target_mA"]) == pytest.approx(r.target_ma, abs=0.5e-4)
        assert float(rec["reference_mA"]) == pytest.approx(r.reference_ma, abs=0.5e-4)
        assert float(rec["current_mA"]) == pytest.approx(r.mean_current_ma, abs=0.5e-4)
        assert float(rec["peak_mA"]) == pytest.approx(r.peak_current_ma, abs=0.5e-4)
        assert float(rec["voltage_V"]) == pytest.approx(r.voltage_v, abs=0.5e-3)
        assert (rec["polarity"], rec["fault"]) == ("normal", "none")
    # the figures differ per column: a column written from another field shows
    r = rows[-1]
    assert r.target_ma == 5.0 and 0.5 < r.peak_current_ma and r.reference_ma < 5.0
    assert len({r.target_ma, r.reference_ma, r.mean_current_ma, r.peak_current_ma, r.voltage_v}) == 5


@pytest.mark.req("SRS-085")
def test_polarity_and_fault_are_named_in_lower_case():
    row = _rows(1)[0]
    out = io.StringIO()
    TraceWriter(out, 10_000).write_rows(0, "fault", [
        dataclasses.replace(row, polarity=Polarity.REVERSED, fault=FaultCode.WATCHDOG)])
    rec = dict(zip(SRS_085_COLUMNS, _read(out.getvalue())[1]))
    assert (rec["state"], rec["polarity"], rec["fault"]) == ("fault", "reversed", "watchdog")


@pytest.mark.req("SRS-085")
def test_flush_reaches_the_stream():
    class Stream(io.StringIO):
        flushes = 0

        def flush(self):
            self.flushes += 1
            super().flush()

    out = Stream()
    w = TraceWriter(out, 10_000)
    w.write_rows(0, "ramp", _rows(1))
    before = out.flushes
    w.flush()
    assert out.flushes == before + 1
