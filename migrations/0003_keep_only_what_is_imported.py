"""Keep only what Roster imports (SPEC 14).

- participant.created_by_row: the row that created a participant, so a completed upload's rows link
  to their participants without keeping the rows' values; indexed with created_by_upload, whose own
  index it replaces.
- upload_row.issue_kinds: the severity and column of each issue, what the history keeps of them.
- Rows of uploads already decided (not Pending) lose their cells, names, plans, changes and messages;
  rows of Pending uploads keep only their imported columns.
- upload.step_at: when an upload's status or step last changed; the watch gives queued work that long.
- Participant names and email, group and ID system names in Unicode NFC, so "José" written on a Mac
  and on Windows is one name (a name that would then clash with another is left as it was).
"""
import json
import unicodedata

import peewee as pw
from playhouse.migrate import migrate

from app.models import db

# The headers Roster imported when the uploads this cleans were previewed (app/importer/columns.py at
# migration 0002, compared as its normalize_header did): frozen here, so later recognition changes
# never change what this migration keeps.
KNOWN_HEADERS = frozenset({
    "address", "address1", "address2", "addressline1", "addressline2", "birthdate", "caremanager", "cell",
    "chartnumber", "city", "coach", "cohort", "comment", "comments", "country", "countrycode", "dateofbirth",
    "dob", "email", "emailaddress", "externalid", "familyname", "first", "firstname", "gender", "givenname",
    "group", "groups", "healthcoach", "home", "homephone", "id", "identifiersystem", "idsystem", "idtype", "last",
    "lastname", "medicalrecordnumber", "mobile", "mobilephone", "mrn", "note", "notes", "participantid",
    "patientid", "phone", "phonenumber", "postal", "postalcode", "postcode", "primarycoach", "program", "province",
    "sex", "sexatbirth", "site", "state", "streetaddress", "streetaddress2", "surname", "town", "work",
    "workphone", "zip", "zipcode"
})


def _known(header: str) -> bool:
    return "".join(str(header).lower().split()).translate(str.maketrans("", "", "_-.")) in KNOWN_HEADERS


def up(migrator):
    migrate(
        migrator.add_column("participant", "created_by_row", pw.IntegerField(null=True)),
        migrator.drop_index("participant", "participant_created_by_upload_id"),
        migrator.add_index("participant", ("created_by_upload_id", "created_by_row"), False),
        migrator.add_column("upload_row", "issue_kinds", pw.TextField(null=True)),
        migrator.add_column("upload", "step_at", pw.DateTimeField(null=True)),
    )
    _keep_only_imported()
    _normalise_names()


def _rows(sql: str, params=()):
    return db.execute_sql(sql, params).fetchall()


def _keep_only_imported():
    p = db.param
    for upload_id, status, headers in _rows('SELECT id, status, headers FROM "upload"'):
        if status != "pending":
            db.execute_sql('UPDATE "upload_row" SET "values" = NULL, "changes" = NULL, "plan" = NULL, '
                           f'"display_name" = \'\' WHERE "upload_id" = {p}', (upload_id,))
        imported = set()
        if status == "pending" and headers:
            kept = [h for h in json.loads(headers) if h and _known(h)]
            imported = set(kept)
            db.execute_sql(f'UPDATE "upload" SET "headers" = {p} WHERE "id" = {p}',
                           (json.dumps(kept, ensure_ascii=False), upload_id))
        for row_id, values, issues in _rows(f'SELECT id, "values", "issues" FROM "upload_row" WHERE "upload_id" = {p}',
                                            (upload_id,)):
            kinds = [[i["severity"], i.get("column")] for i in json.loads(issues)] if issues else None
            kept = {h: v for h, v in json.loads(values).items() if h in imported} if values else None
            db.execute_sql(f'UPDATE "upload_row" SET "issue_kinds" = {p}, "issues" = {p}, "values" = {p} '
                           f'WHERE "id" = {p}',
                           (json.dumps(kinds, ensure_ascii=False) if kinds else None,
                            issues if status == "pending" else None,
                            json.dumps(kept, ensure_ascii=False) if kept else None, row_id))


def _nfc(text):
    return unicodedata.normalize("NFC", text) if text and not text.isascii() else text


def _normalise_names():
    p = db.param
    for row in _rows('SELECT id, first_name, last_name, email, email_key FROM "participant"'):
        fixed = tuple(_nfc(value) for value in row[1:])
        if fixed != tuple(row[1:]):
            db.execute_sql(f'UPDATE "participant" SET first_name = {p}, last_name = {p}, email = {p}, email_key = {p} '
                           f'WHERE id = {p}', (*fixed, row[0]))
    for table in ("groups", "identification_system"):
        existing = _rows(f'SELECT id, organization_id, name FROM "{table}"')
        taken = {(org, name) for _, org, name in existing}
        for id_, org, name in existing:
            fixed = _nfc(name)
            if fixed != name and (org, fixed) not in taken:
                db.execute_sql(f'UPDATE "{table}" SET name = {p} WHERE id = {p}', (fixed, id_))
                taken.add((org, fixed))
