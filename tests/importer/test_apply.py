"""Complete Import and Delete: exactly the preview, all or nothing, once."""
from __future__ import annotations

import os
from datetime import date

import peewee as pw
import pytest

from app.administration import delete_group
from app.importer.apply import GONE, ImportRefused, complete_import
from app.importer.lifecycle import COMPLETED, DELETED
from app.importer.reference import participants_fingerprint
from app.models import (
    AuditEvent,
    Group,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    Upload,
    UploadRow,
    User,
    db,
)
from tests.importer.conftest import csv, race_twice

GOOD = csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
           "Ann,Lee,01/02/1980,ann@mail.org,,Hypertension; Diabetes Prevention")


@pytest.fixture
def admin(app):
    return User.by_email("admin@demo.example")


def test_complete_creates_participants_groups_identifiers_and_destroys_the_file(preview, admin, store):
    upload = preview(GOOD)
    stored = store.directory / upload.stored_name
    assert stored.exists() and b"Garc" not in stored.read_bytes()  # encrypted at rest
    done = complete_import(upload, admin, store=store)
    assert done.status == COMPLETED and done.completed_by_id == admin.id and done.stored_name is None
    assert not stored.exists()
    jose = Participant.get(Participant.last_name == "García")
    assert jose.status == "not_invited" and jose.created_by_upload_id == upload.id and jose.email_key == "jose@mail.org"
    assert ParticipantIdentifier.get(ParticipantIdentifier.participant == jose).value == "00123"
    assert ParticipantGroup.select().count() == 3
    assert {p.created_by_upload_id for p in Participant.select()} == {upload.id}
    assert [g.name for g in done.imported_groups()] == sorted({g.group.name for g in ParticipantGroup.select()})
    event = AuditEvent.get(AuditEvent.action == "complete_import")
    assert event.details["created"] == 2 and "García" not in str(event.details)


def test_update_writes_only_the_changed_fields(preview, admin, store):
    complete_import(preview(GOOD), admin, store=store)
    upload = preview(csv("Ann,Lee,1980-01-02,,,Weight Management", header="First Name,Last Name,Date of Birth,Email,Patient ID,Group"))
    assert upload.updated_count == 1
    complete_import(upload, admin, store=store)
    ann = Participant.get(Participant.first_name == "Ann")
    assert ann.email == "ann@mail.org" and ann.updated_by_upload_id == upload.id
    assert ParticipantGroup.select().where(ParticipantGroup.participant == ann).count() == 3


def test_rows_changing_different_fields_each_write_their_own(preview, admin, store):
    # Updates are written one statement per set of changed fields: each row must get its own values,
    # and no column it leaves alone.
    complete_import(preview(GOOD), admin, store=store)
    before = {p.first_name: p for p in Participant.select()}
    upload = preview(csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention,Boston,",
                         "Ann,Lee,1980-01-02,ann@mail.org,,Hypertension,,1 Main St",
                         header="First Name,Last Name,Date of Birth,Email,Patient ID,Group,City,Street Address"))
    assert upload.updated_count == 2
    complete_import(upload, admin, store=store)
    jose, ann = (Participant.get(Participant.first_name == name) for name in ("José", "Ann"))
    assert (jose.city, jose.street_address) == ("Boston", None)
    assert (ann.city, ann.street_address) == (None, "1 Main St")
    for person in (jose, ann):
        old = before[person.first_name]
        assert (person.last_name, person.date_of_birth, person.email) == (old.last_name, old.date_of_birth, old.email)
        assert person.updated_by_upload_id == upload.id


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's fill factor")
def test_clearing_a_preview_on_postgresql_writes_no_index_entry(preview):
    # Migration 0009 leaves room on upload_row's pages: each row of a list of a dozen columns (about 0.6 kB
    # kept a row) is cleared by a HOT update, on its own page and with no new index entry. With full pages
    # only the last page's rows would be.
    header = ("First Name,Last Name,Date of Birth,Email,Mobile Phone,Patient ID,Group,Street Address,City,"
              "State,Postal Code,Note")
    upload = preview(csv(*(f"Pat{n},Lee,1980-01-02,pat.lee.{n}@mail.org,617-555-{n:04d},{n:08d},Diabetes Prevention,"
                           f"{n} Main Street,Boston,MA,02134,Prefers morning calls" for n in range(400)), header=header))
    with db.atomic() as transaction:
        cleared = UploadRow.destroy_values(upload)
        hot = db.execute_sql("SELECT pg_stat_get_xact_tuples_hot_updated('upload_row'::regclass)").fetchone()[0]
        transaction.rollback()
    assert cleared == 400 and hot == cleared


