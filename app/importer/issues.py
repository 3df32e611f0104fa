"""Issues found in an uploaded file: what, where, and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        # Not dataclasses.asdict, which deep-copies field by field: thousands of warnings in a large file.
        return {"severity": self.severity, "message": self.message, "row": self.row, "column": self.column,
                "value": self.value}


class FileRejected(Exception):
    """The file cannot be read as a participant list at all; the message says what was expected."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
