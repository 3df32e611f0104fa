"""Review (SPEC 11): the issues by kind, with their counts, kept with the upload; the newer upload of the
same list that replaced an older one. And the time of a user's latest failed sign-in: failures count
within a window, so a burst of attempts checks at most the limit whatever order its right one came in."""
import peewee as pw
from playhouse.migrate import migrate

from app.models import JSONField


class _Upload(pw.Model):
    class Meta:
        table_name = "upload"


def up(migrator):
    migrate(
        migrator.add_column("upload", "issue_summary", JSONField(null=True)),
        migrator.add_column("upload", "replaced_by_id",
                            pw.ForeignKeyField(_Upload, null=True, on_delete="SET NULL", field=_Upload.id)),
        migrator.add_column("user", "failed_at", pw.DateTimeField(null=True)),  # the lockout's window
    )
