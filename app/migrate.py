"""Apply the numbered files in migrations/ in order, once each, tracked in schema_migration."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator

from app.config import ROOT
from app.models import SchemaMigration, db

MIGRATIONS_DIR = ROOT / "migrations"


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("[0-9][0-9][0-9][0-9]_*.py"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"migrations.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def applied_names() -> set[str]:
    """The migrations recorded in schema_migration (none on an empty database)."""
    if not db.obj.table_exists(SchemaMigration._meta.table_name):
        return set()
    return {m.name for m in SchemaMigration.select(SchemaMigration.name)}


def status(directory: Path = MIGRATIONS_DIR) -> tuple[list[str], list[str]]:
    """(applied, pending) migration names, each in order; an applied name with no file is listed too."""
    done = applied_names()
    files = [path.stem for path in migration_files(directory)]
    return sorted(done), [name for name in files if name not in done]


def upgrade(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied."""
    database = db.obj
    database.create_tables([SchemaMigration], safe=True)
    done = {m.name for m in SchemaMigration.select(SchemaMigration.name)}
    migrator: SchemaMigrator = SchemaMigrator.from_database(database)
    assert isinstance(migrator, (SqliteMigrator, PostgresqlMigrator)), "SQLite or PostgreSQL only"
    applied = []
    for path in migration_files(directory):
        if path.stem in done:
            continue
        with database.atomic():
            _load(path).up(migrator)
            SchemaMigration.create(name=path.stem)
        applied.append(path.stem)
    return applied
