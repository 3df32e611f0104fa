"""Pipeline: work runs in order on a second thread; the first error stops it and reaches the caller."""
from __future__ import annotations

import threading
import time

import pytest

from app.importer.pipeline import Pipeline


@pytest.mark.parametrize("inline", [False, True])
def test_work_runs_in_order_and_is_done_when_the_with_ends(inline):
    done, threads = [], set()
    with Pipeline("test", inline=inline) as pipeline:
        for n in range(50):
            pipeline.put(lambda n=n: (done.append(n), threads.add(threading.current_thread().name)))
    assert done == list(range(50))
    assert threads == ({threading.current_thread().name} if inline else {"test"})


@pytest.mark.parametrize("inline", [False, True])
def test_drain_waits_for_the_work_put_so_far(inline):
    done = []
    with Pipeline("test", depth=3, inline=inline) as pipeline:
        for n in range(3):
            pipeline.put(lambda n=n: (time.sleep(0.05), done.append(n)))
        pipeline.drain()
        assert done == [0, 1, 2]
        pipeline.put(lambda: done.append(3))
    assert done == [0, 1, 2, 3]


def test_drain_raises_the_first_error_and_never_waits_on_a_stopped_thread():
    def fail():
        raise ValueError("write failed")

    with pytest.raises(ValueError, match="write failed"):
        with Pipeline("test", depth=3) as pipeline:
            pipeline.put(fail)
            pipeline.put(lambda: None)
            pipeline.drain()


def test_the_first_error_stops_the_work_and_is_raised_at_the_next_put_or_the_end():
    done = []

    def fail():
        raise ValueError("write failed")

    with pytest.raises(ValueError, match="write failed"):
        with Pipeline("test", depth=2) as pipeline:
            pipeline.put(fail)
            for n in range(1000):  # never blocks on the stopped thread, whichever put raises
                pipeline.put(lambda n=n: done.append(n))
    assert done == []


def test_an_error_in_the_caller_waits_for_the_work_in_hand_and_is_raised_as_is():
    gate, done = threading.Event(), []
    with pytest.raises(KeyError):
        with Pipeline("test") as pipeline:
            pipeline.put(lambda: (gate.wait(5), done.append("in hand")))
            gate.set()
            raise KeyError("caller")
    assert done == ["in hand"]


def test_the_threads_error_is_raised_instead_of_the_callers_that_followed_from_it():
    failed = threading.Event()

    def fail():
        failed.set()
        raise ValueError("root cause")

    with pytest.raises(ValueError, match="root cause") as raised:
        with Pipeline("test") as pipeline:
            pipeline.put(fail)
            failed.wait(5)
            with pipeline.turn:  # free once the work has failed; then the caller fails because of it
                raise RuntimeError("transaction aborted")
    assert isinstance(raised.value.__context__, RuntimeError)


def test_the_callers_error_is_raised_when_queued_work_fails_after_it():
    def fails_later():
        time.sleep(0.2)
        raise ValueError("a consequence")

    with pytest.raises(KeyError, match="the cause"):
        with Pipeline("test") as pipeline:
            pipeline.put(fails_later)
            raise KeyError("the cause")


def test_turn_keeps_the_work_waiting_while_the_caller_holds_it():
    order = []
    with Pipeline("test") as pipeline:
        with pipeline.turn:
            pipeline.put(lambda: order.append("work"))
            order.append("caller")
    assert order == ["caller", "work"]
