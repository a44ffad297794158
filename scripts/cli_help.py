#!/usr/bin/env python3
"""The reviewed copy of the help of every `ionto` command (SRS-313):
docs/cli-help/<command>.txt, one file per command and subcommand, as
`ionto ... --help` prints it at 100 columns with the history under
/home/user/.local/share. The help is user-interface text (labelling): a
change to any word of it is reviewed with its copy in the same commit.

Usage: scripts/cli_help.py [--update]
  without --update: exit 1 and a diff when a copy differs, is missing or
  is left over; with --update: write the copies (then review the diff)."""
from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
COPIES = ROOT / "docs" / "cli-help"
COLUMNS = "100"
DATA_HOME = "/home/user/.local/share"   # the default history path the help shows
_COLOUR = ("FORCE_COLOR", "NO_COLOR", "PYTHON_COLORS")
# the copies are argparse's output of this Python (the README's, Debian 12's):
# another minor version may wrap or word the help otherwise
PYTHON = (3, 11)


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every command path of the parser, the top level first."""
    yield prefix
    for action in parser._actions:    # argparse keeps the subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))


def help_texts() -> dict[str, str]:
    """{file name: help text} of every command, in a fixed environment."""
    saved = {k: os.environ.get(k) for k in ("COLUMNS", "XDG_DATA_HOME", *_COLOUR)}
    os.environ["COLUMNS"], os.environ["XDG_DATA_HOME"] = COLUMNS, DATA_HOME
    for name in _COLOUR:   # plain text: argparse colours its help from Python 3.14 on
        os.environ.pop(name, None)
    os.environ["NO_COLOR"], os.environ["PYTHON_COLORS"] = "1", "0"
    try:
        if str(ROOT) not in sys.path:   # once: the tests call this again and again
            sys.path.insert(0, str(ROOT))
        from core import cli
        texts = {}
        for path in _commands(cli.build_parser()):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                cli.main([*path, "--help"])
            texts["-".join(("ionto", *path)) + ".txt"] = out.getvalue()
        return texts
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def differences(texts: dict[str, str], copies: pathlib.Path | None = None) -> list[str]:
    """What differs between the help and its reviewed copies, as messages."""
    copies = COPIES if copies is None else copies
    found = []
    for name, text in texts.items():
        path = copies / name
        if not path.exists():
            found.append(f"{path.relative_to(ROOT)}: no reviewed copy of this command's help")
            continue
        copy = path.read_text(encoding="utf-8")
        if copy != text:
            diff = "".join(difflib.unified_diff(copy.splitlines(True), text.splitlines(True),
                                                f"{name} (reviewed copy)", f"{name} (the CLI now)"))
            found.append(f"{path.relative_to(ROOT)}: the help differs from its reviewed copy:\n{diff}")
    for path in sorted(copies.glob("*.txt")):
        if path.name not in texts:
            found.append(f"{path.relative_to(ROOT)}: a copy of no command's help (left over)")
    return found


def python_mismatch() -> str | None:
    """Why the copies cannot be compared under this interpreter, or None."""
    if sys.version_info[:2] == PYTHON:
        return None
    return (f"the reviewed copies are the help as Python {PYTHON[0]}.{PYTHON[1]}'s argparse prints it; this "
            f"is Python {sys.version_info[0]}.{sys.version_info[1]} (run the README's interpreter, or review "
            "the copies for this one and change PYTHON)")


def main(argv: list[str]) -> int:
    mismatch = python_mismatch()
    if mismatch:
        print(f"cli_help: {mismatch}", file=sys.stderr)
        return 1
    texts = help_texts()
    if argv == ["--update"]:
        COPIES.mkdir(parents=True, exist_ok=True)
        for path in COPIES.glob("*.txt"):
            if path.name not in texts:
                path.unlink()
        for name, text in texts.items():
            (COPIES / name).write_text(text, encoding="utf-8")
        print(f"cli_help: {len(texts)} copies written to {COPIES.relative_to(ROOT)}/; review the diff")
        return 0
    if argv:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 1
    found = differences(texts)
    for message in found:
        print(message, file=sys.stderr)
    if found:
        print("cli_help: after reviewing the new wording, scripts/cli_help.py --update", file=sys.stderr)
        return 1
    print(f"cli_help: the help of {len(texts)} commands equals its reviewed copy")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
