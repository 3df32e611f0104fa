"""Whole-process timings, as an operator runs it: python -m bench.cli ROWS FORMAT DB.

Each step is its own `flask --app wsgi ...` process on the bench database (start-up, imports and the
work all counted): `imports --help` (start-up alone), Upload and Preview, Complete Import, and the same
file previewed again, when every row is unchanged, then with NEW_ROWS rows more (the monthly list: a
few new patients). Prints one JSON line, like bench/case.py.
"""
from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from app.models import Organization, db
from app.seed import seed_demo
from bench.case import CACHE, fresh_database, seed_existing
from bench.files import bench_file

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]  # as an operator runs it
NEW_ROWS = 1_000  # the last step's rows more than the list completed


# Linux carries a process's peak RSS into what it starts (across vfork and exec): wait4 on a step started
# by the bench itself gave at least the bench's own peak (a bench that had just generated a 100,000-row
# file: 148 MB, whatever the step used). A small launcher starts each step instead, as its own child, and
# reports the step's seconds and wait4 (its floor is the launcher's 10 MB).
LAUNCH = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
report = [seconds, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024]
os.write(int(sys.argv[1]), json.dumps(report).encode())
"""


def step(args: list[str], env: dict, *, root: Path = ROOT, under: list[str] = ()) -> tuple[float, float, float, str]:
    """One CLI step (`flask --app wsgi ARGS` in `root`, run `under` a tool if given): its seconds, CPU
    seconds and peak RSS in MB (its own and its children's, from wait4), and what it printed."""
    read, write = os.pipe()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        launcher = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCH, str(write), *under, *FLASK, *args],
                                    cwd=root, env=env, stdout=out, stderr=err, pass_fds=(write,))
        os.close(write)
        with os.fdopen(read) as report:
            answer = report.read()
        launcher.wait()
        out.seek(0), err.seek(0)
        output = out.read()
        if not answer:
            raise SystemExit(f"{' '.join(args[:2])}: the launcher failed ({launcher.returncode}): {err.read()[-2000:]}")
        seconds, code, cpu, peak = json.loads(answer)
        if code not in (0, 3) or not output.strip():  # 3: the preview has rows with errors
            raise SystemExit(f"{' '.join(args[:2])} failed ({code}): {err.read()[-2000:]}")
    return seconds, cpu, peak, output


def compiled() -> None:
    """The app's bytecode written, as `pip install .` does on a deployed machine (an editable install
    under PYTHONDONTWRITEBYTECODE would compile the app's sources in every process: 0.08 s of its start)."""
    for folder in ("app", "migrations"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    compileall.compile_file(ROOT / "wsgi.py", quiet=1)


def cli_env(url: str, instance: Path, file: Path, rows: int) -> dict:
    """The environment of a bench CLI step: the limits raised as an operator would for a million rows
    (the defaults below that), and no Redis (the queue on SQLite, as `make run` has it)."""
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_DIR": str(instance), "ROSTER_ENV": "development",
           "MAX_ROWS": str(max(rows, 100_000)), "MAX_UPLOAD_MB": str(max(20, file.stat().st_size // 2**20 + 1))}
    env.pop("REDIS_URL", None)
    return env


def preview_args(file: Path) -> list[str]:
    return ["imports", "preview", str(file), "--org", "Demo Clinic", "--json"]


def complete_args(upload_id) -> list[str]:
    return ["imports", "complete", str(upload_id), "--skip-error-rows", "--json", "--as", "admin@demo.example"]


def run(count: int, file_format: str, kind: str) -> dict:
    compiled()
    path, more = bench_file(CACHE, count, file_format), bench_file(CACHE, count + NEW_ROWS, file_format)
    url = fresh_database(kind)
    seed_demo()
    seed_existing(Organization.by_name("Demo Clinic"), count)
    db.close()
    instance = CACHE / "cli-instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = cli_env(url, instance, more, count + NEW_ROWS)
    phases = [{"phase": "start-up (--help)", "seconds": sorted(step(["imports", "--help"], env)[0] for _ in range(3))[1]}]

    def phase(name: str, args: list[str]) -> dict:
        seconds, _, peak, output = step(args, env)
        summary = json.loads(output.strip().splitlines()[-1])
        phases.append({"phase": name, "seconds": seconds, "peak_rss_mb": peak, "counts": summary["counts"]})
        return summary

    upload = phase("preview", preview_args(path))
    phase("complete (create)", complete_args(upload["id"]))
    phase("preview (unchanged)", preview_args(path))
    phase(f"preview ({NEW_ROWS:,} new)", preview_args(more))
    return {"rows": count, "format": file_format, "db": kind, "phases": phases}


if __name__ == "__main__":
    rows_arg, format_arg, db_arg = sys.argv[1:4]
    print(json.dumps(run(int(rows_arg), format_arg, db_arg)))
