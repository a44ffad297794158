"""Performance of check + report (SRS-105), measured as CPU time of this
process so that other jobs on the machine do not make it flaky: at 1,000 and
4,000 requirements (5 results each) growth must be near linear (4x size at
most 6x time; quadratic would be 16x), and the time extrapolated linearly to
10,000 requirements and 50,000 results must be at most 10 s.
bench/bench_trace.py prints the wall-clock figures at full size."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench/bench_trace.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_trace", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.req("SRS-105")
def test_check_and_report_scale_linearly_within_budget():
    bench = _bench()
    small, large = bench.measure(1000), bench.measure(4000)
    for m in (small, large):
        assert m["errors"] == 0, m["first_error"]  # the generated data are consistent
    assert large["results"] == 20000
    ratio = large["cpu_s"] / small["cpu_s"]
    assert ratio <= 6.0, f"4x size took {ratio:.1f}x time"
    projected_s = large["cpu_s"] * 10000 / 4000
    assert projected_s <= 10.0, f"projected {projected_s:.1f} s for 10,000 requirements"
