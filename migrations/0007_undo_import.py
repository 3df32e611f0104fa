"""Undo Import (SPEC 13): what a completion changed, kept for its undo window (import_change), and who
undid an import, when, with what counts."""
import peewee as pw
from playhouse.migrate import migrate

from app.models import JSONField, db


class _Table(pw.Model):
    class Meta:
        database = db


class _Upload(_Table):
    class Meta:
        table_name = "upload"


class _Participant(_Table):
    class Meta:
        table_name = "participant"


class _User(_Table):
    class Meta:
        table_name = "user"


class ImportChange(_Table):
    """The table as this migration creates it (the model in app/models.py may change later)."""

    upload = pw.ForeignKeyField(_Upload, on_delete="CASCADE", index=False)
    participant = pw.ForeignKeyField(_Participant, on_delete="CASCADE")
    created = pw.BooleanField(default=False)
    before = pw.TextField(null=True)
    after = pw.TextField(null=True)
    groups = pw.TextField(null=True)
    identifier = pw.TextField(null=True)

    class Meta:
        table_name = "import_change"
        indexes = ((("upload", "participant"), True),)


def up(migrator):
    db.create_tables([ImportChange])
    migrate(
        migrator.add_column("upload", "undone_at", pw.DateTimeField(null=True)),
        migrator.add_column("upload", "undone_by_id",
                            pw.ForeignKeyField(_User, null=True, on_delete="RESTRICT", field=_User.id)),
        migrator.add_column("upload", "undo_counts", JSONField(null=True)),
    )