def test_rows_with_errors_refuse_completion_unless_skipped(preview, admin, store):
    upload = preview(csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention", "Bo,Ray,02/30/1980,,,Diabetes Prevention"))
    assert upload.error_count == 1
    with pytest.raises(ImportRefused, match="1 row has errors"):
        complete_import(upload, admin, store=store)
    assert Participant.select().count() == 0 and Upload.get_by_id(upload.id).status == "pending"
    done = complete_import(upload, admin, skip_error_rows=True, store=store)
    assert done.skip_error_rows and done.skipped_count == 1
    assert [p.first_name for p in Participant.select()] == ["Ann"]


def test_changed_participants_make_the_preview_stale(preview, admin, store, demo_org):
    upload = preview(GOOD)
    Participant.create(organization=demo_org, first_name="New", last_name="Person")
    with pytest.raises(ImportRefused) as refused:
        complete_import(upload, admin, store=store)
    assert refused.value.reason == "stale" and "Show results again" in refused.value.message
    assert Participant.select().count() == 1 and Upload.get_by_id(upload.id).status == "pending"


def test_completing_twice_applies_once(preview, admin, store):
    upload = preview(GOOD)
    complete_import(upload, admin, store=store)
    with pytest.raises(ImportRefused, match="already completed"):
        complete_import(Upload.get_by_id(upload.id), admin, store=store)
    with pytest.raises(ImportRefused, match="already completed"):
        complete_import(upload, admin, store=store)  # a stale copy that still says Pending
    assert Participant.select().count() == 2


def test_a_failure_part_way_writes_nothing(preview, admin, store, demo_org):
    rows = [f"P{n},Lee,1980-01-02,p{n}@mail.org,{n},Diabetes Prevention" for n in range(1200)]
    upload = preview(csv(*rows))
    # Another participant takes a late row's Patient ID and the fingerprint is refreshed to hide it,
    # so the apply fails on a unique constraint well after its first chunks were written.
    late = UploadRow.get((UploadRow.upload == upload) & (UploadRow.row_number == 1150))
    with db.atomic():
        holder = Participant.create(organization=demo_org, first_name="X", last_name="Y")
        ParticipantIdentifier.create(participant=holder, system=late.plan["identifier"][0], value="1148")
        Upload.update(fingerprint=participants_fingerprint(demo_org)).where(Upload.id == upload.id).execute()
    with pytest.raises(pw.IntegrityError):
        complete_import(Upload.get_by_id(upload.id), admin, store=store)
    assert Participant.select().count() == 1
    assert Upload.get_by_id(upload.id).status == "pending" and store.directory.joinpath(upload.stored_name).exists()


def test_delete_destroys_file_and_rows_and_keeps_history(preview, admin, store, actions):
    upload = preview(GOOD)
    path = store.directory / upload.stored_name
    gone = actions.delete(upload, admin)
    assert gone.status == DELETED and gone.deleted_by_id == admin.id and gone.created_count == 2
    assert not path.exists()
    kept = [(r.row_number, r.action, r.values, r.plan, r.changes, r.issues, r.display_name)
            for r in UploadRow.select().order_by(UploadRow.row_number)]
    assert kept == [(2, "create", None, None, None, None, ""), (3, "create", None, None, None, None, "")]
    with pytest.raises(ImportRefused):
        actions.delete(gone, admin)
    with pytest.raises(ImportRefused):
        complete_import(gone, admin, store=store)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a real race needs PostgreSQL's row locks")
def test_two_racing_completions_apply_once(preview, admin, store):
    upload = preview(GOOD)
    results = race_twice(lambda: complete_import(Upload.get_by_id(upload.id), admin, store=store))
    assert results == ["completed", "done"]
    assert Participant.select().count() == 2


def test_a_name_written_with_decomposed_accents_is_the_same_participant(preview, admin, store):
    import unicodedata

    composed = csv("José,Núñez,1969-01-19,,,Diabetes Prevention")
    complete_import(preview(composed), admin, store=store)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    again = preview(decomposed)
    assert (again.created_count, again.unchanged_count, again.warning_count) == (0, 1, 1)  # only Email blank
    person = Participant.get()
    assert (person.first_name, person.last_name) == ("José", "Núñez") and unicodedata.is_normalized("NFC", person.last_name)


def test_a_group_deleted_since_the_preview_refuses_the_import(preview, admin, store, demo_org):
    # The fingerprint says groups changed; a group deleted after the completion read it (delete_group does
    # not wait for the organization's lock) is caught when the completion holds the groups it writes to.
    upload = preview(GOOD)
    delete_group(Group.get((Group.organization == demo_org) & (Group.name == "Hypertension")), by=admin)
    Upload.update(fingerprint=participants_fingerprint(demo_org)).where(Upload.id == upload.id).execute()
    with pytest.raises(ImportRefused) as refused:
        complete_import(Upload.get_by_id(upload.id), admin, store=store)
    assert refused.value.reason == "stale" and refused.value.message == GONE
    assert Participant.select().count() == 0 and Upload.get_by_id(upload.id).status == "pending"


def _orphans() -> list:
    """Every row whose foreign key points at nobody, in the whole database."""
    if not isinstance(db.obj, pw.PostgresqlDatabase):
        return db.execute_sql("PRAGMA foreign_key_check").fetchall()
    keys = db.execute_sql("SELECT conrelid::regclass::text, a.attname, confrelid::regclass::text, b.attname "
                          "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                          "JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1] "
                          "WHERE c.contype = 'f' AND cardinality(c.conkey) = 1").fetchall()
    assert len(keys) > 10
    return [(table, column, count) for table, column, parent, key in keys
            if (count := db.execute_sql(f'SELECT count(*) FROM {table} t WHERE t."{column}" IS NOT NULL AND NOT EXISTS '
                                        f'(SELECT 1 FROM {parent} p WHERE p."{key}" = t."{column}")').fetchone()[0])]


