"""Every route, walked as each demo role: what a role may not do answers 403."""
from __future__ import annotations

import pytest
from flask import url_for as flask_url_for

from tests.conftest import DEMO_EMAILS, csrf_token, sign_in
from tests.security.conftest import fill, routes

# Who may use each endpoint. A new endpoint must be added here, so no route escapes the walk.
ACCESS = {
    "health.healthz": "anyone",
    "health.readyz": "anyone",
    "auth.index": "anyone",
    "auth.sign_in": "anyone",
    "auth.sign_out": "signed_in",
    "groups.index": "signed_in",
    "groups.show": "signed_in",
    "participants.show": "signed_in",
    "importable_files.index": "import",
    "importable_files.upload": "import",
    "importable_files.sample": "import",
    "importable_files.show": "import",
    "importable_files.results": "import",
    "importable_files.row_detail": "import",
    "importable_files.issue_report": "import",
    "importable_files.refresh": "import",
    "importable_files.complete": "import_admin",
    "importable_files.delete": "import_admin",
    "importable_files.undo": "import_admin",
    "importable_files.mapping": "import",
    "importable_files.saved_mappings": "org_admin",
    "importable_files.delete_saved_mapping": "org_admin",
    "review.decide": "import",  # reviewing prepares the import; an Importable files admin completes it
    "review.fix": "import",
    "review.line": "import",
    "review.part": "import",
    "audit.index": "org_admin",
    "organization.settings": "org_admin",
    "audit.export": "org_admin",
    "users.index": "org_admin",
    "users.invite": "org_admin",
    "users.roles": "org_admin",
    "users.deactivate": "org_admin",
    "users.reactivate": "org_admin",
    "users.invite_again": "org_admin",
    "users.accept_invitation": "anyone",
    "id_systems.index": "org_admin",
    "id_systems.add": "org_admin",
    "id_systems.row": "org_admin",
    "id_systems.rename": "org_admin",
    "groups.heading": "signed_in",
    "groups.new": "org_admin",
    "groups.rename": "org_admin",
    "groups.archive": "org_admin",
    "groups.restore": "org_admin",
    "groups.delete": "org_admin",
    "groups.add_to_team": "org_admin",
    "groups.remove_from_team": "org_admin",
    "groups.invite": "invite",  # Importable files admin or Organization admin
}
ROLES = {  # what each demo user holds
    "admin": {"signed_in", "import", "import_admin", "org_admin", "invite"},
    "uploader": {"signed_in", "import"},
    "coach": {"signed_in"},
}


def test_every_endpoint_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule, _ in routes(app)}
    missing = endpoints - set(ACCESS)
    assert not missing, f"add these endpoints to ACCESS in {__file__}: {sorted(missing)}"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_gets_403_exactly_where_it_lacks_the_right(app, client, url, demo_ids, role):
    sign_in(client, DEMO_EMAILS[role])
    token = csrf_token(client.get(url("groups.index")))
    checked = 0
    for rule, method in routes(app):
        level = ACCESS[rule.endpoint]
        if level in ("anyone", "signed_in"):
            continue  # sign-out would end the walk; these have their own tests
        with app.test_request_context():
            path = flask_url_for(rule.endpoint, **fill(rule, demo_ids))
        response = client.open(path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        if level in ROLES[role]:
            assert response.status_code != 403, f"{role} was refused {method} {path}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} for {method} {path}"
            checked += 1
    assert role == "admin" or checked > 0
