"""The state diagram (SVG) drawn from the machine's own table.

States are coloured by output permission; guards are shown on the edges.
Rendered with graphviz `dot` through pydot.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .introspect import MachineModel

# fill colour per output permission (legend in the graph)
COLOURS = {"OFF": "#d9d9d9", "RISING": "#fdd49e", "HOLDING": "#fc8d59", "FALLING": "#9ecae1",
           "REDUCED": "#fee391"}


if TYPE_CHECKING:
    import pydot


def _pydot():
    """pydot is a report-only package (the `report` extra), never on a device:
    imported when a diagram is drawn, so `ionto-verify --version` and the
    device install work without it (SRS-186)."""
    try:
        import pydot
    except ImportError as exc:
        raise ImportError("the state diagram needs pydot, a report-only package: "
                          "pip install 'ionto-core[report]'") from exc
    return pydot


def to_dot(model: MachineModel) -> pydot.Dot:
    pydot = _pydot()
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
