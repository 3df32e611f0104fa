"""python -m bench.review [--rows 30000] [--db sqlite postgres] [--repeat 3]

The review's server side on a previewed list (issue 17): every decision a reviewer makes in bulk, one
fix, and the counts the review bar fetches after each. The file is the browser test's: three kinds of
warnings (no email, an unknown state, a postal code that is no ZIP code) and one kind of error (a date
that does not exist). Median of the repeats, each repeat on a fresh database; target: under a second each.
"""
from __future__ import annotations

import argparse
import statistics
import time

from cryptography.fernet import Fernet

from app.importer import review
from app.importer.preview import create_upload, preview_upload
from app.models import Organization, Upload, UploadRow, User, db
from app.seed import seed_demo
from app.storage import FileStore
from bench.__main__ import machine
from bench.case import CACHE, fresh_database

HEADER = "First Name,Last Name,Date of Birth,Email,Patient ID,Group,State,Postal Code"


def review_file(rows: int) -> bytes:
    """The browser test's file (tests/browser/test_review.py), generated the same way."""
    lines = [HEADER]
    for n in range(rows):
        born = "02/30/1980" if n % 97 == 0 else f"1970-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        email = "" if n % 7 == 0 else f"p{n}@mail.org"
        lines.append(f"Pat{n},Bench,{born},{email},B-{n},Hypertension,{'Zz' if n % 11 == 0 else 'MA'},"
                     f"{'ABC' if n % 13 == 0 else '02134'}")
    return ("\n".join(lines) + "\n").encode()


def run(rows: int, kind: str) -> list[tuple[str, float, str]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    fresh_database(kind)
    seed_demo()
    org = Organization.by_name("Demo Clinic")
    admin = User.by_email("admin@demo.example")
    data = review_file(rows)
    upload = preview_upload(create_upload(org, admin, "review.csv", data, FileStore(CACHE / "uploads", Fernet.generate_key())), data)
    error, *warnings = [k["kind"] for k in upload.issue_summary]
    timings = []

    def timed(name: str, work) -> None:
        started = time.perf_counter()
        result = work()
        timings.append((name, time.perf_counter() - started, f"{result:,}" if isinstance(result, int) else ""))

    timed("tally (the bar)", lambda: review.tally(Upload.get_by_id(upload.id)).to_review)
    for warning in warnings:
        timed(f"accept kind {warning}", lambda w=warning: review.decide_kind(Upload.get_by_id(upload.id), admin, review.ACCEPT, w))
    timed(f"exclude kind {error}", lambda: review.decide_kind(Upload.get_by_id(upload.id), admin, review.EXCLUDE, error))
    timed("exclude filter: warnings", lambda: review.decide_rows(Upload.get_by_id(upload.id), admin, review.EXCLUDE,
                                                                 UploadRow.has_warning == True, by="filter"))  # noqa: E712
    timed("include again: all", lambda: review.decide_rows(Upload.get_by_id(upload.id), admin, review.RESET,
                                                           UploadRow.id.is_null(False), by="filter"))
    timed("accept filter: all", lambda: review.decide_rows(Upload.get_by_id(upload.id), admin, review.ACCEPT,
                                                           UploadRow.id.is_null(False), by="filter"))
    timed("fix one row", lambda: review.fix_row(Upload.get_by_id(upload.id), admin, 2, {"Date of Birth": "1980-02-28"}) and 1)
    timed("tally (the bar)", lambda: review.tally(Upload.get_by_id(upload.id)).to_review)
    db.close()
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.review", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    print(f"Command: python -m bench.review --rows {args.rows} --db {' '.join(args.db)} --repeat {args.repeat}\n")
    print(f"| {'db':8} | {'step':45} | {'seconds':>7} | {'rows':>7} |")
    print(f"|{'-' * 10}|{'-' * 47}|{'-' * 9}|{'-' * 9}|")
    for kind in args.db:
        runs = [run(args.rows, kind) for _ in range(args.repeat)]
        for index, (name, _, rows) in enumerate(runs[0]):
            seconds = statistics.median(r[index][1] for r in runs)
            print(f"| {kind:8} | {name:45} | {seconds:7.3f} | {rows:>7} |", flush=True)


if __name__ == "__main__":
    main()
