"""Bulk reads and writes for the import's hot path: one statement per chunk, no ORM object or query per row.

peewee's insert_many and bulk_update build their SQL value by value in Python, which costs more than
the database's own work at 100,000 rows; these send the rows to the driver as plain tuples instead
(sqlite3 executemany; on PostgreSQL COPY for inserts and unnest() arrays for updates).
"""
from __future__ import annotations

import io
import os
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Callable

import peewee as pw

from app.importer.pipeline import Pipeline
from app.models import Participant, ParticipantGroup, ParticipantIdentifier, db

POSTGRES_TYPES = {"INT": "integer", "BIGINT": "bigint", "VARCHAR": "text", "TEXT": "text", "DATE": "date",
                  "DATETIME": "timestamp", "BOOL": "boolean"}


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)


def for_a_child() -> tuple[str, Any] | None:
    """How a child process opens this database itself: ("postgresql", the driver's connect arguments) or
    ("sqlite", the file); None for a SQLite database only this process can reach (in memory)."""
    if is_postgres():
        return "postgresql", {"dbname": db.database, **db.connect_params}
    if db.database in (":memory:", "") or db.database.startswith("file:"):
        return None
    return "sqlite", os.path.abspath(db.database)  # the child starts in the project's folder, not this one's


def _sqlite_value(value):
    # sqlite3's implicit date adapters are deprecated (Python 3.12); peewee stores these same ISO texts.
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def timestamp(moment: datetime) -> str:
    """A time as both engines take it for a timestamp column, and as peewee stores one in SQLite: a value
    repeated in every row is converted once instead of once a row."""
    return moment.isoformat(" ")


def date_columns(fields: list[pw.Field]) -> list[int]:
    """Where the date and time columns are among `fields`: the values a driver may give or take as text."""
    return [i for i, f in enumerate(fields) if isinstance(f, (pw.DateField, pw.DateTimeField))]


def _with_sqlite_dates(row: tuple, dated: list[int]) -> list:
    row = list(row)
    for i in dated:
        row[i] = _sqlite_value(row[i])
    return row


def _quoted(name: str) -> str:
    return f'"{name}"'


def columns(*fields: pw.Field) -> str:
    return ", ".join(_quoted(f.column_name) for f in fields)


def table(model: type[pw.Model]) -> str:
    return _quoted(model._meta.table_name)


def is_in(field: pw.Field, values) -> str:
    """`"column" IN (?, ?, ...)` with a parameter for each value."""
    return f"{_quoted(field.column_name)} IN ({', '.join([db.param] * len(values))})"


def select(sql: str, params: list) -> list[tuple]:
    """Rows of a plain parameterised query; peewee builds an IN list value by value (a node per value),
    which cost more than the look-ups themselves at 100,000 rows."""
    return db.execute_sql(sql, params).fetchall()


def refresh_statistics(models: list[type[pw.Model]]) -> None:
    """ANALYZE the tables a large import filled, so the query planner knows their size."""
    # Without statistics both engines take a table that grew from 0 to 100,000 rows for a small one:
    # the matcher's look-ups then read the organization's every participant per chunk (SQLite never
    # gathers statistics by itself; PostgreSQL only when autovacuum gets round to it).
    for model in models:
        db.execute_sql(f"ANALYZE {table(model)}")


@contextmanager
def without_reference_checks() -> Iterator[bool]:
    """Inside a transaction: on PostgreSQL the rows written skip their foreign-key checks where this role
    may (docs/deploy.md); yields whether they do. The caller vouches for every key it writes (below)."""
    # PostgreSQL checks each written row's keys with a query of its own: a 100,000-row Complete Import
    # ran about 700,000, half the server's time. Each row referred to inside must be written or updated
    # in this transaction, or held by `hold`, so no other can delete it before this one commits.
    # session_replication_role = replica, as pg_restore's --disable-triggers uses it, also skips other
    # triggers (the schema has none: a test keeps it so) and the keys' ON DELETE actions: only inserts,
    # and updates that change no key, run inside. SET LOCAL: a rollback, to a savepoint too, undoes it.
    if not is_postgres():
        yield False
        return
    was = db.execute_sql("SELECT current_setting('session_replication_role')").fetchone()[0]
    # A role that may not set it keeps the checks, without an error for the server's log at every chunk.
    db.execute_sql("DO $$ BEGIN PERFORM set_config('session_replication_role', 'replica', true); "
                   "EXCEPTION WHEN insufficient_privilege THEN NULL; END $$")
    skipped = db.execute_sql("SELECT current_setting('session_replication_role')").fetchone()[0] == "replica"
    yield skipped
    if skipped:
        db.execute_sql("SELECT set_config('session_replication_role', %s, true)", (was,))


