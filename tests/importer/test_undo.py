"""Undo Import (SPEC 13): created, updated and mixed imports undone exactly; later changes kept; once; all or nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.importer import lifecycle, undo
from app.importer.apply import complete_import
from app.importer.lifecycle import ImportRefused
from app.models import (
    AuditEvent,
    ImportChange,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    Upload,
    User,
    utcnow,
)
from tests.importer.conftest import csv, race_twice

FIRST = csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
            "Ann,Lee,1980-01-02,ann@mail.org,,Hypertension")
SECOND = csv("José,García,1969-01-19,jose@new.org,00123,Hypertension",  # email changed, a group added
             "Ann,Lee,1980-01-02,ann@mail.org,,Hypertension",  # unchanged
             "Kim,Park,1975-03-04,kim@mail.org,00456,Weight Management")  # created


@pytest.fixture
def admin(app):
    return User.by_email("admin@demo.example")


def table():
    """Every participant with its fields, groups and identifiers: what the undo must put back."""
    people = {p.id: (p.first_name, p.last_name, p.date_of_birth, p.email, p.email_key, p.status)
              for p in Participant.select()}
    groups = sorted(ParticipantGroup.select(ParticipantGroup.participant, ParticipantGroup.group).tuples())
    ids = sorted(ParticipantIdentifier.select(ParticipantIdentifier.participant, ParticipantIdentifier.value).tuples())
    return people, groups, ids


def test_a_create_only_import_undone_leaves_the_organization_as_before(preview, admin, store):
    before = table()
    done = complete_import(preview(FIRST), admin, store=store)
    plan = undo.plan_undo(done)
    assert plan.counts["deleted"] == 2 and plan.counts["restored"] == 0
    undone = undo.undo_import(done, admin, digest=plan.digest)
    assert undone.state.is_undone and undone.undone_by_id == admin.id and undone.undo_counts["deleted"] == 2
    assert table() == before and ImportChange.select().count() == 0
    assert AuditEvent.get(AuditEvent.action == "undo_import").details["deleted"] == 2


def test_a_mixed_import_undone_puts_fields_back_and_removes_what_it_added(preview, admin, store):
    complete_import(preview(FIRST), admin, store=store)
    before = table()
    second = complete_import(preview(SECOND, filename="second.csv"), admin, store=store)
    assert (second.created_count, second.updated_count) == (1, 1)
    # Kept for the updated participant only: a created one is named by created_by_upload, and its additions go with it.
    kept = [(c.participant.first_name, c.groups) for c in ImportChange.select().where(ImportChange.upload == second)]
    assert len(kept) == 1 and kept[0][0] == "José" and kept[0][1]
    assert undo.changes_kept(second) == 2
    plan = undo.plan_undo(second)
    assert plan.counts == {"deleted": 1, "restored": 1, "memberships": 1, "identifiers": 0, "kept": 0, "fields_kept": 0}
    undo.undo_import(second, admin, digest=plan.digest)
    assert table() == before  # José's email and email key back, his new group gone, Kim gone


def test_a_later_change_is_kept_and_an_invited_participant_stays(preview, admin, store):
    first = complete_import(preview(FIRST), admin, store=store)
    complete_import(preview(csv("José,García,1969-01-19,jose@later.org,00123,Diabetes Prevention"), filename="later.csv"),
                    admin, store=store)
    Participant.update(status="invited", invited_at=utcnow()).where(Participant.first_name == "Ann").execute()
    plan = undo.plan_undo(Upload.get_by_id(first.id))
    assert plan.counts["deleted"] == 0 and plan.counts["kept"] == 2
    assert sorted(why for _, why in plan.kept) == ["changed since the import (by a later import)", "invited since the import"]
    undo.undo_import(Upload.get_by_id(first.id), admin)
    assert Participant.get(Participant.first_name == "José").email == "jose@later.org"
    assert Participant.select().count() == 2


def test_an_undo_confirmed_before_a_change_is_refused_and_changes_nothing(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    digest = undo.plan_undo(done).digest
    Participant.update(status="invited").where(Participant.first_name == "Ann").execute()  # meanwhile
    with pytest.raises(ImportRefused) as refused:
        undo.undo_import(done, admin, digest=digest)
    assert refused.value.reason == "changed" and "Show the undo again" in refused.value.message
    assert Upload.get_by_id(done.id).state.is_completed and Participant.select().count() == 2


def test_an_undo_of_many_pages_is_the_same_undo_and_holds_one_page_at_a_time(preview, admin, store, monkeypatch):
    # The undo plans and puts back PAGE participants at a time (a million at once took 1.7 GB); pages of
    # one participant give the confirmation the same counts, and the undo the same digest and result.
    complete_import(preview(FIRST), admin, store=store)
    before = table()
    second = complete_import(preview(SECOND, filename="second.csv"), admin, store=store)
    whole = undo.plan_undo(second)
    monkeypatch.setattr(undo, "PAGE", 1)
    paged = undo.plan_undo(second)
    assert paged.counts == whole.counts and paged.participants == 2  # José updated, Kim created
    read = []

    def counting(real):
        return lambda upload, page: read.append(len(page)) or real(upload, page)

    monkeypatch.setattr(undo, "_created_page", counting(undo._created_page))
    monkeypatch.setattr(undo, "_updated_page", counting(undo._updated_page))
    seen = []
    undone = undo.undo_import(second, admin, digest=paged.digest, progress=lambda done, total: seen.append((done, total)))
    assert read == [1, 1] and seen == [(1, 2), (2, 2)]
    assert undone.undo_counts == whole.counts and table() == before


def test_a_confirmation_keeps_every_count_and_the_digest_but_only_the_names_it_shows(preview, admin, store, monkeypatch):
    # A confirmation page shows `shown` participants of each list; a million-row undo's whole lists would
    # not fit a web process. Pages of one participant: the window crosses them.
    monkeypatch.setattr(undo, "PAGE", 1)
    done = complete_import(preview(FIRST), admin, store=store)
    whole = undo.plan_undo(done)
    for page, expected in ((1, whole.delete[:1]), (2, whole.delete[1:]), (3, [])):
        shown = undo.plan_undo(done, shown=1, page=page)
        assert shown.delete == expected and (shown.counts, shown.digest) == (whole.counts, whole.digest)
    assert undo.plan_undo(done, shown=0).delete == [] and whole.counts["deleted"] == 2


def test_a_paged_undo_confirmed_before_a_change_is_refused_and_changes_nothing(preview, admin, store, monkeypatch):
    # The change is on the last page: the pages before it were put back, and are rolled back with it.
    monkeypatch.setattr(undo, "PAGE", 1)
    complete_import(preview(FIRST), admin, store=store)
    second = complete_import(preview(SECOND, filename="second.csv"), admin, store=store)
    after = table()
    digest = undo.plan_undo(second).digest
    Participant.update(status="invited").where(Participant.first_name == "Kim").execute()  # meanwhile
    with pytest.raises(ImportRefused) as refused:
        undo.undo_import(second, admin, digest=digest)
    assert refused.value.reason == "changed" and Upload.get_by_id(second.id).state.is_completed
    people, groups, ids = table()
    assert (groups, ids) == after[1:] and {k: v[:5] for k, v in people.items()} == {k: v[:5] for k, v in after[0].items()}


def test_two_undos_at_once_apply_once(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    results = race_twice(lambda: undo.undo_import(Upload.get_by_id(done.id), admin))
    assert results == ["done", "undone"], results
    assert AuditEvent.select().where(AuditEvent.action == "undo_import").count() == 1


def test_an_undo_that_read_the_upload_before_another_finished_says_already_undone(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    seen = Upload.get_by_id(done.id)  # read while still Completed, as the slower of two requests does
    undo.undo_import(Upload.get_by_id(done.id), admin)
    with pytest.raises(ImportRefused) as refused:
        undo.undo_import(seen, admin)
    assert refused.value.reason == "undone"


def test_an_undo_killed_halfway_leaves_the_import_completed_and_intact(preview, admin, store, monkeypatch):
    done = complete_import(preview(SECOND), admin, store=store)
    before = table()

    def killed(plan, progress=None):
        Participant.delete().where(Participant.id == plan.delete[0]).execute()  # part of the work, then the kill
        raise SystemExit("worker killed")

    monkeypatch.setattr(undo, "_apply", killed)
    with pytest.raises(SystemExit):
        undo.undo_import(done, admin)
    assert Upload.get_by_id(done.id).state.is_completed and table() == before
    assert undo.changes_kept(done) == 3 and ImportChange.select().where(ImportChange.upload == done).count() == 0


def test_the_undo_window_closes(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    Upload.update(completed_at=utcnow() - timedelta(days=31)).where(Upload.id == done.id).execute()
    assert undo.close_windows(30) == 1 and undo.close_windows(30) == 0  # closed once
    with pytest.raises(ImportRefused) as refused:
        undo.undo_import(Upload.get_by_id(done.id), admin)
    assert refused.value.reason == "window"
    assert AuditEvent.get(AuditEvent.action == "undo_window_closed").details == {"participants": 2, "days": 30}
    # A longer window set later does not reopen it: the created participants are still there, but the
    # changes of an import that also updated would be gone.
    with pytest.raises(ImportRefused) as refused:
        undo.refuse_unless_undoable(Upload.get_by_id(done.id), days=60)
    assert refused.value.reason == "window" and Participant.select().count() == 2


def test_a_window_closed_after_the_undo_read_the_upload_refuses_it_and_changes_nothing(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    seen = Upload.get_by_id(done.id)  # read before the window closed, as a confirmation page was
    before = table()
    assert undo.close_windows(0) == 1  # purge-uploads, with a window of no days
    with pytest.raises(ImportRefused) as refused:
        undo.undo_import(seen, admin)  # its own checks pass on what it read: the claim's re-check refuses
    assert refused.value.reason == "window" and Upload.get_by_id(done.id).state.is_completed and table() == before


def test_an_undo_queued_for_the_worker_keeps_its_window_open(preview, admin, store):
    done = complete_import(preview(FIRST), admin, store=store)
    assert lifecycle.claim(done, lifecycle.QUEUE_UNDO)
    assert undo.close_windows(0) == 0 and Upload.get_by_id(done.id).undo_closed_at is None
    assert lifecycle.claim(done, lifecycle.START_UNDO)  # the worker takes it
    undone = undo.undo_import(Upload.get_by_id(done.id), admin)
    assert undone.state.is_undone and undone.undo_counts["deleted"] == 2


def test_an_import_that_changed_nothing_has_nothing_to_undo(preview, admin, store):
    complete_import(preview(FIRST), admin, store=store)
    again = complete_import(preview(FIRST, filename="again.csv"), admin, store=store)
    assert (again.created_count, again.updated_count) == (0, 0) and undo.changes_kept(again) == 0
    with pytest.raises(ImportRefused) as refused:
        undo.refuse_unless_undoable(again)
    assert refused.value.reason == "window"


def test_after_an_undo_the_same_file_previews_as_it_first_did(preview, admin, store):
    complete_import(preview(FIRST), admin, store=store)
    original = preview(SECOND, filename="second.csv")
    counts = (original.created_count, original.updated_count, original.unchanged_count)
    done = complete_import(original, admin, store=store)
    undo.undo_import(done, admin)
    again = preview(SECOND, filename="third.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == counts


def test_undoing_the_later_import_then_the_first_leaves_nobody(preview, admin, store):
    before = table()
    first = complete_import(preview(FIRST), admin, store=store)
    second = complete_import(preview(SECOND, filename="second.csv"), admin, store=store)
    undo.undo_import(second, admin)
    plan = undo.plan_undo(Upload.get_by_id(first.id))
    assert plan.counts["deleted"] == 2 and plan.counts["kept"] == 0  # the undone import left no trace of a change
    undo.undo_import(Upload.get_by_id(first.id), admin)
    assert table() == before
