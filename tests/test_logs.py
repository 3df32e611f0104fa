"""Logs for operators: a request id per request, JSON lines, an access log without colours, a quiet CLI."""
from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from app.config import Config
from app.factory import create_app
from app.models import db


def test_every_response_carries_its_own_request_id(client, url):
    first, second = (client.get(url("auth.sign_in")).headers["X-Request-ID"] for _ in range(2))
    assert len(first) == 32 and first != second


@pytest.mark.parametrize(("hops", "incoming", "kept"), [
    (0, "lb-7f3a9c", False),  # anyone could send it
    (1, "lb-7f3a9c", True),   # the trusted proxy's id, so its log and ours meet
    (1, "x" * 65, False),
    (1, "two words", False),
])
def test_an_incoming_request_id_is_kept_only_from_a_trusted_proxy_and_only_when_sane(app, config, hops, incoming, kept):
    config.TRUSTED_PROXIES = hops
    response = create_app(config).test_client().get("/healthz", headers={"X-Request-ID": incoming})
    assert (response.headers["X-Request-ID"] == incoming) is kept


def test_json_is_the_default_outside_development_and_text_in_it(tmp_path):
    assert Config.from_env({"INSTANCE_DIR": str(tmp_path)}).LOG_FORMAT == "text"
    production = Config.from_env({
        "ROSTER_ENV": "production", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(48), "BASE_URL": "https://r.example",
        "ROSTER_FILE_KEY": Fernet.generate_key().decode(), "MAIL_BACKEND": "file",
    })
    assert production.LOG_FORMAT == "json"


@pytest.fixture(params=["json", "text"])
def live(request, app, config):
    """The development server on a real socket, logging in each format."""
    config.LOG_FORMAT = request.param
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db.close()  # the server's threads use their own connections
    yield f"http://127.0.0.1:{server.port}", request.param
    server.shutdown()
    db.connect(reuse_if_open=True)


def test_the_access_log_has_no_colour_codes_no_query_string_and_the_request_id(live, capsys):
    base, log_format = live
    with pytest.raises(urllib.error.HTTPError) as refused:  # an invitation link nobody sent: 404
        urllib.request.urlopen(f"{base}/users/invitation?token=secret-invitation-token")
    request_id = refused.value.headers["X-Request-ID"]
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\u001b" not in err and "secret-invitation-token" not in err
    if log_format == "text":
        assert f"INFO [{request_id}] roster.access: GET /users/invitation 404 " in err
        return
    access = [line for line in map(json.loads, err.splitlines()) if line["logger"] == "roster.access"]
    assert [(a["method"], a["path"], a["status"], a["request_id"]) for a in access] == [
        ("GET", "/users/invitation", 404, request_id)]


def test_commands_log_only_warnings_unless_asked(runner):
    set_roles = ["users", "set-roles", "--email", "coach@demo.example", "--role"]
    quiet = runner.invoke(args=[*set_roles, "uploader"])
    assert quiet.exit_code == 0 and quiet.output.splitlines() == ["coach@demo.example: uploader."]
    verbose = runner.invoke(args=[*set_roles, "coach", "-v"])
    assert verbose.exit_code == 0 and "roster.audit: audit roles_changed" in verbose.output
