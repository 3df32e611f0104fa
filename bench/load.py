"""python -m bench.load [--rows 100000] [--users 20] [--seconds 30] [--workers 4]

Show results of a large upload under load, as issue 20 measures it: gunicorn (`--workers 4`, as
docs/deploy.md runs it) on PostgreSQL, an upload of `--rows` rows previewed, and `--users` people each
asking for a page of its results again as soon as the last one came (no pause: the heaviest reading of
"20 users at once"). Each request is a page of the results fragment as htmx asks for it, with a filter,
an issue kind or neither, and a page drawn at random (seeded), as a reviewer moves through the list.
Prints the latency percentiles and the requests per second; target: p95 <= 200 ms.

The clients are threads of this process, on the same machine: they take some of its two cores too.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

from app.importer.preview import create_upload, preview_upload
from app.models import Organization, User, db
from app.seed import DEMO_PASSWORD, seed_demo
from app.storage import FileStore
from bench.__main__ import machine
from bench.case import CACHE, POSTGRES_URL, bench_file, fresh_database, seed_existing

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FILTERS = ["all", "errors", "warnings", "created", "updated"]
PAGE_SIZE = 50  # app/web/importable_files.py


def prepare(rows: int) -> tuple[int, dict, list[tuple[str, int]], bytes]:
    """A fresh PostgreSQL database with the bench's upload previewed: its id, row counts by filter, its
    issue kinds with their counts, and the file key the server must use."""
    key = Fernet.generate_key()
    fresh_database("postgres")
    seed_demo()
    org = Organization.by_name("Demo Clinic")
    seed_existing(org, rows)
    path = bench_file(CACHE, rows, "csv")
    data = path.read_bytes()
    upload = create_upload(org, User.by_email("uploader@demo.example"), path.name, data, FileStore(CACHE / "uploads", key))
    upload = preview_upload(upload, data, max_rows=max(rows, 100_000))
    counts = {"all": upload.row_count, "errors": upload.error_count, "warnings": upload.warning_count,
              "created": upload.created_count, "updated": upload.updated_count}
    kinds = [(entry["kind"], entry["rows"]) for entry in upload.issue_summary or [] if entry.get("kind")]
    db.close()
    return upload.id, counts, kinds, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, workers: int, key: bytes, instance: Path) -> subprocess.Popen:
    env = {**os.environ, "ROSTER_ENV": "development", "SECRET_KEY": Fernet.generate_key().decode(),
           "ROSTER_FILE_KEY": key.decode(), "DATABASE_URL": POSTGRES_URL, "INSTANCE_DIR": str(instance),
           "UPLOAD_DIR": str(CACHE / "uploads"), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--timeout", "60", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def signed_in(base: str) -> urllib.request.OpenerDirector:
    """An opener holding an Importable files admin's session (one sign-in, shared by every client: the
    throttle allows 20 sign-ins per address, and a session is a cookie)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    deadline = time.time() + 30
    while True:
        try:
            page = opener.open(base + "/sign-in", timeout=10).read().decode()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    form = {"email": "admin@demo.example", "password": DEMO_PASSWORD, "csrf_token": TOKEN.search(page).group(1)}
    landed = opener.open(base + "/sign-in", urllib.parse.urlencode(form).encode(), timeout=10).geturl()
    if landed.endswith("/sign-in"):
        raise SystemExit("bench.load: could not sign in")
    return opener


def paths(upload_id: int, counts: dict, kinds: list[tuple[str, int]], seed: int):
    """Endless results pages as a reviewer asks for them: a filter or a kind, then a page of it."""
    rng = random.Random(seed)
    while True:
        if kinds and rng.random() < 0.4:
            kind, total = rng.choice(kinds)
            query = {"kind": kind}
        else:
            chosen = rng.choice(FILTERS)
            query, total = {"filter": chosen}, counts[chosen] or 0
        pages = max(1, -(-total // PAGE_SIZE))
        query["page"] = 1 if rng.random() < 0.3 else rng.randint(1, pages)
        yield f"/importable-files/{upload_id}/results?{urllib.parse.urlencode(query)}"


def load(base: str, opener, upload_id: int, counts: dict, kinds, users: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def user(seed: int) -> None:
        mine = []
        for path in paths(upload_id, counts, kinds, seed):
            if time.perf_counter() > stop:
                break
            request = urllib.request.Request(base + path, headers={"HX-Request": "true"})
            started = time.perf_counter()
            try:
                with opener.open(request, timeout=60) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    failures[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=user, args=(seed,)) for seed in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    print(f"Command: python -m bench.load --rows {args.rows} --users {args.users} --seconds {args.seconds:g} "
          f"--workers {args.workers}")
    CACHE.mkdir(parents=True, exist_ok=True)
    upload_id, counts, kinds, key = prepare(args.rows)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as instance:
        server = serve(port, args.workers, key, Path(instance))
        try:
            opener = signed_in(base)
            load(base, opener, upload_id, counts, kinds, args.users, 3)  # warm: each worker's first requests
            latencies, failures = load(base, opener, upload_id, counts, kinds, args.users, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = [value * 1000 for value in latencies]
    print(f"\n{len(ms):,} requests in {args.seconds:g} s ({len(ms) / args.seconds:.0f} requests/s), {failures} failed")
    print("| users | requests/s | p50 ms | p95 ms | p99 ms | max ms | mean ms | target p95 |")
    print("|---|---|---|---|---|---|---|---|")
    verdict = "met" if percentile(ms, 95) <= 200 else f"{percentile(ms, 95) / 200:.1f} x over"
    print(f"| {args.users} | {len(ms) / args.seconds:.0f} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
          f"{percentile(ms, 99):.0f} | {max(ms):.0f} | {statistics.mean(ms):.0f} | 200 ms: {verdict} |")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
