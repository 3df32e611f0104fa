"""The bulk writer stores every value exactly, whatever it holds (COPY text on PostgreSQL, executemany on SQLite)."""
from __future__ import annotations

import os
from datetime import date, datetime

import peewee as pw
import pytest

from app.importer import bulk
from app.models import (
    Group,
    IdentificationSystem,
    Organization,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    db,
)

AWKWARD = ["plain", "", "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\", "N\\",
           "ends with backslash t \\t", "José Núñez 日本", '"quoted" and \'single\'', "=1+2", None]


@pytest.mark.parametrize("note", AWKWARD)
def test_insert_rows_round_trips_awkward_text(app, note):
    org = Organization.by_name("Demo Clinic")
    born, stamp = date(1961, 2, 3), datetime(2026, 1, 2, 3, 4, 5, 678901)
    fields = [Participant.id, Participant.organization, Participant.first_name, Participant.last_name,
              Participant.date_of_birth, Participant.note, Participant.city, Participant.status,
              Participant.created_at, Participant.updated_at]
    with db.atomic():
        first, second = bulk.reserve_ids(Participant, 2)
        bulk.insert_rows(Participant, fields, [
            (first, org.id, "Ann", "Lee", born, note, None, "not_invited", stamp, stamp),
            (second, org.id, "Bo", note or "Kim", None, "after", note, "not_invited", stamp, stamp),  # next row intact
        ])
    one, two = Participant.get_by_id(first), Participant.get_by_id(second)
    assert (one.first_name, one.last_name, one.date_of_birth, one.note, one.city, one.created_at) == (
        "Ann", "Lee", born, note, None, stamp)
    assert (two.last_name, two.date_of_birth, two.note, two.city) == (note or "Kim", None, "after", note)


@pytest.mark.parametrize("stamp", [datetime(2026, 1, 2, 3, 4, 5, 678901), datetime(2026, 1, 2, 3, 4, 5)])
def test_dates_and_times_passed_as_text_are_stored_as_peewee_stores_them(app, stamp):
    # Complete Import passes the plan's ISO dates and bulk.timestamp(now) as text: what is stored must be
    # what the ORM stores for the same values, or comparisons in SQL (updated_at > ?) would go wrong.
    org = Organization.by_name("Demo Clinic")
    born = date(1961, 2, 3)
    by_orm = Participant.create(organization=org, first_name="Ann", last_name="Lee", date_of_birth=born,
                                created_at=stamp, updated_at=stamp)
    fields = [Participant.id, Participant.organization, Participant.first_name, Participant.last_name,
              Participant.date_of_birth, Participant.created_at, Participant.updated_at, Participant.status]
    with db.atomic():
        (pid,) = bulk.reserve_ids(Participant, 1)
        bulk.insert_rows(Participant, fields, [(pid, org.id, "Bo", "Kim", born.isoformat(), bulk.timestamp(stamp), bulk.timestamp(stamp), "not_invited")])
    raw = f'SELECT "date_of_birth", "created_at", "updated_at" FROM "participant" WHERE "id" = {db.param}'
    assert db.execute_sql(raw, (pid,)).fetchone() == db.execute_sql(raw, (by_orm.id,)).fetchone()
    assert Participant.select().where(Participant.updated_at >= stamp, Participant.date_of_birth == born).count() == 2


def test_identifier_holders_finds_exactly_the_held_patient_ids(app):
    # PostgreSQL probes the index once per value (a LATERAL subquery), SQLite takes an IN list: both must
    # give each held (system, Patient ID) once with its holder, and nothing for a value held in another system.
    org = Organization.by_name("Demo Clinic")
    mrn, other = (IdentificationSystem.create(organization=org, name=name) for name in ("Lab number", "Chart"))
    ann, bo = (Participant.create(organization=org, first_name=name, last_name="Lee") for name in ("Ann", "Bo"))
    for participant, system, value in [(ann, mrn, "A-1"), (bo, mrn, "it's \\ 2"), (bo, other, "A-1"), (ann, other, "C-3")]:
        ParticipantIdentifier.create(participant=participant, system=system, value=value)
    found = bulk.identifier_holders({mrn.id}, {"A-1", "it's \\ 2", "C-3", "nobody"})
    assert sorted(found) == sorted([(mrn.id, "A-1", ann.id), (mrn.id, "it's \\ 2", bo.id)])
    both = bulk.identifier_holders({mrn.id, other.id}, {"A-1"})
    assert sorted(both) == sorted([(mrn.id, "A-1", ann.id), (other.id, "A-1", bo.id)])


