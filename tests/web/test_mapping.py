"""The mapping step through the app: a guess stops the upload, a person confirms, the mapping is saved
and used for the next file with the same columns (SPEC 10)."""
from __future__ import annotations

import html

from app.models import AuditEvent, SavedMapping, Upload, UploadRow
from tests.web.test_importable_files import last_upload, post_file

TYPOS = ("Frist Name,Lsat Name,DOB,Group,SSN\n"
         "Ann,Lee,1980-01-02,Diabetes Prevention,999-12-3456\n"
         "Bo,Ray,1975-11-30,Diabetes Prevention,999-65-4321\n")


def _confirm(client, url, token, upload, fields):
    data = {"csrf_token": token, **{f"field-{n}": field for n, field in enumerate(fields)}}
    return client.post(url("importable_files.mapping", upload_id=upload.id), data=data)


def test_a_guessed_column_waits_for_a_person_who_confirms_it_and_the_next_file_maps_at_once(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, TYPOS)
    upload = last_upload()
    assert upload.state.needs_mapping and upload.row_count is None
    assert [(e["header"], e["field"], e["how"]) for e in upload.mapping] == [
        ("Frist Name", "first_name", "suggested"), ("Lsat Name", "last_name", "suggested"),
        ("DOB", "date_of_birth", "synonym"), ("Group", "group", "exact"), ("SSN", None, None)]
    status = client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)
    assert ">Needs mapping</span>" in status and "Map the columns" in status
    page = client.get(url("importable_files.mapping", upload_id=upload.id)).get_data(as_text=True)
    assert "<div><bdi>Ann</bdi></div><div><bdi>Bo</bdi></div>" in page and "a guess: check it" in page
    assert '<option value="first_name" selected>First Name (required)</option>' in page

    twice = _confirm(client, url, token, upload, ["first_name", "first_name", "date_of_birth", "group", ""])
    assert twice.status_code == 409
    assert 'Columns "Frist Name" and "Lsat Name" are both set to First Name' in html.unescape(twice.get_data(as_text=True))
    assert Upload.get_by_id(upload.id).state.needs_mapping and SavedMapping.select().count() == 0

    done = _confirm(client, url, token, upload, ["first_name", "last_name", "date_of_birth", "group", ""])
    assert done.status_code == 302 and done.headers["Location"].endswith(url("importable_files.results", upload_id=upload.id))
    previewed = Upload.get_by_id(upload.id)
    assert previewed.state.is_pending and previewed.created_count == 2
    assert [e["how"] for e in previewed.mapping] == ["given"] * 5
    assert AuditEvent.get(AuditEvent.action == "mapping_saved").details == {"columns": 5, "left_out": 1}

    post_file(client, url, token, TYPOS.replace("Ann,Lee", "Cy,Park"))
    again = last_upload()
    assert again.state.is_pending and again.created_count == 2
    assert [e["how"] for e in again.mapping] == ["saved"] * 5
    results = client.get(url("importable_files.results", upload_id=again.id)).get_data(as_text=True)
    assert "4 imported, 1 left out, by the mapping saved" in results and "Change mapping" in results
    assert AuditEvent.select().where(AuditEvent.action == "mapping_used").count() == 1


def test_change_mapping_previews_a_pending_upload_again_with_the_new_choice(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, "First Name,Last Name,Date of Birth,Group,Notes\nAnn,Lee,1980-01-02,Diabetes Prevention,hi\n")
    upload = last_upload()
    assert upload.state.is_pending and upload.mapping[-1]["field"] == "note"
    _confirm(client, url, token, upload, ["first_name", "last_name", "date_of_birth", "group", ""])
    changed = Upload.get_by_id(upload.id)
    assert changed.state.is_pending and changed.mapping[-1]["field"] is None
    assert changed.headers == ["First Name", "Last Name", "Date of Birth", "Group"]


def test_organization_admins_see_and_delete_saved_mappings(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, TYPOS)
    _confirm(client, url, token, last_upload(), ["first_name", "last_name", "date_of_birth", "group", ""])
    listing = client.get(url("importable_files.saved_mappings")).get_data(as_text=True)
    assert "<bdi>Frist Name</bdi> → First Name" in listing and "<bdi>SSN</bdi> → Leave out" in listing
    saved = SavedMapping.get()
    client.post(url("importable_files.delete_saved_mapping", mapping_id=saved.id), data={"csrf_token": token})
    assert SavedMapping.select().count() == 0 and AuditEvent.get(AuditEvent.action == "mapping_deleted")
    post_file(client, url, token, TYPOS)
    assert last_upload().state.needs_mapping  # mapped afresh


