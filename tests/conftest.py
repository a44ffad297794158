"""Test-wide set-up: the traceability plugin records each test's outcome with
the requirement ids its `req` marker names (see traceability/pytest_plugin.py)."""
pytest_plugins = ["traceability.pytest_plugin"]
