"""Identification systems: list, add, rename inline; MRN stays the default; isolation and role checks."""
from __future__ import annotations

import html

from app.models import AuditEvent, IdentificationSystem, Organization


def systems(org="Demo Clinic") -> list[str]:
    return [s.name for s in IdentificationSystem.for_org(Organization.by_name(org))]


def test_list_shows_mrn_as_the_default(client, url, login_as):
    login_as("admin")
    page = client.get(url("id_systems.index")).get_data(as_text=True)
    assert "MRN" in page and "Default" in page and "Add an identification system" in page


def test_add_and_rename_inline(client, url, login_as):
    token = login_as("admin")
    response = client.post(url("id_systems.add"), data={"name": "Medicaid ID", "csrf_token": token})
    assert response.status_code == 302 and "Medicaid ID" in systems()
    system = IdentificationSystem.get(IdentificationSystem.name == "Medicaid ID")
    form = client.get(url("id_systems.rename", system_id=system.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert form.startswith(f'<tr id="id-system-{system.id}"') and "<html" not in form and 'name="name"' in form
    row = client.post(url("id_systems.rename", system_id=system.id), data={"name": "State Medicaid ID"},
                      headers={"HX-Request": "true", "X-CSRFToken": token}).get_data(as_text=True)
    assert row.startswith(f'<tr id="id-system-{system.id}"') and "State Medicaid ID" in row and "<form" not in row
    assert AuditEvent.get(AuditEvent.action == "id_system_renamed").details == {"old": "Medicaid ID", "new": "State Medicaid ID"}
    assert AuditEvent.get(AuditEvent.action == "id_system_added").object_id == system.id


def test_rename_works_as_a_plain_page_too(client, url, login_as):
    token = login_as("admin")
    client.post(url("id_systems.add"), data={"name": "Chart", "csrf_token": token})
    system = IdentificationSystem.get(IdentificationSystem.name == "Chart")
    page = client.get(url("id_systems.rename", system_id=system.id)).get_data(as_text=True)
    assert "<html" in page and "Rename <bdi>Chart</bdi>" in page
    response = client.post(url("id_systems.rename", system_id=system.id), data={"name": "Chart No", "csrf_token": token})
    assert response.status_code == 302 and "Chart No" in systems()


def test_mrn_keeps_its_name_and_duplicates_are_refused(client, url, login_as):
    token = login_as("admin")
    mrn = IdentificationSystem.get((IdentificationSystem.name == "MRN")
                                   & (IdentificationSystem.organization == Organization.by_name("Demo Clinic")))
    assert url("id_systems.rename", system_id=mrn.id) not in client.get(url("id_systems.index")).get_data(as_text=True)
    response = client.post(url("id_systems.rename", system_id=mrn.id), data={"name": "Chart", "csrf_token": token})
    assert response.status_code == 422 and "keeps its name" in response.get_data(as_text=True)
    response = client.post(url("id_systems.add"), data={"name": "mrn", "csrf_token": token})
    assert response.status_code == 422 and "exists already" in html.unescape(response.get_data(as_text=True))
    assert systems() == ["MRN"]


def test_an_added_system_is_usable_by_an_import(client, url, login_as):
    token = login_as("admin")
    client.post(url("id_systems.add"), data={"name": "Medicaid ID", "csrf_token": token})
    import io

    from app.models import Upload

    csv = ("First Name,Last Name,Date of Birth,Patient ID,ID System,Group\n"
           "Ann,Lee,1980-01-02,0042,Medicaid ID,Diabetes Prevention\n")
    client.post(url("importable_files.upload"), data={"file": (io.BytesIO(csv.encode()), "p.csv"), "group": "0",
                                                       "csrf_token": token}, content_type="multipart/form-data")
    upload = Upload.select().order_by(Upload.id.desc()).get()
    assert upload.error_count == 0 and upload.created_count == 1


def test_non_admins_get_403_and_other_organizations_404(client, url, login_as):
    token = login_as("uploader")
    assert client.get(url("id_systems.index")).status_code == 403
    assert client.post(url("id_systems.add"), data={"name": "X", "csrf_token": token}).status_code == 403
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    token = login_as("other_admin")
    demo_mrn = IdentificationSystem.get(IdentificationSystem.organization == Organization.by_name("Demo Clinic"))
    assert client.get(url("id_systems.rename", system_id=demo_mrn.id)).status_code == 404
    assert "MRN" in systems("Other Clinic") and systems() == ["MRN"]
