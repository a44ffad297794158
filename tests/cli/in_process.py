"""`ionto` run in this process, as the CLI tests drive it: the exit code, its
standard output and error (never a traceback), and a file's hash to show that
a refused command changed nothing."""
from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import core.cli as cli


class Terminal(io.StringIO):
    """stdin as a terminal: the answers typed, one a line."""

    def isatty(self) -> bool:
        return True


def run(capsys, *argv, stdin: str = "", terminal: bool = False) -> tuple[int, str, str]:
    sys.stdin = Terminal(stdin) if terminal else io.StringIO(stdin)
    try:
        code = cli.main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
