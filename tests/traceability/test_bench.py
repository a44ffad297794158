"""The benchmark's generated data set (bench/bench_trace.py) is consistent, so
that the speed figures it records for SRS-105 measure a passing check. The
speed itself is a benchmark figure (out/bench/SRS-105.json, verification by
analysis), never a timed test that fails on a slow machine."""
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


@pytest.mark.req("SRS-101")
def test_generated_benchmark_data_pass_the_check_at_two_sizes():
    bench = _bench()
    small, large = bench.measure(200), bench.measure(800)
    for m in (small, large):
        assert m["errors"] == 0, m["first_error"]  # the generated data are consistent
    assert small["results"] == 1000
    assert large["results"] == 4000
