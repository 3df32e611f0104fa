"""Realistic participant files, the same bytes for the same arguments (a seeded random generator)."""
from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl

HEADERS = [
    "First Name", "Last Name", "Date of Birth", "Email", "Mobile Phone", "Home Phone", "Gender", "Patient ID",
    "Group", "Primary Coach", "Street Address", "City", "State", "Postal Code", "Note",
]
FIRST = ("Maria James Ann José Li Wei Fatima Omar Grace Liam Noah Emma Olivia Ava Sophia Mia Lucas Ethan Chloe "
         "Zoe Aiden Priya Ravi Yuki Hana Kofi Amara Diego Lucia Sven Ingrid Niamh Sean Aisha Malik Elena Ivan "
         "Chen Mei Tomas").split()
LAST = ("Garcia Smith Johnson Lee O'Neil Nguyen Patel Kim Brown Davis Miller Wilson Moore Taylor Anderson "
        "Thomas Jackson White Harris Martin Thompson Martinez Robinson Clark Rodriguez Lewis Walker Hall Allen "
        "Young Hernández King Wright López Hill Scott Green Adams Baker González Nelson Carter Mitchell Pérez "
        "Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Sánchez Morris Rogers Reed Cook").split()
STREETS = "Main Elm Oak Pine Maple Cedar Washington Lake Hill Park Church High School Spring River".split()
CITIES = (("Boston", "MA", "02134"), ("Cambridge", "MA", "02139"), ("Newark", "NJ", "07102"),
          ("Hartford", "CT", "06103"), ("Providence", "RI", "02903"), ("Portland", "ME", "04101"),
          ("Springfield", "IL", "62701"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"))
GROUPS = ("Diabetes Prevention", "Hypertension", "Weight Management", "Diabetes Prevention; Hypertension")
COACHES = ("coach@demo.example", "hill@demo.example", "moss@demo.example", "")
NOTES = ("Prefers morning calls", "Spanish speaker", "", "", "", "Needs large print")


def person(n: int, rng: random.Random) -> list:
    """Row n of the file: cells as a clinic's export would have them, with a few errors and warnings."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 75))
    dob = born.isoformat() if n % 3 else born.strftime("%m/%d/%Y")
    email = f"{first.lower()}.{last.lower().replace(chr(39), '')}.{n}@example.org"
    if n % 20 == 7:
        email = ""  # warning: cannot be invited
    mobile = f"617-{200 + n % 700:03d}-{n % 10000:04d}"
    home = f"(508) {300 + n % 600:03d}-{(n * 7) % 10000:04d}" if n % 4 == 0 else ""
    city, state, postal = CITIES[n % len(CITIES)]
    if n % 97 == 5:
        postal = postal.lstrip("0")  # warning: ZIP lost its leading zeros
    row = [first, last, dob, email, mobile, home, rng.choice("MFfmUO"), f"{n:08d}", GROUPS[n % len(GROUPS)],
           COACHES[n % len(COACHES)] if n % 4 == 0 else "", f"{1 + n % 999} {rng.choice(STREETS)} Street",
           city, state, postal, rng.choice(NOTES)]
    if n % 500 == 13:
        row[2] = born.strftime("%m/%d/%y")  # error: two-digit year
    if n % 700 == 21:
        row[3] = "not-an-email"  # error
    return row


def rows(count: int, *, seed: int = 7, changed: bool = False) -> list[list]:
    """`count` participant rows; with `changed`, the same people with a new phone and address (updates)."""
    return list(each_row(count, seed=seed, changed=changed))


def each_row(count: int, *, seed: int = 7, changed: bool = False) -> Iterator[list]:
    """rows(), one at a time: a million of them held at once would be the largest part of a bench's peak."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        row = person(n, rng)
        if changed:
            row[4] = f"781-{200 + n % 700:03d}-{n % 10000:04d}"
            row[10] = f"{1 + n % 999} Harbor Road"
        yield row


def csv_bytes(table: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(table)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(table: list[list]) -> bytes:
    """An Excel workbook with Patients and Instructions sheets, written in streaming mode."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Patients")
    sheet.append(HEADERS)
    for row in table:
        sheet.append(row)
    book.create_sheet("Instructions").append(["One participant per row."])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bench_file(directory: Path, count: int, file_format: str, *, changed: bool = False) -> Path:
    """The file for a run, generated once and kept under `directory` (same bytes every time)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"participants-{count}{'-changed' if changed else ''}.{file_format}"
    if not path.exists():
        table = rows(count, changed=changed)
        data = csv_bytes(table) if file_format == "csv" else xlsx_bytes(table)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.rename(path)
    return path
