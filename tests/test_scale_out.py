"""More than one machine, on one: gunicorn + PostgreSQL + a separate huey worker on Redis (docs/deploy.md).

Runs in `make test` whenever PostgreSQL and Redis answer (select it alone with `-m scale_out`); it uses a
database and a queue name of its own, so it can run beside the rest of the suite.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.seed import DEMO_PASSWORD
from tests.conftest import DEMO_EMAILS, TOKEN

pytestmark = pytest.mark.scale_out

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVER = os.environ.get("SCALE_OUT_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:6379/0")
ROWS = 20_000


def reachable() -> str | None:
    """Why the test cannot run here, or None."""
    try:
        import psycopg2

        psycopg2.connect(SERVER + "/postgres", connect_timeout=3).close()
    except Exception as error:
        return f"PostgreSQL is not reachable at {SERVER} ({type(error).__name__}); set SCALE_OUT_POSTGRES"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"Redis is not reachable at {REDIS_URL} ({type(error).__name__}); set SCALE_OUT_REDIS_URL"
    return None


def admin_sql(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(SERVER + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def participant_file(rows: int) -> bytes:
    lines = ["First Name,Last Name,Date of Birth,Email,Patient ID,Group"]
    lines += [f"P{n},Lee,1980-01-02,p{n}@mail.org,{n:07d},Diabetes Prevention" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


class Browser:
    """Plain HTTP with cookies, as a person's browser would speak to the servers."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        with self.opener.open(request, timeout=60) as response:
            return response.status, response.geturl(), response.read().decode()

    def token(self, path: str) -> str:
        match = TOKEN.search(self.open(path)[2])
        return next(group for group in match.groups() if group)

    def post_form(self, path: str, fields: dict):
        return self.open(path, urllib.parse.urlencode(fields).encode(),
                         {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, fields: dict, name: str, content: bytes):
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     "Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def wait_for(check, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path):
    """gunicorn (2 workers) and a huey worker on Redis, sharing PostgreSQL and the upload directory."""
    reason = reachable()
    if reason:
        pytest.skip(reason)
    name = f"roster_scale_out_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    port = free_port()
    env = {
        **os.environ, "ROSTER_ENV": "development", "SECRET_KEY": uuid.uuid4().hex,
        "ROSTER_FILE_KEY": Fernet.generate_key().decode(), "DATABASE_URL": f"{SERVER}/{name}",
        "REDIS_URL": REDIS_URL, "ROSTER_QUEUE": name, "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "shared-uploads"), "PYTHONPATH": str(ROOT),
    }
    env.pop("TEST_DATABASE_URL", None)
    processes = []
    try:
        for command in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        logs = {key: open(tmp_path / f"{key}.log", "w") for key in ("web", "worker")}
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen(
            [str(BIN / "huey_consumer"), "app.worker.huey", "--workers", "2"],
            cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT))
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_for(lambda: _answers(browser), 30, "gunicorn to answer")
        yield browser, tmp_path
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(browser: Browser) -> bool:
    try:
        return browser.open("/sign-in")[0] == 200
    except OSError:
        return False


def test_a_20000_row_file_is_read_and_completed_by_a_separate_worker(cluster):
    browser, tmp_path = cluster
    sign_in = "/sign-in"
    status, landed, _ = browser.post_form(sign_in, {"email": DEMO_EMAILS["admin"], "password": DEMO_PASSWORD,
                                                    "csrf_token": browser.token(sign_in)})
    assert status == 200 and not landed.endswith(sign_in), "sign-in failed"
    index = "/importable-files/"
    _, upload_page, html = browser.post_file(index, {"csrf_token": browser.token(index), "group": "0"},
                                             "big.csv", participant_file(ROWS))
    upload_path = urllib.parse.urlparse(upload_page).path
    assert re.fullmatch(r"/importable-files/\d+", upload_path)
    # The web process answers at once; the worker reads the file while the page polls.
    assert 'hx-trigger="every 1s"' in html or ">Pending</span>" in html

    def status_fragment():
        fragment = browser.open(upload_path, headers={"HX-Request": "true"})[2]
        assert ">Failed</span>" not in fragment, fragment
        return fragment if ">Pending</span>" in fragment else None

    pending = wait_for(status_fragment, 120, "the worker to read the file")
    assert "hx-trigger" not in pending and "Show results" in pending
    complete = upload_path + "/complete"
    status, _, html = browser.post_form(complete, {"csrf_token": browser.token(complete)})
    assert status == 200

    def completed():
        fragment = browser.open(upload_path, headers={"HX-Request": "true"})[2]
        assert ">Failed</span>" not in fragment, fragment
        return fragment if ">Completed</span>" in fragment else None

    done = wait_for(completed, 120, "the worker to complete the import")
    assert f"{ROWS:,} created, 0 updated" in done
    worker_log = (tmp_path / "worker.log").read_text()
    assert "app.jobs.complete_import" in worker_log and "app.jobs.read_upload" in worker_log  # the separate process did the work
