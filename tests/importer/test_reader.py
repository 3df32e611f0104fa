"""Reading uploaded spreadsheets: formats, encodings, cell types, and files that must be refused."""
from __future__ import annotations

import datetime
import io
import itertools
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from app.importer import reader
from app.importer.issues import FileRejected
from app.importer.reader import read_spreadsheet

FILES = Path(__file__).parent.parent / "files"
PEOPLE_HEADERS = ["Patient ID", "First Name", "Last Name", "Date of Birth", "Phone"]
PEOPLE_ROWS = [
    (2, ["00123", "José", "Núñez", "1980-02-01", "617-555-0101"]),
    (3, ["00124", "Zoë", "Muñoz", "03/15/1975", "6175550102"]),
]


def read_file(name: str, **options):
    """Read a file from tests/files and return its sheet with the rows as a list."""
    sheet = read_spreadsheet((FILES / name).read_bytes(), name, **options)
    return sheet.format, sheet.headers, list(sheet.rows)


def rejection(data: bytes, filename: str = "upload.csv", **options) -> str:
    """Return the message a file is refused with, reading all its rows as the importer would."""
    with pytest.raises(FileRejected) as caught:
        sheet = read_spreadsheet(data, filename, **options)
        list(sheet.rows)
    return caught.value.message


