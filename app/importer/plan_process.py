"""A Complete Import's plans read back and made into the rows to write: in this process, or for a large
upload, in a child process on the machine's second core (children.py).

Reading each page of plans back and decoding it into rows was a fifth of a 100,000-row completion, and
the writes waited on it: on SQLite they are the completion's own work (the database runs in it); on
PostgreSQL the page was read on the connection that the thread sending the writes shares, so the server
sat idle while the completion read and decoded (one core of two in use). A child reads the same pages
on a connection of its own instead, in one read-only transaction (the completion has claimed the upload,
so no decision or fix changes its rows meanwhile, and its own writes leave the plans as they are), and
sends each page ready to write; the batches are the same either way (`batch`).

    parent -> child: (how to open the database: bulk.for_a_child, the page query, each page's parameters)
    child -> parent: ("batch", Batch) for each page, in order, then ("done", None)
                     ("error", "ExceptionType") and it stops
"""
from __future__ import annotations

import pickle
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote  # a folder's ? or # would end a URI's path

from app.importer import children
from app.importer.columns import FIELDS
from app.importer.garbage import fewer_collections
from app.stored import json_value

PARALLEL_ROWS = 20_000  # below this the child's start costs more than it brings
COMMAND = children.command(__name__)
# The Participant columns a plan sets, in the order of a created row's values; a plan keeps dates as ISO
# text, which both engines take for a date as it is, and never holds a None.
PLANNED = (*FIELDS, "email_key", "primary_coach")


@dataclass
class PlanRow:
    """A row that updates a participant, as the preview planned it."""

    row: int
    participant_id: int
    plan: dict


class Batch(NamedTuple):
    """One page of an upload's rows that create or update a participant, ready to write."""

    creates: list[tuple]  # (row number, *the PLANNED values) of each row that creates
    members: list[tuple[int, int]]  # (index in creates, group id)
    identifiers: list[tuple[int, int, str]]  # (index in creates, ID system, Patient ID)
    updates: list[PlanRow]
    referred: dict[str, set[int]]  # the "groups", "systems" and "coaches" the page names


class PlansFailed(Exception):
    """The child process stopped before it had sent every page."""


def planned_values(fields: dict) -> tuple:
    """A plan's fields as values for PLANNED, None where the row sets nothing."""
    email = fields.get("email")
    return (*[fields.get(name) for name in FIELDS], email.lower() if email else None, fields.get("primary_coach"))


def batch(page: Iterable[tuple]) -> Batch:
    """A page of (row number, participant id, plan as JSON text) of rows that create or update: a row
    that updates names its participant, one that creates does not (UploadRow.participant)."""
    creates, members, identifiers, updates = [], [], [], []
    groups, systems = set(), set()
    for row, participant_id, text in page:
        plan = json_value(text)
        if participant_id is not None:
            updates.append(PlanRow(row, participant_id, plan))
            groups.update(plan["groups"])
            if plan["identifier"]:
                systems.add(plan["identifier"][0])
            continue
        index = len(creates)
        creates.append((row, *planned_values(plan["fields"])))
        for group in plan["groups"]:
            members.append((index, group))
            groups.add(group)
        if identifier := plan["identifier"]:
            identifiers.append((index, *identifier))
            systems.add(identifier[0])
    coaches = {values[-1] for values in creates if values[-1]}  # primary_coach: PLANNED's last
    coaches.update(c for r in updates if (c := r.plan["fields"].get("primary_coach")))
    return Batch(creates, members, identifiers, updates, {"groups": groups, "systems": systems, "coaches": coaches})


@contextmanager
def reading(query: str, pages: list[tuple], select: Callable[[tuple], list[tuple]], *, rows: int,
            database: tuple | None):
    """The upload's batches, a page at a time (`pages`: each page's parameters of `query`, about `rows`
    rows in all): read with `select` here, or by a child that opens the `database` (bulk.for_a_child)
    itself, for a large upload on a machine with a core to spare."""
    if database is None or rows < PARALLEL_ROWS or not children.two_cores():
        yield (batch(select(parameters)) for parameters in pages)
        return
    child = children.start(COMMAND, wide="stdout")
    try:
        children.tell(child, (database, query, pages), PlansFailed("the plans' reader stopped"))
        child.stdin.close()
        yield _received(child)
        child.stdout.close()
        child.wait(timeout=30)
    except BaseException:
        children.end(child)
        raise


def _received(child) -> Iterator[Batch]:
    while True:
        kind, answer = children.answer(child, PlansFailed("the plans' reader stopped"))
        if kind == "done":
            return
        if kind != "batch":
            raise PlansFailed(f"the plans' reader stopped ({answer})")
        yield answer


def _read_only(database: tuple):
    """A connection of the child's own, in a read-only transaction: one snapshot for every page."""
    kind, address = database
    if kind == "sqlite":
        connection = sqlite3.connect(f"file:{quote(address)}?mode=ro", uri=True, isolation_level=None)
        connection.execute("BEGIN")
        return connection
    import psycopg2  # the driver alone, not the models: the child starts while the completion counts

    connection = psycopg2.connect(**address)
    connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
    return connection


@fewer_collections()
def serve(stdin, stdout) -> None:
    """The child: read each page it is asked for, in one read transaction, and send it as a Batch."""
    try:
        database, query, pages = pickle.load(stdin)
        connection = _read_only(database)
        try:
            cursor = connection.cursor()
            for parameters in pages:
                cursor.execute(query, parameters)
                children.send(stdout, ("batch", batch(cursor.fetchall())))
            children.send(stdout, ("done", None))
        finally:
            connection.close()
    except BrokenPipeError:  # the completion ended first
        return
    except Exception as error:  # the type alone: a message may quote a value
        children.send(stdout, ("error", type(error).__name__))


if __name__ == "__main__":
    from app.importer import plan_process  # by its name, so what it pickles (Batch, PlanRow) loads in the parent

    answers, sys.stdout = sys.stdout.buffer, sys.stderr  # a stray print must not break the stream
    plan_process.serve(sys.stdin.buffer, answers)
