#!/usr/bin/env python3
"""Builds core/_regulator_cffi into a given directory with extra C flags
(a sanitizer or a gcov build of the extension, issue 12 points 3-4), from the
same declarations as the real build (cext/build_cffi.py). The checkout itself
is not touched: the caller puts OUT_DIR first on PYTHONPATH... by copying.

Usage: build_ext.py OUT_DIR FLAG...   (e.g. -fsanitize=address,undefined)
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import sysconfig

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1]).resolve()
    flags = sys.argv[2:]
    sys.path.insert(0, str(ROOT / "cext"))
    import build_cffi
    work = out_dir / "_build"
    work.mkdir(parents=True, exist_ok=True)
    wrapper = work / "_regulator_cffi.c"
    build_cffi.ffibuilder.emit_c_code(str(wrapper))
    so = out_dir / "core" / "_regulator_cffi.abi3.so"
    so.parent.mkdir(parents=True, exist_ok=True)
    objs = []
    # the same C files as the real build (cext/build_cffi.py SOURCES)
    for src in (wrapper, *(ROOT / "cext" / s for s in build_cffi.SOURCES)):
        obj = work / (src.stem + ".o")
        cmd = ["gcc", "-std=c99", "-fPIC", "-g", "-I", str(ROOT / "cext"),
               "-I", sysconfig.get_paths()["include"], *flags, "-c", str(src), "-o", str(obj)]
        if src == wrapper:
            cmd.insert(1, "-w")
        subprocess.run(cmd, check=True, cwd=work)
        objs.append(str(obj))
    subprocess.run(["gcc", "-shared", *flags, *objs, "-lm", "-lpthread", "-o", str(so)], check=True, cwd=work)
    print(f"build_ext: {so} ({' '.join(flags)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
