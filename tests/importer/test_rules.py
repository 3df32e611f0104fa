"""Row rules: each column's good values, each kind of bad value, and the words the user reads."""
import random
import string
from dataclasses import replace
from datetime import date, datetime

import pytest
from email_validator import EmailNotValidError, validate_email

from app.importer.contacts import is_simple_email, parse_phone
from app.importer.issues import ERROR, WARNING, Issue
from app.importer.rules import Reference, check_cells, layout
from tests.importer.conftest import check_row

ROW = 7
REF = Reference(
    today=date(2025, 6, 15),
    groups={"diabetes prevention": 1, "heart health": 2, "weight loss": 3},
    group_names={1: "Diabetes Prevention", 2: "Heart Health", 3: "Weight Loss"},
    archived_groups=frozenset({"old program"}),
    id_systems={"mrn": 10, "epic": 11},
    id_system_names={10: "MRN", 11: "Epic"},
    default_id_system=10,
    coaches={"coach@demo.example": (100, frozenset({1})), "other.coach@demo.example": (101, frozenset({2}))},
)
BASE = {
    "first_name": ("First Name", "Ann"),
    "last_name": ("Last Name", "Lee"),
    "date_of_birth": ("Date of Birth", "1980-01-05"),
    "email": ("Email", "ann@example.com"),
    "group": ("Group", "Diabetes Prevention"),
}


def check(key, header, raw, ref=REF, **other_cells):
    """check_row on a valid row with one cell replaced (and any other cells given by key)."""
    cells = dict(BASE)
    cells[key] = (header, raw)
    for other_key, cell in other_cells.items():
        cells[other_key] = cell
    return check_row(ROW, cells, ref)


def test_a_valid_row_gives_values_and_no_issues():
    values, issues = check_row(ROW, BASE, REF)
    assert issues == []
    assert values == {
        "first_name": "Ann", "last_name": "Lee", "date_of_birth": date(1980, 1, 5),
        "email": "ann@example.com", "email_key": "ann@example.com", "group_ids": [1],
    }


def test_a_short_row_has_its_last_cells_blank_and_a_missing_column_runs_its_absent_check():
    # The file has First and Last Name columns, and no Email column: a row that ends after its first
    # cell has a blank last name, and every row gets the blank email warning under the column's label.
    rules = layout({"first_name": ("Given", 0), "last_name": ("Family", 1)})
    values, issues = check_cells(ROW, ["Ann"], rules, REF)
    assert values["first_name"] == "Ann" and "last_name" not in values
    assert {(i.kind, i.column) for i in issues} >= {("last_name:blank", "Family"), ("email:blank", "Email")}


def test_blank_cells_are_absent_from_values():
    cells = dict(BASE)
    for key in ("mobile_phone", "home_phone", "work_phone", "gender", "patient_id", "id_system",
                "primary_coach", "street_address", "street_address_2", "city", "state", "postal_code",
                "country", "note"):
        cells[key] = (key, "")
    values, issues = check_row(ROW, cells, REF)
    assert issues == []
    assert set(values) == {"first_name", "last_name", "date_of_birth", "email", "email_key", "group_ids"}


# --- good values: (key, header as written, cell, expected value of that key) ---

