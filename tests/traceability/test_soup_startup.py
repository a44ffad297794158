"""PR-051: code the environment runs at every interpreter start is SOUP
(SRS-294), and an anomaly review with blank text is an error naming the entry
and the field (SRS-276). setuptools' distutils-precedence.pth imports
_distutils_hack in every process of the virtual environment, the device
process's included: setuptools is a SOUP item at the version that runs here."""
from __future__ import annotations

import importlib.metadata as md
import re
import sys
import sysconfig
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability import soup_rules
from traceability.data import load_project
from traceability.docs import soupgen
from traceability.docs.soupver import build_requirements
from traceability.lock import review

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _startup_pth() -> dict[str, str]:
    """file name -> owning distribution of every .pth file of this environment that
    runs code at start (read here, independently of soup_rules): site.py executes
    its lines that begin with `import`."""
    owners = {}
    for d in md.distributions():
        for f in d.files or []:
            if f.name.endswith(".pth"):
                owners[Path(d.locate_file(f)).resolve()] = d.metadata["Name"]
    found = {}
    for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for pth in Path(site).glob("*.pth"):
            if any(line.startswith(("import ", "import\t")) for line in pth.read_text().splitlines()):
                found[pth.name] = owners.get(pth.resolve(), "")
    return found


def _drop(root: Path, names: list[str]) -> None:
    path = root / SOUP
    text = path.read_text()
    for name in names:
        m = re.search(r'^  - name: "?' + re.escape(name) + r'"?\n(?:    .*\n)*', text, re.M)
        assert m, name
        text = text[:m.start()] + text[m.end():]
    path.write_text(text)


@pytest.mark.req("SRS-294")
def test_every_startup_pth_of_this_environment_belongs_to_a_soup_item_at_its_version():
    assert sys.prefix != sys.base_prefix           # the project's virtual environment
    found = _startup_pth()
    assert found.get("distutils-precedence.pth") == "setuptools", found    # the reviewer's finding
    listed = {_norm(s.name): s for s in load_project(ROOT).soup}
    for pth, owner in found.items():
        assert owner, f"{pth} runs code at start and belongs to no distribution"
        if _norm(owner) == "ionto-core":
            continue                                # the product's own editable-install finder
        assert _norm(owner) in listed, (pth, owner)
        assert listed[_norm(owner)].version == md.version(owner), (pth, owner)
    assert {pth.name for pth, _ in soup_rules.startup_files()} == set(found)


@pytest.mark.req("SRS-294")
def test_setuptools_runs_here_at_its_reviewed_version_on_the_device_and_setup_installs_it():
    s = next(s for s in load_project(ROOT).soup if s.name == "setuptools")
    assert (s.version, s.version_probe, s.on_device) == (md.version("setuptools"), "dist", True)
    assert ("setuptools", s.version, f"setuptools=={s.version}") in build_requirements(ROOT)
    assert f"setuptools=={s.version}" in (ROOT / "requirements/tools.lock").read_text().splitlines()
    assert '-m pip install -q -c requirements/tools.lock setuptools' in (ROOT / "scripts/dev.sh").read_text()
    assert "setuptools" not in soupgen.NOT_SOUP


@pytest.mark.req("SRS-294")
def test_a_startup_pth_whose_distribution_has_no_entry_or_that_belongs_to_none_fails(copy, capsys, monkeypatch,
                                                                                     tmp_path):
    owners = {owner for owner in _startup_pth().values() if _norm(owner) != "ionto-core"}
    assert {"setuptools", "coverage"} <= owners
    _drop(copy, sorted(owners))
    review(load_project(copy), [f"SOUP:{n}" for n in owners])     # the deletion reviewed (SRS-288 passes)
    errs = static_errors(capsys, copy)
    for pth, owner in _startup_pth().items():
        if owner in owners:
            assert [e for e in errs if e.startswith(
                f"ERROR: {SOUP}: {owner}: field 'soup': {pth} of {owner} {md.version(owner)} runs code at every "
                f"interpreter start (the device process's too), but {owner} has no SOUP entry")], (pth, errs)
    # a .pth no distribution installed; one of paths only runs nothing
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "stray.pth").write_text("# a comment\nimport os; os.environ.get('X')\n")
    (site / "paths.pth").write_text("/opt/somewhere\n")
    monkeypatch.setattr(soup_rules, "site_dirs", lambda: [site])
    errs = static_errors(capsys, copy)
    assert [e for e in errs if e.startswith(f"ERROR: {SOUP}: stray.pth: field 'soup': {site / 'stray.pth'} runs "
                                            "code at every interpreter start") and e.endswith("[rule: soup]")]
    assert not [e for e in errs if "paths.pth" in e]


