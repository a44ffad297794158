"""PR-049 (third review of issue 10): the software units are found by a C
parser in every form, keyed by file and name, and every module under core/ at
any depth is one (SRS-184). Each rule: a synthetic or mutated copy the check
refuses, and the repository passing."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.traceability.conftest import copy_tracked
from traceability.cli import main
from traceability.docs.records import load_design_notes
from traceability.docs.units import all_units, c_scan, c_units, py_units

ROOT = Path(__file__).resolve().parents[2]

# every form of PR-049 and the brief, with the line its definition starts on
FORMS_C = """\
#include <stdint.h>
#include <stddef.h>
#include "forms.h"
#define SQUARE(x) ((x) * (x))
/* int in_a_comment(void) { return 0; } */
static const char *g_text = "int in_a_string(void) { }";
static int32_t declared_only(int32_t a);

static int32_t plain_static(int32_t a, int32_t b)
{
    return a + b;
}

static inline int32_t inline_one_line(int32_t x) { return x; }

static int32_t
own_line_return(int32_t value_ua,
                int32_t limit_ua)
{
    return (value_ua > limit_ua) ? limit_ua : value_ua;
}

unsigned int two_words(void)
{
    return 0u;
}

const char *
pointer_return(int code) {
    return (code == 0) ? g_text : NULL;
}

int32_t CapitalName(int32_t *Count)
{
    if (Count != NULL) {
        *Count += 1;
    }
    return 0;
}

static void (*function_pointer_return(void))(int32_t)
{
    return NULL;
}

long kr_style(a, b)
    long a;
    long b;
{
    return a - b;
}
"""
FORMS_H = """\
#ifndef FORMS_H
#define FORMS_H
#include <stdint.h>
/* a prototype is not a definition */
unsigned int two_words(void);

