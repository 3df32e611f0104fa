"""Backups of the database that restore: SQLite's online backup API, pg_dump and pg_restore for PostgreSQL.

A backup holds the database only. The files of uploads not yet completed (Pending, Needs mapping) stay
in UPLOAD_DIR, encrypted with the file key: they are transient (destroyed on Complete Import, Delete and
purge) and a standard SQLite file or pg_dump archive restores with standard tools. Back UPLOAD_DIR up
beside it; without those files, or without ROSTER_FILE_KEY, such an upload cannot be read and is
uploaded again. Imported participants and the audit trail are all in the database.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee as pw

from app import audit
from app.migrate import migration_files
from app.models import SchemaMigration, Upload, db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with the reason an operator can act on."""


def _is_sqlite() -> bool:
    return isinstance(db.obj, pw.SqliteDatabase)


def holds_data() -> bool:
    """Whether any table but the migrations' own has a row: restoring over it would lose them."""
    tables = [name for name in db.obj.get_tables() if name != SchemaMigration._meta.table_name]
    return any(db.obj.execute_sql(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables)


def stored_files() -> int:
    """How many uploads have a file in UPLOAD_DIR now (the backup does not hold them)."""
    return Upload.select().where(Upload.stored_name.is_null(False)).count()


def backup(database_url: str, path: Path, *, force: bool = False) -> None:
    """Write a consistent copy of the live database to `path` (readable by its owner only)."""
    path = Path(path)
    if path.exists() and not force:
        raise BackupError(f"{path} exists already: choose another name, or --force to replace it.")
    db.obj.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    try:
        temporary.unlink(missing_ok=True)
        temporary.touch(mode=0o600)  # it holds PHI, like the live database
        if _is_sqlite():
            _sqlite_backup(Path(db.obj.database), temporary)
        else:
            _pg("pg_dump", database_url, "--format=custom", "--no-owner", f"--file={temporary}")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    # Recorded after the copy, in the live database: a write in progress there never holds the copy up.
    with db.obj.atomic():
        audit.record("database_backed_up", details={"file": path.name})


def restore(database_url: str, path: Path, *, force: bool = False) -> list[str]:
    """Replace the configured database by the backup at `path`; return the migrations it still lacks."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            magic = file.read(len(SQLITE_MAGIC))  # the start only: a backup can be gigabytes
    except OSError as error:
        raise BackupError(f"{path} cannot be read ({error.strerror}).") from None
    sqlite = _is_sqlite()
    expected, kind = (SQLITE_MAGIC, "SQLite database") if sqlite else (PG_DUMP_MAGIC, "pg_dump custom-format archive")
    if not magic.startswith(expected):
        raise BackupError(f"{path} is not a {kind} (a backup of this kind of database made by `db backup`).")
    if holds_data() and not force:
        raise BackupError("The database holds data already: restoring would replace all of it. "
                          "Restore into an empty database, or pass --force.")
    db.obj.close()
    if sqlite:
        _sqlite_restore(path, Path(db.obj.database))
    else:
        _pg("pg_restore", database_url, "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", str(path))
    with db.obj.atomic():
        audit.record("database_restored", details={"file": path.name})
    applied = {m.name for m in SchemaMigration.select(SchemaMigration.name)}
    return [p.stem for p in migration_files() if p.stem not in applied]


def _sqlite_backup(source: Path, target: Path) -> None:
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)  # one step: a snapshot of what was committed, while others go on writing
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy failed SQLite's integrity check: {check}")
    finally:
        copy.close()
        live.close()


def _sqlite_restore(source: Path, target: Path) -> None:
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    live = sqlite3.connect(target, timeout=30)
    try:
        check = backup_file.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{source} failed SQLite's integrity check: {check}")
        backup_file.backup(live)  # page by page under the database's write lock, then in WAL again
        live.execute("PRAGMA journal_mode=WAL")
    finally:
        live.close()
        backup_file.close()


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools (Debian: postgresql-client), "
                          "of the server's major version or newer.")
    return found


def _pg(tool: str, database_url: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore on DATABASE_URL; the password goes by environment, never on a command line."""
    parts = urlsplit(database_url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    url = urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    result = subprocess.run([pg_tool(tool), f"--dbname={url}", *arguments], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip() or f'exit code {result.returncode}'}")
