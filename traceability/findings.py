"""A finding of the check: an error fails `ionto-trace check`, a warning is shown."""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    level: str          # ERROR or WARNING
    file: str           # path relative to the root, as the user would open it
    item: str           # the id concerned ("" for a whole file)
    field: str          # the field concerned ("" when none)
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [f"{self.level.upper()}: {where}"]
        if self.item:
            parts.append(self.item)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"
