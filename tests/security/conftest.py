"""Walk the URL map: every route, filled with the ids of the demo organization's objects."""
from __future__ import annotations

import io

import pytest

from app.models import Group, Organization, Participant, SavedMapping, Upload, User
from tests.conftest import csrf_token, sign_in

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
GOOD_CSV = ("First Name,Last Name,Date of Birth,Email,Group\n"
            "Ann,Lee,1980-01-02,ann@mail.org,Diabetes Prevention\n"
            "Bo,Ray,02/30/1980,bo@mail.org,Diabetes Prevention\n")


def routes(app):
    """(rule, method) for every application route but static files."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def fill(rule, ids: dict) -> dict:
    """Values for a rule's arguments; an id argument nobody knows fails loudly, so new routes get walked."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if hasattr(converter, "items"):  # any(a, b): the first choice
            values[name] = sorted(converter.items)[0] if isinstance(converter.items, set) else list(converter.items)[0]
        elif name in ids:
            values[name] = ids[name]
        else:
            raise AssertionError(f"Route {rule.rule} takes <{name}>: add an object of the demo organization for it "
                                 "to demo_ids in tests/security/conftest.py")
    return values


@pytest.fixture
def demo_ids(client, url):
    """One object of each kind in Demo Clinic, made through the real app as its admin."""
    sign_in(client, "admin@demo.example")
    token = csrf_token(client.get(url("groups.index")))
    client.post(url("importable_files.upload"), data={"file": (io.BytesIO(GOOD_CSV.encode()), "p.csv"), "group": "0",
                                                       "csrf_token": token}, content_type="multipart/form-data")
    client.post(url("auth.sign_out"), data={"csrf_token": token})
    demo = Organization.by_name("Demo Clinic")
    upload = Upload.get(Upload.organization == demo)
    return {
        "upload_id": upload.id,
        "row_number": 2,
        "group_id": Group.get(Group.organization == demo).id,
        "user_id": User.by_email("uploader@demo.example").id,
        "system_id": demo.id_systems.get().id,
        "participant_id": Participant.create(organization=demo, first_name="Cy", last_name="Ray").id,
        "mapping_id": SavedMapping.create(organization=demo, header_key="0" * 64, headers=["A"], mapping={"A": None}).id,
    }