GOOD = [
    ("first_name", "First Name", "Ann", "Ann"),
    ("first_name", "FIRST", "Mary  Ann", "Mary Ann"),
    ("last_name", "Surname", "de la  Cruz", "de la Cruz"),
    ("last_name", "Last Name", "O'Neil", "O'Neil"),
    ("date_of_birth", "DOB", "1980-01-05", date(1980, 1, 5)),
    ("date_of_birth", "DOB", "1980-1-5", date(1980, 1, 5)),
    ("date_of_birth", "DOB", "1980-01-05 00:00:00", date(1980, 1, 5)),
    ("date_of_birth", "DOB", "01/05/1980", date(1980, 1, 5)),
    ("date_of_birth", "DOB", "1/5/1980", date(1980, 1, 5)),
    ("date_of_birth", "DOB", "12/31/1999", date(1999, 12, 31)),
    ("date_of_birth", "DOB", "02/29/1980", date(1980, 2, 29)),
    ("date_of_birth", "DOB", date(1980, 1, 5), date(1980, 1, 5)),
    ("date_of_birth", "DOB", datetime(1980, 1, 5, 0, 0), date(1980, 1, 5)),
    ("date_of_birth", "DOB", "2025-06-15", date(2025, 6, 15)),
    ("email", "E-mail", "Ann.Lee@Example.COM", "Ann.Lee@Example.COM"),
    ("email", "Email", "ann+diabetes@mail.example.org", "ann+diabetes@mail.example.org"),
    ("email", "Email", "ann@bücher.de", "ann@bücher.de"),
    ("mobile_phone", "Cell", "617-555-0101", "+16175550101"),
    ("mobile_phone", "Cell", "(617) 555-0101", "+16175550101"),
    ("mobile_phone", "Cell", "6175550101", "+16175550101"),
    ("mobile_phone", "Cell", "1-617-555-0101", "+16175550101"),
    ("mobile_phone", "Cell", "+1 617.555.0101", "+16175550101"),
    ("home_phone", "Home", "+44 20 7946 0958", "+442079460958"),
    ("work_phone", "Work", "416-555-0199", "+14165550199"),
    ("gender", "Sex", "M", "male"),
    ("gender", "Sex", "f", "female"),
    ("gender", "Sex", "FEMALE", "female"),
    ("gender", "Sex", "Other", "other"),
    ("gender", "Sex", "u", "unknown"),
    ("gender", "Sex", "Unknown", "unknown"),
    ("patient_id", "MRN", "000123", "000123"),
    ("patient_id", "MRN", "A-12 7", "A-12 7"),
    ("group", "Program", "diabetes prevention", [1]),
    ("group", "Program", "Diabetes Prevention; HEART HEALTH", [1, 2]),
    ("group", "Program", "Heart Health;Heart Health;", [2]),
    ("street_address", "Address", "12 Main Street", "12 Main Street"),
    ("street_address_2", "Address2", "Apt 3", "Apt 3"),
    ("city", "City", "Boston", "Boston"),
    ("state", "State", "MA", "MA"),
    ("state", "State", "ma", "MA"),
    ("state", "State", "Massachusetts", "MA"),
    ("state", "State", "new  york", "NY"),
    ("state", "State", "D.C.", "DC"),
    ("state", "State", "PR", "PR"),
    ("state", "State", "FM", "FM"),  # USPS codes of the freely associated states and the military
    ("state", "State", "Marshall Islands", "MH"),
    ("state", "State", "pw", "PW"),
    ("state", "State", "AE", "AE"),
    ("state", "State", "U.S. Virgin Islands", "VI"),
    ("postal_code", "ZIP", "02134", "02134"),
    ("postal_code", "ZIP", "02134-1234", "02134-1234"),
    ("postal_code", "ZIP", "021341234", "02134-1234"),
    ("country", "Country", "US", "US"),
    ("country", "Country", "us", "US"),
    ("country", "Country", "United States", "US"),
    ("country", "Country", "U.S.A.", "US"),
    ("country", "Country", "Canada", "CA"),
    ("country", "Country", "Germany", "DE"),  # ISO 3166 names and 3-letter codes, through pycountry
    ("country", "Country", "DEU", "DE"),
    ("country", "Country", "Czechia", "CZ"),
    ("country", "Country", "Korea, Republic of", "KR"),
    ("country", "Country", "UK", "GB"),  # and names ISO does not carry
    ("country", "Country", "Russia", "RU"),
    ("note", "Notes", "Prefers = morning calls", "Prefers = morning calls"),
]


