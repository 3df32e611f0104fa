"""Sign-in, lockout, idle expiry, sign-out revocation, htmx redirects."""
from __future__ import annotations

import time
from datetime import timedelta

from app.models import AuditEvent, User, utcnow
from tests.conftest import DEMO_EMAILS, csrf_token, sign_in


def test_sign_in_page_has_labelled_fields(client, url):
    page = client.get(url("auth.sign_in")).get_data(as_text=True)
    assert '<label class="form-label" for="email">Email</label>' in page
    assert '<label class="form-label" for="password">Password</label>' in page
    assert ">Sign in</button>" in page


def test_sign_in_with_right_password_opens_groups(client, url):
    response = sign_in(client, DEMO_EMAILS["admin"])
    assert response.status_code == 302 and response.headers["Location"] == url("groups.index")
    page = client.get(url("groups.index")).get_data(as_text=True)
    assert "Demo Clinic" in page and "admin@demo.example" in page
    assert AuditEvent.select().where(AuditEvent.action == "sign_in").count() == 1


def test_wrong_password_is_refused_and_audited(client, url):
    response = sign_in(client, DEMO_EMAILS["admin"], "wrong")
    assert response.status_code == 401
    assert "Email or password is not right." in response.get_data(as_text=True)
    assert client.get(url("groups.index")).status_code == 302
    event = AuditEvent.get(AuditEvent.action == "sign_in_failed")
    assert event.details == {"reason": "password"} and event.ip == "127.0.0.1"


def test_unknown_email_gets_the_same_message(client):
    response = sign_in(client, "nobody@demo.example", "whatever")
    assert response.status_code == 401
    assert "Email or password is not right." in response.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    for _ in range(4):
        assert sign_in(client, DEMO_EMAILS["uploader"], "wrong").status_code == 401
    locked = sign_in(client, DEMO_EMAILS["uploader"], "wrong")
    assert locked.status_code == 429
    assert "try again after" in locked.get_data(as_text=True)
    again = sign_in(client, DEMO_EMAILS["uploader"])
    assert again.status_code == 429
    assert User.by_email(DEMO_EMAILS["uploader"]).locked_until is not None


def test_lockout_ends_after_its_time(client):
    for _ in range(5):
        sign_in(client, DEMO_EMAILS["uploader"], "wrong")
    past = utcnow() - timedelta(seconds=1)
    User.update(locked_until=past).where(User.email == DEMO_EMAILS["uploader"]).execute()
    assert sign_in(client, DEMO_EMAILS["uploader"]).status_code == 302


def test_deactivated_user_cannot_sign_in(client):
    User.update(active=False).where(User.email == DEMO_EMAILS["uploader"]).execute()
    assert sign_in(client, DEMO_EMAILS["uploader"]).status_code == 401


def _age_session(client, seconds: int, key: str = "seen_at"):
    with client.session_transaction() as session:
        session[key] = int(time.time()) - seconds


def test_idle_session_expires_on_the_server(client, url, login_as):
    login_as("admin")
    _age_session(client, 14 * 60)
    assert client.get(url("groups.index")).status_code == 200
    _age_session(client, 16 * 60)
    response = client.get(url("groups.index"))
    assert response.status_code == 302 and response.headers["Location"] == url("auth.sign_in")
    assert "Your session expired" in client.get(url("auth.sign_in")).get_data(as_text=True)
    assert client.get(url("groups.index")).status_code == 302


def test_session_ends_after_its_absolute_lifetime(client, url, login_as):
    login_as("admin")
    _age_session(client, 12 * 3600 + 1, key="signed_in_at")
    assert client.get(url("groups.index")).status_code == 302


def test_expired_htmx_request_gets_401_with_hx_redirect(client, url, login_as):
    login_as("admin")
    _age_session(client, 16 * 60)
    response = client.get(url("groups.index"), headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == url("auth.sign_in")


def test_anonymous_htmx_request_gets_401_with_hx_redirect(client, url):
    response = client.get(url("importable_files.index"), headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == url("auth.sign_in")


def test_cookie_copied_before_sign_out_is_refused_after(app, client, url, login_as):
    token = login_as("admin")
    copied = client.get_cookie("roster_session").value
    response = client.post(url("auth.sign_out"), data={"csrf_token": token})
    assert response.status_code == 302
    thief = app.test_client()
    thief.set_cookie("roster_session", copied)
    response = thief.get(url("groups.index"))
    assert response.status_code == 302 and response.headers["Location"].startswith(url("auth.sign_in"))


def test_sign_in_starts_a_fresh_session(client, url):
    page = client.get(url("auth.sign_in"))
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post(url("auth.sign_in"), data={"email": DEMO_EMAILS["admin"], "password": "roster-demo", "csrf_token": csrf_token(page)})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_without_csrf_token_is_refused(client, url):
    response = client.post(url("auth.sign_in"), data={"email": DEMO_EMAILS["admin"], "password": "roster-demo"})
    assert response.status_code == 400
    assert client.get(url("groups.index")).status_code == 302


def test_session_cookie_flags(client, login_as):
    login_as("admin")
    cookie = client.get_cookie("roster_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_expired_htmx_request_leaves_a_message_on_the_sign_in_page(client, url, login_as):
    login_as("admin")
    _age_session(client, 16 * 60)
    client.get(url("groups.index"), headers={"HX-Request": "true"})
    assert "Your session expired" in client.get(url("auth.sign_in")).get_data(as_text=True)
