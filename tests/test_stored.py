"""Values as the database holds them, read back the same whichever driver gives them (app/stored.py)."""
from __future__ import annotations

from datetime import date, datetime

from app.stored import json_text, json_value, stored_date


def test_a_stored_date_reads_as_each_driver_gives_it_back():
    born = date(1980, 6, 3)
    assert stored_date(born) == born  # PostgreSQL
    assert stored_date("1980-06-03") == born  # SQLite, as Roster writes it
    assert stored_date("1980-06-03 00:00:00") == born  # SQLite, written outside Roster with a time
    assert stored_date("1980-06-03 10:11:12.500000") == born
    assert stored_date(datetime(1980, 6, 3, 10, 11)) == born
    assert stored_date(None) is None
    assert stored_date("the third of June") is None  # neither: no date, rather than text where a date goes


def test_json_text_keeps_characters_as_written_and_reads_back():
    value = {"First Name": "José", "row": 3, "born": None}
    assert json_text(value) == '{"First Name":"José","row":3,"born":null}'
    assert json_value(json_text(value)) == value and json_text(None) is None and json_value(None) is None