@pytest.mark.parametrize("key, header, raw, expected", GOOD)
def test_good_value_is_normalized_without_issues(key, header, raw, expected):
    values, issues = check(key, header, raw)
    assert issues == []
    assert values["group_ids" if key == "group" else key] == expected


# --- bad values: (key, header as written, cell, severity, message) ---

BAD = [
    ("first_name", "First Name", "", ERROR, "First Name is blank. Every participant needs a first name."),
    ("last_name", "LAST", "", ERROR, "Last Name is blank. Every participant needs a last name."),
    ("date_of_birth", "DOB", "", ERROR, "Date of Birth is blank. Add it as YYYY-MM-DD, e.g. 1980-01-05."),
    ("date_of_birth", "DOB", "02/30/1980", ERROR,
     'Date of Birth "02/30/1980" is not a real date: February 1980 has no day 30. Check the day.'),
    ("date_of_birth", "DOB", "1981-02-29", ERROR,
     'Date of Birth "1981-02-29" is not a real date: February 1981 has no day 29. Check the day.'),
    ("date_of_birth", "DOB", "1980-13-01", ERROR,
     'Date of Birth "1980-13-01" is not a real date: there is no month 13. Check the month.'),
    ("date_of_birth", "DOB", "13/05/1980", ERROR,
     'Date of Birth "13/05/1980" is not a real date: Roster reads it as month/day/year. '
     "If you meant May 13, 1980, write 1980-05-13."),
    ("date_of_birth", "DOB", "1/5/80", ERROR,
     'Date of Birth "1/5/80" has a two-digit year. Write all four digits, e.g. 1/5/1980.'),
    ("date_of_birth", "DOB", "01-05-19", ERROR,
     'Date of Birth "01-05-19" has a two-digit year. Write all four digits, e.g. 01-05-2019.'),
    ("date_of_birth", "DOB", "Jan 5 19800", ERROR,
     'Date of Birth "Jan 5 19800" is not a date Roster can read. Use YYYY-MM-DD or MM/DD/YYYY, e.g. 1980-01-05.'),
    ("date_of_birth", "DOB", "29221", ERROR,
     'Date of Birth "29221" is not a date Roster can read. Use YYYY-MM-DD or MM/DD/YYYY, e.g. 1980-01-05.'),
    ("date_of_birth", "DOB", "2025-06-16", ERROR, 'Date of Birth "2025-06-16" is in the future. Check the year.'),
    ("date_of_birth", "DOB", date(2030, 1, 1), ERROR, 'Date of Birth "2030-01-01" is in the future. Check the year.'),
    ("email", "Email", "ann@", ERROR,
     'Email "ann@" is not a valid email address. There must be something after the @-sign. '
     "Correct it or leave the cell blank."),
    ("email", "Email", "ann.example.com", ERROR,
     'Email "ann.example.com" is not a valid email address. An email address must have an @-sign. '
     "Correct it or leave the cell blank."),
    ("email", "Email", "ann..lee@example.com", ERROR,
     'Email "ann..lee@example.com" is not a valid email address. An email address cannot have two periods in a row. '
     "Correct it or leave the cell blank."),
    ("email", "Email", "ann@localhost", ERROR,
     'Email "ann@localhost" is not a valid email address. The part after the @-sign is not valid. '
     "It should have a period. Correct it or leave the cell blank."),
    ("email", "Email", "ann@example.com; bob@example.com", ERROR,
     'Email "ann@example.com; bob@example.com" holds more than one address. Keep one address per participant.'),
    ("email", "Email Address", "", WARNING,
     "Email is blank. This participant cannot be invited until an email is added."),
    ("mobile_phone", "Cell", "555-0101", ERROR,
     'Mobile Phone "555-0101" is not a valid phone number. Write the full number with its area code, e.g. 201-555-0123.'),
    ("home_phone", "Home", "617-555-010", ERROR,
     'Home Phone "617-555-010" is not a valid phone number. Write the full number with its area code, e.g. 201-555-0123.'),
    ("work_phone", "Work Phone", "123-456-7890", ERROR,
     'Work Phone "123-456-7890" is not a valid phone number. Write the full number with its area code, e.g. 201-555-0123.'),
    ("work_phone", "Work Phone", "call me", ERROR,
     'Work Phone "call me" is not a valid phone number. Write the full number with its area code, e.g. 201-555-0123.'),
    ("gender", "Sex", "X", ERROR,
     'Gender "X" is not one Roster accepts. Use Male, Female, Other or Unknown (or M, F, O, U).'),
    ("gender", "GENDER", "woman", ERROR,
     'Gender "woman" is not one Roster accepts. Use Male, Female, Other or Unknown (or M, F, O, U).'),
    ("group", "Program", "Diabets Prevention", ERROR,
     'Group "Diabets Prevention" does not exist. Did you mean "Diabetes Prevention"?'),
    ("group", "Program", "Cardiology", ERROR,
     'Group "Cardiology" does not exist. Use one of "Diabetes Prevention", "Heart Health", "Weight Loss".'),
    ("group", "Program", "Old Program", ERROR, 'Group "Old Program" is archived. Use an active group.'),
    ("group", "Program", "Heart Health, Weight Loss", ERROR,
     'Group "Heart Health, Weight Loss" does not exist. Separate several groups with ";", '
     'e.g. "Heart Health; Weight Loss".'),
    ("group", "Program", "Heart Health; Hart Health", ERROR,
     'Group "Hart Health" does not exist. Did you mean "Heart Health"?'),
    ("group", "Program", "", ERROR,
     'Group is blank. Write the participant\'s group, or choose a group in "Import into group" when uploading.'),
    ("group", "Program", ";", ERROR,
     'Group is blank. Write the participant\'s group, or choose a group in "Import into group" when uploading.'),
    ("primary_coach", "Coach", "nobody@demo.example", WARNING,
     'Primary Coach "nobody@demo.example" is not an active coach in your organization. '
     "The participant is imported without a coach."),
    ("primary_coach", "Coach", "other.coach@demo.example", WARNING,
     'Primary Coach "other.coach@demo.example" is not a team member of the participant\'s group. '
     "The participant is imported without a coach; add the coach to the group's team first."),
    ("state", "State", "Massachusets", WARNING,
     'State "Massachusets" is not a US state. Use the 2-letter code, e.g. "MA" for Massachusetts. '
     "The state was not imported."),
    ("state", "State", "XX", WARNING,
     'State "XX" is not a US state. Use the 2-letter code, e.g. "MA". The state was not imported.'),
    ("postal_code", "ZIP", "ABC 123", WARNING,
     'Postal Code "ABC 123" is not a US ZIP code. Use 5 digits or ZIP+4, e.g. 02134 or 02134-1234. '
     "The postal code was not imported."),
    ("postal_code", "ZIP", "123456", WARNING,
     'Postal Code "123456" is not a US ZIP code. Use 5 digits or ZIP+4, e.g. 02134 or 02134-1234. '
     "The postal code was not imported."),
    ("country", "Country", "Narnia", WARNING,
     'Country "Narnia" is not a country Roster knows. Use the 2-letter ISO code, e.g. US. '
     "The country was not imported."),
]


