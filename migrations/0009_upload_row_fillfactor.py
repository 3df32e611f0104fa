"""PostgreSQL keeps a tenth of each upload_row page free (fillfactor 90). Complete Import clears what a
preview held of the file from every row of the upload (UploadRow.destroy_values): each row's new, narrow
version then fits on its own page, a HOT update that writes no entry in the table's four indexes. With
full pages every one of them went elsewhere and was indexed again: at 100,000 rows the UPDATE took 0.49
and 0.52 s, and with the free tenth 0.20 and 0.23 s (every update HOT). A tenth is room for every row's
narrow version when a row keeps about 0.55 kB or more, as a list of a dozen columns does (tests/importer/
test_apply.py); a narrower list still gets most of them. A reviewer's decisions and fixes are such
updates too. SQLite has no fill factor: it rewrites a row where it is.
"""
import peewee as pw

from app.models import db


def up(migrator):
    if isinstance(db.obj, pw.PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "upload_row" SET (fillfactor = 90)')
