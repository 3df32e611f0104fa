"""Fewer garbage collections while an import works through its rows.

A preview or a completion makes millions of short-lived objects (cells, dicts, tuples) beside a large
set that lives as long as it does (the duplicate index, the look-ups). With CPython's default
threshold a young collection runs every 700 allocations and keeps walking the survivors: a sixth of a
100,000-row preview (bench/, python -m bench.case). Collecting every 50,000 allocations instead leaves
the same garbage collected, later. A preview's two children (check_process, search_process) serve
under it too: each made 500 to 900 young collections of its own at 100,000 rows. The threshold is the
process's, so several imports in one process (threads) share one raise, and the last to finish puts the
old threshold back.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

YOUNG = 50_000  # allocations between young collections while an import runs (CPython's default: 700)

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections():
    """Raise the young-generation threshold for the block (usable as a decorator)."""
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(YOUNG, _saved[0]), *_saved[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
