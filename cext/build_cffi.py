"""cffi build (out-of-line API mode) of ``core._regulator_cffi`` (SRS-036).

The declarations handed to cffi are read from the C headers themselves, so
that no type, function or limit is written twice: every ``#define NAME value``
becomes ``#define NAME ...`` (cffi takes the value from the compiler) and
every typedef and prototype is copied as it is.
"""
from __future__ import annotations

import pathlib
import re

from cffi import FFI

CEXT_DIR = pathlib.Path(__file__).resolve().parent
HEADERS = ("regulator_config.h", "regulator.h", "checklist_version.h", "arming.h", "simload.h", "hal.h", "runner.h")
# hal_template.c is compiled so that the board template follows hal.h (issue 13)
SOURCES = ("regulator.c", "arming.c", "simload.c", "hal_sim.c", "hal_template.c", "runner.c")

_ARRAY_LEN = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Z][A-Z0-9_]*)\s+(\S.*)$")


def header_cdef(text: str) -> str:
    """Declarations of one header for ffi.cdef: integer constants, types, prototypes."""
    out = []
    for line in text.splitlines():
        match = _DEFINE.match(line)
        if match:
            out.append(f"#define {match.group(1)} ...")
        elif not line.lstrip().startswith("#"):
            # array lengths named by a constant: cffi takes them from the compiler
            out.append(_ARRAY_LEN.sub("[...]", line))
    return "\n".join(out)


def _relative(path: pathlib.Path) -> str:
    # setuptools wants source paths relative to the project root
    try:
        return str(path.relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


ffibuilder = FFI()
ffibuilder.cdef("\n".join(header_cdef((CEXT_DIR / h).read_text()) for h in HEADERS))
ffibuilder.set_source(
    "core._regulator_cffi",
    '#include "regulator.h"\n#include "simload.h"\n#include "hal.h"\n#include "runner.h"\n',
    sources=[_relative(CEXT_DIR / s) for s in SOURCES],
    include_dirs=[_relative(CEXT_DIR)],
    # a changed limit in a header must rebuild the extension
    depends=[_relative(CEXT_DIR / h) for h in (*HEADERS, "regulator_checks.h")],
    extra_compile_args=["-std=c99", "-O2", "-Wall", "-Wextra"],
    libraries=["m", "pthread"],  # pthread: the real-time runner (SRS-211)
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
