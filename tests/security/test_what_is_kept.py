"""SPEC 14, read off the database's own bytes: Roster keeps only what it imports.

Distinctive values are planted in columns Roster does not import (an SSN, a passport number) and in
columns it does, on a row that is imported and on one skipped for an error. After the preview and
after Complete Import the test reads the whole database: every table's rows (a dump, on both engines)
and, on SQLite, the database file itself after a WAL checkpoint, free pages included.
"""
from __future__ import annotations

import io
import logging

import peewee as pw
import pytest

from app.models import MODELS, Upload, db
from tests.web.test_importable_files import last_upload, post_file

UNMAPPED = ["987-65-4329", "ZQ9981772", "Plantedrace"]  # SSN, Passport, Race: never imported
IMPORTED = ["Zyxwvutplant", "zyx.planted@mail.org", "+16175550188"]  # the imported row's name, email, phone
SKIPPED = ["Qwertyplant", "qwerty.planted@mail.org"]  # a row with an error, skipped at Complete Import
FILE = ("First Name,Last Name,Date of Birth,Email,Mobile Phone,Group,SSN,Passport,Race\n"
        "Zyxwvutplant,Lee,1980-01-02,zyx.planted@mail.org,617-555-0188,Diabetes Prevention,987-65-4329,ZQ9981772,"
        "Plantedrace\n"
        "Qwertyplant,Ray,02/30/1971,qwerty.planted@mail.org,,Diabetes Prevention,123-45-6789,ZQ0000001,Plantedrace\n")
PARTICIPANT_TABLES = {"participant", "participant_identifier", "participant_group"}


def table_dumps() -> dict[str, str]:
    """Every row of every table, as text: COPY on PostgreSQL, SELECT * on SQLite."""
    dumps = {}
    for model in MODELS:
        table = model._meta.table_name
        if isinstance(db.obj, pw.PostgresqlDatabase):
            buffer = io.StringIO()
            db.connection().cursor().copy_expert(f'COPY "{table}" TO STDOUT', buffer)
            dumps[table] = buffer.getvalue()
        else:
            dumps[table] = "\n".join(map(repr, db.execute_sql(f'SELECT * FROM "{table}"').fetchall()))
    return dumps


def database_bytes(app) -> bytes | None:
    """The SQLite database file after a checkpoint, or None on PostgreSQL (its dumps are read instead)."""
    if not isinstance(db.obj, pw.SqliteDatabase):
        return None
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return open(db.obj.database, "rb").read()


def found_in(values, text) -> list[str]:
    return [v for v in values if v in text]


@pytest.fixture
def previewed(client, url, login_as, caplog):
    caplog.set_level(logging.DEBUG)
    token = login_as("admin")
    post_file(client, url, token, FILE)
    upload = last_upload()
    assert (upload.created_count, upload.error_count) == (1, 1)
    return upload, token


def test_columns_roster_does_not_import_never_reach_the_database_pages_or_logs(app, client, url, previewed, caplog):
    upload, _ = previewed
    for table, dump in table_dumps().items():
        assert found_in(UNMAPPED, dump) == [], table
    raw = database_bytes(app)
    if raw is not None:
        assert found_in([v.encode() for v in UNMAPPED], raw) == []
    pages = [client.get(url("importable_files.results", upload_id=upload.id)).get_data(as_text=True),
             *(client.get(url("importable_files.row_detail", upload_id=upload.id, row_number=n)).get_data(as_text=True)
               for n in (2, 3)),
             *(client.get(url("importable_files.issue_report", upload_id=upload.id, kind=k)).data.decode("latin-1")
               for k in ("csv", "xlsx"))]
    assert found_in(UNMAPPED, "\n".join(pages)) == []
    assert "SSN" in pages[0]  # the file-level warning names the columns left out, only their headers
    assert found_in(UNMAPPED + IMPORTED + SKIPPED, caplog.text) == []


def test_after_complete_import_the_values_are_only_in_the_participant_tables(app, client, url, previewed, caplog):
    upload, token = previewed
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "skip_error_rows": "y"})
    assert Upload.get_by_id(upload.id).state.is_completed
    dumps = table_dumps()
    for table, dump in dumps.items():
        allowed = IMPORTED if table in PARTICIPANT_TABLES else []
        assert found_in(UNMAPPED + IMPORTED + SKIPPED, dump) == [v for v in IMPORTED if v in allowed and v in dump], table
    assert found_in(IMPORTED, dumps["participant"]) == IMPORTED
    raw = database_bytes(app)
    if raw is not None:  # destroyed cells are overwritten too (secure_delete), not left in free pages
        assert found_in([v.encode() for v in UNMAPPED + SKIPPED], raw) == []
    assert found_in(UNMAPPED + IMPORTED + SKIPPED, caplog.text) == []
