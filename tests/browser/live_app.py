"""The real Roster as a person meets it: `flask run` and a huey worker as subprocesses, on a free port and
their own SQLite file, migrated and seeded through the same commands an operator types."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "browser-tests-secret"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def find_chromium() -> str | None:
    """Debian's Chromium (Playwright's own download cannot reach the internet here)."""
    candidates = [os.environ.get("ROSTER_CHROMIUM"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    env: dict
    directory: Path
    processes: list = field(default_factory=list)

    def log(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}" for path in sorted(self.directory.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _wait_until_up(app: LiveApp, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in app.processes):
            break
        try:
            with urllib.request.urlopen(app.url + "/sign-in", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    app.stop()
    raise RuntimeError(f"Roster did not start at {app.url}\n{app.log()}")


def start_live_app(directory: Path, **settings: str) -> LiveApp:
    """Migrate, seed and serve Roster from `directory` (database, uploads, job queue); extra env in `settings`."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "ROSTER_ENV": "development",
        "SECRET_KEY": SECRET_KEY,
        "INSTANCE_DIR": str(directory),
        "DATABASE_URL": f"sqlite:///{directory / 'roster.db'}",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    env.pop("REDIS_URL", None)  # the worker and the app share the SQLite queue under INSTANCE_DIR
    env.pop("FLASK_DEBUG", None)
    for command in (_flask("db", "upgrade"), _flask("seed-demo")):
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    app = LiveApp(url=f"http://127.0.0.1:{port}", env=env, directory=directory)
    commands = {
        "server.log": _flask("run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"),
        "worker.log": [sys.executable, "-m", "huey.bin.huey_consumer", "app.worker.huey", "--workers", "2"],
    }
    for log_name, command in commands.items():
        log = open(directory / log_name, "w")
        app.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    _wait_until_up(app)
    return app
