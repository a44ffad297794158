"""Pre-session checklist: contraindications, preparation, site instructions.

The twelve contraindications and three preparation steps are those of the
product description (docs/domain.md). Any contraindication refuses the
session with its reason (SRS-042); every preparation step must be confirmed
(SRS-043). A checklist file is YAML with two mappings, `contraindications`
and `preparation`, each item true or false (SRS-044); the loader refuses
unknown, missing, duplicated and non-boolean items with a message naming the
item. Asking the questions on a terminal is the CLI's job; the texts are here.
"""
from __future__ import annotations

import hashlib
import os
import stat
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.limits import load_limits

__all__ = [
    "CONTRAINDICATIONS",
    "PREPARATION",
    "SITE_INSTRUCTIONS",
    "ChecklistAnswers",
    "ChecklistError",
    "ChecklistItem",
    "ChecklistRecord",
    "ChecklistResult",
    "evaluate",
    "load_checklist",
    "load_checklist_with_hash",
    "parse_checklist",
    "site_instructions",
]


@dataclass(frozen=True)
class ChecklistItem:
    id: str        # snake_case key used in checklist files
    question: str  # asked on a terminal; "yes" means the item is true
    reason: str    # why the answer matters; shown when it refuses the session


CONTRAINDICATIONS: tuple[ChecklistItem, ...] = (
    ChecklistItem("pregnancy", "Are you pregnant?",
                  "pregnancy is a contraindication"),
    ChecklistItem("breast_feeding", "Are you breast-feeding?",
                  "breast-feeding is a contraindication"),
    ChecklistItem("child_under_5", "Is the person to be treated a child under 5 years?",
                  "children under 5 must not be treated"),
    ChecklistItem("heart_disease", "Do you have a heart disease?",
                  "heart disease is a contraindication"),
    ChecklistItem("cardiac_pacemaker", "Do you have a cardiac pacemaker?",
                  "a cardiac pacemaker is a contraindication"),
    ChecklistItem("electronic_or_metallic_implant",
                  "Do you have an electronic or metallic implant?",
                  "an electronic or metallic implant is a contraindication"),
    ChecklistItem("seizures_or_epilepsy", "Do you have seizures or epilepsy?",
                  "seizures or epilepsy are a contraindication"),
    ChecklistItem("impaired_sensibility",
                  "Is the sensibility (feeling) impaired in the area to be treated?",
                  "impaired sensibility in the treated area: burns would not be felt"),
    ChecklistItem("severe_vascular_disorder", "Do you have a severe vascular disorder?",
                  "a severe vascular disorder is a contraindication"),
    ChecklistItem("local_thrombosis", "Is there a thrombosis in the area to be treated?",
                  "a local thrombosis in the treated area is a contraindication"),
    ChecklistItem("malignant_disorder",
                  "Is there a malignant disorder (cancer) in the area to be treated?",
                  "a malignant disorder in the treated area is a contraindication"),
    ChecklistItem("skin_damage_or_inflammation",
                  "Is there large skin damage or inflammation in the area to be treated?",
                  "large skin damage or inflammation in the treated area: burn risk"),
)

PREPARATION: tuple[ChecklistItem, ...] = (
    ChecklistItem("cosmetics_removed",
                  "Have you removed cosmetics and antiperspirant from the area?",
                  "cosmetics or antiperspirant left on the skin must be removed first"),
    ChecklistItem("metal_jewelry_removed", "Have you removed all metal jewelry?",
                  "metal jewelry must be removed first: burn risk"),
    ChecklistItem("skin_cracks_covered",
                  "Have you covered small cracks or skin damage with Vaseline?",
                  "small cracks or skin damage must be covered with Vaseline first: burn risk"),
)

SITE_INSTRUCTIONS: dict[str, str] = {
    "trays": (
        "Fill both trays with tap water just enough to cover the electrode plates. "
        "After Start, place the {site} flat in the trays and keep them still; do not "
        "touch the metal plates. Lifting them out pauses the session."
    ),
    "pads": (
        "Soak both axillary pads in tap water. After Start, hold one pad firmly under "
        "each arm; do not let the metal touch the skin. Letting a pad go pauses the session."
    ),
}


def site_instructions(site: str) -> str:
    """The instruction text for a site (trays for hands and feet, pads for underarms)."""
    key = load_limits().sites[site].instruction_key
    return SITE_INSTRUCTIONS[key].format(site=site)


@dataclass(frozen=True)
class ChecklistAnswers:
    contraindications: Mapping[str, bool]
    preparation: Mapping[str, bool]


# How the checklist of a session was answered (SRS-086, SRS-093)
MODE_ASKED = "asked"                    # every question asked on a terminal
MODE_FILE_CONFIRMED = "file_confirmed"  # a file's answers shown on a terminal and confirmed
MODE_FILE = "file"                      # a file's answers, no terminal (unattended)
CHECKLIST_MODES = (MODE_ASKED, MODE_FILE_CONFIRMED, MODE_FILE)


@dataclass(frozen=True)
class ChecklistRecord:
    """What the history keeps of a session's checklist (SRS-093)."""
    mode: str                      # one of CHECKLIST_MODES
    answers: ChecklistAnswers
    source: str | None = None      # the file's path, for the file modes
    sha256: str | None = None      # the SHA-256 of the file's bytes

    def answers_dict(self) -> dict[str, dict[str, bool]]:
        return {"contraindications": dict(self.answers.contraindications),
                "preparation": dict(self.answers.preparation)}


