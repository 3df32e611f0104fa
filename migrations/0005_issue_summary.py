"""Show results starts with the issues by kind (SPEC 11): their counts, kept with the upload."""
from playhouse.migrate import migrate

from app.models import JSONField


def up(migrator):
    migrate(migrator.add_column("upload", "issue_summary", JSONField(null=True)))
