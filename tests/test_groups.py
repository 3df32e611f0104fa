"""Groups page, the role-based menu, a group's participants, isolation."""
from __future__ import annotations

import pytest

from app.models import Group, Organization, Participant, ParticipantGroup


def _demo_group(name="Diabetes Prevention"):
    return Group.get((Group.name == name) & (Group.organization == Organization.by_name("Demo Clinic")))


def test_groups_lists_the_organizations_groups_with_counts_and_team(client, url, login_as):
    group = _demo_group()
    person = Participant.create(organization=group.organization, first_name="Ann", last_name="Lee")
    ParticipantGroup.create(participant=person, group=group)
    login_as("admin")
    page = client.get(url("groups.index")).get_data(as_text=True)
    for name in ("Diabetes Prevention", "Hypertension", "Weight Management"):
        assert name in page
    assert "Casey Coach" in page and "Hana Hill" in page
    assert '<td class="text-end font-monospace">1</td>' in page
    assert "Other Clinic" not in page


@pytest.mark.parametrize("role", ["admin", "uploader"])
def test_import_roles_see_the_grey_menu_with_importable_files(client, url, login_as, role):
    login_as(role)
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert 'class="btn btn-secondary dropdown-toggle"' in page and 'aria-haspopup="true"' in page
    assert f'href="{url("importable_files.index")}">Importable Files</a>' in page


def test_coach_sees_no_importable_files_and_gets_403(client, url, login_as):
    login_as("coach")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert "Importable Files" not in page
    response = client.get(url("importable_files.index"))
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)


def test_group_page_lists_participants_as_not_invited(client, url, login_as):
    group = _demo_group()
    person = Participant.create(organization=group.organization, first_name="José", last_name="García")
    ParticipantGroup.create(participant=person, group=group)
    login_as("coach")
    page = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "<bdi>García</bdi>, <bdi>José</bdi>" in page and "Not invited" in page and "1 participants" in page


def test_another_organizations_group_answers_404(client, url, login_as):
    other = Group.get(Group.organization == Organization.by_name("Other Clinic"))
    login_as("admin")
    response = client.get(url("groups.show", group_id=other.id))
    assert response.status_code == 404


def test_pages_carry_security_headers(client, url, login_as):
    login_as("admin")
    response = client.get(url("groups.index"))
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
