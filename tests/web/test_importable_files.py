"""Importable Files through real HTTP: both roles, another organization, pages and fragments, CSRF."""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from app.models import AuditEvent, Group, Organization, Participant, Upload, UploadRow
from tests.conftest import sign_in
from tests.importer.conftest import csv

CORPUS = Path(__file__).resolve().parents[1] / "files" / "corpus" / "synthea-patients.csv"
GOOD = csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
           "Ann,Lee,01/02/1980,,,Hypertension")
WITH_ERROR = csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention", "Bo,Ray,02/30/1980,bo@mail.org,,Diabetes Prevention")


def post_file(client, url, token, content, name="patients.csv", htmx=False, group=0):
    data = content.encode() if isinstance(content, str) else content
    headers = {"HX-Request": "true", "X-CSRFToken": token} if htmx else {}
    form = {"file": (io.BytesIO(data), name), "group": str(group)}
    if not htmx:
        form["csrf_token"] = token
    return client.post(url("importable_files.upload"), data=form, headers=headers, content_type="multipart/form-data")


def last_upload():
    return Upload.select().order_by(Upload.id.desc()).get()


def test_page_has_the_seed_words_and_sample_links(client, url, login_as):
    login_as("uploader")
    page = client.get(url("importable_files.index")).get_data(as_text=True)
    for words in ("Select file from computer", "Upload and Preview", "Patient Import Sample File", "Previous uploads"):
        assert words in page
    assert 'class="btn btn-danger"' in page and 'class="btn btn-success w-100 text-nowrap"' in page


def test_sample_file_downloads_as_xlsx_with_two_tabs(client, url, login_as):
    login_as("uploader")
    response = client.get(url("importable_files.sample", kind="xlsx"))
    assert "Patient Import Sample File.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Patients", "Instructions"]


