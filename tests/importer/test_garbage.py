"""The raised collection threshold of an import is put back by the last import to finish, whatever happens."""
from __future__ import annotations

import gc
import threading

import pytest

from app.importer.garbage import YOUNG, fewer_collections


def test_two_overlapping_imports_keep_it_raised_until_the_last_ends():
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second():
        first_in.wait()
        with fewer_collections():
            second_in.set()
            first_out.wait()
            seen["after the first ended"] = gc.get_threshold()

    thread = threading.Thread(target=second)
    thread.start()
    with fewer_collections():
        first_in.set()
        second_in.wait()
        seen["both running"] = gc.get_threshold()
    first_out.set()
    thread.join()
    assert seen["both running"][0] == seen["after the first ended"][0] == YOUNG
    assert gc.get_threshold() == before


def test_an_import_that_fails_puts_the_threshold_back():
    before = gc.get_threshold()

    @fewer_collections()
    def failing():
        assert gc.get_threshold()[0] == YOUNG
        raise RuntimeError("the import failed")

    with pytest.raises(RuntimeError):
        failing()
    assert gc.get_threshold() == before
