"""Behind a proxy: X-Forwarded-For is believed only for the TRUSTED_PROXIES nearest hops."""
from __future__ import annotations

import pytest

from app.factory import create_app
from app.models import AuditEvent
from tests.conftest import DEMO_EMAILS, sign_in

# Over https flask-wtf also checks the Referer, which browsers send under our Referrer-Policy: same-origin.
FORWARDED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https",
             "Referer": "https://localhost/sign-in"}


def failed_sign_in_ip(app, headers) -> str:
    client = app.test_client()
    client.environ_base.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
    response = sign_in(client, DEMO_EMAILS["admin"], "wrong")
    assert response.status_code == 401
    return AuditEvent.select().where(AuditEvent.action == "sign_in_failed").order_by(AuditEvent.id.desc()).get().ip


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(app):
    assert app.config["ROSTER"].TRUSTED_PROXIES == 0
    assert failed_sign_in_ip(app, FORWARDED) == "127.0.0.1"


@pytest.mark.parametrize(("hops", "client_ip"), [(1, "203.0.113.9"), (2, "198.51.100.7")])
def test_behind_trusted_proxies_the_audit_records_the_client_address(app, config, hops, client_ip):
    config.TRUSTED_PROXIES = hops
    app = create_app(config)
    assert failed_sign_in_ip(app, FORWARDED) == client_ip
    assert failed_sign_in_ip(app, {}) == "127.0.0.1"  # a request that did not come through the proxy


def test_forwarded_https_makes_no_cookie_secure_without_trusted_proxies(app):
    """Secure cookies follow ROSTER_ENV, never a header the client can send."""
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    response = sign_in(client, DEMO_EMAILS["admin"])
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("roster_session="))
    assert "Secure" not in cookie