@pytest.mark.parametrize("key, header, raw, severity, message", BAD)
def test_bad_value_gives_one_issue_that_says_what_to_fix(key, header, raw, severity, message):
    values, issues = check(key, header, raw)
    written = raw.isoformat() if isinstance(raw, date) else raw
    assert issues == [Issue(severity, message, row=ROW, column=header, value=written)]
    if key == "group":
        assert "group_ids" not in values
    else:
        assert key not in values


def test_age_over_120_is_a_warning_and_the_date_is_kept():
    values, issues = check("date_of_birth", "DOB", "1900-01-01")
    assert issues == [Issue(WARNING, 'Date of Birth "1900-01-01" makes the participant 125 years old. Check the year.',
                            row=ROW, column="DOB", value="1900-01-01")]
    assert values["date_of_birth"] == date(1900, 1, 1)


@pytest.mark.parametrize("raw, expected", [
    ("05/01/1980", date(1980, 1, 5)),
    ("5.1.1980", date(1980, 1, 5)),
    ("31/12/1999", date(1999, 12, 31)),
    ("1980-01-05", date(1980, 1, 5)),
])
def test_day_first_organization_reads_slashes_as_day_month_year(raw, expected):
    values, issues = check("date_of_birth", "DOB", raw, ref=replace(REF, date_order="DMY"))
    assert issues == []
    assert values["date_of_birth"] == expected