def test_participants_by_id_gives_only_the_organizations_by_id(app):
    # PostgreSQL looks the ids up alone and checks the organization on the rows found, SQLite asks for both:
    # each gives the organization's participants asked for once, in id order, and nobody of another.
    org, other = Organization.by_name("Demo Clinic"), Organization.create(name="Far Clinic")
    ann, bo, cy = (Participant.create(organization=org, first_name=name, last_name="Lee") for name in ("Ann", "Bo", "Cy"))
    stranger = Participant.create(organization=other, first_name="Di", last_name="Lee")
    found = bulk.participants_by_id(org.id, [Participant.id, Participant.first_name], {cy.id, ann.id, stranger.id, 10**9})
    assert found == [(ann.id, "Ann"), (cy.id, "Cy")]
    assert bulk.participants_by_id(other.id, [Participant.id], {bo.id, stranger.id}) == [(stranger.id,)]


def _join_nobody(org) -> None:
    """A membership of a participant in a group that does not exist."""
    pid = Participant.create(organization=org, first_name="Ann", last_name="Lee").id
    bulk.insert_rows(ParticipantGroup, [ParticipantGroup.participant, ParticipantGroup.group], [(pid, 10**9)])


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's session_replication_role")
def test_reference_checks_are_skipped_only_inside_and_only_where_the_role_may(app):
    org = Organization.by_name("Demo Clinic")
    with pytest.raises(pw.IntegrityError):  # outside: checked
        with db.atomic():
            _join_nobody(org)
    with db.atomic() as transaction:  # this test's role, a superuser, may
        with bulk.without_reference_checks() as skipped:
            _join_nobody(org)
        assert skipped
        with pytest.raises(pw.IntegrityError):  # checked again once the block ends
            with db.atomic():
                _join_nobody(org)
        transaction.rollback()
    with db.atomic() as transaction:  # a role that may not: the checks run, and the transaction goes on
        db.execute_sql("CREATE ROLE roster_test_plain NOLOGIN")
        db.execute_sql("GRANT USAGE ON SCHEMA public TO roster_test_plain; "
                       "GRANT ALL ON ALL TABLES IN SCHEMA public TO roster_test_plain; "
                       "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO roster_test_plain")
        db.execute_sql("SET LOCAL ROLE roster_test_plain")
        with bulk.without_reference_checks() as skipped:
            assert not skipped
            with pytest.raises(pw.IntegrityError):
                with db.atomic():
                    _join_nobody(org)
        assert Organization.by_name("Demo Clinic").id == org.id
        transaction.rollback()
    assert ParticipantGroup.select().count() == 0


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's triggers")
def test_the_schema_has_no_trigger_but_its_keys(app):
    # without_reference_checks skips every trigger: it would skip one of our own silently.
    own = db.execute_sql("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal").fetchall()
    assert own == []


def test_hold_says_whether_every_row_exists(app):
    groups = {g.id for g in Group.for_org(Organization.by_name("Demo Clinic"))}
    assert len(groups) == 3
    with db.atomic():
        assert bulk.hold(Group, groups) and not bulk.hold(Group, groups | {10**9})


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's row locks")
def test_a_held_row_cannot_be_deleted_until_the_transaction_ends(app, database_url):
    import psycopg2

    group = Group.create(organization=Organization.by_name("Demo Clinic"), name="Held")
    other = psycopg2.connect(database_url)
    try:
        with db.atomic():
            assert bulk.hold(Group, {group.id})
            with other.cursor() as cursor, pytest.raises(psycopg2.errors.LockNotAvailable):
                cursor.execute("SET lock_timeout = '200ms'; DELETE FROM groups WHERE id = %s", (group.id,))
        other.rollback()
        with other.cursor() as cursor:  # once it ends, the delete goes through
            cursor.execute("DELETE FROM groups WHERE id = %s", (group.id,))
        other.commit()
    finally:
        other.close()
    assert not Group.select().where(Group.id == group.id).exists()


def test_a_child_is_given_the_sqlite_file_by_its_full_path(app, monkeypatch):
    """A relative DATABASE_URL names a file from this process's folder; the child starts in the project's."""
    if bulk.is_postgres():
        pytest.skip("a PostgreSQL child is given the driver's connect arguments")
    full = os.path.abspath(db.database)
    monkeypatch.chdir(os.path.dirname(full))
    monkeypatch.setattr(db.obj, "database", os.path.basename(full))
    assert bulk.for_a_child() == ("sqlite", full)
