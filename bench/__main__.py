"""python -m bench [--rows 5000 20000 100000] [--format csv xlsx] [--db sqlite postgres] [--repeat 3]

Each case runs twice over. In process (bench/case.py, a fresh process so its peak RSS is its own): the
engine functions the app uses, create_upload + preview_upload, then complete_import; then a changed
file that updates everyone, and both undone. Whole process (bench/cli.py): every step a `flask --app
wsgi imports ...` command, start-up included, as an operator runs it. The table shows the median of
the repeats and the floor: plain csv.reader over the same rows; then issue 20's targets, met or not.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    memory = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    return f"{os.cpu_count()} CPUs {cpu}{memory}, Python {platform.python_version()}, {platform.system()}"


def run_case(rows: int, file_format: str, kind: str, script: str = "bench.case") -> dict:
    output = subprocess.run([sys.executable, "-m", script, str(rows), file_format, kind], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# Issue 20's targets: (how, db, format, rows, phase) -> seconds. PostgreSQL's are a second looser.
TARGETS = {("CLI", "sqlite", "csv", 0, "start-up (--help)"): 0.35,
           ("CLI", "sqlite", "csv", 5_000, "preview"): 0.6,
           ("CLI", "sqlite", "csv", 100_000, "preview"): 4, ("CLI", "postgres", "csv", 100_000, "preview"): 5,
           ("CLI", "sqlite", "csv", 100_000, "preview (unchanged)"): 4,
           ("CLI", "postgres", "csv", 100_000, "preview (unchanged)"): 5,
           ("in process", "sqlite", "csv", 100_000, "preview (update)"): 5,
           ("in process", "sqlite", "csv", 100_000, "complete (update)"): 4,
           ("CLI", "sqlite", "csv", 100_000, "complete (create)"): 3,
           ("CLI", "postgres", "csv", 100_000, "complete (create)"): 4,
           ("CLI", "sqlite", "xlsx", 100_000, "preview"): 6}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    parser.add_argument("--format", nargs="+", choices=["csv", "xlsx"], default=["csv", "xlsx"])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the table shows the median")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    print(f"Command: python -m bench --rows {' '.join(map(str, args.rows))} --format {' '.join(args.format)} "
          f"--db {' '.join(args.db)} --repeat {args.repeat}\n")
    header = (f"| {'how':10} | {'db':8} | {'format':6} | {'rows':>9} | {'phase':19} | {'seconds':>7} | {'rows/s':>7} "
              f"| {'peak RSS':>8} | {'child RSS':>9} | {'floor s':>7} | {'x floor':>7} |")
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    measured = {}
    for kind in args.db:
        for file_format in args.format:
            for rows in args.rows:
                runs = [run_case(rows, file_format, kind) for _ in range(args.repeat)]
                floor = statistics.median(run["floor"] for run in runs)
                cli = [run_case(rows, file_format, kind, "bench.cli") for _ in range(args.repeat)]
                for how, case in (("in process", runs), ("CLI", cli)):
                    for index, phase in enumerate(case[0]["phases"]):
                        seconds = statistics.median(run["phases"][index]["seconds"] for run in case)
                        rss = max(run["phases"][index].get("peak_rss_mb", 0) for run in case)
                        child = max(run["phases"][index].get("child_rss_mb", 0) for run in case)
                        count = 0 if phase["phase"].startswith("start-up") else rows
                        measured[(how, kind, file_format, count, phase["phase"])] = seconds
                        measured[(how, kind, file_format, count, phase["phase"], "rss")] = rss
                        print(f"| {how:10} | {kind:8} | {file_format:6} | {rows:>9,} | {phase['phase']:19} | {seconds:7.2f} | "
                              f"{(count / seconds if count else 0):7,.0f} | {rss:5.0f} MB | {child:6.0f} MB | {floor:7.3f} | "
                              f"{seconds / floor:7.0f} |", flush=True)
    counts = runs[-1]["counts"]
    print(f"\nLast case's preview: {counts}; every case has {runs[-1]['existing']:,} existing participants "
          "(1 row in 20) matched by Patient ID.\n")
    print("| target (issue 20) | how | db | seconds | target | |\n|---|---|---|---|---|---|")
    for (how, kind, file_format, rows, phase), target in TARGETS.items():
        if (how, kind, file_format, rows, phase) in measured:
            seconds = measured[(how, kind, file_format, rows, phase)]
            verdict = "met" if seconds <= target else f"{seconds / target:.1f} x over"
            what = f"{file_format} {rows:,} rows, {phase}" if rows else phase
            print(f"| {what} | {how} | {kind} | {seconds:.2f} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
