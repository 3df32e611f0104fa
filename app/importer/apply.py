"""Complete Import: exactly what the preview showed, all or nothing, applied once."""
from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import peewee as pw

from app import audit
from app.importer import bulk, lifecycle, plan_process, review, undo
from app.importer.garbage import fewer_collections
from app.importer.lifecycle import COMPLETE, FINISH_APPLY, ImportRefused, Progress
from app.importer.matching import CREATE, UPDATE
from app.importer.pipeline import Pipeline
from app.importer.plan_process import PLANNED, Batch, planned_values
from app.importer.reference import participants_fingerprint
from app.models import (
    Group,
    IdentificationSystem,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    Upload,
    UploadRow,
    User,
    db,
    lock_organization,
    utcnow,
)
from app.storage import FileStore

log = logging.getLogger(__name__)

# Rows a page: each page is a few statements sent by the pipeline's thread, which needs the GIL back
# after each one (up to 5 ms while this thread runs Python). 5,000 rows took 100,000-row completions on
# PostgreSQL from about 12 s to about 10 s, against 1,000; 10,000 gained nothing more.
CHUNK = 5000
ANALYZE_AFTER_ROWS = 10_000  # a Complete Import this large refreshes the planner's statistics
ALREADY_COMPLETED = "This import is already completed; nothing was applied again."


REVIEW_CHANGED = ("The review changed since this confirmation was shown (a decision or a fix was made). "
                  "Look at the confirmation again: it counts what the import will do now.")


def refuse_unless_completable(upload: Upload, skip_error_rows: bool, revision: int | None = None) -> None:
    """Raise ImportRefused, before anything is written, when the upload cannot be completed as asked:
    `revision`, when given, is the review revision the person's confirmation counted."""
    state = upload.state
    if state.is_completed:
        raise ImportRefused("completed", ALREADY_COMPLETED)
    if state.is_applying:
        raise ImportRefused("completed", "Complete Import is already running for this upload.")
    if not state.can_complete:
        raise ImportRefused("status", f"Only a Pending upload can be completed; this one is {state.label}.")
    if upload.has_file_errors:
        raise ImportRefused("errors", "The file has errors that concern the whole file. Fix the file and upload it again.")
    if revision is not None and revision != upload.review_revision:
        raise ImportRefused("review", REVIEW_CHANGED)
    errors = review.errors_left(upload) if upload.error_count else 0
    if errors and not skip_error_rows:
        raise ImportRefused("errors", f"{errors:,} {'row has' if errors == 1 else 'rows have'} errors. Fix or exclude "
                                      f"{'it' if errors == 1 else 'them'} in the results, or choose to skip the rows with errors.")


@fewer_collections()
def complete_import(upload: Upload, user: User, *, skip_error_rows: bool = False, store: FileStore | None = None,
                    ip: str | None = None, progress: Progress | None = None, revision: int | None = None) -> Upload:
    """Apply exactly what the preview showed, in one transaction; raises ImportRefused without writing.

    A Pending upload is completed here (lifecycle.COMPLETE); one a worker has claimed (Processing,
    applying) by that worker (lifecycle.FINISH_APPLY), with the choice made when it was queued.
    """
    if upload.state.is_applying:
        move, skip_error_rows = FINISH_APPLY, upload.skip_error_rows
    else:
        move = COMPLETE
        refuse_unless_completable(upload, skip_error_rows, revision)
    stored_name = upload.stored_name
    with lifecycle.transaction(upload):
        now = utcnow()
        if not lifecycle.claim(upload, move, completed_at=now, completed_by=user, refusal=None, stored_name=None,
                               skip_error_rows=skip_error_rows):
            raise ImportRefused("completed", ALREADY_COMPLETED)
        lock_organization(upload.organization_id)  # one completion at a time, so each sees the other's writes
        if participants_fingerprint(upload.organization) != upload.fingerprint:
            raise ImportRefused("stale", "Participants changed since this preview was made. "
                                         "Show results again to see what the import will do now.")
        # Read after the claim, which a decision's own conditional update waits behind: a decision made
        # after the confirmation either came first (and is counted here) or is refused.
        if revision is not None and Upload.get_by_id(upload.id).review_revision != revision:
            raise ImportRefused("review", REVIEW_CHANGED)
        with _writing(upload) as (writes, batches):  # a large upload's plans reader starts meanwhile
            reviewed = review.tally(upload)
            created, updated = _apply_rows(upload, batches, writes, now, reviewed.created, progress)
        skipped = reviewed.errors if skip_error_rows else 0
        counts = {"created_count": created, "updated_count": updated, "skipped_count": skipped,
                  "excluded_count": reviewed.excluded, "fixed_count": reviewed.fixed}
        Upload.update(**counts).where(Upload.id == upload.id).execute()
        UploadRow.destroy_values(upload)  # what the preview held of the file ends with it (SPEC 14)
        audit.record("complete_import", user=user, obj=upload, ip=ip, details={
            "created": created, "updated": updated, "skip_error_rows": skip_error_rows, "skipped": skipped,
            "excluded": reviewed.excluded, "fixed": reviewed.fixed, "warnings_not_reviewed": reviewed.to_review,
        })
    if store:
        store.destroy(stored_name)  # after commit: a rolled-back completion keeps its file
    if created + updated >= ANALYZE_AFTER_ROWS:
        bulk.refresh_statistics([Participant, ParticipantIdentifier, ParticipantGroup])
    return Upload.get_by_id(upload.id)


