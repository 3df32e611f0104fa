"""Each thing done to an upload, one call each for views, the CLI and jobs.

Upload and Preview, Show results again, Complete Import, Delete and purge start here; a small file
is read or completed in the caller, a large one is queued for a worker, whose job calls the worker's
half (`read`, `apply`) of the same action. Running work beats a heartbeat into the queue's store, and
`watch` (a periodic job of the worker) ends work that stopped: no upload is left in Processing.
"""
from __future__ import annotations

import itertools
import logging
import time
from datetime import timedelta
from typing import BinaryIO, Protocol

import peewee as pw

from app import audit
from app.config import Config
from app.importer import apply, lifecycle, preview, undo
from app.importer.apply import ImportRefused
from app.importer.check_process import KEPT_BYTES
from app.importer.lifecycle import (
    APPLY_QUEUED,
    APPLYING,
    DELETE,
    FAILED,
    NEEDS_MAPPING,
    PENDING,
    PROCESSING,
    QUEUE_APPLY,
    QUEUE_READ,
    QUEUE_UNDO,
    QUEUED,
    READ_AGAIN,
    READ_QUEUED,
    READING,
    REFUSE_APPLY,
    REFUSE_UNDO,
    REPLACE,
    START_APPLY,
    START_UNDO,
    UNDO_QUEUED,
    UNDOING,
    Progress,
)
from app.importer.mapping import GIVEN, check_mapping, header_set_key
from app.importer.reader import estimate_rows, read_spreadsheet
from app.models import SavedMapping, Upload, UploadRow, User, utcnow

log = logging.getLogger(__name__)

# Work beats as it reports progress, at most once a BEAT_SECONDS (the pages poll once a second); queued
# work beats when it is queued. Silent STALL_SECONDS, a job has stopped, or a queued one is no longer queued.
BEAT_SECONDS = 1.0
STALL_SECONDS = 60
STOPPED = {
    READ_QUEUED: "The file was never read: its job was lost from the queue (the queue was restarted or the "
                 "worker could not reach the database). Nothing was imported; upload the file again.",
    READING: "Reading the file stopped before it finished (the background worker was restarted or ran out of "
             "memory). Nothing was imported; upload the file again.",
    APPLYING: "Complete Import stopped before it finished (the background worker was restarted or ran out of "
              "memory), so nothing was imported. Upload the file again to import it.",
    UNDO_QUEUED: "Undo Import was queued but its job was lost (the queue was restarted); nothing was undone. "
                 "Start Undo Import again.",
    UNDOING: "Undo Import stopped before it finished (the background worker was restarted or ran out of memory), "
             "so nothing was undone: the import is still complete. Start Undo Import again.",
}
LOST_COMPLETION = ("Complete Import was queued but its job was lost (the queue was restarted); nothing was "
                   "imported. Start Complete Import again.")
USER_GONE = "The account that started Complete Import no longer exists; nothing was imported. Start it again."
LEFT_OVER = (PENDING, FAILED, NEEDS_MAPPING)  # what purge destroys once old enough
EXAMPLE_ROWS = 1_000  # rows the mapping page looks through for each column's examples


class Queue(Protocol):
    """Where large work goes (app/jobs.py on huey; any object with these methods)."""

    def read(self, upload_id: int) -> None: ...
    def apply(self, upload_id: int, user_id: int, ip: str | None) -> None: ...
    def undo(self, upload_id: int, user_id: int, digest: str | None, ip: str | None) -> None: ...
    def beat(self, upload_id: int, done: int = 0, total: int | None = None) -> None: ...
    def last_beat(self, upload_id: int) -> tuple[float, int, int | None] | None: ...
    def waiting_uploads(self) -> set[int]: ...


