"""ReqIF 1.0 export of the requirements and the risk file (OMG ReqIF 20110401 schema).

Made for requirement tools to take as it is (StrictDoc, DOORS, Polarion):
- typed attributes: ReqIF.ForeignID and ReqIF.Name are strings, ReqIF.Text
  and the rationale are XHTML (so text such as `|I| <= 0.1 mA` is text, not
  markup), status, kind, verification method, control type and hazard
  category are ENUMERATIONs whose values are read from the data models;
- four spec-object types: user need, software requirement, hazard, risk
  control; the hazard carries its situations, harms and risks as XHTML;
- relations (source -> target, the StrictDoc "Parent" convention): a
  requirement to its user need ("Parent"), a requirement to each risk control
  that names it ("Implements"), a control to each hazard it controls
  ("Mitigates");
- two specifications: user need -> requirements, and hazards then controls.
"""
from __future__ import annotations

import datetime as _dt
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

from traceability import models as m
from traceability.data import Project

NS = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
XHTML = "http://www.w3.org/1999/xhtml"

ENUMS = {  # datatype id -> (long name, values from the models)
    "DT-STATUS": ("Status", typing.get_args(m.Status)),
    "DT-KIND": ("Kind", typing.get_args(m.Kind)),
    "DT-METHOD": ("VerificationMethod", typing.get_args(m.Method)),
    "DT-CONTROL-TYPE": ("ControlType", typing.get_args(m.ControlType)),
    "DT-CATEGORY": ("HazardCategory", typing.get_args(m.Hazard.model_fields["category"].annotation)),
}
# spec-object type id -> (long name, [(attribute id, long name, datatype id or STRING/XHTML)])
TYPES = {
    "SOT-NEED": ("User need", [("NEED-ID", "ReqIF.ForeignID", "STRING"), ("NEED-NAME", "ReqIF.Name", "STRING"),
                               ("NEED-TEXT", "ReqIF.Text", "XHTML"), ("NEED-SOURCE", "Source", "STRING")]),
    "SOT-REQ": ("Software requirement", [
        ("REQ-ID", "ReqIF.ForeignID", "STRING"), ("REQ-NAME", "ReqIF.Name", "STRING"),
        ("REQ-TEXT", "ReqIF.Text", "XHTML"), ("REQ-RATIONALE", "Rationale", "XHTML"),
        ("REQ-KIND", "Kind", "DT-KIND"), ("REQ-METHOD", "VerificationMethod", "DT-METHOD"),
        ("REQ-STATUS", "Status", "DT-STATUS")]),
    "SOT-HAZARD": ("Hazard", [
        ("HAZ-ID", "ReqIF.ForeignID", "STRING"), ("HAZ-NAME", "ReqIF.Name", "STRING"),
        ("HAZ-TEXT", "ReqIF.Text", "XHTML"), ("HAZ-CATEGORY", "Category", "DT-CATEGORY"),
        ("HAZ-SITUATIONS", "Situations", "XHTML")]),
    "SOT-CONTROL": ("Risk control", [
        ("RC-ID", "ReqIF.ForeignID", "STRING"), ("RC-NAME", "ReqIF.Name", "STRING"),
        ("RC-TEXT", "ReqIF.Text", "XHTML"), ("RC-TYPE", "ControlType", "DT-CONTROL-TYPE")]),
}
RELATIONS = {"SRT-PARENT": "Parent", "SRT-IMPLEMENTS": "Implements", "SRT-MITIGATES": "Mitigates"}


def enum_value_id(datatype: str, value: str) -> str:
    return f"{datatype}-" + "".join(c if c.isalnum() else "-" for c in value)


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k.replace("_", "-").upper(): v for k, v in attrs.items()})


def _ref(parent: ET.Element, wrapper: str, ref_tag: str, target: str) -> None:
    ET.SubElement(ET.SubElement(parent, wrapper), ref_tag).text = target


def _xhtml(parent: ET.Element, paragraphs: list[str]) -> None:
    div = ET.SubElement(parent, f"{{{XHTML}}}div")
    if len(paragraphs) == 1:
        div.text = paragraphs[0]
        return
    for text in paragraphs:
        ET.SubElement(div, f"{{{XHTML}}}p").text = text