def test_a_completion_refers_to_no_one_who_does_not_exist(preview, admin, store):
    # On PostgreSQL the completion writes without the foreign-key checks (bulk.without_reference_checks):
    # what it writes must keep every key true by itself, for new and updated participants alike.
    complete_import(preview(GOOD), admin, store=store)
    update = preview(csv("Ann,Lee,1980-01-02,ann@mail.org,777,Weight Management",
                         "Bo,Kim,1990-03-04,bo@mail.org,778,Hypertension; Weight Management"))
    assert (update.created_count, update.updated_count) == (1, 1)
    complete_import(update, admin, store=store)
    assert ParticipantGroup.select().count() == 6 and ParticipantIdentifier.select().count() == 3
    assert _orphans() == []


# --- Plans read by a child process (plan_process.py: a large completion) ---

def _plans_in_child(monkeypatch) -> list:
    """From here on a completion's plans are read by the child process, whatever the upload's size: the
    commands started."""
    from app.importer import plan_process

    monkeypatch.setattr(plan_process, "PARALLEL_ROWS", 0)
    started = []
    monkeypatch.setattr(plan_process.children, "start", lambda command, real=plan_process.children.start, **kwargs:
                        started.append(command) or real(command, **kwargs))
    return started


def _bench_upload(preview, demo_org, admin, monkeypatch) -> Upload:
    """2,500 of the bench's rows (creates, updates, errors, several groups), three of them excluded, read
    in pages of 400 rows (the last one short)."""
    from app.importer import apply, review
    from bench.case import seed_existing
    from bench.files import csv_bytes, rows

    seed_existing(demo_org, 2500)  # one row in 20 updates
    upload = preview(csv_bytes(rows(2500)))
    review.decide_rows(upload, admin, review.EXCLUDE, UploadRow.row_number.in_([5, 23, 24]))
    monkeypatch.setattr(apply, "CHUNK", 400)
    return upload


