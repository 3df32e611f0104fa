"""Recreate the spreadsheet files the reader tests read: run `python tests/files/make_files.py`."""
from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
# Fixed times so that running the script again gives byte-identical files.
FIXED_TIME = datetime.datetime(2024, 1, 1, 12, 0, 0)
FIXED_ZIP_TIME = (2024, 1, 1, 12, 0, 0)
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")

HEADERS = ["Patient ID", "First Name", "Last Name", "Date of Birth", "Phone"]
PEOPLE = [
    ["00123", "José", "Núñez", "1980-02-01", "617-555-0101"],
    ["00124", "Zoë", "Muñoz", "03/15/1975", "6175550102"],
]


def write_text(name: str, text: str, encoding: str, bom: bytes = b"") -> None:
    """Write a text file byte for byte: no newline translation, so each file keeps its line endings."""
    (HERE / name).write_bytes(bom + text.encode(encoding))


def delimited(rows: list[list[str]], delimiter: str, newline: str) -> str:
    """Join simple rows (no quoting needed) with a delimiter and line ending."""
    return "".join(delimiter.join(row) + newline for row in rows)


def make_csv_files() -> None:
    """Write CSV/TSV/TXT files in the encodings, delimiters and line endings Excel and others produce."""
    rows = [HEADERS] + PEOPLE
    write_text("utf8.csv", delimited(rows, ",", "\n"), "utf-8")
    write_text("utf8_bom.csv", delimited(rows, ",", "\r\n"), "utf-8", bom=b"\xef\xbb\xbf")
    # Excel's "Unicode Text" export: UTF-16 LE with a BOM, tab delimited.
    write_text("utf16le_bom.txt", delimited(rows, "\t", "\r\n"), "utf-16-le", bom=b"\xff\xfe")
    # Excel on Windows in a European locale: Windows-1252 and semicolons.
    write_text("windows1252.csv", delimited(rows, ";", "\r\n"), "cp1252")
    write_text("tab.tsv", delimited(rows, "\t", "\n"), "utf-8")
    # Old Mac Excel ends lines with a bare CR.
    write_text("cr_endings.csv", delimited(rows, ",", "\r"), "utf-8")
    write_text(
        "embedded_newline.csv",
        'Patient ID,Last Name,Notes\r\n'
        '00123,"Smith, Jr.","first line\r\nsecond line"\r\n'
        '00124,Jones,"said ""hi"""\r\n'
        '00125,Lee,"a\nb\nc"\r\n',
        "utf-8",
    )
    write_text(
        "blank_rows.csv",
        "Patient ID,First Name,,\n"  # trailing empty header columns
        "00123, Ana ,extra,more\n"  # cells beyond the headers
        "\n"
        ",,\n"
        "00124\n"  # a short row
        "\n"
        ",,,\n"
        "\n",
        "utf-8",
    )


def fixed_zip(data: bytes, replace: dict[str, list[tuple[str, str]]] | None = None) -> bytes:
    """Rewrite a zip with fixed timestamps, optionally applying (old, new) text edits to members."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            for old, new in replace.get(info.filename, []):
                text = content.decode("utf-8")
                assert old in text, (info.filename, old)
                content = text.replace(old, new).encode("utf-8")
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time here whatever the workbook says; pin it.
                content = MODIFIED.sub(rb"\g<1>2024-01-01T12:00:00Z\g<2>", content)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def workbook_bytes(workbook: openpyxl.Workbook) -> bytes:
    """Save a workbook to bytes with a fixed creation date."""
    workbook.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def save_xlsx(name: str, workbook: openpyxl.Workbook, replace: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """Save a workbook deterministically, with optional edits to its XML."""
    (HERE / name).write_bytes(fixed_zip(workbook_bytes(workbook), replace))


def make_types_xlsx() -> None:
    """A Patients sheet with the cell types that trip readers up: dates, text IDs, floats, formulas."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Patients"
    sheet.append(["Patient ID", "Numeric ID", "Float ID", "First Name", "Date of Birth", "Visit",
                  "Phone", "Score", "Active", "Double ID"])
    sheet.append(["00123", 12345, 12345.0, "  Ana  ", datetime.date(1980, 2, 1),
                  datetime.datetime(2024, 5, 6, 9, 30), 6175550101, 3.5, True, "=B2*2"])
    sheet.append(["00456", 67890, 67890.0, "Bo", datetime.date(1975, 3, 15),
                  datetime.datetime(2024, 5, 7, 14, 0), 6175550102.0, 0.1 + 0.2, False, "=B3*2"])
    for row in (2, 3):
        sheet.cell(row=row, column=1).number_format = "@"
        sheet.cell(row=row, column=5).number_format = "yyyy-mm-dd"
    # openpyxl cannot compute formulas, so write the cached values Excel would have stored.
    save_xlsx("types.xlsx", workbook, {
        "xl/worksheets/sheet1.xml": [
            ("<f>B2*2</f><v />", "<f>B2*2</f><v>24690</v>"),
            ("<f>B3*2</f><v />", "<f>B3*2</f><v>135780</v>"),
        ],
    })