class Actions:
    """The actions on uploads, with the configuration and queue they run on."""

    def __init__(self, config: Config, queue: Queue):
        self.config = config
        self.queue = queue
        self.store = config.file_store()

    def in_background(self, rows: int | None) -> bool:
        """Work on more rows than BACKGROUND_ROWS goes to a worker."""
        return (rows or 0) > self.config.BACKGROUND_ROWS

    # --- Upload and Preview, Show results again ---------------------------------------------------

    def upload(self, org, user: User, filename: str, data: bytes | BinaryIO, *, group=None, ip: str | None = None,
               here: bool = False, progress: Progress | None = None) -> Upload:
        """Keep the file and preview it: here for a small file (or when `here`), else by a worker. A large
        file is read here from the store, as a worker reads it, a piece at a time (check_process): a
        caller that keeps no reference to `data` has it freed before it is read. `data` may be a binary
        file instead (a large one named on the command line), kept a segment at a time: its rows are not
        counted first, so it is previewed here."""
        upload = preview.create_upload(org, user, filename, data, self.store, group=group, ip=ip)
        rows = held = None  # a binary file: not counted, so not sent to a worker (in_background)
        if isinstance(data, bytes):
            rows, held = estimate_rows(data), (data if len(data) <= KEPT_BYTES else None)
        del data
        self._read_or_queue(upload, rows, here, progress, held)
        return Upload.get_by_id(upload.id)

    def show_results_again(self, upload: Upload) -> Upload:
        """Preview a Pending upload again from its stored file (participants may have changed)."""
        self.queue.beat(upload.id)  # before the claim: the watch never sees it queued without a beat
        if not lifecycle.claim(upload, READ_AGAIN, progress_done=0, refusal=None):
            raise ImportRefused("status", f"Only a Pending upload can be previewed again; this one is "
                                          f"{upload.state.label}.")
        self._read_or_queue(upload, upload.row_count, False, None)
        return Upload.get_by_id(upload.id)

    def _read_or_queue(self, upload: Upload, rows: int | None, here: bool, progress: Progress | None,
                       data: bytes | None = None) -> None:
        if here or not self.in_background(rows):
            self.read(upload.id, progress=progress, data=data, queued=False)
        else:
            self.queue.read(upload.id)

    def read(self, upload_id: int, *, progress: Progress | None = None, data: bytes | None = None,
             queued: bool = True) -> None:
        """Read, check and match a waiting upload (the worker's half, or the caller's for a small file:
        not `queued`). `data`: the file, when the caller has just kept it (not a second copy decrypted
        from the store); else the file in the store, which a large one is read from a piece at a time."""
        upload = Upload.get_or_none(Upload.id == upload_id)
        if upload is None or (upload.status, upload.processing_step) != (PROCESSING, READ_QUEUED):
            return  # another run of this job has it, or it was deleted meanwhile
        if queued:  # taken from the queue, perhaps long after it was queued: alive before preview_upload claims it
            self.queue.beat(upload_id)
        file = data if data is not None else self.store.kept(upload.stored_name, upload.sha256, upload.size_bytes)
        done = preview.preview_upload(upload, file, max_rows=self.config.MAX_ROWS,
                                      progress=self._beating(upload_id, progress))
        if done.state.is_pending or done.state.needs_mapping:
            self._replace_older(done)

    def _replace_older(self, upload: Upload) -> None:
        """An older upload of the same list still waiting is replaced by this one (SPEC 11): one with the
        same file name, or a Pending one with the same imported columns and mostly the same people. Its
        file and what its rows held are destroyed, and each links to the other."""
        waiting = Upload.select().where(
            (Upload.organization == upload.organization_id) & (Upload.id < upload.id) & Upload.status.in_(LEFT_OVER))
        same_name = waiting.where(Upload.original_filename == upload.original_filename)
        for old in same_name:
            self._discard(old, "replace_upload", move=REPLACE, details={"replaced_by": upload.id, "by": "file name"},
                          replaced_by=upload.id)
        if not upload.state.is_pending or not upload.headers:
            return
        key = header_set_key(upload.headers)
        for old in waiting.where((Upload.status == PENDING) & (Upload.original_filename != upload.original_filename)):
            if not old.headers or header_set_key(old.headers) != key:
                continue
            if _mostly_the_same(upload, old):
                self._discard(old, "replace_upload", move=REPLACE, details={"replaced_by": upload.id, "by": "same people"},
                              replaced_by=upload.id)

    # --- the mapping step ----------------------------------------------------------------------------

    def confirm_mapping(self, upload: Upload, user: User, chosen: dict[int, str | None], *, save: bool = True,
                        date_order: str | None = None, ip: str | None = None, here: bool = False,
                        progress: Progress | None = None) -> Upload:
        """A person's mapping (column index -> field key, or None to leave it out): checked, saved for the
        organization under the file's headers (unless `save` is False), then the file is read with it."""
        entries = upload.mapping or []
        names_group = upload.target_group_id is not None
        problems = check_mapping(entries, chosen, upload_names_group=names_group)
        if problems:
            raise ImportRefused("mapping", " ".join(problems))
        date_order = date_order if date_order in ("MDY", "DMY") else None
        given = [{"index": entry.get("index", n), "header": entry["header"], "how": GIVEN,
                  "field": chosen.get(entry.get("index", n)) or None} for n, entry in enumerate(entries)]
        for entry in given:  # the day and month order a person set for the Date of Birth column, if any
            if entry["field"] == "date_of_birth" and date_order:
                entry["date_order"] = date_order
        headers = [entry["header"] for entry in given]
        with lifecycle.transaction(upload):
            if not lifecycle.claim(upload, QUEUE_READ, mapping=given, progress_done=0, refusal=None):
                raise ImportRefused("status", f"This upload is {upload.state.label}: its columns can no longer "
                                              "be mapped.")
            if save:
                _save_mapping(upload.organization_id, headers, {e["header"]: e["field"] for e in given}, user,
                              date_order)
            audit.record("mapping_saved" if save else "mapping_confirmed", user=user, obj=upload, ip=ip, details={
                "columns": len(headers), "left_out": sum(1 for entry in given if not entry["field"])})
        self._read_or_queue(upload, upload.progress_total, here, progress)
        return Upload.get_by_id(upload.id)

    def mapping_examples(self, upload: Upload, count: int = 3) -> list[list[str]]:
        """Up to `count` values of each column, read from the stored file for the mapping page (never stored)."""
        try:
            data = self.store.load(upload.stored_name, upload.sha256)
            sheet = read_spreadsheet(data, upload.original_filename, max_rows=self.config.MAX_ROWS)
        except Exception:
            return []
        examples: list[list[str]] = [[] for _ in sheet.headers]
        try:
            for _, cells in itertools.islice(sheet.rows, EXAMPLE_ROWS):
                for index, cell in enumerate(cells):
                    text = cell.isoformat() if hasattr(cell, "isoformat") else cell
                    if text and len(examples[index]) < count and text not in examples[index]:
                        examples[index].append(text)
                if all(len(found) == count for found in examples):
                    break
        except Exception:
            pass  # what was read so far is enough to show; the preview says what is wrong with the file
        return examples

    # --- Complete Import ---------------------------------------------------------------------------

    def complete(self, upload: Upload, user: User, *, skip_error_rows: bool = False, ip: str | None = None,
                 here: bool = False, progress: Progress | None = None, revision: int | None = None) -> Upload:
        """Complete Import: here for a small upload (or when `here`), else queued for a worker; raises
        ImportRefused, with nothing written, when it cannot go ahead. `revision` is the review revision
        the person's confirmation counted (a decision or fix made since refuses it)."""
        apply.refuse_unless_completable(upload, skip_error_rows, revision)
        total = (upload.created_count or 0) + (upload.updated_count or 0)
        if here or not self.in_background(upload.row_count):
            # No heartbeat: done here, the upload stays Pending to every other page and to the watch
            # until its transaction commits (a 100,000-row CLI completion spent 0.07 s importing huey).
            return apply.complete_import(upload, user, skip_error_rows=skip_error_rows, store=self.store, ip=ip,
                                         progress=progress, revision=revision)
        self.queue.beat(upload.id, 0, total)  # before the claim, as for a read
        # Conditional on the revision too: a decision made since the confirmation refuses the claim.
        same_review = None if revision is None else Upload.review_revision == revision
        if not lifecycle.claim(upload, QUEUE_APPLY, where=same_review, skip_error_rows=skip_error_rows, refusal=None,
                               progress_done=0, progress_total=total):
            if revision is not None and upload.state.is_pending:
                raise ImportRefused("review", apply.REVIEW_CHANGED)
            raise ImportRefused("completed", "Complete Import has already been started for this upload.")
        self.queue.apply(upload.id, user.id, ip)
        return Upload.get_by_id(upload.id)

    def apply(self, upload_id: int, user_id: int, ip: str | None = None) -> None:
        """The worker's half of Complete Import, claimed once: a refusal puts the upload back to Pending
        with the reason; any other failure marks it Failed (its transaction wrote nothing)."""
        upload = Upload.get_or_none(Upload.id == upload_id)
        if upload is None:
            return
        user = User.get_or_none(User.id == user_id)
        if user is None:  # never left waiting: back to Pending, to be started again by someone who can
            lifecycle.claim(upload, REFUSE_APPLY, refusal=USER_GONE)
            return
        self.queue.beat(upload_id, 0, upload.progress_total)
        if not lifecycle.claim(upload, START_APPLY):
            return
        try:  # from here on the upload ends Completed, Pending (refused) or Failed, whatever happens
            apply.complete_import(upload, user, store=self.store, ip=ip,
                                  progress=self._beating(upload_id, None, upload.progress_total))
        except ImportRefused as refused:
            lifecycle.claim(upload, REFUSE_APPLY, refusal=refused.message)
        except Exception as error:
            log.error("Complete Import of upload %s failed: %s", upload_id, type(error).__name__)  # no message: PHI
            lifecycle.fail(upload, STOPPED[APPLYING])

    # --- Delete, purge -----------------------------------------------------------------------------

    def delete(self, upload: Upload, user: User, *, ip: str | None = None) -> Upload:
        """Destroy the stored file and the preview rows; the history keeps the upload, marked Deleted."""
        if not self._discard(upload, "delete_upload", user=user, ip=ip, deleted_at=utcnow(), deleted_by=user):
            raise ImportRefused("status", f"This upload is {upload.state.label}"
                                          f"{' (Complete Import is running)' if upload.state.is_applying else ''}: "
                                          "only an upload that is not completed can be deleted.")
        return Upload.get_by_id(upload.id)

    # --- Undo Import ----------------------------------------------------------------------------------

    def undo_plan(self, upload: Upload, *, shown: int | None = None, page: int = 1) -> undo.UndoPlan:
        """What Undo Import would do now (undo.plan_undo); raises ImportRefused when it cannot be undone."""
        undo.refuse_unless_undoable(upload, self.config.UNDO_DAYS)
        return undo.plan_undo(upload, shown=shown, page=page)

    def undo(self, upload: Upload, user: User, *, digest: str | None = None, ip: str | None = None,
             here: bool = False, progress: Progress | None = None) -> Upload:
        """Undo a completed import, all or nothing, once: here for a small one (or when `here`), else
        queued for a worker; `digest` the plan the person confirmed."""
        undo.refuse_unless_undoable(upload, self.config.UNDO_DAYS)
        count = undo.changes_kept(upload)
        if here or not self.in_background(count):
            return undo.undo_import(upload, user, digest=digest, ip=ip, days=self.config.UNDO_DAYS,
                                    progress=progress)  # no heartbeat, as for a completion done here
        self.queue.beat(upload.id, 0, count)  # before the claim, as for a read
        if not lifecycle.claim(upload, QUEUE_UNDO, refusal=None, progress_done=0, progress_total=count):
            raise ImportRefused("undone", "Undo Import has already been started for this upload.")
        self.queue.undo(upload.id, user.id, digest, ip)
        return Upload.get_by_id(upload.id)

    def undo_worker(self, upload_id: int, user_id: int, digest: str | None = None, ip: str | None = None) -> None:
        """The worker's half of Undo Import, claimed once: refused or failed, the import stays Completed
        with the reason (its transaction wrote nothing)."""
        upload = Upload.get_or_none(Upload.id == upload_id)
        if upload is None:
            return
        user = User.get_or_none(User.id == user_id)
        if user is None:
            lifecycle.claim(upload, REFUSE_UNDO, refusal=USER_GONE.replace("Complete Import", "Undo Import"))
            return
        self.queue.beat(upload_id, 0, upload.progress_total)
        if not lifecycle.claim(upload, START_UNDO):
            return
        try:
            undo.undo_import(upload, user, digest=digest, ip=ip, days=self.config.UNDO_DAYS,
                             progress=self._beating(upload_id, None, upload.progress_total))
        except ImportRefused as refused:
            lifecycle.claim(upload, REFUSE_UNDO, refusal=refused.message)
        except Exception as error:
            log.error("Undo Import of upload %s failed: %s", upload_id, type(error).__name__)  # no message: PHI
            lifecycle.claim(upload, REFUSE_UNDO, refusal=STOPPED[UNDOING])

    def purge(self, older_than: timedelta) -> int:
        """Delete every upload left Pending, Failed or Needs mapping longer than `older_than`; how many."""
        cutoff = utcnow() - older_than
        hours = int(older_than.total_seconds() // 3600)
        left = Upload.select().where(Upload.status.in_(LEFT_OVER) & (Upload.uploaded_at < cutoff))
        return sum(self._discard(upload, "purge_upload", details={"older_than_hours": hours}, deleted_at=utcnow())
                   for upload in left)

    def _discard(self, upload: Upload, action: str, *, move=DELETE, user: User | None = None, ip: str | None = None,
                 details: dict | None = None, **fields) -> bool:
        """Mark the upload Deleted (or `move`'s end: Replaced) with its file and what its rows held of it
        destroyed, audited; False if it cannot be."""
        stored_name = upload.stored_name
        with lifecycle.transaction(upload):
            if not lifecycle.claim(upload, move, stored_name=None, mapping=None, headers=None, **fields):
                return False
            UploadRow.destroy_values(upload)
            audit.record(action, organization=upload.organization_id, user=user, obj=upload, ip=ip, details=details)
        self.store.destroy(stored_name)
        return True

    # --- progress and the watch --------------------------------------------------------------------

    def _beating(self, upload_id: int, progress: Progress | None, total: int | None = None) -> Progress:
        """Progress that also beats the upload's heartbeat, so pages and the watch see the work alive: at
        most once a BEAT_SECONDS, the first after one, so work done sooner never opens the queue's store
        (a 5,000-row preview in the CLI spent a tenth of its time importing huey and beating)."""
        next_beat = time.monotonic() + BEAT_SECONDS

        def report(done: int, seen_total: int | None = None, unit: str | None = None) -> None:
            nonlocal next_beat
            if time.monotonic() >= next_beat:
                self.queue.beat(upload_id, done, seen_total or total)
                next_beat = time.monotonic() + BEAT_SECONDS
            if progress:
                progress(done, seen_total or total, unit)
        return report

    def progress_of(self, upload: Upload) -> tuple[int, int | None]:
        """(rows done, rows in all if known) of a Processing upload: stored rows while reading; while
        applying, the heartbeat (the completion's transaction is not visible until it commits)."""
        if upload.processing_step in (APPLYING, UNDOING):
            last = self.queue.last_beat(upload.id)
            return (last[1], last[2] or upload.progress_total) if last else (0, upload.progress_total)
        return upload.progress_done or 0, upload.progress_total

    def _beat_within(self, upload_id: int, seconds: float) -> bool:
        last = self.queue.last_beat(upload_id)
        return last is not None and time.time() - last[0] < seconds

    def watch(self, *, stall_seconds: float = STALL_SECONDS) -> int:
        """End the work that stopped; how many uploads it moved.

        A job that stopped beating (its worker died) leaves its upload Failed, with the reason. Queued
        work whose job is no longer in the queue (the queue was lost, or the job gave up on its retries)
        ends too: a read Failed, a completion back to Pending with a message (nothing was written).
        """
        moved, waiting = 0, None
        grace = utcnow() - timedelta(seconds=stall_seconds)
        for upload in Upload.select().where((Upload.status == PROCESSING) & (Upload.step_at < grace)):
            if self._beat_within(upload.id, stall_seconds):
                continue
            step = upload.processing_step
            if step in QUEUED:
                waiting = self.queue.waiting_uploads() if waiting is None else waiting  # one scan a watch
                if upload.id in waiting:
                    continue  # still in the queue: the workers are busy, or down and will come back to it
                if self._beat_within(upload.id, stall_seconds):
                    continue  # its job was taken from the queue while this looked, and has beaten since
            log.warning("upload %s: its job at step %s stopped; ending it", upload.id, step)
            if step == APPLY_QUEUED:
                moved += lifecycle.claim(upload, REFUSE_APPLY, refusal=LOST_COMPLETION)
            elif step in (UNDO_QUEUED, UNDOING):  # the import itself stays complete
                moved += lifecycle.claim(upload, REFUSE_UNDO, refusal=STOPPED[step])
            else:
                moved += lifecycle.fail(upload, STOPPED.get(step, STOPPED[READING]))
        return moved


SAME_PEOPLE = 0.8  # of the larger list's names, found in the other: "mostly the same people"


def _mostly_the_same(new: Upload, old: Upload) -> bool:
    """Whether two uploads are of mostly the same people: the names their rows will appear under, case
    aside (the database's lower(): ASCII letters only on SQLite), each once. Counted by the database in
    one pass: two million-row lists' names read into this process took 245 MB."""
    def has(upload: Upload):
        return pw.fn.MAX(pw.Case(None, [(UploadRow.upload == upload.id, 1)], 0))

    names = (UploadRow.select(has(new).alias("ours"), has(old).alias("theirs"))
             .where(UploadRow.upload.in_([new.id, old.id]) & (UploadRow.display_name != ""))
             .group_by(pw.fn.LOWER(UploadRow.display_name)))
    ours, theirs, both = (UploadRow.select(pw.fn.SUM(names.c.ours), pw.fn.SUM(names.c.theirs),
                                           pw.fn.SUM(names.c.ours * names.c.theirs))
                          .from_(names).tuples().get())
    return bool(ours and theirs) and both >= SAME_PEOPLE * max(ours, theirs)


def _save_mapping(org_id: int, headers: list[str], mapping: dict[str, str | None], user: User,
                  date_order: str | None) -> SavedMapping:
    """The organization's mapping for these headers, replaced by this one."""
    key = header_set_key(headers)
    SavedMapping.delete().where((SavedMapping.organization == org_id) & (SavedMapping.header_key == key)).execute()
    return SavedMapping.create(organization=org_id, header_key=key, headers=headers, mapping=mapping, saved_by=user,
                               date_order=date_order)