def xlsx_bytes(rows: list[list], title: str = "Sheet") -> bytes:
    """Write a one-sheet workbook with openpyxl."""
    workbook = openpyxl.Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def patch_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """Return a copy of a zip with some members' content replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.pop(info.filename, source.read(info.filename)))
        for name, content in replace.items():
            target.writestr(name, content)
    return out.getvalue()


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "utf8.csv",  # comma, LF
        "utf8_bom.csv",  # comma, CRLF, BOM
        "utf16le_bom.txt",  # tab, CRLF, Excel "Unicode Text"
        "windows1252.csv",  # semicolon, CRLF, é and ñ as single bytes
        "tab.tsv",  # tab, LF
        "cr_endings.csv",  # comma, bare CR (old Mac Excel)
    ],
)
def test_csv_in_every_encoding_delimiter_and_line_ending_reads_the_same(name):
    assert read_file(name) == ("csv", PEOPLE_HEADERS, PEOPLE_ROWS)


def test_windows_1252_file_is_really_not_utf8():
    data = (FILES / "windows1252.csv").read_bytes()
    assert "é".encode("cp1252") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_quoted_field_with_newline_is_one_row_numbered_by_record():
    assert read_file("embedded_newline.csv") == (
        "csv",
        ["Patient ID", "Last Name", "Notes"],
        [
            (2, ["00123", "Smith, Jr.", "first line\nsecond line"]),  # line breaks as "\n", as XLSX reads them
            (3, ["00124", "Jones", 'said "hi"']),
            (4, ["00125", "Lee", "a\nb\nc"]),
        ],
    )


def test_csv_blank_rows_in_the_middle_are_kept_and_trailing_ones_dropped():
    # Also: trailing empty headers dropped, cells trimmed, extra cells cut, short rows padded.
    assert read_file("blank_rows.csv") == (
        "csv",
        ["Patient ID", "First Name"],
        [(2, ["00123", "Ana"]), (3, ["", ""]), (4, ["", ""]), (5, ["00124", ""])],
    )


def test_latin1_bytes_that_windows_1252_lacks_still_read():
    data = "Patient ID,Note\n1,caf\xe9 \x81\n2,ok\x1a".encode("latin-1")
    sheet = read_spreadsheet(data, "old.csv")
    assert list(sheet.rows) == [(2, ["1", "caf\xe9 \x81"]), (3, ["2", "ok\x1a"])]


def test_one_windows_1252_byte_late_in_a_large_file_decides_the_whole_file(monkeypatch):
    # The text is decoded as it is read; the encoding is decided first, over every byte, so a file whose
    # first megabytes are plain ASCII still reads its one "é" at the end (and the rows before it) right.
    monkeypatch.setattr(reader, "DECODE_PIECE", 1000)  # many pieces, the é in the last one
    rows = "".join(f"{n},Name{n}\r\n" for n in range(3000))
    data = ("Patient ID,Note\r\n" + rows + "3000,caf\xe9\r\n").encode("cp1252")
    read = list(read_spreadsheet(data, "late.csv").rows)
    assert len(read) == 3001 and read[0] == (2, ["0", "Name0"]) and read[-1] == (3002, ["3000", "café"])


def test_reading_a_csv_holds_a_few_pieces_of_it_not_a_copy_of_it():
    # Issue 20: memory that does not grow with the file. The whole text beside the bytes, and a stripped
    # copy of them, were twice the file more; now a decoded piece and a row (about a megabyte).
    data = "Patient ID,First Name,Note\n".encode() + b"".join(b"%d,Ann,caf\xc3\xa9 %d\n" % (n, n) for n in range(250_000))
    tracemalloc.start()
    try:
        rows = sum(1 for _ in read_spreadsheet(data, "big.csv", max_rows=10**6).rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == 250_000 and peak < len(data) / 4, (peak, len(data))


def test_the_row_estimate_counts_lines_not_bytes_that_look_like_them():
    # In UTF-16 "ਊ" is the bytes 0A 0A (two line feeds to a byte count); the estimate sizes the progress bar
    # and decides whether a child process reads the file.
    data = ("Patient ID,Name\r\n" + "".join(f"{n},ਊਊ\r\n" for n in range(1000))).encode("utf-16")
    assert read_spreadsheet(data, "unicode.txt").row_estimate == 1000


def test_line_endings_split_across_what_is_decoded_at_a_time_read_as_one():
    # TextIOWrapper decodes 8 kB at a time: a CRLF (or a quoted newline) on that edge is one ending.
    for pad in range(8170, 8200):
        data = ("Patient ID,Note\r\n1," + "x" * pad + '\r\n2,"a\r\nb"\r\n3,c\r\n').encode()
        assert [cells for _, cells in read_spreadsheet(data, "edge.csv").rows] == [
            ["1", "x" * pad], ["2", "a\nb"], ["3", "c"]]


def test_rows_are_read_lazily():
    sheet = read_spreadsheet(b"Patient ID\n1\n2\n3\n", "ids.csv")
    assert next(sheet.rows) == (2, ["1"])
    assert next(sheet.rows) == (3, ["2"])


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_cell_types_read_as_excel_shows_them():
    assert read_file("types.xlsx") == (
        "xlsx",
        ["Patient ID", "Numeric ID", "Float ID", "First Name", "Date of Birth", "Visit",
         "Phone", "Score", "Active", "Double ID"],
        [
            (2, ["00123", "12345", "12345", "Ana", datetime.date(1980, 2, 1), datetime.date(2024, 5, 6),
                 "6175550101", "3.5", "TRUE", "24690"]),
            (3, ["00456", "67890", "67890", "Bo", datetime.date(1975, 3, 15), datetime.date(2024, 5, 7),
                 "6175550102", "0.3", "FALSE", "135780"]),
        ],
    )


def test_xlsx_formula_cached_value_is_really_in_the_file():
    sheet_xml = zipfile.ZipFile(FILES / "types.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>B2*2</f><v>24690</v>" in sheet_xml


def test_xlsx_instructions_sheet_first_is_skipped():
    assert read_file("instructions_first.xlsx") == ("xlsx", ["Patient ID", "Last Name"], [(2, ["00123", "Núñez"])])


def test_xlsx_sheet_named_patients_wins_wherever_it_is():
    assert read_file("patients_not_first.xlsx") == ("xlsx", ["Patient ID", "Last Name"], [(2, ["00777", "Okafor"])])


def test_xlsx_blank_rows_and_a_million_row_dimension():
    sheet_xml = zipfile.ZipFile(FILES / "blank_rows.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:XFD1000001" />' in sheet_xml
    started = time.perf_counter()
    result = read_file("blank_rows.xlsx")
    assert time.perf_counter() - started < 1
    assert result == ("xlsx", ["Patient ID", "Last Name"], [(2, ["00123", "Núñez"]), (3, ["", ""]), (4, ["00124", ""])])


def test_xlsx_named_csv_is_read_by_content():
    data = (FILES / "types.xlsx").read_bytes()
    assert read_spreadsheet(data, "renamed.csv").format == "xlsx"


# --- ODS (python-calamine) --------------------------------------------------------------------


def test_ods_second_sheet_with_typed_cells():
    pytest.importorskip("python_calamine")
    assert read_file("types.ods") == (
        "ods",
        ["Patient ID", "Numeric ID", "Date of Birth", "Score"],
        [(2, ["00123", "12345", datetime.date(1980, 2, 1), "3.5"]), (3, ["", "", "", ""]),
         (4, ["00124", "6175550101", "", ""])],
    )


def test_ods_headers_starting_in_column_b_keep_their_columns():
    pytest.importorskip("python_calamine")
    assert read_file("offset.ods") == ("ods", ["", "Patient ID", "Last Name"], [(2, ["", "", "Okafor"])])


# --- limits -----------------------------------------------------------------------------------


def test_more_rows_than_the_limit_is_refused_with_the_limit():
    data = b"Patient ID\n" + b"".join(b"%d\n" % n for n in range(6))
    assert "more than 5 rows" in rejection(data, max_rows=5)
    assert len(list(read_spreadsheet(data, "ok.csv", max_rows=6).rows)) == 6


def test_trailing_blank_rows_do_not_count_towards_the_limit():
    data = b"Patient ID\n1\n2\n\n\n,\n\n"
    assert list(read_spreadsheet(data, "ok.csv", max_rows=2).rows) == [(2, ["1"]), (3, ["2"])]


def test_xlsx_row_limit_counts_rows_not_just_data():
    data = xlsx_bytes([["Patient ID"], ["1"], [None], ["3"]])
    assert "more than 2 rows" in rejection(data, "big.xlsx", max_rows=2)


# --- files that are not spreadsheets ---------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\x00\x01\x02\xff", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image"),
        (b"GIF89a\x01\x00\x01\x00\x00\xff", "image"),
        (bytes(range(256)) * 40, "not a spreadsheet"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "web page"),
    ],
)
def test_non_spreadsheet_files_named_csv_are_refused(data, expected):
    message = rejection(data)
    assert expected in message
    assert ".csv or .xlsx" in message or "empty" in message


def test_random_bytes_are_refused():
    data = bytes((n * 7919 + 13) % 256 for n in range(5000))
    assert "not a spreadsheet" in rejection(data)


def test_utf16_without_bom_is_refused_as_binary():
    assert "not a spreadsheet" in rejection("Patient ID,Name\n1,Ana\n".encode("utf-16-le"))


def test_header_row_alone_is_refused():
    assert "column headers but no participant rows" in rejection(b"Patient ID,Last Name\r\n")
    assert "column headers but no participant rows" in rejection(b"Patient ID,Last Name\n\n,,\n")
    assert "column headers but no participant rows" in rejection(xlsx_bytes([["Patient ID"], [None]]), "a.xlsx")


def test_file_without_header_row_is_refused():
    assert "first row must hold the column headers" in rejection(b"00123,1980-02-01,6175550101\n00124,1975-03-15,1\n")
    assert "first row must hold the column headers" in rejection(b"\nPatient ID\n1\n")
    assert "first row must hold the column headers" in rejection(xlsx_bytes([[12345, datetime.date(1980, 1, 1)], [1, 2]]), "a.xlsx")


def test_messages_never_contain_cell_values():
    message = rejection(b"Secret Header\n", "x.csv")
    assert "Secret" not in message
    message = rejection(b"7777777,1980-02-01\n", "x.csv")
    assert "7777777" not in message


# --- damaged and hostile workbooks -----------------------------------------------------------


def test_zip_without_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "zip archive" in rejection(out.getvalue(), "list.xlsx")


def test_truncated_xlsx_is_refused_as_damaged():
    data = (FILES / "types.xlsx").read_bytes()
    assert "damaged or unsafe" in rejection(data[: len(data) // 2], "list.xlsx")


def test_xlsx_with_corrupt_sheet_xml_is_refused_as_damaged():
    data = patch_zip((FILES / "types.xlsx").read_bytes(), {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"})
    assert "damaged or unsafe" in rejection(data, "list.xlsx")


def test_zip_bomb_is_refused_quickly():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    data = out.getvalue()
    assert len(data) < 100_000
    started = time.perf_counter()
    assert "damaged or unsafe" in rejection(data, "bomb.xlsx")
    assert time.perf_counter() - started < 0.5


def test_zip_declaring_huge_total_size_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    data = bytearray(out.getvalue())
    # Patch the central directory's "uncompressed size" to claim 300 MB.
    central = data.rindex(b"PK\x01\x02")
    data[central + 24:central + 28] = (300 * 1024 * 1024).to_bytes(4, "little")
    assert "damaged or unsafe" in rejection(bytes(data), "big.xlsx")


def test_zip_with_too_many_members_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(1001):
            archive.writestr(f"xl/media/{n}.bin", b"")
    assert "damaged or unsafe" in rejection(out.getvalue(), "many.xlsx")


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + "]>"
)
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
SHARED_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def hostile_sheet(doctype: str, entity: str) -> bytes:
    """An xlsx whose first worksheet expands an entity in a cell."""
    sheet_xml = (
        doctype + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{entity}</t></is></c></row></sheetData></worksheet>'
    )
    return patch_zip(xlsx_bytes([["x"]]), {"xl/worksheets/sheet1.xml": sheet_xml.encode()})


def hostile_shared_strings(doctype: str, entity: str) -> bytes:
    """An xlsx whose shared strings table expands an entity."""
    data = xlsx_bytes([["x"]])
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").decode()
    strings = (
        doctype + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        f"<si><t>{entity}</t></si></sst>"
    )
    return patch_zip(data, {
        "[Content_Types].xml": types.replace("</Types>", SHARED_STRINGS_TYPE + "</Types>").encode(),
        "xl/sharedStrings.xml": strings.encode(),
    })


@pytest.mark.parametrize("build", [hostile_sheet, hostile_shared_strings])
@pytest.mark.parametrize("doctype, entity", [(BILLION_LAUGHS, "&lol9;"), (XXE, "&xxe;")])
def test_xml_entity_attacks_are_refused(build, doctype, entity):
    data = build(doctype, entity)
    started = time.perf_counter()
    message = rejection(data, "hostile.xlsx")
    assert time.perf_counter() - started < 1
    assert "damaged or unsafe" in message
    assert "root:" not in message


def test_shared_strings_patch_is_really_read():
    # Guard for the test above: the same patch without an entity reads the shared string.
    data = hostile_shared_strings("", "Patient ID")
    sheet_xml = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' \
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>1</v></c></row></sheetData></worksheet>'
    data = patch_zip(data, {"xl/worksheets/sheet1.xml": sheet_xml.encode()})
    sheet = read_spreadsheet(data, "ok.xlsx")
    assert (sheet.headers, list(sheet.rows)) == (["Patient ID"], [(2, ["1"])])


def test_ole2_file_that_is_not_a_workbook_is_refused():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert "cannot read this workbook" in rejection(data, "old.xls")


def test_a_list_exported_without_its_header_row_is_refused_so_its_first_person_is_not_kept_as_headers():
    from app.importer.issues import FileRejected
    from app.importer.reader import NO_HEADER, read_spreadsheet

    for first_row in ("Ann,Lee,1980-01-02,ann@x.org", "Ann,Lee,01/02/1980,Group A"):
        with pytest.raises(FileRejected) as refused:
            read_spreadsheet(f"{first_row}\nBo,Ray,1975-11-30,bo@x.org\n".encode(), "list.csv")
        assert refused.value.message == NO_HEADER


def test_a_csv_read_a_piece_at_a_time_reads_every_cell_whatever_the_cuts():
    # Pieces shorter and longer than the reader's 8 kB buffer, cut inside "é", a CRLF and a quoted newline.
    from app.importer.reader import read_pieces

    lines = ["First Name,Note"] + [f'Zoé{n},"line {n}\r\nnext"' for n in range(4000)]
    data = "\r\n".join(lines).encode() + b"\r\n"
    cuts = [0, 1, 3, 11, 8191, 8193, 8194, 20_000, 65_536, 100_001, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(cuts)]
    assert b"".join(pieces) == data
    sheet = read_pieces(lambda: iter(pieces), "patients.csv", max_rows=10_000)
    assert sheet.headers == ["First Name", "Note"]
    assert [cells for _, cells in sheet.rows] == [[f"Zoé{n}", f"line {n}\nnext"] for n in range(4000)]
