"""Column mapping (SPEC 10): the mapping an upload used or waits for, and mappings saved per organization."""
import peewee as pw
from playhouse.migrate import migrate

from app.models import JSONField, db


class _Table(pw.Model):
    class Meta:
        database = db


class _Organization(_Table):
    class Meta:
        table_name = "organization"


class _User(_Table):
    class Meta:
        table_name = "user"


class SavedMapping(_Table):
    """The table as this migration creates it (the model in app/models.py may change later)."""

    organization = pw.ForeignKeyField(_Organization, on_delete="CASCADE")
    header_key = pw.CharField(max_length=64)
    headers = pw.TextField()
    mapping = pw.TextField()
    date_order = pw.CharField(max_length=3, null=True)
    saved_by = pw.ForeignKeyField(_User, null=True, on_delete="SET NULL")
    saved_at = pw.DateTimeField()

    class Meta:
        table_name = "saved_mapping"
        indexes = ((("organization", "header_key"), True),)


def up(migrator):
    migrate(migrator.add_column("upload", "mapping", JSONField(null=True)))
    db.create_tables([SavedMapping])
