"""The real parts for tests: the app on a real database (SQLite file, or TEST_DATABASE_URL), a client, sign-in."""
from __future__ import annotations

import os
import re

import peewee as pw
import pytest
from cryptography.fernet import Fernet
from flask import url_for as flask_url_for

from app import migrate
from app.config import Config
from app.factory import create_app
from app.models import MODELS, Organization, SchemaMigration, db, open_database
from app.seed import DEMO_PASSWORD, seed_demo

DEMO_EMAILS = {
    "admin": "admin@demo.example",
    "uploader": "uploader@demo.example",
    "coach": "coach@demo.example",
    "other_admin": "admin@other.example",
}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def reset_database() -> None:
    """Drop every table, so migrations start from an empty database."""
    database = db.obj
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    else:
        database.drop_tables(MODELS + [SchemaMigration], safe=True)


def empty_tables() -> None:
    database = db.obj
    if isinstance(database, pw.PostgresqlDatabase):
        names = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
        database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        with database.atomic():
            for model in reversed(MODELS):  # plain SQL: AuditEvent refuses deletes through the ORM
                database.execute_sql(f'DELETE FROM "{model._meta.table_name}"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    open_database(url)
    db.connect(reuse_if_open=True)
    reset_database()
    migrate.upgrade()
    db.close()
    return url


@pytest.fixture
def config(database_url, tmp_path):
    return Config(
        ENV="development",
        TESTING=True,
        SECRET_KEY="test-secret",
        DATABASE_URL=database_url,
        INSTANCE_DIR=tmp_path / "instance",
        UPLOAD_DIR=tmp_path / "uploads",
        MAIL_DIR=tmp_path / "mail",
        FILE_KEY=Fernet.generate_key(),
    )


@pytest.fixture
def app(config):
    app = create_app(config)
    db.connect(reuse_if_open=True)
    empty_tables()
    seed_demo()
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def pending_migration(app):
    """The newest migration is marked not applied, as before a release's `db upgrade`; put back afterwards."""
    name = migrate.migration_files()[-1].stem
    SchemaMigration.delete().where(SchemaMigration.name == name).execute()
    yield name
    db.connect(reuse_if_open=True)
    SchemaMigration.get_or_create(name=name)


@pytest.fixture
def demo_org(app):
    return Organization.by_name("Demo Clinic")


@pytest.fixture
def store(app):
    return app.config["ROSTER"].file_store()


@pytest.fixture
def jobs(app):
    """The app's queue (huey in immediate mode: a job runs at once, in the caller)."""
    return app.extensions["roster.jobs"]


@pytest.fixture
def actions(jobs):
    return jobs.actions


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(response) -> str:
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return next(group for group in match.groups() if group)


def url_for(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return flask_url_for(endpoint, **values)


def sign_in(client, email: str, password: str = DEMO_PASSWORD):
    sign_in_url = url_for(client.application, "auth.sign_in")
    page = client.get(sign_in_url)
    return client.post(sign_in_url, data={"email": email, "password": password, "csrf_token": csrf_token(page)})


@pytest.fixture
def url(app):
    """url_for outside a request: tests name endpoints, not paths."""
    return lambda endpoint, **values: url_for(app, endpoint, **values)


@pytest.fixture
def login_as(client):
    """Sign the test client in as a demo user by role; returns the CSRF token for later posts."""

    def login(role: str) -> str:
        response = sign_in(client, DEMO_EMAILS[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_token(client.get(url_for(client.application, "groups.index")))

    return login
