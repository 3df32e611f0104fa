"""Complete Import and Delete: all or nothing, applied once."""
from __future__ import annotations

from datetime import date

from app import audit
from app.importer.matching import CREATE, UPDATE
from app.importer.preview import has_file_errors
from app.importer.reference import participants_fingerprint
from app.models import (
    COMPLETED,
    DELETED,
    FAILED,
    PENDING,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    Upload,
    UploadRow,
    User,
    db,
    utcnow,
)
from app.storage import FileStore

CHUNK = 500


class ImportRefused(Exception):
    """Complete or Delete cannot go ahead; `reason` is a short key, the message says what to do."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _claim(upload: Upload, allowed: tuple[str, ...], new_status: str, **fields) -> bool:
    """Move the upload to `new_status` only if it is still in an allowed status: a conditional UPDATE, so
    two racing requests cannot both pass."""
    claimed = (
        Upload.update(status=new_status, **fields)
        .where((Upload.id == upload.id) & (Upload.status.in_(allowed)))
        .execute()
    )
    return claimed == 1


def complete_import(upload: Upload, user: User, *, skip_error_rows: bool = False, store: FileStore | None = None,
                    ip: str | None = None) -> Upload:
    """Apply exactly what the preview showed, in one transaction; raises ImportRefused without writing."""
    if upload.status == COMPLETED:
        raise ImportRefused("completed", "This import is already completed; nothing was applied again.")
    if upload.status != PENDING:
        raise ImportRefused("status", f"Only a Pending upload can be completed; this one is {upload.status_label}.")
    if has_file_errors(upload):
        raise ImportRefused("errors", "The file has errors that concern the whole file. Fix the file and upload it again.")
    if upload.error_count and not skip_error_rows:
        raise ImportRefused("errors", f"{upload.error_count:,} {'row has' if upload.error_count == 1 else 'rows have'} errors. Fix the file and upload it again, "
                                      "or choose to skip the rows with errors.")
    with db.atomic():
        now = utcnow()
        if not _claim(upload, (PENDING,), COMPLETED, completed_at=now, completed_by=user,
                      skip_error_rows=skip_error_rows, skipped_count=upload.error_count if skip_error_rows else 0):
            raise ImportRefused("completed", "This import is already completed; nothing was applied again.")
        if participants_fingerprint(upload.organization) != upload.fingerprint:
            raise ImportRefused("stale", "Participants changed since this preview was made. "
                                         "Show results again to see what the import will do now.")
        created, updated = _apply_rows(upload, user, now)
        stored_name = upload.stored_name
        Upload.update(stored_name=None).where(Upload.id == upload.id).execute()
        audit.record("complete_import", user=user, obj=upload, ip=ip, details={
            "created": created, "updated": updated, "skip_error_rows": skip_error_rows,
            "skipped": upload.error_count if skip_error_rows else 0,
        })
    if store:
        store.destroy(stored_name)  # after commit: a rolled-back completion keeps its file
    return Upload.get_by_id(upload.id)


def _apply_rows(upload: Upload, user: User, now) -> tuple[int, int]:
    org_id = upload.organization_id
    created = updated = 0
    rows = (UploadRow.select(UploadRow.id, UploadRow.action, UploadRow.participant, UploadRow.plan)
            .where((UploadRow.upload == upload) & UploadRow.action.in_((CREATE, UPDATE)))
            .order_by(UploadRow.row_number))
    batch = []
    for row in rows.iterator():
        batch.append(row)
        if len(batch) == CHUNK:
            c, u = _apply_batch(batch, org_id, upload.id, now)
            created, updated, batch = created + c, updated + u, []
    if batch:
        c, u = _apply_batch(batch, org_id, upload.id, now)
        created, updated = created + c, updated + u
    return created, updated


def _participant_fields(fields: dict) -> dict:
    """A row's plan as Participant column values (the plan keeps dates as ISO text)."""
    values = dict(fields)
    if values.get("date_of_birth"):
        values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
    if values.get("email"):
        values["email_key"] = values["email"].lower()
    return values


def _apply_batch(batch, org_id: int, upload_id: int, now) -> tuple[int, int]:
    creates = [r for r in batch if r.action == CREATE]
    updates = [r for r in batch if r.action == UPDATE]
    new_ids = []
    if creates:
        records = [{**_participant_fields(r.plan["fields"]), "organization": org_id, "status": "not_invited",
                    "created_by_upload": upload_id, "created_at": now, "updated_at": now} for r in creates]
        new_ids = _insert_returning_ids(records)
        for row, pid in zip(creates, new_ids):
            row.participant = pid
        UploadRow.bulk_update(creates, fields=[UploadRow.participant])
    _update_participants(updates, upload_id, now)
    members, identifiers = [], []
    for row, pid in [*zip(creates, new_ids), *((r, r.participant_id) for r in updates)]:
        members += [{"participant": pid, "group": gid} for gid in row.plan["groups"]]
        if row.plan["identifier"]:
            system, value = row.plan["identifier"]
            identifiers.append({"participant": pid, "system": system, "value": value})
    if members:
        ParticipantGroup.insert_many(members).execute()
    if identifiers:
        ParticipantIdentifier.insert_many(identifiers).execute()
    return len(creates), len(updates)


def _update_participants(rows, upload_id: int, now) -> None:
    """Bulk-update participants, grouped by which fields change, so no row's other fields are touched."""
    by_fields: dict[tuple, list] = {}
    for row in rows:
        fields = _participant_fields(row.plan["fields"])
        by_fields.setdefault(tuple(sorted(fields)), []).append(
            Participant(id=row.participant_id, updated_by_upload=upload_id, updated_at=now, **fields))
    for names, people in by_fields.items():
        columns = [getattr(Participant, name) for name in names]
        Participant.bulk_update(people, fields=columns + [Participant.updated_by_upload, Participant.updated_at])


def _insert_returning_ids(records: list[dict]) -> list[int]:
    """Insert participants and get their ids in order (RETURNING works on SQLite 3.35+ and PostgreSQL)."""
    query = Participant.insert_many(records).returning(Participant.id)
    return [row.id for row in query.execute()]


def delete_upload(upload: Upload, user: User, *, store: FileStore | None = None, ip: str | None = None) -> Upload:
    """Destroy the stored file and the preview rows; the history keeps the upload, marked Deleted."""
    stored_name = upload.stored_name
    with db.atomic():
        if not _claim(upload, (PENDING, FAILED), DELETED, deleted_at=utcnow(), deleted_by=user, stored_name=None):
            raise ImportRefused("status", "Only a Pending or Failed upload can be deleted.")
        UploadRow.delete().where(UploadRow.upload == upload).execute()
        audit.record("delete_upload", user=user, obj=upload, ip=ip)
    if store:
        store.destroy(stored_name)
    return Upload.get_by_id(upload.id)
