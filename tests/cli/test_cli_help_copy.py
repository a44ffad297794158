"""The help of every `ionto` command equals its reviewed copy in
docs/cli-help/ (SRS-313), and the check that says so fails on a changed
word, a missing copy and a copy left over, naming the file.

The copies are argparse's output of the Python the README installs (3.11)."""
from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("cli_help", ROOT / "scripts" / "cli_help.py")
cli_help = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli_help)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return cli_help.help_texts()


@pytest.mark.req("SRS-313")
def test_the_help_of_every_command_equals_its_reviewed_copy(texts):
    assert cli_help.python_mismatch() is None, cli_help.python_mismatch()
    assert {"ionto.txt", "ionto-session.txt", "ionto-history.txt", "ionto-user-add.txt",
            "ionto-course-score.txt"} <= set(texts)
    found = cli_help.differences(texts)
    assert found == [], "\n".join(found) + "\n(after review: scripts/cli_help.py --update)"


@pytest.mark.req("SRS-313")
def test_the_help_is_shown_in_a_fixed_environment_and_the_callers_is_kept(monkeypatch, texts):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")           # colour asked for: plain text all the same
    assert cli_help.help_texts() == texts             # not the caller's width, home or colours
    assert all("\x1b" not in text for text in texts.values())
    assert "(default: /home/user/.local/share/ionto/history.sqlite)" in texts["ionto-history.txt"]
    import os
    assert os.environ["COLUMNS"] == "400" and "XDG_DATA_HOME" not in os.environ
    assert os.environ["FORCE_COLOR"] == "1" and "NO_COLOR" not in os.environ


@pytest.mark.req("SRS-313")
def test_a_changed_word_a_missing_copy_and_a_left_over_copy_are_each_named(tmp_path, monkeypatch, texts):
    monkeypatch.setattr(cli_help, "ROOT", tmp_path)
    copies = tmp_path / "docs" / "cli-help"
    copies.mkdir(parents=True)
    for name, text in texts.items():
        (copies / name).write_text(text, encoding="utf-8")
    assert cli_help.differences(texts, copies) == []
    session = texts["ionto-session.txt"]
    (copies / "ionto-session.txt").write_text(session.replace("treated area", "Treated area"), encoding="utf-8")
    (copies / "ionto-history.txt").unlink()
    (copies / "ionto-old.txt").write_text("usage: ionto old\n", encoding="utf-8")
    found = cli_help.differences(texts, copies)
    assert len(found) == 3
    assert found[0].startswith("docs/cli-help/ionto-session.txt: the help differs from its reviewed copy:")
    assert "-  --site SITE           Treated area" in found[0] and "+  --site SITE           treated area" in found[0]
    assert found[1] == "docs/cli-help/ionto-history.txt: no reviewed copy of this command's help"
    assert found[2] == "docs/cli-help/ionto-old.txt: a copy of no command's help (left over)"


@pytest.mark.req("SRS-313")
def test_the_script_exits_1_on_a_difference_and_on_a_bad_argument(tmp_path, monkeypatch, capsys, texts):
    assert cli_help.main([]) == 0
    assert "the help of 15 commands equals its reviewed copy" in capsys.readouterr().out
    assert cli_help.main(["--bogus"]) == 1
    assert "--update" in capsys.readouterr().err
    monkeypatch.setattr(cli_help, "ROOT", tmp_path)
    monkeypatch.setattr(cli_help, "COPIES", tmp_path / "docs" / "cli-help")
    assert cli_help.main([]) == 1                      # no copies at all
    err = capsys.readouterr().err
    assert err.count("no reviewed copy") == len(texts) and "scripts/cli_help.py --update" in err
    (tmp_path / "docs" / "cli-help").mkdir(parents=True)
    (tmp_path / "docs" / "cli-help" / "ionto-old.txt").write_text("x", encoding="utf-8")
    assert cli_help.main(["--update"]) == 0            # writes every copy, drops the left-over one
    assert sorted(p.name for p in (tmp_path / "docs" / "cli-help").iterdir()) == sorted(texts)
    assert cli_help.main([]) == 0


@pytest.mark.req("SRS-313")
def test_another_python_is_refused_naming_both_versions(monkeypatch, capsys):
    monkeypatch.setattr(cli_help, "PYTHON", (3, 99))
    assert cli_help.main([]) == 1
    err = capsys.readouterr().err
    assert "the reviewed copies are the help as Python 3.99's argparse prints it; this is Python 3." in err
    assert cli_help.main(["--update"]) == 1          # nor written from another interpreter
