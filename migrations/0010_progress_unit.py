"""What a reading upload's progress counts: its rows (NULL), or the organization's participants, which
the duplicate search reads in one go, mid-file or after the last row, while the rows read stand still (a
million of them take longer than a monthly list's new rows)."""
import peewee as pw
from playhouse.migrate import migrate


def up(migrator):
    migrate(migrator.add_column("upload", "progress_unit", pw.CharField(null=True)))
