"""db backup and db restore: a backup taken while the app is in use restores every participant, upload and event."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from cryptography.fernet import Fernet

from app import backup
from app.factory import create_app
from app.models import AuditEvent, Participant, Upload, db
from app.storage import StoredFileError
from tests.importer.conftest import csv

COMPLETED_FILE = csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
                     "Ann,Lee,01/02/1980,ann@mail.org,,Hypertension; Diabetes Prevention")
PENDING_FILE = csv("Bo,Ray,1975-03-04,bo@mail.org,00777,Diabetes Prevention")


def contents() -> dict:
    """What a restore must give back, by row, as plain values."""
    return {
        "participants": sorted((p.id, p.first_name, p.last_name, p.organization_id) for p in Participant.select()),
        "uploads": sorted((u.id, u.status, u.stored_name, u.sha256, u.created_count) for u in Upload.select()),
        "audit": sorted((e.id, e.action, e.object_type, e.object_id) for e in AuditEvent.select()),
    }


@pytest.fixture
def in_use(runner, tmp_path):
    """Demo Clinic with a completed import (participants, audit events) and a Pending upload whose file is stored."""

    def preview(text: str, name: str) -> int:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["imports", "preview", str(path), "--org", "Demo Clinic", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["id"]

    completed = preview(COMPLETED_FILE, "first.csv")
    result = runner.invoke(args=["imports", "complete", str(completed)])
    assert result.exit_code == 0, result.output
    pending = preview(PENDING_FILE, "second.csv")
    before = contents()
    assert len(before["participants"]) == 2 and len(before["uploads"]) == 2 and len(before["audit"]) >= 3
    return {"pending": pending, "before": before}


def open_writer(database_url: str):
    """A second connection of the live database, in the middle of a write it has not committed."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), check_same_thread=False, timeout=30)
    else:
        connection = psycopg2.connect(database_url)
    connection.cursor().execute(
        "INSERT INTO audit_event (action, created_at) VALUES ('written_during_backup', CURRENT_TIMESTAMP)")
    return connection


def commit_once_written(connection, path):
    """Commit the write in progress only when the backup file is in place (the copy was taken before)."""

    def wait_then_commit():
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        connection.commit()

    thread = threading.Thread(target=wait_then_commit)
    thread.start()
    return thread


@pytest.fixture
def fresh_database(config, tmp_path):
    """The URL of an empty database of the suite's kind: a new SQLite file, or a scratch PostgreSQL database."""
    if not config.DATABASE_URL.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    parts = urlsplit(config.DATABASE_URL)
    name = f"{parts.path.lstrip('/')}_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg2.connect(config.DATABASE_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if not db.is_closed():
            db.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_backup_taken_mid_use_restores_every_participant_upload_and_event(app, config, runner, in_use, tmp_path,
                                                                                fresh_database):
    path = tmp_path / "backups" / "roster.backup"
    writer = open_writer(config.DATABASE_URL)
    committer = commit_once_written(writer, path)
    try:
        result = runner.invoke(args=["db", "backup", str(path)])
    finally:
        committer.join()
        writer.close()
    assert result.exit_code == 0, result.output
    assert f"Backed up the database to {path}." in result.output
    assert f"the 1 stored upload file(s) in {config.UPLOAD_DIR}" in result.output
    assert path.stat().st_mode & 0o077 == 0, "a backup holds PHI: its owner alone reads it"
    live_actions = [event.action for event in AuditEvent.select()]
    assert "written_during_backup" in live_actions and "database_backed_up" in live_actions

    restored_config = replace(config, DATABASE_URL=fresh_database)
    result = create_app(restored_config).test_cli_runner().invoke(args=["db", "restore", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Restored the database from {path}." in result.output and "migration" not in result.output

    after = contents()
    assert after["participants"] == in_use["before"]["participants"]
    assert after["uploads"] == in_use["before"]["uploads"]
    new_events = [event for event in after["audit"] if event not in in_use["before"]["audit"]]
    assert set(in_use["before"]["audit"]) <= set(after["audit"])
    assert [event[1] for event in new_events] == ["database_restored"], "the write not committed at the copy is not in it"

    # The Pending upload's file is not in the backup: UPLOAD_DIR and the same file key read it again.
    upload = Upload.get_by_id(in_use["pending"])
    assert restored_config.file_store().load(upload.stored_name, upload.sha256) == PENDING_FILE.encode()
    with pytest.raises(StoredFileError):
        replace(restored_config, FILE_KEY=Fernet.generate_key()).file_store().load(upload.stored_name, upload.sha256)


def test_restore_refuses_a_database_holding_data_unless_forced(app, runner, in_use, tmp_path, demo_org):
    path = tmp_path / "roster.backup"
    assert runner.invoke(args=["db", "backup", str(path)]).exit_code == 0
    Participant.create(organization=demo_org, first_name="Added", last_name="Later")

    refused = runner.invoke(args=["db", "restore", str(path)])
    assert refused.exit_code == 1 and "holds data already" in refused.output
    assert Participant.select().where(Participant.first_name == "Added").exists()

    forced = runner.invoke(args=["db", "restore", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert contents()["participants"] == in_use["before"]["participants"]
    assert AuditEvent.select().where(AuditEvent.action == "database_restored").count() == 1


def test_backup_keeps_an_existing_file_unless_forced(runner, tmp_path):
    path = tmp_path / "roster.backup"
    path.write_bytes(b"an earlier backup")
    refused = runner.invoke(args=["db", "backup", str(path)])
    assert refused.exit_code == 1 and "exists already" in refused.output
    assert path.read_bytes() == b"an earlier backup"
    assert runner.invoke(args=["db", "backup", str(path), "--force"]).exit_code == 0
    assert path.read_bytes() != b"an earlier backup"


def test_restore_refuses_a_file_that_is_no_backup(app, runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database")
    result = runner.invoke(args=["db", "restore", str(path), "--force"])
    assert result.exit_code == 1 and "is not a" in result.output
    assert AuditEvent.select().where(AuditEvent.action == "database_restored").count() == 0


def test_a_missing_postgresql_client_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backup.BackupError, match="pg_dump is not on PATH: install the PostgreSQL client"):
        backup.pg_tool("pg_dump")
