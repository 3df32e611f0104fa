"""Header row matching: labels, synonyms, spelling variants, unknown, doubled and missing columns."""
import pytest

from app.importer.columns import COLUMNS, normalize_header
from app.importer.issues import ERROR, WARNING, Issue
from app.importer.mapping import map_headers

ALL_LABELS = [column.label for column in COLUMNS]


def test_labels_are_the_spec_columns_in_order():
    assert ALL_LABELS == [
        "First Name", "Last Name", "Date of Birth", "Email", "Mobile Phone", "Home Phone", "Work Phone",
        "Gender", "Patient ID", "ID System", "Group", "Primary Coach", "Street Address", "Street Address 2",
        "City", "State", "Postal Code", "Country", "Note",
    ]


def test_required_columns_are_names_birth_date_and_group():
    assert [c.key for c in COLUMNS if c.required] == ["first_name", "last_name", "date_of_birth", "group"]


def test_as_text_columns_are_the_identifiers():
    assert [c.key for c in COLUMNS if c.as_text] == [
        "mobile_phone", "home_phone", "work_phone", "patient_id", "postal_code",
    ]


@pytest.mark.parametrize("written, normal", [
    ("First Name", "firstname"),
    ("  DATE_of-Birth. ", "dateofbirth"),
    ("e-mail", "email"),
    ("Zip\u00a0Code", "zipcode"),
    ("Street.Address 2", "streetaddress2"),
])
def test_normalize_header_drops_case_spaces_underscores_hyphens_dots(written, normal):
    assert normalize_header(written) == normal


@pytest.mark.parametrize("header, key", [
    # labels, in spellings people use
    ("First Name", "first_name"), ("first_name", "first_name"), ("FIRST-NAME", "first_name"),
    ("first.name", "first_name"), ("Firstname", "first_name"),
    ("Date of Birth", "date_of_birth"), ("date_of_birth", "date_of_birth"),
    ("Street Address 2", "street_address_2"), ("Postal Code", "postal_code"), ("ID System", "id_system"),
    # SPEC section 6 synonyms
    ("first", "first_name"), ("given name", "first_name"), ("FIRST", "first_name"),
    ("last", "last_name"), ("lastname", "last_name"), ("Surname", "last_name"), ("Family Name", "last_name"),
    ("LAST", "last_name"),
    ("dob", "date_of_birth"), ("DOB", "date_of_birth"), ("birthdate", "date_of_birth"),
    ("Birth Date", "date_of_birth"), ("BIRTHDATE", "date_of_birth"),
    ("E-mail", "email"), ("Email Address", "email"), ("email_address", "email"),
    ("Mobile", "mobile_phone"), ("Cell", "mobile_phone"), ("Phone", "mobile_phone"),
    ("Phone Number", "mobile_phone"), ("Home", "home_phone"), ("Home Phone", "home_phone"),
    ("Work", "work_phone"), ("work_phone", "work_phone"),
    ("Sex", "gender"), ("Sex at Birth", "gender"), ("GENDER", "gender"),
    ("MRN", "patient_id"), ("Medical Record Number", "patient_id"), ("External ID", "patient_id"),
    ("Participant ID", "patient_id"), ("Chart Number", "patient_id"), ("Id", "patient_id"),
    ("ID Type", "id_system"), ("Identifier System", "id_system"),
    ("Groups", "group"), ("Program", "group"), ("Cohort", "group"), ("Site", "group"),
    ("Coach", "primary_coach"), ("Health Coach", "primary_coach"), ("Care Manager", "primary_coach"),
    ("Address", "street_address"), ("Address1", "street_address"), ("ADDRESS", "street_address"),
    ("Address2", "street_address_2"), ("address 2", "street_address_2"),
    ("ZIP", "postal_code"), ("Zip Code", "postal_code"), ("postcode", "postal_code"),
    ("Notes", "note"), ("Comments", "note"),
])
def test_header_maps_to_field(header, key):
    header_map = map_headers(["First Name", "Last Name", "Date of Birth", "Group", header], upload_names_group=False)
    if key in ("first_name", "last_name", "date_of_birth", "group"):
        # the header under test doubles a required column: it must be that column
        assert header_map.issues[0].message.endswith("Keep one of them and rename or remove the other.")
        assert header_map.issues[0].column == header
    else:
        assert header_map.fields[key] == 4
        assert header_map.issues == []


