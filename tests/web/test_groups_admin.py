"""Managing groups: create, rename, archive and restore, delete an empty one, the care team; role checks."""
from __future__ import annotations

import html
import io

import pytest

from app.models import AuditEvent, Group, GroupCoach, Organization, Participant, ParticipantGroup, User


def demo_group(name="Diabetes Prevention") -> Group:
    return Group.get((Group.name == name) & (Group.organization == Organization.by_name("Demo Clinic")))


def other_group() -> Group:
    return Group.get(Group.organization == Organization.by_name("Other Clinic"))


def add_participant(group: Group, first="Ann", last="Lee", email=None) -> Participant:
    person = Participant.create(organization=group.organization, first_name=first, last_name=last, email=email,
                                email_key=email.lower() if email else None)
    ParticipantGroup.create(participant=person, group=group)
    return person


def test_org_admin_sees_new_group_in_the_grey_menu(client, url, login_as):
    login_as("admin")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert 'class="btn btn-secondary dropdown-toggle"' in page
    assert f'href="{url("groups.new")}">New group</a>' in page
    assert f'href="{url("importable_files.index")}">Importable Files</a>' in page


def test_an_org_admin_without_import_roles_sees_only_new_group(client, url, login_as):
    token = login_as("admin")
    client.post(url("users.roles", user_id=User.by_email("coach@demo.example").id),
                data={"roles": ["org_admin"], "csrf_token": token})
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    from tests.conftest import sign_in

    sign_in(client, "coach@demo.example")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert "New group" in page and "Importable Files" not in page


def test_uploader_sees_no_new_group_and_gets_403(client, url, login_as):
    token = login_as("uploader")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert "New group" not in page and "Importable Files" in page
    assert client.get(url("groups.new")).status_code == 403
    response = client.post(url("groups.new"), data={"name": "Sneaky", "csrf_token": token})
    assert response.status_code == 403 and not Group.select().where(Group.name == "Sneaky").exists()


def test_coach_sees_no_actions_menu_and_no_rename(client, url, login_as):
    login_as("coach")
    assert "dropdown-toggle" not in client.get(url("groups.index")).get_data(as_text=True)
    page = client.get(url("groups.show", group_id=demo_group().id)).get_data(as_text=True)
    assert "Rename" not in page and "Archive" not in page and "Add to care team" not in page
    assert client.get(url("groups.rename", group_id=demo_group().id)).status_code == 403


def test_create_group(client, url, login_as):
    token = login_as("admin")
    response = client.post(url("groups.new"), data={"name": "  Heart   Health ", "csrf_token": token})
    group = Group.get(Group.name == "Heart Health")
    assert response.status_code == 302 and response.headers["Location"].endswith(url("groups.show", group_id=group.id))
    assert "Heart Health" in client.get(url("groups.index")).get_data(as_text=True)
    assert AuditEvent.get(AuditEvent.action == "group_created").object_id == group.id


@pytest.mark.parametrize("name, message", [
    ("diabetes prevention", 'A group named "Diabetes Prevention" exists already'),
    ("A;B", 'cannot contain ";"'),
    ("   ", "Write a name for the group"),
])
def test_create_group_refuses_bad_names(client, url, login_as, name, message):
    token = login_as("admin")
    before = Group.select().count()
    response = client.post(url("groups.new"), data={"name": name, "csrf_token": token})
    assert response.status_code == 422 and message in html.unescape(response.get_data(as_text=True))
    assert Group.select().count() == before


