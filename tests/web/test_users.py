"""Users page: roles, invitations, deactivation, the last-admin guard, isolation and role checks."""
from __future__ import annotations

import email
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from app.models import AuditEvent, Invitation, User, utcnow
from tests.conftest import csrf_token, sign_in

LINK = re.compile(r"(http://\S+/users/invitation\?token=(\S+))")


def sent_mail(app) -> list[email.message.Message]:
    directory = app.config["ROSTER"].MAIL_DIR
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]


def invitation_link(app, *, absolute=False) -> str:
    """The link of the last email; by default its path and query, so the test client keeps its cookies."""
    body = sent_mail(app)[-1].get_payload(decode=True).decode()
    link = LINK.search(body).group(1)
    if absolute:
        return link
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def demo_user(key="uploader"):
    return User.by_email(f"{key}@demo.example")


def test_users_page_lists_users_with_roles_and_last_sign_in(client, url, login_as):
    login_as("admin")
    page = client.get(url("users.index")).get_data(as_text=True)
    for words in ("Ada Admin", "Uma Uploader", "Casey Coach", "Importable files uploader", "Importable files admin",
                  "Organization admin", "Coach", "Last sign-in", "Never", "Send invitation"):
        assert words in page
    assert "Otto Other" not in page  # another organization's admin
    uploader = demo_user()
    row = re.search(rf'<tr id="user-{uploader.id}".*?</tr>', page, re.S).group(0)
    assert 'value="uploader" form="roles-' in row and re.search(r'value="uploader"[^>]*checked', row)
    assert not re.search(r'value="import_admin"[^>]*checked', row)
    me = re.search(rf'<tr id="user-{User.by_email("admin@demo.example").id}".*?</tr>', page, re.S).group(0)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", me)  # the admin has just signed in


@pytest.mark.parametrize("role", ["uploader", "coach"])
def test_non_admins_see_no_users_entry_and_get_403(client, url, login_as, role):
    login_as(role)
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert url("users.index") not in page and ">Users<" not in page and url("id_systems.index") not in page
    assert client.get(url("users.index")).status_code == 403
    token = csrf_token(client.get(url("groups.index")))
    response = client.post(url("users.roles", user_id=demo_user("coach").id), data={"roles": ["org_admin"], "csrf_token": token})
    assert response.status_code == 403 and demo_user("coach").role_set == {"coach"}


def test_admin_sees_users_in_the_navbar(client, url, login_as):
    login_as("admin")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert f'href="{url("users.index")}">Users</a>' in page


def test_another_organizations_user_answers_404(client, url, login_as):
    token = login_as("other_admin")
    target = demo_user()
    assert client.post(url("users.roles", user_id=target.id), data={"roles": [], "csrf_token": token}).status_code == 404
    assert client.post(url("users.deactivate", user_id=target.id), data={"csrf_token": token}).status_code == 404
    assert demo_user().active and demo_user().role_set == {"uploader"}


