"""One CLI step, this checkout against an earlier commit, in interleaved pairs:
python -m bench.compare BASE [--rows 100000] [--format csv] [--db sqlite] [--step preview] [--pairs 6 | --instructions]

The bench machine's speed drifts (the same code's 5,000-row preview took 0.69 s and 1.29 s within 21
minutes), so a table run after a change cannot say what the change bought. This runs the step as a whole
`flask --app wsgi imports ...` process, as bench/cli.py does, alternately on BASE (a git worktree of that
commit) and on this checkout as it is (uncommitted changes included), each run from the same database
state, and prints both medians and the median of the pair-by-pair differences, of the seconds and of
the CPU seconds (the command's process and its children: on two cores a preview uses both, so CPU it no
longer spends can show there first).

Steps: `preview` (a new file), `complete` (Complete Import of that preview: every row new), `unchanged`
(the same file previewed again after it was completed) and `new-rows` (then the same list with
bench.cli.NEW_ROWS rows more). It gives the peak RSS too (the largest of the process and its children),
and says whether the step's counts (created, updated, errors, warnings...) are the same on both sides.
Each side prepares its own state with its own code (migrations, seed, the steps before), once; each run
starts from a copy of it. BASE must have bench/case.py's fresh_database and seed_existing (any commit
since 2026-12-03).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench.case import CACHE, POSTGRES_URL, ensure_postgres_database
from bench.cli import NEW_ROWS, cli_env, complete_args, preview_args, step
from bench.files import bench_file

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("preview", "complete", "unchanged", "new-rows")

# Run in a side's own checkout: an empty database with the seed and the bench's existing participants.
PREPARE = """
import sys
from app.models import Organization, db
from app.seed import seed_demo
from bench.case import fresh_database, seed_existing
from bench.cli import compiled
compiled()
fresh_database(sys.argv[1])
seed_demo()
seed_existing(Organization.by_name("Demo Clinic"), int(sys.argv[2]))
db.close()
"""


class Side:
    """One checkout (this one, or a worktree of BASE), with its database state to start each run from."""

    def __init__(self, name: str, root: Path, kind: str, work: Path):
        self.name, self.root, self.kind = name, root, kind
        self.work = work / name
        self.work.mkdir(parents=True, exist_ok=True)
        database = f"roster_compare_{name}"
        self.base_url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{database}_base" if kind == "postgres" else None
        self.run_url = (f"{POSTGRES_URL.rsplit('/', 1)[0]}/{database}_run" if kind == "postgres"
                        else f"sqlite:///{self.work / 'run.db'}")

    def env(self, url: str, file: Path, rows: int) -> dict:
        """A step's environment; its limits allow for new-rows' NEW_ROWS more on every step."""
        return {**cli_env(url, self.work / "instance", file, rows + NEW_ROWS), "PYTHONPATH": str(self.root),
                "BENCH_DIR": str(self.work), "BENCH_DATABASE_URL": self.base_url or POSTGRES_URL}

    def prepare(self, measured: str, file: Path, rows: int) -> str | None:
        """The state the `measured` step starts from, kept as this side's base; the upload id `complete` takes."""
        url = self.base_url or f"sqlite:///{self.work / 'bench.db'}"
        env = self.env(url, file, rows)
        subprocess.run([sys.executable, "-c", PREPARE, self.kind, str(rows)], cwd=self.root, env=env, check=True)
        upload_id = None
        if measured != "preview":
            output = step(preview_args(file), env, root=self.root)[-1]
            upload_id = str(json.loads(output.strip().splitlines()[-1])["id"])
        if measured in ("unchanged", "new-rows"):
            step(complete_args(upload_id), env, root=self.root)
        return upload_id

    def instructions(self, args: list[str], env: dict) -> tuple[dict[str, int], str]:
        """One run under callgrind, its children too: instructions by process (the command, the row
        check child, the duplicate search child), and what it printed."""
        out = self.work / "callgrind"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        under = ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={out}/cg.%p"]
        output = step(args, env, root=self.root, under=under)[-1]
        counts: dict[str, int] = {}
        for profile in out.glob("cg.*"):
            head = profile.read_text(errors="replace")
            command = re.search(r"^cmd:(.*)$", head, re.M)[1]
            process = next((name for module, name in CHILDREN if module in command), "the command")
            counts[process] = counts.get(process, 0) + int(re.search(r"^(?:summary|totals):\s*(\d+)", head, re.M)[1])
        return counts, output

    def restore(self) -> None:
        """The run's database, a copy of the base (a template copy on PostgreSQL)."""
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.work / "run.db") + suffix).unlink(missing_ok=True)
            shutil.copy(self.work / "bench.db", self.work / "run.db")
            return
        import psycopg2

        server, name = self.run_url.rsplit("/", 1)
        connection = psycopg2.connect(server + "/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.base_url.rsplit("/", 1)[1]}"')
        connection.close()


# The modules the children run: the search's was search_process itself until 2026-12-07 (a BASE may be older).
CHILDREN = (("check_process", "row check child"), ("search_child", "duplicate search child"),
            ("search_process", "duplicate search child"), ("plan_process", "plans' reader child"))


def worktree(commit: str, work: Path) -> Path:
    """A detached worktree of `commit` (made once, kept for the next comparison)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{commit}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    path = work / f"worktree-{sha[:12]}"
    if not (path / "wsgi.py").exists():
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(path), sha], cwd=ROOT, check=True,
                       capture_output=True)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare this checkout with (e.g. HEAD~1, main)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--step", choices=STEPS, default="preview")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--instructions", action="store_true",
                        help="instead of timing pairs, count each side's instructions once, under valgrind's callgrind "
                             "(the same on every run, whatever the machine is doing; about 50 x slower)")
    args = parser.parse_args(argv)
    work = CACHE / "compare"
    file = bench_file(CACHE, args.rows, args.format)
    # new-rows previews the list it completed with NEW_ROWS rows more
    run_file = bench_file(CACHE, args.rows + NEW_ROWS, args.format) if args.step == "new-rows" else file
    sides = [Side("base", worktree(args.base, work), args.db, work), Side("head", ROOT, args.db, work)]
    if args.db == "postgres":
        for side in sides:
            ensure_postgres_database(side.base_url)
    upload_ids = {side.name: side.prepare(args.step, file, args.rows) for side in sides}
    if args.instructions:
        return count_instructions(sides, args, run_file, upload_ids)
    seconds: dict[str, list[float]] = {"base": [], "head": []}
    cpu: dict[str, list[float]] = {"base": [], "head": []}
    peaks: dict[str, list[float]] = {"base": [], "head": []}
    counts: dict[str, dict] = {}
    for pair in range(args.pairs):
        for side in sides if pair % 2 == 0 else sides[::-1]:  # each goes first in half the pairs
            side.restore()
            took, used, peak, output = step(_command(args, upload_ids[side.name], run_file),
                                            side.env(side.run_url, run_file, args.rows), root=side.root)
            seconds[side.name].append(took)
            cpu[side.name].append(used)
            peaks[side.name].append(peak)
            counts[side.name] = json.loads(output.strip().splitlines()[-1])["counts"]
    base_name = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"{args.step}, {args.rows:,}-row {args.format}, {args.db}: whole CLI process, {args.pairs} interleaved pairs")
    for side, label in zip(sides, (f"base {base_name}", "this checkout"), strict=True):
        runs = seconds[side.name]
        print(f"  {label:18} median {statistics.median(runs):6.2f} s, CPU {statistics.median(cpu[side.name]):6.2f} s, "
              f"peak {statistics.median(peaks[side.name]):4.0f} MB   ({', '.join(f'{s:.2f}' for s in runs)})")
    for what, figures in (("seconds", seconds), ("CPU seconds", cpu)):
        differences = [h - b for b, h in zip(figures["base"], figures["head"], strict=True)]
        change = statistics.median(differences)
        print(f"  {what}, pair by pair: median {change:+.2f} s ({change / statistics.median(figures['base']):+.1%}); "
              f"this checkout less in {sum(d < 0 for d in differences)} of {args.pairs} pairs")
    # A change that makes a step faster must not change what it finds.
    print(f"  counts: {'the same on both' if counts['base'] == counts['head'] else 'DIFFERENT'}: {counts['head']}"
          + ("" if counts["base"] == counts["head"] else f" (base: {counts['base']})"))


def _command(args, upload_id: str | None, file: Path) -> list[str]:
    """The measured step's CLI arguments: Complete Import of the prepared upload, or a preview of `file`."""
    return complete_args(upload_id) if args.step == "complete" else preview_args(file)


def count_instructions(sides: list[Side], args, file: Path, upload_ids: dict) -> None:
    counts, found = {}, {}
    for side in sides:
        side.restore()
        command = _command(args, upload_ids[side.name], file)
        counts[side.name], output = side.instructions(command, side.env(side.run_url, file, args.rows))
        found[side.name] = json.loads(output.strip().splitlines()[-1])["counts"]
    print(f"{args.step}, {args.rows:,}-row {args.format}, {args.db}: instructions (callgrind), whole CLI process, one run each")
    processes = ["the command", *dict.fromkeys(name for _, name in CHILDREN)]
    for process in [p for p in processes if p in counts["base"] or p in counts["head"]] + ["in all"]:
        base, head = ((sum(c.values()) if process == "in all" else c.get(process, 0)) for c in (counts["base"], counts["head"]))
        change = f"{(head - base) / base:+.2%}" if base else ""
        print(f"  {process:24} base {base / 1e9:8.3f} G   this checkout {head / 1e9:8.3f} G   {change}")
    print(f"  counts: {'the same on both' if found['base'] == found['head'] else 'DIFFERENT'}: {found['head']}"
          + ("" if found["base"] == found["head"] else f" (base: {found['base']})"))


if __name__ == "__main__":
    main()
