"""Show results: turn an upload's file into its UploadRows and counts, before anything is written."""
from __future__ import annotations

import itertools
import logging
from collections import deque
from datetime import date
from typing import BinaryIO

from app import audit
from app.importer import bulk, lifecycle
from app.importer.check_process import reading
from app.importer.duplicates import forget_names
from app.importer.earlier import COMPACT_AT, KEYS_PER_ROW, EarlierRows
from app.importer.garbage import fewer_collections
from app.importer.issues import WARNING, FileRejected, Issue, summarise
from app.importer.lifecycle import ASK_MAPPING, FINISH_READ, PARTICIPANTS, START_READ, Progress
from app.importer.mapping import HeaderMap, header_set_key, map_headers, mapping_of, needs_person
from app.importer.matching import CREATE, ERROR_ACTION, UNCHANGED, UPDATE, Matcher, PlannedRow
from app.importer.pipeline import Pipeline
from app.importer.reference import load_reference, participants_fingerprint
from app.importer.rules import detect_date_order
from app.importer.search_process import duplicate_search
from app.models import Participant, SavedMapping, Upload, UploadRow, User, db, utcnow
from app.storage import FileStore, Kept, StoredFileError
from app.stored import json_text

log = logging.getLogger(__name__)

DATE_ORDER_SAMPLE = 1000  # rows read first to tell MM/DD from DD/MM in a column that does not say
CANNOT_PROCESS = "Roster could not process this file. Nothing was imported; try again or contact support."
FILE_GONE = "The stored file cannot be read. Nothing was imported; upload the file again."
# Chunks matched before the oldest one's possible duplicates are taken: with one, the preview waited on
# the duplicate search child for most chunks while the row check child waited on the preview.
SEARCH_AHEAD = 3
PARTICIPANTS_GONE = "Participants were deleted while this file was read. Nothing was imported; upload the file again."

UPLOAD_ROW_FIELDS = [UploadRow.upload, UploadRow.row_number, UploadRow.action, UploadRow.participant,
                     UploadRow.display_name, UploadRow.values, UploadRow.changes, UploadRow.plan, UploadRow.issues,
                     UploadRow.issue_kinds, UploadRow.has_error, UploadRow.has_warning]
PARTICIPANT = [f is UploadRow.participant for f in UPLOAD_ROW_FIELDS].index(True)  # a field's == builds SQL


class PreviewStopped(Exception):
    """The upload is no longer being read by this job (it was marked Failed meanwhile)."""


class ParticipantsGone(Exception):
    """A participant the rows were matched to was deleted before they were stored."""


def create_upload(org, user: User, filename: str, data: bytes | BinaryIO, store: FileStore, *, group=None,
                  ip=None) -> Upload:
    """Keep the file (encrypted) and record the upload as Processing; the preview comes next. `data`: the
    file's bytes, or a binary file read into the store a segment at a time."""
    kept = store.keep(data)
    with db.atomic():
        upload = lifecycle.new_upload(
            organization=org, uploaded_by=user, original_filename=filename[:255] or "upload",
            stored_name=kept.name, sha256=kept.sha256, size_bytes=kept.size, target_group=group,
        )
        audit.record("upload", user=user, obj=upload, details={"bytes": kept.size}, ip=ip)
    return upload


@fewer_collections()
def preview_upload(upload: Upload, file: bytes | Kept, *, max_rows: int = 100_000, today: date | None = None,
                   progress: Progress | None = None) -> Upload:
    """Read, check and match every row into UploadRows, a chunk per transaction, then set the counts.
    `file`: its bytes, or where the store keeps it (a large one is then never held whole: check_process).

    The upload must be waiting to be read; the job claims it (lifecycle.START_READ), so a second run of
    the same job (a retried or twice-delivered task) does nothing.
    """
    if not lifecycle.claim(upload, START_READ, progress_done=0, progress_unit=None):
        return Upload.get_by_id(upload.id)
    try:  # from here on the upload ends Pending or Failed, whatever happens
        # Taken before any row is matched: a change committed while this preview runs makes it stale.
        upload.fingerprint = participants_fingerprint(upload.organization)
        with reading(file, upload.original_filename, max_rows, DATE_ORDER_SAMPLE) as (sheet, checks):
            upload.progress_total = sheet.row_estimate
            lifecycle.record_progress(upload, total=sheet.row_estimate)
            header_map, waits, orders = _map_columns(upload, sheet.headers)
            if waits:  # a person confirms the columns first (SPEC 10); nothing is read until then
                lifecycle.claim(upload, ASK_MAPPING, mapping=header_map.proposed, progress_done=0)
                return upload
            upload.mapping = [{**e, "date_order": orders[e["header"]]} if e["header"] in orders else e
                              for e in header_map.used]  # a day and month order a person chose stays chosen
            UploadRow.delete().where(UploadRow.upload == upload).execute()
            counts = _preview_rows(upload, sheet, checks, header_map, today, progress) if not header_map.has_errors else {}
        with lifecycle.transaction(upload):
            upload.headers = header_map.imported_headers  # the other columns are never stored (SPEC 14)
            if not _finish(upload, header_map.issues, counts):
                raise PreviewStopped()
    except PreviewStopped:
        UploadRow.delete().where(UploadRow.upload == upload).execute()
        return Upload.get_by_id(upload.id)
    except FileRejected as refusal:
        lifecycle.fail(upload, refusal.message)
    except StoredFileError:
        lifecycle.fail(upload, FILE_GONE)
    except ParticipantsGone:
        lifecycle.fail(upload, PARTICIPANTS_GONE)
    except Exception as error:  # never leave an upload stuck in Processing
        log.error("preview of upload %s failed: %s", upload.id, type(error).__name__)  # no message: it may quote cells
        lifecycle.fail(upload, CANNOT_PROCESS)
    finally:
        forget_names()
    return upload