@pytest.mark.req("SRS-294")
def test_an_environment_setuptools_other_than_the_reviewed_one_fails(copy, capsys):
    path = copy / SOUP
    text = path.read_text()
    installed = md.version("setuptools")
    old = f'  - name: setuptools\n    kind: tool\n    version: "{installed}"\n'
    assert old in text
    path.write_text(text.replace(old, old.replace(installed, "65.5.0")))
    errs = static_errors(capsys, copy)
    assert [e for e in errs if e.startswith(f"ERROR: {SOUP}: setuptools: field 'version': installed version "
                                            f"{installed} is not the reviewed version 65.5.0")], errs


@pytest.mark.req("SRS-294")
def test_the_generator_writes_setuptools_as_loaded_on_the_device(copy):
    _drop(copy, ["setuptools"])
    written = [e for e in yaml.safe_load(soupgen.missing_entries(copy, date(2026, 12, 1)))
               if e["name"] == "setuptools"]
    assert len(written) == 1
    e = written[0]
    assert (e["version"], e["version_probe"], e["on_device"]) == (md.version("setuptools"), "dist", True)
    assert "distutils-precedence.pth" in e["purpose"] and e["anomalies"]["search"] == "pending"


# ---------------------------------------------------------------- audit finding 5 of issue 10
def _sha(data: bytes) -> str:
    import base64
    import hashlib
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _dist(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """A distribution installed in `site`: its files and a RECORD listing them with their sha256."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    rows = [f"{name}-{version}.dist-info/METADATA,,"]
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
        rows.append(f"{rel},sha256={_sha(text.encode())},{len(text.encode())}")
    (info / "RECORD").write_text("\n".join(rows) + "\n")


@pytest.mark.req("SRS-294")
def test_sitecustomize_a_changed_pth_and_a_distribution_posing_as_a_tool_fail(copy, capsys, monkeypatch, tmp_path):
    """sitecustomize.py in site-packages, a line appended to a distribution's .pth (RECORD hash not checked)
    and clang-14.0.6.dist-info owning clang_hook.pth (matched the clang compiler's entry) gave 0 errors."""
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import os\n")                       # no distribution's
    (site / "usercustomize").mkdir()
    (site / "usercustomize/__init__.py").write_text("import os\n")
    _dist(site, "evilpkg", "1.0", {"sitecustomize.pyc": "x"})                  # no SOUP entry
    _dist(site, "coverage", md.version("coverage"), {"a1_coverage.pth": "import os\n"})  # changed below
    (site / "a1_coverage.pth").write_text("import os\nimport attack\n")
    clang = next(s for s in load_project(copy).soup if s.name == "clang")
    assert clang.kind == "tool" and clang.version_probe == "clang"
    _dist(site, "clang", clang.version, {"clang_hook.pth": "import os\n"})
    monkeypatch.setattr(soup_rules, "site_dirs", lambda: [site])
    errs = [e for e in static_errors(capsys, copy) if e.startswith(f"ERROR: {SOUP}: ") and "[rule: soup]" in e]
    expected = [
        f"sitecustomize.py: field 'soup': {site / 'sitecustomize.py'} runs code at every interpreter start "
        "(the device process's too) but belongs to no installed distribution",
        f"usercustomize: field 'soup': {site / 'usercustomize'} runs code at every interpreter start",
        "evilpkg: field 'soup': sitecustomize.pyc of evilpkg 1.0 runs code at every interpreter start (the "
        "device process's too), but evilpkg has no SOUP entry",
        f"a1_coverage.pth: field 'soup': {site / 'a1_coverage.pth'} of coverage {md.version('coverage')} was "
        "changed after install: its sha256 ",
        f"clang: field 'soup': clang_hook.pth of the distribution clang {clang.version} runs code at every "
        "interpreter start (the device process's too), but the SOUP entry clang is no Python distribution",
    ]
    for want in expected:
        assert len([e for e in errs if e.startswith(f"ERROR: {SOUP}: {want}")]) == 1, (want, errs)
    assert len(errs) == len(expected), errs   # the unchanged files of listed distributions pass


@pytest.mark.req("SRS-294")
def test_the_files_of_this_environment_match_their_record(capsys):
    """The start-up files the rule reads here are the installed ones (hash equal to RECORD)."""
    rows = soup_rules._record_files()
    assert {path.name for path in rows} >= {"distutils-precedence.pth", "a1_coverage.pth"}
    assert all(soup_rules._record_hash(path, row) is None for path, (_, row) in rows.items())


@pytest.mark.req("SRS-294")
def test_the_record_cache_sees_an_install_and_an_edited_record_in_the_same_process(monkeypatch, tmp_path):
    """The RECORD rows are cached within a process (the tests run many checks); an install into a
    site dir already read, and a RECORD edited in place, are read afresh."""
    site = tmp_path / "site"
    _dist(site, "first", "1.0", {"first.pth": "import os\n"})
    monkeypatch.setattr(soup_rules, "site_dirs", lambda: [site])
    assert {p.name for p in soup_rules._record_files()} == {"first.pth"}
    _dist(site, "second", "2.0", {"second.pth": "import os\n"})
    assert {p.name for p in soup_rules._record_files()} == {"first.pth", "second.pth"}
    record = site / "second-2.0.dist-info/RECORD"
    record.write_text(record.read_text().replace("second.pth,", "renamed.pth,"))
    assert {p.name for p in soup_rules._record_files()} == {"first.pth", "renamed.pth"}


# ---------------------------------------------------------------- blank anomaly texts (SRS-276)
def _blank(root: Path, name: str, fld: str, value: str) -> None:
    path = root / SOUP
    text = path.read_text()
    start = text.index(f"  - name: {name}\n")
    m = re.compile(rf"^      {fld}: (>-\n(?:        .*\n)+|.*\n)", re.M).search(text, start)
    assert m and "      search: done" in text[start:text.index("\n  - name:", start)], name
    path.write_text(text[:m.start()] + f"      {fld}: {value}\n" + text[m.end():])


@pytest.mark.req("SRS-276")
@pytest.mark.parametrize("name, fld, value, expected", [
    ("SPIN", "evaluation", '"' + "\\u200b" * 21 + '"', "blank: "),                     # 21 zero-width spaces
    ("gcc", "looked_at", '"' + "\\ufeff\\u00a0\\u2060\\u3000\\x07" * 5 + '"', "blank: "),     # BOM, NBSP, joiner, ...
    ("clang", "evaluation", '"ok' + "\\u200b" * 30 + '"', "2 visible character(s), at least 20 needed"),
    ("SPIN", "looked_at", '"Not searched; n/a for now, TBD."', "looked_at says the tracker was not searched"),
    ("SPIN", "looked_at", '"NOT  SEARCHED, the metadata only was read."', "says the tracker was not searched"),
    ("gcc", "looked_at", '"The release notes of this version; n/a for now."', "placeholder, not a review: it says 'n/a'"),
    ("gcc", "evaluation", '"Nothing relevant for our use, details TBD."', "placeholder, not a review: it says 'TBD'"),
    ("clang", "evaluation", '"The evaluation is to be done after release."', "it says 'to be done'"),
    ("clang", "looked_at", '"The advisories and the tracker, TODO: link them."', "it says 'TODO'"),
    ("SPIN", "evaluation", '"A placeholder until the board team reviews it."', "it says 'placeholder'"),
    ("SPIN", "evaluation", '"The tracker was read; the evaluation follows later."', "it says 'later.'"),
])
def test_a_done_search_with_invisible_or_placeholder_text_fails_naming_entry_and_field(copy, capsys, name, fld,
                                                                                       value, expected):
    """Audit of issue 10, finding 3: zero-width text, "Not searched" in capitals and "n/a ... TBD" passed."""
    _blank(copy, name, fld, value)
    errs = static_errors(capsys, copy)
    mine = [e for e in errs if e.startswith(f"ERROR: {SOUP}:") and f" {name}: field 'anomalies" in e
            and expected in e]
    assert len(mine) == 1, (name, fld, [e for e in errs if name in e])


@pytest.mark.req("SRS-276")
def test_a_done_search_with_blank_looked_at_or_evaluation_fails_naming_entry_and_field(copy, capsys):
    _blank(copy, "SPIN", "looked_at", '""')
    _blank(copy, "gcc", "evaluation", '"  \\t  \\n   "')          # whitespace only
    errs = static_errors(capsys, copy)
    for name, fld in (("SPIN", "looked_at"), ("gcc", "evaluation")):
        mine = [e for e in errs if re.match(rf"ERROR: {SOUP}:\d+: {name}: field 'anomalies\.{fld}': Value error, "
                                            "blank: ", e)]
        assert len(mine) == 1, (name, fld, [e for e in errs if name in e])
        # the other rules do not repeat it as a missing entry, and the other entries still load
        assert not [e for e in errs if f"{name} has no SOUP entry" in e], errs
    loaded = {s.name for s in load_project(copy).soup}
    assert "SPIN" not in loaded and "gcc" not in loaded and {"clang", "CPython", "cffi"} <= loaded