def test_a_day_first_column_is_read_day_first_and_the_mapping_page_can_say_otherwise(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, "First Name,Last Name,Date of Birth,Group\nAnn,Lee,25/12/1980,Diabetes Prevention\n"
                                  "Bo,Ray,03/04/1975,Diabetes Prevention\nCy,Park,14/02/1990,Diabetes Prevention\n")
    upload = last_upload()
    assert upload.state.is_pending and upload.error_count == 0
    assert any("is read as DD/MM/YYYY" in issue["message"] for issue in upload.file_issues)
    rows = {r.row_number: r.plan["fields"]["date_of_birth"] for r in UploadRow.select().where(UploadRow.upload == upload)}
    assert rows == {2: "1980-12-25", 3: "1975-04-03", 4: "1990-02-14"}
    data = {"csrf_token": token, "date-order": "MDY",
            **{f"field-{n}": f for n, f in enumerate(["first_name", "last_name", "date_of_birth", "group"])}}
    client.post(url("importable_files.mapping", upload_id=upload.id), data=data)
    again = Upload.get_by_id(upload.id)
    assert again.error_count == 2  # 25/12 and 14/02 are no month/day dates


def test_a_field_that_is_not_roster_s_is_refused_and_nothing_of_the_column_is_kept(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, TYPOS)
    upload = last_upload()
    refused = _confirm(client, url, token, upload, ["first_name", "last_name", "date_of_birth", "group", "id"])
    assert refused.status_code == 409 and "is not a field Roster imports" in html.unescape(refused.get_data(as_text=True))
    assert Upload.get_by_id(upload.id).state.needs_mapping and SavedMapping.select().count() == 0


def test_examples_stay_under_their_column_when_a_header_is_blank(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, ",Frist Name,Lsat Name,DOB,Group\n1,Ann,Lee,1980-01-02,Diabetes Prevention\n")
    page = client.get(url("importable_files.mapping", upload_id=last_upload().id)).get_data(as_text=True)
    frist = page[page.index("<bdi>Frist Name</bdi>"):page.index("<bdi>Lsat Name</bdi>")]
    assert "<div><bdi>Ann</bdi></div>" in frist and "<bdi>1</bdi>" not in frist


def test_two_columns_with_one_header_are_mapped_each_its_own_way(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, "First Name,Last Name,DOB,Group,Phone,Phone\n"
                                  "Ann,Lee,1980-01-02,Diabetes Prevention,617-555-0101,617-555-0102\n")
    upload = last_upload()
    assert upload.state.needs_mapping  # the second Phone is only a guess
    _confirm(client, url, token, upload, ["first_name", "last_name", "date_of_birth", "group", "", "home_phone"])
    done = Upload.get_by_id(upload.id)
    assert done.state.is_pending
    plan = UploadRow.get(UploadRow.upload == upload).plan["fields"]
    assert plan["home_phone"] == "+16175550102" and "mobile_phone" not in plan
    detail = client.get(url("importable_files.row_detail", upload_id=upload.id, row_number=2)).get_data(as_text=True)
    assert "Home Phone" in detail and "Mobile Phone" not in detail  # the detail follows the person's mapping


def test_a_saved_mapping_keeps_the_day_and_month_order_chosen_with_it(client, url, login_as):
    token = login_as("uploader")
    content = "Frist Name,Lsat Name,DOB,Group\nAnn,Lee,05/06/1980,Diabetes Prevention\n"
    post_file(client, url, token, content)
    data = {"csrf_token": token, "date-order": "DMY",
            **{f"field-{n}": f for n, f in enumerate(["first_name", "last_name", "date_of_birth", "group"])}}
    client.post(url("importable_files.mapping", upload_id=last_upload().id), data=data)
    post_file(client, url, token, content.replace("Ann", "Bo"))
    again = last_upload()
    assert again.state.is_pending
    assert UploadRow.get(UploadRow.upload == again).plan["fields"]["date_of_birth"] == "1980-06-05"


def test_the_mapping_page_of_a_file_it_cannot_read_whole_still_shows(app, client, url, login_as, monkeypatch):
    token = login_as("uploader")
    post_file(client, url, token, TYPOS)
    upload = last_upload()
    monkeypatch.setattr(app.config["ROSTER"], "MAX_ROWS", 1)  # the file now has more rows than allowed
    page = client.get(url("importable_files.mapping", upload_id=upload.id))
    assert page.status_code == 200 and "Frist Name" in page.get_data(as_text=True)


def test_show_results_again_does_not_skip_the_mapping_step(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, TYPOS)
    upload = last_upload()
    client.post(url("importable_files.refresh", upload_id=upload.id), data={"csrf_token": token})
    assert Upload.get_by_id(upload.id).state.needs_mapping
