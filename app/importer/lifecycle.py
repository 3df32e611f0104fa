"""An upload's statuses and steps, and every move between them as one conditional claim.

A move names the (status, step) pairs it may start from and the pair it ends in. `claim` makes it from
the status and step the caller saw, if the move allows them, by a single UPDATE ... WHERE status and
step are still those: of two racing callers (two clicks, two admins, a task delivered twice, the
watch and a late job) exactly one moves the upload, and the other is told it did not. Nothing else in
Roster writes an upload's status or step; views, the CLI and jobs ask `State` what is allowed.

To add a status: a constant and its label below, the moves into and out of it, and a predicate on
State if a page or an action asks about it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, NamedTuple

from app.models import Upload, UploadRow, db, utcnow

PROCESSING = "processing"  # being read, or being completed, by a job (see the steps)
NEEDS_MAPPING = "needs_mapping"  # a column could not be matched with confidence (SPEC 10)
PENDING = "pending"
COMPLETED = "completed"
UNDONE = "undone"  # a completed import taken back (SPEC 13)
DELETED = "deleted"
REPLACED = "replaced"  # a newer upload of the same list took its place (SPEC 11)
FAILED = "failed"
LABELS = {
    PROCESSING: "Processing", NEEDS_MAPPING: "Needs mapping", PENDING: "Pending", COMPLETED: "Completed",
    UNDONE: "Undone", DELETED: "Deleted", REPLACED: "Replaced", FAILED: "Failed",
}
FINAL = frozenset({COMPLETED, UNDONE, DELETED, REPLACED})  # COMPLETED only moves on by Undo Import

# The steps of a Processing upload: waiting for a job, then the job at work.
READ_QUEUED, READING, APPLY_QUEUED, APPLYING = "read_queued", "reading", "apply_queued", "applying"
UNDO_QUEUED, UNDOING = "undo_queued", "undoing"  # a Completed import being undone by a worker
QUEUED = frozenset({READ_QUEUED, APPLY_QUEUED, UNDO_QUEUED})


class ImportRefused(Exception):
    """An action on an upload cannot go ahead; `reason` is a short key, the message says what to do."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


_queued_read, _reading = (PROCESSING, READ_QUEUED), (PROCESSING, READING)
_queued_apply, _applying = (PROCESSING, APPLY_QUEUED), (PROCESSING, APPLYING)
_queued_undo, _undoing = (PROCESSING, UNDO_QUEUED), (PROCESSING, UNDOING)
_pending, _failed, _needs_mapping = (PENDING, None), (FAILED, None), (NEEDS_MAPPING, None)


class Move(NamedTuple):
    name: str
    sources: frozenset[tuple[str, str | None]]
    target: tuple[str, str | None]


def _move(name: str, sources, target) -> Move:
    return Move(name, frozenset(sources), target)


QUEUE_READ = _move("queue_read", {_pending, _needs_mapping}, _queued_read)  # a confirmed (or changed) mapping
READ_AGAIN = _move("read_again", {_pending}, _queued_read)  # Show results again
START_READ = _move("start_read", {_queued_read}, _reading)
FINISH_READ = _move("finish_read", {_reading}, _pending)
ASK_MAPPING = _move("ask_mapping", {_reading}, _needs_mapping)
QUEUE_APPLY = _move("queue_apply", {_pending}, _queued_apply)
START_APPLY = _move("start_apply", {_queued_apply}, _applying)
COMPLETE = _move("complete", {_pending}, (COMPLETED, None))  # in the request
FINISH_APPLY = _move("finish_apply", {_applying}, (COMPLETED, None))  # by the worker
REFUSE_APPLY = _move("refuse_apply", {_queued_apply, _applying}, _pending)  # refused, or its job was lost
FAIL = _move("fail", {_queued_read, _reading, _applying}, _failed)
# Any state that is not final, but a completion at work: its transaction decides (all or nothing).
DELETE = _move("delete", {_pending, _failed, _needs_mapping, _queued_read, _reading, _queued_apply}, (DELETED, None))
REPLACE = _move("replace", {_pending, _failed, _needs_mapping}, (REPLACED, None))
UNDO = _move("undo", {(COMPLETED, None)}, (UNDONE, None))  # in the request
QUEUE_UNDO = _move("queue_undo", {(COMPLETED, None)}, _queued_undo)
START_UNDO = _move("start_undo", {_queued_undo}, _undoing)
FINISH_UNDO = _move("finish_undo", {_undoing}, (UNDONE, None))  # by the worker
# Refused, failed or lost: the import stays Completed (its undo's transaction wrote nothing).
REFUSE_UNDO = _move("refuse_undo", {_queued_undo, _undoing}, (COMPLETED, None))
MOVES = (QUEUE_READ, READ_AGAIN, START_READ, FINISH_READ, ASK_MAPPING, QUEUE_APPLY, START_APPLY, COMPLETE, FINISH_APPLY,
         REFUSE_APPLY, FAIL, DELETE, REPLACE, UNDO, QUEUE_UNDO, START_UNDO, FINISH_UNDO, REFUSE_UNDO)