class _Writer:
    def __init__(self, content: ET.Element, now: str) -> None:
        self.now = now
        self.objects = _sub(content, "SPEC-OBJECTS")
        self.relations = _sub(content, "SPEC-RELATIONS")
        self.kinds = {aid: kind for _, attrs in TYPES.values() for aid, _, kind in attrs}

    def obj(self, type_id: str, item_id: str, values: dict[str, str | list[str]]) -> None:
        so = _sub(self.objects, "SPEC-OBJECT", identifier=item_id, last_change=self.now)
        _ref(so, "TYPE", "SPEC-OBJECT-TYPE-REF", type_id)
        vals = _sub(so, "VALUES")
        for aid, _, kind in TYPES[type_id][1]:
            value = values.get(aid)
            if value is None or value == "":
                continue
            if kind == "STRING":
                av = _sub(vals, "ATTRIBUTE-VALUE-STRING", the_value=str(value))
                _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF", aid)
            elif kind == "XHTML":
                av = _sub(vals, "ATTRIBUTE-VALUE-XHTML")
                _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-XHTML-REF", aid)
                _xhtml(_sub(av, "THE-VALUE"), value if isinstance(value, list) else [value])
            else:
                av = _sub(vals, "ATTRIBUTE-VALUE-ENUMERATION")
                _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-ENUMERATION-REF", aid)
                _ref(av, "VALUES", "ENUM-VALUE-REF", enum_value_id(kind, str(value)))

    def rel(self, type_id: str, source: str, target: str) -> None:
        r = _sub(self.relations, "SPEC-RELATION", identifier=f"REL-{source}-{RELATIONS[type_id]}-{target}",
                 last_change=self.now)
        _ref(r, "TYPE", "SPEC-RELATION-TYPE-REF", type_id)
        _ref(r, "SOURCE", "SPEC-OBJECT-REF", source)
        _ref(r, "TARGET", "SPEC-OBJECT-REF", target)


def _types(content: ET.Element, now: str) -> None:
    types = _sub(content, "DATATYPES")
    _sub(types, "DATATYPE-DEFINITION-STRING", identifier="DT-STRING", last_change=now,
         long_name="String", max_length="100000")
    _sub(types, "DATATYPE-DEFINITION-XHTML", identifier="DT-XHTML", last_change=now, long_name="XHTML")
    for dt, (name, values) in ENUMS.items():
        d = _sub(types, "DATATYPE-DEFINITION-ENUMERATION", identifier=dt, last_change=now, long_name=name)
        spec = _sub(d, "SPECIFIED-VALUES")
        for key, value in enumerate(values):
            ev = _sub(spec, "ENUM-VALUE", identifier=enum_value_id(dt, value), last_change=now, long_name=value)
            _sub(_sub(ev, "PROPERTIES"), "EMBEDDED-VALUE", key=str(key), other_content="")
    spec_types = _sub(content, "SPEC-TYPES")
    for type_id, (name, attrs) in TYPES.items():
        sot = _sub(spec_types, "SPEC-OBJECT-TYPE", identifier=type_id, last_change=now, long_name=name)
        defs = _sub(sot, "SPEC-ATTRIBUTES")
        for aid, aname, kind in attrs:
            if kind in ("STRING", "XHTML"):
                ad = _sub(defs, f"ATTRIBUTE-DEFINITION-{kind}", identifier=aid, last_change=now, long_name=aname)
                _ref(ad, "TYPE", f"DATATYPE-DEFINITION-{kind}-REF", f"DT-{kind}")
            else:
                ad = _sub(defs, "ATTRIBUTE-DEFINITION-ENUMERATION", identifier=aid, last_change=now,
                          long_name=aname, multi_valued="false")
                _ref(ad, "TYPE", "DATATYPE-DEFINITION-ENUMERATION-REF", kind)
    for type_id, name in RELATIONS.items():
        _sub(spec_types, "SPEC-RELATION-TYPE", identifier=type_id, last_change=now, long_name=name)
    _sub(spec_types, "SPECIFICATION-TYPE", identifier="ST-DOC", last_change=now, long_name="Document")


def _situations(hz: m.Hazard) -> list[str]:
    return [f"{s.id}: {s.hazardous_situation} Harm: {s.harm} Risk {s.initial_risk.severity}/"
            f"{s.initial_risk.probability} before, {s.residual_risk.severity}/{s.residual_risk.probability} "
            f"after controls ({', '.join(s.controls) or 'none'})." for s in hz.situations]