/* a static inline helper in a header is a unit of the header */
static inline uint64_t header_inline(uint64_t ticks)
{
    return ticks * 2u;
}
#endif
"""
EXPECTED = {   # name -> (line, parameters, return type)
    "plain_static": (9, ["a", "b"], "int32_t"),
    "inline_one_line": (14, ["x"], "int32_t"),
    "own_line_return": (16, ["value_ua", "limit_ua"], "int32_t"),
    "two_words": (23, [], "unsigned int"),
    "pointer_return": (28, ["code"], "const char *"),
    "CapitalName": (33, ["Count"], "int32_t"),
    "function_pointer_return": (41, [], "void (*)(int32_t)"),
    "kr_style": (46, ["a", "b"], "long"),
}


def _errors(capsys, root: Path) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith("ERROR")]


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Path:
    return copy_tracked(tmp_path_factory.mktemp("tracked"))


@pytest.fixture
def copy(tracked, tmp_path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(tracked, root)
    return root


def _forms_root(root: Path, name: str = "runner.c") -> Path:
    (root / "cext").mkdir(parents=True, exist_ok=True)
    (root / "cext" / name).write_text(FORMS_C)
    (root / "cext/forms.h").write_text(FORMS_H)
    return root


# ---------------------------------------------------------------- 1. every form is a unit (SRS-184)
@pytest.mark.req("SRS-184")
def test_every_form_of_c_definition_is_a_unit_with_its_line_parameters_and_return(tmp_path):
    units = {u.name: u for u in c_units(_forms_root(tmp_path))}
    in_c = {n: (u.line, u.params, u.returns) for n, u in units.items() if u.file == "cext/runner.c"}
    assert in_c == EXPECTED
    assert units["header_inline"].file == "cext/forms.h" and units["header_inline"].line == 8
    assert units["header_inline"].params == ["ticks"] and units["header_inline"].returns == "uint64_t"
    # comments, strings, prototypes and macros are not definitions
    assert not {"in_a_comment", "in_a_string", "declared_only", "SQUARE"} & set(units)
    # the public declaration of a header of cext/ adds its comment and says so
    assert units["two_words"].interface == "unsigned int two_words(void)  [public: cext/forms.h]"
    assert units["two_words"].comment == "a prototype is not a definition"
    assert units["own_line_return"].interface == \
        "static int32_t own_line_return(int32_t value_ua, int32_t limit_ua)"


@pytest.mark.req("SRS-184")
def test_a_unit_of_every_form_without_a_note_fails_naming_file_line_and_rule(copy, capsys):
    _forms_root(copy, "forms.c")
    errs = _errors(capsys, copy)
    for name, (line, _, _) in EXPECTED.items():
        mine = [e for e in errs if f"docs/design/: cext/forms.c:{name}: software unit (C function, "
                f"cext/forms.c:{line}) has no design note: add a section '## `cext/forms.c:{name}`'" in e]
        assert len(mine) == 1 and mine[0].endswith("[rule: design-note]"), (name, mine)
    assert [e for e in errs if "docs/design/: cext/forms.h:header_inline: software unit (C function, "
            "cext/forms.h:8) has no design note" in e]


@pytest.mark.req("SRS-184")
def test_a_c_file_that_cannot_be_read_fails_closed_naming_it(copy, capsys):
    (copy / "cext/board_x.c").write_text("#include <stdint.h>\nstatic mystery_t f(void)\n{\n    return 0;\n}\n")
    errs = [e for e in _errors(capsys, copy) if "cext/board_x.c" in e]
    assert len(errs) == 1, errs
    assert errs[0].startswith("ERROR: cext/board_x.c: its C functions cannot be read, so its units are unknown: ")
    assert "pycparser cannot parse it" in errs[0] and errs[0].endswith("[rule: design-units]")


@pytest.mark.req("SRS-184")
def test_the_repositorys_c_units_are_every_function_of_every_file_of_cext():
    units, unreadable = c_scan(ROOT)
    assert unreadable == []
    files = {u.file for u in units}
    assert {"cext/regulator.c", "cext/runner.c", "cext/hal_sim.c", "cext/hal_template.c", "cext/simload.c"} == files
    # the same set a compiler reports: every definition `name(...)` followed by a body, in this code's style
    for rel in sorted(files):
        text = (ROOT / rel).read_text()
        defined = set(re.findall(r"^(?:static\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\([^;{]*\)\s*\n\{", text, re.M))
        assert defined == {u.name for u in units if u.file == rel}, rel


# ---------------------------------------------------------------- 2. notes keyed by file and name (SRS-184)
@pytest.mark.req("SRS-184")
def test_a_new_static_max_i32_in_the_runner_does_not_take_the_regulators_note(copy, capsys):
    path = copy / "cext/runner.c"
    text = path.read_text()
    anchor = "/* ---- helpers ---"
    assert anchor in text
    path.write_text(text.replace(anchor, "static int32_t max_i32(int32_t a, int32_t b)\n{\n"
                                         "    return (a > b) ? a : b;\n}\n\n" + anchor, 1))
    errs = _errors(capsys, copy)
    assert [e for e in errs if e.startswith("ERROR: docs/design/: cext/runner.c:max_i32: software unit "
                                            "(C function, cext/runner.c:")], errs
    assert not [e for e in errs if "cext/regulator.c:max_i32" in e and "[rule: design-note]" in e]


@pytest.mark.req("SRS-184")
def test_a_second_note_for_one_unit_and_a_note_under_the_old_bare_name_fail(copy, capsys):
    path = copy / "docs/design/regulator.md"
    path.write_text(path.read_text() + "\n## `cext/regulator.c:max_i32`\nA second note for the same unit, "
                    "returns the larger of `a` and `b` again.\n\n## `min_i32`\nThe note under its bare name, "
                    "as before PR-049: returns the smaller of `a` and `b`.\n")
    errs = _errors(capsys, copy)
    assert [e for e in errs if re.match(r"ERROR: docs/design/regulator\.md:\d+: cext/regulator\.c:max_i32: "
                                        r"second design note for the unit \(the first is docs/design/regulator"
                                        r"\.md:\d+\)", e) and e.endswith("[rule: design-note]")], errs
    assert [e for e in errs if re.match(r"ERROR: docs/design/regulator\.md:\d+: min_i32: design note for a unit "
                                        r"that is not in the code", e)], errs


@pytest.mark.req("SRS-184")
def test_every_note_was_migrated_to_its_key_with_its_text():
    notes = load_design_notes(ROOT)
    units = all_units(ROOT)
    assert sorted(notes) == sorted(u.key for u in units)
    assert all(":" in k for k in notes if not k.startswith("core/"))
    # texts the reviewers read before the migration, kept (one of each note file)
    assert "a channel failing low can never raise the patient current" in " ".join(
        notes["cext/regulator.c:max_i32"].text.split())
    assert "CPU time of the calling thread in ns" in notes["cext/runner.c:thread_cpu_ns"].text
    assert "Seqlock mailbox" not in notes["cext/runner.c:rt_post"].text   # realtime.md sections are not notes
    assert notes["core/realtime.py"].file == "docs/design/realtime.md"


# ---------------------------------------------------------------- 3. every module under core/ (SRS-184)
@pytest.mark.req("SRS-184")
def test_every_module_under_core_at_any_depth_is_a_unit(copy, capsys):
    assert {"core/__init__.py", "core/verification/__init__.py", "core/verification/cli.py"} <= {
        u.file for u in py_units(ROOT)}
    (copy / "core/hal_boards").mkdir()
    (copy / "core/hal_boards/__init__.py").write_text('"""Boards."""\n')
    (copy / "core/hal_boards/stm32/").mkdir()
    (copy / "core/hal_boards/stm32/board.py").write_text("def bind():\n    return 1\n")
    path = copy / "docs/design/core.md"
    text = path.read_text()
    start = text.index("## `core/__init__.py`\n")
    path.write_text(text[:start] + text[text.index("\n## `", start + 5) + 1:])
    errs = _errors(capsys, copy)
    for rel in ("core/hal_boards/__init__.py", "core/hal_boards/stm32/board.py", "core/__init__.py"):
        assert [e for e in errs if f"ERROR: docs/design/: {rel}: software unit (Python module, {rel}:1) has no "
                f"design note" in e and e.endswith("[rule: design-note]")], (rel, errs)
    assert "bind()" in next(u for u in py_units(copy) if u.file == "core/hal_boards/stm32/board.py").interface


# ---------------------------------------------------------------- 5. the repository (SRS-184, SRS-293)
@pytest.mark.req("SRS-184")
def test_the_repository_has_a_design_for_every_unit(capsys):
    errs = [e for e in _errors(capsys, ROOT) if "design-note" in e or "design-units" in e or "docs/design" in e]
    assert errs == []
