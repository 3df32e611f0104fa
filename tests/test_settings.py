"""Outside development Roster refuses to start on unsafe settings, one line each, and sends HSTS."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.config import ROOT, Config, ConfigError
from app.factory import create_app
from app.mail import FileMailer, SmtpMailer, mailer_for


@pytest.fixture
def production(tmp_path):
    """A complete, safe production environment; each test spoils one setting."""
    return {
        "ROSTER_ENV": "production",
        "INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ROSTER_FILE_KEY": Fernet.generate_key().decode(),
        "BASE_URL": "https://roster.clinic.example",
        "SMTP_HOST": "smtp.clinic.example",
    }


def refusal(env) -> str:
    with pytest.raises(ConfigError) as refused:
        Config.from_env(env)
    return str(refused.value)


def test_a_safe_production_environment_starts(production):
    config = Config.from_env(production)
    assert config.ENV == "production" and isinstance(mailer_for(config), SmtpMailer)


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("SECRET_KEY", None, "SECRET_KEY must be set outside development"),
    ("SECRET_KEY", "", "SECRET_KEY must be set outside development"),
    ("SECRET_KEY", "correct-horse-battery", "SECRET_KEY is too weak: use a random value of at least 32 characters."),
    ("ROSTER_FILE_KEY", None, "ROSTER_FILE_KEY must be set outside development (a Fernet key)."),
    ("SECRET_KEY", "s" * 40, "SECRET_KEY is too weak"),
    ("SECRET_KEY", "abcd" * 10, "SECRET_KEY is too weak"),
    ("ROSTER_FILE_KEY", "not-a-fernet-key", "ROSTER_FILE_KEY is not a Fernet key"),
    ("ROSTER_FILE_KEY", "k" * 43 + "=", "ROSTER_FILE_KEY is too weak"),
    ("BASE_URL", None, "BASE_URL must be the https:// address users open Roster at"),
    ("BASE_URL", "http://roster.clinic.example", "BASE_URL must be the https:// address"),
    ("BASE_URL", "https://", "BASE_URL must be the https:// address"),
    ("SMTP_HOST", None, "SMTP_HOST must be set outside development (or MAIL_BACKEND=file"),
    ("MAIL_BACKEND", "pigeon", "MAIL_BACKEND must be smtp or file, not 'pigeon'."),
])
def test_each_unsafe_setting_is_refused_with_one_line(production, setting, value, says):
    if value is None:
        del production[setting]
    else:
        production[setting] = value
    message = refusal(production)
    assert message.startswith(says) and "\n" not in message


def test_every_unsafe_setting_gets_its_own_line():
    lines = refusal({"ROSTER_ENV": "staging", "ROSTER_FILE_KEY": "", "INSTANCE_DIR": "/nonexistent"}).splitlines()
    assert [line.split()[0] for line in lines] == ["SECRET_KEY", "ROSTER_FILE_KEY", "BASE_URL", "SMTP_HOST"]


def test_a_negative_proxy_count_is_refused(production):
    assert refusal({**production, "TRUSTED_PROXIES": "-1"}) == "TRUSTED_PROXIES must be 0 or more, not -1."


def test_the_app_refuses_to_start_with_the_lines_alone_not_a_traceback(production):
    env = {**os.environ, **production, "BASE_URL": "http://roster.clinic.example", "PYTHONPATH": str(ROOT)}
    env.pop("TEST_DATABASE_URL", None)
    started = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert started.returncode == 4
    assert started.stderr == "Roster will not start:\nBASE_URL must be the https:// address users open Roster at " \
                             "(links in emails are built on it).\n"


def test_gunicorn_stops_on_unsafe_settings_instead_of_restarting_its_workers(production):
    env = {**os.environ, **production, "BASE_URL": "http://roster.clinic.example", "PYTHONPATH": str(ROOT)}
    env.pop("TEST_DATABASE_URL", None)
    gunicorn = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--bind",
                                 "127.0.0.1:0", "wsgi:app"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = gunicorn.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        gunicorn.kill()
        pytest.fail("gunicorn kept restarting workers that cannot start")
    assert gunicorn.returncode != 0
    assert "BASE_URL must be the https:// address" in stderr
    # Our lines alone, no traceback through the app. (gunicorn's master sometimes logs its own HaltServer
    # with a traceback as it stops: that one is gunicorn's, and it is why the master stops.)
    assert "ConfigError" not in stderr and "app/config.py" not in stderr and "app/factory.py" not in stderr


def test_mail_to_files_outside_development_only_when_asked_for(production):
    del production["SMTP_HOST"]
    production["MAIL_BACKEND"] = "file"
    assert isinstance(mailer_for(Config.from_env(production)), FileMailer)
    production["SMTP_HOST"] = "smtp.clinic.example"  # file wins: it was asked for
    assert isinstance(mailer_for(Config.from_env(production)), FileMailer)


def test_the_row_limit_can_be_raised(production):
    assert Config.from_env(production).MAX_ROWS == 100_000
    assert Config.from_env({**production, "MAX_ROWS": "1000000"}).MAX_ROWS == 1_000_000


def test_development_runs_on_its_own_secrets_and_without_smtp(tmp_path):
    config = Config.from_env({"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "dev"})
    assert config.is_development and isinstance(mailer_for(config), FileMailer)


def test_production_sends_hsts_and_development_does_not(app, client, url, production, database_url):
    assert "Strict-Transport-Security" not in client.get(url("auth.sign_in")).headers
    production["DATABASE_URL"] = database_url
    served = create_app(Config.from_env(production)).test_client()
    for path in ("/sign-in", "/static/app.css", "/healthz"):
        assert served.get(path).headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains", path
