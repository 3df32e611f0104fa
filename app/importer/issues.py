"""Issues found in an uploaded file: what, where, and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.importer.columns import COLUMNS_BY_KEY

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """One problem in a file. `row` is None for file-level issues; `column` is the header as written."""

    severity: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    kind: str | None = field(default=None, compare=False)  # "field:what", e.g. "email:blank": what the summary counts

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        # Not dataclasses.asdict, which deep-copies field by field: thousands of warnings in a large file.
        return {"severity": self.severity, "message": self.message, "row": self.row, "column": self.column,
                "value": self.value, "kind": self.kind}


class FileRejected(Exception):
    """The file cannot be read as a participant list at all; the message says what was expected."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def summarise(kinds: dict[tuple[str, str, str | None], int]) -> list[dict]:
    """Rows by (kind, severity, column) as Show results' summary: errors first, then the commonest."""
    summary = [{"kind": kind, "severity": severity, "column": column, "rows": rows, "label": kind_label(kind)}
               for (kind, severity, column), rows in kinds.items() if rows]
    return sorted(summary, key=lambda k: (k["severity"] != ERROR, -k["rows"], k["label"]))


def kind_label(kind: str | None) -> str:
    """ "email:blank" -> "Email blank": a kind of issue in words."""
    if not kind:
        return "Other"
    field, _, what = kind.partition(":")
    if field == "row":  # about the row as a whole: "Possible duplicate"
        return what.capitalize()
    column = COLUMNS_BY_KEY.get(field)
    return f"{column.label if column else field.replace('_', ' ').capitalize()} {what}".strip()
