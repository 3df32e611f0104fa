"""Properties over arbitrary input (hypothesis): the reader refuses, never crashes; every check returns
issues, never an exception; a value written to either report is read back as it was."""
from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.importer import reader
from app.importer.columns import COLUMNS
from app.importer.issues import FileRejected, Issue
from app.importer.reader import clean_text, read_pieces, read_spreadsheet
from app.importer.report import report_bytes
from app.importer.rules import Reference
from app.text import without_unsafe
from tests.importer.conftest import check_row

REF = Reference(today=date(2025, 6, 15), groups={"diabetes prevention": 1}, group_names={1: "Diabetes Prevention"},
                id_systems={"mrn": 10}, id_system_names={10: "MRN"}, default_id_system=10,
                coaches={"coach@demo.example": (100, frozenset({1}))})
NAMES = ("patients.csv", "patients.xlsx", "patients.xls", "patients.ods", "patients.txt")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(st.characters(codec="utf-8"), max_size=40)


def read_all(data: bytes, name: str) -> list:
    sheet = read_spreadsheet(data, name, max_rows=1_000)
    return [cells for _, cells in sheet.rows]


@SETTINGS
@given(st.binary(max_size=4_000), st.sampled_from(NAMES))
@example(b"PK\x03\x04" + b"\x00" * 40, "patients.xlsx")
@example(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "patients.xls")
@example("\ufeffFirst Name,Last Name\n\x00Ann,Lee\n".encode(), "patients.csv")
def test_the_reader_on_any_bytes_reads_them_or_refuses_them_with_a_reason(data, name):
    try:
        read_all(data, name)
    except FileRejected as refusal:
        assert refusal.message.endswith(".") and len(refusal.message) > 30


@SETTINGS
@given(st.lists(st.lists(text, min_size=1, max_size=6), min_size=1, max_size=8),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_the_reader_on_any_csv_text_reads_it_or_refuses_it_with_a_reason(rows, delimiter, encoding):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([["First Name", "Last Name", "Note"], *rows])
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # not every text fits Windows-1252
    try:
        read_all(data, "patients.csv")
    except FileRejected as refusal:
        assert refusal.message


@SETTINGS
@given(st.binary(max_size=3_000) | st.lists(st.lists(text, min_size=1, max_size=5), min_size=1, max_size=8).map(
           lambda rows: "\r\n".join(",".join(f'"{cell}"' for cell in row) for row in [["First Name", "Note"], *rows])),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]), st.integers(min_value=1, max_value=20),
       st.lists(st.integers(min_value=0, max_value=60_000)))
def test_a_file_read_a_piece_at_a_time_reads_as_the_whole_does(content, encoding, times, cuts):
    # Pieces cut anywhere: inside a character, a CRLF, a quoted field, the byte order mark; and pieces
    # longer than the reader's buffer (8 kB), read in several parts.
    try:
        data = content if isinstance(content, bytes) else content.encode(encoding)
    except UnicodeEncodeError:
        return
    data = data[:2] + data[2:] * times
    edges = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    pieces = [data[a:b] for a, b in itertools.pairwise(edges)]

    def outcome(read):
        try:
            sheet = read()
            return sheet.headers, sheet.format, sheet.row_estimate, list(sheet.rows)
        except FileRejected as refusal:
            return refusal.message

    in_pieces = outcome(lambda: read_pieces(lambda: iter(pieces), "patients.csv", max_rows=1_000))
    with mock.patch.object(reader, "_PieceStream", lambda pieces: io.BytesIO(b"".join(pieces))):  # the whole, as before
        assert in_pieces == outcome(lambda: read_spreadsheet(data, "patients.csv", max_rows=1_000))


@SETTINGS
@given(st.dictionaries(st.sampled_from([c.key for c in COLUMNS]), text | st.dates(date(1800, 1, 1), date(2100, 1, 1))))
def test_every_check_on_any_cell_returns_values_and_issues_never_an_exception(cells):
    values, issues = check_row(5, {key: (key.title(), value) for key, value in cells.items()}, REF)
    assert isinstance(values, dict) and all(isinstance(issue, Issue) and issue.message for issue in issues)
    assert all(issue.row == 5 for issue in issues)


def as_imported(value: str) -> str:
    """A cell as the preview keeps it: what a report is made of."""
    return without_unsafe(clean_text(value))[0].strip()


@SETTINGS
@given(text.map(as_imported).filter(bool), st.sampled_from(["csv", "xlsx"]))
@example("'=1+2", "csv")
@example("''x", "csv")
@example("=HYPERLINK(1)", "xlsx")
@example("- call after 5", "csv")
def test_a_value_in_either_report_is_read_back_as_it_was(value, file_format):
    rows = [["Row", "First Name", "Note", "Issues"], ["2", "Ann", value, "Warning: something"]]
    again = read_all(report_bytes(rows, file_format), f"issues.{file_format}")
    assert again[0][2] == value


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(min_value=2, max_value=10**9), st.integers(min_value=1, max_value=40).map(lambda n: n << 4),
                          st.tuples(st.sampled_from("iep"), st.text(max_size=3))), max_size=300),
       st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=80))
def test_the_compact_table_remembers_the_first_row_of_every_key_as_a_dict_does(keys, compact_at, expected):
    # A first table of 16 slots: keys 16 apart (an int is its own hash) share a slot, and it grows often.
    # `expected` keys past compact_at: the table from the start, sized for them (and grown past them).
    from app.importer.earlier import EarlierRows

    in_a_dict, compact = EarlierRows(), EarlierRows(compact_at, first_bits=4, expected=expected)
    first_size = len(compact.hashes)
    for row, key in enumerate(keys, start=2):
        assert compact.get(key) == in_a_dict.get(key)
        in_a_dict.remember(key, row)
        compact.remember(key, row)
    assert all(compact.get(key) == in_a_dict.get(key) for key in keys)
    assert compact.get(("x", "never")) is None
    assert (compact.held is None) == (len(set(keys)) > compact_at or expected > compact_at)
    if expected > compact_at and len(set(keys)) <= expected:  # sized for them all: it never doubled
        assert len(compact.hashes) == first_size
