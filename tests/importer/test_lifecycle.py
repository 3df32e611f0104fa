"""The upload's state machine: each allowed move happens once under a race, every other is refused."""
from __future__ import annotations

import threading

import pytest

from app.importer import lifecycle
from app.importer.lifecycle import (
    APPLY_QUEUED,
    APPLYING,
    COMPLETED,
    DELETED,
    FAILED,
    MOVES,
    NEEDS_MAPPING,
    PENDING,
    PROCESSING,
    READ_QUEUED,
    READING,
    REPLACED,
    UNDO_QUEUED,
    UNDOING,
    UNDONE,
    claim,
)
from app.models import Upload, User, db

STATES = [(PROCESSING, READ_QUEUED), (PROCESSING, READING), (PROCESSING, APPLY_QUEUED), (PROCESSING, APPLYING),
          (PROCESSING, UNDO_QUEUED), (PROCESSING, UNDOING),
          (NEEDS_MAPPING, None), (PENDING, None), (COMPLETED, None), (UNDONE, None), (DELETED, None),
          (REPLACED, None), (FAILED, None)]
ALLOWED = [(move, state) for move in MOVES for state in STATES if state in move.sources]
REFUSED = [(move, state) for move in MOVES for state in STATES if state not in move.sources]


@pytest.fixture
def upload_at(demo_org):
    def make(state) -> Upload:
        upload = lifecycle.new_upload(organization=demo_org, uploaded_by=User.by_email("uploader@demo.example"),
                                      original_filename="p.csv", sha256="0" * 64)
        Upload.update(status=state[0], processing_step=state[1]).where(Upload.id == upload.id).execute()  # set-up
        return Upload.get_by_id(upload.id)
    return make


def test_every_state_is_named_and_every_move_ends_in_a_state():
    assert {status for status, _ in STATES} == set(lifecycle.LABELS)
    assert all(move.target in STATES and move.sources <= set(STATES) for move in MOVES)
    assert len({move.name for move in MOVES}) == len(MOVES)


@pytest.mark.parametrize("move,state", ALLOWED, ids=[f"{m.name}-from-{s[0]}-{s[1]}" for m, s in ALLOWED])
def test_an_allowed_move_happens_once_when_two_threads_race_for_it(app, upload_at, move, state):
    upload = upload_at(state)
    db.close()
    results, barrier = [], threading.Barrier(2)

    def race():
        with db.connection_context():
            mine = Upload.get_by_id(upload.id)
            barrier.wait()
            results.append(claim(mine, move, refusal=f"by {threading.current_thread().name}"))

    threads = [threading.Thread(target=race, name=f"t{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.connect(reuse_if_open=True)
    assert sorted(results) == [False, True]
    after = Upload.get_by_id(upload.id)
    assert (after.status, after.processing_step) == move.target
    assert after.refusal in ("by t1", "by t2")


@pytest.mark.parametrize("move,state", REFUSED, ids=[f"{m.name}-from-{s[0]}-{s[1]}" for m, s in REFUSED])
def test_a_move_from_a_state_it_does_not_start_from_is_refused(app, upload_at, move, state):
    upload = upload_at(state)
    assert claim(upload, move, refusal="changed") is False
    after = Upload.get_by_id(upload.id)
    assert (after.status, after.processing_step, after.refusal) == (*state, None)


def test_a_claim_from_a_state_seen_earlier_is_refused_once_the_upload_moved_on(app, upload_at):
    upload = upload_at((PENDING, None))
    stale = Upload.get_by_id(upload.id)
    assert claim(upload, lifecycle.QUEUE_APPLY)
    assert claim(stale, lifecycle.DELETE) is False  # Pending when seen, being completed now
    assert (stale.status, stale.processing_step) == (PROCESSING, APPLY_QUEUED)  # the object learns where it is


def test_state_answers_what_pages_ask(app, upload_at):
    pending, applying, failed = upload_at((PENDING, None)).state, upload_at((PROCESSING, APPLYING)).state, \
        upload_at((FAILED, None)).state
    assert pending.can_complete and pending.can_delete and pending.has_results and pending.label == "Pending"
    assert applying.is_applying and not applying.can_delete and not applying.can_complete
    assert failed.can_delete and not failed.has_results and failed.badge == "danger"
    assert upload_at((COMPLETED, None)).state.can_undo and not upload_at((UNDONE, None)).state.can_undo
