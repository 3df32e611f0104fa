"""Review (SPEC 11): a row's decision (accept its warnings, exclude it) and the cells a reviewer fixed; the
warning kinds accepted for a whole upload, a revision that every decision and fix moves on (the
confirmation of Complete Import names the one it counted), the day and month order the preview read dates
in (a fix is checked as its row was), and what a completion excluded and fixed. And each organization's
time zone, for the times the pages show."""
import peewee as pw
from playhouse.migrate import migrate

from app.models import JSONField


def up(migrator):
    migrate(
        migrator.add_column("upload_row", "decision", pw.CharField(max_length=16, null=True)),
        migrator.add_column("upload_row", "fixes", JSONField(null=True)),
        migrator.add_column("upload", "accepted_kinds", JSONField(null=True)),
        migrator.add_column("upload", "review_revision", pw.IntegerField(default=0)),
        migrator.add_column("upload", "date_order", pw.CharField(max_length=3, null=True)),
        migrator.add_column("upload", "excluded_count", pw.IntegerField(null=True)),
        migrator.add_column("upload", "fixed_count", pw.IntegerField(null=True)),
        migrator.add_column("organization", "time_zone", pw.CharField(max_length=64, default="UTC")),
    )
