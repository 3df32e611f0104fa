"""Migrations build the schema from an empty database, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import peewee as pw

from app import migrate
from app.importer import undo
from app.models import MODELS, ImportChange, Organization, Participant, Upload, User, db, utcnow
from app.seed import seed_demo
from tests.conftest import reset_database


def test_migrations_apply_to_an_empty_database_once(app):
    reset_database()
    applied = migrate.upgrade()
    assert applied == [path.stem for path in migrate.migration_files()] and applied[:7] == ["0001_initial", "0002_drop_covered_indexes", "0003_keep_only_what_is_imported", "0004_column_mapping", "0005_issue_summary", "0006_review_decisions", "0007_undo_import"]
    tables = set(db.obj.get_tables())
    assert {m._meta.table_name for m in MODELS} <= tables
    assert migrate.upgrade() == []


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(app):
    if not isinstance(db.obj, pw.SqliteDatabase):
        return
    assert db.obj.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.obj.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.obj.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 30_000


def test_migrations_build_every_column_and_index_the_models_declare(app):
    """A model change without a migration fails here, not in production."""
    for model in MODELS:
        table = model._meta.table_name
        columns = {c.name for c in db.obj.get_columns(table)}
        assert columns == {f.column_name for f in model._meta.sorted_fields}, table
        indexes = {tuple(i.columns) for i in db.obj.get_indexes(table)}
        declared = {tuple(model._meta.fields[name].column_name for name in fields) for fields, _ in model._meta.indexes}
        declared |= {(f.column_name,) for f in model._meta.sorted_fields if f.index or f.unique}
        # Both ways: a dropped index the model still declares, or one the model no longer wants, fails here.
        assert indexes - {("id",)} == declared, table


def test_0008_keeps_the_changes_of_updated_participants_and_closes_windows_already_closed(app, tmp_path):
    # The database as 0007 left it: an import_change row for each participant an import created, and one
    # for each it updated; an import whose window closed kept none.
    reset_database()
    for path in migrate.migration_files():
        if path.stem < "0008":
            (tmp_path / path.name).write_text(path.read_text())
    migrate.upgrade(tmp_path)
    seed_demo()
    org = Organization.by_name("Demo Clinic")
    admin = User.get(User.email == "admin@demo.example")

    def upload(**values) -> int:
        return Upload.insert(organization=org, uploaded_by=admin, original_filename="list.csv", sha256="0" * 64,
                             status="completed", completed_at=utcnow(), **values).execute()

    open_one, closed_one, undone_one = upload(), upload(), upload(undone_at=utcnow())
    created = Participant.create(organization=org, first_name="Kim", last_name="Lee", created_by_upload=open_one, created_by_row=2)
    updated = Participant.create(organization=org, first_name="José", last_name="García")
    p = db.param
    for participant, was_created in ((created, True), (updated, False)):
        db.execute_sql(f'INSERT INTO "import_change" ("upload_id", "participant_id", "created", "before") '
                       f"VALUES ({p}, {p}, {p}, {p})", (open_one, participant.id, was_created, None if was_created else '{"email": ""}'))

    assert "0008_undo_reads_created_participants" in migrate.upgrade()
    kept = list(ImportChange.select(ImportChange.upload, ImportChange.participant).tuples())
    assert kept == [(open_one, updated.id)]
    closed = {u.id: u.undo_closed_at is not None for u in Upload.select()}
    assert closed == {open_one: False, closed_one: True, undone_one: False}
    assert undo.changes_kept(Upload.get_by_id(open_one)) == 2  # Kim by created_by_upload, José by his change
