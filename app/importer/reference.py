"""Load, once per upload, what an organization has that the rules check against."""
from __future__ import annotations

import hashlib
from datetime import date

import peewee as pw

from app.importer.rules import Reference
from app.models import (
    DEFAULT_ID_SYSTEM,
    Group,
    GroupCoach,
    IdentificationSystem,
    Organization,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    User,
)


def load_reference(org: Organization, *, upload_group_id: int | None = None, today: date | None = None) -> Reference:
    groups = list(Group.select(Group.id, Group.name, Group.archived).where(Group.organization == org))
    systems = list(IdentificationSystem.for_org(org))
    coach_groups: dict[int, set[int]] = {}
    coach_emails: dict[int, str] = {}
    coaches = (
        User.select(User.id, User.email, GroupCoach.group)
        .join(GroupCoach, pw.JOIN.LEFT_OUTER)
        .where((User.organization == org) & (User.active == True) & User.roles.contains("coach"))  # noqa: E712
        .tuples()
    )
    for user_id, email, group_id in coaches:
        coach_emails[user_id] = email
        if group_id:
            coach_groups.setdefault(user_id, set()).add(group_id)
    return Reference(
        today=today or date.today(),
        country=org.country,
        date_order=org.date_order,
        groups={g.name.lower(): g.id for g in groups if not g.archived},
        archived_groups=frozenset(g.name.lower() for g in groups if g.archived),
        group_names={g.id: g.name for g in groups},
        id_systems={s.name.lower(): s.id for s in systems},
        id_system_names={s.id: s.name for s in systems},
        default_id_system=next((s.id for s in systems if s.name == DEFAULT_ID_SYSTEM), None),
        coaches={email.lower(): (uid, frozenset(coach_groups.get(uid, ()))) for uid, email in coach_emails.items()},
        upload_group=upload_group_id,
    )


def participants_fingerprint(org: Organization) -> str:
    """Changes whenever the organization's participants, identifiers, memberships or groups change."""
    parts = []
    for model, stamp in (
        (Participant, Participant.updated_at),
        (ParticipantIdentifier, None),
        (ParticipantGroup, None),
        (Group, None),
    ):
        query = model.select(pw.fn.COUNT(model.id), pw.fn.MAX(model.id), pw.fn.MAX(stamp) if stamp else pw.Value(0))
        if model is Participant or model is Group:
            query = query.where(model.organization == org)
        elif model is ParticipantIdentifier:
            query = query.join(Participant).where(Participant.organization == org)
        else:
            query = query.join(Group).where(Group.organization == org)
        parts.append(repr(query.tuples().get()))
    parts.append(repr(Group.select(pw.fn.COUNT(Group.id)).where((Group.organization == org) & Group.archived).scalar()))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
