"""The operator commands do what they say."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import migrate
from app.config import Config, ConfigError
from app.factory import create_app
from app.models import Group, Organization, User


def test_users_create_list_set_roles_deactivate(runner):
    result = runner.invoke(args=["users", "create", "--org", "New Clinic", "--email", "Nia@New.Example",
                                 "--name", "Nia", "--role", "uploader", "--password", "pw-123456"])
    assert result.exit_code == 0, result.output
    user = User.by_email("nia@new.example")
    assert user.organization.name == "New Clinic" and user.role_set == {"uploader"}
    assert user.organization.id_systems.count() == 1

    listing = runner.invoke(args=["users", "list", "--org", "New Clinic"])
    assert "nia@new.example\tNew Clinic\tuploader\tactive" in listing.output

    result = runner.invoke(args=["users", "set-roles", "--email", "nia@new.example", "--role", "import_admin", "--role", "coach"])
    assert result.exit_code == 0
    assert User.by_email("nia@new.example").role_set == {"import_admin", "coach"}

    token = User.by_email("nia@new.example").session_token
    result = runner.invoke(args=["users", "deactivate", "--email", "nia@new.example"])
    assert result.exit_code == 0
    user = User.by_email("nia@new.example")
    assert not user.active and user.session_token != token


def test_users_create_refuses_a_taken_email(runner):
    result = runner.invoke(args=["users", "create", "--org", "Demo Clinic", "--email", "admin@demo.example", "--password", "x"])
    assert result.exit_code != 0 and "exists already" in result.output


def test_seed_demo_creates_the_demo_once(runner):
    assert runner.invoke(args=["seed-demo"]).output.startswith("Demo data exists already")
    demo = Organization.by_name("Demo Clinic")
    assert sorted(g.name for g in Group.for_org(demo)) == ["Diabetes Prevention", "Hypertension", "Weight Management"]
    assert User.by_email("admin@demo.example").role_set == {"import_admin", "org_admin"}
    assert User.by_email("uploader@demo.example").role_set == {"uploader"}
    assert User.by_email("coach@demo.example").role_set == {"coach"}
    assert User.by_email("admin@other.example").organization.name == "Other Clinic"


def test_seed_demo_refuses_outside_development(config):
    config.ENV = "production"
    result = create_app(config).test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "only runs in development" in result.output


def test_app_refuses_to_start_without_secret_key_outside_development(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        Config.from_env({"ROSTER_ENV": "production", "INSTANCE_DIR": str(tmp_path)})


def test_development_gets_a_secret_key_kept_under_instance(tmp_path):
    first = Config.from_env({"INSTANCE_DIR": str(tmp_path)})
    again = Config.from_env({"INSTANCE_DIR": str(tmp_path)})
    assert first.SECRET_KEY == again.SECRET_KEY and len(first.SECRET_KEY) > 40
    assert first.DATABASE_URL.startswith("sqlite:///") and first.MAX_UPLOAD_MB == 20 and first.SESSION_IDLE_MINUTES == 15


def test_cli_role_changes_keep_the_last_organization_admin_and_are_audited(runner):
    from app.models import AuditEvent

    result = runner.invoke(args=["users", "set-roles", "--email", "admin@other.example", "--role", "uploader"])
    assert result.exit_code != 0 and User.by_email("admin@other.example").has_role("org_admin")
    result = runner.invoke(args=["users", "set-roles", "--email", "uploader@demo.example", "--role", "coach"])
    assert result.exit_code == 0
    assert AuditEvent.get(AuditEvent.action == "roles_changed").details == {"old": ["uploader"], "new": ["coach"]}


def test_db_status_lists_applied_and_pending_migrations(runner, pending_migration):
    result = runner.invoke(args=["db", "status"])
    lines = result.output.splitlines()
    assert result.exit_code == 0 and "applied  0001_initial" in lines and f"pending  {pending_migration}" in lines
    assert f"applied  {pending_migration}" not in lines and lines[-1].endswith("1 pending. Run: flask db upgrade")


def test_flask_finds_the_app_without_app_option(database_url, tmp_path):
    """.flaskenv names wsgi; python-dotenv makes `flask` read it (without it Flask would guess from file names)."""
    root = Path(__file__).resolve().parents[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "ROSTER_"))}
    env.update(ROSTER_ENV="development", DATABASE_URL=database_url, INSTANCE_DIR=str(tmp_path))
    read = subprocess.run([sys.executable, "-c", "import os, flask.cli; flask.cli.load_dotenv(); print(os.environ['FLASK_APP'])"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert read.stdout.strip() == "wsgi", read.stderr
    result = subprocess.run([sys.executable, "-m", "flask", "db", "status"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    migrations = len(migrate.migration_files())
    assert "applied  0001_initial" in result.stdout and f"{migrations} applied, 0 pending." in result.stdout
