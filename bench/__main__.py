"""python -m bench [--rows 5000 20000 100000] [--format csv xlsx] [--db sqlite postgres] [--repeat 3]

Each case runs in a fresh process (so its peak RSS is its own) through the same engine functions the app
uses: create_upload + preview_upload, then complete_import; then a changed file that updates everyone.
The table shows the median of the repeats and the floor: plain csv.reader over the same rows.
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


def run_case(rows: int, file_format: str, kind: str) -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.case", str(rows), file_format, kind], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


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
    header = f"| {'db':8} | {'format':6} | {'rows':>7} | {'phase':17} | {'seconds':>7} | {'rows/s':>7} | {'peak RSS':>8} | {'floor s':>7} | {'x floor':>7} |"
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for kind in args.db:
        for file_format in args.format:
            for rows in args.rows:
                runs = [run_case(rows, file_format, kind) for _ in range(args.repeat)]
                floor = statistics.median(run["floor"] for run in runs)
                for index, phase in enumerate(runs[0]["phases"]):
                    seconds = statistics.median(run["phases"][index]["seconds"] for run in runs)
                    rss = max(run["phases"][index]["peak_rss_mb"] for run in runs)
                    print(f"| {kind:8} | {file_format:6} | {rows:>7,} | {phase['phase']:17} | {seconds:7.2f} | "
                          f"{rows / seconds:7,.0f} | {rss:5.0f} MB | {floor:7.3f} | {seconds / floor:7.0f} |", flush=True)
    counts = runs[-1]["counts"]
    print(f"\nLast case's preview: {counts}; every case has {runs[-1]['existing']:,} existing participants "
          "(1 row in 20) matched by Patient ID.")


if __name__ == "__main__":
    main()
