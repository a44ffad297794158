"""Deliberately broken therapy machines, each derived from the real class.

Variants of the table are built with the verifier's own builder from the
introspected model with ONE change, so they differ from the real machine in
exactly the way their name says; `LyingOutput` is a subclass of the real
class whose runtime output permission disagrees with its table.
"""
from __future__ import annotations

from dataclasses import replace

from core.machine import OutputPermission, TherapyMachine
from core.verification.explore import build_class
from core.verification.introspect import introspect

REAL = introspect(TherapyMachine)


def _retarget(source: str, event: str, target: str):
    ts = [replace(t, target=target, internal=False) if (t.source, t.event) == (source, event) else t
          for t in REAL.transitions]
    return build_class(REAL.with_changes(transitions=tuple(ts)), name=f"Broken_{source}_{event}_{target}")


def _drop(source: str, event: str):
    ts = tuple(t for t in REAL.transitions if (t.source, t.event) != (source, event))
    return build_class(REAL.with_changes(transitions=ts), name=f"Broken_drop_{source}_{event}")


def _unguard(source: str, event: str):
    ts = tuple(replace(t, conds=()) if (t.source, t.event) == (source, event) else t
               for t in REAL.transitions)
    return build_class(REAL.with_changes(transitions=ts), name=f"Broken_unguarded_{event}")


def _permission(state: str, perm: str):
    table = dict(REAL.output)
    table[state] = perm
    return build_class(REAL.with_changes(output=table), name=f"Broken_{state}_{perm}")


# acknowledgement skips idle and goes straight to the checklist
AckToChecklist = _retarget("fault", "acknowledge", "checklist")
# a fault reported during treatment is not accepted
NoFaultFromTreat = _drop("treat", "fault")
# lift-off during treatment is not handled: output keeps holding
NoContactLostInTreat = _drop("treat", "contact_lost")
# the half-time reversal ignores the settings
UnguardedHalfTime = _unguard("treat", "half_time")
# the output may rise while the checklist is being confirmed
ChecklistRising = _permission("checklist", "RISING")
# a stop during treatment jumps to idle (no controlled ramp-down)
StopToIdle = _retarget("treat", "stop", "idle")


class LyingOutput(TherapyMachine):
    """The table is right, but the running machine reports HOLDING while paused."""

    @property
    def output_permission(self) -> OutputPermission:
        if self.state_id == "paused":
            return OutputPermission.HOLDING
        return super().output_permission