def hold(model: type[pw.Model], ids: set[int]) -> bool:
    """Whether all these rows exist; if so, no other transaction can delete them until this one ends (on
    PostgreSQL FOR KEY SHARE, the lock a foreign-key check takes; a SQLite transaction that has written
    holds the whole database)."""
    found = select(f"SELECT id FROM {table(model)} WHERE {is_in(model.id, ids)}"
                   + (" FOR KEY SHARE" if is_postgres() else ""), list(ids))
    return len(found) == len(ids)


def reserve_ids(model: type[pw.Model], count: int) -> Sequence[int]:
    """Ids for `count` rows about to be inserted; call it inside the transaction that inserts them."""
    if count == 0:
        return []
    table = model._meta.table_name
    if is_postgres():
        # The sequence named once, in a subquery: 7 ms for 5,000 ids, against 31 ms named for each id.
        # Kept as 8 bytes an id (a million: 8 MB, against 110 MB as the driver's rows).
        cursor = db.execute_sql("SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id'))::regclass) "
                                "FROM generate_series(1, %s)", (table, count))
        return array("q", (row[0] for row in cursor))
    # SQLite: the transaction already holds the write lock (its first statement wrote), so no other
    # writer can take these ids before the insert.
    start = db.execute_sql(f"SELECT COALESCE(MAX(id), 0) FROM {_quoted(table)}").fetchone()[0]
    return range(start + 1, start + count + 1)


Statement = Callable[[Any], None]  # runs on a driver cursor


def insert_rows(model: type[pw.Model], fields: list[pw.Field], rows: list[tuple], *,
                pipeline: Pipeline | None = None) -> None:
    """INSERT the rows (tuples of database values in the order of `fields`).

    With `pipeline`, the rows are encoded here and sent by the pipeline's thread, on this thread's
    connection (so in its transaction).
    """
    if rows:
        _execute(_insert(table(model), fields, rows), pipeline)


def _execute(statement: Statement, pipeline: Pipeline | None) -> None:
    connection = db.connection()  # this thread's, also when the pipeline's thread runs the statement

    def run() -> None:
        with pw.__exception_wrapper__:  # driver errors surface as peewee's, as with insert_many
            statement(connection.cursor())

    if pipeline is None:
        run()
    else:
        pipeline.put(run)


