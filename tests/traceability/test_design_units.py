"""PR-049 (third review of issue 10): the software units are found by a C
parser in every form, keyed by file and name, every module under core/ at any
depth is one (SRS-184), and a placeholder note is refused (SRS-293). Each rule:
a synthetic or mutated copy the check refuses, and the repository passing."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.traceability.conftest import copy_tracked
from traceability.cli import main
from traceability.data import load_project
from traceability.docs.noterules import MIN_DISTINCT_WORDS, PLACEHOLDER, note_faults
from traceability.docs.records import design_note_sections, load_design_notes
from traceability.docs.units import BUILD_CONFIGS, Unit, all_units, c_scan, c_units, py_units
from traceability.lock import review

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER_NOTE = "To be written later, placeholder."

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
    assert {"cext/regulator.c", "cext/arming.c", "cext/runner.c", "cext/hal_sim.c", "cext/hal_template.c", "cext/simload.c"} == files
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


# ---------------------------------------------------------------- 4. placeholders (SRS-293)
def _unit(kind="C function", params=("reg", "i_ua"), returns="int32_t") -> Unit:
    return Unit("f", kind, "cext/x.c", 1, "", "", [], list(params), returns)


GOOD = ("Returns 1 when the reading `i_ua` of this tick is above the setpoint of `reg`, else 0; "
        "used by the anchor.")


@pytest.mark.req("SRS-293")
def test_a_note_needs_twelve_distinct_words():
    assert MIN_DISTINCT_WORDS == 12
    eleven = "Returns one two three four five six seven eight nine ten."
    twelve = "Returns one two three four five six seven eight nine ten eleven."
    assert any("11 distinct word(s), at least 12 needed" in f for f in note_faults(_unit(), eleven))
    assert note_faults(_unit(), twelve) == []
    # repeating a word does not make a note longer
    assert any("too short" in f for f in note_faults(_unit(), "Returns " + "value " * 30))


@pytest.mark.parametrize("phrase", ["To be written", "TODO", "TBD", "placeholder", "lorem ipsum", "FIXME",
                                    "will be documented later on", "n/a", "XXX", "???", "Coming soon",
                                    "to be done", "TBA", "filled in later", "design not yet written", "wip"])
@pytest.mark.req("SRS-293")
def test_a_placeholder_phrase_is_refused_wherever_it_stands(phrase):
    for text in (f"{phrase} {GOOD}", f"{GOOD} {phrase}"):
        faults = note_faults(_unit(), text)
        assert [f for f in faults if f.startswith("a placeholder, not a design: it says")], (text, faults)


@pytest.mark.parametrize("text", [f"Not yet written. {GOOD}", f"{GOOD} Details to follow.", f"{GOOD} More later."])
@pytest.mark.req("SRS-293")
def test_a_note_that_opens_with_not_written_or_ends_with_later_is_refused(text):
    assert [f for f in note_faults(_unit(), text) if f.startswith("a placeholder, not a design")], text


@pytest.mark.parametrize("text", [
    "Turns the output off and keeps the first fault's code (SRS-017): later faults never overwrite the cause "
    "an operator must see; returns nothing.",
    "Copies the ring record of tick `t` into `w` only if its stamp equals the tick number; otherwise 0 (not yet "
    "written or overwritten).",
    "a later start of current is the safe side, so `reg` waits for a settled window before it returns 1."])
@pytest.mark.req("SRS-293")
def test_design_words_that_resemble_placeholders_pass(text):
    assert PLACEHOLDER.search(text) is None
    assert note_faults(_unit(params=("reg", "t", "w")), text) == []


@pytest.mark.req("SRS-293")
def test_a_c_functions_note_names_a_parameter_as_code_or_what_it_returns():
    prose = "Checks the larger channel against the trip level and latches the fault in the same tick it is seen."
    faults = note_faults(_unit(), prose)
    assert faults == ["does not speak of the function: name one of its parameters as code (`reg`, `i_ua`) or "
                      "what it returns (int32_t: 'returns ...')"]
    assert note_faults(_unit(), prose + " `i_ua` is the reading.") == []
    assert note_faults(_unit(), prose + " Returns 1 when tripped.") == []
    # a parameter named as a plain word or "the return of" is not enough
    assert note_faults(_unit(), prose + " The reg and i_ua, until the return of contact.")
    assert note_faults(_unit(returns=""), prose + " Returns nothing.")                # void: a parameter
    assert note_faults(_unit(params=(), returns=""), prose) == []                     # nothing to name
    assert note_faults(_unit(kind="Python module", params=(), returns=""), prose) == []


@pytest.mark.req("SRS-293")
def test_every_note_replaced_by_a_reviewed_placeholder_fails_naming_file_line_unit_and_rule(copy, capsys):
    """The reviewer's reproducer: every note "To be written later, placeholder.", reviewed."""
    for path in (copy / "docs/design").glob("*.md"):
        lines, out, skip = path.read_text().splitlines(), [], False
        for line in lines:
            if re.match(r"^## `[^`]+`\s*$", line):
                out += [line, PLACEHOLDER_NOTE, ""]
                skip = True
            elif line.startswith("#"):
                out.append(line)
                skip = False
            elif not skip:
                out.append(line)
        path.write_text("\n".join(out) + "\n")
    review(load_project(copy), [], everything=True)
    errs = _errors(capsys, copy)
    assert not [e for e in errs if "[rule: reviewed]" in e]
    sections = design_note_sections(copy)
    units = {u.key: u for u in all_units(copy)}
    assert len(sections) == len(units) >= 140
    for key, note in sections:
        u = units[key]
        mine = [e for e in errs if e.startswith(f"ERROR: {note.file}:{note.line}: {key}: design note of the software "
                                                f"unit ({u.kind}, {u.file}:{u.line}) is ")]
        assert any("a placeholder, not a design: it says 'To be written'" in e for e in mine), (key, mine)
        assert any("too short to be a design: 5 distinct word(s)" in e for e in mine), (key, mine)
        assert all(e.endswith("[rule: design-note]") for e in mine)
        # all but the first unit also repeat another unit's note
        assert len(mine) >= 3 or key == sections[0][0], (key, mine)


