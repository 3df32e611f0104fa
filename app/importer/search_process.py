"""The duplicate search of a large preview on the machine's second core, in a child process (children.py).

Checking and matching a row and comparing it with the possible duplicates each take about half the
preview's time, and Python runs one of them at a time: here the parent checks and matches chunk N+1
while the child searches chunk N. The child runs duplicates.search_chunk, as the inline search does, on
the same records in the same order, so the candidates are the same. The child (search_child.py) is
started with this Python and spoken to over its stdin and stdout (pickled messages, in memory only:
nothing of the file touches the disk), and it ends with the preview. It never logs: an error is sent
back by its type alone.

In a large organization (HOLD_FROM participants), the first HOLD_ROWS rows that create are held, as the
inline search holds them: a list the organization already has (the monthly one) creates few, and those
are searched at the end the other way round (duplicates.HeldSearch), without loading the participants.
A row past them loads the participants, and the held rows are searched with it.

    parent -> child: ("hold", [row_record tuples])     one chunk's rows that create, held
                     ("add", [PERSON_COLUMNS tuples])  the organization's participants, past the held rows
                     ("find", [row_record tuples])     one chunk's rows that create (and the held ones first)
                     ("scan", [PERSON_COLUMNS tuples]) the participants, at the end, when every row was held
                     ("settle", None)                  the end, when every row was held
    child -> parent: ("found", [(row, [candidate dicts])]) for each "find", and for "settle", in order
                     ("error", "ExceptionType")       and it stops
"""
from __future__ import annotations

import pickle
import queue
import subprocess
import threading
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial

from app.importer import children
from app.importer.duplicates import InlineSearch
from app.importer.participant_reads import organization_index, participant_pages
from app.models import Participant

# From this many rows the child's start (0.08 s, on the other core) is over before the preview first waits
# for its answers, SEARCH_AHEAD chunks in: at 2,500 rows it cost 0.02 s, at 5,000 it saved 0.02 s.
PARALLEL_ROWS = 4_000
HOLD_ROWS = 5_000  # rows that create held before the participants are loaded (the preview holds them too)
# Rows are held only from this many participants: below it, their index (0.85 kB a participant) takes
# less memory than the held rows could (about 4 kB each in the preview, 1 kB in the search).
HOLD_FROM = 50_000
COMMAND = children.command("app.importer.search_child")  # the child: this Python, search_child.py


class SearchFailed(Exception):
    """The child process stopped before answering."""


@contextmanager
def duplicate_search(org_id: int, rows: int, progress: Callable | None = None):
    """The search a preview of about `rows` rows uses: in a child process when it is large and there is a
    core to spare, else in this process; both find the same candidates. `progress` is told how many of
    the organization's participants are read, whenever they are (participant_reads.participant_pages)."""
    hold = HOLD_ROWS if Participant.select().where(Participant.organization == org_id).count() >= HOLD_FROM else 0
    pages = partial(participant_pages, org_id, progress=progress)
    if rows < PARALLEL_ROWS or not children.two_cores():
        yield InlineSearch(partial(organization_index, org_id, progress=progress), hold=hold, pages=pages)
        return
    search = ProcessSearch(pages, hold)
    try:
        yield search
    except BaseException:
        search.stop()
        raise
    search.close()


class ProcessSearch:
    """Sends each chunk to the child and takes its answers in the order sent (see the module's docstring)."""

    def __init__(self, pages: Callable, hold: int):
        self.pages, self.hold = pages, hold  # pages: the organization's participants (participant_pages)
        self.child: subprocess.Popen | None = None
        self.answers: queue.Queue = queue.Queue()
        self.reader: threading.Thread | None = None
        self.held: int | None = 0  # rows held so far; None once the participants are loaded

    def send(self, records: list[tuple]) -> None:
        if self.child is None:
            if not records:  # an all-unchanged file never starts the child
                self.answers.put(("found", []))
                return
            self._start()
        if self.held is not None and self.held + len(records) <= self.hold:
            self.held += len(records)
            self._write(("hold", records))
            self.answers.put(("held", None))
            return
        if self.held is not None:
            self.held = None
            for rows in self.pages():
                self._write(("add", rows))
        self._write(("find", records))

    def take(self) -> list[tuple[int, list[dict]]] | None:
        """The candidates of the chunk sent longest ago and not yet taken (None: its rows are held, and
        are answered with a later chunk's or by `settle`)."""
        kind, answer = self.answers.get()
        if kind not in ("found", "held"):
            raise SearchFailed(f"the duplicate search stopped ({answer})")
        return answer

    def settle(self) -> list[tuple[int, list[dict]]]:
        """The held rows' candidates, once every chunk is taken: the participants are read a page at a
        time and each is compared with the held rows it meets."""
        if not self.held:  # nothing held, or answered already
            return []
        for rows in self.pages():
            self._write(("scan", rows))
        self._write(("settle", None))
        self.held = None
        return self.take()

    def _start(self) -> None:
        self.child = children.start(COMMAND, wide="stdin")
        # Answers are read as they come, so a child writing a large answer never waits on a parent that
        # is itself waiting to write the next chunk.
        self.reader = threading.Thread(target=self._read, name="duplicate-search-answers", daemon=True)
        self.reader.start()

    def _write(self, message: tuple) -> None:
        children.tell(self.child, message, SearchFailed("the duplicate search stopped"))

    def _read(self) -> None:
        try:
            while True:
                self.answers.put(pickle.load(self.child.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            self.answers.put(("error", "ended"))

    def close(self) -> None:
        """Let the child finish (its answers are all taken by now) and end."""
        if self.child is not None:
            self.child.stdin.close()
            try:
                self.child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.stop()
            self.reader.join(timeout=5)

    def stop(self) -> None:
        """End the child at once (the preview failed or was stopped)."""
        if self.child is not None:
            children.end(self.child)