def _insert(into: str, fields: list[pw.Field], rows: list[tuple]) -> Statement:
    names = columns(*fields)
    if is_postgres():
        tabs = len(fields) - 1
        text = "".join([_copy_line(row, tabs) for row in rows])
        # size: the driver reads the file in 8 kB pieces by default, each a call back into Python (the GIL).
        return lambda cursor: cursor.copy_expert(f"COPY {into} ({names}) FROM STDIN", io.StringIO(text),
                                                 size=max(len(text), 8192))
    marks = ", ".join("?" for _ in fields)
    # Only the date columns that hold dates are converted (the others pass as they are): a completion
    # passes its dates as text already.
    dated = [i for i in date_columns(fields) if any(isinstance(row[i], date) for row in rows)]
    if dated:
        rows = [_with_sqlite_dates(row, dated) for row in rows]
    return lambda cursor: cursor.executemany(f"INSERT INTO {into} ({names}) VALUES ({marks})", rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(row: tuple, tabs: int) -> str:
    """One row in PostgreSQL's COPY text format, ending in a newline."""
    # Most values are plain text with nothing to escape: join them as they are (only other values go
    # through _copy_text) and check the line. Each NULL ("\\N") adds one backslash; any other backslash,
    # tab, newline or carriage return came from the data, and then every value is escaped.
    line = "\t".join([value if value.__class__ is str else _copy_text(value) for value in row])
    if line.count("\t") == tabs and line.count("\\") == row.count(None) and "\n" not in line and "\r" not in line:
        return line + "\n"
    return "\t".join(map(_copy_text, row)) + "\n"


def _copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def update_rows(model: type[pw.Model], fields: list[pw.Field], rows: list[tuple], *,
                pipeline: Pipeline | None = None) -> None:
    """UPDATE rows by id: each tuple is (id, value for each of `fields`); other columns are untouched.
    `pipeline` as for insert_rows."""
    if rows:
        _execute(_update(table(model), fields, rows), pipeline)


def _update(into: str, fields: list[pw.Field], rows: list[tuple]) -> Statement:
    names = [_quoted(f.column_name) for f in fields]
    if is_postgres():
        # One array per column: the driver sends them as a few literals instead of a tuple per row.
        assignments = ", ".join(f"{name} = v.{name}" for name in names)
        arrays = ", ".join(["%s::integer[]"] + [f"%s::{POSTGRES_TYPES[f.field_type]}[]" for f in fields])
        sql = f"UPDATE {into} AS t SET {assignments} FROM unnest({arrays}) AS v(id, {', '.join(names)}) WHERE t.id = v.id"
        columns = [list(column) for column in zip(*rows, strict=True)]
        return lambda cursor: cursor.execute(sql, columns)
    assignments = ", ".join(f"{name} = ?" for name in names)
    values = [tuple(_sqlite_value(v) for v in row[1:]) + (row[0],) for row in rows]
    return lambda cursor: cursor.executemany(f"UPDATE {into} SET {assignments} WHERE id = ?", values)


# --- The matcher's look-ups: one statement per kind per chunk ---------------------------------------
# Plain SQL (see select): peewee's IN list of 1,000 values cost more than the look-up itself.

def _select_where(fields: list[pw.Field], model: type[pw.Model], where: str, params: list) -> list[tuple]:
    return select(f"SELECT {columns(*fields)} FROM {table(model)} WHERE {where}", params)


def identifier_holders(systems: set[int], values: set[str]) -> list[tuple[int, str, int]]:
    """(system, Patient ID, participant) for the identifiers of these systems with these values."""
    pi = ParticipantIdentifier
    if is_postgres():
        # Each Patient ID probed in the unique (system, value) index. Given the IN list, PostgreSQL read
        # the whole table for every chunk while it held under a few hundred thousand rows (its default
        # random_page_cost prices 1,000 probes above a scan): 6.7 ms a chunk at 100,000 against 1.6 ms.
        # OFFSET 0 keeps the subquery a probe per value instead of letting it become a hash join on a scan.
        found = columns(pi.system, pi.value, pi.participant)
        return select(f"SELECT held.* FROM unnest(%s::integer[]) AS s(wanted_system) CROSS JOIN unnest(%s::text[]) AS v(wanted) "
                      f"CROSS JOIN LATERAL (SELECT {found} FROM {table(pi)} WHERE {columns(pi.system)} = wanted_system "
                      f"AND {columns(pi.value)} = wanted OFFSET 0) AS held", [list(systems), list(values)])
    return _select_where([pi.system, pi.value, pi.participant], pi,
                         f"{is_in(pi.system, systems)} AND {is_in(pi.value, values)}", [*systems, *values])


def identifiers_of(participant_ids) -> list[tuple[int, int, str]]:
    """(participant, system, Patient ID) of every identifier these participants hold."""
    pi, ids = ParticipantIdentifier, list(participant_ids)
    return _select_where([pi.participant, pi.system, pi.value], pi, is_in(pi.participant, ids), ids)


def email_holders(org_id: int, email_keys: set[str]) -> list[tuple[str, int]]:
    """(email key, participant) of the organization's participants with these email keys (the index alone)."""
    p = Participant
    return _select_where([p.email_key, p.id], p, f"{is_in(p.organization, [org_id])} AND {is_in(p.email_key, email_keys)}",
                         [org_id, *email_keys])


def participants_by_id(org_id: int, fields: list[pw.Field], ids: set[int]) -> list[tuple]:
    """`fields` of the organization's participants with these ids, by id (`fields` starts with the id)."""
    p = Participant
    if is_postgres():
        # Looked up by id alone, the organization checked on the rows found: given both, PostgreSQL without
        # statistics (before the table's first ANALYZE) chose the (organization, ...) index, and read every
        # participant of the organization for each page of ids. A Complete Import that grew the table from
        # 50,000 to a million participants spent 16 s of its 59 s so, reading the updates' values before.
        found = _select_where([*fields, p.organization], p, f"{is_in(p.id, ids)} ORDER BY 1", list(ids))
        return [row[:-1] for row in found if row[-1] == org_id]
    # SQLite looks an id list up by rowid whatever else the query says.
    return _select_where(fields, p, f"{is_in(p.organization, [org_id])} AND {is_in(p.id, ids)} ORDER BY 1",
                         [org_id, *ids])


def names_born_on(org_id: int, dates: set[str]) -> list[tuple[int, str, str, Any]]:
    """(id, first name, last name, date of birth) of the organization's participants born on these dates."""
    p = Participant
    return _select_where([p.id, p.first_name, p.last_name, p.date_of_birth], p,
                         f"{is_in(p.organization, [org_id])} AND {is_in(p.date_of_birth, dates)}", [org_id, *dates])


def memberships_of(participant_ids) -> list[tuple[int, int]]:
    """(participant, group) of every membership these participants have."""
    pg, ids = ParticipantGroup, list(participant_ids)
    return _select_where([pg.participant, pg.group], pg, is_in(pg.participant, ids), ids)
