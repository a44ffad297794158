"""Issue 9, audit gaps G4 and G5 (SRS-240): the source hash that binds test evidence
covers the C sources, the compiled extension (ignored by git), examples/ and scripts/;
results of an earlier run then count as evidence from another build."""
from __future__ import annotations

from pathlib import Path

import pytest

from traceability.provenance import built_artefacts, source_files, source_sha256

SO = "core/_regulator_cffi.abi3.so"


def _tree(root: Path) -> Path:
    """A small tree that is no git checkout (the files are found by walking)."""
    for rel, text in {"cext/regulator.c": "int reg_tick(void) { return 0; }\n",
                      "core/__init__.py": "", "examples/scenario-liftoff.yaml": "lift_at_s: 10\n",
                      "scripts/dev.sh": "echo test\n", "spec/limits.yaml": "hands_max_ua: 25000\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.req("SRS-240")
@pytest.mark.parametrize("rel", ["cext/regulator.c", "examples/scenario-liftoff.yaml", "scripts/dev.sh"])
def test_a_changed_c_source_example_or_script_changes_the_hash(tmp_path, rel):
    root = _tree(tmp_path)
    before = source_sha256(root)
    assert rel in source_files(root)
    (root / rel).write_text((root / rel).read_text() + "# changed\n")
    assert source_sha256(root) != before


@pytest.mark.req("SRS-240")
def test_the_built_extension_is_hashed_built_rebuilt_or_missing(tmp_path):
    root = _tree(tmp_path)
    none = source_sha256(root)
    (root / SO).write_bytes(b"\x7fELF loop v1")
    assert built_artefacts(root) == [SO]
    v1 = source_sha256(root)
    (root / SO).write_bytes(b"\x7fELF loop v2")          # rebuilt from changed C sources
    v2 = source_sha256(root)
    (root / SO).unlink()
    assert len({none, v1, v2}) == 3
    assert source_sha256(root) == none                    # the same tree gives the same hash


@pytest.mark.req("SRS-240")
def test_the_repository_hash_includes_its_built_loop():
    root = Path(__file__).resolve().parents[2]
    built = built_artefacts(root)
    assert built and all(b.startswith("core/_regulator_cffi") for b in built)


@pytest.mark.req("SRS-240")
def test_results_of_an_old_build_of_the_loop_are_not_counted(repo, capsys):
    """Results stamped with the hash of this copy; then the loop is rebuilt (a new .so):
    the same results are evidence from another build, an error, and count for nothing."""
    repo.stamp()
    repo.frozen = True
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    repo.path(SO).parent.mkdir(parents=True, exist_ok=True)
    repo.path(SO).write_bytes(b"\x7fELF rebuilt loop")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    hits = [x for x in out.splitlines() if x.startswith("ERROR: out/test-results/results.json")
            and "evidence from another build" in x and "[rule: evidence-provenance]" in x]
    assert hits, out
