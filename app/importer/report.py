"""The issue report: the imported columns of the rows that have issues, as written (with the cells
fixed in review), plus their issues.

Fixed and uploaded again, it gives back exactly those values. The XLSX report writes every cell as a
typed string, so no cell can be a formula and none needs a guard; the CSV report has no types, so a
cell a spreadsheet would run as a formula gets a leading apostrophe, which the reader takes off again.
"""
from __future__ import annotations

import io

import tablib

from app.importer.reader import unguarded
from app.models import Upload, UploadRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with an apostrophe, so it stays text;
    so is one the reader would take for guarded (reader.unguarded), so it comes back whole."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) or unguarded(text) != text else text


def _describe(issue: dict) -> str:
    column = issue.get("column")  # most messages name their column first: said once ("Email is blank")
    where = f"{column}: " if column and not issue["message"].startswith(column) else ""
    return f"{issue['severity'].capitalize()}: {where}{issue['message']}"


def issue_rows(upload: Upload):
    """The report's header row, then one row per file issue and per row with issues, all text."""
    headers = [h for h in (upload.headers or []) if h]
    yield ["Row", *headers, "Issues"]
    for issue in upload.file_issues or []:
        yield ["", *([""] * len(headers)), _describe(issue)]
    rows = (UploadRow.select(UploadRow.row_number, UploadRow.values, UploadRow.fixes, UploadRow.issues)
            .where((UploadRow.upload == upload) & UploadRow.issues.is_null(False))
            .order_by(UploadRow.row_number))
    for row in rows.iterator():
        values = {**(row.values or {}), **(row.fixes or {})}  # with the cells fixed in review
        yield [str(row.row_number), *(str(values.get(h, "")) for h in headers),
               "\n".join(_describe(i) for i in row.issues)]


def issue_report_bytes(upload: Upload, file_format: str) -> bytes:
    return report_bytes(issue_rows(upload), file_format)


def report_bytes(rows, file_format: str) -> bytes:
    """Rows of text as CSV (UTF-8 with a byte order mark, guarded) or XLSX (typed strings)."""
    rows = iter(rows)
    if file_format == "xlsx":
        return _xlsx(rows)
    report = tablib.Dataset(headers=[neutralise(h) for h in next(rows)], title="Issues")
    for row in rows:
        report.append([neutralise(cell) for cell in row])
    return report.export("csv").encode("utf-8-sig")


def _xlsx(rows) -> bytes:
    # openpyxl directly, not tablib: tablib lets a text starting with "=" become a formula (or strips the "=").
    # Imported here, not at the top: openpyxl alone is 0.15 s of every start-up.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Issues")
    for row in rows:
        cells = []
        for text in row:
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
            cell.data_type = "s"  # text, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
