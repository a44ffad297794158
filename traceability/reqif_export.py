"""ReqIF 1.0 export of the user needs and requirements (OMG ReqIF 20110401 schema).

One SPEC-OBJECT-TYPE with string attributes (ReqIF.ForeignID, ReqIF.Name,
ReqIF.Text and the project's fields), one SPEC-OBJECT per item, a "Parent"
SPEC-RELATION from each requirement to its user need, and one SPECIFICATION
whose hierarchy is user need -> requirements (the StrictDoc layout).
"""
from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from pathlib import Path

from traceability.data import Project

NS = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
ATTRS = [  # (definition id, long name)
    ("AD-FOREIGN-ID", "ReqIF.ForeignID"),
    ("AD-NAME", "ReqIF.Name"),
    ("AD-TEXT", "ReqIF.Text"),
    ("AD-ITEM-TYPE", "ItemType"),
    ("AD-RATIONALE", "Rationale"),
    ("AD-KIND", "Kind"),
    ("AD-VERIFICATION", "VerificationMethod"),
    ("AD-STATUS", "Status"),
    ("AD-PARENT", "Parent"),
]


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k.replace("_", "-").upper(): v for k, v in attrs.items()})


def _ref(parent: ET.Element, wrapper: str, ref_tag: str, target: str) -> None:
    ET.SubElement(ET.SubElement(parent, wrapper), ref_tag).text = target


def build_reqif(p: Project, now: str | None = None) -> ET.ElementTree:
    now = now or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    ET.register_namespace("", NS)
    root = ET.Element("REQ-IF", {"xmlns": NS})
    header = _sub(_sub(root, "THE-HEADER"), "REQ-IF-HEADER", identifier="ionto-requirements")
    for tag, text in (("COMMENT", "Requirements of the iontophoresis control core (spec/requirements.yaml)"),
                      ("CREATION-TIME", now), ("REQ-IF-TOOL-ID", "ionto-trace"), ("REQ-IF-VERSION", "1.0"),
                      ("SOURCE-TOOL-ID", "ionto-trace"), ("TITLE", "ionto-core software requirements")):
        ET.SubElement(header, tag).text = text
    content = _sub(_sub(root, "CORE-CONTENT"), "REQ-IF-CONTENT")
    types = _sub(content, "DATATYPES")
    _sub(types, "DATATYPE-DEFINITION-STRING", identifier="DT-STRING", last_change=now,
         long_name="String", max_length="100000")
    spec_types = _sub(content, "SPEC-TYPES")
    sot = _sub(spec_types, "SPEC-OBJECT-TYPE", identifier="SOT-ITEM", last_change=now, long_name="Item")
    attrs = _sub(sot, "SPEC-ATTRIBUTES")
    for aid, name in ATTRS:
        ad = _sub(attrs, "ATTRIBUTE-DEFINITION-STRING", identifier=aid, last_change=now, long_name=name)
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-STRING-REF", "DT-STRING")
    _sub(spec_types, "SPEC-RELATION-TYPE", identifier="SRT-PARENT", last_change=now, long_name="Parent")
    _sub(spec_types, "SPECIFICATION-TYPE", identifier="ST-DOC", last_change=now, long_name="Document")

    objects = _sub(content, "SPEC-OBJECTS")

    def obj(item_id: str, values: dict[str, str]) -> None:
        so = _sub(objects, "SPEC-OBJECT", identifier=item_id, last_change=now)
        _ref(so, "TYPE", "SPEC-OBJECT-TYPE-REF", "SOT-ITEM")
        vals = _sub(so, "VALUES")
        for aid, _ in ATTRS:
            if aid in values:
                av = _sub(vals, "ATTRIBUTE-VALUE-STRING", the_value=values[aid])
                _ref(av, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF", aid)

    for n in p.needs.values():
        obj(n.id, {"AD-FOREIGN-ID": n.id, "AD-NAME": n.title, "AD-TEXT": n.statement,
                   "AD-ITEM-TYPE": "user need", "AD-RATIONALE": n.source})
    for r in p.reqs.values():
        obj(r.id, {"AD-FOREIGN-ID": r.id, "AD-NAME": r.title, "AD-TEXT": r.statement,
                   "AD-ITEM-TYPE": "software requirement", "AD-RATIONALE": r.rationale, "AD-KIND": r.kind,
                   "AD-VERIFICATION": r.verification, "AD-STATUS": r.status, "AD-PARENT": r.parent or ""})
    relations = _sub(content, "SPEC-RELATIONS")
    for r in p.reqs.values():
        if r.parent in p.needs:
            rel = _sub(relations, "SPEC-RELATION", identifier=f"REL-{r.id}-{r.parent}", last_change=now)
            _ref(rel, "TYPE", "SPEC-RELATION-TYPE-REF", "SRT-PARENT")
            _ref(rel, "SOURCE", "SPEC-OBJECT-REF", r.id)
            _ref(rel, "TARGET", "SPEC-OBJECT-REF", r.parent)
    spec = _sub(_sub(content, "SPECIFICATIONS"), "SPECIFICATION", identifier="SPEC-SRS", last_change=now,
                long_name="Software requirements")
    _ref(spec, "TYPE", "SPECIFICATION-TYPE-REF", "ST-DOC")
    children = _sub(spec, "CHILDREN")
    kids: dict[str, list[str]] = {}
    for r in p.reqs.values():
        kids.setdefault(r.parent or "", []).append(r.id)
    for n in p.needs.values():
        h = _sub(children, "SPEC-HIERARCHY", identifier=f"H-{n.id}", last_change=now)
        _ref(h, "OBJECT", "SPEC-OBJECT-REF", n.id)
        if kids.get(n.id):
            sub = _sub(h, "CHILDREN")
            for rid in kids[n.id]:
                hh = _sub(sub, "SPEC-HIERARCHY", identifier=f"H-{rid}", last_change=now)
                _ref(hh, "OBJECT", "SPEC-OBJECT-REF", rid)
    for rid in [k for parent, ks in kids.items() if parent not in p.needs for k in ks]:
        hh = _sub(children, "SPEC-HIERARCHY", identifier=f"H-{rid}", last_change=now)
        _ref(hh, "OBJECT", "SPEC-OBJECT-REF", rid)
    return ET.ElementTree(root)


def write_reqif(p: Project, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tree = build_reqif(p)
    ET.indent(tree, space=" ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    out.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", encoding="utf-8")
