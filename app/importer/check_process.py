"""Reading and checking a large preview's rows on the machine's second core, in a child process (children.py).

Reading the file and checking each row is about half of a preview's time, and the other half (matching,
storing) waits on it in the same Python. For a large file a child reads the sheet, once: it sends the
preview the headers, the size and the first rows (all the preview reads itself: the columns are mapped
and the date order told from them), then checks every row with the same `check_rows` while the preview
matches and stores what it sent before; the rows, their values and their issues are the same either way.
The child runs ahead of the preview by at most what the pipe between them holds (two chunks).

    parent -> child: (the file: its bytes, or storage.Kept, read from the store a piece at a time;
                      file name, max_rows, first rows wanted)
    child -> parent: ("sheet", (headers, format, row estimate, first rows))
                     ("rejected", message)  the file cannot be read (FileRejected: our own words)
                     ("gone", None)         the stored file cannot be read (StoredFileError)
    parent -> child: (header map, Reference), then its stdin closes; or it closes at once (no check)
    child -> parent: ("rows", Checked) for each chunk, in order, then ("done", None)
                     ("rejected", message), ("gone", None) as above
                     ("error", "ExceptionType") and it stops
"""
from __future__ import annotations

import pickle
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import chain, islice
from typing import NamedTuple

from app.importer import children
from app.importer.garbage import fewer_collections
from app.importer.issues import FileRejected
from app.importer.mapping import HeaderMap
from app.importer.reader import Sheet, estimate_rows, read_pieces, read_spreadsheet
from app.importer.rules import CheckedRow, Reference, check_cells, layout
from app.storage import Kept, StoredFileError
from app.stored import json_text
from app.text import without_unsafe

CHUNK = 1000  # rows checked, then matched and stored together
PARALLEL_ROWS = 20_000  # below this the child's start (a tenth of a second) costs more than it brings
KEPT_BYTES = 2 << 20  # a kept file larger than this is read by the child from the store, never here
COMMAND = children.command(__name__)


class Checked(NamedTuple):
    rows: list[CheckedRow]  # up to CHUNK rows, blank ones left out
    read: int  # rows of the sheet read so far, blank ones included
    blank: int  # blank rows among them


class CheckFailed(Exception):
    """The child process stopped before it had checked every row."""


def _as_written(value) -> str:
    """A cell as the preview keeps it: a date in ISO form, text without unsafe characters (app/text.py)."""
    return value.isoformat() if isinstance(value, date) else without_unsafe(value)[0].strip()


def check_rows(rows: Iterable[tuple[int, list]], header_map: HeaderMap, ref: Reference) -> Iterator[Checked]:
    """The sheet's (row number, cells) checked, CHUNK rows at a time."""
    # Only the imported columns, as written: a column that maps to no field is dropped here, before its
    # values reach a row, the database, a page or a report (SPEC 14).
    imported = [(index, header_map.headers[index]) for index in sorted(header_map.fields.values())]
    rules = layout(header_map.located)
    chunk: list[CheckedRow] = []
    read = blank = sent = 0
    for row_number, cells in rows:
        read += 1
        if not any(cells):
            blank += 1
            continue
        values, issues = check_cells(row_number, cells, rules, ref)
        # Encoded here as the JSON text UploadRow.values stores: the child has time to spare while the
        # preview process sets the pace, and one text pickles and unpickles faster than a dict of cells.
        written = json_text({header: cell if cell.__class__ is str and cell.isprintable() else _as_written(cell)
                             for index, header in imported if (cell := cells[index])})
        chunk.append(CheckedRow(row_number, values, issues, written))
        if len(chunk) == CHUNK:
            yield Checked(chunk, read, blank)
            chunk, sent = [], read
    if chunk or read > sent:
        yield Checked(chunk, read, blank)


