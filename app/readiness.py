"""What /readyz and `flask ready` check: the database answers, its migrations are current, the queue answers.

Each failure is one short line naming the check; exception messages are left out (they can name hosts,
and a database error can quote values).
"""
from __future__ import annotations

import logging

from app import migrate

log = logging.getLogger(__name__)


def failed_checks(huey) -> list[str]:
    """One line per failed check; empty when the app can serve."""
    failed = []
    try:
        _, pending = migrate.status()
    except Exception as error:
        failed.append("database: unreachable")
        log.warning("readiness: database unreachable (%s)", type(error).__name__)
    else:
        if pending:
            failed.append(f"migrations: {len(pending)} pending")
    try:
        huey.storage.queue_size()
    except Exception as error:
        failed.append("queue: unreachable")
        log.warning("readiness: queue unreachable (%s)", type(error).__name__)
    return failed
