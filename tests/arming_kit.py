"""The checklist arm every test that enables the output gives first (SRS-307):
the product's checklist answered all clear, as a passed session hands it to
the C loop. Tests of the gate itself build their own answers."""
from __future__ import annotations

from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers
from core.regulator import Regulator, lib

CLEAR = ChecklistAnswers({item.id: False for item in CONTRAINDICATIONS},
                         {item.id: True for item in PREPARATION})
# the same as raw codes (bare regulator, raw_arm)
CLEAR_CODES = ([lib.REG_ANSWER_NO] * len(CONTRAINDICATIONS), [lib.REG_ANSWER_YES] * len(PREPARATION))


def armed(target):
    """`target` (a SimulatedRig, Regulator or device) armed with CLEAR; returned."""
    target.arm(CLEAR)
    return target


def enabled_regulator(target_ma: float, pulse=None, slew_ma_per_s: float = 5.0) -> Regulator:
    """A bare Regulator: its pulse train (pulse: set_pulse's arguments, None for DC),
    target_ma commanded at slew_ma_per_s, armed with CLEAR and the output enabled."""
    reg = Regulator()
    if pulse is not None:
        reg.set_pulse(*pulse)
    reg.command(target_ma, slew_ma_per_s)
    reg.arm(CLEAR)
    reg.enable_output(True)
    return reg