@contextmanager
def _writing(upload: Upload) -> Iterator[tuple[Pipeline, Iterator[Batch]]]:
    """The completion's writes, and the upload's plans a page at a time (plan_process.reading)."""
    last_row = UploadRow.select(pw.fn.MAX(UploadRow.row_number)).where(UploadRow.upload == upload).scalar() or 0
    query, pages = plan_pages(upload.id, last_row)
    # On PostgreSQL a second thread sends each batch's writes on this transaction's connection while this
    # one encodes the next batch; a SQLite connection belongs to its thread (and works in it). A large
    # upload's pages are read and decoded by a child process meanwhile (plan_process.py).
    # Every reference written is vouched for (bulk.without_reference_checks): the participants written or
    # updated here (each updated one is locked by its UPDATE; one deleted since the preview changed the
    # fingerprint, checked under lock_organization, which an undo takes too), the organization
    # (lock_organization), the upload (claimed), and what _hold_referred holds.
    with bulk.without_reference_checks(), \
            Pipeline(f"complete-{upload.id}", depth=4, inline=not bulk.is_postgres()) as writes:

        def select(parameters: tuple) -> list[tuple]:
            with writes.turn:  # the driver does not take turns on one connection by itself (COPY)
                return bulk.select(query, parameters)

        with plan_process.reading(query, pages, select, rows=last_row, database=bulk.for_a_child()) as batches:
            yield writes, batches


def _apply_rows(upload: Upload, batches: Iterator[Batch], writes: Pipeline, now, creates: int,
                progress: Progress | None = None) -> tuple[int, int]:
    created = updated = 0
    # Every created participant's id taken at once: a batch of rows that create then needs nothing from the
    # connection, and is encoded while the thread sending the writes (PostgreSQL) still sends the one before.
    ids = iter(bulk.reserve_ids(Participant, creates))
    held: dict[type[pw.Model], set[int]] = {Group: set(), IdentificationSystem: set(), User: set()}
    for batch in batches:
        if not (batch.creates or batch.updates):
            continue
        _hold_referred(batch, held, writes)
        c, u = _apply_batch(batch, list(itertools.islice(ids, len(batch.creates))), upload.organization_id, upload.id,
                            now, writes)
        created, updated = created + c, updated + u
        if progress:  # once the batch's writes have run, not when they are queued
            writes.put(lambda done=created + updated: progress(done, None))
    return created, updated


