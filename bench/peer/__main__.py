"""python -m bench.peer [--rows 5000 20000 100000] [--format csv] [--db sqlite] [--repeat 1]

Roster against django-import-export in the same run on the same files: for each case this generates the
files (bench.files), runs `python -m bench.case` (Roster, our venv) and bench/peer/run.py (the peer, its own
venv at bench/peer/.venv, built on first use), each in a fresh process, and prints one Markdown table.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench.__main__ import ROOT, machine
from bench.case import CACHE
from bench.files import bench_file
from bench.peer import venv

COMPARED = ("preview", "complete (create)", "preview (update)", "complete (update)")  # Roster's undo has no peer


def last_json(command: list[str]) -> dict:
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def phases(run: dict) -> dict[str, dict]:
    return {phase["phase"]: phase for phase in run["phases"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    parser.add_argument("--format", nargs="+", choices=["csv", "xlsx"], default=["csv"])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the table shows the median")
    parser.add_argument("--clean", action="store_true", help="peer: clean_model_instances (full_clean per row)")
    parser.add_argument("--skip-html-diff", action="store_true", help="peer: no per-row HTML diff")
    parser.add_argument("--no-bulk", action="store_true", help="peer: use_bulk = False (save() per row)")
    args = parser.parse_args(argv)
    peer_python = venv.ensure()
    peer_flags = ["--clean"] * args.clean + ["--skip-html-diff"] * args.skip_html_diff + ["--no-bulk"] * args.no_bulk
    print(f"Machine: {machine()}")
    print(f"Command: python -m bench.peer --rows {' '.join(map(str, args.rows))} --format {' '.join(args.format)} "
          f"--db {' '.join(args.db)} --repeat {args.repeat} {' '.join(peer_flags)}".rstrip() + "\n", flush=True)
    header = (f"| {'db':8} | {'format':6} | {'rows':>7} | {'phase':17} | {'Roster s':>8} | {'peer s':>8} | "
              f"{'peer/Roster':>11} | {'Roster RSS':>10} | {'peer RSS':>8} |")
    lines, notes = [header, "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"], []
    for kind in args.db:
        for file_format in args.format:
            for rows in args.rows:
                files = [str(bench_file(CACHE, rows, file_format, changed=changed)) for changed in (False, True)]
                ours, peers = [], []
                for _ in range(args.repeat):  # alternate, so drift on the machine hits both alike
                    ours.append(last_json([sys.executable, "-m", "bench.case", str(rows), file_format, kind]))
                    peers.append(last_json([str(peer_python), "bench/peer/run.py", *files, "--db", kind, *peer_flags]))
                for name in COMPARED:
                    mine = statistics.median(phases(run)[name]["seconds"] for run in ours)
                    theirs = statistics.median(phases(run)[name]["seconds"] for run in peers)
                    rss_mine = max(phases(run)[name]["peak_rss_mb"] for run in ours)
                    rss_theirs = max(phases(run)[name]["peak_rss_mb"] for run in peers)
                    lines.append(f"| {kind:8} | {file_format:6} | {rows:>7,} | {name:17} | {mine:8.2f} | "
                                 f"{theirs:8.2f} | {theirs / mine:10.1f}x | {rss_mine:7.0f} MB | {rss_theirs:5.0f} MB |")
                    print(lines[-1], file=sys.stderr, flush=True)  # progress while a long run goes on
                notes.append(f"- {kind} {file_format} {rows:,}: Roster preview {ours[-1]['counts']}, "
                             f"update {ours[-1]['update_counts']}; peer preview {peers[-1]['counts']}, "
                             f"update {peers[-1]['update_counts']}")
    print("\n".join(lines))
    print(f"\nPeer: {peers[-1]['versions']}. Each case starts with 1 row in 20 already a participant (matched by "
          "Patient ID) on both sides. Counts as each side reports them:")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