@contextmanager
def reading(file: bytes | Kept, filename: str, max_rows: int, first: int):
    """The sheet a preview reads (Sheet) and how its rows are checked (Here or InChild): read here, or
    for a large file on a machine with a core to spare, in a child process that sends the headers, the
    size and the `first` rows only, and then checks every row itself. (A row it cannot read among those
    first ones refuses the file before any mapping step; read here, a file meets its mapping step first.)
    A large file still in the store (Kept) is read there by the child, a piece at a time: no process
    holds a large CSV whole (a workbook is joined in the child: a zip is read from its end)."""
    two_cores = children.two_cores()
    if isinstance(file, Kept) and (file.size <= KEPT_BYTES or not two_cores):
        file = file.load()
    if isinstance(file, bytes) and (estimate_rows(file) < PARALLEL_ROWS or not two_cores):
        yield read_spreadsheet(file, filename, max_rows=max_rows), Here()
        return
    child = children.start(COMMAND, wide="stdout")
    try:
        _send(child, (file, filename, max_rows, first))
        headers, file_format, estimate, head = _receive(child, "sheet")
        checks = InChild(child)
        yield Sheet(headers, iter(head), file_format, estimate), checks
        if not checks.started:  # a person maps the columns first: the child ends at its stdin's end
            child.stdin.close()
        child.stdout.close()
        child.wait(timeout=30)
    except BaseException:
        children.end(child)
        raise


class Here:
    """Rows checked in this process, as the sheet is read."""

    def checked(self, rows: Iterable[tuple[int, list]], header_map: HeaderMap, ref: Reference) -> Iterator[Checked]:
        return check_rows(rows, header_map, ref)


class InChild:
    """Rows checked by the child that read the sheet (`rows`, the first ones this process was sent, are
    read there again)."""

    def __init__(self, child):
        self.child = child
        self.started = False

    def checked(self, rows: Iterable[tuple[int, list]], header_map: HeaderMap, ref: Reference) -> Iterator[Checked]:
        self.started = True
        _send(self.child, (header_map, ref))
        self.child.stdin.close()
        while (answer := _receive(self.child, "rows", "done")) is not None:
            yield answer


def _send(child, message: tuple) -> None:
    children.tell(child, message, CheckFailed("the row check stopped"))


def _receive(child, *expected: str):
    """The answer of the next message, if of an expected kind (None for "done"); the child's refusal
    of the file as FileRejected; anything else, or no answer, as CheckFailed."""
    kind, answer = children.answer(child, CheckFailed("the row check stopped"))
    if kind == "rejected":
        raise FileRejected(answer)
    if kind == "gone":
        raise StoredFileError("The stored file cannot be read.")
    if kind not in expected:
        raise CheckFailed(f"the row check stopped ({answer})")
    return answer


@fewer_collections()
def serve(stdin, stdout) -> None:
    """The child: read the file it is sent, send its first rows, then check every row and send each chunk."""
    def send(kind: str, answer) -> None:
        children.send(stdout, (kind, answer))  # unbuffered: a chunk's tail never waits for the next one

    try:
        file, filename, max_rows, first = pickle.load(stdin)
        if isinstance(file, Kept):
            sheet = read_pieces(file.pieces, filename, max_rows=max_rows)
        else:
            sheet = read_spreadsheet(file, filename, max_rows=max_rows)
        head = list(islice(sheet.rows, first))
        send("sheet", (sheet.headers, sheet.format, sheet.row_estimate, head))
        try:
            header_map, ref = pickle.load(stdin)
        except EOFError:  # the preview stops before the rows (a person maps the columns first)
            return
        for checked in check_rows(chain(head, sheet.rows), header_map, ref):
            send("rows", checked)
        send("done", None)
    except FileRejected as refusal:
        send("rejected", refusal.message)
    except StoredFileError:
        send("gone", None)
    except BrokenPipeError:  # the preview ended first
        return
    except Exception as error:  # the type alone: a message may quote a cell
        send("error", type(error).__name__)


if __name__ == "__main__":
    from app.importer import check_process  # by its name, so what it pickles (Checked) loads in the parent

    answers, sys.stdout = sys.stdout.buffer, sys.stderr  # a stray print must not break the stream
    check_process.serve(sys.stdin.buffer, answers)