def test_rename_inline_with_htmx_swaps_the_heading(client, url, login_as):
    token = login_as("admin")
    group = demo_group()
    form = client.get(url("groups.rename", group_id=group.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert form.startswith('<section id="group-heading"') and 'name="name"' in form and "<html" not in form
    response = client.post(url("groups.rename", group_id=group.id), data={"name": "Diabetes Prevention Program"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    page = response.get_data(as_text=True)
    assert page.startswith('<section id="group-heading"') and "<bdi>Diabetes Prevention Program</bdi> · 0 participants" in page
    assert Group.get_by_id(group.id).name == "Diabetes Prevention Program"
    event = AuditEvent.get(AuditEvent.action == "group_renamed")
    assert event.details == {"old": "Diabetes Prevention", "new": "Diabetes Prevention Program"}


def test_rename_as_a_plain_page_and_form(client, url, login_as):
    token = login_as("admin")
    group = demo_group("Hypertension")
    page = client.get(url("groups.rename", group_id=group.id)).get_data(as_text=True)
    assert "<html" in page and 'id="group-heading"' in page
    response = client.post(url("groups.rename", group_id=group.id), data={"name": "Blood Pressure", "csrf_token": token})
    assert response.status_code == 302 and Group.get_by_id(group.id).name == "Blood Pressure"


def test_rename_to_a_taken_name_is_refused_in_place(client, url, login_as):
    token = login_as("admin")
    response = client.post(url("groups.rename", group_id=demo_group().id), data={"name": "hypertension"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 422 and "exists already" in response.get_data(as_text=True)


def test_archive_hides_the_group_from_imports_and_restore_brings_it_back(client, url, login_as):
    token = login_as("admin")
    group = demo_group("Weight Management")
    client.post(url("groups.archive", group_id=group.id), data={"csrf_token": token})
    assert Group.get_by_id(group.id).archived
    index = client.get(url("groups.index")).get_data(as_text=True)
    link = f'<a href="{url("groups.show", group_id=group.id)}"><bdi>Weight Management</bdi></a>'
    assert f"<td>{link}</td>" not in index and f'<li class="list-inline-item">{link}</li>' in index
    upload_page = client.get(url("importable_files.index")).get_data(as_text=True)
    assert "Weight Management" not in upload_page
    client.post(url("groups.restore", group_id=group.id), data={"csrf_token": token})
    assert not Group.get_by_id(group.id).archived
    assert "Weight Management" in client.get(url("importable_files.index")).get_data(as_text=True)
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.object_id == group.id)]
    assert "group_archived" in actions and "group_restored" in actions


def test_an_import_naming_an_archived_group_gets_an_error_that_says_so(client, url, login_as):
    token = login_as("admin")
    group = demo_group("Weight Management")
    client.post(url("groups.archive", group_id=group.id), data={"csrf_token": token})
    csv = "First Name,Last Name,Date of Birth,Email,Group\nAnn,Lee,1980-01-02,ann@mail.org,Weight Management\n"
    client.post(url("importable_files.upload"), data={"file": (io.BytesIO(csv.encode()), "p.csv"), "group": "0",
                                                       "csrf_token": token}, content_type="multipart/form-data")
    from app.models import Upload

    upload = Upload.select().order_by(Upload.id.desc()).get()
    assert upload.error_count == 1 and upload.created_count == 0
    results = client.get(url("importable_files.results", upload_id=upload.id, filter="errors")).get_data(as_text=True)
    assert 'Group "Weight Management" is archived. Use an active group.' in html.unescape(results)


def test_a_group_with_participants_cannot_be_deleted_only_archived(client, url, login_as):
    token = login_as("admin")
    group = demo_group()
    add_participant(group)
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "Archive" in page and url("groups.delete", group_id=group.id) not in page
    response = client.post(url("groups.delete", group_id=group.id), data={"csrf_token": token}, follow_redirects=True)
    assert "cannot be deleted. Archive it instead." in response.get_data(as_text=True)
    assert Group.get_or_none(Group.id == group.id) is not None


def test_an_empty_group_can_be_deleted(client, url, login_as):
    token = login_as("admin")
    client.post(url("groups.new"), data={"name": "Typo Group", "csrf_token": token})
    group = Group.get(Group.name == "Typo Group")
    response = client.post(url("groups.delete", group_id=group.id), data={"csrf_token": token})
    assert response.status_code == 302 and Group.get_or_none(Group.id == group.id) is None
    assert AuditEvent.get(AuditEvent.action == "group_deleted").details == {"name": "Typo Group"}


def test_add_and_remove_coaches_in_the_care_team(client, url, login_as):
    token = login_as("admin")
    group = demo_group()
    hill = User.by_email("hill@demo.example")
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "Add to care team" in page and "Hana Hill (hill@demo.example)" in page
    response = client.post(url("groups.add_to_team", group_id=group.id), data={"user": hill.id},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<section id="care-team"') and "Hana Hill" in fragment and "<html" not in fragment
    assert {u.email for u in group.coaches()} == {"coach@demo.example", "hill@demo.example"}
    response = client.post(url("groups.remove_from_team", group_id=group.id, user_id=hill.id), data={"csrf_token": token})
    assert response.status_code == 302 and {u.email for u in group.coaches()} == {"coach@demo.example"}
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions[-2:] == ["coach_added", "coach_removed"]


def test_only_coaches_join_a_care_team(client, url, login_as):
    token = login_as("admin")
    uploader = User.by_email("uploader@demo.example")
    response = client.post(url("groups.add_to_team", group_id=demo_group().id), data={"user": uploader.id},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 422 and "Give them the Coach role first" in response.get_data(as_text=True)
    assert not GroupCoach.select().where(GroupCoach.user == uploader).exists()


def test_another_organizations_group_and_coach_answer_404(client, url, login_as):
    token = login_as("other_admin")
    group = demo_group()
    for endpoint in ("groups.rename", "groups.archive", "groups.delete"):
        assert client.post(url(endpoint, group_id=group.id), data={"name": "X", "csrf_token": token}).status_code == 404
    assert client.post(url("groups.add_to_team", group_id=other_group().id),
                       data={"user": User.by_email("hill@demo.example").id, "csrf_token": token}).status_code == 404
    assert Group.get_by_id(group.id).name == "Diabetes Prevention" and not Group.get_by_id(group.id).archived
