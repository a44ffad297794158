"""Fixtures of tests/trace: the copy of the repository's data that tests/traceability
builds (a `repo` whose check passes), loaded from there so that both suites corrupt
the same consistent copy (helpers: audit_helpers.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_BASE = Path(__file__).resolve().parents[1] / "traceability" / "conftest.py"
_spec = importlib.util.spec_from_file_location("trace_base_conftest", _BASE)
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

repo = base.repo            # the fixture: a passing copy in tmp_path