def make_sheet_choice_xlsx() -> None:
    """Workbooks where the participants are not on the first sheet."""
    workbook = openpyxl.Workbook()
    instructions = workbook.active
    instructions.title = "Instructions"
    instructions.append(["Fill in one participant per row on the next sheet."])
    data = workbook.create_sheet("Participants")
    data.append(["Patient ID", "Last Name"])
    data.append(["00123", "Núñez"])
    save_xlsx("instructions_first.xlsx", workbook)

    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["Total", "Clinic"])
    summary.append([2, "North"])
    data = workbook.create_sheet("PATIENTS")
    data.append(["Patient ID", "Last Name"])
    data.append(["00777", "Okafor"])
    save_xlsx("patients_not_first.xlsx", workbook)


def make_blank_rows_xlsx() -> None:
    """Blank rows in the middle, styled empty rows at the end, and a dimension claiming a million rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Patient ID", "Last Name", None])
    sheet.append(["00123", "Núñez", None, "beyond the headers"])
    sheet.append([None, None])
    sheet.append(["00124"])
    for row in range(5, 9):  # Excel writes formatted but empty rows like these
        sheet.cell(row=row, column=1).number_format = "@"
    save_xlsx("blank_rows.xlsx", workbook, {
        "xl/worksheets/sheet1.xml": [('<dimension ref="A1:D8" />', '<dimension ref="A1:XFD1000001" />')],
    })


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Instructions">
 <table:table-row><table:table-cell office:value-type="string"><text:p>Read me</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="Sheet2">
 <table:table-row>
  <table:table-cell office:value-type="string"><text:p>Patient ID</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>Numeric ID</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>Date of Birth</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>Score</text:p></table:table-cell>
 </table:table-row>
 <table:table-row>
  <table:table-cell office:value-type="string"><text:p>00123</text:p></table:table-cell>
  <table:table-cell office:value-type="float" office:value="12345"><text:p>12345</text:p></table:table-cell>
  <table:table-cell office:value-type="date" office:date-value="1980-02-01"><text:p>1980-02-01</text:p></table:table-cell>
  <table:table-cell office:value-type="float" office:value="3.5"><text:p>3.5</text:p></table:table-cell>
 </table:table-row>
 <table:table-row><table:table-cell table:number-columns-repeated="4"/></table:table-row>
 <table:table-row>
  <table:table-cell office:value-type="string"><text:p>00124</text:p></table:table-cell>
  <table:table-cell office:value-type="float" office:value="6175550101"><text:p>6175550101</text:p></table:table-cell>
 </table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>
"""
ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""


OFFSET_ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Patients">
 <table:table-row>
  <table:table-cell/>
  <table:table-cell office:value-type="string"><text:p>Patient ID</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>Last Name</text:p></table:table-cell>
 </table:table-row>
 <table:table-row>
  <table:table-cell table:number-columns-repeated="2"/>
  <table:table-cell office:value-type="string"><text:p>Okafor</text:p></table:table-cell>
 </table:table-row>
 <table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>
"""


def write_ods(name: str, content_xml: str) -> None:
    """Write a minimal OpenDocument spreadsheet by hand (no ODS writer is installed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # The mimetype member comes first and uncompressed, as the ODF spec requires.
        archive.writestr(zipfile.ZipInfo("mimetype", FIXED_ZIP_TIME),
                         "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        # LibreOffice writes no whitespace between cells, and calamine rejects it.
        content = re.sub(r">\s+<", "><", content_xml)
        archive.writestr(zipfile.ZipInfo("content.xml", FIXED_ZIP_TIME), content, zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo("META-INF/manifest.xml", FIXED_ZIP_TIME), ODS_MANIFEST,
                         zipfile.ZIP_DEFLATED)
    (HERE / name).write_bytes(out.getvalue())


def make_ods() -> None:
    """ODS files: typed cells on a second sheet, and a sheet whose headers start in column B."""
    write_ods("types.ods", ODS_CONTENT)
    # LibreOffice pads sheets with a repeated empty row reaching row 1,048,576, like the last row here.
    write_ods("offset.ods", OFFSET_ODS_CONTENT)


def main() -> None:
    make_csv_files()
    make_types_xlsx()
    make_sheet_choice_xlsx()
    make_blank_rows_xlsx()
    make_ods()


if __name__ == "__main__":
    main()
