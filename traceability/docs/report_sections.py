"""Two parts of the audit report (`ionto-trace report`) from the IEC 62304
records (SRS-220): the clause map (docs/iec62304_clauses.yaml) and the
bibliography (docs/bibliography.yaml). The code computes the rows; the
templates clauses.html.j2, bibliography.html.j2 and _sections.md.j2 in
traceability/templates/ lay them out (a page each, and a section each
appended to report.md). report.py only adds the pages and calls these two.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace as NS

from traceability.docs import DOCUMENTS
from traceability.docs.records import BIBLIOGRAPHY, CLAUSES, RecordError, load_bibliography, load_clauses
from traceability.docs.rules import CITED, CITING_FILES

SECTION_PAGES = [("clauses.html", "IEC 62304 clause map"), ("bibliography.html", "Bibliography")]
DOC_TITLES = {did: (title, clause) for did, title, clause in DOCUMENTS}


def _target(root: Path, text: str) -> NS:
    """One clause-map target with whether it exists here (the check fails on a missing one)."""
    kind, _, name = text.partition(":")
    if kind == "doc":
        title, clause = DOC_TITLES.get(name, (None, ""))
        return NS(kind="document", name=f"{name}.html", exists=title is not None,
                  what=(f"{title} (IEC 62304 {clause}), written by `ionto-trace docs`" if title
                        else "not a document of the set"))
    matches = list(root.glob(name))    # what the check accepts: a file or a directory
    files = sum(1 for m in matches if m.is_file()) + sum(
        1 for m in matches if m.is_dir() for f in m.rglob("*") if f.is_file())
    return NS(kind="file", name=name, exists=bool(matches),
              what=f"{files} file(s)" if matches else "not found")


def clause_section(root: Path) -> NS:
    try:
        cm = load_clauses(root)
    except RecordError as exc:
        return NS(source=CLAUSES, problem=str(exc), standard="", rows=[], counts={})
    rows = [NS(clause=c.clause, activity=c.activity, not_applicable=c.not_applicable,
               targets=[_target(root, t) for t in c.satisfied_by]) for c in cm.clauses]
    counts = {"activities": len(rows),
              "satisfied": sum(1 for r in rows if r.targets and all(t.exists for t in r.targets)),
              "not applicable": sum(1 for r in rows if not r.targets and r.not_applicable),
              "missing or dangling": sum(1 for r in rows if (not r.targets and not r.not_applicable)
                                         or any(not t.exists for t in r.targets))}
    return NS(source=CLAUSES, problem="", standard=cm.standard, rows=rows, counts=counts)


def _citations(root: Path) -> dict[str, list[str]]:
    """source key -> the files of the repository that cite it in [brackets]."""
    cited: dict[str, list[str]] = {}
    for rel in (*CITING_FILES, "docs/domain.md"):
        path = root / rel
        if not path.exists():
            continue
        for m in CITED.finditer(path.read_text(encoding="utf-8")):
            for key in filter(None, re.split(r"[,/ ]+", m.group(1))):
                files = cited.setdefault(key, [])
                if rel not in files:
                    files.append(rel)
    return cited


def bibliography_section(root: Path) -> NS:
    try:
        bib = load_bibliography(root)
    except RecordError as exc:
        return NS(source=BIBLIOGRAPHY, problem=str(exc), document="", rows=[])
    cited = _citations(root)
    rows = [NS(key=s.key, source=s.source, facts=s.facts, cited_by=cited.get(s.key, [])) for s in bib.sources]
    return NS(source=BIBLIOGRAPHY, problem="", document=bib.document, rows=rows)


def section_model(root: Path) -> dict:
    """The report model's entries for the two pages."""
    return {"clause_map": clause_section(root), "bibliography": bibliography_section(root)}


def append_markdown(env, model: dict, report_md: Path) -> None:
    """The two sections at the end of report.md (the one-file copy of the report)."""
    from traceability.outwrite import write_out   # never through a link (SRS-295)
    write_out(report_md.parent, report_md.name, env.get_template("_sections.md.j2").render(**model), append=True)