def _map_columns(upload: Upload, headers: list[str]) -> tuple[HeaderMap, bool, dict[str, str]]:
    """The header map, whether a person must confirm it first, and the day and month orders chosen for
    its date columns (header -> MDY or DMY): from the mapping the upload already has (a person's, or the
    one its last preview used), else the organization's saved one, else recognition."""
    names_group = upload.target_group_id is not None
    given = mapping_of(upload.mapping)
    saved = None if given else SavedMapping.get_or_none(
        (SavedMapping.organization == upload.organization_id) & (SavedMapping.header_key == header_set_key(headers)))
    header_map = map_headers(headers, upload_names_group=names_group, given=given,
                             saved=saved.mapping if saved else None)
    if saved is not None:
        audit.record("mapping_used", organization=upload.organization_id, obj=upload,
                     details={"saved_mapping": saved.id, "columns": len(header_map.choices)})
    orders = {e["header"]: e["date_order"] for e in upload.mapping or [] if e.get("date_order")}
    if saved is not None and saved.date_order:  # read as it was saved
        orders.update({c.header: saved.date_order for c in header_map.choices if c.field == "date_of_birth"})
    waits = given is None and needs_person(header_map.choices, upload_names_group=names_group)
    return header_map, waits, orders


def _date_order(upload: Upload, header_map: HeaderMap, head: list, default: str) -> str:
    """The day and month order of the Date of Birth column: a person's choice on the mapping page, else
    what its first rows show (a day over 12), else the organization's; said as a file warning."""
    index = header_map.fields.get("date_of_birth")
    chosen = next((e.get("date_order") for e in upload.mapping or [] if e["field"] == "date_of_birth"), None)
    if index is None or chosen:
        return chosen or default
    found = detect_date_order([cells[index] for _, cells in head if isinstance(cells[index], str)])
    if found and found != default:
        written = "DD/MM/YYYY" if found == "DMY" else "MM/DD/YYYY"
        header_map.issues.append(Issue(WARNING, f'{header_map.headers[index]} is read as {written}: some of its '
                                                "dates have a day over 12. Change it on the mapping page if that is wrong.",
                                       column=header_map.headers[index]))
    return found or default