def test_day_first_organization_gets_the_swapped_date_hint():
    values, issues = check("date_of_birth", "DOB", "05/13/1980", ref=replace(REF, date_order="DMY"))
    assert [issue.message for issue in issues] == [
        'Date of Birth "05/13/1980" is not a real date: Roster reads it as day/month/year. '
        "If you meant May 13, 1980, write 1980-05-13.",
    ]


def test_unreadable_date_names_the_day_first_format_in_a_day_first_organization():
    values, issues = check("date_of_birth", "DOB", "5th of January", ref=replace(REF, date_order="DMY"))
    assert issues[0].message.endswith("Use YYYY-MM-DD or DD/MM/YYYY, e.g. 1980-01-05.")


def test_email_key_is_lowercased_and_email_kept_as_written():
    values, issues = check("email", "Email", "Ann.Lee@Example.COM")
    assert (values["email"], values["email_key"]) == ("Ann.Lee@Example.COM", "ann.lee@example.com")


def test_file_without_email_column_warns_on_the_email_label():
    cells = {key: cell for key, cell in BASE.items() if key != "email"}
    values, issues = check_row(ROW, cells, REF)
    assert issues == [Issue(WARNING, "Email is blank. This participant cannot be invited until an email is added.",
                            row=ROW, column="Email", value="")]


def test_phone_is_checked_for_the_organization_country():
    values, issues = check("mobile_phone", "Mobile", "020 7946 0958", ref=replace(REF, country="GB"))
    assert issues == []
    assert values["mobile_phone"] == "+442079460958"
    values, issues = check("mobile_phone", "Mobile", "020 7946", ref=replace(REF, country="GB"))
    assert issues[0].message == ('Mobile Phone "020 7946" is not a valid phone number. '
                                 "Write the full number with its area code, e.g. 0121 234 5678.")


@pytest.mark.parametrize("text", [
    "617-555-0101", "(617) 555-0101", "1 617 555 0101", "+16175550101", "617.555.0101", "2015550123",
    "1175550101", "9995550101", "8005550101", "4165550199", "787-555-0101", "16175550101",
])
def test_fast_phone_path_agrees_with_phonenumbers(text):
    import phonenumbers

    try:
        number = phonenumbers.parse(text, "US")
        expected = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(number) else None)
    except phonenumbers.NumberParseException:
        expected = None
    assert parse_phone(text, "US") == (None if expected is None else (expected, ""))


def test_phone_extension_is_not_kept_and_says_so():
    values, issues = check("work_phone", "Work", "617-555-0101 ext. 12")
    assert values["work_phone"] == "+16175550101"
    assert issues == [Issue(
        WARNING, 'Work Phone "617-555-0101 ext. 12": Roster keeps the number +16175550101 but not the extension '
        '"12". Put the extension in the Note if it matters.', row=ROW, column="Work", value="617-555-0101 ext. 12",
    )]


@pytest.mark.parametrize("raw, expected", [
    ("", 10),        # blank means the default system
    ("MRN", 10),
    ("epic", 11),
])
def test_id_system_with_patient_id(raw, expected):
    values, issues = check("id_system", "ID Type", raw, patient_id=("MRN", "000123"))
    assert issues == []
    assert values["id_system"] == expected


