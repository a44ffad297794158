"""Test-wide set-up: the traceability plugin records each test's outcome with
the requirement ids its `req` marker names (see traceability/pytest_plugin.py).

Under CI (CI set in the environment) hypothesis runs derandomized, so a red
build is reproducible from the commit alone; locally it explores new examples
on every run.

Coverage of core/ (scripts/dev.sh): with IONTO_COVERAGE_DATA set, every pytest
process (each pytest-xdist worker, and the controller) records core/'s branches
into IONTO_COVERAGE_DATA.<suffix>, started here, before any test imports core/;
`coverage combine` joins them for the gate."""
import os

if os.environ.get("IONTO_COVERAGE_DATA"):
    import coverage

    _COVERAGE = coverage.Coverage(data_file=os.environ["IONTO_COVERAGE_DATA"], data_suffix=True,
                                  branch=True, source=["core"])
    # the xdist controller runs no test: its empty data file is expected
    _COVERAGE.set_option("run:disable_warnings", ["no-data-collected"])
    _COVERAGE.start()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a test's own pytest or CLI child records nothing
        os.environ.pop("IONTO_COVERAGE_DATA")
        os.environ["COVERAGE_RUN"] = "true"  # the hypothesis profile below, as under `coverage run`

    def pytest_unconfigure(config) -> None:  # the process's last hook: its data is complete
        _COVERAGE.stop()
        _COVERAGE.save()

import pytest  # noqa: E402 -- after coverage has started
from hypothesis import settings  # noqa: E402

from tests import machine_share  # noqa: E402

pytest_plugins = ["traceability.pytest_plugin"]

settings.register_profile("ci", derandomize=True, print_blob=True)
# under coverage.py (`coverage run` sets COVERAGE_RUN; scripts/dev.sh measures
# core/ that way) every example runs slower: hypothesis' per-example deadline,
# a speed check and no requirement, is off there
settings.register_profile("ci-coverage", derandomize=True, print_blob=True, deadline=None)
# a mutation run (scripts/c_mutation.py sets IONTO_MUTATION) must give every
# mutant the same examples, whatever ran before it in the same worker copy: a
# kill is then reproducible by its test alone, and no example saved by an earlier
# mutant's failure is replayed (no database); no deadline, as a mutant may be slow
settings.register_profile("mutation", derandomize=True, print_blob=True, deadline=None, database=None)
if os.environ.get("IONTO_MUTATION"):
    settings.load_profile("mutation")
elif os.environ.get("CI"):
    settings.load_profile("ci-coverage" if os.environ.get("COVERAGE_RUN") or os.environ.get("IONTO_COVERAGE_DATA")
                          else "ci")



def _alone(node) -> bool:
    """A real-time test: a module of tests/realtime, or one marked machine_alone."""
    return node.path.parent.name == "realtime" or node.get_closest_marker("machine_alone") is not None


@pytest.fixture(scope="module", autouse=True)
def _machine_alone(request):
    """Under pytest-xdist a real-time module holds the machine alone (tests/machine_share.py)."""
    if not _alone(request.node):
        yield
        return
    with machine_share.exclusive(request.config):
        yield


@pytest.fixture(autouse=True)
def _machine_shared(request):
    """Every other test shares the machine with the other workers' tests, not with a
    real-time module."""
    if _alone(request.node):
        yield
        return
    with machine_share.shared(request.config):
        yield
