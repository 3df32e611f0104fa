"""Work handed to a second thread, run in order while the caller prepares more.

The import's writes wait on the database, which runs in another process (PostgreSQL), so on the other
core. Handing each write to a thread lets Python check, match or encode the next chunk meanwhile.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from typing import Callable, ContextManager


class Pipeline:
    """Runs the callables given to `put` one after another on a second thread.

    At most `depth` wait their turn, so memory stays bounded. The first error stops the work: the
    callables still queued are dropped, and the error is raised in the caller's thread at the next
    `put` or when the `with` ends, which waits for the work in hand. An error in the caller's thread
    ends the `with` the same way; a thread error that came before it is raised instead (it is then
    why the caller failed). `around` wraps the thread's whole run (say, a database
    connection of its own); `inline` runs each callable at once in the caller's thread instead.
    Hold `turn` to use, from the caller's thread, something the work uses too (a connection): the work
    waits meanwhile. Never `put` while holding it: a full queue would then wait forever.
    """

    def __init__(self, name: str, *, depth: int = 1, around: Callable[[], ContextManager] = contextlib.nullcontext,
                 inline: bool = False):
        self.inline = inline
        self.around = around
        self.waiting: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.turn = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> "Pipeline":
        if not self.inline:
            self.thread.start()
        return self

    def put(self, work: Callable[[], None]) -> None:
        if self.error is not None:
            raise self.error
        if self.inline:
            work()
        else:
            self.waiting.put(work)

    def drain(self) -> None:
        """Wait until the work put so far has run; its first error is raised here, as at `put`."""
        if not self.inline:
            self.waiting.join()
        if self.error is not None:
            raise self.error

    def __exit__(self, error_type, error, traceback) -> None:
        earlier = self.error  # the thread failed before the caller did: most likely why the caller failed
        if not self.inline:
            self.waiting.put(None)
            self.thread.join()
        # With no error in the caller, any error of the thread; with one, only a thread error that came
        # first (a write queued behind the caller's failure then fails because of it, not the other way).
        thread_error = self.error if error is None else earlier
        if thread_error is not None and thread_error is not error:
            raise thread_error

    def _run(self) -> None:
        ended = False
        try:
            with self.around():
                while (work := self.waiting.get()) is not None:
                    with self.turn:
                        try:
                            work()
                        except BaseException as error:  # raised in the caller's thread
                            self.error = error  # before `turn` is free: the caller's next use sees it
                            raise
                        finally:
                            self.waiting.task_done()  # for `drain`
                ended = True
        except BaseException as error:  # raised in the caller's thread
            self.error = self.error or error
            while not ended and self.waiting.get() is not None:  # so `put` never waits on a stopped thread
                self.waiting.task_done()