def test_file_without_id_system_column_uses_the_default_system():
    values, issues = check("patient_id", "Patient ID", "000123")
    assert (values["patient_id"], values["id_system"]) == ("000123", 10)


def test_unknown_id_system_is_an_error_listing_the_systems():
    values, issues = check("id_system", "ID Type", "Cerner", patient_id=("MRN", "000123"))
    assert issues == [Issue(
        ERROR, 'ID System "Cerner" is not one of your organization\'s identification systems. '
        'Use "MRN", "Epic", or leave it blank for MRN.', row=ROW, column="ID Type", value="Cerner",
    )]
    assert "id_system" not in values


def test_id_system_without_patient_id_is_ignored_with_a_warning():
    values, issues = check("id_system", "ID Type", "Epic", patient_id=("MRN", ""))
    assert issues == [Issue(WARNING, 'ID System "Epic" is ignored because Patient ID is blank.',
                            row=ROW, column="ID Type", value="Epic")]
    assert "id_system" not in values and "patient_id" not in values


@pytest.mark.parametrize("cells, expected", [
    ({"group": ("Group", "")}, [5]),
    ({"group": ("Group", "Heart Health")}, [2]),
    ({}, [5]),
])
def test_upload_group_is_used_when_the_group_cell_is_blank_or_absent(cells, expected):
    row = {key: cell for key, cell in BASE.items() if key != "group"} | cells
    values, issues = check_row(ROW, row, replace(REF, upload_group=5))
    assert issues == []
    assert values["group_ids"] == expected


def test_absent_group_column_without_upload_group_is_left_to_the_file_level_error():
    row = {key: cell for key, cell in BASE.items() if key != "group"}
    values, issues = check_row(ROW, row, REF)
    assert issues == [] and "group_ids" not in values


def test_absent_required_columns_give_no_row_errors():
    values, issues = check_row(ROW, {"email": ("Email", "ann@example.com")}, replace(REF, upload_group=5))
    assert issues == []


def test_group_suggestion_is_worked_out_once_per_name():
    ref = replace(REF, _group_hints={})
    check("group", "Group", "Diabets Prevention", ref=ref)
    assert ref._group_hints == {"Diabets Prevention": ' Did you mean "Diabetes Prevention"?'}


@pytest.mark.parametrize("coach, groups, expected", [
    ("coach@demo.example", "Diabetes Prevention", 100),
    ("COACH@demo.example", "Heart Health; Diabetes Prevention", 100),
    ("other.coach@demo.example", "Heart Health", 101),
])
def test_primary_coach_on_the_team_of_a_row_group(coach, groups, expected):
    values, issues = check("primary_coach", "Coach", coach, group=("Group", groups))
    assert issues == []
    assert values["primary_coach"] == expected


def test_coach_of_a_row_with_a_bad_group_gets_no_second_issue():
    values, issues = check("primary_coach", "Coach", "coach@demo.example", group=("Group", "Nope"))
    assert [issue.column for issue in issues] == ["Group"]


@pytest.mark.parametrize("raw, expected", [("2134", "02134"), ("501", "00501"), ("2134-1234", "02134-1234")])
def test_us_postal_code_that_lost_leading_zeros_is_restored_with_a_warning(raw, expected):
    values, issues = check("postal_code", "ZIP", raw)
    assert values["postal_code"] == expected
    assert issues == [Issue(
        WARNING, f'Postal Code "{raw}" has lost its leading zeros: US ZIP codes have 5 digits. '
        f'It was imported as "{expected}". Format the Postal Code column as Text to keep them.',
        row=ROW, column="ZIP", value=raw,
    )]


