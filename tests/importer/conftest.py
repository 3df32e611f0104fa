"""Engine fixtures: upload bytes as a demo user and preview them, through the real store and database
(demo_org and store come from tests/conftest.py)."""
from __future__ import annotations

import threading

import pytest

from app.importer.lifecycle import ImportRefused
from app.importer.preview import create_upload, preview_upload
from app.importer.rules import check_cells, layout
from app.models import Group, User, db

HEADER = "First Name,Last Name,Date of Birth,Email,Patient ID,Group"


@pytest.fixture
def group(demo_org):
    return Group.get((Group.organization == demo_org) & (Group.name == "Diabetes Prevention"))


@pytest.fixture
def preview(demo_org, store):
    """preview(text_or_bytes, filename=..., group=...) -> the previewed Upload."""

    def run(content, filename="patients.csv", group=None, email="uploader@demo.example"):
        data = content.encode() if isinstance(content, str) else content
        upload = create_upload(demo_org, User.by_email(email), filename, data, store, group=group)
        return preview_upload(upload, data)

    return run


def spy(monkeypatch, owner, name: str) -> list:
    """Each call of owner.name (a function or a class's method) counted, then run as it was."""
    calls, real = [], getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    return calls


def check_row(row: int, cells: dict[str, tuple[str, object]], ref):
    """rules.check_cells for one row given as field key -> (header as written, cell)."""
    keys = list(cells)
    return check_cells(row, [cells[key][1] for key in keys],
                       layout({key: (cells[key][0], index) for index, key in enumerate(keys)}), ref)


def csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def race_twice(action) -> list[str]:
    """Run `action` in two threads released at once, each on its own connection: "done", or the reason
    of its ImportRefused, for each, sorted."""
    db.close()
    results, barrier = [], threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            with db.connection_context():
                action()
            results.append("done")
        except ImportRefused as refused:
            results.append(refused.reason)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.connect(reuse_if_open=True)
    return sorted(results)
