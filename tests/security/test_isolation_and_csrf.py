"""Every route, walked: another organization gets 404, a request without a CSRF token gets 400."""
from __future__ import annotations

from flask import url_for as flask_url_for

from app.models import Participant, Upload
from tests.conftest import csrf_token, sign_in
from tests.security.conftest import SAFE_METHODS, fill, routes


def build(app, rule, values):
    with app.test_request_context():
        return flask_url_for(rule.endpoint, **values)


def test_every_object_route_answers_404_to_another_organization(app, client, url, demo_ids):
    sign_in(client, "admin@other.example")
    token = csrf_token(client.get(url("groups.index")))
    walked = 0
    for rule, method in routes(app):
        if not any(name in demo_ids for name in rule.arguments):
            continue
        path = build(app, rule, fill(rule, demo_ids))
        response = client.open(path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        assert response.status_code == 404, f"{method} {path} answered {response.status_code} to another organization"
        walked += 1
    assert walked >= 8
    assert Upload.get_by_id(demo_ids["upload_id"]).status == "pending" and Participant.select().count() == 1  # demo_ids' one


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, client, url, demo_ids):
    sign_in(client, "admin@demo.example")
    walked = 0
    for rule, method in routes(app):
        if method in SAFE_METHODS:
            continue
        path = build(app, rule, fill(rule, demo_ids))
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(path, method=method, data={}, headers=headers)
            assert response.status_code == 400, f"{method} {path} {headers} answered {response.status_code} without a token"
        bad = client.open(path, method=method, data={"csrf_token": "forged"}, headers={"X-CSRFToken": "forged"})
        assert bad.status_code == 400, f"{method} {path} accepted a forged token"
        walked += 1
    assert walked >= 5
    assert Upload.get_by_id(demo_ids["upload_id"]).status == "pending" and Participant.select().count() == 1  # demo_ids' one


def test_htmx_posts_carry_the_token_from_the_body_headers(client, url, login_as):
    login_as("admin")
    page = client.get(url("importable_files.index")).get_data(as_text=True)
    assert "hx-headers='{\"X-CSRFToken\": \"" in page


def test_every_page_carries_the_security_headers(app, client, url, demo_ids):
    sign_in(client, "admin@demo.example")
    for rule, method in routes(app):
        if method != "GET":
            continue
        response = client.get(build(app, rule, fill(rule, demo_ids)))
        headers = response.headers
        assert "default-src 'self'; script-src 'self'; style-src 'self'" in headers["Content-Security-Policy"], rule.rule
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin" and headers["Cache-Control"] == "no-store", rule.rule


def test_free_text_is_shown_isolated_so_right_to_left_text_cannot_disguise_a_name(client, url, login_as):
    from app.models import Group, Organization, Participant, ParticipantGroup

    login_as("admin")
    demo = Organization.by_name("Demo Clinic")
    group = Group.get(Group.organization == demo)
    # Written past the app's own guards (they refuse or remove such characters): the page still isolates it.
    person = Participant.create(organization=demo, first_name="\u202eeeL", last_name="\u05d3\u05d5\u05d3 Ann")
    ParticipantGroup.create(participant=person, group=group)
    listing = client.get(url("groups.show", group_id=group.id)).get_data(as_text=True)
    assert "<bdi>\u05d3\u05d5\u05d3 Ann</bdi>, <bdi>\u202eeeL</bdi>" in listing
    page = client.get(url("participants.show", participant_id=person.id)).get_data(as_text=True)
    assert "<bdi>\u202eeeL \u05d3\u05d5\u05d3 Ann</bdi>" in page