@pytest.mark.parametrize("country, state, postal_code", [
    ("CA", "Ontario", "M5V 2T6"),
    ("GB", "Lancashire", "LA4"),
    ("United Kingdom", "UnitedKingdom", "RM17"),
])
def test_state_and_postal_code_outside_the_us_are_kept_as_written(country, state, postal_code):
    values, issues = check("country", "Country", country, state=("State", state), postal_code=("ZIP", postal_code))
    assert issues == []
    assert (values["state"], values["postal_code"]) == (state, postal_code)


def test_organization_outside_the_us_keeps_state_and_postal_code_as_written():
    values, issues = check("state", "Province", "Ontario", ref=replace(REF, country="CA"),
                           postal_code=("Postal", "M5V 2T6"), mobile_phone=("Phone", "416-555-0199"))
    assert issues == []
    assert (values["state"], values["postal_code"], values["mobile_phone"]) == ("Ontario", "M5V 2T6", "+14165550199")


def test_blank_country_stays_absent_so_it_never_clears_a_stored_country():
    values, issues = check("country", "Country", "")
    assert issues == [] and "country" not in values


def test_cells_are_trimmed_even_if_the_reader_did_not():
    values, issues = check("gender", "Sex", "  F ")
    assert issues == [] and values["gender"] == "female"


def test_date_cell_in_another_column_is_read_as_its_iso_text():
    values, issues = check("note", "Note", date(2024, 3, 1))
    assert values["note"] == "2024-03-01"


