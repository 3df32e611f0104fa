"""Health checks over HTTP: /healthz says the process is up, /readyz what the app needs is there."""
from __future__ import annotations

import pytest

from app.factory import create_app
from app.models import open_database
from tests.conftest import sign_in

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory/roster.db",
    "postgresql": "postgresql://postgres@127.0.0.1:1/h21a",  # nothing listens on port 1
}


def test_healthz_and_readyz_answer_ok_without_sign_in(client, url):
    for endpoint in ("health.healthz", "health.readyz"):
        response = client.get(url(endpoint))
        assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
        assert response.mimetype == "text/plain" and "Set-Cookie" not in response.headers


def test_readyz_names_pending_migrations(client, url, pending_migration):
    response = client.get(url("health.readyz"))
    assert response.status_code == 503 and response.get_data(as_text=True) == "migrations: 1 pending\n"
    assert client.get(url("health.healthz")).status_code == 200


@pytest.fixture
def database_down(app, config, database_url):
    """An app whose database does not answer; the test database is bound again afterwards."""
    yield config
    open_database(database_url)


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_readyz_fails_when_the_database_is_down(client, database_down, kind):
    assert sign_in(client, "admin@demo.example").status_code == 302  # a browser's cookie loads no user
    cookie = client.get_cookie("roster_session").value
    database_down.DATABASE_URL = UNREACHABLE[kind]
    down = create_app(database_down).test_client()
    down.set_cookie("roster_session", cookie)
    response = down.get("/readyz")
    assert response.status_code == 503 and response.get_data(as_text=True) == "database: unreachable\n"
    assert down.get("/healthz").status_code == 200  # the process is up: restarting it would not help


def test_readyz_fails_when_the_queue_is_down(app, config):
    config.REDIS_URL = "redis://127.0.0.1:1/5"  # nothing listens on port 1
    down = create_app(config)
    down.extensions["roster.jobs"].huey.immediate = False  # under test jobs run at once, without the queue
    response = down.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_data(as_text=True) == "queue: unreachable\n"


def test_flask_ready_checks_the_same_for_workers(runner, pending_migration):
    result = runner.invoke(args=["ready"])
    assert result.exit_code == 1 and "migrations: 1 pending" in result.output
