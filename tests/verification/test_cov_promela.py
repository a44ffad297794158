"""SPIN on a machine with a validator (a failing validator refuses the event),
and the tool chain failing: spin -a, gcc or pan without a verdict each stop
the check with SpinError (exit 2 from ionto-verify), never a pass.

These tests run spin and gcc; they FAIL (never skip) when spin is missing."""
from __future__ import annotations

import os
import shutil
import textwrap
from dataclasses import replace

import pytest
from statemachine import State, StateMachine

from core.verification import promela, properties
from core.verification.introspect import introspect


class Lamp(StateMachine):
    off = State(initial=True)
    on = State()
    broken = State()
    switch = off.to(on, cond="powered") | on.to(off)
    fail = off.to(broken) | on.to(broken)
    repair = broken.to(off, validators="fixed")
    OUTPUT_TABLE = {"off": "OFF", "on": "HOLDING", "broken": "OFF"}

    def powered(self):
        return True

    def fixed(self):
        return None


MODEL = introspect(Lamp)


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "properties:\n"
        "  - {id: PROP-01, title: repaired only when fixed, statement: s, verifies: [SRS-122], kind: ltl,\n"
        "     ltl: \"[] (took(repair) -> guard(fixed))\"}\n")
    return properties.load(path)


@pytest.mark.req("SRS-122")
def test_a_failing_validator_refuses_the_event_in_the_promela_model(spec):
    assert shutil.which("spin"), "spin is not installed: run scripts/dev.sh setup (apt-get install spin)"
    text = promela.generate(MODEL, spec)
    assert textwrap.dedent("""\
        :: (src == S_broken && e == E_repair) ->
           if
           :: !(g_fixed) -> skip  /* a validator refuses the event */
           :: else ->
              st = S_off; taken = true
           fi
    """) in textwrap.dedent("\n".join(x[7:] for x in text.splitlines() if x.startswith("       ")))
    (r,) = promela.check(MODEL, spec)
    assert (r.id, r.holds) == ("PROP-01", True)
    # without the validator, repair is taken while fixed is false
    ts = tuple(replace(t, validators=()) if t.event == "repair" else t for t in MODEL.transitions)
    (r,) = promela.check(MODEL.with_changes(transitions=ts), spec)
    assert (r.holds, r.counterexample) == (False, ["fail", "repair [!fixed]"])


def _fake_tools(tmp_path, monkeypatch, **scripts: str) -> None:
    """Put shell scripts named after tools first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


# spin -a runs gcc as its preprocessor: only the compilation of pan.c is faked
_PAN_ONLY = """\
case " $* " in *" pan.c "*) ;; *) exec {real} "$@" ;; esac
{body}"""


@pytest.mark.req("SRS-122")
def test_spin_refusing_the_model_is_an_error_with_its_message(tmp_path, monkeypatch, spec):
    _fake_tools(tmp_path, monkeypatch, spin='echo "spin: machine.pml:3, Error: syntax error"; exit 1\n')
    with pytest.raises(promela.SpinError) as exc:
        promela.check(MODEL, spec)
    assert str(exc.value) == "spin -a failed: spin: machine.pml:3, Error: syntax error\n"


@pytest.mark.req("SRS-122")
def test_pan_that_does_not_compile_is_an_error_with_the_compiler_message(tmp_path, monkeypatch, spec):
    assert shutil.which("spin"), "spin is not installed: run scripts/dev.sh setup (apt-get install spin)"
    _fake_tools(tmp_path, monkeypatch, gcc=_PAN_ONLY.format(real=shutil.which("gcc"), body="""\
        echo "pan.c:1: fatal error: out of memory" >&2; exit 1
    """))
    with pytest.raises(promela.SpinError) as exc:
        promela.check(MODEL, spec, workdir=str(tmp_path))
    assert str(exc.value) == "gcc pan.c failed: pan.c:1: fatal error: out of memory\n"


@pytest.mark.req("SRS-122")
def test_pan_without_a_verdict_is_an_error_never_a_pass(tmp_path, monkeypatch, spec):
    assert shutil.which("spin"), "spin is not installed: run scripts/dev.sh setup (apt-get install spin)"
    # a "compiler" whose pan stops before it counts errors (as when it runs out of memory)
    _fake_tools(tmp_path, monkeypatch, gcc=_PAN_ONLY.format(real=shutil.which("gcc"), body="""\
        while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
        printf '#!/bin/sh\\necho "pan: out of memory"\\n' > "$out"
        chmod +x "$out"
    """))
    with pytest.raises(promela.SpinError) as exc:
        promela.check(MODEL, spec)
    assert str(exc.value) == "pan -N p01: no verdict: pan: out of memory\n"
