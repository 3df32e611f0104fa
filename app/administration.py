"""Organization admin: users' roles and activity, groups and their care teams, identification systems.

Plain functions, no Flask: each checks its rule, writes in one transaction and records the audit event.
"""
from __future__ import annotations

import unicodedata

import peewee as pw

from app import audit
from app.models import (
    DEFAULT_ID_SYSTEM,
    ROLES,
    Group,
    GroupCoach,
    IdentificationSystem,
    Organization,
    ParticipantGroup,
    User,
    db,
    lock_organization,
)

NAME_MAX = 100


class Refused(Exception):
    """An admin action that would break a rule; the message says what to do instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_name(text: str | None, what: str) -> str:
    """A group's or ID system's name: single spaces, Unicode NFC (as file cells are), not blank or too long."""
    name = unicodedata.normalize("NFC", " ".join((text or "").split()))
    if not name:
        raise Refused(f"Write a name for the {what}.")
    if len(name) > NAME_MAX:
        raise Refused(f"The {what} name is too long: at most {NAME_MAX} characters.")
    return name


# Users ----------------------------------------------------------------------------------------------

def _active_org_admins(org_id: int) -> list[int]:
    users = User.select(User.id, User.roles).where((User.organization == org_id) & (User.active == True))  # noqa: E712
    return [u.id for u in users if "org_admin" in u.role_set]


def _keep_an_org_admin(user: User, *, was_admin: bool) -> None:
    """Called after the change, inside its transaction: refuse if it took away the last active admin."""
    if was_admin and not _active_org_admins(user.organization_id):
        raise Refused(f"{user.name} is the last Organization admin. Make someone else an Organization admin first.")


def change_roles(user: User, roles, *, by: User | None, ip: str | None = None) -> User:
    """Replace a user's roles; the organization always keeps an active Organization admin."""
    old = sorted(user.role_set)
    new = sorted(set(roles))
    was_admin = user.active and "org_admin" in old
    unknown = set(new) - set(ROLES)
    if unknown:
        raise Refused(f"Unknown role: {', '.join(sorted(unknown))}.")
    if old == new:
        return user
    try:
        with db.atomic():
            lock_organization(user.organization_id)  # two admins demoting each other at once: one waits
            user.set_roles(new)
            user.save(only=[User.roles])
            _keep_an_org_admin(user, was_admin=was_admin)
            audit.record("roles_changed", organization=user.organization_id, user=by, obj=user, ip=ip,
                         details={"old": old, "new": new})
    except Refused:
        user.set_roles(old)
        raise
    return user


def deactivate_user(user: User, *, by: User | None, ip: str | None = None) -> User:
    """Deactivate a user; their sessions end at once (the session token is rotated)."""
    if not user.active:
        return user
    if by is not None and by.id == user.id:
        raise Refused("You cannot deactivate yourself. Ask another Organization admin.")
    try:
        with db.atomic():
            lock_organization(user.organization_id)
            user.active = False
            user.save(only=[User.active])
            _keep_an_org_admin(user, was_admin=user.has_role("org_admin"))
            user.rotate_session_token()
            audit.record("user_deactivated", organization=user.organization_id, user=by, obj=user, ip=ip)
    except Refused:
        user.active = True
        raise
    return user


def reactivate_user(user: User, *, by: User | None, ip: str | None = None) -> User:
    if user.active:
        return user
    with db.atomic():
        user.active = True
        user.failed_logins = 0
        user.locked_until = None
        user.save(only=[User.active, User.failed_logins, User.locked_until])
        audit.record("user_reactivated", organization=user.organization_id, user=by, obj=user, ip=ip)
    return user


# Names of groups and ID systems -------------------------------------------------------------------

def _same_name(model, org_id: int, name: str, keep=None):
    """Another object of the organization with this name, ignoring case (names must stay unambiguous)."""
    clash = model.select().where((model.organization == org_id) & (pw.fn.LOWER(model.name) == name.lower()))
    if keep is not None:
        clash = clash.where(model.id != keep.id)
    return clash.first()


def _rename(thing, new: str, action: str, by: User | None, ip: str | None):
    """Rename a group or ID system (the name already checked), audited old -> new."""
    if new == thing.name:
        return thing
    with db.atomic():
        old, thing.name = thing.name, new
        thing.save(only=[type(thing).name])
        audit.record(action, organization=thing.organization_id, user=by, obj=thing, ip=ip,
                     details={"old": old, "new": new})
    return thing


