"""Show results' pages and counts, counted once per state of the upload's rows (app/importer/results_pages.py),
give exactly what counting and OFFSET paging give, and follow every decision, whoever made it."""
from __future__ import annotations

import pytest

from app.importer import results_pages, review
from app.importer.lifecycle import PROCESSING, READING
from app.models import Upload, UploadRow, User
from tests.importer.conftest import csv

SIZE = 7  # small pages, so a few hundred rows make many of them


@pytest.fixture
def upload(preview):
    """A list with blank rows (gaps in the row numbers), errors, and warnings of two kinds."""
    rows = []
    for n in range(300):
        if n % 41 == 0:
            rows.append(",,,,,")
        born = "02/30/1980" if n % 23 == 0 else "1980-01-02"
        email = "" if n % 5 == 0 else f"p{n}@mail.org"
        rows.append(f"P{n},Lee,{born},{email},{n:05d},{'Nowhere' if n % 9 == 0 else 'Diabetes Prevention'}")
    return preview(csv(*rows))


def by_offset(where, page: int) -> tuple[list[int], int]:
    query = UploadRow.select().where(where)
    return [r.row_number for r in query.order_by(UploadRow.row_number).paginate(page, SIZE)], query.count()


def views(upload: Upload) -> list[tuple[tuple, object]]:
    kinds = [entry["kind"] for entry in upload.issue_summary]
    assert len(kinds) >= 3
    base = UploadRow.upload == upload
    return ([(("all", None), base), (("errors", None), base & UploadRow.has_error),
             (("warnings", None), base & UploadRow.has_warning), (("created", None), base & (UploadRow.action == "create"))]
            + [(("all", kind), base & UploadRow.has_issue_kind(kind)) for kind in kinds])


def test_every_page_of_every_filter_and_kind_is_the_one_offset_paging_gives(upload):
    for what, where in views(upload):
        _, _, pages, total = results_pages.page_of(upload, where, what, 1, SIZE)
        assert total == UploadRow.select().where(where).count() > 0
        assert pages == max(1, -(-total // SIZE))
        for page in range(1, pages + 1):
            rows, shown_page, _, _ = results_pages.page_of(upload, where, what, page, SIZE)
            assert ([r.row_number for r in rows], shown_page) == (by_offset(where, page)[0], page), (what, page)
        assert results_pages.page_of(upload, where, what, pages + 5, SIZE)[1] == pages  # past the end: the last page
        assert results_pages.page_of(upload, where, what, -3, SIZE)[1] == 1


def test_a_filter_that_picks_nothing_has_one_empty_page(upload):
    where = (UploadRow.upload == upload) & (UploadRow.action == "update")
    assert results_pages.page_of(upload, where, ("updated", None), 3, SIZE) == ([], 1, 1, 0)


def test_a_decision_by_anyone_is_counted_at_the_next_request(upload):
    admin = User.by_email("admin@demo.example")
    warnings = (UploadRow.upload == upload) & UploadRow.has_warning
    tally = results_pages.remembered(upload, ("tally",), lambda: review.tally(upload))
    assert tally.excluded == 0
    # Another process decides: this one holds its own stale copy of the upload, then reads the upload again.
    review.decide_rows(Upload.get_by_id(upload.id), admin, review.EXCLUDE, warnings, by="filter")
    assert results_pages.remembered(upload, ("tally",), lambda: review.tally(upload)).excluded == 0  # the old state's
    fresh = Upload.get_by_id(upload.id)
    after = results_pages.remembered(fresh, ("tally",), lambda: review.tally(fresh))
    assert after == review.tally(fresh) and after.excluded == UploadRow.select().where(warnings).count() > 0


def test_a_fix_that_clears_an_error_moves_the_row_between_filters_at_once(upload):
    errors = (UploadRow.upload == upload) & UploadRow.has_error
    before = results_pages.page_of(upload, errors, ("errors", None), 1, SIZE)[3]
    row = next(r for r in UploadRow.select().where(errors & UploadRow.has_issue_kind("date_of_birth:not a real date"))
               if len(r.issue_kinds) == 1)  # its only issue
    fresh = Upload.get_by_id(upload.id)
    review.fix_row(fresh, User.by_email("admin@demo.example"), row.row_number, {"Date of Birth": "1980-02-28"})
    after = results_pages.page_of(fresh, errors, ("errors", None), 1, SIZE)[3]
    assert after == before - 1 == UploadRow.select().where(errors).count()


def test_what_is_kept_is_bounded_by_the_row_numbers_it_holds(upload, monkeypatch):
    monkeypatch.setattr(results_pages, "KEPT", 600)
    results_pages.forget()
    everything = UploadRow.upload == upload
    for n in range(4):  # each view weighs its row numbers (about 300) and its entry (100)
        results_pages.page_of(upload, everything, ("all", n), 1, SIZE)
    assert len(results_pages._kept) == 1 and results_pages._weight <= 600
    for n in range(10):
        results_pages.remembered(upload, ("count", n), lambda n=n: n)
    assert results_pages._weight <= 600 and ((results_pages.rows_version(upload), ("count", 9)) in results_pages._kept)


def test_a_new_state_of_the_rows_drops_what_was_kept_of_the_old_one(upload):
    results_pages.forget()
    results_pages.remembered(upload, ("tally",), lambda: review.tally(upload))
    results_pages.page_of(upload, UploadRow.upload == upload, ("all", None), 1, SIZE)
    assert len(results_pages._kept) == 2
    review.decide_rows(upload, User.by_email("admin@demo.example"), review.EXCLUDE,
                       UploadRow.row_number == 2, by="row")
    results_pages.remembered(upload, ("tally",), lambda: review.tally(upload))
    assert list(results_pages._kept) == [(results_pages.rows_version(upload), ("tally",))]


def test_an_upload_still_being_read_is_counted_every_time(upload):
    results_pages.forget()
    Upload.update(status=PROCESSING, processing_step=READING).where(Upload.id == upload.id).execute()  # as a read leaves it
    reading = Upload.get_by_id(upload.id)
    counted = []
    for _ in range(2):
        results_pages.remembered(reading, ("tally",), lambda: counted.append(1) or 0)
    assert counted == [1, 1] and not results_pages._kept
