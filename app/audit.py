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


# The audit page says what happened in words; the code stays beside them (filters, the CSV export).
WORDS = {
    "sign_in": "Signed in", "sign_in_failed": "Sign-in failed", "sign_out": "Signed out",
    "upload": "Uploaded a file", "preview_viewed": "Looked at the results", "report_downloaded": "Downloaded the issue report",
    "mapping_saved": "Saved a column mapping", "mapping_used": "Used a saved column mapping",
    "mapping_deleted": "Deleted a saved column mapping", "review_decision": "Decided rows in review",
    "row_fixed": "Fixed a row in review", "complete_import": "Completed an import", "delete_upload": "Deleted an upload",
    "purge_upload": "Deleted an old upload (purge)", "replace_upload": "Replaced an upload by a newer one",
    "group_created": "Created a group", "group_renamed": "Renamed a group", "group_archived": "Archived a group",
    "group_restored": "Restored a group", "group_deleted": "Deleted a group", "coach_added": "Added a coach to a team",
    "coach_removed": "Removed a coach from a team", "participants_invited": "Invited participants",
    "user_invited": "Invited a user", "user_invited_again": "Invited a user again", "invitation_accepted": "Accepted an invitation",
    "roles_changed": "Changed a user's roles", "user_deactivated": "Deactivated a user", "user_reactivated": "Reactivated a user",
    "id_system_added": "Added an ID system", "id_system_renamed": "Renamed an ID system",
    "audit_exported": "Exported the audit trail", "organization_updated": "Changed the organization's settings",
}
DECIDED = {"accept": "accepted", "exclude": "excluded", "reset": "included again"}


def in_words(action: str) -> str:
    return WORDS.get(action) or action.replace("_", " ").capitalize()


def details_in_words(action: str, details: dict | None) -> str:
    """An event's details as a person reads them: "2,286 rows accepted, by kind (email:blank)"."""
    if not details:
        return ""
    if action == "review_decision":
        rows = details.get("rows", 0)
        by = {"row": "one row", "kind": f"every row of a kind ({details.get('kind')})",
              "filter": "every row a filter showed"}.get(details.get("by"), details.get("by"))
        return f"{rows:,} {'row' if rows == 1 else 'rows'} {DECIDED.get(details.get('decision'), details.get('decision'))}: {by}"
    return ", ".join(f"{key.replace('_', ' ')}: {f'{value:,}' if isinstance(value, int) and not isinstance(value, bool) else value}"
                     for key, value in details.items())
