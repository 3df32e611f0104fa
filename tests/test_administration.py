"""Rules over several users hold when two admins act at the same instant."""
from __future__ import annotations

import os
import threading

import pytest

from app.accounts import create_user
from app.administration import Refused, change_roles
from app.models import Organization, User, db


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a real race needs PostgreSQL's row locks")
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app):
    org = Organization.by_name("Demo Clinic")
    for round_ in range(8):  # the unlocked interleaving is likely, not certain, in any one round
        with db.atomic():
            User.update(roles="").where((User.organization == org) & User.roles.contains("org_admin")).execute()
            pair = [create_user(org, f"race{round_}-{n}@demo.example", f"Racer {n}", ["org_admin"]) for n in (1, 2)]
        db.close()
        results, barrier = [], threading.Barrier(2)

        def demote(user_id, barrier=barrier, results=results):
            with db.connection_context():
                user = User.get_by_id(user_id)
                barrier.wait()
                try:
                    change_roles(user, ["uploader"], by=None)
                    results.append("demoted")
                except Refused:
                    results.append("refused")

        threads = [threading.Thread(target=demote, args=(u.id,)) for u in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        db.connect(reuse_if_open=True)
        assert sorted(results) == ["demoted", "refused"], round_
        admins = [u for u in User.select().where(User.organization == org) if "org_admin" in u.role_set]
        assert len(admins) == 1