def test_synthea_export_header_maps():
    with open("/work/shared/corpus/synthea-patients.csv", encoding="utf-8") as file:
        headers = file.readline().strip().split(",")
    header_map = map_headers(headers, upload_names_group=True)
    assert {key: headers[index] for key, index in header_map.fields.items()} == {
        "patient_id": "Id", "date_of_birth": "BIRTHDATE", "first_name": "FIRST", "last_name": "LAST",
        "gender": "GENDER", "street_address": "ADDRESS", "city": "CITY", "state": "STATE", "postal_code": "ZIP",
    }
    assert header_map.issues == [Issue(
        WARNING,
        'Columns ignored: "DEATHDATE", "SSN", "DRIVERS", "PASSPORT", "PREFIX", "SUFFIX", "MAIDEN", "MARITAL", '
        '"RACE", "ETHNICITY", "BIRTHPLACE", "COUNTY", "LAT", "LON", "HEALTHCARE_EXPENSES", '
        '"HEALTHCARE_COVERAGE". Roster does not import these.',
    )]
    assert not header_map.has_errors


def test_unknown_columns_give_one_warning_naming_them_all_once():
    header_map = map_headers(
        ["First Name", "SSN", "Last Name", "Insurance", "Date of Birth", "Group", "SSN"], upload_names_group=False,
    )
    assert header_map.issues == [
        Issue(WARNING, 'Columns ignored: "SSN", "Insurance". Roster does not import these.'),
    ]
    assert not header_map.has_errors
    assert header_map.fields == {"first_name": 0, "last_name": 2, "date_of_birth": 4, "group": 5}


def test_empty_header_cells_are_ignored_silently():
    header_map = map_headers(["First Name", "", "Last Name", None, "Date of Birth", "Group", "  "],
                             upload_names_group=False)
    assert header_map.issues == []
    assert header_map.fields == {"first_name": 0, "last_name": 2, "date_of_birth": 4, "group": 5}


def test_headers_are_kept_as_written_but_trimmed():
    header_map = map_headers([" first_NAME ", "Last Name", "DOB", "Group"], upload_names_group=False)
    assert header_map.headers[0] == "first_NAME"
    assert header_map.header("first_name") == "first_NAME"
    assert header_map.header("email") is None


@pytest.mark.parametrize("first, second, label", [
    ("Mobile Phone", "Phone", "Mobile Phone"),
    ("DOB", "Date of Birth", "Date of Birth"),
    ("Zip", "postal_code", "Postal Code"),
])
def test_two_columns_for_one_field_is_an_error_naming_both(first, second, label):
    headers = ["First Name", "Last Name", "Group", first, second]
    if label != "Date of Birth":
        headers.append("Date of Birth")
    header_map = map_headers(headers, upload_names_group=False)
    assert header_map.issues == [Issue(
        ERROR,
        f'Columns "{first}" and "{second}" both mean {label}. Keep one of them and rename or remove the other.',
        column=second,
    )]
    assert header_map.has_errors
    assert header_map.fields[COLUMNS[ALL_LABELS.index(label)].key] == 3


@pytest.mark.parametrize("missing, message", [
    ("First Name", 'The file has no First Name column. Add a column named "First Name" ("first" or "firstname" also work).'),
    ("Last Name", 'The file has no Last Name column. Add a column named "Last Name" ("last" or "lastname" also work).'),
    ("Date of Birth", 'The file has no Date of Birth column. Add a column named "Date of Birth" ("dob" or "birthdate" also work).'),
    ("Group", 'The file has no Group column. Add a column named "Group" with each participant\'s group, '
              'or choose a group in "Import into group" when uploading.'),
])
def test_missing_required_column_is_one_file_level_error(missing, message):
    headers = [label for label in ["First Name", "Last Name", "Date of Birth", "Group", "Email"] if label != missing]
    header_map = map_headers(headers, upload_names_group=False)
    assert header_map.issues == [Issue(ERROR, message)]
    assert header_map.has_errors


def test_every_missing_required_column_is_named():
    header_map = map_headers(["Email"], upload_names_group=False)
    assert [issue.message.split(" column.")[0] for issue in header_map.issues] == [
        "The file has no First Name", "The file has no Last Name", "The file has no Date of Birth",
        "The file has no Group",
    ]
    assert all(issue.row is None and issue.severity == ERROR for issue in header_map.issues)


def test_group_column_is_not_required_when_the_upload_names_a_group():
    header_map = map_headers(["First Name", "Last Name", "Date of Birth"], upload_names_group=True)
    assert header_map.issues == []
    assert not header_map.has_errors


def test_located_pairs_each_field_with_its_header_and_column():
    header_map = map_headers(["FIRST", "LAST", "DOB", "Notes", "Group"], upload_names_group=False)
    assert header_map.located == {
        "first_name": ("FIRST", 0), "last_name": ("LAST", 1), "date_of_birth": ("DOB", 2),
        "note": ("Notes", 3), "group": ("Group", 4),
    }