def test_htmx_role_toggle_swaps_the_row_and_audits_old_and_new(client, url, login_as):
    token = login_as("admin")
    target = demo_user()
    response = client.post(url("users.roles", user_id=target.id), data={"roles": ["uploader", "import_admin"]},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.startswith(f'<tr id="user-{target.id}"') and "<html" not in page
    assert "Importable files admin, Importable files uploader." in page
    assert demo_user().role_set == {"uploader", "import_admin"}
    event = AuditEvent.get(AuditEvent.action == "roles_changed")
    assert event.user.email == "admin@demo.example" and event.object_id == target.id
    assert event.details == {"old": ["uploader"], "new": ["import_admin", "uploader"]}


def test_plain_form_role_change_redirects_with_a_message(client, url, login_as):
    token = login_as("admin")
    target = demo_user("coach")
    response = client.post(url("users.roles", user_id=target.id), data={"roles": ["coach", "uploader"], "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(url("users.index"))
    page = client.get(url("users.index")).get_data(as_text=True)
    assert "Casey Coach: Coach, Importable files uploader." in page
    assert demo_user("coach").role_set == {"coach", "uploader"}


def test_role_change_needs_the_csrf_token(client, url, login_as):
    login_as("admin")
    response = client.post(url("users.roles", user_id=demo_user().id), data={"roles": ["org_admin"]},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400 and demo_user().role_set == {"uploader"}


def test_the_last_organization_admin_cannot_drop_the_role(client, url, login_as):
    token = login_as("admin")
    me = demo_user("admin")
    response = client.post(url("users.roles", user_id=me.id), data={"roles": ["import_admin"]},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 422
    assert "last Organization admin" in response.get_data(as_text=True)
    assert demo_user("admin").role_set == {"import_admin", "org_admin"}
    assert not AuditEvent.select().where(AuditEvent.action == "roles_changed").exists()


def test_an_admin_who_is_not_the_last_can_drop_their_own_role(client, url, login_as):
    token = login_as("admin")
    client.post(url("users.roles", user_id=demo_user("coach").id), data={"roles": ["coach", "org_admin"], "csrf_token": token})
    response = client.post(url("users.roles", user_id=demo_user("admin").id), data={"roles": ["import_admin"]},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.headers["HX-Redirect"] == url("groups.index")
    assert demo_user("admin").role_set == {"import_admin"}
    assert client.get(url("users.index")).status_code == 403


def test_deactivation_ends_the_users_existing_session_at_once(app, url, login_as):
    uploader = app.test_client()
    assert sign_in(uploader, "uploader@demo.example").status_code == 302
    assert uploader.get(url("importable_files.index")).status_code == 200
    admin = app.test_client()
    sign_in(admin, "admin@demo.example")
    token = csrf_token(admin.get(url("users.index")))
    response = admin.post(url("users.deactivate", user_id=demo_user().id), headers={"HX-Request": "true", "X-CSRFToken": token})
    assert "Deactivated" in response.get_data(as_text=True) and "Reactivate" in response.get_data(as_text=True)
    after = uploader.get(url("importable_files.index"))
    assert after.status_code == 302 and url("auth.sign_in") in after.headers["Location"]
    assert sign_in(uploader, "uploader@demo.example").status_code == 401
    assert AuditEvent.get(AuditEvent.action == "user_deactivated").object_id == demo_user().id


def test_reactivated_user_can_sign_in_again(client, url, login_as):
    token = login_as("admin")
    target = demo_user()
    client.post(url("users.deactivate", user_id=target.id), data={"csrf_token": token})
    assert not demo_user().active
    client.post(url("users.reactivate", user_id=target.id), data={"csrf_token": token})
    assert demo_user().active
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    assert sign_in(client, "uploader@demo.example").status_code == 302


def test_an_admin_cannot_deactivate_themselves(client, url, login_as):
    token = login_as("admin")
    response = client.post(url("users.deactivate", user_id=demo_user("admin").id), data={"csrf_token": token},
                           follow_redirects=True)
    assert "You cannot deactivate yourself" in response.get_data(as_text=True) and demo_user("admin").active


def test_invitation_email_link_sets_a_password_once(app, client, url, login_as):
    token = login_as("admin")
    response = client.post(url("users.invite"), data={"email": "New.Person@Demo.example", "name": "Nia New",
                                                      "roles": ["uploader", "coach"], "csrf_token": token})
    assert response.status_code == 302
    invited = User.by_email("new.person@demo.example")
    assert invited.role_set == {"uploader", "coach"} and invited.status_label == "Invited" and not invited.password_hash
    assert invited.organization.name == "Demo Clinic"
    mail = sent_mail(app)[-1]
    assert mail["To"] == "new.person@demo.example" and "Demo Clinic" in mail["Subject"]
    link = invitation_link(app)
    raw_token = link.split("token=")[1]
    assert Invitation.get(Invitation.user == invited).token_hash != raw_token  # only a hash is stored
    event = AuditEvent.get(AuditEvent.action == "user_invited")
    assert event.details == {"roles": ["coach", "uploader"]} and "new.person" not in str(event.details)

    client.post(url("auth.sign_out"), data={"csrf_token": token})
    page = client.get(link)
    assert page.status_code == 200 and "Set your password" in page.get_data(as_text=True)
    form = {"token": raw_token, "password": "a long new password", "confirm": "a long new password",
            "csrf_token": csrf_token(page)}
    done = client.post(url("users.accept_invitation"), data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith(url("auth.sign_in"))
    assert sign_in(client, "new.person@demo.example", "a long new password").status_code == 302
    assert User.by_email("new.person@demo.example").status_label == "Active"
    again = client.get(link)
    assert again.status_code == 404 and "expired or was already used" in again.get_data(as_text=True)


def test_invitation_link_expires(app, client, url, login_as):
    token = login_as("admin")
    client.post(url("users.invite"), data={"email": "late@demo.example", "csrf_token": token})
    Invitation.update(expires_at=utcnow() - timedelta(minutes=1)).execute()
    response = client.get(invitation_link(app))
    assert response.status_code == 404 and "expired" in response.get_data(as_text=True)


def test_sending_the_invitation_again_spends_the_old_link(app, client, url, login_as):
    token = login_as("admin")
    client.post(url("users.invite"), data={"email": "twice@demo.example", "csrf_token": token})
    first = invitation_link(app)
    client.post(url("users.invite_again", user_id=User.by_email("twice@demo.example").id), data={"csrf_token": token})
    second = invitation_link(app)
    assert first != second
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200


def test_invitation_passwords_must_be_long_and_match(app, client, url, login_as):
    token = login_as("admin")
    client.post(url("users.invite"), data={"email": "short@demo.example", "csrf_token": token})
    link = invitation_link(app)
    raw = link.split("token=")[1]
    page = client.get(link)
    response = client.post(url("users.accept_invitation"), data={"token": raw, "password": "short", "confirm": "short",
                                                                  "csrf_token": csrf_token(page)})
    assert response.status_code == 422 and "at least 12 characters" in response.get_data(as_text=True)
    assert not User.by_email("short@demo.example").password_hash
    assert client.get(link).status_code == 200  # a refused attempt does not spend the link


def test_inviting_an_existing_email_is_refused(app, client, url, login_as):
    token = login_as("admin")
    response = client.post(url("users.invite"), data={"email": "admin@other.example", "csrf_token": token})
    assert response.status_code == 422 and "already has a Roster account" in response.get_data(as_text=True)
    assert User.by_email("admin@other.example").organization.name == "Other Clinic" and not sent_mail(app)


def test_invitation_links_use_base_url_not_the_host_header(app):
    from app.web.users import invitation_link as link_for

    with app.test_request_context(base_url="http://evil.example"):
        link = link_for("abc")
    assert link == app.config["ROSTER"].BASE_URL + "/users/invitation?token=abc"


def test_invitation_email_carries_the_configured_base_url(app, client, url, login_as):
    token = login_as("admin")
    client.post(url("users.invite"), data={"email": "base@demo.example", "csrf_token": token})
    assert invitation_link(app, absolute=True).startswith("http://127.0.0.1:5000/users/invitation?token=")
