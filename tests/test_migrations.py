"""Migrations build the schema from an empty database, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import peewee as pw

from app import migrate
from app.models import MODELS, db
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
