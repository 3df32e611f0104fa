"""Show results of a large upload: its counts and the rows each filter picks, read once per state of its rows.

Counting a 100,000-row upload's rows (the review bar, a filter's total) reads every row, and so does
OFFSET for a deep page: with 20 reviewers at once that was most of each request. An upload's rows change
only with a new preview, a review decision or fix (each moves `review_revision` on in the transaction
that changes the rows) or a change of status, so what is counted is kept in this process under those:
a change made by any process makes the next request count again. Counts and row numbers only, never a cell.
"""
from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from typing import Callable, TypeVar

from app.models import Upload, UploadRow

KEPT = 2_000_000  # row numbers (4 bytes each) kept per process, oldest used dropped first
ENTRY = 100  # what an entry costs besides its row numbers (its key, its object), in row numbers' worth

T = TypeVar("T")
_kept: OrderedDict[tuple, object] = OrderedDict()
_latest: dict[int, tuple] = {}  # upload id -> the state of its rows last kept
_weight = 0  # what _kept holds, in row numbers' worth
_lock = threading.Lock()


def rows_version(upload: Upload) -> tuple:
    """What changes whenever the upload's rows may have changed."""
    return (upload.id, upload.uploaded_at, upload.status, upload.processing_step, upload.step_at, upload.previewed_at,
            upload.review_revision)


def remembered(upload: Upload, what: tuple, count: Callable[[], T]) -> T:
    """`count()`, or what it gave for this state of the upload's rows.

    Read under a version read before the count: a decision committed between the two is counted under
    the older version, which only requests already under way can still ask for (and a confirmation
    counted so is refused on completion, its revision being the older one). Only an upload whose rows
    are all there is kept (Pending or Completed): one being read gains rows under one version.
    """
    global _weight
    if not upload.state.has_results:
        return count()
    version = rows_version(upload)
    key = (version, what)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    value = count()
    with _lock:
        if _latest.get(upload.id) != version:  # what was kept of the upload's earlier rows is of no more use
            for old in [k for k in _kept if k[0][0] == upload.id and k[0] != version]:
                _weight -= _weigh(_kept.pop(old))
            _latest[upload.id] = version
        if key not in _kept:
            _kept[key] = value
            _weight += _weigh(value)
        while _weight > KEPT and len(_kept) > 1:
            _weight -= _weigh(_kept.popitem(last=False)[1])
    return value


def _weigh(value) -> int:
    return (len(value) if isinstance(value, array) else 0) + ENTRY


def forget() -> None:
    global _weight
    with _lock:
        _kept.clear()
        _latest.clear()
        _weight = 0


def page_of(upload: Upload, where, what: tuple, page: int, size: int) -> tuple[list[UploadRow], int, int, int]:
    """Page `page` (1-based, clamped) of the rows `where` picks, in row order: (rows, page, pages, total).

    The row numbers `where` picks are read once (one column, in order), so a page is then its own rows
    by number, whatever its depth and however sparse the filter, instead of an OFFSET over the rows before it.
    """
    numbers = remembered(upload, ("row numbers", *what), lambda: _row_numbers(where))
    pages = max(1, -(-len(numbers) // size))
    page = min(max(page, 1), pages)
    shown = numbers[(page - 1) * size:page * size].tolist()
    if not shown:
        return [], page, pages, 0
    rows = list(UploadRow.select().where((UploadRow.upload == upload.id) & UploadRow.row_number.in_(shown))
                .order_by(UploadRow.row_number))
    return rows, page, pages, len(numbers)


def _row_numbers(where) -> array:
    """The numbers of the rows `where` picks, in order, 4 bytes each."""
    return array("I", (number for number, in UploadRow.select(UploadRow.row_number).where(where)
                       .order_by(UploadRow.row_number).tuples()))
