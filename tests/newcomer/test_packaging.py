"""The distributions a device maker installs (SRS-110): `python -m build` gives an
sdist that builds and installs on its own and a cp311-abi3 wheel, both with
metadata; installed into a fresh virtual environment OUTSIDE the checkout, the
commands run a session. One build, one venv: the wheel first (with the
dependencies), then the sdist over it (compiled from source)."""
from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from traceability.data import load_project

ROOT = Path(__file__).resolve().parents[2]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))}: exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def _clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["XDG_DATA_HOME"] = str(home)
    return env


def _session(bindir: Path, cwd: Path, db: Path) -> dict:
    import json
    p = _run([str(bindir / "ionto"), "session", "--site", "hands", "--current", "10", "--minutes", "10",
              "--checklist", str(ROOT / "examples/checklist.yaml"), "--db", str(db), "--json"],
             cwd, _clean_env(cwd))
    return json.loads(p.stdout)


@pytest.mark.slow
@pytest.mark.req("SRS-110", "SRS-036", "SRS-183", "SRS-186")
def test_sdist_and_abi3_wheel_install_in_a_fresh_venv_and_run_a_session(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], tmp_path)
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    wheel, sdist = wheels[0], sdists[0]
    assert wheel.name.endswith("-cp311-abi3-linux_x86_64.whl") or "-cp311-abi3-" in wheel.name, wheel.name
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("cext/build_cffi.py", "cext/regulator.c", "cext/regulator.h", "cext/regulator_config.h",
                   "cext/simload.c", "cext/simload.h", "setup.py", "pyproject.toml", "README.md",
                   "spec/limits.yaml", "spec/requirements.yaml", "traceability/templates/base.html.j2"):
        assert needed in names, needed
    with zipfile.ZipFile(wheel) as z:
        files = z.namelist()
        meta = email.message_from_bytes(z.read(next(n for n in files if n.endswith(".dist-info/METADATA"))))
    assert any(n.startswith("core/_regulator_cffi.abi3") for n in files), "the extension is abi3"
    for pattern in ("traceability/templates/", "traceability/templates/static/", "traceability/docs/templates/",
                    "spec/", "hazard_analysis/"):
        assert any(n.startswith(pattern) and not n.endswith("/") for n in files), pattern
    assert meta["Description-Content-Type"] == "text/markdown" and "ionto-core" in meta.get_payload()
    assert meta.get_all("Classifier") and meta.get_all("Project-URL") and meta["Requires-Python"] == ">=3.11"

    env_dir = tmp_path / "venv"   # outside the checkout
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / "bin"
    _run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path, _clean_env(tmp_path))
    # a plain install pulls in exactly the runtime SOUP items, at their pinned versions
    # (pip and setuptools come with the venv and are never imported by the product)
    listed = json.loads(_run([str(bindir / "python"), "-m", "pip", "list", "--format=json"],
                             tmp_path, _clean_env(tmp_path)).stdout)
    installed = {_norm(d["name"]): d["version"] for d in listed}
    for name in ("ionto-core", "pip", "setuptools"):
        installed.pop(name, None)
    soup = {_norm(s.name): s.version for s in load_project(ROOT).soup if s.kind == "python"}
    assert installed == soup, (installed, soup)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(bindir / "python"), "-c", "import core, core._regulator_cffi as c; print(core.__file__, c.__file__)"],
                 work, _clean_env(work)).stdout
    assert str(ROOT) not in where and str(env_dir) in where, where
    for tool in ("ionto", "ionto-trace", "ionto-verify"):
        out = _run([str(bindir / tool), "--version"], work, _clean_env(work)).stdout
        assert out.strip() == f"{tool} 0.1.0", out
    s = _session(bindir, work, tmp_path / "wheel.sqlite")
    assert s["outcome"] == "completed" and s["delivered_mAmin"] > 90, s

    # the sdist, built from source (cffi compiles cext/) into the same venv
    _run([str(bindir / "python"), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(sdist)],
         tmp_path, _clean_env(tmp_path))
    s = _session(bindir, work, tmp_path / "sdist.sqlite")
    assert s["outcome"] == "completed", s
