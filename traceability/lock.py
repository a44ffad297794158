"""Review fingerprints and suspect links (Doorstop's model, kept in spec/links.lock).

Each reviewable item has a fingerprint: a hash of its normative text (not its
status, which changes as work progresses). The lock records, for every item,
the fingerprint it had when it was last reviewed, and for every link
source -> target the fingerprint the TARGET had when the link was reviewed.

- item text changed since its review        -> "unreviewed change"  (error)
- link target changed since the link review -> "suspect link"       (error)
- item or link never reviewed               -> "not yet reviewed"   (error)

`ionto-trace review ID` re-stamps the item and every link from or to it.
"""
from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from traceability.data import LOCK, Project
from traceability.models import DEVICE_MAKER, LinksLock
from traceability.yamlload import DataError, load_yaml

FP_CHARS = 16


def _fp(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FP_CHARS]


# what a review of a changed risk record must look at (the fingerprint covers it)
_WHAT = {"HAZ": " (its situations' texts, risk estimates, control lists, benefit-risk statements)",
         "FM-": " (every field of the FMEA row: severity, occurrence, controls, residual risk)",
         "RC-": " (its text, type, means, requirements and cited instructions)",
         "RMP": " (the plan's scales, risk matrix, software items, independence groups and "
                "systematic occurrence, open risks, acceptance policy)",
         "IFU": " (the whole instructions for use: every section an information control cites)",
         "RMR": " (the dependent-failure analysis, overall residual risk, benefit-risk and report)"}
PLAN_ID = "RMP"  # the risk management plan's scales, matrix and rules, reviewed as one item
IFU_ID = "IFU"   # docs/instructions_for_use.md, reviewed as one item (the information controls cite it)
REPORT_ID = "RMR"  # hazard_analysis/risk_management_report.yaml, reviewed as one item


def _risk(r) -> list[str]:
    return [r.severity, r.probability]


def fingerprints(p: Project) -> dict[str, str]:
    """id -> fingerprint of every reviewable item: its normative text, and in the
    risk file every risk estimate, control list and FMEA field (issue 9), so
    that lowering a probability or dropping a control is an unreviewed change."""
    fps: dict[str, str] = {}
    for n in p.needs.values():
        fps[n.id] = _fp(n.title, n.statement)
    for r in p.reqs.values():
        # a hardware duty's text is what the device maker must meet: its method is part of it
        fps[r.id] = (_fp(r.title, r.statement, r.kind, r.verification) if r.verification == DEVICE_MAKER
                     else _fp(r.title, r.statement, r.kind))
    for c in p.controls.values():
        fps[c.id] = _fp(c.title, c.type, c.description, c.requirements, c.implemented_by,
                        c.type_rationale, c.instructions, *([c.relies_on] if c.relies_on else []))
    for h in p.hazards.values():
        fps[h.id] = _fp(h.title, h.hazard, h.category,
                        [(s.id, s.sequence_of_events, s.hazardous_situation, s.harm, _risk(s.initial_risk),
                          s.controls, _risk(s.residual_risk), s.benefit_risk, s.caused_by)
                         for s in h.situations])
    for fid, (item, fm) in p.fmea.items():
        fps[fid] = _fp(item, fm.model_dump(mode="json"))
    for x in p.props.values():
        fps[x.id] = _fp(x.title, x.statement)
    if p.plan is not None:
        plan = p.plan.model_dump(mode="json")
        fps[PLAN_ID] = _fp({k: plan[k] for k in ("severity", "probability", "matrix", "software_items",
                                                 "control_means", "common_cause_groups",
                                                 "systematic_occurrence", "open_risk", "acceptance_policy")})
    # the documents an auditor reads as evidence of the controls and of the evaluation (G6)
    if p.ifu_text is not None:
        fps[IFU_ID] = _fp(p.ifu_text)
    if p.risk_report is not None:
        fps[REPORT_ID] = _fp(p.risk_report.model_dump(mode="json"))
    fps.update({rid: fp for rid, (_, fp) in record_fingerprints(p).items()})
    return fps


