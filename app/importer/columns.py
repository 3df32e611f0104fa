"""The columns of a participant file: labels, header synonyms, help text; the one source for all of them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the sample file and the headers that mean it."""

    key: str
    label: str
    required: bool
    synonyms: tuple[str, ...]
    instructions: str
    examples: tuple[str, str]
    as_text: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "first_name", "First Name", True,
        ("first", "firstname", "first_name", "given name"),
        "The participant's first name, as it should appear in Roster. Required: a row without it is not imported.",
        ("Maria", "James"),
    ),
    Column(
        "last_name", "Last Name", True,
        ("last", "lastname", "surname", "family name"),
        "The participant's last name. Required: a row without it is not imported.",
        ("Garcia", "O'Neil"),
    ),
    Column(
        "date_of_birth", "Date of Birth", True,
        ("dob", "birthdate", "birth date", "date of birth"),
        "Write YYYY-MM-DD (1980-01-05) or MM/DD/YYYY (01/05/1980), always with a four-digit year; a date cell "
        "also works. Required. A date that is not real or is in the future stops the row; an age over 120 "
        "gives a warning.",
        ("1980-01-05", "1955-11-23"),
    ),
    Column(
        "email", "Email", False,
        ("e-mail", "email address"),
        "One email address. Optional, but a participant without one cannot be invited (a warning says so). "
        "A malformed address stops the row.",
        ("maria.garcia@example.com", "james.oneil@example.com"),
    ),
    Column(
        "mobile_phone", "Mobile Phone", False,
        ("mobile", "cell", "phone", "phone number"),
        "A phone number with its area code, e.g. 617-555-0101. Roster stores it in international form "
        "(+16175550101). A number that is not valid stops the row.",
        ("617-555-0101", "617-555-0102"),
        as_text=True,
    ),
    Column(
        "home_phone", "Home Phone", False,
        ("home",),
        "Same rules as Mobile Phone.",
        ("617-555-0103", ""),
        as_text=True,
    ),
    Column(
        "work_phone", "Work Phone", False,
        ("work",),
        "Same rules as Mobile Phone.",
        ("", "617-555-0104"),
        as_text=True,
    ),
    Column(
        "gender", "Gender", False,
        ("sex", "sex at birth"),
        "Male, Female, Other or Unknown (M, F, O and U also work). Anything else stops the row.",
        ("Female", "M"),
    ),
    Column(
        "patient_id", "Patient ID", False,
        ("mrn", "medical record number", "external id", "participant id", "chart number", "id"),
        "The participant's identifier in your records, e.g. the MRN. Advised: re-importing a file with the same "
        "Patient ID updates the participant instead of creating a new one. Kept as text, leading zeros included. "
        "Two participants cannot share one.",
        ("000123", "000124"),
        as_text=True,
    ),
    Column(
        "id_system", "ID System", False,
        ("id type", "identifier system"),
        "Which identification system the Patient ID belongs to. Leave blank for MRN. A system your organization "
        "does not have stops the row.",
        ("MRN", ""),
    ),
    Column(
        "group", "Group", True,
        ("groups", "program", "cohort", "site"),
        "The name of an existing group; several groups separated by \";\". Required, unless you choose a group "
        "in \"Import into group\" when uploading. A group that does not exist stops the row.",
        ("Diabetes Prevention", "Diabetes Prevention"),
    ),
    Column(
        "primary_coach", "Primary Coach", False,
        ("coach", "health coach", "care manager"),
        "The email of an active coach who is a team member of one of the participant's groups. Otherwise the "
        "participant is imported without a coach, with a warning.",
        ("", ""),
    ),
    Column(
        "street_address", "Street Address", False,
        ("address", "address1", "address line 1"),
        "Street and number.",
        ("12 Main Street", "400 Elm Avenue"),
    ),
    Column(
        "street_address_2", "Street Address 2", False,
        ("address2", "address line 2"),
        "Apartment, suite, floor.",
        ("Apt 3", ""),
    ),
    Column(
        "city", "City", False,
        ("town",),
        "City or town.",
        ("Boston", "Cambridge"),
    ),
    Column(
        "state", "State", False,
        ("province",),
        "In the US, the 2-letter code (MA); a full name like Massachusetts also works. Otherwise a warning, "
        "and the state is not imported.",
        ("MA", "MA"),
    ),
    Column(
        "postal_code", "Postal Code", False,
        ("zip", "zip code", "postcode", "postal"),
        "In the US, 5 digits or ZIP+4 (02134 or 02134-1234). Kept as text, leading zeros included. Otherwise a "
        "warning, and the postal code is not imported.",
        ("02134", "02139-4307"),
        as_text=True,
    ),
    Column(
        "country", "Country", False,
        ("country code",),
        "The 2-letter ISO code (US, CA, GB); names like United States also work. Blank means your "
        "organization's country. Otherwise a warning, and the country is not imported.",
        ("US", "US"),
    ),
    Column(
        "note", "Note", False,
        ("notes", "comments", "comment"),
        "Free text for your team. Not shown to the participant.",
        ("Prefers morning calls", ""),
    ),
)

COLUMNS_BY_KEY: dict[str, Column] = {column.key: column for column in COLUMNS}
# Participant fields a row can set, in the order changes are listed.
FIELDS = (
    "first_name", "last_name", "date_of_birth", "email", "mobile_phone", "home_phone", "work_phone", "gender",
    "street_address", "street_address_2", "city", "state", "postal_code", "country", "note",
)

_DROPPED_FROM_HEADERS = str.maketrans("", "", "_-.")


def normalize_header(text: str) -> str:
    """The form headers are compared in: lowercase, without spaces, underscores, hyphens or dots."""
    # split() also drops tabs and no-break spaces that come with headers pasted from elsewhere.
    return "".join(str(text).lower().split()).translate(_DROPPED_FROM_HEADERS)
