"""The Patient Import Sample File: built from COLUMNS, Text where leading zeros matter, and valid as it is."""
import csv
import io
from datetime import date

import openpyxl
import pytest

from app.importer.columns import COLUMNS
from app.importer.mapping import map_headers
from app.importer.rules import Reference, check_cells, layout
from app.importer.sample_file import sample_csv, sample_xlsx

LABELS = [column.label for column in COLUMNS]
DEMO = Reference(
    today=date(2025, 6, 15),
    groups={"diabetes prevention": 1},
    group_names={1: "Diabetes Prevention"},
    id_systems={"mrn": 1},
    id_system_names={1: "MRN"},
    default_id_system=1,
    coaches={"coach@demo.example": (9, frozenset({1}))},
)


@pytest.fixture(scope="module")
def workbook():
    return openpyxl.load_workbook(io.BytesIO(sample_xlsx()))


def patients_rows(workbook):
    rows = list(workbook["Patients"].iter_rows(values_only=True))
    return [["" if value is None else value for value in row] for row in rows]


def test_sheets_are_patients_then_instructions(workbook):
    assert workbook.sheetnames == ["Patients", "Instructions"]


def test_patients_headers_are_the_labels_in_bold(workbook):
    sheet = workbook["Patients"]
    assert [cell.value for cell in sheet[1]] == LABELS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize("column", [c for c in COLUMNS if c.as_text], ids=lambda c: c.key)
def test_identifier_columns_are_formatted_as_text(workbook, column):
    sheet = workbook["Patients"]
    letter = openpyxl.utils.get_column_letter(LABELS.index(column.label) + 1)
    assert sheet.column_dimensions[letter].number_format == "@"
    assert [cell.number_format for cell in sheet[letter]] == ["@", "@", "@"]


def test_other_columns_are_not_text(workbook):
    sheet = workbook["Patients"]
    for number, column in enumerate(COLUMNS, start=1):
        if not column.as_text:
            assert sheet.cell(2, number).number_format == "General", column.label


def test_example_rows_are_the_column_examples_with_leading_zeros(workbook):
    rows = patients_rows(workbook)
    assert rows[1:] == [[column.examples[0] for column in COLUMNS], [column.examples[1] for column in COLUMNS]]
    assert rows[1][LABELS.index("Patient ID")] == "000123"
    assert rows[1][LABELS.index("Postal Code")] == "02134"


def test_instructions_list_every_column_with_required_and_example(workbook):
    rows = list(workbook["Instructions"].iter_rows(values_only=True))
    assert rows[0] == ("Column", "Required", "What it holds / accepted formats", "Example")
    by_label = {row[0]: row for row in rows[1:] if row[0]}
    assert list(by_label) == LABELS
    assert by_label["First Name"][1:] == ("Yes", COLUMNS[0].instructions, "Maria")
    assert by_label["Email"][1] == "No"
    assert by_label["Group"][1] == 'Yes, unless you choose a group in "Import into group"'


@pytest.mark.parametrize("advice", [
    "Format the columns Mobile Phone, Home Phone, Work Phone, Patient ID and Postal Code as Text in Excel",
    "unused columns may be left blank or removed",
    "Files up to 20 MB and 100,000 rows",
])
def test_instructions_give_general_advice(workbook, advice):
    text = " ".join(str(value) for row in workbook["Instructions"].iter_rows(values_only=True) for value in row
                    if value)
    assert advice in text


def test_limits_in_the_advice_follow_the_configuration():
    workbook = openpyxl.load_workbook(io.BytesIO(sample_xlsx(max_file_mb=5, max_rows=20_000)))
    text = " ".join(str(v) for row in workbook["Instructions"].iter_rows(values_only=True) for v in row if v)
    assert "Files up to 5 MB and 20,000 rows" in text


def sample_rows_checked(rows):
    header_map = map_headers(rows[0], upload_names_group=False)
    assert header_map.issues == []
    rules = layout(header_map.located)
    return [check_cells(number, row, rules, DEMO) for number, row in enumerate(rows[1:], start=2)]


def test_xlsx_example_rows_pass_every_rule_for_the_demo_organization(workbook):
    results = sample_rows_checked(patients_rows(workbook))
    assert [issues for values, issues in results] == [[], []]
    first, second = (values for values, issues in results)
    assert first["group_ids"] == [1] and first["id_system"] == 1 and first["mobile_phone"] == "+16175550101"
    assert second["patient_id"] == "000124" and second["postal_code"] == "02139-4307"


def test_csv_has_the_same_headers_and_rows_with_a_bom():
    data = sample_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == LABELS
    assert rows[1:] == [[column.examples[0] for column in COLUMNS], [column.examples[1] for column in COLUMNS]]
    assert [issues for values, issues in sample_rows_checked(rows)] == [[], []]
