"""Per-address throttling: failed sign-ins and invitation acceptances from one address, over all accounts."""
from __future__ import annotations

import uuid

import pytest
import redis

from app.factory import create_app
from app.models import AuditEvent
from tests.conftest import DEMO_EMAILS, csrf_token, sign_in

REDIS_URL = "redis://127.0.0.1:6379/5"


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def spray(client, count: int) -> list[int]:
    """Wrong passwords over many accounts, at most 4 on any one (under its lockout), like a password spray."""
    emails = [*DEMO_EMAILS.values(), *(f"staff{n}@demo.example" for n in range(count))]
    return [sign_in(client, emails[n % len(emails)], f"Winter{n}!").status_code for n in range(count)]


def test_failed_sign_ins_over_many_accounts_from_one_address_get_429_and_another_address_signs_in(app, client, url):
    assert app.config["ROSTER"].RATELIMIT_SIGN_IN == "20 per 10 minutes"
    assert set(spray(client, 20)) == {401}
    limited = sign_in(client, DEMO_EMAILS["admin"])  # even the right password, from that address
    page = limited.get_data(as_text=True)
    assert limited.status_code == 429 and "Too many failed attempts from your network address" in page
    assert "<title>Too many attempts" in page and 0 < int(limited.headers["Retry-After"]) <= 600
    assert AuditEvent.select().where(AuditEvent.action == "sign_in").count() == 0
    assert client.get(url("auth.sign_in")).status_code == 200  # only the POST is limited
    elsewhere = sign_in(from_address(app, "192.0.2.44"), DEMO_EMAILS["admin"])
    assert elsewhere.status_code == 302 and AuditEvent.get(AuditEvent.action == "sign_in").ip == "192.0.2.44"


def test_right_passwords_spend_nothing(app, client, url):
    for _ in range(25):  # a clinic's staff behind one address, signing in in the morning
        assert sign_in(client, DEMO_EMAILS["coach"]).status_code == 302
        client.post(url("auth.sign_out"), data={"csrf_token": csrf_token(client.get(url("groups.index")))})


def test_invitation_acceptance_shares_the_budget(app, client, url):
    for n in range(20):
        page = client.get(url("auth.sign_in"))
        response = client.post(url("users.accept_invitation", token=f"guess-{n}"),
                               data={"password": "x" * 12, "confirm": "x" * 12, "csrf_token": csrf_token(page)})
        assert response.status_code == 404
    token = csrf_token(client.get(url("auth.sign_in")))
    assert client.post(url("users.accept_invitation", token="guess"), data={"csrf_token": token}).status_code == 429
    assert sign_in(client, DEMO_EMAILS["admin"]).status_code == 429


@pytest.mark.parametrize(("hops", "limited"), [(0, True), (1, False)])
def test_a_forged_forwarded_address_escapes_the_limit_only_behind_a_trusted_proxy(app, config, hops, limited):
    config.TRUSTED_PROXIES = hops
    served = create_app(config)
    client = served.test_client()
    assert set(spray(client, 20)) == {401}
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.250"  # what the proxy says the client is
    assert (sign_in(client, DEMO_EMAILS["admin"]).status_code == 429) is limited


@pytest.fixture
def shared_redis(app, config):
    """The limiter on Redis db 5 under a key prefix of its own, removed afterwards."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    config.REDIS_URL, config.QUEUE_NAME = REDIS_URL, f"roster-test-{uuid.uuid4().hex[:8]}"
    yield config
    for key in server.scan_iter(f"*{config.QUEUE_NAME}-limits*"):
        server.delete(key)


def test_with_redis_every_web_process_counts_the_same_failures(shared_redis):
    first = create_app(shared_redis)
    assert set(spray(first.test_client(), 20)) == {401}
    assert redis.Redis.from_url(REDIS_URL).keys(f"*{shared_redis.QUEUE_NAME}-limits*")
    second = create_app(shared_redis)  # another gunicorn worker or machine
    assert sign_in(second.test_client(), DEMO_EMAILS["admin"]).status_code == 429


def test_with_redis_down_sign_in_still_works_limited_per_process(app, config):
    config.REDIS_URL = "redis://127.0.0.1:1/5"  # nothing listens on port 1
    client = create_app(config).test_client()
    assert sign_in(client, DEMO_EMAILS["admin"]).status_code == 302
    client = create_app(config).test_client()
    assert set(spray(client, 20)) == {401} and sign_in(client, DEMO_EMAILS["admin"]).status_code == 429
