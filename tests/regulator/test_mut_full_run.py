"""Survivors of the full C mutation run (scripts/c_mutation.py --share 1
--deep, issue 12 point 1) outside the 1-in-8 sample, killed by what the
design notes of docs/design/regulator.md and the requirements say:

- reg_init "sets the whole state to defaults ... the only function that
  writes every field, so a reused struct never carries state from a previous
  session": a struct that held another session's bytes (0xa5 in every byte),
  once initialised, latches a metal contact (SRS-012) at the same reading as
  a fresh one. The short's settled count (SRS-311) is given its start by
  restart_from_zero(), which reg_init calls; one left at the stale bytes
  (-1 515 870 811) holds off a short present from the first reading until a
  reading that is not below 250 ohm, i.e. for as long as the contact lasts.
- reg_init's own start of the pulsed mode's counts (SRS-259 off-phase stuck
  count; SRS-312 settled-pair count, which the note of settled_current says is
  "cleared only by init, a fault reset and a new pulse train"): 0, as every
  count of readings in a row before any reading, as
  test_mutation_kills.py::test_init_sets_every_field_to_its_documented_start
  checks the others.

The bare regulator is fed readings the test chooses. To be run in
scripts/c_mutation.py's FAST selection (< 0.5 s).
"""
from __future__ import annotations

import pytest

from core.regulator import FaultCode, Regulator
from core.regulator import ffi, lib     # the wrapper's handles: only it imports the cffi module (SRS-035)
from tests.arming_kit import CLEAR

SHORT_TICKS = 5            # REG_SHORT_TICKS: 0.5 ms at 10 kHz (SRS-012)
SHORT_MIN_UA = 500         # REG_SHORT_MIN_UA: at least 0.5 mA (SRS-012)
METAL_OHMS = 100           # a metal contact: below REG_SHORT_OHMS = 250 ohm
STALE = b"\xa5"            # another session's bytes in every byte of the reused struct


def _reused_regulator(stale: bool) -> Regulator:
    """A bare regulator whose struct held stale bytes (or zeros) before
    reg_init; 5 mA commanded at 5 mA/s, armed, enabled (DC)."""
    reg = Regulator()
    size = ffi.sizeof("reg_state_t")
    ffi.memmove(reg._reg, (STALE if stale else b"\x00") * size, size)
    assert lib.reg_init(reg._reg) == lib.REG_OK
    reg.command(5.0, 5.0)
    reg.arm(CLEAR)
    reg.enable_output(True)
    return reg


def _onto_metal(reg: Regulator, ticks: int):
    """Closed loop onto a metal contact of METAL_OHMS from the first reading
    on, seen through its readings: under the plain drive both channels read
    drive / METAL_OHMS plus the ADC's 1 uA offset, the voltage the drive; at
    the sense level 9 uA (2 V over 220 kOhm) at 0 mV. One 12-bit step of
    dither on the channels (a live ADC, SRS-026). Every reading puts V/I below
    REG_SHORT_OHMS. Returns the outputs, up to the first fault."""
    outs = []
    out = reg.step(9, 9, 0)
    for k in range(ticks):
        reg.kick_watchdog()
        d = (k % 2) * 12
        if out.sense or not out.stage_on:
            out = reg.step(9 + d, 9 + d, 0)
        else:
            i_ua = out.drive_mv * 1000 // METAL_OHMS + 1 + d
            out = reg.step(i_ua, i_ua, out.drive_mv)
        outs.append(out)
        if out.fault != FaultCode.NONE:
            break
    return outs


@pytest.mark.req("SRS-012")
@pytest.mark.parametrize("stale", [False, True])
def test_a_reused_struct_latches_a_metal_contact_at_the_fifth_reading(stale):
    """100 ohm from the start: SHORT with the output off at the 5th reading
    in a row of at least 0.5 mA, whether the struct was zeros or another
    session's bytes before reg_init."""
    outs = _onto_metal(_reused_regulator(stale), 20_000)
    last = outs[-1]
    assert last.fault == FaultCode.SHORT and last.stage_on == 0 and last.drive_mv == 0
    run = 0
    for i, o in enumerate(outs):
        run = run + 1 if o.measured_ua >= SHORT_MIN_UA else 0
        if run == SHORT_TICKS:
            break
    assert run == SHORT_TICKS and i == len(outs) - 1


@pytest.mark.req("SRS-259", "SRS-312")
def test_init_starts_the_pulsed_counts_at_zero():
    """reg_init on a struct of stale bytes: plain DC (pulse 0 Hz, duty 0 %),
    and no off-phase or settled-pair reading counted yet (0), the start a
    new pulse train and a fault reset give as well."""
    state = ffi.new("reg_state_t *")
    size = ffi.sizeof("reg_state_t")
    ffi.memmove(state, STALE * size, size)
    assert lib.reg_init(state) == lib.REG_OK
    fields = ("pulse_hz", "duty_percent", "stuck_count", "settled_bad_count")
    assert {f: getattr(state, f) for f in fields} == {f: 0 for f in fields}
