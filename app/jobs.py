"""Background work on huey: SQLite queue under instance/ by default, Redis when REDIS_URL is set.

Large files are read (preview) and applied (Complete Import) here. Each job claims its upload with a
conditional UPDATE (app/importer), so a task delivered twice runs once. A running job beats a heartbeat
into huey's key-value store (the SQLite queue file or Redis, never the app database, which a running
Complete Import keeps locked on SQLite); an upload whose job stopped beating is marked Failed.
"""
from __future__ import annotations

import logging
import os
import time

from huey import RedisHuey, SqliteHuey, crontab

from app.config import ROOT, Config
from app.importer.apply import complete_queued_import
from app.importer.preview import mark_failed, preview_upload
from app.models import APPLY_QUEUED, APPLYING, PENDING, PROCESSING, READING, Upload, User, db, open_database

log = logging.getLogger(__name__)

USER_GONE = "The account that started Complete Import no longer exists; nothing was imported. Start it again."
STALL_SECONDS = 60  # a job beats at least once per chunk of 1,000 rows, i.e. well under a second
STOPPED = {
    READING: "Reading the file stopped before it finished (the background worker was restarted or ran out of "
             "memory). Nothing was imported; upload the file again.",
    APPLYING: "Complete Import stopped before it finished (the background worker was restarted or ran out of "
              "memory), so nothing was imported. Upload the file again to import it.",
}


def make_huey():
    name = os.environ.get("ROSTER_QUEUE", "roster")
    if os.environ.get("REDIS_URL"):
        return RedisHuey(name, url=os.environ["REDIS_URL"])
    instance = os.environ.get("INSTANCE_DIR", str(ROOT / "instance"))
    os.makedirs(instance, exist_ok=True)
    return SqliteHuey(name, filename=os.path.join(instance, "queue.db"))


huey = make_huey()
_settings: Config | None = None


def init_app(app) -> None:
    """Jobs use the app's settings; under test they run at once, in the request (huey's immediate mode)."""
    global _settings
    _settings = app.config["ROSTER"]
    if _settings.TESTING:
        huey.immediate = True


def settings() -> Config:
    global _settings
    if _settings is None:
        _settings = Config.from_env()
    return _settings


@huey.on_startup()
def _open_database():
    """A worker process connects to the same database as the web app."""
    open_database(settings().DATABASE_URL)


def runs_in_background(rows: int | None) -> bool:
    """Files with more rows than BACKGROUND_ROWS are read and applied by a worker."""
    return (rows or 0) > settings().BACKGROUND_ROWS


class _Connection:
    """The job's database connection: its own in a worker, the request's when run at once."""

    def __enter__(self):
        self.opened = db.is_closed()
        if self.opened:
            db.connect()

    def __exit__(self, *exc):
        if self.opened and not db.is_closed():
            db.close()


def beat(upload_id: int, done: int = 0, total: int | None = None) -> None:
    huey.put(f"upload-beat:{upload_id}", (time.time(), done, total))


def last_beat(upload_id: int) -> tuple[float, int, int | None] | None:
    return huey.get(f"upload-beat:{upload_id}", peek=True)


def progress_of(upload: Upload) -> tuple[int, int | None]:
    """(rows done, rows in all if known) of a Processing upload: stored rows while reading; while
    applying, the job's heartbeat (its transaction is not visible until it commits)."""
    if upload.processing_step == APPLYING:
        last = last_beat(upload.id)
        return (last[1], last[2] or upload.progress_total) if last else (0, upload.progress_total)
    return upload.progress_done or 0, upload.progress_total


@huey.task(retries=0)
def preview_job(upload_id: int) -> None:
    """Read, check and match a large file (the upload waits in Processing until this claims it)."""
    with _Connection():
        upload = Upload.get_or_none(Upload.id == upload_id)
        if upload is None or upload.status != PROCESSING:
            return
        beat(upload_id)
        config = settings()
        try:
            data = config.file_store().load(upload.stored_name, upload.sha256)
        except Exception:
            mark_failed(upload, "The stored file cannot be read. Nothing was imported; upload the file again.")
            return
        preview_upload(upload, data, max_rows=config.MAX_ROWS,
                       progress=lambda done, total: beat(upload_id, done, total))


@huey.task(retries=0)
def complete_job(upload_id: int, user_id: int, ip: str | None = None) -> None:
    """Complete Import of a large upload, claimed once; the transaction makes it all or nothing."""
    with _Connection():
        user = User.get_or_none(User.id == user_id)
        if user is None:  # never left waiting: back to Pending, to be started again by someone who can
            (Upload.update(status=PENDING, processing_step=None, refusal=USER_GONE)
             .where((Upload.id == upload_id) & (Upload.status == PROCESSING) & (Upload.processing_step == APPLY_QUEUED))
             .execute())
            return
        beat(upload_id)
        total = Upload.get_by_id(upload_id).progress_total
        complete_queued_import(upload_id, user, store=settings().file_store(), ip=ip,
                               progress=lambda done, _total: beat(upload_id, done, total))


def fail_if_stalled(upload: Upload, *, stall_seconds: float = STALL_SECONDS) -> bool:
    """Mark the upload Failed if its job claimed it and then stopped beating (the worker died)."""
    if upload.status != PROCESSING or upload.processing_step not in STOPPED:
        return False
    last = last_beat(upload.id)
    if last is not None and time.time() - last[0] < stall_seconds:
        return False
    step = upload.processing_step
    log.warning("upload %s: the job %s stopped beating; marking it Failed", upload.id, step)
    return mark_failed(upload, STOPPED[step], step=step)


def fail_stalled_uploads(*, stall_seconds: float = STALL_SECONDS) -> int:
    """Mark Failed every upload whose job stopped (see fail_if_stalled); how many."""
    running = Upload.select().where((Upload.status == PROCESSING) & Upload.processing_step.in_(list(STOPPED)))
    return sum(fail_if_stalled(upload, stall_seconds=stall_seconds) for upload in running)


@huey.periodic_task(crontab(minute="*"))
def fail_stalled_uploads_job() -> None:
    with _Connection():
        fail_stalled_uploads()