# Groups ---------------------------------------------------------------------------------------------

def _group_name(org_id: int, text: str | None, *, keep: Group | None = None) -> str:
    name = clean_name(text, "group")
    if ";" in name:
        raise Refused('A group name cannot contain ";": imports use it to separate several groups.')
    existing = _same_name(Group, org_id, name, keep)
    if existing:
        where = " (archived)" if existing.archived else ""
        raise Refused(f'A group named "{existing.name}"{where} exists already. Choose another name.')
    return name


def create_group(org: Organization, name: str, *, by: User | None, ip: str | None = None) -> Group:
    with db.atomic():
        group = Group.create(organization=org, name=_group_name(org.id, name))
        audit.record("group_created", organization=org.id, user=by, obj=group, ip=ip)
    return group


def rename_group(group: Group, name: str, *, by: User | None, ip: str | None = None) -> Group:
    return _rename(group, _group_name(group.organization_id, name, keep=group), "group_renamed", by, ip)


def set_group_archived(group: Group, archived: bool, *, by: User | None, ip: str | None = None) -> Group:
    """Archive (no longer offered to imports, history kept) or restore a group."""
    if group.archived == archived:
        return group
    with db.atomic():
        group.archived = archived
        group.save(only=[Group.archived])
        audit.record("group_archived" if archived else "group_restored", organization=group.organization_id,
                     user=by, obj=group, ip=ip)
    return group


def delete_group(group: Group, *, by: User | None, ip: str | None = None) -> None:
    """Only an empty group can be deleted; one with participants is archived instead."""
    with db.atomic():
        count = ParticipantGroup.select().where(ParticipantGroup.group == group).count()
        if count:
            raise Refused(f'"{group.name}" has {count:,} participants, so it cannot be deleted. Archive it instead.')
        audit.record("group_deleted", organization=group.organization_id, user=by, obj=group, ip=ip,
                     details={"name": group.name})
        group.delete_instance(recursive=False)


def coach_candidates(group: Group):
    """Active coaches of the organization who are not yet in the group's care team."""
    in_team = GroupCoach.select(GroupCoach.user).where(GroupCoach.group == group)
    return (User.select().where((User.organization == group.organization_id) & (User.active == True)  # noqa: E712
                                & User.roles.contains("coach") & User.id.not_in(in_team)).order_by(User.name))


def add_coach(group: Group, user: User, *, by: User | None, ip: str | None = None) -> None:
    if user.organization_id != group.organization_id or not user.has_role("coach") or not user.active:
        raise Refused(f"{user.name} is not an active coach of this organization. Give them the Coach role first.")
    with db.atomic():
        _, created = GroupCoach.get_or_create(group=group, user=user)
        if created:
            audit.record("coach_added", organization=group.organization_id, user=by, obj=group, ip=ip,
                         details={"coach_user_id": user.id})


def remove_coach(group: Group, user: User, *, by: User | None, ip: str | None = None) -> None:
    with db.atomic():
        removed = GroupCoach.delete().where((GroupCoach.group == group) & (GroupCoach.user == user)).execute()
        if removed:
            audit.record("coach_removed", organization=group.organization_id, user=by, obj=group, ip=ip,
                         details={"coach_user_id": user.id})


# Identification systems -------------------------------------------------------------------------------

def _id_system_name(org_id: int, text: str | None, *, keep: IdentificationSystem | None = None) -> str:
    name = clean_name(text, "identification system")
    if _same_name(IdentificationSystem, org_id, name, keep):
        raise Refused(f'An identification system named "{name}" exists already.')
    return name


def add_id_system(org: Organization, name: str, *, by: User | None, ip: str | None = None) -> IdentificationSystem:
    with db.atomic():
        system = IdentificationSystem.create(organization=org, name=_id_system_name(org.id, name))
        audit.record("id_system_added", organization=org.id, user=by, obj=system, ip=ip, details={"name": system.name})
    return system


def rename_id_system(system: IdentificationSystem, name: str, *, by: User | None, ip: str | None = None):
    if system.name == DEFAULT_ID_SYSTEM:
        raise Refused(f"{DEFAULT_ID_SYSTEM} is the default identification system and keeps its name.")
    return _rename(system, _id_system_name(system.organization_id, name, keep=system), "id_system_renamed", by, ip)