# the documentation records (issue 10): id prefixes of the lock and the file each lives in
DOC_KINDS = ("PR-", "SOUP:", "SOUPREQ", "PLAN:", "CLAUSES", "NOTE:")
SOUP_REQUIRED_ID = "SOUPREQ"   # hazard_analysis/soup_required.yaml, reviewed as one item (SRS-292)


def record_fingerprints(p: Project) -> dict[str, tuple[str, str]]:
    """id -> (file, fingerprint) of every documentation record: problem reports,
    SOUP entries and the list of what they must cover, the plans, the clause map
    and the design notes, so that a lowered risk rating or a deleted entry is an
    unreviewed change (SRS-288, SRS-292)."""
    from traceability.data import SOUP, SOUP_REQUIRED
    from traceability.docs import records as rec
    out: dict[str, tuple[str, str]] = {}
    reports, _ = rec.load_problem_reports(p.root)
    for pr in reports:
        out[pr.id] = (f"{rec.PROBLEMS_DIR}/{pr.id}.yaml", _fp(pr.model_dump(mode="json")))
    for s in p.soup:
        out[f"SOUP:{s.name}"] = (SOUP, _fp(s.model_dump(mode="json")))
    if p.soup_required is not None:
        out[SOUP_REQUIRED_ID] = (SOUP_REQUIRED, _fp(p.soup_required.model_dump(mode="json")))
    for path in sorted((p.root / rec.PLANS_DIR).glob("*.yaml")):
        rel = f"{rec.PLANS_DIR}/{path.name}"
        out[f"PLAN:{path.stem}"] = (rel, _fp(path.read_text(encoding="utf-8")))
    if (p.root / rec.CLAUSES).exists():
        out["CLAUSES"] = (rec.CLAUSES, _fp((p.root / rec.CLAUSES).read_text(encoding="utf-8")))
    for key, note in rec.load_design_notes(p.root).items():
        out[f"NOTE:{key}"] = (note.file, _fp(note.text))
    return out


def record_file(p: Project, item_id: str) -> str:
    """The file a documentation record lives (or lived) in, for an error message."""
    from traceability.data import SOUP, SOUP_REQUIRED
    from traceability.docs import records as rec
    if item_id.startswith("PR-"):
        return f"{rec.PROBLEMS_DIR}/{item_id}.yaml"
    if item_id == SOUP_REQUIRED_ID:
        return SOUP_REQUIRED
    if item_id.startswith("SOUP:"):
        return SOUP
    if item_id.startswith("PLAN:"):
        return f"{rec.PLANS_DIR}/{item_id[5:]}.yaml"
    if item_id == "CLAUSES":
        return rec.CLAUSES
    return rec.DESIGN_DIR


def links(p: Project) -> list[tuple[str, str]]:
    """Every reviewable link source -> target (targets may be unknown ids: checked elsewhere)."""
    out: list[tuple[str, str]] = []
    for r in p.reqs.values():
        if r.parent:
            out.append((r.id, r.parent))
    for c in p.controls.values():
        out += [(c.id, t) for t in c.requirements]
        if c.instructions:   # an information control rests on the instructions it cites
            out.append((c.id, IFU_ID))
    for h in p.hazards.values():
        seen: set[str] = set()
        for s in h.situations:
            for t in s.controls:
                if t not in seen:
                    seen.add(t)
                    out.append((h.id, t))
    for fid, (_, fm) in p.fmea.items():
        out += [(fid, t) for t in dict.fromkeys(fm.controls + fm.hazards)]
    for x in p.props.values():
        out += [(x.id, t) for t in x.verifies]
    return out


def load_lock(p: Project) -> LinksLock | None:
    path = p.root / LOCK
    if not path.exists():
        return None
    try:
        return LinksLock.model_validate(load_yaml(path, LOCK).data or {})
    except (DataError, ValidationError) as exc:
        p.error(LOCK, "", "", f"unreadable review record: {exc}")
        return None