# Plain addresses skip email_validator for speed; it must never accept one the validator refuses.
def _validator_says(text: str) -> str | None:
    """The validator's message for text it refuses, None if it accepts it."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def _validator_accepts(text):
    return _validator_says(text) is None


@pytest.mark.parametrize("text", [
    "a@b.co", "ann.lee@example.com", "x@localhost", "x@a.test", "x@mail.local", "x@example.invalid",
    "x@ab--cd.com", "x@xn--bcher-kva.de", "x@-a.com", "x@a-.com", "x@a.c0m", "x@a.123", ".a@b.com", "a.@b.com",
    "a@b..com", "a" * 65 + "@b.com", "a@" + "b" * 64 + ".com", "a@" + ("b" * 60 + ".") * 4 + "com",
    "Abc!#$%&'*+/=?^_`{|}~-@ex.org", "a@b.c", "a@b.co-", "a@b.-co",
    "josé.garcía@example.org", "jose\u0301@example.org", "\u0301a@example.org", "a\u200b@example.org",
    "名前@example.jp", "٣٤@example.org", "ǅx@example.org", "Ⅻ@example.org", "ü" * 130 + "@b.com", "a@münchen.de",
    "ann\u00a0lee@example.org", "a\u2028b@example.org", "\ufb01@example.org",
])
def test_simple_email_fast_path_never_accepts_what_the_validator_refuses(text):
    if is_simple_email(text):
        assert _validator_accepts(text)


@pytest.mark.parametrize("text", ["none", "declined", "n/a", "ann.example.com", "ann lee", "-", "ann(at)example.com",
                                  "Ann Lee <ann.example.com>", "Ann <", "ann＠example.com", "ann﹫example.com", "josé",
                                  "a@b.com", "a@", "@b.com", "a b@c.com", "ann@@x.com", "x@a.test", "a@b.com, c@d.com"])
def test_email_problem_is_the_validators_own_answer(text):
    from app.importer.contacts import email_problem

    assert email_problem(text) == _validator_says(text)


def test_email_problem_is_the_validators_own_answer_on_random_text():
    from app.importer.contacts import email_problem

    rng = random.Random(20261206)
    alphabet = string.printable + '"<>＠﹫é\u00a0\u200b名' + "@" * 3
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 4, 12, 40])))
        assert email_problem(text) == _validator_says(text), ascii(text)


def test_special_use_domains_are_the_validators_own():
    import email_validator

    from app.importer.contacts import SPECIAL_USE_DOMAIN_NAMES

    assert sorted(SPECIAL_USE_DOMAIN_NAMES) == sorted(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def test_simple_email_fast_path_takes_accented_addresses():
    assert is_simple_email("josé.núñez@example.org") and is_simple_email("Zoë.O'Neil@example.org")


def test_simple_email_fast_path_never_accepts_what_the_validator_refuses_in_any_script():
    rng = random.Random(20261126)
    for _ in range(20_000):
        local = "".join(chr(rng.choice([rng.randrange(0x80, 0x3000), rng.randrange(0x10000, 0x2FFFF), ord("a")]))
                        for _ in range(rng.randint(1, 4)))
        text = f"{local}@example.org"
        if is_simple_email(text):
            assert _validator_accepts(text), ascii(text)


def test_simple_email_fast_path_agrees_with_the_validator_on_random_addresses():
    rng = random.Random(20250615)
    alphabet = string.ascii_letters + string.digits + ".-_+@!'" + "--.."
    for _ in range(5000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        domain = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        tld = rng.choice(["com", "org", "test", "local", "c", "c0", "co-", "xn--p1ai", "io"])
        text = f"{local}@{domain}.{tld}"
        if is_simple_email(text):
            assert _validator_accepts(text), text


@pytest.mark.parametrize("region", ["US", "CA"])
def test_fast_phone_path_agrees_with_phonenumbers_on_random_numbers(region):
    import phonenumbers

    rng = random.Random(region)
    shapes = ["{a}-{b}-{c}", "({a}) {b}-{c}", "{a}{b}{c}", "1 {a} {b} {c}", "+1.{a}.{b}.{c}"]
    for _ in range(3000):
        a, b, c = rng.randint(100, 999), rng.randint(0, 999), rng.randint(0, 9999)
        text = rng.choice(shapes).format(a=a, b=f"{b:03d}", c=f"{c:04d}")
        number = phonenumbers.parse(text, region)
        expected = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(number) else None)
        assert parse_phone(text, region) == (None if expected is None else (expected, "")), text


def test_an_issue_as_a_dict_holds_every_field():
    from dataclasses import asdict

    from app.importer.issues import Issue
    issue = Issue("warning", "Postal Code lost its zeros.", row=4, column="ZIP", value="2134")
    assert issue.to_dict() == asdict(issue)


def test_the_rules_run_in_an_order_that_gives_each_check_the_values_it_reads():
    from app.importer.rules import RULES, check_order

    check_order(RULES)  # as loaded
    coach_first = tuple(sorted(RULES, key=lambda rule: rule.key != "primary_coach"))
    with pytest.raises(RuntimeError, match="primary_coach check reads group"):
        check_order(coach_first)
    with pytest.raises(RuntimeError, match="Columns without a check: note"):
        check_order(tuple(rule for rule in RULES if rule.key != "note"))


@pytest.mark.parametrize("text", ["January 5, 1980", "Jan 5 1980", "5 January 1980", "05-Jan-1980", "jan. 5, 1980"])
def test_dates_with_month_names_are_read(text):
    values, issues = check("date_of_birth", "DOB", text)
    assert issues == [] and values["date_of_birth"] == date(1980, 1, 5)


def test_the_day_and_month_order_of_a_column_is_told_by_a_day_over_12_one_way_only():
    from app.importer.rules import detect_date_order

    assert detect_date_order(["13/01/1980", "25/03/1970", "02/03/1970"]) == "DMY"
    assert detect_date_order(["01/13/1980", "03/25/1970", "2024-01-02"]) == "MDY"
    assert detect_date_order(["01/02/1980"]) is None and detect_date_order(["13/01/1980", "01/13/1980"]) is None
    assert detect_date_order(["13/01/1980"] + ["01/02/1980"] * 10) is None  # one typo does not turn a column
    assert detect_date_order(["13/01/1980", "14/01/1980"] + ["01/02/1980"] * 200) is None  # under 2 %
