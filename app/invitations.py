"""Invitations: a new user's one-time link to set a password, and participants' invitation emails.

No Flask here: the caller passes the mailer and a function that turns a token into the link to send.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from app import audit
from app.accounts import hash_password
from app.administration import Refused, clean_name
from app.mail import Message
from app.models import ROLES, Group, Invitation, Organization, Participant, User, db, new_token, utcnow

PASSWORD_MIN = 12


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_email(text: str | None) -> str:
    from email_validator import EmailNotValidError, validate_email  # here: 0.05 s of every start-up

    try:
        return validate_email((text or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise Refused("Write one valid email address, like name@example.org.") from None


def invite_user(org: Organization, email: str, name: str, roles, *, by: User | None, mailer,
                link_for: Callable[[str], str], hours: int, ip: str | None = None) -> User:
    """Create a user without a password and email them a link to set one; all or nothing."""
    address = _clean_email(email)
    display = clean_name(name or address.split("@")[0], "user")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise Refused(f"Unknown role: {', '.join(sorted(unknown))}.")
    if User.by_email(address):
        raise Refused(f"{address} already has a Roster account, so it cannot be invited again.")
    with db.atomic():
        user = User(organization=org, email=address, name=display)
        user.set_roles(roles)
        user.save()
        audit.record("user_invited", organization=org.id, user=by, obj=user, ip=ip,
                     details={"roles": sorted(user.role_set)})
        _send_invitation(user, by=by, mailer=mailer, link_for=link_for, hours=hours)
    return user


def send_invitation_again(user: User, *, by: User | None, mailer, link_for: Callable[[str], str], hours: int,
                          ip: str | None = None) -> None:
    """A fresh link for someone who has not set a password yet; earlier links stop working."""
    if user.password_hash or not user.active:
        raise Refused(f"{user.name} has already set a password or is deactivated; there is nothing to resend.")
    with db.atomic():
        audit.record("user_invited_again", organization=user.organization_id, user=by, obj=user, ip=ip)
        _send_invitation(user, by=by, mailer=mailer, link_for=link_for, hours=hours)


def _send_invitation(user: User, *, by, mailer, link_for, hours: int) -> None:
    now = utcnow()
    Invitation.update(used_at=now).where((Invitation.user == user) & Invitation.used_at.is_null()).execute()
    token = new_token()
    Invitation.create(user=user, token_hash=token_hash(token), invited_by=by, expires_at=now + timedelta(hours=hours))
    inviter = f"{by.name} invites you" if by is not None else "You are invited"
    mailer.send(Message(
        to=user.email,
        subject=f"Your Roster invitation from {user.organization.name}",
        body=(f"Hello {user.name},\n\n{inviter} to Roster for {user.organization.name}.\n"
              f"Set your password with this link (it works once and expires in {hours} hours):\n\n"
              f"{link_for(token)}\n\nIf you did not expect this email, you can ignore it.\n"),
    ))


def open_invitation(token: str) -> Invitation | None:
    """The invitation this token opens, if it is unused, unexpired and its user still active."""
    invitation = (Invitation.select(Invitation, User).join(User, on=(Invitation.user == User.id))
                  .where(Invitation.token_hash == token_hash(token or "")).first())
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    if not invitation.user.active:
        return None
    return invitation


def accept_invitation(token: str, password: str, confirm: str, *, ip: str | None = None) -> User:
    """Set the invited user's password; the link is spent."""
    if len(password or "") < PASSWORD_MIN:
        raise Refused(f"Choose a password of at least {PASSWORD_MIN} characters.")
    if password != confirm:
        raise Refused("The two passwords differ. Type the same password twice.")
    with db.atomic():
        invitation = open_invitation(token)
        if invitation is None:
            raise Refused("This invitation link has expired or was already used. Ask your organization admin for a new one.")
        spent = Invitation.update(used_at=utcnow()).where(
            (Invitation.id == invitation.id) & Invitation.used_at.is_null()).execute()
        if not spent:  # a second submit racing the first
            raise Refused("This invitation link was already used. Sign in with your password.")
        user = invitation.user
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        user.save(only=[User.password_hash, User.failed_logins, User.locked_until])
        user.rotate_session_token()
        audit.record("invitation_accepted", organization=user.organization_id, user=user, obj=user, ip=ip)
    return user


# Participants ---------------------------------------------------------------------------------------

@dataclass
class ParticipantInvites:
    invited: int = 0
    without_email: int = 0

    @property
    def message(self) -> str:
        if not self.invited and not self.without_email:
            return "Select the participants to invite first."
        parts = []
        if self.invited:
            parts.append(f"Invited {self.invited:,} participant{'s' if self.invited != 1 else ''}.")
        if self.without_email:
            were = "was" if self.without_email == 1 else "were"
            parts.append(f"{self.without_email:,} without email {were} skipped: add an email to invite them.")
        return " ".join(parts)


def invite_participants(group: Group, participant_ids, *, by: User, mailer, ip: str | None = None) -> ParticipantInvites:
    """Email an invitation to each chosen participant of the group who has an email; mark them Invited."""
    ids = {int(i) for i in participant_ids}
    result = ParticipantInvites()
    if not ids:
        return result
    chosen = list(Participant.in_group(group).where(Participant.id.in_(list(ids))))
    reachable = [p for p in chosen if p.email]
    result.without_email = len(chosen) - len(reachable)
    result.invited = len(reachable)
    org_name = group.organization.name
    with db.atomic():
        if reachable:
            Participant.update(status="invited", invited_at=utcnow()).where(
                Participant.id.in_([p.id for p in reachable])).execute()
        audit.record("participants_invited", organization=group.organization_id, user=by, obj=group, ip=ip,
                     details={"invited": result.invited, "skipped_without_email": result.without_email})
        mailer.send(*(Message(
            to=p.email,
            # The group's name is left out on purpose: a program's name can reveal a condition.
            subject=f"{org_name} invites you",
            body=(f"Hello {p.first_name},\n\n{org_name} invites you to join its care program. "
                  "Your care team will contact you with the next steps.\n"),
        ) for p in reachable))
    return result
