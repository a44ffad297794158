"""The thin wrapper (SRS-035), the cffi build (SRS-036) and the C coding
rules (SRS-020)."""
from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

import core.regulator as wrapper
from core.regulator import (LIMITS, BatchResult, CommandRejected, FaultCode, Polarity, PolarityChangeRefused,
                            RegulatorError, ResetRefused, RowBatch, SimulatedRig)
from tests.arming_kit import CLEAR

ROOT = pathlib.Path(__file__).resolve().parents[2]
CFFI_MODULE = "_regulator" + "_cffi"          # split so this file does not match itself
C_SOURCES = ("regulator.c", "simload.c")


@pytest.mark.req("SRS-035")
def test_only_the_wrapper_imports_the_cffi_module():
    pattern = re.compile(rf"(import\s+[\w.]*{CFFI_MODULE}|from\s+[\w.]*{CFFI_MODULE}\s+import"
                         rf"|from\s+core\s+import\s+[^\n]*\b{CFFI_MODULE})")
    importers = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in (".venv", "build", "mutants", ".git") or "site-packages" in parts:
            continue
        if pattern.search(path.read_text(errors="replace")):
            importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["core/regulator.py"]


@pytest.mark.req("SRS-035")
def test_units_are_converted_and_status_becomes_values():
    rig = SimulatedRig(seed=1, load_ohms=2000)
    rig.command(12.345, 0.5)
    rig.arm(CLEAR)
    rig.enable_output(True)
    last = rig.run(400)                                          # < 50 ms: no kick needed
    assert isinstance(last, BatchResult)
    assert last.target_ma == 12.345 and last.reference_ma == pytest.approx(0.02, abs=0.001)
    assert isinstance(last.polarity, Polarity) and isinstance(last.fault, FaultCode)
    assert last.output_enabled is True and last.contact_lost is False
    batch = rig.run_rows(2000, 100, stop_on_event=False)       # 20 s, kicked every 10 ms row
    assert isinstance(batch, RowBatch) and batch.charge_mas > 0
    last = batch.last
    assert last.reference_ma == pytest.approx(10.02, abs=0.001)
    assert last.voltage_v == pytest.approx(last.mean_current_ma * last.load_ohms / 1000, rel=0.02)
    assert rig.tick_hz == 10_000 and rig.hard_limit_ma == 30.0
    assert rig.compliance_v == 60.0 and rig.watchdog_ms == 50.0


@pytest.mark.req("SRS-035")
def test_status_codes_become_exceptions_of_the_contract():
    assert issubclass(CommandRejected, RegulatorError)
    assert issubclass(PolarityChangeRefused, RegulatorError)
    assert issubclass(ResetRefused, RegulatorError)
    with pytest.raises(CommandRejected) as info:
        SimulatedRig().command(31, 1)
    assert info.value.code == -2
    assert "target_ma=31" in str(info.value) and "0 to 30 mA" in str(info.value)


@pytest.mark.req("SRS-035")
def test_limits_come_from_the_compiled_module():
    assert LIMITS.hard_limit_ma == wrapper.lib.REG_HARD_LIMIT_UA / 1000
    assert LIMITS.compliance_v == wrapper.lib.REG_COMPLIANCE_MV / 1000
    source = (ROOT / "core" / "regulator.py").read_text()
    assert "30000" not in source and "60000" not in source     # not defined twice


@pytest.mark.req("SRS-036")
def test_extension_is_compiled_out_of_line_api_mode():
    import importlib
    compiled = importlib.import_module(f"core.{CFFI_MODULE}")
    assert pathlib.Path(compiled.__file__).suffix in (".so", ".pyd")
    assert hasattr(compiled.lib, "reg_tick") and hasattr(compiled.lib, "sim_run_rows")
    build = (ROOT / "cext" / "build_cffi.py").read_text()
    assert f'set_source(\n    "core.{CFFI_MODULE}"' in build
    assert compiled.ffi is wrapper.ffi and compiled.lib is wrapper.lib


@pytest.mark.req("SRS-036")
def test_pip_wheel_builds_and_installs_the_extension(tmp_path):
    wheel_dir = tmp_path / "wheels"
    # as `pip install .` does it: isolated build environment from pyproject.toml
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheel_dir)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = wheel_dir.glob("ionto_core-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.fullmatch(rf"core/{CFFI_MODULE}\..*\.(so|pyd)", n) for n in names)
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # the installed package arms from the product's checklist answered all clear (SRS-307)
    probe = ("import core.regulator as r; from core.checklist import ChecklistAnswers as A, CONTRAINDICATIONS as C, "
             "PREPARATION as P; rig = r.SimulatedRig(); rig.command(5, 5); "
             "rig.arm(A({i.id: False for i in C}, {i.id: True for i in P})); rig.enable_output(True); "
             "print(r.__file__, rig.run_rows(200, 100, stop_on_event=False).last.reference_ma)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    where, reference = done.stdout.split()
    assert where.startswith(str(target)) and float(reference) == 5.0   # 2 s at 5 mA/s


@pytest.mark.req("SRS-020")
def test_c_compiles_clean_as_strict_c99():
    out = pathlib.Path("/tmp") / "ionto_c99_check.o"
    for name in C_SOURCES:
        done = subprocess.run(["gcc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wshadow",
                               "-Wconversion", "-Wno-sign-conversion", "-I", str(ROOT / "cext"), "-c",
                               str(ROOT / "cext" / name), "-o", str(out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


@pytest.mark.req("SRS-020")
def test_c_has_no_heap_and_no_recursion():
    for name in C_SOURCES:
        text = (ROOT / "cext" / name).read_text()
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        assert not re.search(r"\b(malloc|calloc|realloc|free|alloca)\s*\(", code), name
        # every function body: it must not call itself
        for match in re.finditer(r"^\w[\w\s\*]*?\b(\w+)\s*\([^;{]*\)\s*\{(.*?)^\}", code, flags=re.S | re.M):
            fname, body = match.group(1), match.group(2)
            assert not re.search(rf"\b{fname}\s*\(", body), f"{name}: {fname} is recursive"


@pytest.mark.req("SRS-020")
def test_cppcheck_misra_passes():
    assert shutil.which("cppcheck"), "cppcheck is required (scripts/dev.sh setup installs it)"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "cppcheck.sh")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
