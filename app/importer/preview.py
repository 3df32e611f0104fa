"""Show results: turn an upload's file into its UploadRows and counts, before anything is written."""
from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from app import audit
from app.importer.columns import map_headers
from app.importer.issues import WARNING, FileRejected, Issue
from app.importer.matching import CREATE, ERROR_ACTION, UNCHANGED, UPDATE, CheckedRow, Matcher, PlannedRow
from app.importer.reader import read_spreadsheet
from app.importer.reference import load_reference, participants_fingerprint
from app.importer.rules import check_row
from app.models import FAILED, PENDING, PROCESSING, Upload, UploadRow, User, db, utcnow
from app.storage import FileStore, sha256

log = logging.getLogger(__name__)

CHUNK = 1000
ADVISED_ROWS = 5_000

Progress = Callable[[int], None]


def _as_written(value) -> str:
    return value.isoformat() if isinstance(value, date) else value


def create_upload(org, user: User, filename: str, data: bytes, store: FileStore, *, group=None, ip=None) -> Upload:
    """Keep the file (encrypted) and record the upload as Processing; the preview comes next."""
    stored_name = store.save(data)
    with db.atomic():
        upload = Upload.create(
            organization=org, uploaded_by=user, original_filename=filename[:255] or "upload",
            stored_name=stored_name, sha256=sha256(data), size_bytes=len(data), target_group=group,
            status=PROCESSING,
        )
        audit.record("upload", user=user, obj=upload, details={"bytes": len(data)}, ip=ip)
    return upload


def preview_upload(upload: Upload, data: bytes, *, max_rows: int = 100_000, today: date | None = None,
                   progress: Progress | None = None) -> Upload:
    """Read, check and match every row; write the UploadRows and counts in one transaction."""
    try:
        sheet = read_spreadsheet(data, upload.original_filename, max_rows=max_rows)
        header_map = map_headers(sheet.headers, upload_names_group=upload.target_group_id is not None)
        with db.atomic():
            UploadRow.delete().where(UploadRow.upload == upload).execute()
            counts = _preview_rows(upload, sheet, header_map, today, progress) if not header_map.has_errors else {}
            upload.headers = header_map.headers
            _finish(upload, header_map.issues, counts)
    except FileRejected as refusal:
        mark_failed(upload, refusal.message)
    except Exception as error:  # never leave an upload stuck in Processing
        log.error("preview of upload %s failed: %s", upload.id, type(error).__name__)  # no message: it may quote cells
        mark_failed(upload, "Roster could not process this file. Nothing was imported; try again or contact support.")
    return upload


def _preview_rows(upload, sheet, header_map, today, progress) -> dict:
    ref = load_reference(upload.organization, upload_group_id=upload.target_group_id, today=today)
    headers = {key: header_map.header(key) for key in header_map.fields}
    matcher = Matcher(upload.organization, ref, headers)
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, "errors": 0, "warnings": 0, "blank": 0, "rows": 0}
    chunk: list[CheckedRow] = []
    for row_number, cells in sheet.rows:
        counts["rows"] += 1
        if not any(cell for cell in cells):
            counts["blank"] += 1
            continue
        values, issues = check_row(row_number, header_map.cells(cells), ref)
        written = {header: _as_written(cell) for header, cell in zip(header_map.headers, cells) if header and cell}
        chunk.append(CheckedRow(row_number, values, issues, written))
        if len(chunk) == CHUNK:
            _write_chunk(upload, matcher.match_chunk(chunk), counts)
            chunk = []
            if progress:
                progress(counts["rows"])
    if chunk:
        _write_chunk(upload, matcher.match_chunk(chunk), counts)
    return counts


def _write_chunk(upload: Upload, planned: list[PlannedRow], counts: dict) -> None:
    records = []
    for p in planned:
        has_error = p.action == ERROR_ACTION
        has_warning = any(i.severity == WARNING for i in p.issues)
        if has_error:
            counts["errors"] += 1
        else:
            counts[p.action] += 1
        counts["warnings"] += has_warning
        records.append({
            "upload": upload.id, "row_number": p.row, "action": p.action, "participant": p.participant_id,
            "display_name": p.display_name[:255], "values": p.cells, "changes": p.changes or None, "plan": p.plan,
            "issues": [i.to_dict() for i in p.issues] or None, "has_error": has_error, "has_warning": has_warning,
        })
    for start in range(0, len(records), 500):
        UploadRow.insert_many(records[start:start + 500]).execute()


def _finish(upload: Upload, file_issues: list[Issue], counts: dict) -> None:
    issues = list(file_issues)
    data_rows = counts.get("rows", 0) - counts.get("blank", 0)
    if data_rows > ADVISED_ROWS:
        issues.append(Issue(WARNING, f"The file has {data_rows:,} rows, more than {ADVISED_ROWS:,}. "
                                     "Roster handles it; check the counts carefully before completing."))
    upload.status = PENDING
    upload.file_issues = [i.to_dict() for i in issues]
    upload.row_count = data_rows if counts else None
    upload.created_count = counts.get(CREATE, 0)
    upload.updated_count = counts.get(UPDATE, 0)
    upload.unchanged_count = counts.get(UNCHANGED, 0)
    upload.error_count = counts.get("errors", 0)
    upload.warning_count = counts.get("warnings", 0)
    upload.blank_count = counts.get("blank", 0)
    upload.progress_done = counts.get("rows", 0)
    upload.fingerprint = participants_fingerprint(upload.organization)
    upload.previewed_at = utcnow()
    upload.save()


def mark_failed(upload: Upload, reason: str) -> None:
    """The file cannot be read at all: say why; nothing else happens."""
    with db.atomic():
        upload.status = FAILED
        upload.failure_reason = reason
        upload.save(only=[Upload.status, Upload.failure_reason])


def has_file_errors(upload: Upload) -> bool:
    return any(issue["severity"] == "error" for issue in upload.file_issues or [])


def show_results_again(upload: Upload, store: FileStore, **options) -> Upload:
    """Preview the stored file again against today's participants (after a stale refusal)."""
    return preview_upload(upload, store.load(upload.stored_name, upload.sha256), **options)
