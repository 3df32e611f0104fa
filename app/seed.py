"""The demo organization, so a fresh checkout has something to sign in to."""
from __future__ import annotations

from functools import cache

from app.accounts import create_organization, create_user, hash_password
from app.models import Group, GroupCoach, Organization, db

DEMO_PASSWORD = "roster-demo"
DEMO_GROUPS = ("Diabetes Prevention", "Hypertension", "Weight Management")
DEMO_USERS = (
    ("admin@demo.example", "Ada Admin", ("import_admin", "org_admin")),
    ("uploader@demo.example", "Uma Uploader", ("uploader",)),
    ("coach@demo.example", "Casey Coach", ("coach",)),
)
DEMO_COACHES = (  # one coach per group; coach@demo.example leads the first
    ("coach@demo.example", "Casey Coach"),
    ("hill@demo.example", "Hana Hill"),
    ("moss@demo.example", "Milo Moss"),
)
OTHER_ADMIN = ("admin@other.example", "Otto Other", ("import_admin", "org_admin"))


@cache
def _demo_password_hash() -> str:
    return hash_password(DEMO_PASSWORD)  # one KDF run for all demo users


def seed_demo() -> bool:
    """Create the demo organizations and users; False (and nothing written) if they exist."""
    if Organization.select().where(Organization.name == "Demo Clinic").exists():
        return False
    with db.atomic():
        demo = create_organization("Demo Clinic")
        users = {email: create_user(demo, email, name, roles, password_hash=_demo_password_hash()) for email, name, roles in DEMO_USERS}
        for group_name, (email, name) in zip(DEMO_GROUPS, DEMO_COACHES, strict=True):
            group = Group.create(organization=demo, name=group_name)
            coach = users.get(email) or create_user(demo, email, name, ("coach",), password_hash=_demo_password_hash())
            GroupCoach.create(group=group, user=coach)
        other = create_organization("Other Clinic")
        Group.create(organization=other, name="Diabetes Prevention")
        create_user(other, *OTHER_ADMIN, password_hash=_demo_password_hash())
    return True
