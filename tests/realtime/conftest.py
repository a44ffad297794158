"""The real-time tests hold the machine alone under pytest-xdist (tests/machine_share.py)."""
import pytest

from tests import machine_share


@pytest.fixture(scope="module", autouse=True)
def _machine_alone(request):
    with machine_share.exclusive(request.config):
        yield
