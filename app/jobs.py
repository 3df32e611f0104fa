"""Background work on huey, made from Config: the SQLite queue under INSTANCE_DIR, or Redis when
REDIS_URL is set; immediate (run at once, in the caller) under test.

The factory builds one Jobs for the app; the worker (`huey_consumer app.worker.huey`) builds the same
from the same Config. Its tasks only call the worker's halves of app/importer/actions.py, which claim
their upload (lifecycle), so a task delivered twice runs once. Heartbeats go to huey's key-value store
(the queue file or Redis), never to the app database, which a running Complete Import keeps locked
on SQLite.
"""
from __future__ import annotations

import logging
import time
from functools import cached_property

from app.config import Config
from app.importer.actions import Actions
from app.models import db

log = logging.getLogger(__name__)

# A task that fails before it claims its upload (the database unreachable) is tried again; after the
# last try the watch finds its upload no longer queued and ends it.
RETRIES, RETRY_DELAY = 3, 10


def make_huey(config: Config):
    # huey (and redis, which it imports) here, not at the top: 0.17 s of every start-up, which a command
    # that queues nothing need not pay.
    from huey import RedisHuey, SqliteHuey

    if config.REDIS_URL:
        huey = RedisHuey(config.QUEUE_NAME, url=config.REDIS_URL, results=False)
    else:
        config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(config.QUEUE_NAME, filename=str(config.INSTANCE_DIR / "queue.db"), results=False)
    huey.immediate = config.TESTING
    return huey


class Jobs:
    """The queue the actions hand large work to (actions.Queue), and the worker's tasks."""

    def __init__(self, config: Config):
        self.config = config
        self.actions = Actions(config, self)

    @cached_property
    def huey(self):
        """The queue and its tasks, made on first use (the worker's entry point asks for it at once)."""
        from huey import crontab

        huey = make_huey(self.config)
        task = huey.task
        self._read = task(retries=RETRIES, retry_delay=RETRY_DELAY, name="read_upload")(self._read_upload)
        self._apply = task(retries=RETRIES, retry_delay=RETRY_DELAY, name="complete_import")(self._complete_import)
        self._undo = task(retries=RETRIES, retry_delay=RETRY_DELAY, name="undo_import")(self._undo_import)
        huey.periodic_task(crontab(minute="*"), name="watch_uploads")(self._watch_uploads)
        return huey

    # --- actions.Queue ---
    # Immediate (under test), a task runs here and its errors are raised, not logged away by huey.
    def read(self, upload_id: int) -> None:
        huey = self.huey
        (self._read.call_local if huey.immediate else self._read)(upload_id)

    def apply(self, upload_id: int, user_id: int, ip: str | None) -> None:
        huey = self.huey
        (self._apply.call_local if huey.immediate else self._apply)(upload_id, user_id, ip)

    def undo(self, upload_id: int, user_id: int, digest: str | None, ip: str | None) -> None:
        huey = self.huey
        (self._undo.call_local if huey.immediate else self._undo)(upload_id, user_id, digest, ip)

    def beat(self, upload_id: int, done: int = 0, total: int | None = None) -> None:
        """Best effort: a queue store that is down must not fail an import done in the request."""
        try:
            self.huey.put(f"upload-beat:{upload_id}", (time.time(), done, total))
        except Exception as error:
            log.warning("upload %s: heartbeat not stored (%s)", upload_id, type(error).__name__)

    def last_beat(self, upload_id: int) -> tuple[float, int, int | None] | None:
        return self.huey.get(f"upload-beat:{upload_id}", peek=True)

    def waiting_uploads(self) -> set[int]:
        """The uploads with a job in the queue, or scheduled for a retry (one scan of both)."""
        return {task.args[0] for task in (*self.huey.pending(), *self.huey.scheduled())
                if task.name in ("read_upload", "complete_import", "undo_import") and task.args}

    # --- the tasks: return None (huey keeps no results) ---
    def _read_upload(self, upload_id: int) -> None:
        with _connection():
            self.actions.read(upload_id)

    def _complete_import(self, upload_id: int, user_id: int, ip: str | None = None) -> None:
        with _connection():
            self.actions.apply(upload_id, user_id, ip)

    def _undo_import(self, upload_id: int, user_id: int, digest: str | None = None, ip: str | None = None) -> None:
        with _connection():
            self.actions.undo_worker(upload_id, user_id, digest, ip)

    def _watch_uploads(self) -> None:
        with _connection():
            self.actions.watch()


class _connection:
    """The job's database connection: its own in a worker, the caller's when run at once."""

    def __enter__(self):
        self.opened = db.is_closed()
        if self.opened:
            db.connect()

    def __exit__(self, *exc):
        if self.opened and not db.is_closed():
            db.close()
