"""Users: passwords, sign-in with lockout, creation. No Flask here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import peewee as pw
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Organization, User, db, utcnow


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
    Made on first use: a scrypt hash at import would add 0.1 s to every CLI command."""
    return generate_password_hash("not-a-real-password")


@dataclass
class SignIn:
    user: User | None = None
    locked_until: datetime | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.user is not None and self.locked_until is None and not self.reason


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, werkzeug's default KDF


def authenticate(email: str, password: str, *, max_failures: int = 5, lockout_minutes: int = 15) -> SignIn:
    """Check a password; `max_failures` wrong ones within `lockout_minutes` lock the account that long.

    Each attempt first takes a slot in the database (failed_logins + 1, in SQL, only while the account
    is open and under the limit), and only then is the password checked: of any number of attempts at
    once, at most `max_failures` wrong passwords are checked. A right one gives its own slot back; the
    count restarts once the latest failure is older than the window. Nothing here clears a lock early.
    """
    user = User.by_email(email or "")
    now = utcnow()
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return SignIn(reason="unknown")
    window = now - timedelta(minutes=lockout_minutes)
    unlocked = User.locked_until.is_null() | (User.locked_until <= now)
    stale = User.failed_at.is_null() | (User.failed_at < window)
    slot = (User.update(failed_logins=pw.Case(None, [(stale, 1)], User.failed_logins + 1), failed_at=now)
            .where((User.id == user.id) & unlocked & (stale | (User.failed_logins < max_failures)))
            .returning(User.failed_logins).execute())
    taken = next(iter(slot), None)
    if taken is None:  # locked, or the last slot is being used by an attempt that has not locked it yet
        locked = User.select(User.locked_until).where(User.id == user.id).scalar()
        return SignIn(user=user, locked_until=locked if locked and locked > now else now + timedelta(
            minutes=lockout_minutes), reason="locked")
    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        if taken.failed_logins < max_failures:
            return SignIn(user=user, reason="password")
        locked = now + timedelta(minutes=lockout_minutes)
        User.update(failed_logins=0, locked_until=locked).where(User.id == user.id).execute()
        return SignIn(user=user, locked_until=locked, reason="locked")
    given_back = pw.Case(None, [(User.failed_logins > 0, User.failed_logins - 1)], 0)
    User.update(failed_logins=given_back, last_login_at=now).where(User.id == user.id).execute()
    if not user.active:
        return SignIn(user=user, reason="inactive")
    return SignIn(user=user)


def create_user(org: Organization, email: str, name: str, roles, password: str | None = None, *, password_hash: str = "") -> User:
    user = User(organization=org, email=email.strip().lower(), name=name)
    user.set_roles(roles)
    user.password_hash = hash_password(password) if password else password_hash
    with db.atomic():
        user.save()
    return user


def create_organization(name: str, *, country: str = "US", date_order: str = "MDY") -> Organization:
    """A new organization, with the default identification system every organization has."""
    from app.models import DEFAULT_ID_SYSTEM, IdentificationSystem

    with db.atomic():
        org = Organization.create(name=name, country=country, date_order=date_order)
        IdentificationSystem.create(organization=org, name=DEFAULT_ID_SYSTEM)
    return org