def test_plans_read_by_a_child_process_are_exactly_those_read_here(preview, demo_org, admin, monkeypatch):
    from app.importer import apply, bulk, plan_process

    upload = _bench_upload(preview, demo_org, admin, monkeypatch)
    query, pages = apply.plan_pages(upload.id, 2500)

    def batches(database) -> list:
        with plan_process.reading(query, pages, lambda parameters: bulk.select(query, parameters), rows=2500,
                                  database=database) as read:
            return list(read)

    here = batches(None)
    started = _plans_in_child(monkeypatch)
    in_child = batches(bulk.for_a_child())
    assert started == [plan_process.COMMAND]
    assert in_child == here and len(here) == 7
    created = [values[0] for b in here for values in b.creates]
    updated = [r.row for b in here for r in b.updates]
    assert {5, 23, 24}.isdisjoint(created + updated)  # excluded: two rows that create, one that updates
    assert (len(created), len(updated)) == (upload.created_count - 2, upload.updated_count - 1)
    assert updated and all(b.members and b.identifiers and b.referred["groups"] for b in here)


def test_a_completion_whose_plans_a_child_read_writes_what_the_preview_planned(preview, demo_org, admin, store,
                                                                               monkeypatch):
    from app.importer import plan_process

    upload = _bench_upload(preview, demo_org, admin, monkeypatch)
    planned = {r.row_number: r.plan for r in UploadRow.select().where(
        (UploadRow.upload == upload) & (UploadRow.action == "create") & UploadRow.decision.is_null())}
    started = _plans_in_child(monkeypatch)
    done = complete_import(upload, admin, skip_error_rows=True, store=store)
    assert started == [plan_process.COMMAND]
    assert (done.created_count, done.updated_count) == (len(planned), upload.updated_count - 1)  # three excluded
    made = {p.created_by_row: p for p in Participant.select().where(Participant.created_by_upload == upload)}
    assert set(made) == set(planned)

    def stored(person, key):
        value = getattr(person, "primary_coach_id" if key == "primary_coach" else key)
        return value.isoformat() if isinstance(value, date) else value

    assert all(stored(made[row], key) == value for row, plan in planned.items() for key, value in plan["fields"].items())
    memberships = ParticipantGroup.select().join(Participant).where(Participant.created_by_upload == upload)
    assert memberships.count() == sum(len(plan["groups"]) for plan in planned.values())
    identifiers = ParticipantIdentifier.select().join(Participant).where(Participant.created_by_upload == upload)
    assert sorted(i.value for i in identifiers) == sorted(plan["identifier"][1] for plan in planned.values() if plan["identifier"])


def test_a_plans_reader_that_dies_fails_the_completion_and_writes_nothing(preview, admin, store, monkeypatch):
    from app.importer import plan_process

    upload = preview(GOOD)
    kept = store.directory / upload.stored_name
    _plans_in_child(monkeypatch)
    monkeypatch.setattr(plan_process, "COMMAND", ["/bin/sh", "-c", "exit 1"])
    with pytest.raises(plan_process.PlansFailed):
        complete_import(upload, admin, store=store)
    assert Participant.select().count() == 0 and ParticipantGroup.select().count() == 0
    assert Upload.get_by_id(upload.id).status == "pending" and kept.exists()


def test_the_plans_reader_opens_a_sqlite_file_in_a_folder_of_any_name(tmp_path):
    import sqlite3

    from app.importer.plan_process import _read_only

    folder = tmp_path / "Clinic #2? 100%"
    folder.mkdir()
    with sqlite3.connect(folder / "roster.db") as made:
        made.execute("CREATE TABLE t (n)")
        made.execute("INSERT INTO t VALUES (7)")
    reader = _read_only(("sqlite", str(folder / "roster.db")))
    assert reader.execute("SELECT n FROM t").fetchall() == [(7,)]
    with pytest.raises(sqlite3.OperationalError):  # read-only
        reader.execute("INSERT INTO t VALUES (8)")
    reader.close()
