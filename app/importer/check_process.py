"""Reading and checking a large preview's rows on the machine's second core, in a child process (children.py).

Reading the file and checking each row is about half of a preview's time, and the other half (matching,
storing) waits on it in the same Python. Here a child reads the file again from the bytes it is sent and
checks every row with the same `check_rows`, while the preview matches and stores what it sent before;
the rows, their values and their issues are the same either way. The child runs ahead of the preview by
at most what the pipe between them holds, so neither keeps more than a chunk or two of checked rows
(each still holds the file's bytes, as the preview already did).

    parent -> child: (file bytes, file name, max_rows, header map, Reference), then its stdin closes
    child -> parent: ("rows", Checked) for each chunk, in order, then ("done", None)
                     ("rejected", message)  the file cannot be read (FileRejected: our own words)
                     ("error", "ExceptionType") and it stops
"""
from __future__ import annotations

import pickle
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import NamedTuple

from app.importer import children
from app.importer.issues import FileRejected
from app.importer.mapping import HeaderMap
from app.importer.matching import CheckedRow
from app.importer.reader import read_spreadsheet
from app.importer.rules import Reference, check_row
from app.text import without_unsafe

CHUNK = 1000  # rows checked, then matched and stored together
PARALLEL_ROWS = 20_000  # below this the child's start (a tenth of a second) costs more than it brings
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
    chunk: list[CheckedRow] = []
    read = blank = sent = 0
    for row_number, cells in rows:
        read += 1
        if not any(cells):
            blank += 1
            continue
        values, issues = check_row(row_number, header_map.cells(cells), ref)
        written = {header: cell if cell.__class__ is str and cell.isprintable() else _as_written(cell)
                   for index, header in imported if (cell := cells[index])}
        chunk.append(CheckedRow(row_number, values, issues, written))
        if len(chunk) == CHUNK:
            yield Checked(chunk, read, blank)
            chunk, sent = [], read
    if chunk or read > sent:
        yield Checked(chunk, read, blank)


@contextmanager
def checked_rows(data: bytes, filename: str, max_rows: int, rows: Iterable[tuple[int, list]], estimate: int | None,
                 header_map: HeaderMap, ref: Reference):
    """The checked chunks of a preview: `rows` (the sheet the caller reads) checked here, or, for a large
    file on a machine with a core to spare, the same file read and checked again in a child process."""
    if (estimate or 0) < PARALLEL_ROWS or not children.two_cores():
        yield check_rows(rows, header_map, ref)
        return
    child = children.start(COMMAND)
    try:
        yield _answers(child, (data, filename, max_rows, header_map, ref))
        child.stdout.close()
        child.wait(timeout=30)
    except BaseException:
        children.end(child)
        raise


def _answers(child, question: tuple) -> Iterator[Checked]:
    try:
        pickle.dump(question, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        child.stdin.close()
    except BrokenPipeError:
        raise CheckFailed("the row check stopped") from None
    while True:
        try:
            kind, answer = pickle.load(child.stdout)  # waits for the child: the pipe bounds how far ahead it runs
        except (EOFError, OSError, pickle.UnpicklingError):
            raise CheckFailed("the row check stopped") from None
        if kind == "done":
            return
        if kind == "rejected":
            raise FileRejected(answer)
        if kind != "rows":
            raise CheckFailed(f"the row check stopped ({answer})")
        yield answer


def serve(stdin, stdout) -> None:
    """The child: read the file it is sent and send back each checked chunk."""
    def send(kind: str, answer) -> None:
        pickle.dump((kind, answer), stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()  # a chunk's tail must not wait in the buffer for the next one

    try:
        data, filename, max_rows, header_map, ref = pickle.load(stdin)
        sheet = read_spreadsheet(data, filename, max_rows=max_rows)
        for checked in check_rows(sheet.rows, header_map, ref):
            send("rows", checked)
        send("done", None)
    except FileRejected as refusal:
        send("rejected", refusal.message)
    except BrokenPipeError:  # the preview ended first
        return
    except Exception as error:  # the type alone: a message may quote a cell
        send("error", type(error).__name__)


if __name__ == "__main__":
    from app.importer import check_process  # by its name, so what it pickles (Checked) loads in the parent

    answers, sys.stdout = sys.stdout.buffer, sys.stderr  # a stray print must not break the stream
    check_process.serve(sys.stdin.buffer, answers)
