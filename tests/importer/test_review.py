"""Review (SPEC 11): decisions by row, kind and filter, fixes checked again, and Complete Import applying
exactly the reviewed plan."""
from __future__ import annotations

import pytest

from app.importer import review
from app.importer.apply import ImportRefused, complete_import
from app.importer.review import ACCEPT, EXCLUDE, RESET
from app.models import AuditEvent, Participant, Upload, UploadRow, User
from tests.importer.conftest import csv

# Row 2 an error (email), rows 3-4 a warning (no email and no Patient ID), row 5 clean.
FILE = csv("Ann,Lee,1980-01-02,ann@mail,,Hypertension",
           "Bo,Ray,1970-03-04,,,Hypertension",
           "Cy,Tan,1971-05-06,,,Hypertension",
           "Di,Wu,1972-07-08,di@mail.org,,Hypertension")


@pytest.fixture
def admin(app):
    return User.by_email("admin@demo.example")


def kinds(upload: Upload) -> dict[str, dict]:
    return {k["kind"]: k for k in Upload.get_by_id(upload.id).issue_summary}


def test_accepting_a_kind_and_excluding_the_error_rows_completes_exactly_that_plan(preview, admin, store):
    upload = preview(FILE)
    assert review.tally(upload) == review.Tally(created=3, errors=1, to_review=2, revision=0)
    warning = next(k for k, v in kinds(upload).items() if v["severity"] == "warning")
    error = next(k for k, v in kinds(upload).items() if v["severity"] == "error")

    assert review.decide_kind(upload, admin, ACCEPT, warning) == 2
    assert review.decide_kind(upload, admin, EXCLUDE, error) == 1
    counts = review.tally(upload)
    assert (counts.reviewed, counts.to_review, counts.excluded, counts.errors, counts.revision) == (2, 0, 1, 0, 2)

    with pytest.raises(ImportRefused) as refused:
        review.decide_kind(upload, admin, ACCEPT, error)
    assert "cannot be accepted" in refused.value.message

    done = complete_import(upload, admin, store=store, revision=2)  # no "skip the rows with errors" needed
    assert (done.created_count, done.excluded_count, done.skipped_count) == (3, 1, 0)
    assert {p.first_name for p in Participant.select()} == {"Bo", "Cy", "Di"}
    event = AuditEvent.get(AuditEvent.action == "complete_import")
    assert event.details["excluded"] == 1 and event.details["warnings_not_reviewed"] == 0
    decisions = [e.details for e in AuditEvent.select().where(AuditEvent.action == "review_decision")]
    assert [d["rows"] for d in decisions] == [2, 1] and "Ann" not in str(decisions)


def test_row_and_filter_decisions_and_including_again(preview, admin, store):
    upload = preview(FILE)
    assert review.decide_rows(upload, admin, EXCLUDE, UploadRow.row_number.in_([5])) == 1
    assert review.decide_rows(upload, admin, ACCEPT, UploadRow.row_number.in_([2, 3])) == 1  # row 2 has an error
    assert review.tally(upload).reviewed == 1 and review.tally(upload).to_review == 1
    assert review.decide_rows(upload, admin, EXCLUDE, UploadRow.has_warning == True) == 2  # noqa: E712 a filter
    assert review.tally(upload).excluded == 3
    assert review.decide_rows(upload, admin, RESET, UploadRow.row_number.in_([4, 5])) == 2
    counts = review.tally(upload)
    assert (counts.created, counts.excluded, counts.to_review) == (2, 1, 1)
    complete_import(upload, admin, store=store, skip_error_rows=True)
    assert {p.first_name for p in Participant.select()} == {"Cy", "Di"}