@dataclass(frozen=True)
class ChecklistResult:
    passed: bool
    reasons: tuple[str, ...] = field(default=())  # why the session is refused

    @property
    def refused(self) -> bool:
        return not self.passed


def evaluate(answers: ChecklistAnswers) -> ChecklistResult:
    """Refuse on any contraindication present or any preparation step not confirmed.

    An item missing from the answers counts against the patient (present /
    not confirmed): the checklist fails safe.
    """
    reasons = [
        f"contraindication {item.id}: {item.reason}"
        for item in CONTRAINDICATIONS
        if answers.contraindications.get(item.id, True) is not False
    ]
    reasons += [
        f"preparation {item.id} not confirmed: {item.reason}"
        for item in PREPARATION
        if answers.preparation.get(item.id, False) is not True
    ]
    return ChecklistResult(passed=not reasons, reasons=tuple(reasons))


class ChecklistError(ValueError):
    """A checklist file is refused; `messages` names each bad item."""

    def __init__(self, source: str, messages: list[str]):
        self.source = source
        self.messages = messages
        super().__init__(f"checklist {source}:\n  " + "\n  ".join(messages))


class _StrictLoader(yaml.SafeLoader):
    """Only `true`/`false` are booleans (not yes/no/on/off); duplicate keys are errors."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            # a list or mapping as a key: refuse it as YAML, not as a crash
            raise yaml.constructor.ConstructorError(
                None, None, f"an item name must be text, not {type(key).__name__}", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# the scenario loader refuses duplicate keys by the same rule
unique_key_mapping = _construct_mapping

_SECTIONS = {"contraindications": CONTRAINDICATIONS, "preparation": PREPARATION}


def _show(value: Any) -> str:
    """The value for a message, cut short: a file may hold a huge value."""
    try:
        text = repr(value)
    except ValueError:  # an integer beyond Python's int-to-text limit
        return "a number of more than 4300 digits"
    except RecursionError:
        return "a deeply nested value"
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _check_section(name: str, value: Any, items: tuple[ChecklistItem, ...], errors: list[str]) -> dict[str, bool]:
    if value is None:
        errors.append(f"{name}: missing (a mapping of {len(items)} items, each true or false)")
        return {}
    if not isinstance(value, dict):
        errors.append(f"{name}: must be a mapping of item: true/false, got {type(value).__name__}")
        return {}
    known = [item.id for item in items]
    for key in value:
        if key not in known:
            errors.append(f"{name}.{key}: unknown item; allowed items: {', '.join(known)}")
    result: dict[str, bool] = {}
    for item_id in known:
        if item_id not in value:
            errors.append(f"{name}.{item_id}: missing; must be true or false")
        elif not isinstance(value[item_id], bool):
            errors.append(f"{name}.{item_id}: {_show(value[item_id])} is not true or false")
        else:
            result[item_id] = value[item_id]
    return result


def parse_checklist(text: str, source: str = "<text>") -> ChecklistAnswers:
    """Parse and validate checklist YAML text; raise ChecklistError listing every problem."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - strict SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ChecklistError(source, [f"not valid YAML: {exc}"]) from None
    except RecursionError:
        raise ChecklistError(source, ["nested too deeply to read; allowed: two mappings "
                                      "of item: true/false"]) from None
    except ValueError as exc:  # e.g. an integer beyond Python's int-to-text limit
        raise ChecklistError(source, [f"holds a value that cannot be read: {exc}"]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ChecklistError(
            source, [f"must be a mapping with 'contraindications' and 'preparation', got {kind}"]
        )
    errors = [
        f"{key}: unknown section; allowed sections: contraindications, preparation"
        for key in data
        if key not in _SECTIONS
    ]
    parsed = {
        name: _check_section(name, data.get(name), items, errors) for name, items in _SECTIONS.items()
    }
    if errors:
        raise ChecklistError(source, errors)
    return ChecklistAnswers(parsed["contraindications"], parsed["preparation"])


def load_checklist(path: str | Path) -> ChecklistAnswers:
    """Read a checklist file; raise ChecklistError naming the file and each bad item."""
    return load_checklist_with_hash(path)[0]


# An input file (checklist, scenario) is a few kB; the bound keeps a special
# file (/dev/zero, a FIFO, a device) from hanging the CLI or filling memory
# before Start (SRS-142).
INPUT_FILE_MAX_BYTES = 256 * 1024


def read_input_file(path: str | Path, max_bytes: int = INPUT_FILE_MAX_BYTES) -> bytes:
    """Bytes of a regular file of at most max_bytes; OSError naming what is wrong.

    Opened non-blocking, so a FIFO without a writer cannot block the open, and
    checked to be a regular file before anything is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file (allowed: a regular file of at most {max_bytes} bytes)")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise OSError(f"larger than {max_bytes} bytes (allowed: at most {max_bytes} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_checklist_with_hash(path: str | Path) -> tuple[ChecklistAnswers, str]:
    """Read a checklist file once: its answers and the SHA-256 of the bytes read."""
    try:
        data = read_input_file(path)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(str(path), [f"cannot read: {exc}"]) from None
    return parse_checklist(text, str(path)), hashlib.sha256(data).hexdigest()