# (done, in all if known[, unit]): rows, unless `unit` says PARTICIPANTS, the organization's, which the
# duplicate search reads while a preview's rows stand still (participant_reads.participant_pages).
Progress = Callable[..., None]
PARTICIPANTS = "participants"


def at(status: str, step: str | None = None):
    """The condition that an upload is at this status and step (a query's WHERE)."""
    step_is = Upload.processing_step.is_null() if step is None else Upload.processing_step == step
    return (Upload.status == status) & step_is


def new_upload(**fields) -> Upload:
    """A new upload, waiting for its file to be read."""
    return Upload.create(status=PROCESSING, processing_step=READ_QUEUED, step_at=utcnow(), **fields)


def claim(upload: Upload, move: Move, *, where=None, **fields) -> bool:
    """Make `move` from the status and step `upload` holds, if the move starts there and the upload is
    still there (and `where`, a further condition on it, holds), setting `fields` with it; True if this
    call made it. A refused claim brings the object's status and step up to date."""
    seen = (upload.status, upload.processing_step)
    if seen not in move.sources:
        return False
    status, step = move.target
    fields["step_at"] = utcnow()
    still = (Upload.id == upload.id) & at(*seen)
    moved = Upload.update(status=status, processing_step=step, **fields).where(
        still if where is None else still & where).execute()
    if moved:
        upload.status, upload.processing_step = status, step
        for name, value in fields.items():
            setattr(upload, name, value)
    else:
        current = Upload.select(Upload.status, Upload.processing_step).where(Upload.id == upload.id).first()
        if current is not None:
            upload.status, upload.processing_step = current.status, current.processing_step
    return bool(moved)


@contextmanager
def transaction(upload: Upload) -> Iterator[None]:
    """A transaction that may claim a move of `upload`: if it rolls back, the object's status and step
    go back with it, so the caller's next claim (Failed, back to Pending) starts from the truth."""
    seen = (upload.status, upload.processing_step)
    try:
        with db.atomic():
            yield
    except BaseException:
        upload.status, upload.processing_step = seen
        raise


def fail(upload: Upload, reason: str) -> bool:
    """The work could not finish: say why and drop any rows a preview stored; nothing else happens."""
    with transaction(upload):
        failed = claim(upload, FAIL, failure_reason=reason)
        if failed:
            UploadRow.delete().where(UploadRow.upload == upload.id).execute()
    return failed


def record_progress(upload: Upload, *, done: int | None = None, total: int | None = None,
                    unit: str | None = None) -> bool:
    """Store how far the read has come, in rows (or `unit`), while the job still holds the upload; False
    once it does not (it was deleted or marked Failed meanwhile: the job then stops)."""
    fields = {name: value for name, value in (("progress_done", done), ("progress_total", total)) if value is not None}
    return bool(Upload.update(progress_unit=unit, **fields).where((Upload.id == upload.id) & at(*_reading)).execute())


def _status_is(status: str) -> property:
    return property(lambda state: state.status == status, doc=f"The upload is {LABELS[status]}.")


class State:
    """What an upload's status and step allow: the questions pages, views, the CLI and jobs ask."""

    __slots__ = ("status", "step")

    def __init__(self, upload: Upload):
        self.status, self.step = upload.status, upload.processing_step

    def allows(self, move: Move) -> bool:
        return (self.status, self.step) in move.sources

    @property
    def label(self) -> str:
        return LABELS[self.status]

    is_processing = _status_is(PROCESSING)
    needs_mapping = _status_is(NEEDS_MAPPING)
    is_pending = _status_is(PENDING)
    is_completed = _status_is(COMPLETED)
    is_undone = _status_is(UNDONE)
    is_deleted = _status_is(DELETED)
    is_replaced = _status_is(REPLACED)
    is_failed = _status_is(FAILED)
    can_show_results_again = property(lambda state: state.allows(READ_AGAIN))
    can_complete = property(lambda state: state.allows(QUEUE_APPLY))
    can_delete = property(lambda state: state.allows(DELETE))
    can_undo = property(lambda state: state.allows(UNDO))

    @property
    def is_queued(self) -> bool:
        return self.status == PROCESSING and self.step in QUEUED

    @property
    def is_reading(self) -> bool:
        return self.status == PROCESSING and self.step in (READ_QUEUED, READING)

    @property
    def is_applying(self) -> bool:
        return self.status == PROCESSING and self.step in (APPLY_QUEUED, APPLYING)

    @property
    def is_undoing(self) -> bool:
        return self.status == PROCESSING and self.step in (UNDO_QUEUED, UNDOING)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def has_results(self) -> bool:
        """Show results has rows to show: a preview (Pending) or what a completion did."""
        return self.status in (PENDING, COMPLETED)

    @property
    def badge(self) -> str:
        """The Bootstrap colour of the status badge."""
        return {PROCESSING: "info", NEEDS_MAPPING: "warning", PENDING: "warning", COMPLETED: "success",
                FAILED: "danger"}.get(self.status, "secondary")