def test_a_fix_checks_the_row_again_and_is_applied_at_completion(preview, admin, store):
    upload = preview(FILE)
    error = next(k for k, v in kinds(upload).items() if v["severity"] == "error")

    row = review.fix_row(upload, admin, 2, {"Email": "ann@mail"})  # still not an email: still an error
    assert row.action == "error" and row.fixes is None
    row = review.fix_row(upload, admin, 2, {"Email": "ann.lee@", "First Name": "Anne"})
    assert row.action == "error" and row.fixes == {"Email": "ann.lee@", "First Name": "Anne"}
    assert row.values["Email"] == "ann@mail"  # the file's cell, kept beside the fix

    row = review.fix_row(upload, admin, 2, {"Email": "ann@mail.org"})
    assert row.action == "create" and row.display_name == "Anne Lee" and not row.has_error
    assert row.plan["fields"]["email"] == "ann@mail.org"
    fresh = Upload.get_by_id(upload.id)
    assert (fresh.created_count, fresh.error_count) == (4, 0) and error not in kinds(upload)
    assert review.tally(fresh).fixed == 1

    done = complete_import(fresh, admin, store=store)
    ann = Participant.get(Participant.last_name == "Lee")
    assert (ann.first_name, ann.email) == ("Anne", "ann@mail.org") and done.fixed_count == 1
    assert UploadRow.get(UploadRow.upload == upload, UploadRow.row_number == 2).fixes is None  # destroyed
    fixes = [e.details for e in AuditEvent.select().where(AuditEvent.action == "row_fixed")]
    assert len(fixes) == 3 and "ann" not in str(fixes).lower()


def test_a_fix_is_matched_against_the_other_rows_of_the_file(preview, admin):
    upload = preview(FILE)
    row = review.fix_row(upload, admin, 2, {"Email": "DI@mail.org"})
    assert row.action == "error" and "also on row 5" in row.issues[-1]["message"]
    review.decide_rows(upload, admin, EXCLUDE, UploadRow.row_number == 5)
    row = review.fix_row(upload, admin, 2, {})  # checked again: row 5 is out of the import now
    assert row.action == "create"


def test_a_row_checked_again_names_the_other_row_of_its_participant_not_itself(preview, admin, store):
    # Rows 2 and 3 both update Ann: the preview refuses row 3 naming row 2, and so does row 3 checked again.
    complete_import(preview(csv("Ann,Lee,1980-01-02,ann@mail.org,00042,Hypertension")), admin, store=store)
    upload = preview(csv("Ann,Lee,1980-01-02,,00042,Hypertension", "Ann,Lee,1980-01-02,ann@mail.org,,Hypertension"))
    assert "This row and row 2 are the same participant" in UploadRow.get(upload=upload, row_number=3).issues[-1]["message"]
    row = review.fix_row(upload, admin, 3, {})
    assert row.action == "error" and "This row and row 2 are the same participant" in row.issues[-1]["message"]


def test_a_fix_that_names_an_existing_participant_becomes_an_update(preview, admin, store):
    complete_import(preview(csv("Ann,Lee,1980-01-02,ann@mail.org,,Hypertension")), admin, store=store)
    upload = preview(FILE)
    row = review.fix_row(upload, admin, 2, {"Email": "ann@mail.org"})
    assert row.action == "unchanged" and row.participant_id == Participant.get(Participant.first_name == "Ann").id


def test_decisions_on_a_stale_preview_or_a_decided_upload_are_refused(preview, admin, store):
    upload = preview(FILE)
    other = preview(csv("Eve,Ng,1990-01-01,eve@mail.org,,Hypertension"), filename="other.csv")
    complete_import(other, admin, store=store)  # participants changed since FILE was previewed
    for decide in (lambda: review.decide_rows(upload, admin, ACCEPT, UploadRow.row_number == 3),
                   lambda: review.fix_row(upload, admin, 2, {"Email": "ann@mail.org"})):
        with pytest.raises(ImportRefused) as refused:
            decide()
        assert refused.value.reason == "stale" and "Show results again" in refused.value.message
    assert review.tally(upload).revision == 0 and UploadRow.get(UploadRow.upload == upload, UploadRow.row_number == 2).fixes is None

    with pytest.raises(ImportRefused) as refused:
        review.decide_rows(other, admin, EXCLUDE, UploadRow.row_number == 2)
    assert refused.value.reason == "status"


def test_a_completion_from_an_older_confirmation_is_refused(preview, admin, store):
    upload = preview(FILE)
    seen = review.tally(upload).revision
    review.decide_rows(upload, admin, EXCLUDE, UploadRow.row_number == 5)  # another reviewer, meanwhile
    with pytest.raises(ImportRefused) as refused:
        complete_import(Upload.get_by_id(upload.id), admin, store=store, skip_error_rows=True, revision=seen)
    assert refused.value.reason == "review" and Participant.select().count() == 0
    done = complete_import(Upload.get_by_id(upload.id), admin, store=store, skip_error_rows=True, revision=seen + 1)
    assert (done.created_count, done.skipped_count, done.excluded_count) == (2, 1, 1)
