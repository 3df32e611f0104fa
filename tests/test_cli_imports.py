"""The imports commands drive the same engine as Importable Files: preview, show, complete, delete, sample file."""
from __future__ import annotations

import json

import pytest

from app.importer.lifecycle import COMPLETED, DELETED, PENDING
from app.models import Participant, Upload
from tests.importer.conftest import csv

GOOD = csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
           "Ann,Lee,01/02/1980,ann@mail.org,,Hypertension; Diabetes Prevention")
ONE_BAD_ROW = csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention",
                  "Bo,Ray,02/30/1980,,,Diabetes Prevention")
COUNT_KEYS = {"created", "updated", "unchanged", "errors", "warnings", "blank"}


@pytest.fixture
def write(tmp_path):
    """write(text, name) -> the path of a file holding `text`."""

    def run(text: str, name: str = "patients.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return run


@pytest.fixture
def imports(runner):
    """imports("preview", ...) runs `flask imports ...` and returns the click result."""
    return lambda *args: runner.invoke(args=["imports", *map(str, args)])


@pytest.fixture
def previewed(imports, write):
    """previewed(text) -> the id of a fresh preview of `text` in Demo Clinic."""

    def run(text: str) -> int:
        result = imports("preview", write(text), "--org", "Demo Clinic", "--json")
        assert result.exit_code in (0, 3), result.output  # 3: ready but for rows with errors
        return json.loads(result.output)["id"]

    return run


def test_preview_of_a_good_csv_prints_the_counts(imports, write):
    result = imports("preview", write(GOOD), "--org", "Demo Clinic")
    assert result.exit_code == 0, result.output
    upload = Upload.get()
    assert f"Upload {upload.id}: Pending" in result.output
    assert "Created 2, updated 0, unchanged 0, errors 0, warnings 0, blank 0" in result.output
    assert upload.uploaded_by.email == "admin@demo.example" and Participant.select().count() == 0


def test_preview_json_is_one_object_with_the_counts(imports, write):
    result = imports("preview", write(GOOD), "--org", "Demo Clinic", "--as", "uploader@demo.example", "--json")
    summary = json.loads(result.output)
    assert summary["status"] == PENDING and set(summary["counts"]) == COUNT_KEYS
    assert summary["counts"]["created"] == 2 and "failure_reason" not in summary
    assert Upload.get_by_id(summary["id"]).uploaded_by.email == "uploader@demo.example"


def test_a_large_file_previewed_by_the_cli_is_read_from_the_store_by_the_child(imports, write, monkeypatch):
    # As a worker reads it: the command hands its bytes over, and neither it nor the engine keeps them,
    # decrypts the stored file or reads its sheet; the row check child does.
    from app.importer import actions, check_process, reader
    from app.storage import FileStore

    text = csv(*(f"Ann{n},Lee,1980-01-02,ann{n}@mail.org,{n:05d},Diabetes Prevention" for n in range(40)))
    monkeypatch.setattr(actions, "KEPT_BYTES", 0)
    monkeypatch.setattr(check_process, "KEPT_BYTES", 0)
    for method in ("load", "pieces"):
        monkeypatch.setattr(FileStore, method, lambda *args: pytest.fail("the file was read in the command's process"))
    monkeypatch.setattr(reader, "build_sheet", lambda *args: pytest.fail("the sheet was read in the command's process"))
    result = imports("preview", write(text), "--org", "Demo Clinic", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["created"] == 40


def test_a_large_file_named_on_the_command_line_is_kept_a_segment_at_a_time(imports, write, monkeypatch, app):
    # A million-row CSV held whole was the largest thing in the preview's process: the command opens a
    # large file and the store reads it a segment at a time, hashing and encrypting each (three here).
    import hashlib
    from pathlib import Path

    from app import cli_imports, storage
    from app.factory import actions

    text = csv(*(f"Ann{n},Lee,1980-01-02,ann{n}@mail.org,{n:05d},Diabetes Prevention" for n in range(12)))
    monkeypatch.setattr(cli_imports, "KEPT_BYTES", 0)
    monkeypatch.setattr(storage, "SEGMENT_BYTES", len(text) // 3 + 1)
    monkeypatch.setattr(Path, "read_bytes", lambda *args: pytest.fail("the file was read whole"))
    result = imports("preview", write(text), "--org", "Demo Clinic", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["created"] == 12
    upload, data = Upload.get(), text.encode()
    assert (upload.sha256, upload.size_bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    with app.app_context():
        store = actions().store
        assert len(list(store.pieces(upload.stored_name, upload.sha256))) == 3
        assert store.load(upload.stored_name, upload.sha256) == data


def test_preview_lists_row_issues_without_cell_values(imports, write):
    result = imports("preview", write(ONE_BAD_ROW), "--org", "Demo Clinic")
    assert result.exit_code == 3  # Pending, but Complete Import would need --skip-error-rows
    assert "errors 1" in result.output and "row 3\tDate of Birth\terror\t" in result.output
    assert "Bo" not in result.output and "Ray" not in result.output


def test_preview_of_an_unreadable_file_fails_with_the_reason(imports, write):
    result = imports("preview", write("", "empty.csv"), "--org", "Demo Clinic", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["status"] == "failed" and summary["failure_reason"]
    assert Upload.get_by_id(summary["id"]).failure_reason == summary["failure_reason"]


def test_complete_refuses_a_file_with_errors_and_writes_nothing(imports, previewed):
    upload_id = previewed(ONE_BAD_ROW)
    result = imports("complete", upload_id)
    assert result.exit_code == 1 and "1 row has errors" in result.output
    assert Participant.select().count() == 0 and Upload.get_by_id(upload_id).status == PENDING


def test_complete_with_skip_error_rows_imports_the_other_rows(imports, previewed):
    upload_id = previewed(ONE_BAD_ROW)
    result = imports("complete", upload_id, "--skip-error-rows", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == COMPLETED
    assert [p.first_name for p in Participant.select()] == ["Ann"]
    assert Upload.get_by_id(upload_id).completed_by.email == "admin@demo.example"


def test_completing_twice_says_already_completed(imports, previewed):
    upload_id = previewed(GOOD)
    assert imports("complete", upload_id).exit_code == 0
    again = imports("complete", upload_id)
    assert again.exit_code == 1 and "already completed" in again.output
    assert Participant.select().count() == 2


def test_uploader_cannot_complete_import(imports, previewed):
    upload_id = previewed(GOOD)
    result = imports("complete", upload_id, "--as", "uploader@demo.example")
    assert result.exit_code == 1 and "not an Importable files admin" in result.output
    assert Participant.select().count() == 0 and Upload.get_by_id(upload_id).status == PENDING


def test_admin_of_another_org_cannot_complete_import(imports, previewed):
    upload_id = previewed(GOOD)
    result = imports("complete", upload_id, "--as", "admin@other.example")
    assert result.exit_code == 1 and "in Demo Clinic" in result.output
    assert Upload.get_by_id(upload_id).status == PENDING


def test_delete_marks_the_upload_deleted(imports, previewed):
    upload_id = previewed(GOOD)
    result = imports("delete", upload_id)
    assert result.exit_code == 0 and f"Upload {upload_id}: Deleted" in result.output
    upload = Upload.get_by_id(upload_id)
    assert upload.status == DELETED and upload.stored_name is None
    assert upload.rows.count() == 2 and all(row.values is None and row.display_name == "" for row in upload.rows)
    assert imports("delete", upload_id).exit_code == 1


def test_show_issues_json_lists_every_issue(imports, previewed):
    upload_id = previewed(csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention,x",
                              "Bo,Ray,02/30/1980,,,Diabetes Prevention,y",
                              header="First Name,Last Name,Date of Birth,Email,Patient ID,Group,Favourite"))
    result = imports("show", upload_id, "--issues", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    issues = summary["issues"]
    assert issues[0]["row"] is None and "Favourite" in issues[0]["message"]  # the unknown column, file-level first
    assert {"row": 3, "column": "Date of Birth", "severity": "error"}.items() <= issues[1].items()
    assert all(set(issue) == {"row", "column", "severity", "message"} for issue in issues)
    assert "issues" not in json.loads(imports("show", upload_id, "--json").output)


def test_sample_file_is_written_and_previews_cleanly(imports, tmp_path):
    directory = tmp_path / "new" / "dir"
    result = imports("sample-file", directory)
    assert result.exit_code == 0, result.output
    xlsx, csv_file = directory / "Patient Import Sample File.xlsx", directory / "Patient Import Sample File.csv"
    assert xlsx.stat().st_size > 0 and csv_file.stat().st_size > 0
    assert str(xlsx) in result.output and str(csv_file) in result.output

    preview = imports("preview", xlsx, "--org", "Demo Clinic", "--group", "Diabetes Prevention", "--json")
    counts = json.loads(preview.output)["counts"]
    assert counts["created"] == 2 and counts["errors"] == 0 and counts["warnings"] == 0


@pytest.mark.parametrize("args, message", [
    (["--org", "Nowhere Clinic"], 'No organization named "Nowhere Clinic"'),
    (["--org", "Demo Clinic", "--group", "Yoga"], 'No active group named "Yoga" in Demo Clinic'),
    (["--org", "Demo Clinic", "--as", "nobody@demo.example"], "No user with email nobody@demo.example"),
    (["--org", "Demo Clinic", "--as", "coach@demo.example"], "not an Importable files uploader or admin"),
])
def test_preview_names_what_is_unknown_or_not_allowed(imports, write, args, message):
    result = imports("preview", write(GOOD), *args)
    assert result.exit_code == 1 and message in result.output
    assert Upload.select().count() == 0


def test_show_of_an_unknown_upload_is_a_clear_error(imports):
    result = imports("show", 999999)
    assert result.exit_code == 1 and "No upload with id 999999" in result.output


UNKNOWN = "Frist Name,Fam,DOB,Group,SSN\nAnn,Lee,1980-01-02,Diabetes Prevention,999-12-3456\n"


def test_a_file_that_needs_mapping_says_so_in_its_json_and_exit_status(imports, write):
    result = imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--json")
    summary = json.loads(result.output)
    assert result.exit_code == 2 and summary["status"] == "needs_mapping" and summary["ready"] is False
    assert summary["columns"] == [
        {"header": "Frist Name", "field": "First Name", "how": "suggested"},
        {"header": "Fam", "field": None, "how": None}, {"header": "DOB", "field": "Date of Birth", "how": "synonym"},
        {"header": "Group", "field": "Group", "how": "exact"}, {"header": "SSN", "field": None, "how": None}]


def test_map_options_confirm_the_columns_and_save_the_mapping(imports, write):
    result = imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--json",
                     "--map", "Fam=Last Name", "--map", "Frist Name=first_name", "--save-mapping")
    summary = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert summary["status"] == "pending" and summary["ready"] and summary["counts"]["created"] == 1
    assert [c["how"] for c in summary["columns"]] == ["given"] * 5
    again = json.loads(imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--json").output)
    assert again["status"] == "pending" and [c["how"] for c in again["columns"]] == ["saved"] * 5


def test_a_map_option_naming_an_unknown_column_or_field_says_what_there_is(imports, write):
    bad_header = imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--map", "Surname=Last Name")
    assert bad_header.exit_code == 1 and 'no column "Surname"' in bad_header.output and '"Fam"' in bad_header.output
    bad_field = imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--map", "Fam=Maiden")
    assert bad_field.exit_code == 1 and 'no field "Maiden"' in bad_field.output and "Last Name" in bad_field.output


def test_map_options_must_name_every_guess(imports, write):
    result = imports("preview", write(UNKNOWN), "--org", "Demo Clinic", "--map", "Fam=Last Name")
    assert result.exit_code == 1 and 'Only guessed: "Frist Name"' in result.output


def test_show_rows_json_lists_every_row_with_its_participant_duplicates_and_decision(imports, previewed, demo_org):
    robert = Participant.create(organization=demo_org, first_name="Robert", last_name="Smith",
                                date_of_birth="1970-03-04", email="rob@mail.org", email_key="rob@mail.org")
    upload_id = previewed(csv("Bob,Smith,1970-04-03,,,Hypertension",
                              "Robert,Smith,1970-03-04,rob@mail.org,,Hypertension"))
    result = imports("show", upload_id, "--rows", "--json")
    rows = json.loads(result.output)["rows"]
    assert [(r["row"], r["action"], r["participant_id"], r["decision"]) for r in rows] == [
        (2, "create", None, None), (3, "update", robert.id, None)]
    duplicate = rows[0]["possible_duplicates"][0]
    assert duplicate["participant_id"] == robert.id and duplicate["score"] >= 0.5
    assert "first name a nickname of the other" in duplicate["reasons"] and rows[1]["possible_duplicates"] == []
    text = imports("show", upload_id, "--rows").output
    assert f"2\tcreate\t-\t{robert.id} (" in text


def test_undo_shows_what_it_will_do_and_with_yes_does_it(imports, previewed):
    upload_id = previewed(GOOD)
    assert imports("complete", upload_id).exit_code == 0
    asked = imports("undo", upload_id, "--json")
    assert json.loads(asked.output)["undo"]["deleted"] == 2 and Participant.select().count() == 2
    done = imports("undo", upload_id, "--yes", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["done"] is True and Participant.select().count() == 0
    again = imports("undo", upload_id, "--yes")
    assert again.exit_code == 1 and "already undone" in again.output
