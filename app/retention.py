"""How long uploads are kept: the age an operator writes for purge-uploads (actions.Actions.purge)."""
from __future__ import annotations

import re
from datetime import timedelta

DURATION = re.compile(r"^(\d+)([dh])$")


def parse_age(text: str) -> timedelta:
    """'30d' or '12h' -> a timedelta."""
    match = DURATION.match(text.strip())
    if not match:
        raise ValueError("Write the age as a number of days or hours, e.g. 30d or 12h.")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
