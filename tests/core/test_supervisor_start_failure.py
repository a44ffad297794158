"""A device that fails during Start (SRS-216): a command that fails after
the arm (the arm, the enable, the first target) ends the session in the
fault state with the output off, never an exception out of begin(); a
failure of the polarity swap before the first command to the loop raises
before anything is sent or recorded (the CLI refuses it, exit 1)."""
from __future__ import annotations

import pytest

from core.realtime import LoopNotResponding
from core.regulator import Polarity
from core.supervisor import Supervisor
from tests.core._session_kit import PASSED_CHECKLIST, CallSpy, settings


class FailsAt(CallSpy):
    """Records every output call; raises LoopNotResponding at the call named."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing
        self.output: list[tuple[str, object]] = []

    def _maybe_fail(self, name: str) -> None:
        if name == self.failing:
            self.failing = ""        # once: the de-energise after it is taken
            raise LoopNotResponding(-20, f"{name}: the regulation loop did not apply the command within 5 ms")

    def enable_output(self, on: bool) -> None:
        self.output.append(("enable_output", on))
        self._maybe_fail(f"enable_output({on})")
        super().enable_output(on)

    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        self.output.append(("command", target_ma))
        self._maybe_fail("command")
        super().command(target_ma, slew_ma_per_s)

    def arm(self, answers) -> None:
        self._maybe_fail("arm")
        super().arm(answers)

    def set_polarity(self, polarity) -> None:
        self._maybe_fail("set_polarity")
        super().set_polarity(polarity)


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("failing", ["arm", "enable_output(True)", "command"])
def test_a_command_failing_during_start_ends_in_fault_with_the_output_off(failing):
    dev = FailsAt(failing)
    sup = Supervisor(dev, settings(), checklist=PASSED_CHECKLIST)
    dev.sup = sup
    sup.begin()                                        # no exception: the supervisor decides
    result = sup.run()
    assert (result.outcome, result.fault) == ("fault", "supervisor_error")
    assert dev.failing == ""                           # the failure did happen
    assert ("enable_output", False) in dev.output
    assert ("enable_output", True) not in dev.output[dev.output.index(("enable_output", False)):]
    batch = dev.advance(10, 100)                       # 0.1 s on: nothing flows
    assert batch.max_current_ma < 0.01 and not batch.last.output_enabled


@pytest.mark.req("SRS-216", "SRS-230")
def test_a_polarity_refused_before_the_start_sends_no_output_command():
    dev = FailsAt("set_polarity")
    sup = Supervisor(dev, settings(start_polarity="reversed"), checklist=PASSED_CHECKLIST)
    with pytest.raises(LoopNotResponding):
        sup.begin()
    assert dev.output == [] and sup.session_id is None   # nothing sent, nothing recorded
    assert dev.advance(10, 100).last.polarity == Polarity.NORMAL
