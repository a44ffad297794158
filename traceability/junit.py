"""JUnit XML (pytest --junitxml, junit_family xunit1) read as test results.

Each <testcase> becomes one entry of the same shape as the plugin's
results.json: node id, ids (from `<property name="verifies" value="SRS-001,
SRS-002"/>`), file, line, outcome and message, and the run's provenance from
the <testsuite> properties ionto_commit and ionto_source_sha256, so that `ionto-trace check
--results out/test-results/junit.xml` weighs it exactly like its own record.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from traceability.pytest_plugin import JUNIT_PROPERTY, MESSAGE_CHARS, PROVENANCE_PREFIX


class JUnitError(ValueError):
    """The file is not JUnit XML this reader understands."""


def _module_file(classname: str) -> str:
    parts = classname.split(".")
    while parts and parts[-1][:1].isupper():
        parts.pop()
    return "/".join(parts) + ".py"


def _nodeid(case: ET.Element) -> tuple[str, str, bool]:
    """(node id, file, whether the file is the test's own): a test defined
    elsewhere (hypothesis' stateful TestCase) names that file; the plugin then
    records the module's file, and so does this."""
    name = case.get("name") or ""
    classname = case.get("classname") or ""
    file = (case.get("file") or "").replace("\\", "/")
    own = True
    module = file[:-3].replace("/", ".") if file.endswith(".py") else file
    if not file or not (classname == module or classname.startswith(module + ".")):
        file, own = _module_file(classname), False   # (xunit2 has no file at all)
        module = file[:-3].replace("/", ".")
    rest = classname[len(module):].lstrip(".") if classname.startswith(module) else ""
    return "::".join([file] + [p for p in rest.split(".") if p] + [name]), file, own


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error")):
        el = case.find(tag)
        if el is not None:
            return outcome, (el.get("message") or el.text or "").strip()
    el = case.find("skipped")
    if el is not None:
        kind = "xfailed" if el.get("type") == "pytest.xfail" else "skipped"
        return kind, (el.get("message") or "").strip()
    return "passed", ""


def read_junit(path: Path) -> dict:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise JUnitError(f"not well-formed XML: {exc}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"root element <{root.tag}> is neither <testsuites> nor <testsuite>")
    tests = []
    for case in root.iter("testcase"):
        nodeid, file, own = _nodeid(case)
        ids: list[str] = []
        for prop in case.iter("property"):
            if prop.get("name") == JUNIT_PROPERTY:
                ids += [x.strip() for x in (prop.get("value") or "").split(",") if x.strip()]
        outcome, message = _outcome(case)
        try:
            line = int(case.get("line") or 0) + 1 if own else 1  # pytest writes the 0-based line
        except ValueError:
            line = 0
        tests.append({"nodeid": nodeid, "ids": sorted(set(ids)), "file": file, "line": line,
                      "outcome": outcome, "message": " ".join(message.split())[:MESSAGE_CHARS],
                      "duration_s": float(case.get("time") or 0.0), "run_id": "junit"})
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    run = {"run_id": "junit", "full": True, "source": "junit",
           "finished": (suite.get("timestamp") if suite is not None else None) or "",
           "collected": len(tests), "ran": len(tests)}
    # provenance: <testsuite><properties><property name="ionto_commit" .../> (the plugin writes them)
    if suite is not None:
        for prop in suite.findall("properties/property"):
            name = prop.get("name") or ""
            if name.startswith(PROVENANCE_PREFIX):
                run[name.removeprefix(PROVENANCE_PREFIX)] = prop.get("value") or ""
    return {"schema": 1, "runs": [run], "tests": tests}
