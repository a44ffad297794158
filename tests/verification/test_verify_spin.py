"""SPIN on the Promela model generated from the introspected machine.

These tests run spin and gcc; they FAIL (never skip) when spin is missing:
`scripts/dev.sh setup` installs it (Debian package `spin`)."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from core.machine import TherapyMachine
from core.verification import promela, properties
from core.verification.introspect import introspect
from tests.verification import broken_machines as bm

SPEC = properties.load()
LTL_PROPS = tuple(p.id for p in SPEC.properties if p.ltl is not None)


def spin_results(cls, spec=SPEC):
    assert shutil.which("spin"), "spin is not installed: run scripts/dev.sh setup (apt-get install spin)"
    return {r.id: r for r in promela.check(introspect(cls), spec)}


@pytest.mark.req("SRS-122", "SRS-120", "PROP-01", "PROP-03", "PROP-04", "PROP-05", "PROP-08", "PROP-09",
                 "PROP-11", "PROP-12", "PROP-13", "PROP-14", "PROP-15", "PROP-16", "PROP-17")
def test_spin_proves_every_ltl_property_of_the_real_machine():
    # the marker above must name every property with an ltl formula
    assert LTL_PROPS == ("PROP-01", "PROP-03", "PROP-04", "PROP-05", "PROP-08", "PROP-09",
                         "PROP-11", "PROP-12", "PROP-13", "PROP-14", "PROP-15", "PROP-16", "PROP-17")
    results = spin_results(TherapyMachine)
    assert set(results) == set(LTL_PROPS) and len(LTL_PROPS) >= 12
    assert {pid: r.holds for pid, r in results.items()} == dict.fromkeys(LTL_PROPS, True)
    # the search really ran over the product with the monitors (not an empty model)
    assert all(int(r.detail.split()[0]) > 1000 for r in results.values())


@pytest.mark.req("SRS-122", "SRS-057", "PROP-08", "PROP-03")
def test_spin_catches_acknowledge_to_checklist_and_gives_the_events():
    results = spin_results(bm.AckToChecklist)
    assert not results["PROP-08"].holds
    assert results["PROP-08"].counterexample == ["fault", "acknowledge [regulator_reset_ok]", "checklist_passed"]
    assert results["PROP-03"].counterexample == ["fault", "acknowledge [regulator_reset_ok]"]
    assert results["PROP-01"].holds  # unrelated properties still hold


@pytest.mark.req("SRS-122", "SRS-061", "PROP-13")
def test_spin_counterexample_shows_a_refused_event():
    results = spin_results(bm.NoContactLostInTreat)
    assert results["PROP-13"].counterexample == ["start", "checklist_passed", "ramp_complete",
                                                 "contact_lost (refused)"]


@pytest.mark.req("SRS-122", "SRS-066", "PROP-12")
def test_spin_shows_the_guard_value_that_breaks_the_reversal():
    results = spin_results(bm.UnguardedHalfTime)
    assert results["PROP-12"].counterexample == ["start", "checklist_passed", "ramp_complete",
                                                 "half_time [!reversal_enabled]"]


@pytest.mark.req("SRS-122", "SRS-053")
def test_liveness_formula_goes_through_the_acceptance_cycle_search(tmp_path):
    # "a fault is always eventually acknowledged" is false: the user may never
    # acknowledge. SPIN must find the lasso and the trail must show the cycle.
    path = tmp_path / "props.yaml"
    path.write_text(textwrap.dedent("""
        properties:
          - id: PROP-90
            title: fault eventually left
            statement: every fault is eventually followed by idle
            verifies: [SRS-053]
            kind: ltl
            ltl: "[] (at(fault) -> <> at(idle))"
    """))
    spec = properties.load(path)
    results = spin_results(TherapyMachine, spec)
    r = results["PROP-90"]
    assert not r.holds
    assert "<cycle>" in r.counterexample
    assert "fault" in r.counterexample[: r.counterexample.index("<cycle>") + 1] or \
        r.counterexample[-1].startswith("fault")


@pytest.mark.req("SRS-122")
def test_promela_is_generated_from_the_class():
    text = promela.generate(introspect(TherapyMachine), SPEC)
    for s in TherapyMachine.states:
        assert f"S_{s.id}" in text
    for e in TherapyMachine._events:
        assert f":: e = E_{e.id}" in text
    assert "(src == S_treat && e == E_half_time)" in text and ":: (g_reversal_enabled) -> st = S_reverse_down" in text
    assert text.count("ltl p") == len(LTL_PROPS)


@pytest.mark.req("SRS-122")
def test_trail_output_becomes_events():
    out = textwrap.dedent("""\
        ltl p08: [] (...)
              STEP S_idle E_fault S_fault 1 0 1
              STEP S_fault E_start S_fault 0 1 1
              STEP S_fault E_acknowledge S_idle 1 1 0
          <<<<<START OF CYCLE>>>>>
              STEP S_idle E_stop S_idle 0 0 0
        spin: trail ends after 20 steps
    """)
    model = introspect(TherapyMachine)
    # guards are printed in sorted order: regulator_reset_ok, reversal_enabled
    assert promela.parse_trail(out, model, SPEC) == [
        "fault", "acknowledge [regulator_reset_ok]", "<cycle>",
        "stop [!regulator_reset_ok, !reversal_enabled] (refused)"]
    assert promela.parse_trail(out) == ["fault", "acknowledge", "<cycle>", "stop (refused)"]
