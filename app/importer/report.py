"""The issue report: the original rows that have issues, plus a column with the issues."""
from __future__ import annotations

import tablib

from app.models import Upload, UploadRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with an apostrophe, so it stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _describe(issue: dict) -> str:
    where = f"{issue['column']}: " if issue.get("column") else ""
    return f"{issue['severity'].capitalize()}: {where}{issue['message']}"


def issue_report(upload: Upload) -> tablib.Dataset:
    headers = [h for h in (upload.headers or []) if h]
    report = tablib.Dataset(headers=["Row", *map(neutralise, headers), "Issues"], title="Issues")
    for issue in upload.file_issues or []:
        report.append(["", *([""] * len(headers)), neutralise(_describe(issue))])
    rows = (UploadRow.select(UploadRow.row_number, UploadRow.values, UploadRow.issues)
            .where((UploadRow.upload == upload) & UploadRow.issues.is_null(False))
            .order_by(UploadRow.row_number))
    for row in rows.iterator():
        cells = [neutralise(row.values.get(h, "")) for h in headers]
        report.append([row.row_number, *cells, neutralise("\n".join(_describe(i) for i in row.issues))])
    return report


def issue_report_bytes(upload: Upload, file_format: str) -> bytes:
    data = issue_report(upload).export(file_format)
    return data.encode("utf-8-sig") if isinstance(data, str) else data
