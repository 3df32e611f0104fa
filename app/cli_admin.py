"""Flask commands for organization admin: users invite, groups create/rename/archive, id-systems add/rename."""
from __future__ import annotations

from urllib.parse import urlencode

import click
from flask import current_app, url_for
from flask.cli import AppGroup, with_appcontext

from app.administration import Refused, add_id_system, create_group, rename_group, rename_id_system, set_group_archived
from app.factory import current_config
from app.invitations import invite_user
from app.mail import mailer_for
from app.models import ROLES, Group, IdentificationSystem, Organization

groups_cli = AppGroup("groups", help="Groups of an organization.")
id_systems_cli = AppGroup("id-systems", help="Identification systems of an organization.")
ORG = click.option("--org", "org_name", required=True, help="Organization name.")


def _org(name: str) -> Organization:
    org = Organization.get_or_none(Organization.name == name)
    if org is None:
        raise click.ClickException(f"No organization named {name}.")
    return org


def _group(org: Organization, name: str) -> Group:
    group = Group.get_or_none((Group.organization == org) & (Group.name == name))
    if group is None:
        raise click.ClickException(f'No group named "{name}" in {org.name}.')
    return group


def refused_as_click(action):
    try:
        return action()
    except Refused as refused:
        raise click.ClickException(refused.message) from None


@click.command("invite")
@with_appcontext
@ORG
@click.option("--email", required=True)
@click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
@click.option("--role", "roles", multiple=True, type=click.Choice(sorted(ROLES)), help="Repeat for several roles.")
def users_invite(org_name, email, name, roles):
    """Invite a user: an email with a one-time link to set a password."""
    org = _org(org_name)
    settings = current_config()

    # Built before the transaction: a request context's teardown would close the database inside it.
    with current_app.test_request_context():
        path = url_for("users.accept_invitation")

    def link_for(token: str) -> str:
        return f"{settings.BASE_URL.rstrip('/')}{path}?{urlencode({'token': token})}"

    user = refused_as_click(lambda: invite_user(org, email, name, roles, by=None, mailer=mailer_for(settings),
                                                 link_for=link_for, hours=settings.INVITATION_HOURS))
    click.echo(f"Invited {user.email} to {org.name}; the link expires in {settings.INVITATION_HOURS} hours.")


@groups_cli.command("list")
@ORG
def groups_list(org_name):
    """List the organization's groups with their participant counts; archived ones are marked."""
    org = _org(org_name)
    for group in Group.for_org(org, include_archived=True):
        state = "archived" if group.archived else "active"
        click.echo(f"{group.name}\t{group.memberships.count()}\t{state}")


@groups_cli.command("create")
@ORG
@click.option("--name", required=True)
def groups_create(org_name, name):
    """Create a group."""
    group = refused_as_click(lambda: create_group(_org(org_name), name, by=None))
    click.echo(f'Created group "{group.name}".')


@groups_cli.command("rename")
@ORG
@click.option("--name", required=True, help="The group's current name.")
@click.option("--to", "new_name", required=True, help="The new name.")
def groups_rename(org_name, name, new_name):
    """Rename a group."""
    group = _group(_org(org_name), name)
    refused_as_click(lambda: rename_group(group, new_name, by=None))
    click.echo(f'Renamed "{name}" to "{group.name}".')


@groups_cli.command("archive")
@ORG
@click.option("--name", required=True)
@click.option("--restore", is_flag=True, help="Make an archived group active again.")
def groups_archive(org_name, name, restore):
    """Archive a group (imports no longer accept it; its participants stay), or restore it."""
    group = _group(_org(org_name), name)
    set_group_archived(group, not restore, by=None)
    click.echo(f'"{group.name}" is {"active" if restore else "archived"}.')


@id_systems_cli.command("list")
@ORG
def id_systems_list(org_name):
    """List the organization's identification systems."""
    for system in IdentificationSystem.for_org(_org(org_name)):
        click.echo(system.name)


@id_systems_cli.command("add")
@ORG
@click.option("--name", required=True)
def id_systems_add(org_name, name):
    """Add an identification system; imports name it in the ID System column."""
    system = refused_as_click(lambda: add_id_system(_org(org_name), name, by=None))
    click.echo(f'Added identification system "{system.name}".')


@id_systems_cli.command("rename")
@ORG
@click.option("--name", required=True)
@click.option("--to", "new_name", required=True)
def id_systems_rename(org_name, name, new_name):
    """Rename an identification system (MRN, the default, keeps its name)."""
    org = _org(org_name)
    system = IdentificationSystem.get_or_none((IdentificationSystem.organization == org) & (IdentificationSystem.name == name))
    if system is None:
        raise click.ClickException(f'No identification system named "{name}" in {org.name}.')
    refused_as_click(lambda: rename_id_system(system, new_name, by=None))
    click.echo(f'Renamed "{name}" to "{system.name}".')


def register_admin_cli(app, users_cli) -> None:
    users_cli.add_command(users_invite)
    app.cli.add_command(groups_cli)
    app.cli.add_command(id_systems_cli)
