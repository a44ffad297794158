"""The checklist arm reaches the real-time loop through the runner's mailbox,
applied whole at the start of a tick like every command (SRS-307, SRS-212):
enable refused before the arm and after the disarm, as in simulation."""
from __future__ import annotations

import pytest

from core.checklist import ChecklistAnswers
from core.regulator import ArmRefused, NotArmed, lib
from tests.arming_kit import CLEAR
from tests.realtime_kit import on_device


@pytest.mark.req("SRS-307")
def test_the_runner_refuses_enable_until_armed_and_after_disarm():
    def body(dev):
        dev.command(1.0, 5.0)
        with pytest.raises(NotArmed, match="no checklist arm"):
            dev.enable_output(True)
        assert dev.status().enabled == 0 and dev.status().fault == 0
        dev.arm(CLEAR)
        assert dev.status().results[6] == lib.REG_OK
        dev.enable_output(True)
        assert dev.status().enabled == 1
        dev.disarm()
        assert dev.status().enabled == 0
        with pytest.raises(NotArmed):
            dev.enable_output(True)
        assert dev.status().enabled == 0
    on_device(body)


@pytest.mark.req("SRS-306")
def test_the_runner_passes_the_raw_answers_whole():
    # one refused answer among fifteen, in the last word of the mailbox: refused by the tick
    def body(dev):
        prep = dict(CLEAR.preparation, skin_cracks_covered=False)
        with pytest.raises(ArmRefused, match="not answered"):
            dev.arm(ChecklistAnswers(dict(CLEAR.contraindications), prep))
        assert dev.status().results[6] == lib.REG_ERR_ARM_REFUSED
        with pytest.raises(NotArmed):
            dev.enable_output(True)
    on_device(body)
