"""The state diagram is generated from the machine, coloured by output permission."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.machine import TherapyMachine
from core.verification import diagram
from core.verification.introspect import introspect

DOCS_SVG = Path(__file__).resolve().parents[2] / "docs" / "therapy_machine.svg"


@pytest.mark.req("SRS-124")
def test_svg_has_every_state_coloured_by_permission(tmp_path):
    model = introspect(TherapyMachine)
    svg = diagram.write_svg(model, tmp_path / "m.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for state, perm in model.output.items():
        assert f">{state}</text>" in svg
        assert diagram.COLOURS[perm] in svg
    for event in model.events:
        assert event in svg
    assert "half_time [reversal_enabled]" in svg


@pytest.mark.req("SRS-124")
def test_docs_diagram_is_the_generated_one():
    # regenerate with: ionto-verify --diagram docs/therapy_machine.svg
    assert DOCS_SVG.exists(), "docs/therapy_machine.svg missing: run ionto-verify --diagram docs/therapy_machine.svg"
    text = DOCS_SVG.read_text()
    for state in introspect(TherapyMachine).states:
        assert f">{state}</text>" in text
