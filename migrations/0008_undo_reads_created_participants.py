"""Undo Import finds the participants an import created by Participant.created_by_upload, which every
created participant has had since 0001, instead of an import_change row each: those rows are deleted
and their `created` column dropped (a 100,000-row import wrote 95,000 of them, a sixth of its Complete
Import's time on SQLite and an eighth on PostgreSQL). With them gone, an import that created everyone
keeps no import_change row, so "its changes are gone" can no longer say that its undo window closed:
upload.undo_closed_at says it, set when the window closes, and here for every import whose kept changes
are already gone.
"""
import peewee as pw
from playhouse.migrate import migrate

from app.models import db, utcnow


def up(migrator):
    migrate(migrator.add_column("upload", "undo_closed_at", pw.DateTimeField(null=True)))
    # Completed, not undone, and nothing kept: closed (or never had anything to undo, which the undo
    # refused as closed too).
    db.execute_sql(
        'UPDATE "upload" SET "undo_closed_at" = %(p)s WHERE "completed_at" IS NOT NULL AND "undone_at" IS NULL '
        'AND NOT EXISTS (SELECT 1 FROM "import_change" WHERE "import_change"."upload_id" = "upload"."id")'
        % {"p": db.param}, (str(utcnow()),))  # as peewee writes a DateTimeField
    db.execute_sql('DELETE FROM "import_change" WHERE "created"')
    migrate(migrator.drop_column("import_change", "created"))