def test_htmx_upload_returns_the_panel_with_the_new_pending_upload_on_top(client, url, login_as):
    token = login_as("uploader")
    response = post_file(client, url, token, GOOD, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.startswith('<section id="upload-panel">')
    assert "<html" not in page and "patients.csv" in page and ">Pending</span>" in page
    assert "HX-Request" in response.headers["Vary"]
    assert last_upload().created_count == 2


def test_plain_upload_redirects_to_the_upload_page(client, url, login_as):
    token = login_as("uploader")
    response = post_file(client, url, token, GOOD)
    upload = last_upload()
    assert response.status_code == 302 and response.headers["Location"] == url("importable_files.show", upload_id=upload.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "Show results" in page and "Uma Uploader" in page


def test_upload_without_a_file_says_what_to_do(client, url, login_as):
    token = login_as("uploader")
    response = client.post(url("importable_files.upload"), data={"csrf_token": token, "group": "0"})
    assert response.status_code == 422 and "Choose a file to upload first." in response.get_data(as_text=True)


def test_unreadable_file_is_listed_as_failed_with_its_reason(client, url, login_as):
    token = login_as("uploader")
    page = post_file(client, url, token, b"%PDF-1.4\x00\x01\x02binary", name="list.csv", htmx=True).get_data(as_text=True)
    assert ">Failed</span>" in page and last_upload().status == "failed"


def test_oversized_upload_gets_a_friendly_413(app, client, url, login_as):
    token = login_as("uploader")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = post_file(client, url, token, "x" * 5000)
    assert response.status_code == 413 and "larger than 20 MB" in response.get_data(as_text=True)


def test_upload_without_csrf_token_is_refused(client, url, login_as):
    login_as("uploader")
    response = client.post(url("importable_files.upload"), data={"file": (io.BytesIO(GOOD.encode()), "p.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and Upload.select().count() == 0


def test_results_page_and_fragment_show_counts_names_and_issues(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, WITH_ERROR)
    upload = last_upload()
    full = client.get(url("importable_files.results", upload_id=upload.id)).get_data(as_text=True)
    assert "<html" in full and 'id="results"' in full
    fragment = client.get(url("importable_files.results", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="results"') and "<html" not in fragment
    assert "will be created" in fragment and "Ann Lee" in fragment
    assert "02/30/1980" in fragment and "column Date of Birth" in fragment
    assert "Complete Import" not in fragment  # the uploader does not see it
    errors_only = client.get(url("importable_files.results", upload_id=upload.id, filter="errors")).get_data(as_text=True)
    assert "Bo Ray" in errors_only and "Ann Lee" not in errors_only
    assert AuditEvent.select().where(AuditEvent.action == "preview_viewed").count() == 3


def test_each_result_row_links_to_its_own_detail_and_line_and_posts_the_session_token(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, WITH_ERROR)
    upload = last_upload()
    fragment = client.get(url("importable_files.results", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    for row in (2, 3):  # the URLs a page builds once and fills with each row's number (rendering.url_pattern)
        assert f'data-detail-url="{url("importable_files.row_detail", upload_id=upload.id, row_number=row)}"' in fragment
        assert f'hx-get="{url("review.line", upload_id=upload.id, row_number=row)}"' in fragment
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', fragment)
    assert len(tokens) >= 3 and len(set(tokens)) == 1  # the filter's form and each row's


@pytest.mark.parametrize("varying", [0, 7, 2026, 987654321, 9876543210])
def test_a_url_pattern_gives_what_url_for_gives(app, varying):
    from flask import url_for

    from app.web.rendering import url_pattern

    with app.test_request_context():
        for upload_id in (1, 987654321):
            pattern = url_pattern("importable_files.row_detail", "row_number", upload_id=upload_id)
            assert pattern(varying) == url_for("importable_files.row_detail", upload_id=upload_id, row_number=varying)


def test_uploader_cannot_complete_or_delete(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    assert client.get(url("importable_files.complete", upload_id=upload.id)).status_code == 403
    assert client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token}).status_code == 403
    assert client.post(url("importable_files.delete", upload_id=upload.id), data={"csrf_token": token}).status_code == 403
    assert Participant.select().count() == 0 and last_upload().status == "pending"


def test_admin_completes_and_group_lists_participants_as_not_invited(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    confirm = client.get(url("importable_files.complete", upload_id=upload.id)).get_data(as_text=True)
    assert "2 participants will be created and 0 updated in <bdi>Demo Clinic</bdi>" in confirm
    response = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ">Completed</span>" in page and "2 created, 0 updated" in page
    for name in ("Diabetes Prevention", "Hypertension"):
        group_id = Group.get(Group.name == name, Group.organization == upload.organization).id
        assert f'href="{url("groups.show", group_id=group_id)}"><bdi>{name}</bdi></a>' in page
    group = Group.get(Group.name == "Diabetes Prevention", Group.organization == upload.organization)
    listing = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "<bdi>García</bdi>, <bdi>José</bdi>" in listing and "Not invited" in listing
    again = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert again.status_code == 409 and "already completed" in again.get_data(as_text=True)
    assert Participant.select().count() == 2


def test_errors_refuse_completion_until_the_admin_skips_them(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, WITH_ERROR)
    upload = last_upload()
    refused = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert refused.status_code == 409 and "1 row has errors" in refused.get_data(as_text=True)
    assert "Skip the row with errors (it will not be imported)" in refused.get_data(as_text=True)
    done = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "skip_error_rows": "y"})
    assert done.status_code == 302 and Participant.select().count() == 1
    assert "1 row with errors skipped" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_stale_preview_is_refused_with_show_results_again(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    Participant.create(organization=upload.organization, first_name="New", last_name="Person")
    refused = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert refused.status_code == 409 and "Show results again" in refused.get_data(as_text=True)
    client.post(url("importable_files.refresh", upload_id=upload.id), data={"csrf_token": token})
    done = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert done.status_code == 302 and Participant.select().count() == 3


def test_delete_keeps_the_history_as_deleted(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    response = client.post(url("importable_files.delete", upload_id=upload.id), data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get(url("importable_files.index")).get_data(as_text=True)
    assert ">Deleted</span>" in page and "patients.csv" in page


FORMULA_LIKE = csv("=HYPERLINK(1),Lee,02/30/1980,,,Diabetes Prevention",
                   "+Bo,-Ray,1980-02-03,@bo@mail.org,,Diabetes Prevention", header="First Name,Last Name,Date of Birth,Email,Note,Group")


def _imported_values(upload):
    return [row.values for row in UploadRow.select().where(UploadRow.upload == upload).order_by(UploadRow.row_number)]


def test_issue_reports_run_no_formula_and_give_back_the_values_when_uploaded_again(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, FORMULA_LIKE.replace(",,,Diabetes", ",,- call after 5,Diabetes"))
    original = last_upload()
    values = _imported_values(original)
    assert values[0] == {"First Name": "=HYPERLINK(1)", "Last Name": "Lee", "Date of Birth": "02/30/1980",
                         "Note": "- call after 5", "Group": "Diabetes Prevention"}
    csv_report = client.get(url("importable_files.issue_report", upload_id=original.id, kind="csv")).data
    assert "'=HYPERLINK(1)" in csv_report.decode("utf-8-sig") and "'- call after 5" in csv_report.decode("utf-8-sig")
    xlsx_report = client.get(url("importable_files.issue_report", upload_id=original.id, kind="xlsx")).data
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_report)).active
    first = sheet.cell(row=2, column=2)
    assert (first.value, first.data_type) == ("=HYPERLINK(1)", "s")  # text, not a formula, and no guard
    with_issues = [v for v, row in zip(values, UploadRow.select().where(UploadRow.upload == original)
                                       .order_by(UploadRow.row_number), strict=True) if row.issues]
    for name, report in (("issues.csv", csv_report), ("issues.xlsx", xlsx_report)):
        post_file(client, url, token, report, name=name)  # the same list fixed: it replaces the one before
        assert _imported_values(last_upload()) == with_issues, name


@pytest.mark.parametrize("endpoint", ["show", "results", "complete", "delete"])
def test_another_organizations_upload_answers_404(client, url, login_as, endpoint):
    token = login_as("uploader")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    sign_in(client, "admin@other.example")
    assert client.get(url(f"importable_files.{endpoint}", upload_id=upload.id)).status_code == 404


def test_synthea_walkthrough(client, url, login_as, app):
    token = login_as("uploader")
    group = Group.get(Group.name == "Diabetes Prevention", Group.organization == Organization.by_name("Demo Clinic"))
    post_file(client, url, token, CORPUS.read_bytes(), name="synthea-patients.csv", group=group.id)
    upload = last_upload()
    assert upload.status == "pending" and upload.created_count == 543
    assert "543" in client.get(url("importable_files.results", upload_id=upload.id)).get_data(as_text=True)
    assert client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token}).status_code == 403
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    admin_token = login_as("admin")
    assert client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": admin_token}).status_code == 302
    assert "Not invited" in client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    post_file(client, url, admin_token, CORPUS.read_bytes(), name="synthea-patients.csv", group=group.id)
    again = last_upload()
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 543)


@pytest.mark.parametrize("endpoint,root", [
    ("importable_files.index", '<section id="upload-panel">'),
    ("importable_files.show", '<section id="upload-status"'),
    ("importable_files.results", '<section id="results"'),
])
def test_dual_views_serve_a_page_or_their_fragment(client, url, login_as, endpoint, root):
    token = login_as("uploader")
    post_file(client, url, token, WITH_ERROR)
    values = {} if endpoint.endswith("index") else {"upload_id": last_upload().id}
    page = client.get(url(endpoint, **values)).get_data(as_text=True)
    assert page.startswith("<!doctype html>") and root in page and "Sign out" in page
    fragment = client.get(url(endpoint, **values), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith(root) and "<html" not in fragment and "Sign out" not in fragment
    boosted = client.get(url(endpoint, **values), headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.get_data(as_text=True).startswith("<!doctype html>")


DETAILED = ("First Name,Last Name,DOB,Cell,Group,Primary Coach,SSN,Passport\n"
            "Ann,Lee,01/02/1980,(617) 555-0101,diabetes prevention,coach@demo.example,999-12-3456,X1234567\n"
            "Bo,Ray,02/30/1980,617-555-0102,Hypertension,,999-65-4321,X7654321\n")


def _row_detail(client, url, upload, row_number):
    return client.get(url("importable_files.row_detail", upload_id=upload.id, row_number=row_number),
                      headers={"HX-Request": "true"}).get_data(as_text=True)


def test_row_detail_shows_each_imported_field_as_written_and_as_it_will_be_saved(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, DETAILED)
    upload = last_upload()
    fragment = _row_detail(client, url, upload, 2)
    assert fragment.startswith('<section id="row-detail-2"') and "Row 2: what will be saved" in fragment
    cells = re.findall(r"<tr(?: class=\"[^\"]*\")?><th scope=\"row\">([^<]+)</th><td[^>]*>([^<]+)</td>\s*<td><bdi>([^<]+)</bdi></td>"
                       r"\s*(?:<td>(?:<input[^>]*>)?</td>)?\s*<td><bdi>([^<]+)</bdi></td>", fragment)
    assert cells == [
        ("First Name", "First Name", "Ann", "Ann"),
        ("Last Name", "Last Name", "Lee", "Lee"),
        ("Date of Birth", "DOB", "01/02/1980", "1980-01-02"),
        ("Mobile Phone", "Cell", "(617) 555-0101", "+16175550101"),
        ("Group", "Group", "diabetes prevention", "Diabetes Prevention"),
        ("Primary Coach", "Primary Coach", "coach@demo.example", "coach@demo.example"),
        ("Country", "—", "—", "US"),  # the organization's country, set on a created participant
    ]
    assert "999-12-3456" not in fragment and "X1234567" not in fragment and "SSN" not in fragment
    error_row = _row_detail(client, url, upload, 3)
    assert "02/30/1980" in error_row and "not imported" in error_row and "This row is not imported" in error_row
    page = client.get(url("importable_files.row_detail", upload_id=upload.id, row_number=2)).get_data(as_text=True)
    assert "<html" in page and "Back to the results" in page
    assert client.get(url("importable_files.row_detail", upload_id=upload.id, row_number=99)).status_code == 404


def test_a_completed_upload_links_its_rows_to_their_participants_and_shows_no_values(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, DETAILED)
    upload = last_upload()
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "skip_error_rows": "y"})
    ann = Participant.get(Participant.first_name == "Ann")
    ann.first_name = "Annie"  # renamed since: the history shows the current name
    ann.save()
    results = client.get(url("importable_files.results", upload_id=upload.id)).get_data(as_text=True)
    link = url("participants.show", participant_id=ann.id)
    assert f'<a href="{link}"><bdi>Annie Lee</bdi></a>' in results and "Bo Ray" not in results
    assert "02/30/1980" not in results and "Error</strong> · <span class=\"text-body-secondary\">column DOB" in results
    assert "Download issue report" not in results
    detail = _row_detail(client, url, upload, 2)
    assert f'<a href="{link}"><bdi>Annie Lee</bdi></a>' in detail and "were destroyed when the upload was completed" in detail
    assert "(617) 555-0101" not in detail
    person = client.get(link).get_data(as_text=True)
    assert "+16175550101" in person and "Diabetes Prevention" in person and "row 2" in person


def test_show_results_again_with_a_lost_file_marks_the_upload_failed(app, client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, GOOD)
    upload = last_upload()
    (app.config["ROSTER"].UPLOAD_DIR / upload.stored_name).unlink()
    response = client.post(url("importable_files.refresh", upload_id=upload.id), data={"csrf_token": token})
    assert response.status_code == 302 and last_upload().status == "failed"
    assert "cannot be read" in last_upload().failure_reason


def test_issue_report_leaves_out_a_column_roster_does_not_import_even_a_formula_header(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, "First Name,Last Name,Date of Birth,Group,=cmd|x\nAnn,Lee,02/30/1980,Diabetes Prevention,1\n")
    report = client.get(url("importable_files.issue_report", upload_id=last_upload().id, kind="csv")).data.decode("utf-8-sig")
    assert report.splitlines()[0] == "Row,First Name,Last Name,Date of Birth,Group,Issues"


def test_control_characters_and_bidi_overrides_in_cells_are_removed_with_a_warning(client, url, login_as):
    token = login_as("admin")
    filler = [f"P{n},Lee,1980-01-02,p{n}@mail.org,,Diabetes Prevention" for n in range(1500)]  # past the 64 kB sniff
    content = csv(*filler, "Ann\x07,Le\x0be,1980-01-02,ann@mail.org,,Diabetes Prevention",
                  "Bo\x00b,Ray,1980-01-03,bo@mail.org,,Diabetes Prevention",
                  "\u202eyeL,Cy,1980-01-04,cy@mail.org,,Diabetes Prevention")
    assert content.index("\x00") > 65536
    post_file(client, url, token, content)
    upload = last_upload()
    assert upload.state.is_pending and upload.error_count == 0, upload.failure_reason
    issues = {row.row_number: [(i["column"], i["message"]) for i in row.issues]
              for row in UploadRow.select().where(UploadRow.upload == upload, UploadRow.issues.is_null(False))}
    assert issues[1502][0] == ("First Name", 'First Name "Ann": Roster removed U+0007 (a control character), '
                                             "which cannot be shown or stored. Check the value.")
    assert issues[1502][1][0] == "Last Name" and issues[1503][0][0] == "First Name"
    assert "U+202E (right-to-left override)" in issues[1504][0][1]
    for kind in ("csv", "xlsx"):
        report = client.get(url("importable_files.issue_report", upload_id=upload.id, kind=kind))
        assert report.status_code == 200
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    names = {p.email: (p.first_name, p.last_name) for p in Participant.select()}
    assert names["ann@mail.org"] == ("Ann", "Lee") and names["bo@mail.org"] == ("Bob", "Ray")
    assert names["cy@mail.org"] == ("yeL", "Cy")


def test_show_results_starts_with_the_issues_by_kind_each_a_filter_that_pages(client, url, login_as):
    token = login_as("uploader")
    rows = [f"P{n},Lee,1980-01-02,,,Diabetes Prevention" for n in range(55)]  # 55 rows: Email blank
    rows += ["Bo,Ray,02/30/1980,bo@mail.org,,Diabetes Prevention"]  # 1 row: Date of Birth not a real date
    post_file(client, url, token, csv(*rows))
    upload = last_upload()
    assert [(k["kind"], k["rows"], k["label"]) for k in upload.issue_summary] == [
        ("date_of_birth:not a real date", 1, "Date of Birth not a real date"), ("email:blank", 55, "Email blank")]
    page = client.get(url("importable_files.results", upload_id=upload.id)).get_data(as_text=True)
    assert "1 row: Date of Birth not a real date" in page and "55 rows: Email blank" in page
    assert "1</span> error</dd>" in page and "55</span> warnings</dd>" in page  # plurals right
    only = client.get(url("importable_files.results", upload_id=upload.id, kind="email:blank", page=2),
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Page 2 of 2 · 55 rows" in only and 'kind=email:blank&amp;page=1' in only
    assert client.get(url("importable_files.results", upload_id=upload.id, kind="nonsense")).status_code == 200


def test_a_new_upload_of_the_same_list_replaces_the_older_pending_one_and_the_same_file_is_named(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, WITH_ERROR, name="clinic-list.csv")
    older = last_upload()
    path = older.stored_name
    post_file(client, url, token, GOOD, name="clinic-list.csv")
    newer = last_upload()
    replaced = Upload.get_by_id(older.id)
    assert replaced.state.is_replaced and replaced.replaced_by_id == newer.id and replaced.stored_name is None
    assert all(row.values is None for row in UploadRow.select().where(UploadRow.upload == older)) and path
    assert AuditEvent.get(AuditEvent.action == "replace_upload").details == {"replaced_by": newer.id, "by": "file name"}
    old_page = client.get(url("importable_files.show", upload_id=older.id)).get_data(as_text=True)
    assert ">Replaced</span>" in old_page and f"upload {newer.id}</a>, a newer upload of the same list" in old_page
    new_page = client.get(url("importable_files.show", upload_id=newer.id)).get_data(as_text=True)
    assert "Replaces <a" in new_page and "An Importable files admin of your organization completes" in new_page
    post_file(client, url, token, GOOD, name="same-content.csv")
    same = client.get(url("importable_files.show", upload_id=last_upload().id)).get_data(as_text=True)
    assert f"This is the same file as <a href=\"{url('importable_files.show', upload_id=newer.id)}\">upload {newer.id}</a>" in same
    # Another name, the same columns and the same people: the same list again, so it replaces that one too.
    assert Upload.get_by_id(newer.id).replaced_by_id == last_upload().id


def test_the_same_people_written_in_capitals_are_the_same_list(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, csv("Kim,Park,1975-03-04,,,Hypertension", "Ann,Lee,01/02/1980,,,Hypertension"), name="north.csv")
    north = last_upload()
    post_file(client, url, token, csv("KIM,PARK,1975-03-04,,,Hypertension", "ANN,LEE,01/02/1980,,,Hypertension"), name="NORTH-2.csv")
    assert Upload.get_by_id(north.id).replaced_by_id == last_upload().id


def test_the_same_columns_with_other_people_replace_nothing(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, GOOD, name="north.csv")
    north = last_upload()
    post_file(client, url, token, csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
                                      "Kim,Park,1975-03-04,,,Hypertension"), name="south.csv")  # 1 of 2 the same
    assert Upload.get_by_id(north.id).state.is_pending
    post_file(client, url, token, csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
                                      "ann,LEE,01/02/1980,,,Hypertension", "Kim,Park,1975-03-04,,,Hypertension",
                                      "Lu,Chen,1975-03-04,,,Hypertension", "Mo,Diaz,1975-03-04,,,Hypertension"),
              name="east.csv")  # north's 2 people in 5: not mostly the same either way
    assert Upload.get_by_id(north.id).state.is_pending
