"""pytest plugin: records each test's outcome with the ids its `req` marker names.

Registered by tests/conftest.py. At the end of a session it writes
`out/test-results/results.json` (relative to the pytest rootdir; override with
`--trace-results PATH` or the IONTO_TRACE_RESULTS environment variable), which
`ionto-trace check` reads.

JUnit XML: each test also carries its ids as a property of its <testcase>,
`<property name="verifies" value="SRS-014, SRS-015"/>` (the pattern of
eclipse-score's `record_property("PartiallyVerifies", ...)`), so any JUnit
reader (Jenkins, GitLab) sees them in `pytest --junitxml FILE`; `ionto-trace
check --results FILE.xml` accepts that file as evidence too.

Full and partial runs: a run over the whole configured test suite (no -k, -m,
--deselect, no node ids, every testpath) REPLACES the table, so a deleted or
renamed test cannot leave evidence behind. Any other run MERGES: the tests it
ran overwrite their previous entries, the others keep theirs, and every entry
names the run that produced it (see `runs`). Writes are atomic and serialised
with a lock file, so concurrent pytest sessions in one checkout do not
corrupt the file. Under pytest-xdist (`-n N`) the workers collect: each
report carries its test's entry (ids, file, line) as an attribute, which
pytest's report serialisation takes to the controller, and only the
controller writes.

Provenance: each run records the commit and the hash of the sources it
tested (traceability.provenance), taken when the session starts; the JUnit
XML carries them as <testsuite> properties. `ionto-trace check` refuses
evidence whose commit or source hash is not the tree's it checks.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from traceability import DEFAULT_RESULTS, RESULTS_ENV
from traceability.provenance import provenance

SCHEMA = 1
MAX_RUNS_KEPT = 20
MESSAGE_CHARS = 600
JUNIT_PROPERTY = "verifies"
PROVENANCE_PREFIX = "ionto_"   # <testsuite> properties ionto_commit, ionto_source_sha256
# an xdist worker's report carries its test's entry (ids, file, line) in this attribute
REPORT_ATTR = "ionto_item"


def _junit_xml(config: pytest.Config):
    """pytest's LogXML object when --junitxml is given (as record_testsuite_property finds it)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover -- a pytest without it writes no properties
        return None
    return config.stash.get(xml_key, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ionto-trace")
    group.addoption("--trace-results", default=None, metavar="PATH",
                    help=f"where to write test outcomes with requirement ids (default {DEFAULT_RESULTS})")
    group.addoption("--no-trace-results", action="store_true", default=False,
                    help="do not write the traceability results file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "req(*ids): the requirement ids (SRS-xxx) or property ids (PROP-xx) a test verifies")
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(_WorkerTagger(), "ionto-trace-worker")
        return
    if config.getoption("--no-trace-results"):
        return
    config.pluginmanager.register(_Recorder(config), "ionto-trace-recorder")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _results_path(config: pytest.Config) -> Path:
    chosen = config.getoption("--trace-results") or os.environ.get(RESULTS_ENV)
    path = Path(chosen) if chosen else Path(DEFAULT_RESULTS)
    return path if path.is_absolute() else Path(config.rootpath) / path


def _is_full_run(config: pytest.Config) -> bool:
    """True when this run covers the whole configured suite, unfiltered."""
    opt = config.option
    if getattr(opt, "keyword", "") or getattr(opt, "markexpr", "") or getattr(opt, "deselect", None):
        return False
    if getattr(opt, "lf", False) or getattr(opt, "exitfirst", False):
        return False
    root = Path(config.rootpath).resolve()
    suite = {(root / p).resolve() for p in (config.getini("testpaths") or ["."])}
    given = set()
    for arg in config.args:
        if "::" in arg:
            return False
        given.add(Path(arg).resolve())
    return given == suite or given == {root}


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = _now()
        self.run_id = _dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.items: dict[str, dict] = {}
        self.provenance: dict[str, str] = {}
        self.collected_ids: set[str] = set()  # under xdist: what the workers collected

    # -- provenance: the sources as they are when the tests start
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session) -> None:
        self.provenance = provenance(Path(self.config.rootpath))
        xml = _junit_xml(self.config)
        if xml is not None:  # what record_testsuite_property does
            for key in ("commit", "source_sha256"):
                xml.add_global_property(f"{PROVENANCE_PREFIX}{key}", self.provenance[key])

    # -- collection: ids, file and line of each test (without xdist; with it the
    #    workers' reports bring them, see _WorkerTagger)
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        for item in items:
            entry = _entry(item)
            self.items[item.nodeid] = {**entry, "run_id": self.run_id}
            if entry["ids"]:  # what record_property does; written by --junitxml
                item.user_properties.append((JUNIT_PROPERTY, ", ".join(entry["ids"])))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.collected_ids.update(ids)

    # -- outcome: worst of setup/call/teardown
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.items.get(report.nodeid)
        if entry is None:
            tagged = getattr(report, REPORT_ATTR, None)
            if not isinstance(tagged, dict):
                return
            entry = self.items[report.nodeid] = {**tagged, "run_id": self.run_id}
        entry["duration_s"] = round(entry["duration_s"] + report.duration, 4)
        xfail = hasattr(report, "wasxfail")
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["message"] = _message(report)
        elif report.skipped and report.when in ("setup", "call"):
            entry["outcome"] = "xfailed" if xfail else "skipped"
            entry["message"] = _message(report)
        elif report.passed and report.when == "call" and entry["outcome"] == "not run":
            entry["outcome"] = "xpassed" if xfail else "passed"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        root = Path(self.config.rootpath)
        files = sorted({e["file"] for e in self.items.values()})
        run = {
            "run_id": self.run_id,
            "started": self.started,
            "finished": _now(),
            "args": list(self.config.invocation_params.args),
            "full": _is_full_run(self.config),
            "exitstatus": int(exitstatus),
            "collected": len(self.collected_ids | set(self.items)),
            "python": sys.version.split()[0],
            "pytest": pytest.__version__,
            # commit and source hash the results are evidence for (IEC 62304 5.6.7/5.7.5:
            # bound to the build), from self.provenance below
            "file_sha256": {f: _sha(root / f) for f in files},
            **self.provenance,
        }
        ran = {k: v for k, v in self.items.items() if v["outcome"] != "not run"}
        run["ran"] = len(ran)
        try:
            _write(_results_path(self.config), run, ran)
        except OSError as exc:  # never turn a test run red because of the record
            sys.stderr.write(f"ionto-trace: could not write test results: {exc}\n")


def _entry(item: pytest.Item) -> dict:
    """A test's ids (from its `req` markers), file and line, not yet run."""
    ids: list[str] = []
    bad: list[str] = []
    for mark in item.iter_markers(name="req"):
        for arg in mark.args:
            (ids if isinstance(arg, str) else bad).append(str(arg))
        if not mark.args:
            bad.append("<req marker without ids>")
    path, lineno, _ = item.location
    file = Path(path).as_posix()
    node_file = item.nodeid.split("::", 1)[0]
    if file != node_file:  # defined elsewhere (e.g. hypothesis' stateful TestCase)
        file, lineno = node_file, None
    entry = {
        "nodeid": item.nodeid,
        "ids": sorted(set(ids)),
        "file": file,
        "line": (lineno or 0) + 1,
        "outcome": "not run",  # deselected or stopped early: never written
        "duration_s": 0.0,
    }
    if bad:
        entry["marker_errors"] = bad
    return entry


class _WorkerTagger:
    """On an xdist worker: each test's ids become its JUnit property, and its
    entry rides on its reports to the controller's _Recorder."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        for item in items:
            entry = self.entries[item.nodeid] = _entry(item)
            if entry["ids"]:
                item.user_properties.append((JUNIT_PROPERTY, ", ".join(entry["ids"])))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        entry = self.entries.get(item.nodeid)
        if entry is not None:
            setattr(report, REPORT_ATTR, entry)
        return report


def _message(report: pytest.TestReport) -> str:
    """The failing assertion (or skip reason), where it happened, in one line."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, reason)
        return str(longrepr[2])[:MESSAGE_CHARS]
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        first = " ".join(crash.message.split())
        return f"{Path(crash.path).name}:{crash.lineno}: {first}"[:MESSAGE_CHARS]
    return _short(report.longreprtext)


def _short(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[:MESSAGE_CHARS]


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _write(path: Path, run: dict, items: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tests: dict[str, dict] = {}
        runs: list[dict] = []
        if not run["full"] and path.exists():
            try:
                old = json.loads(path.read_text())
                tests = {t["nodeid"]: t for t in old.get("tests", [])}
                runs = list(old.get("runs", []))
            except (ValueError, KeyError, TypeError):
                tests, runs = {}, []  # unreadable old file: start afresh
        tests.update(items)
        runs = (runs + [run])[-MAX_RUNS_KEPT:]
        data = {"schema": SCHEMA, "updated": run["finished"], "runs": runs,
                "tests": [tests[k] for k in sorted(tests)]}
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
