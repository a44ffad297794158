"""The state diagram (SVG) drawn from the machine's own table.

States are coloured by output permission; guards are shown on the edges.
Rendered with graphviz `dot` through pydot.
"""
from __future__ import annotations

from pathlib import Path

import pydot

from .introspect import MachineModel

# fill colour per output permission (legend in the graph)
COLOURS = {"OFF": "#d9d9d9", "RISING": "#fdd49e", "HOLDING": "#fc8d59", "FALLING": "#9ecae1",
           "REDUCED": "#fee391"}


def to_dot(model: MachineModel) -> pydot.Dot:
    graph = pydot.Dot(model.name, graph_type="digraph", rankdir="LR", fontname="Helvetica",
                      label=f"{model.name}: states coloured by output permission", labelloc="t")
    graph.set_node_defaults(shape="box", style="rounded,filled", fontname="Helvetica")
    graph.set_edge_defaults(fontname="Helvetica", fontsize="10")
    graph.add_node(pydot.Node("__start", shape="point", width="0.15"))
    for s in model.states:
        perm = model.output[s]
        graph.add_node(pydot.Node(s, label=f"{s}\\n[{perm.lower()}]",
                                  fillcolor=COLOURS.get(perm, "white"),
                                  penwidth="2" if s == model.initial else "1"))
    graph.add_edge(pydot.Edge("__start", model.initial))
    merged: dict[tuple[str, str], list[str]] = {}
    for t in model.transitions:
        guard = f" [{', '.join(t.conds + t.validators)}]" if (t.conds or t.validators) else ""
        merged.setdefault((t.source, t.target), []).append(t.event + guard)
    for (src, dst), labels in merged.items():
        graph.add_edge(pydot.Edge(src, dst, label="\\n".join(labels),
                                  color="#b2182b" if dst == "fault" else "black"))
    legend = pydot.Cluster("legend", label="output permission", fontname="Helvetica")
    for perm in model.permissions:
        legend.add_node(pydot.Node(f"legend_{perm}", label=perm.lower(),
                                   fillcolor=COLOURS.get(perm, "white")))
    graph.add_subgraph(legend)
    return graph


def write_svg(model: MachineModel, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_dot(model).create_svg())
    return path
