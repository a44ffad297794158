"""The checklist arm every test that enables the output gives first (SRS-307):
the product's checklist answered all clear, as a passed session hands it to
the C loop. Tests of the gate itself build their own answers."""
from __future__ import annotations

from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers
from core.regulator import lib

CLEAR = ChecklistAnswers({item.id: False for item in CONTRAINDICATIONS},
                         {item.id: True for item in PREPARATION})
# the same as raw codes (bare regulator, raw_arm)
CLEAR_CODES = ([lib.REG_ANSWER_NO] * len(CONTRAINDICATIONS), [lib.REG_ANSWER_YES] * len(PREPARATION))


def armed(target):
    """`target` (a SimulatedRig, Regulator or device) armed with CLEAR; returned."""
    target.arm(CLEAR)
    return target