def plan_pages(upload_id: int, last_row: int) -> tuple[str, list[tuple]]:
    """The query of a page of the upload's rows that create or update and are not excluded, (row number,
    participant id, plan as JSON text), and each page's parameters, CHUNK row numbers a page.

    Pages are ranges of row numbers, not "the next CHUNK rows after n" (ORDER BY ... LIMIT): just after a
    preview PostgreSQL's statistics still say the table is empty, and it then picked the (upload, action)
    index and sorted every row of the upload for each page (~90 ms a page at 100,000 rows)."""
    p, number = db.param, bulk.columns(UploadRow.row_number)
    query = (f"SELECT {number}, {bulk.columns(UploadRow.participant, UploadRow.plan)} FROM {bulk.table(UploadRow)} "
             f"WHERE {bulk.columns(UploadRow.upload)} = {p} "
             f"AND ({bulk.columns(UploadRow.decision)} IS NULL OR {bulk.columns(UploadRow.decision)} <> {p}) "
             f"AND {bulk.columns(UploadRow.action)} IN ({p}, {p}) AND {number} BETWEEN {p} AND {p} ORDER BY {number}")
    return query, [(upload_id, review.EXCLUDE, CREATE, UPDATE, first, first + CHUNK - 1)
                   for first in range(1, last_row + 1, CHUNK)]


GONE = ("A group, coach or Patient ID system that this preview names was deleted since it was made. "
        "Upload the file again to see what the import will do now.")


def _hold_referred(batch: Batch, held: dict[type[pw.Model], set[int]], writes: Pipeline) -> None:
    """Hold the groups, Patient ID systems and coaches the batch's rows refer to and `held` does not hold yet
    (usually all on the first batch); ImportRefused if one was deleted since the preview."""
    wanted = {Group: batch.referred["groups"], IdentificationSystem: batch.referred["systems"],
              User: batch.referred["coaches"]}
    for model, ids in wanted.items():
        if new := ids - held[model]:
            with writes.turn:
                there = bulk.hold(model, new)
            if not there:
                raise ImportRefused("stale", GONE)
            held[model] |= new


PLANNED_COLUMNS = [getattr(Participant, name) for name in PLANNED]


def _apply_batch(batch: Batch, new_ids: list[int], org_id: int, upload_id: int, now, writes: Pipeline) -> tuple[int, int]:
    creates, updates = batch.creates, batch.updates
    stamp = bulk.timestamp(now)
    before = {}
    if updates:  # read on the connection the writes use: wait for those sent before
        with writes.turn:
            before = undo.values_before(updates, org_id)
    common = (org_id, "not_invited", upload_id, stamp, stamp)
    bulk.insert_rows(
        Participant,
        [Participant.id, Participant.created_by_row, *PLANNED_COLUMNS, Participant.organization, Participant.status,
         Participant.created_by_upload, Participant.created_at, Participant.updated_at],
        [(pid, *values, *common) for pid, values in zip(new_ids, creates, strict=True)],
        pipeline=writes,
    )
    # One UPDATE per set of changed fields (a list's rows mostly change the same few), naming only those
    # columns: SQLite then maintains only the indexes of columns that change. For 100,000 rows changing
    # a phone and an address, 0.4 s against 1.1 s when every column was set, unchanged ones to themselves.
    by_fields: dict[tuple[int, ...], list[tuple]] = {}  # indexes in PLANNED -> (id, their values, stamp)
    for r in updates:
        values = planned_values(r.plan["fields"])
        changed = tuple(i for i, value in enumerate(values) if value is not None)
        by_fields.setdefault(changed, []).append((r.participant_id, *(values[i] for i in changed), upload_id, stamp))
    for changed, rows in by_fields.items():
        bulk.update_rows(Participant, [*(PLANNED_COLUMNS[i] for i in changed), Participant.updated_by_upload,
                                       Participant.updated_at], rows, pipeline=writes)
    undo.keep_changes(updates, before, upload_id, writes)
    members = [(new_ids[index], group) for index, group in batch.members]
    identifiers = [(new_ids[index], system, value) for index, system, value in batch.identifiers]
    for r in updates:
        members += [(r.participant_id, group) for group in r.plan["groups"]]
        if r.plan["identifier"]:
            system, value = r.plan["identifier"]
            identifiers.append((r.participant_id, system, value))
    bulk.insert_rows(ParticipantGroup, [ParticipantGroup.participant, ParticipantGroup.group], members, pipeline=writes)
    bulk.insert_rows(ParticipantIdentifier, [ParticipantIdentifier.participant, ParticipantIdentifier.system,
                                             ParticipantIdentifier.value], identifiers, pipeline=writes)
    return len(creates), len(updates)
