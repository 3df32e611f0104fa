"""A group's participants after the import: paged, filtered to those without email, Invite selected."""
from __future__ import annotations

import email

import pytest

from app.models import AuditEvent, Group, Organization, Participant, ParticipantGroup, db


def demo_group(name="Diabetes Prevention") -> Group:
    return Group.get((Group.name == name) & (Group.organization == Organization.by_name("Demo Clinic")))


def fill(group: Group, count: int, *, every_nth_without_email: int = 0) -> list[Participant]:
    rows = []
    for n in range(count):
        without = every_nth_without_email and n % every_nth_without_email == 0
        address = None if without else f"p{n:05d}@mail.org"
        rows.append({"organization": group.organization_id, "first_name": f"First{n:05d}", "last_name": f"Last{n:05d}",
                     "email": address, "email_key": address})
    with db.atomic():
        Participant.insert_many(rows).execute()
        people = list(Participant.select().where(Participant.organization == group.organization_id).order_by(Participant.id))
        ParticipantGroup.insert_many([{"participant": p.id, "group": group.id} for p in people]).execute()
    return people


def mails(app):
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(app.config["ROSTER"].MAIL_DIR.glob("*.eml"))]


def test_participants_are_paged_on_the_server(client, url, login_as):
    group = demo_group()
    fill(group, 120)
    login_as("coach")
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "<bdi>Diabetes Prevention</bdi> · 120 participants" in page and "1–50 of 120" in page and "Page 1 of 3" in page
    assert page.count('<td class="font-monospace">') == 50 and "Last00049" in page and "Last00050" not in page
    last = client.get(url("groups.show", group_id=group.id, page=3)).get_data(as_text=True)
    assert "101–120 of 120" in last and "Last00119" in last and "Last00000" not in last


def test_paging_as_an_htmx_fragment_returns_only_the_participants_section(client, url, login_as):
    group = demo_group()
    fill(group, 60)
    login_as("coach")
    response = client.get(url("groups.show", group_id=group.id, page=2), headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<section id="participants"') and "<html" not in fragment
    assert "51–60 of 60" in fragment and "HX-Request" in response.headers["Vary"]


def test_show_without_email(client, url, login_as):
    group = demo_group()
    fill(group, 9, every_nth_without_email=3)
    login_as("admin")
    page = client.get(url("groups.show", group_id=group.id, show="without_email")).get_data(as_text=True)
    assert "1–3 of 3" in page and "<strong aria-current=\"true\">Without email</strong>" in page
    assert "@mail.org" not in page and "Last00000" in page and "Last00001" not in page


def test_coach_sees_no_invite_button_and_gets_403(client, url, login_as):
    group = demo_group()
    people = fill(group, 2)
    token = login_as("coach")
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "Invite selected" not in page and 'name="participant"' not in page
    response = client.post(url("groups.invite", group_id=group.id), data={"participant": [people[0].id], "csrf_token": token})
    assert response.status_code == 403 and Participant.get_by_id(people[0].id).status == "not_invited"


@pytest.mark.parametrize("role", ["admin", "uploader"])
def test_invite_selected_sends_emails_marks_invited_and_skips_those_without_email(app, client, url, login_as, role):
    group = demo_group()
    people = fill(group, 4, every_nth_without_email=2)  # 0 and 2 have no email
    token = login_as(role)
    if role == "uploader":  # an uploader cannot invite
        response = client.post(url("groups.invite", group_id=group.id), data={"participant": [p.id for p in people],
                                                                              "csrf_token": token})
        assert response.status_code == 403 and not mails(app)
        return
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "Invite selected" in page and "data-select-all" in page
    response = client.post(url("groups.invite", group_id=group.id), data={"participant": [p.id for p in people]},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<section id="participants"')
    assert "Invited 2 participants. 2 without email were skipped: add an email to invite them." in fragment
    assert [Participant.get_by_id(p.id).status_label for p in people] == ["Not invited", "Invited", "Not invited", "Invited"]
    sent = mails(app)
    assert sorted(m["To"] for m in sent) == ["p00001@mail.org", "p00003@mail.org"]
    assert "Demo Clinic" in sent[0]["Subject"] and "Diabetes" not in sent[0].get_payload()
    event = AuditEvent.get(AuditEvent.action == "participants_invited")
    assert event.details == {"invited": 2, "skipped_without_email": 2} and event.object_id == group.id
    assert "mail.org" not in str(event.details) and "First" not in str(event.details)


def test_invite_as_a_plain_form_redirects_back_with_the_message(app, client, url, login_as):
    group = demo_group()
    people = fill(group, 1)
    token = login_as("admin")
    response = client.post(url("groups.invite", group_id=group.id),
                           data={"participant": [people[0].id], "show": "all", "page": "1", "csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invited 1 participant." in page and "Invited</td>" in page


def test_invite_with_nothing_selected_says_so(app, client, url, login_as):
    group = demo_group()
    fill(group, 1)
    token = login_as("admin")
    response = client.post(url("groups.invite", group_id=group.id), headers={"HX-Request": "true", "X-CSRFToken": token})
    assert "Select the participants to invite first." in response.get_data(as_text=True) and not mails(app)


def test_participants_of_another_group_or_organization_are_not_invited(app, client, url, login_as):
    group = demo_group()
    outsider = fill(demo_group("Hypertension"), 1)[0]
    token = login_as("admin")
    client.post(url("groups.invite", group_id=group.id), data={"participant": [outsider.id], "csrf_token": token})
    assert Participant.get_by_id(outsider.id).status == "not_invited" and not mails(app)
    other = Group.get(Group.organization == Organization.by_name("Other Clinic"))
    response = client.post(url("groups.invite", group_id=other.id), data={"participant": [outsider.id], "csrf_token": token})
    assert response.status_code == 404


def test_the_invite_post_needs_the_csrf_token(client, url, login_as):
    group = demo_group()
    people = fill(group, 1)
    login_as("admin")
    response = client.post(url("groups.invite", group_id=group.id), data={"participant": [people[0].id]},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400 and Participant.get_by_id(people[0].id).status == "not_invited"
