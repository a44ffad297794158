"""Test-wide set-up: the traceability plugin records each test's outcome with
the requirement ids its `req` marker names (see traceability/pytest_plugin.py).

Under CI (CI set in the environment) hypothesis runs derandomized, so a red
build is reproducible from the commit alone; locally it explores new examples
on every run."""
import os

from hypothesis import settings

pytest_plugins = ["traceability.pytest_plugin"]

settings.register_profile("ci", derandomize=True, print_blob=True)
# under coverage.py (`coverage run` sets COVERAGE_RUN; scripts/dev.sh measures
# core/ that way) every example runs slower: hypothesis' per-example deadline,
# a speed check and no requirement, is off there
settings.register_profile("ci-coverage", derandomize=True, print_blob=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci-coverage" if os.environ.get("COVERAGE_RUN") else "ci")