def check_links(p: Project, lock: LinksLock | None) -> dict[str, list[str]]:
    """Add findings for unreviewed items and suspect links; return suspect reasons per item id."""
    suspect: dict[str, list[str]] = {}
    if lock is None:
        if (p.root / LOCK).exists():
            return suspect
        p.error(LOCK, "", "", "no review record: review the items, then run `ionto-trace review --all`")
        return suspect
    fps = fingerprints(p)
    docs = record_fingerprints(p)
    for item_id, fp in fps.items():
        file, line = (docs[item_id][0], None) if item_id in docs else p.loc(item_id)
        old = lock.items.get(item_id)
        if old is None:
            msg = "new item, not yet reviewed: run `ionto-trace review " + item_id + "` [rule: reviewed]"
        elif old != fp:
            msg = (f"text changed since its last review (suspect): run `ionto-trace review {item_id}` "
                   f"after checking it{_WHAT.get(item_id[:3], '')} [rule: reviewed]")
        else:
            continue
        suspect.setdefault(item_id, []).append(msg)
        p.error(file, item_id, "", msg, line)
    _deleted_records(p, lock, fps)
    for src, dst in links(p):
        if dst not in fps:
            continue  # dangling: reported by the check
        stamp = lock.links.get(src, {}).get(dst)
        if stamp == fps[dst]:
            continue
        file, line = p.loc(src)
        if stamp is None:
            msg = f"link to {dst} not yet reviewed: run `ionto-trace review {src}` [rule: reviewed]"
        else:
            msg = (f"suspect link to {dst}: {dst} changed since this link was reviewed; "
                   f"run `ionto-trace review {src}` (or `review {dst}`) after checking it [rule: reviewed]")
        suspect.setdefault(src, []).append(msg)
        p.error(file, src, "link", msg, line)
    return suspect


def _deleted_records(p: Project, lock: LinksLock, fps: dict[str, str]) -> None:
    """A reviewed documentation record that is gone: a problem report may never
    go (it is closed, not deleted); any other needs a review of its deletion."""
    for item_id in lock.items:
        if item_id in fps or not item_id.startswith(DOC_KINDS):
            continue
        if item_id.startswith("PR-"):
            p.error(record_file(p, item_id), item_id, "", "problem report deleted: problem reports are never "
                    "deleted: close it (status: closed, with the test that verifies the fix) [rule: reviewed]")
        else:
            p.error(record_file(p, item_id), item_id, "", "reviewed record deleted without review: run "
                    f"`ionto-trace review {item_id}` after checking its deletion [rule: reviewed]")


def review(p: Project, ids: list[str], everything: bool = False, note: str = "") -> list[str]:
    """Stamp the items and every link from or to them; returns the ids stamped."""
    fps = fingerprints(p)
    lock = load_lock(p) or LinksLock()
    # a deleted documentation record may be reviewed (its stamp is dropped), never a problem report
    gone = [i for i in ids if i not in fps and i in lock.items and i.startswith(DOC_KINDS) and not i.startswith("PR-")]
    unknown = [i for i in ids if i not in fps and i not in gone]
    if unknown:
        raise KeyError(", ".join(unknown) + ("" if not any(i.startswith("PR-") for i in unknown) else
                                             " (problem reports are never deleted: close it)"))
    chosen = set(fps) if everything else set(ids) - set(gone)
    for item_id in chosen:
        lock.items[item_id] = fps[item_id]
    for src, dst in links(p):
        if dst in fps and (src in chosen or dst in chosen):
            lock.links.setdefault(src, {})[dst] = fps[dst]
    # drop stamps of items that no longer exist, so the record stays the truth
    # a deleted problem report keeps its stamp, so the check keeps failing until it is restored
    lock.items = {k: v for k, v in sorted(lock.items.items())
                  if k in fps or (k.startswith("PR-") and k not in gone)}
    lock.links = {k: dict(sorted(v.items())) for k, v in sorted(lock.links.items()) if k in fps}
    try:
        who = getpass.getuser()
    except Exception:  # no login name in some containers
        who = "unknown"
    lock.log.append({"at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                     "by": who, "ids": "ALL" if everything else " ".join(sorted(chosen)),
                     **({"note": note} if note else {})})
    lock.log = lock.log[-200:]
    header = ("# Review record of ionto-trace (Doorstop-like fingerprints). Written by\n"
              "# `ionto-trace review ID`; keep it under version control, do not edit by hand.\n")
    body = yaml.safe_dump(lock.model_dump(), sort_keys=False, allow_unicode=True, width=100)
    (p.root / LOCK).write_text(header + body, encoding="utf-8")
    return sorted(chosen)
