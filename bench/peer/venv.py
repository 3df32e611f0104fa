"""The peer's own virtualenv at bench/peer/.venv (never the app's): python -m bench.peer.venv [--force]."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = HERE / "requirements.txt"
STAMP = VENV / ".installed"  # holds the hash of requirements.txt it was built from


def _wanted() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(force: bool = False) -> Path:
    """The peer venv's python, building the venv first if it is missing or requirements.txt changed."""
    if not force and STAMP.exists() and STAMP.read_text() == _wanted():
        return PYTHON
    base = shutil.which("python3.11")
    if base is None:
        sys.exit("bench.peer needs python3.11 on PATH to build its virtualenv")
    started = time.perf_counter()
    subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
    # --no-deps: requirements.txt pins the whole tree, so pip resolves nothing on its own.
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "check"], check=True, stdout=subprocess.DEVNULL)
    STAMP.write_text(_wanted())
    print(f"bench.peer: built {VENV} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return PYTHON


if __name__ == "__main__":
    ensure(force="--force" in sys.argv[1:])
