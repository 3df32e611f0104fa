"""Review through real HTTP: decisions by kind, row and filter, a fix in place (htmx and the plain form),
the live counts' events, the confirmation's counts and revision, refusals, CSRF and other organizations."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from app.models import AuditEvent, Participant, Upload, UploadRow
from tests.importer.conftest import csv
from tests.web.test_importable_files import last_upload, post_file

# Row 2 an error (email), rows 3-4 a warning (no email and no Patient ID), row 5 clean.
FILE = csv("Ann,Lee,1980-01-02,ann@mail,,Hypertension",
           "Bo,Ray,1970-03-04,,,Hypertension",
           "Cy,Tan,1971-05-06,,,Hypertension",
           "Di,Wu,1972-07-08,di@mail.org,,Hypertension")


def htmx(token: str) -> dict:
    return {"HX-Request": "true", "X-CSRFToken": token}


def decide(client, url, token, upload, **form):
    return client.post(url("review.decide", upload_id=upload.id), data=form, headers=htmx(token))


def kind_of(upload: Upload, severity: str) -> str:
    return next(k["kind"] for k in upload.issue_summary if k["severity"] == severity)


def test_a_kind_decision_swaps_the_whole_results_with_their_counts(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, FILE)
    upload = last_upload()
    response = decide(client, url, token, upload, scope="kind", decision="accept", of_kind=kind_of(upload, "warning"))
    assert response.status_code == 200 and "HX-Trigger" not in response.headers  # the swap carries the counts
    page = response.get_data(as_text=True)
    assert page.startswith('<section id="results"') and "Accepted" in page
    assert 'data-count="left to review">0<' in page and 'data-count="warnings reviewed">2<' in page

    bar = client.get(url("review.part", upload_id=upload.id, part="bar"), headers=htmx(token)).get_data(as_text=True)
    assert bar.startswith('<div id="review-bar"') and 'hx-trigger="review-changed from:body"' in bar
    assert "Complete Import" not in bar  # an uploader reviews; an Importable files admin completes


def test_a_row_decision_returns_its_line_and_the_filter_decides_every_row_it_shows(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, FILE)
    upload = last_upload()
    line = decide(client, url, token, upload, scope="row", row="5", decision="exclude")
    assert line.get_data(as_text=True).startswith('<tr id="row-5"') and "Excluded" in line.get_data(as_text=True)
    assert "review-changed" in line.headers["HX-Trigger"]
    decide(client, url, token, upload, scope="filter", filter="errors", decision="exclude")
    assert {r.row_number for r in UploadRow.select().where(UploadRow.decision == "exclude")} == {2, 5}

    page = client.get(url("importable_files.complete", upload_id=upload.id)).get_data(as_text=True)
    confirm = re.sub(r"<(strong|bdi)>|</(strong|bdi)>", "", page)
    assert "2 participants will be created and 0 updated" in confirm
    assert "2 rows excluded by review" in confirm and "2 rows with warnings not yet reviewed" in confirm
    assert re.search(r'<input id="revision" name="revision" type="hidden" value="2">', page) and "Skip the" not in confirm

    decide(client, url, token, upload, scope="row", row="5", decision="reset")  # meanwhile, another tab
    stale = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "revision": "2"})
    assert stale.status_code == 409 and "The review changed since this confirmation" in stale.get_data(as_text=True)
    assert "3 participants will be created" in stale.get_data(as_text=True)  # counted again
    done = client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "revision": "3"})
    assert done.status_code == 302
    assert {p.first_name for p in Participant.select()} == {"Bo", "Cy", "Di"}


def test_a_fix_in_place_with_htmx_and_with_the_plain_form(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, FILE)
    upload = last_upload()
    email = upload.headers.index("Email")
    response = client.post(url("review.fix", upload_id=upload.id, row_number=2), data={f"cell-{email}": "ann@mail.org"},
                           headers=htmx(token))
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<section id="row-detail-2"') and "Checked again: the row will create" in fragment
    assert set(json.loads(response.headers["HX-Trigger"])) == {"review-changed", "row-changed-2"}
    assert "ann@mail" in fragment and 'value="ann@mail.org"' in fragment  # the file's cell and the fix

    line = client.get(url("review.line", upload_id=upload.id, row_number=2), headers=htmx(token)).get_data(as_text=True)
    assert "Fixed" in line and "Create" in line

    # Without JavaScript: the same form posts and comes back to the row's page.
    plain = client.post(url("review.fix", upload_id=upload.id, row_number=3),
                        data={"csrf_token": token, f"cell-{email}": "not-an-email"})
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/rows/3")
    page = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "still has 1 error" not in page and "not-an-email" in page and "is-invalid" in page
    assert Upload.get_by_id(upload.id).error_count == 1 and review_fixed_rows(upload) == {2, 3}
    assert all("ann" not in str(e.details) for e in AuditEvent.select())


def review_fixed_rows(upload) -> set[int]:
    return {r.row_number for r in UploadRow.select().where((UploadRow.upload == upload) & UploadRow.fixes.is_null(False))}


def test_a_decision_on_a_stale_preview_says_show_results_again(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, FILE)
    upload = last_upload()
    post_file(client, url, token, csv("Eve,Ng,1990-01-01,eve@mail.org,,Hypertension"), name="other.csv")
    client.post(url("importable_files.complete", upload_id=last_upload().id), data={"csrf_token": token})
    refused = decide(client, url, token, upload, scope="row", row="3", decision="accept")
    assert refused.status_code == 409 and refused.headers["HX-Retarget"] == "#review-alert"
    assert "Show results again" in refused.get_data(as_text=True)
    assert UploadRow.get(UploadRow.upload == upload, UploadRow.row_number == 3).decision is None


def test_review_needs_csrf_and_keeps_to_the_organization(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, FILE)
    upload = last_upload()
    no_token = client.post(url("review.decide", upload_id=upload.id), data={"scope": "row", "row": "3", "decision": "accept"})
    assert no_token.status_code == 400
    assert decide(client, url, token, upload, scope="everything", decision="accept").status_code == 400
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    other = login_as("other_admin")
    assert decide(client, url, other, upload, scope="row", row="3", decision="accept").status_code == 404
    assert client.post(url("review.fix", upload_id=upload.id, row_number=2), headers=htmx(other)).status_code == 404
    assert UploadRow.select().where(UploadRow.decision.is_null(False)).count() == 0


def test_times_show_in_the_organization_time_zone_with_utc_in_the_tooltip(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, FILE)
    upload = last_upload()
    utc = upload.uploaded_at.strftime("%Y-%m-%d %H:%M")
    page = client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)
    assert f'title="{utc} UTC">{utc} UTC</time>' in page  # UTC until the organization says otherwise
    refused = client.post(url("organization.settings"), data={"csrf_token": token, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 422
    client.post(url("organization.settings"), data={"csrf_token": token, "time_zone": "Asia/Kolkata"})
    page = client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)
    local = (upload.uploaded_at + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M")
    assert f'title="{utc} UTC">{local} IST</time>' in page
    assert AuditEvent.get(AuditEvent.action == "organization_updated").details == {"time_zone": "Asia/Kolkata"}
    audit_page = client.get(url("audit.index")).get_data(as_text=True)
    assert "Changed the organization&#39;s settings" in audit_page and "IST</time>" in audit_page


def test_the_issue_report_carries_the_fixes_and_names_each_column_once(client, url, login_as):
    token = login_as("uploader")
    post_file(client, url, token, FILE)
    upload = last_upload()
    client.post(url("review.fix", upload_id=upload.id, row_number=3),
                data={f"cell-{upload.headers.index('First Name')}": "Bob"}, headers=htmx(token))
    report = client.get(url("importable_files.issue_report", upload_id=upload.id, kind="csv")).data.decode("utf-8-sig")
    assert "3,Bob,Ray" in report and "Warning: Email is blank" in report and "Email: Email" not in report


def test_undo_import_shows_what_it_will_do_then_undoes_once(client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, csv("Di,Wu,1972-07-08,di@mail.org,,Hypertension", "Eve,Ng,1990-01-01,,,Hypertension"))
    upload = last_upload()
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    shown = client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)
    assert "Undo Import</a>" in shown
    page = client.get(url("importable_files.undo", upload_id=upload.id)).get_data(as_text=True)
    assert "2</strong> participants deleted" in page and "<bdi>Di Wu</bdi>" in page
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]+)"', page).group(1)
    Participant.update(status="invited").where(Participant.first_name == "Eve").execute()  # meanwhile
    refused = client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": token, "digest": digest})
    assert refused.status_code == 409 and "Show the undo again" in refused.get_data(as_text=True)
    assert "invited since the import" in refused.get_data(as_text=True)
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]+)"', refused.get_data(as_text=True)).group(1)
    done = client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": token, "digest": digest})
    assert done.status_code == 302 and Upload.get_by_id(upload.id).state.is_undone
    assert [p.first_name for p in Participant.select()] == ["Eve"]
    again = client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": token, "digest": digest})
    assert again.status_code == 409 and "already undone" in again.get_data(as_text=True)
    assert "Undone by <bdi>Ada Admin</bdi>" in client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)

    client.post(url("auth.sign_out"), data={"csrf_token": token})
    other = login_as("other_admin")
    assert client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": other}).status_code == 404
    client.post(url("auth.sign_out"), data={"csrf_token": other})
    login_as("uploader")
    assert client.get(url("importable_files.undo", upload_id=upload.id)).status_code == 403