def _preview_rows(upload, sheet, checks, header_map, today, progress) -> dict:
    ref = load_reference(upload.organization, upload_group_id=upload.target_group_id, today=today)
    rows = iter(sheet.rows)
    head = list(itertools.islice(rows, DATE_ORDER_SAMPLE))
    ref.date_order = upload.date_order = _date_order(upload, header_map, head, ref.date_order)
    headers = {key: header_map.header(key) for key in header_map.fields}
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, "errors": 0, "warnings": 0, "blank": 0, "rows": 0, "kinds": {}}
    started: deque[tuple[list[PlannedRow], int]] = deque()  # chunks whose duplicates are being searched
    # On PostgreSQL a second connection stores each chunk while this thread matches the next one. On
    # SQLite this thread stores them itself, as Complete Import does: SQLite works in this process, and a
    # second thread only contended for the GIL (it gave the GIL up and waited for it again at every row
    # it inserted; an all-unchanged 100,000-row preview took 4.2 s with it, 3.8 s without). A large file
    # is read and checked in one child process and searched for duplicates in another meanwhile.
    checked = checks.checked(itertools.chain(head, rows), header_map, ref)

    def participants_read(done: int, total: int) -> None:  # the search's, said instead of the rows meanwhile
        if not lifecycle.record_progress(upload, done=done, total=total, unit=PARTICIPANTS):
            raise PreviewStopped()
        if progress:
            progress(done, total, PARTICIPANTS)

    with (Pipeline(f"preview-{upload.id}", around=db.connection_context, inline=not bulk.is_postgres()) as writer,
          duplicate_search(upload.organization_id, sheet.row_estimate, participants_read) as search):
        earlier = EarlierRows(COMPACT_AT, expected=(sheet.row_estimate or 0) * KEYS_PER_ROW)
        matcher = Matcher(upload.organization, ref, headers, search=search, earlier=earlier)

        def store(planned: list[PlannedRow], rows_read: int, report: Progress | None = progress) -> None:
            records = _records(upload, planned, counts)
            writer.put(lambda: _store_chunk(upload, records, rows_read, report))

        def store_oldest() -> None:
            planned, rows_read = started.popleft()
            store(matcher.finish(planned), rows_read)

        for chunk, counts["rows"], counts["blank"] in checked:
            if not chunk:
                continue
            started.append((matcher.start(chunk), counts["rows"]))  # searched while the ones before are stored
            if len(started) > SEARCH_AHEAD:
                store_oldest()
        while started:
            store_oldest()
        writer.drain()  # every row read is stored and said before the participants read for the held rows
        if held := matcher.settle():
            store(held, counts["rows"], None)  # every row read is reported already
    return counts


def _store_chunk(upload: Upload, records: list[tuple], rows_read: int, progress: Progress | None) -> None:
    """One chunk's UploadRows, committed with the progress, so "rows read" never runs ahead of what is
    stored but for the rows the duplicate search holds (search_process.HOLD_ROWS: stored last).

    Written without PostgreSQL's per-row foreign-key checks where the role may (half the COPY's time):
    the upload is held by record_progress's update, and the participants the rows refer to by bulk.hold."""
    with db.atomic(), bulk.without_reference_checks():
        if not lifecycle.record_progress(upload, done=rows_read, total=upload.progress_total):  # rows again
            raise PreviewStopped()
        referred = {record[PARTICIPANT] for record in records if record[PARTICIPANT] is not None}
        if referred and not bulk.hold(Participant, referred):
            raise ParticipantsGone()
        bulk.insert_rows(UploadRow, UPLOAD_ROW_FIELDS, records)
    if progress:
        progress(rows_read, upload.progress_total)


def _records(upload: Upload, planned: list[PlannedRow], counts: dict) -> list[tuple]:
    """The chunk's UploadRows as tuples for UPLOAD_ROW_FIELDS, counted into `counts`."""
    records = []
    for p in planned:
        has_error = p.action == ERROR_ACTION
        has_warning = any(i.severity == WARNING for i in p.issues)
        if has_error:
            counts["errors"] += 1
        else:
            counts[p.action] += 1
        counts["warnings"] += has_warning
        if p.issues:
            for kind in {(i.kind, i.severity, i.column) for i in p.issues}:  # a row counts once per kind
                counts["kinds"][kind] = counts["kinds"].get(kind, 0) + 1
        records.append((
            upload.id, p.row, p.action, p.participant_id, p.display_name[:255], p.cells,
            json_text(p.changes or None), json_text(p.plan), json_text([i.to_dict() for i in p.issues] or None),
            json_text([[i.severity, i.column, i.kind] for i in p.issues] or None), has_error, has_warning,
        ))
    return records


def _finish(upload: Upload, file_issues: list[Issue], counts: dict) -> bool:
    """Record the counts and make the upload Pending, if this job still holds it; False otherwise."""
    issues = list(file_issues)
    data_rows = counts.get("rows", 0) - counts.get("blank", 0)
    return lifecycle.claim(
        upload, FINISH_READ, file_issues=[i.to_dict() for i in issues], headers=upload.headers, mapping=upload.mapping,
        row_count=data_rows if counts else None, created_count=counts.get(CREATE, 0),
        updated_count=counts.get(UPDATE, 0), unchanged_count=counts.get(UNCHANGED, 0),
        error_count=counts.get("errors", 0), warning_count=counts.get("warnings", 0),
        issue_summary=summarise(counts.get("kinds", {})), date_order=upload.date_order,
        blank_count=counts.get("blank", 0), progress_done=counts.get("rows", 0), fingerprint=upload.fingerprint,
        previewed_at=utcnow(),
    )