def build_reqif(p: Project, now: str | None = None) -> ET.ElementTree:
    now = now or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    ET.register_namespace("", NS)
    ET.register_namespace("xhtml", XHTML)
    root = ET.Element(f"{{{NS}}}REQ-IF")
    header = _sub(_sub(root, "THE-HEADER"), "REQ-IF-HEADER", identifier="ionto-requirements")
    for tag, text in (("COMMENT", "Requirements and risk file of the iontophoresis control core "
                                  "(spec/requirements.yaml, hazard_analysis/)"),
                      ("CREATION-TIME", now), ("REQ-IF-TOOL-ID", "ionto-trace"), ("REQ-IF-VERSION", "1.0"),
                      ("SOURCE-TOOL-ID", "ionto-trace"), ("TITLE", "ionto-core requirements and risk file")):
        ET.SubElement(header, tag).text = text
    content = _sub(_sub(root, "CORE-CONTENT"), "REQ-IF-CONTENT")
    _types(content, now)
    w = _Writer(content, now)
    for n in p.needs.values():
        w.obj("SOT-NEED", n.id, {"NEED-ID": n.id, "NEED-NAME": n.title, "NEED-TEXT": n.statement,
                                 "NEED-SOURCE": n.source})
    for r in p.reqs.values():
        w.obj("SOT-REQ", r.id, {"REQ-ID": r.id, "REQ-NAME": r.title, "REQ-TEXT": r.statement,
                                "REQ-RATIONALE": r.rationale, "REQ-KIND": r.kind,
                                "REQ-METHOD": r.verification, "REQ-STATUS": r.status})
    for hz in p.hazards.values():
        w.obj("SOT-HAZARD", hz.id, {"HAZ-ID": hz.id, "HAZ-NAME": hz.title, "HAZ-TEXT": hz.hazard,
                                    "HAZ-CATEGORY": hz.category, "HAZ-SITUATIONS": _situations(hz)})
    for c in p.controls.values():
        w.obj("SOT-CONTROL", c.id, {"RC-ID": c.id, "RC-NAME": c.title, "RC-TEXT": c.description,
                                    "RC-TYPE": c.type})
    for r in p.reqs.values():
        if r.parent in p.needs:
            w.rel("SRT-PARENT", r.id, r.parent)
    for c in p.controls.values():
        for rid in dict.fromkeys(c.requirements):
            if rid in p.reqs:
                w.rel("SRT-IMPLEMENTS", rid, c.id)
    done: set[tuple[str, str]] = set()
    for hz in p.hazards.values():
        for s in hz.situations:
            for cid in s.controls:
                if cid in p.controls and (cid, hz.id) not in done:
                    done.add((cid, hz.id))
                    w.rel("SRT-MITIGATES", cid, hz.id)
    specs = _sub(content, "SPECIFICATIONS")
    _spec_requirements(p, specs, now)
    _spec_risk(p, specs, now)
    return ET.ElementTree(root)


def _node(parent: ET.Element, item_id: str, now: str) -> ET.Element:
    h = _sub(parent, "SPEC-HIERARCHY", identifier=f"H-{item_id}", last_change=now)
    _ref(h, "OBJECT", "SPEC-OBJECT-REF", item_id)
    return h


def _spec_requirements(p: Project, specs: ET.Element, now: str) -> None:
    spec = _sub(specs, "SPECIFICATION", identifier="SPEC-SRS", last_change=now, long_name="Software requirements")
    _ref(spec, "TYPE", "SPECIFICATION-TYPE-REF", "ST-DOC")
    children = _sub(spec, "CHILDREN")
    kids: dict[str, list[str]] = {}
    for r in p.reqs.values():
        kids.setdefault(r.parent or "", []).append(r.id)
    for n in p.needs.values():
        h = _node(children, n.id, now)
        if kids.get(n.id):
            sub = _sub(h, "CHILDREN")
            for rid in kids[n.id]:
                _node(sub, rid, now)
    for rid in [k for parent, ks in kids.items() if parent not in p.needs for k in ks]:
        _node(children, rid, now)


def _spec_risk(p: Project, specs: ET.Element, now: str) -> None:
    if not p.hazards and not p.controls:
        return
    spec = _sub(specs, "SPECIFICATION", identifier="SPEC-RISK", last_change=now,
                long_name="Risk file: hazards and risk controls")
    _ref(spec, "TYPE", "SPECIFICATION-TYPE-REF", "ST-DOC")
    children = _sub(spec, "CHILDREN")
    for item in [*p.hazards, *p.controls]:
        _node(children, item, now)


def write_reqif(p: Project, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tree = build_reqif(p)
    ET.indent(tree, space=" ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    out.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", encoding="utf-8")
