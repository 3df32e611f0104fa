"""The Patient Import Sample File (XLSX and CSV), generated from COLUMNS so it always matches the rules."""
from __future__ import annotations

from io import BytesIO

import tablib

from app.importer.columns import COLUMNS

PATIENTS_SHEET = "Patients"
INSTRUCTIONS_SHEET = "Instructions"
INSTRUCTIONS_HEADERS = ("Column", "Required", "What it holds / accepted formats", "Example")
TEXT_FORMAT = "@"


def patients_dataset() -> tablib.Dataset:
    """The Patients tab: the column labels and two example rows."""
    dataset = tablib.Dataset(headers=[column.label for column in COLUMNS], title=PATIENTS_SHEET)
    for index in (0, 1):
        dataset.append([column.examples[index] for column in COLUMNS])
    return dataset


def instructions_dataset(*, max_file_mb: int = 20, max_rows: int = 100_000) -> tablib.Dataset:
    """The Instructions tab: one row per column, then general advice."""
    dataset = tablib.Dataset(headers=list(INSTRUCTIONS_HEADERS), title=INSTRUCTIONS_SHEET)
    for column in COLUMNS:
        dataset.append([column.label, _required_text(column), column.instructions,
                        column.examples[0] or column.examples[1]])
    dataset.append(["", "", "", ""])
    for line in general_advice(max_file_mb=max_file_mb, max_rows=max_rows):
        dataset.append(["", "", line, ""])
    return dataset


def general_advice(*, max_file_mb: int, max_rows: int) -> list[str]:
    """Plain-words advice that applies to the whole file."""
    labels = [column.label for column in COLUMNS if column.as_text]
    text_columns = ", ".join(labels[:-1]) + " and " + labels[-1]
    return [
        "Keep the first row as the column names. Columns may come in any order; "
        "unused columns may be left blank or removed.",
        f"Format the columns {text_columns} as Text in Excel (Format Cells > Text) so leading zeros survive. "
        "In this file they already are.",
        "A blank cell never erases what Roster already holds for a participant.",
        "A row whose Patient ID (or name and email) matches a participant updates that participant; "
        "other rows create new participants. Show results lists every change before anything is saved.",
        f"Files up to {max_file_mb} MB and {max_rows:,} rows: .xlsx or .csv (UTF-8). "
        "More than 5,000 rows works, with a warning.",
        "Only the Patients tab is read; this Instructions tab is ignored on upload.",
    ]


def sample_xlsx(*, max_file_mb: int = 20, max_rows: int = 100_000) -> bytes:
    """The sample workbook: Patients with identifier columns formatted as Text, then Instructions."""
    from openpyxl import Workbook  # here, not at the top: openpyxl alone is 0.15 s of every start-up
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    patients = workbook.active
    patients.title = PATIENTS_SHEET
    _write(patients, patients_dataset())
    patients.freeze_panes = "A2"
    for number, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(number)
        width = max(len(column.label), *(len(example) for example in column.examples)) + 4
        patients.column_dimensions[letter].width = min(width, 40)
        if column.as_text:
            # The whole column, so numbers typed in later rows keep their leading zeros too.
            patients.column_dimensions[letter].number_format = TEXT_FORMAT
            for cell in patients[letter]:
                cell.number_format = TEXT_FORMAT

    instructions = workbook.create_sheet(INSTRUCTIONS_SHEET)
    _write(instructions, instructions_dataset(max_file_mb=max_file_mb, max_rows=max_rows))
    for letter, width in zip("ABCD", (18, 34, 90, 26), strict=True):
        instructions.column_dimensions[letter].width = width
    for cell in instructions["C"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_csv() -> bytes:
    """The Patients tab as CSV, UTF-8 with a byte order mark so Excel reads accents right."""
    return patients_dataset().export("csv").encode("utf-8-sig")


def _required_text(column) -> str:
    if column.key == "group":
        return 'Yes, unless you choose a group in "Import into group"'
    if column.key == "id_system":
        return "Only with Patient ID"
    return "Yes" if column.required else "No"


def _write(sheet, dataset: tablib.Dataset) -> None:
    from openpyxl.styles import Font

    sheet.append(list(dataset.headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in dataset:
        # Blank examples are written as empty cells, not as empty strings.
        sheet.append([value if value != "" else None for value in row])
