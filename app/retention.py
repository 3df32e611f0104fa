"""Uploads left Pending (or Failed) too long: destroy their files and preview rows, keep the history."""
from __future__ import annotations

import re
from datetime import timedelta

from app import audit
from app.models import DELETED, FAILED, PENDING, Upload, UploadRow, db, utcnow
from app.storage import FileStore

LEFT_OVER = (PENDING, FAILED)
DURATION = re.compile(r"^(\d+)([dh])$")


def parse_age(text: str) -> timedelta:
    """'30d' or '12h' -> a timedelta."""
    match = DURATION.match(text.strip())
    if not match:
        raise ValueError("Write the age as a number of days or hours, e.g. 30d or 12h.")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


def purge_pending_uploads(older_than: timedelta, store: FileStore) -> int:
    """Mark each Pending or Failed upload older than `older_than` Deleted, destroying its file and rows; audited."""
    cutoff = utcnow() - older_than
    purged = 0
    for upload in Upload.select().where(Upload.status.in_(LEFT_OVER) & (Upload.uploaded_at < cutoff)):
        stored_name = upload.stored_name
        with db.atomic():
            claimed = (Upload.update(status=DELETED, deleted_at=utcnow(), stored_name=None)
                       .where((Upload.id == upload.id) & Upload.status.in_(LEFT_OVER)).execute())
            if not claimed:
                continue
            UploadRow.delete().where(UploadRow.upload == upload).execute()
            audit.record("purge_upload", organization=upload.organization_id, obj=upload,
                         details={"older_than_hours": int(older_than.total_seconds() // 3600)})
        store.destroy(stored_name)
        purged += 1
    return purged
