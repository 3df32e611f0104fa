"""Flask commands for operators: database, users, demo data."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app import migrate, readiness
from app.accounts import create_organization, create_user
from app.administration import change_roles, deactivate_user
from app.cli_admin import refused_as_click, register_admin_cli
from app.cli_backup import register_backup_cli
from app.cli_imports import imports_cli
from app.factory import actions, current_config
from app.importer import undo
from app.models import ROLES, Organization, User
from app.retention import parse_age
from app.seed import DEMO_PASSWORD, seed_demo

db_cli = AppGroup("db", help="Database schema.")
users_cli = AppGroup("users", help="Users and their roles.")
ROLE_CHOICE = click.Choice(sorted(ROLES))


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations."""
    applied = migrate.upgrade()
    click.echo(f"Applied: {', '.join(applied)}" if applied else "Database is up to date.")


@db_cli.command("status")
def db_status():
    """List applied and pending migrations."""
    applied, pending = migrate.status()
    for name in applied:
        click.echo(f"applied  {name}")
    for name in pending:
        click.echo(f"pending  {name}")
    click.echo(f"{len(applied)} applied, {len(pending)} pending." + (" Run: flask db upgrade" if pending else ""))


def _user(email: str) -> User:
    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    return user


@users_cli.command("create")
@click.option("--org", "org_name", required=True, help="Organization name (created if new).")
@click.option("--email", required=True)
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Repeat for several roles.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(org_name, email, name, roles, password):
    """Create a user in an organization."""
    if User.by_email(email):
        raise click.ClickException(f"A user with email {email} exists already.")
    org = Organization.get_or_none(Organization.name == org_name) or create_organization(org_name)
    user = create_user(org, email, name or email, roles, password)
    click.echo(f"Created {user.email} in {org.name} with roles: {', '.join(sorted(user.role_set)) or 'none'}.")


@users_cli.command("list")
@click.option("--org", "org_name", default=None)
def users_list(org_name):
    """List users, their organization, roles and whether they are active."""
    query = User.select(User, Organization).join(Organization).order_by(Organization.name, User.email)
    if org_name:
        query = query.where(Organization.name == org_name)
    for user in query:
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email}\t{user.organization.name}\t{' '.join(sorted(user.role_set)) or '-'}\t{state}")


@users_cli.command("set-roles")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="The complete new set; none clears.")
def users_set_roles(email, roles):
    """Replace a user's roles."""
    user = refused_as_click(lambda: change_roles(_user(email), roles, by=None))
    click.echo(f"{user.email}: {', '.join(sorted(user.role_set)) or 'no roles'}.")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def users_deactivate(email):
    """Deactivate a user and end their sessions."""
    user = refused_as_click(lambda: deactivate_user(_user(email), by=None))
    click.echo(f"{user.email} is deactivated.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo organizations and users (development only)."""
    if not current_config().is_development:
        raise click.ClickException("seed-demo only runs in development (ROSTER_ENV=development).")
    if seed_demo():
        click.echo(f"Seeded Demo Clinic and Other Clinic; every demo user's password is {DEMO_PASSWORD}.")
    else:
        click.echo("Demo data exists already; nothing changed.")


@click.command("purge-uploads")
@click.option("--older-than", default="30d", show_default=True, help="Age of Pending or Failed uploads to purge, e.g. 30d or 12h.")
@with_appcontext
def purge_uploads_command(older_than):
    """Destroy the files and previews of uploads left Pending or Failed longer than --older-than."""
    try:
        age = parse_age(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    purged = actions().purge(age)
    click.echo(f"Purged {purged} upload(s) left Pending, Failed or Needs mapping longer than {older_than}.")
    days = current_config().UNDO_DAYS
    closed = undo.close_windows(days)
    click.echo(f"Closed the undo window of {closed} import(s) completed more than {days} days ago.")


@click.command("ready")
@with_appcontext
def ready_command():
    """Check what /readyz checks (database, migrations, queue), for a worker machine's health check."""
    failed = readiness.failed_checks(current_app.extensions["roster.jobs"].huey)
    for line in failed:
        click.echo(line, err=True)
    if failed:
        raise SystemExit(1)
    click.echo("ok")


def _set_verbosity(ctx, param, count):
    """Commands print their results; logging says only warnings unless -v (info) or -vv (debug)."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(count, 2)]
    logging.getLogger().setLevel(level)
    logging.getLogger("peewee").setLevel(max(logging.INFO, level))  # its DEBUG lines carry participant data


def _add_verbose_option(command: click.Command) -> None:
    """Give every command of ours -v/--verbose, without touching their signatures."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_verbose_option(sub)
        return
    if any(param.name == "verbose" for param in command.params):
        return  # the commands are module-level: an earlier app of this process added it
    command.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False, is_eager=True,
                                       callback=_set_verbosity, help="Log more: -v info, -vv debug."))


def register_cli(app):
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(purge_uploads_command)
    app.cli.add_command(ready_command)
    app.cli.add_command(imports_cli)
    register_admin_cli(app, users_cli)
    register_backup_cli(db_cli)
    for command in app.cli.commands.values():
        _add_verbose_option(command)
