"""The audit trail: who did what, when, from where, to which object; counts, never cell values."""
from __future__ import annotations

import logging

from app.models import AuditEvent

log = logging.getLogger("roster.audit")


def record(action: str, *, organization=None, user=None, obj=None, details: dict | None = None, ip: str | None = None):
    """Append one event; call it inside the transaction of the action it records."""
    if organization is None and user is not None:
        organization = user.organization_id
    event = AuditEvent.create(
        organization=organization,
        user=user,
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=obj.id if obj is not None else None,
        details=details or None,
        ip=ip,
    )
    log.info("audit %s by user %s on %s %s", action, event.user_id, event.object_type, event.object_id)
    return event
