"""spec/properties.yaml and its formulas: every malformed input is refused
with the field (or the place in the formula) and what is allowed; ionto-verify
exits 2 on it. The operators the real spec does not use (<->, U, energised,
true/false) mean what formula.py says, in the explorer and in SPIN."""
from __future__ import annotations

import textwrap

import pytest

from core.machine import TherapyMachine
from core.verification import cli, explore, formula, promela, properties
from core.verification.introspect import introspect
from core.verification.properties import PropertiesError

MODEL = introspect(TherapyMachine)
P = "{id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: '[] off'}"


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.mark.req("SRS-120")
@pytest.mark.parametrize("text, message", [
    ("- just a list\n", "{path}: needs a top-level 'properties:' list"),
    ("properties: {}\n", "{path}: needs a top-level 'properties:' list"),
    (f"properties: [{P}]\nmonitor: []\n", "{path}: unknown top-level keys ['monitor']"),
    ("properties: [PROP-01]\n", "properties[0]: not a mapping"),
    ("properties: [{id: PROP-01, titel: t}]\n",
     "properties[0]: unknown fields ['titel'] (allowed ['check', 'id', 'kind', 'ltl', 'statement', 'title', "
     "'verifies'])"),
    ("properties: [{title: t}]\n", "properties[0]: missing field 'id'"),
    ("properties: [{id: 1}]\n", "properties[0].id: 1 is not a str"),
    ("properties: [{id: PROP-1}]\n", "properties[0].id: 'PROP-1' must be a new id of the form PROP-nn"),
    (f"properties: [{P}, {P}]\n", "properties[1].id: 'PROP-01' must be a new id of the form PROP-nn"),
    ("properties: [{id: PROP-01, verifies: SRS-050}]\n", "properties[0].verifies: 'SRS-050' is not a list"),
    ("properties: [{id: PROP-01, verifies: []}]\n", "PROP-01.verifies: [] must list SRS-nnn ids"),
    ("properties: [{id: PROP-01, verifies: [SRS-050], kind: liveness}]\n",
     "PROP-01.kind: 'liveness' is not one of invariant, ltl"),
    ("properties: [{id: PROP-01, verifies: [SRS-050], kind: ltl}]\n", "properties[0]: missing field 'ltl'"),
    ("properties: [{id: PROP-01, verifies: [SRS-050], kind: invariant}]\n",
     "properties[0]: missing field 'check'"),
    ("properties: [{id: PROP-01, verifies: [SRS-050], kind: invariant, check: no_deadlock}]\n",
     "PROP-01.check: 'no_deadlock' is not one of " + repr(properties.CHECKS)),
    (f"properties: [{P}]\nmonitors: [{{name: m, set: 'off'}}]\n", "monitors[0]: missing field 'clear'"),
    # YAML reads a bare off as the boolean false
    (f"properties: [{P}]\nmonitors: [{{name: m, set: off}}]\n", "monitors[0].set: False is not a str"),
    (f"properties: [{P}]\nequivalent_mutants: [{{mutant: 'drop x'}}]\n",
     "equivalent_mutants[0]: missing field 'reason'"),
])
def test_malformed_properties_file_is_refused_naming_the_field(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(PropertiesError) as exc:
        properties.load(path)
    assert str(exc.value) == message.format(path=path)


@pytest.mark.req("SRS-120")
def test_equivalent_mutants_are_read_with_their_reason(tmp_path):
    spec = properties.load(_write(tmp_path, f"""\
        properties: [{P}]
        equivalent_mutants:
          - {{mutant: "drop idle--start-->checklist", reason: "why"}}
    """))
    assert spec.equivalent == {"drop idle--start-->checklist": "why"}


@pytest.mark.req("SRS-120")
def test_a_temporal_monitor_is_refused(tmp_path):
    spec = properties.load(_write(tmp_path, f"""\
        properties: [{P}]
        monitors:
          - {{name: later, meaning: m, set: "<> at(fault)", clear: "at(idle)"}}
    """))
    with pytest.raises(PropertiesError, match=r"^monitor later.set: must be a plain condition$"):
        spec.validate_for(MODEL)


@pytest.mark.req("SRS-120")
@pytest.mark.parametrize("ltl, message", [
    ("[] (off & holding)", "formula '[] (off & holding)': cannot read from ' & holding)'"),
    ("[] at(idle", "formula '[] at(idle': expected ), got None"),
    ("[] off holding", "formula '[] off holding': unexpected 'holding'"),
    ("[] (off && )", "formula '[] (off && )': unexpected ')'"),
    ("[] holdng", "PROP-01: unknown name 'holdng' (allowed: ['energised', 'falling', 'false', 'holding', 'off', "
                  "'reduced', 'rising', 'src_falling', 'src_holding', 'src_off', 'src_reduced', 'src_rising', "
                  "'taken', 'true'])"),
])
def test_a_malformed_formula_exits_2_naming_where_it_fails(tmp_path, capsys, ltl, message):
    path = _write(tmp_path, f"""\
        properties:
          - {{id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "{ltl}"}}
    """)
    assert cli.main(["--properties", path, "--out", str(tmp_path), "--no-mutation"]) == 2
    assert capsys.readouterr().err == f"ionto-verify: error: {message}\n"


def _explore(spec):
    lts, mismatches = explore.drive_class(TherapyMachine, MODEL)
    return {r.id: r for r in explore.check(MODEL, lts, spec, mismatches)}


@pytest.mark.req("SRS-121", "SRS-122")
def test_iff_energised_and_until_mean_the_same_to_the_explorer_and_to_spin(tmp_path):
    spec = properties.load(_write(tmp_path, """\
        properties:
          - {id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] (energised <-> !off)"}
          # idle is not the only OFF state: checklist, paused, polarity_switch, fault are OFF too
          - {id: PROP-02, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] (at(idle) <-> off)"}
          # the output is off until it is energised: false, it may never be (a lasso)
          - {id: PROP-03, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "off U energised"}
    """))
    spec.validate_for(MODEL)
    ex = _explore(spec)
    assert set(ex) == {"PROP-01", "PROP-02"}  # U is for SPIN only
    assert ex["PROP-01"].result == "proven"
    assert (ex["PROP-02"].result, ex["PROP-02"].counterexample) == ("violated", ["start"])
    sp = {r.id: r for r in promela.check(MODEL, spec)}
    assert (sp["PROP-01"].holds, sp["PROP-02"].holds, sp["PROP-03"].holds) == (True, False, False)
    assert sp["PROP-02"].counterexample == ["start"]
    assert "<cycle>" in sp["PROP-03"].counterexample
    text = promela.generate(MODEL, spec)
    assert "ltl p01 { ([] ((st == S_ramp || st == S_treat || st == S_limited || st == S_reverse_down" in text
    assert "<->" in text and " U " in text


@pytest.mark.req("SRS-121")
def test_a_temporal_operator_cannot_be_compiled_for_one_step():
    # the explorer checks [] conditions only; anything else is SPIN's
    with pytest.raises(formula.FormulaError, match=r"^temporal operator F cannot be evaluated on one step$"):
        formula.compile_predicate(formula.parse("off -> <> energised"), MODEL)


OWN_NAMES = ("['U', 'X', 'at', 'energised', 'entered', 'falling', 'false', 'guard', 'holding', 'off', 'reduced', "
             "'rising', 'src_falling', 'src_holding', 'src_is', 'src_off', 'src_reduced', 'src_rising', 'taken', "
             "'took', 'tried', 'true']")


@pytest.mark.req("SRS-120", "SRS-121", "SRS-122")
@pytest.mark.parametrize("name", ["holding", "src_off", "taken", "true", "at", "X", "was-fault"])
def test_a_monitor_named_like_an_atom_or_not_an_identifier_is_refused(tmp_path, capsys, name):
    # found while covering formula.py: a monitor named `holding` was shadowed by
    # the permission atom, so "[] (holding -> !at(idle))" was proven although the
    # monitor (set in fault) holds in idle after an acknowledgement; a name with
    # '-' broke the Promela model (spin -a: syntax error)
    path = _write(tmp_path, f"""\
        monitors:
          - {{name: "{name}", meaning: was in fault, set: "at(fault)", clear: "false"}}
        properties:
          - {{id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] !at(fault)"}}
    """)
    message = f"monitor {name}.name: must be an identifier not among the formula's own names {OWN_NAMES}"
    with pytest.raises(PropertiesError) as exc:
        properties.load(path).validate_for(MODEL)
    assert str(exc.value) == message
    assert cli.main(["--properties", path, "--out", str(tmp_path), "--no-mutation"]) == 2
    assert capsys.readouterr().err == f"ionto-verify: error: {message}\n"


@pytest.mark.req("SRS-121", "SRS-122")
def test_a_monitor_with_its_own_name_is_read_as_the_monitor(tmp_path):
    # the shadowed case above, renamed: the monitor set in fault holds in idle
    # after fault -> acknowledge, so the property is violated by both checkers
    spec = properties.load(_write(tmp_path, """\
        monitors:
          - {name: was_fault, meaning: was in fault, set: "at(fault)", clear: "false"}
        properties:
          - {id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] (was_fault -> !at(idle))"}
    """))
    spec.validate_for(MODEL)
    r = _explore(spec)["PROP-01"]
    assert (r.result, r.counterexample) == ("violated", ["fault", "acknowledge [regulator_reset_ok]"])
    (s,) = promela.check(MODEL, spec)
    assert (s.holds, s.counterexample) == (False, ["fault", "acknowledge [regulator_reset_ok]"])