@pytest.mark.req("SRS-293")
def test_one_note_copied_to_another_unit_fails(copy, capsys):
    notes = load_design_notes(copy)
    path = copy / "docs/design/regulator.md"
    text = path.read_text()
    body = notes["cext/regulator.c:min_i32"].text
    start = text.index("## `cext/regulator.c:max_i32`\n") + len("## `cext/regulator.c:max_i32`\n")
    end = text.index("\n## `", start)
    path.write_text(text[:start] + body + "\n" + text[end:])
    errs = [e for e in _errors(capsys, copy) if "word for word" in e]
    assert len(errs) == 1 and "is the note of cext/regulator.c:max_i32 word for word" in errs[0], errs
    assert errs[0].startswith("ERROR: docs/design/regulator.md:") and ": cext/regulator.c:min_i32: " in errs[0]


# ---------------------------------------------------------------- 5. the repository (SRS-184, SRS-293)
@pytest.mark.req("SRS-184", "SRS-293")
def test_the_repository_has_a_design_for_every_unit(capsys):
    errs = [e for e in _errors(capsys, ROOT) if "design-note" in e or "design-units" in e or "docs/design" in e]
    assert errs == []
    notes = load_design_notes(ROOT)
    for u in all_units(ROOT):
        assert note_faults(u, notes[u.key].text) == [], u.key


# ---------------------------------------------------------------- 6. every build configuration, every folder (PR-058)
BOARD_FN = "#ifdef IONTO_TARGET_HW\nstatic int32_t board_gain(int32_t a)\n{\n    return a;\n}\n#endif\n"


def _insert_in_runner(root: Path, text: str) -> int:
    """`text` before the runner's helpers; the 1-based line where it starts."""
    path = root / "cext/runner.c"
    src = path.read_text()
    anchor = "/* ---- helpers ---"
    assert anchor in src
    path.write_text(src.replace(anchor, text + "\n" + anchor, 1))
    return src[:src.index(anchor)].count("\n") + 1


@pytest.mark.req("SRS-184")
def test_the_build_configurations_are_the_host_and_the_board_build_with_ionto_target_hw():
    assert BUILD_CONFIGS == (("host", ()), ("board", ("IONTO_TARGET_HW",)))
    # the board configuration is a real build: the cross-compilation defines the macro
    arm = (ROOT / "scripts/cverify.sh").read_text()
    assert "arm-none-eabi-gcc -DIONTO_TARGET_HW " in arm


