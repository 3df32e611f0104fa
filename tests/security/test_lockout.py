"""The lockout holds under parallel attempts: at most LOCKOUT_FAILURES wrong passwords are ever checked."""
from __future__ import annotations

import http.cookiejar
import random
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import make_server

from app import accounts
from app.models import User, db
from app.seed import DEMO_PASSWORD
from tests.conftest import DEMO_EMAILS, TOKEN

EMAIL = DEMO_EMAILS["uploader"]


@pytest.fixture
def checked(monkeypatch):
    """The passwords checked against the account's hash (not the dummy one of unknown emails)."""
    seen = []
    real = accounts.check_password_hash

    def counting(password_hash, password):
        if password_hash != accounts._dummy_hash():
            seen.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return seen


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db.close()  # the server's threads use their own connections
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    db.connect(reuse_if_open=True)


def _attempt(base: str, password: str, barrier: threading.Barrier, results: list) -> None:
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = browser.open(f"{base}/sign-in").read().decode()
    token = next(group for group in TOKEN.search(page).groups() if group)
    form = urllib.parse.urlencode({"email": EMAIL, "password": password, "csrf_token": token}).encode()
    barrier.wait()
    try:
        results.append((password, browser.open(f"{base}/sign-in", data=form).status))
    except urllib.error.HTTPError as error:
        results.append((password, error.code))


def test_forty_parallel_sign_ins_check_at_most_five_passwords(app, live, checked):
    passwords = ["wrong-%d" % n for n in range(39)] + [DEMO_PASSWORD]
    random.Random(7).shuffle(passwords)
    barrier, results = threading.Barrier(len(passwords)), []
    threads = [threading.Thread(target=_attempt, args=(live, p, barrier, results)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    limit = app.config["ROSTER"].LOCKOUT_FAILURES
    wrong = [p for p in checked if p != DEMO_PASSWORD]
    assert 1 <= len(wrong) <= limit, checked  # at most 5 guesses, whatever order the right one came in
    signed_in = [p for p, status in results if status == 200]  # the redirect to Groups, followed
    assert signed_in in ([], [DEMO_PASSWORD]) and (signed_in == []) == (DEMO_PASSWORD not in checked)
    with db.connection_context():
        user = User.by_email(EMAIL)
        assert user.failed_logins <= limit


def test_a_right_password_checked_while_the_account_was_locked_meanwhile_never_unlocks_it(app, monkeypatch):
    real = accounts.check_password_hash
    locked_at = {}

    def lock_meanwhile(password_hash, password):
        result = real(password_hash, password)
        until = accounts.utcnow().replace(microsecond=0) + accounts.timedelta(minutes=15)
        User.update(locked_until=until).where(User.email == EMAIL).execute()  # another attempt's lock
        locked_at["until"] = until
        return result

    monkeypatch.setattr(accounts, "check_password_hash", lock_meanwhile)
    result = accounts.authenticate(EMAIL, DEMO_PASSWORD)
    assert result.ok  # its own slot was taken before the lock
    assert User.by_email(EMAIL).locked_until == locked_at["until"]  # and its success leaves the lock alone
    monkeypatch.setattr(accounts, "check_password_hash", real)
    again = accounts.authenticate(EMAIL, DEMO_PASSWORD)
    assert again.reason == "locked" and again.locked_until == locked_at["until"]
