"""YAML loading that refuses duplicate keys and remembers where each mapping starts.

PyYAML silently keeps the last of two equal keys; in a requirements file that
would hide a record, so a duplicate is an error naming file, line and key.
The C parser (libyaml) composes the node graph when available; a small
constructor below turns nodes into data, checking keys as it goes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_PLAIN = "!ionto-plain"  # a plain scalar whose type is resolved in _build
_MAP, _SEQ = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
# a plain scalar can only be a number, bool, null, timestamp or merge key if it starts so
_MAYBE_TYPED = set("-+.0123456789~nNtTfFyYoO<=")


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Defers the implicit typing of plain scalars: PyYAML's resolver runs a
    list of regexes on every scalar, most of which are obviously text."""

    def resolve(self, kind, value, implicit):  # noqa: ANN001 -- PyYAML's signature
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _PLAIN
            return super().resolve(kind, value, implicit)
        return _MAP if kind is yaml.MappingNode else _SEQ


_RESOLVER = yaml.resolver.Resolver()
_SCALARS = yaml.constructor.SafeConstructor()


class DataError(Exception):
    """A data file cannot be loaded; the message names file, line/id and field."""


def _build(node: yaml.Node, lines: dict[int, int], memo: dict[int, Any]) -> Any:
    """Node graph -> Python data. Leaner than PyYAML's constructor (10,000 records
    in well under a second of construction) and it refuses duplicate keys."""
    key = id(node)
    if key in memo:  # an alias: the same node again
        return memo[key]
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag == _PLAIN:
            value = node.value
            if value and value[0] not in _MAYBE_TYPED:
                return value
            tag = node.tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
        if tag == _STR:
            return node.value
        fn = _SCALARS.yaml_constructors.get(tag)
        if fn is None:
            raise DataError(f"line {node.start_mark.line + 1}: unsupported tag {node.tag!r}")
        return fn(_SCALARS, node)
    if isinstance(node, yaml.SequenceNode):
        out: list = []
        memo[key] = out
        out.extend(_build(n, lines, memo) for n in node.value)
        return out
    mapping: dict = {}
    memo[key] = mapping
    lines[id(mapping)] = node.start_mark.line + 1
    first: dict[Any, int] = {}
    for key_node, value_node in node.value:
        k = _build(key_node, lines, memo)
        line = key_node.start_mark.line + 1
        if k == "<<":
            raise DataError(f"line {line}: merge keys (<<) are not supported")
        try:
            if k in first:
                raise DataError(f"line {line}: duplicate key {k!r} (first at line {first[k]})")
        except TypeError:
            raise DataError(f"line {line}: a key must be a scalar") from None
        first[k] = line
        mapping[k] = _build(value_node, lines, memo)
    return mapping


class Loaded:
    """Parsed data plus the start line of every mapping in it (by object id)."""

    def __init__(self, data: Any, lines: dict[int, int]) -> None:
        self.data = data
        self._lines = lines

    def line_of(self, obj: Any) -> int | None:
        return self._lines.get(id(obj))


def load_yaml(path: Path, label: str) -> Loaded:
    """Load one YAML file; `label` is how messages name it (a path relative to the root)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{label}: file not found") from None
    lines: dict[int, int] = {}
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = None if node is None else _build(node, lines, {})
    except DataError as exc:
        raise DataError(f"{label}: {exc}") from None
    except yaml.YAMLError as exc:
        raise DataError(f"{label}: not valid YAML: {exc}") from None
    return Loaded(data, lines)
