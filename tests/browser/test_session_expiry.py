"""Idle expiry seen from the browser: an htmx action after the session went idle lands on sign-in."""
from __future__ import annotations

import re

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import expect

from .live_app import SECRET_KEY
from .steps import open_importable_files, patient_file, sign_in, upload_file, upload_row

COOKIE = "roster_session"


def age_session(context, minutes: int) -> None:
    """Move the session's last activity `minutes` into the past, as if the person had walked away."""
    signer = Flask(__name__)
    signer.secret_key = SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    session = serializer.loads(cookie["value"])
    session["seen_at"] -= minutes * 60
    context.add_cookies([{**cookie, "value": serializer.dumps(session)}])


def test_htmx_action_after_idle_expiry_lands_on_the_sign_in_page(page, browser_context, problems, tmp_path, tag):
    path = patient_file(tmp_path, f"idle-{tag}.csv", f"Ida,Long-{tag},1970-01-01,ida.{tag}@mail.org,,Hypertension")
    sign_in(page, "uploader")
    open_importable_files(page)
    upload_file(page, path)
    upload_row(page, path.name).get_by_role("link", name=path.name).click()
    expect(page.get_by_role("link", name="Show results")).to_be_visible()

    age_session(browser_context, minutes=16)  # the default idle limit is 15 minutes
    problems.allow(r"/results: Failed to load resource: .*status of 401")  # how the server tells htmx to go
    page.get_by_role("link", name="Show results").click()

    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    assert re.search(r"/sign-in$", page.url)
    expect(page.get_by_text(f"Long-{tag}")).to_have_count(0)
    page.goto("/importable-files/")
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