@pytest.mark.req("SRS-184")
def test_a_function_under_ifdef_ionto_target_hw_is_a_unit_that_needs_a_note(copy, capsys):
    """The auditor's reproducer: the unit list preprocessed without -D, so the branch was gone."""
    line = _insert_in_runner(copy, BOARD_FN)
    unit = {u.key: u for u in c_units(copy)}["cext/runner.c:board_gain"]
    assert (unit.line, unit.params, unit.returns) == (line + 1, ["a"], "int32_t")
    errs = _errors(capsys, copy)
    assert [e for e in errs if e.startswith(f"ERROR: docs/design/: cext/runner.c:board_gain: software unit "
                                            f"(C function, cext/runner.c:{line + 1}) has no design note")], errs
    assert not [e for e in errs if "[rule: design-units]" in e], errs


@pytest.mark.req("SRS-184")
def test_a_c_file_in_a_subfolder_of_cext_is_scanned(copy, capsys):
    (copy / "cext/boards").mkdir()
    (copy / "cext/boards/board.c").write_text('#include <stdint.h>\n#include "regulator.h"\n\n'
                                              "int32_t board_init(int32_t rate_hz)\n{\n    return rate_hz;\n}\n")
    assert "cext/boards/board.c:board_init" in {u.key for u in c_units(copy)}
    errs = _errors(capsys, copy)
    assert [e for e in errs if e.startswith("ERROR: docs/design/: cext/boards/board.c:board_init: software unit "
                                            "(C function, cext/boards/board.c:4) has no design note")], errs


@pytest.mark.req("SRS-184")
def test_code_in_a_block_no_configuration_compiles_is_refused_naming_file_lines_and_rule(copy, capsys):
    line = _insert_in_runner(copy, "#if defined(IONTO_OTHER_BOARD) && \\\n    (REG_TICK_HZ > 0)\n"
                                   "static int32_t other_gain(int32_t a)\n{\n    return a;\n}\n#endif\n"
                                   "#if 0\n/* a comment and a directive are no code */\n#error never\n#endif\n")
    errs = [e for e in _errors(capsys, copy) if "cext/runner.c" in e and "[rule: design-units]" in e]
    dead = ", ".join(str(n) for n in range(line + 2, line + 6))
    assert len(errs) == 1, errs
    assert errs[0].startswith(f"ERROR: cext/runner.c: its C functions cannot be read, so its units are unknown: "
                              f"line(s) {dead} are code in a conditional block that no build configuration "
                              "compiles (host, board (-DIONTO_TARGET_HW); "), errs
    # the same function under the board's macro is a unit, not refused
    (copy / "cext/runner.c").write_text((copy / "cext/runner.c").read_text().replace(
        "defined(IONTO_OTHER_BOARD)", "defined(IONTO_TARGET_HW)"))
    units, unreadable = c_scan(copy)
    assert unreadable == [] and "cext/runner.c:other_gain" in {u.key for u in units}


@pytest.mark.req("SRS-184")
def test_a_header_block_that_an_including_file_enables_is_compiled_and_one_none_enables_is_refused(tmp_path):
    (tmp_path / "cext").mkdir()
    (tmp_path / "cext/opt.h").write_text("#ifndef OPT_H\n#define OPT_H\n#ifdef OPT_WANTED\n"
                                         "static inline int opt_one(int v) { return v; }\n#endif\n"
                                         "#ifdef OPT_NEVER\nstatic inline int opt_two(int v) { return v; }\n"
                                         "#endif\n#endif\n")
    (tmp_path / "cext/user.c").write_text('#define OPT_WANTED\n#include "opt.h"\n'
                                          "int user(int v)\n{\n    return opt_one(v);\n}\n")
    units, unreadable = c_scan(tmp_path)
    assert {u.key for u in units} == {"cext/opt.h:opt_one", "cext/user.c:user"}
    assert [(e.file, e.message.split(" are code")[0]) for e in unreadable] == [("cext/opt.h", "line(s) 7")]
