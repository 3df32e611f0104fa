"""Values as Roster's database holds them, both ways: its one JSON text (JSONField, and the rows a preview
writes in bulk), and dates as the drivers give them back. Here, not in app/models.py, so the preview's
child processes use them without loading the database layer."""
from __future__ import annotations

from datetime import date, datetime

import orjson


def json_text(value) -> str | None:
    """Compact, characters as written (no \\u escapes)."""
    # orjson: about ten times json's speed, which counts at two documents a row on a 100,000-row preview.
    return None if value is None else orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def json_value(text: str | None):
    return None if text is None else orjson.loads(text)


def stored_date(value) -> date | None:
    """A date column's value as the driver gives it (PostgreSQL: a date; SQLite: the ISO text Roster
    writes, or, written outside Roster, a date and time) as a date; None for text that is neither."""
    if value.__class__ is not str:
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value)  # as Roster stores it: the cheap form first
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None
