"""One bench case in its own process, so its peak RSS is its own: python -m bench.case ROWS FORMAT DB."""
from __future__ import annotations

import csv
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet

from app import migrate
from app.importer.apply import complete_import
from app.importer.preview import create_upload, preview_upload
from app.importer.undo import undo_import
from app.models import (
    DEFAULT_ID_SYSTEM,
    MODELS,
    Group,
    IdentificationSystem,
    Organization,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    SchemaMigration,
    Upload,
    User,
    db,
    open_database,
)
from app.seed import seed_demo
from app.storage import FileStore
from bench.files import bench_file, each_row

CACHE = Path(os.environ.get("BENCH_DIR", Path(tempfile.gettempdir()) / "roster-bench"))
POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/roster_bench")
EXISTING_EVERY = 20  # one row in 20 belongs to a participant the organization already has


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_rss_mb() -> float:
    """The largest child process's peak so far (a large preview's row check and duplicate search)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def fresh_database(kind: str) -> str:
    """An empty, migrated database: a new SQLite file, or the bench PostgreSQL database emptied."""
    if kind == "sqlite":
        url = f"sqlite:///{CACHE / 'bench.db'}"
        for suffix in ("", "-wal", "-shm"):
            Path(str(CACHE / "bench.db") + suffix).unlink(missing_ok=True)
    else:
        url = POSTGRES_URL
        ensure_postgres_database(url)
    open_database(url)
    db.connect(reuse_if_open=True)
    if kind != "sqlite":
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    else:
        db.drop_tables(MODELS + [SchemaMigration], safe=True)
    migrate.upgrade()
    return url


def ensure_postgres_database(url: str) -> None:
    import psycopg2

    server, name = url.rsplit("/", 1)
    connection = psycopg2.connect(server + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def seed_existing(org: Organization, count: int) -> int:
    """Participants the file will match by Patient ID: every EXISTING_EVERY-th row of the file."""
    system = IdentificationSystem.get((IdentificationSystem.organization == org) & (IdentificationSystem.name == DEFAULT_ID_SYSTEM))
    group = Group.get((Group.organization == org) & (Group.name == "Diabetes Prevention"))
    people = [(n, row) for n, row in enumerate(each_row(count), start=1) if n % EXISTING_EVERY == 3]
    with db.atomic():
        for start in range(0, len(people), 1000):
            chunk = people[start:start + 1000]
            records = [{"organization": org.id, "first_name": r[0], "last_name": r[1],
                        "date_of_birth": date(1960, 1, 1), "email": r[3] or None,
                        "email_key": r[3].lower() or None} for _, r in chunk]
            ids = [p.id for p in Participant.insert_many(records).returning(Participant.id).execute()]
            ParticipantIdentifier.insert_many(
                [{"participant": pid, "system": system.id, "value": f"{n:08d}"} for pid, (n, _) in zip(ids, chunk, strict=True)]
            ).execute()
            ParticipantGroup.insert_many([{"participant": pid, "group": group.id} for pid in ids]).execute()
    return len(people)


def floor_seconds(path: Path) -> float:
    """Plain csv.reader over the same rows, the file decoded as it is read: the least any reader could
    cost. (Read whole into a StringIO, a million rows took 900 MB: this process's peak, and the peak its
    children report, since a child's counts from the fork.)"""
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as text:
        for _ in csv.reader(text):
            pass
    return time.perf_counter() - started


def run(count: int, file_format: str, kind: str) -> dict:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = bench_file(CACHE, count, file_format)
    changed = bench_file(CACHE, count, file_format, changed=True)
    floor = floor_seconds(bench_file(CACHE, count, "csv"))
    fresh_database(kind)
    seed_demo()
    org = Organization.by_name("Demo Clinic")
    existing = seed_existing(org, count)
    uploader, admin = User.by_email("uploader@demo.example"), User.by_email("admin@demo.example")
    store = FileStore(CACHE / "uploads", Fernet.generate_key())
    result = {"rows": count, "format": file_format, "db": kind, "existing": existing, "floor": floor, "phases": []}

    def phase(name, work):
        started = time.perf_counter()
        value = work()
        result["phases"].append({"phase": name, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(),
                                   "child_rss_mb": child_rss_mb()})
        return value

    def preview(file: Path):
        # As a worker previews an upload the web app kept: from the store, where a large file is read a
        # piece at a time (check_process.py).
        upload = create_upload(org, uploader, file.name, file.read_bytes(), store)
        kept = store.kept(upload.stored_name, upload.sha256, upload.size_bytes)
        return preview_upload(upload, kept, max_rows=max(count, 100_000))  # limits raised for a million

    first = phase("preview", lambda: preview(path))
    result["counts"] = {"created": first.created_count, "updated": first.updated_count,
                        "unchanged": first.unchanged_count, "errors": first.error_count, "warnings": first.warning_count}
    phase("complete (create)", lambda: complete_import(first, admin, skip_error_rows=True, store=store))
    second = phase("preview (update)", lambda: preview(changed))
    result["update_counts"] = {"updated": second.updated_count, "unchanged": second.unchanged_count}
    second = phase("complete (update)", lambda: complete_import(second, admin, skip_error_rows=True, store=store))
    undone = phase("undo (update)", lambda: undo_import(second, admin))
    first = phase("undo (create)", lambda: undo_import(Upload.get_by_id(first.id), admin))
    result["undo_counts"] = {"update": undone.undo_counts, "create": first.undo_counts}
    db.close()
    return result


if __name__ == "__main__":
    rows_arg, format_arg, db_arg = sys.argv[1:4]
    print(json.dumps(run(int(rows_arg), format_arg, db_arg)))
