"""Exports as practice systems, CRMs and warehouses write them (tests/files/exports): mapped as a person
would map them, through the real reader and recognition."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.importer.mapping import IDENTITY, SUGGESTED, map_headers, needs_person
from app.importer.reader import read_spreadsheet

EXPORTS = Path(__file__).resolve().parents[1] / "files" / "exports"
EXPECTED = json.loads((EXPORTS / "expected.json").read_text())


def mapped(name: str):
    sheet = read_spreadsheet((EXPORTS / f"{name}.csv").read_bytes(), f"{name}.csv")
    header_map = map_headers(sheet.headers, upload_names_group=True)
    return sheet, header_map


def test_the_export_layouts_are_mapped_right_for_at_least_95_percent_of_their_columns():
    right = total = 0
    wrong = []
    for name, expected in EXPECTED.items():
        _, header_map = mapped(name)
        for choice in header_map.choices:
            total += 1
            field = choice.field if choice.how != SUGGESTED else None  # a guess counts only once confirmed
            if field == expected[choice.header]:
                right += 1
            else:
                wrong.append((name, choice.header, choice.field, choice.how, expected[choice.header]))
    print(f"\nexport layouts: {right} of {total} columns mapped right ({right / total:.1%}); wrong: {wrong}")
    assert total >= 12 * 8 and right / total >= 0.95, wrong


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_identity_field_is_ever_taken_from_a_guess_without_a_person(name):
    sheet, header_map = mapped(name)
    guessed = [c for c in header_map.choices if c.how == SUGGESTED and c.field in IDENTITY]
    if guessed:
        assert needs_person(header_map.choices, upload_names_group=True)
    assert all(c.field not in header_map.fields or c.how != SUGGESTED for c in header_map.choices)
    assert len(sheet.headers) == 8 and len(list(sheet.rows)) == 3  # pipe, semicolon and tab read as columns
