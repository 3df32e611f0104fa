"""Checks one row's cells against the column rules and turns them into clean participant values."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from app.importer.columns import COLUMNS_BY_KEY
from app.importer.issues import ERROR, WARNING, Issue


@dataclass
class Reference:
    """What an organization has, loaded once per upload by the caller."""

    today: date
    country: str = "US"
    date_order: str = "MDY"
    groups: dict[str, int] = field(default_factory=dict)
    archived_groups: frozenset[str] = frozenset()
    id_systems: dict[str, int] = field(default_factory=dict)
    default_id_system: int | None = None
    coaches: dict[str, tuple[int, frozenset[int]]] = field(default_factory=dict)
    upload_group: int | None = None
    # Names as stored, for messages; without them messages show the lowercased keys.
    group_names: dict[int, str] = field(default_factory=dict)
    id_system_names: dict[int, str] = field(default_factory=dict)
    # A file often repeats one misspelt group on every row; the suggestion is worked out once.
    _group_hints: dict[str, str] = field(default_factory=dict, repr=False, compare=False)


def check_row(row: int, cells: dict[str, tuple[str, object]], ref: Reference) -> tuple[dict, list[Issue]]:
    """Check one row; return the valid non-blank values (normalized) and the issues found."""
    values: dict = {}
    issues: list[Issue] = []
    for key, check in _CHECKS:
        cell = cells.get(key)
        if cell is None:
            # A missing required column is one file-level error (map_headers), not one per row.
            if key in _CHECKED_WHEN_ABSENT:
                check(row, _LABELS[key], "", ref, values, issues)
            elif key == "group" and ref.upload_group is not None:
                values["group_ids"] = [ref.upload_group]
            continue
        header, raw = cell
        if raw.__class__ is str:
            text = raw.strip()
        elif isinstance(raw, date):
            if key == "date_of_birth":
                check_date_cell(row, header, raw, ref, values, issues)
                continue
            text = raw.isoformat()
        else:
            text = "" if raw is None else str(raw).strip()
        check(row, header, text, ref, values, issues)
    return values, issues


# Email's blank warning and ID System's default apply whether or not the file has the column.
_CHECKED_WHEN_ABSENT = frozenset({"email", "id_system"})


_LABELS = {key: column.label for key, column in COLUMNS_BY_KEY.items()}
_SPACES = re.compile(r"\s+")


def _issue(severity: str, message: str, row: int, header: str, text: str) -> Issue:
    return Issue(severity, message, row=row, column=header, value=text)


def _check_name(key: str):
    label = _LABELS[key]
    noun = label.lower()

    def check(row, header, text, ref, values, issues):
        if not text:
            issues.append(_issue(ERROR, f"{label} is blank. Every participant needs a {noun}.", row, header, text))
        else:
            values[key] = " ".join(text.split())

    return check


# --- Date of Birth ---------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_SLASH_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_SHORT_YEAR_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2})")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def check_date_of_birth(row, header, text, ref, values, issues):
    """Date of Birth written as text: YYYY-MM-DD or the organization's slash order, four-digit years."""
    if not text:
        issues.append(_issue(ERROR, "Date of Birth is blank. Add it as YYYY-MM-DD, e.g. 1980-01-05.",
                             row, header, text))
        return
    match = _ISO_DATE.fullmatch(text)
    written_with_slashes = match is None
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _SLASH_DATE.fullmatch(text)
        if match is None:
            issues.append(_issue(ERROR, _unreadable_date_message(text, ref), row, header, text))
            return
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        month, day = (first, second) if ref.date_order == "MDY" else (second, first)
    try:
        born = date(year, month, day)
    except ValueError:
        message = _unreal_date_message(text, year, month, day, ref, written_with_slashes)
        issues.append(_issue(ERROR, message, row, header, text))
        return
    _check_birth_date(row, header, text, born, ref, values, issues)


def check_date_cell(row, header, raw: date, ref, values, issues):
    """Date of Birth from a real date cell."""
    born = raw.date() if isinstance(raw, datetime) else raw
    _check_birth_date(row, header, born.isoformat(), born, ref, values, issues)


def _check_birth_date(row, header, text, born, ref, values, issues):
    today = ref.today
    if born > today:
        issues.append(_issue(ERROR, f'Date of Birth "{text}" is in the future. Check the year.', row, header, text))
        return
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > 120:
        issues.append(_issue(
            WARNING, f'Date of Birth "{text}" makes the participant {age} years old. Check the year.',
            row, header, text,
        ))
    values["date_of_birth"] = born


def _slash_format(ref) -> str:
    return "MM/DD/YYYY" if ref.date_order == "MDY" else "DD/MM/YYYY"


def _unreadable_date_message(text, ref) -> str:
    short = _SHORT_YEAR_DATE.fullmatch(text)
    if short:
        year = int(short[4])
        century = 1900 if year > ref.today.year % 100 else 2000
        example = f"{short[1]}{short[2]}{short[3]}{short[2]}{century + year}"
        return f'Date of Birth "{text}" has a two-digit year. Write all four digits, e.g. {example}.'
    return (f'Date of Birth "{text}" is not a date Roster can read. '
            f"Use YYYY-MM-DD or {_slash_format(ref)}, e.g. 1980-01-05.")


def _unreal_date_message(text, year, month, day, ref, swappable) -> str:
    if swappable and month > 12 and day <= 12:
        try:
            meant = date(year, day, month)
        except ValueError:
            meant = None
        if meant is not None:
            order = "month/day/year" if ref.date_order == "MDY" else "day/month/year"
            return (f'Date of Birth "{text}" is not a real date: Roster reads it as {order}. '
                    f"If you meant {_MONTHS[meant.month - 1]} {meant.day}, {meant.year}, write {meant.isoformat()}.")
    return f'Date of Birth "{text}" is not a real date. Use YYYY-MM-DD, e.g. 1980-02-28.'


# --- Email -----------------------------------------------------------------------------------------

# Addresses this simple are always accepted by email_validator, which costs ~20 µs a call (~40 µs with
# an accent); anything else still goes through email_validator, so the fast path never accepts more than
# it would. Before the @: ASCII atext, and letters and digits of any script (\w: Unicode categories L
# and N, which email_validator permits), written in NFC; after it, a plain ASCII domain.
_SIMPLE_EMAIL = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z])?"
)
_SPECIAL_USE_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)
_MANY_ADDRESSES = re.compile(r"[^\s;,]+@[^\s;,]+[\s;,]+[^\s;,]+@")


def is_simple_email(text: str) -> bool:
    """True for plain ASCII addresses that email_validator is known to accept."""
    if len(text) > 254 or not _SIMPLE_EMAIL.fullmatch(text):
        return False
    if not text.isascii() and (len(text.encode()) > 254 or not unicodedata.is_normalized("NFC", text)):
        return False
    domain = text[text.index("@"):].lower()
    # Labels like "ab--c" and "xn--" get IDNA rules; special-use names are refused: leave both to the validator.
    return "--" not in domain and not ("." + domain[1:]).endswith(_SPECIAL_USE_SUFFIXES)


def check_email(row, header, text, ref, values, issues):
    """One email address, kept as written; email_key is the form compared case-insensitively."""
    if not text:
        issues.append(_issue(
            WARNING, "Email: blank. This participant cannot be invited until an email is added.", row, header, text,
        ))
        return
    if not is_simple_email(text):
        if _MANY_ADDRESSES.search(text):
            issues.append(_issue(
                ERROR, f'Email "{text}" holds more than one address. Keep one address per participant.',
                row, header, text,
            ))
            return
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError as error:
            issues.append(_issue(
                ERROR, f'Email "{text}" is not a valid email address. {error} Correct it or leave the cell blank.',
                row, header, text,
            ))
            return
    values["email"] = text
    values["email_key"] = text.lower()


# --- Phones ----------------------------------------------------------------------------------------

# Numbers written the North American way are checked against the region's own patterns directly:
# phonenumbers.parse plus is_valid_number cost ~25 µs a number, and a row has three phone columns.
_NANP_NUMBER = re.compile(r"(?:\+?1[-. ]?)?\(?([2-9]\d{2})\)?[-. ]?(\d{3})[-. ]?(\d{4})")


@lru_cache(maxsize=None)
def _nanp_pattern(region: str) -> re.Pattern | None:
    """One pattern for a valid 10-digit national number of a +1 region: its general pattern and a
    fixed-line or mobile one; None outside +1 (or without such patterns), for phonenumbers to decide."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code != 1:
        return None
    general = metadata.general_desc
    if general.possible_length and 10 not in general.possible_length:
        return None
    kinds = [desc for desc in (metadata.fixed_line, metadata.mobile)
             if desc is not None and desc.national_number_pattern
             and (not desc.possible_length or 10 in desc.possible_length)]
    if not kinds:
        return None
    either = "|".join(f"(?:{desc.national_number_pattern})" for desc in kinds)
    return re.compile(f"(?=(?:{general.national_number_pattern})\\Z)(?:{either})")


@lru_cache(maxsize=None)
def _phone_example(region: str) -> str:
    example = phonenumbers.example_number(region) or phonenumbers.example_number("US")
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL).replace("(", "").replace(") ", "-")


def parse_phone(text: str, region: str) -> tuple[str, str] | None:
    """(E.164 number, extension or "") if text is a valid phone number dialled from region, else None."""
    pattern = _nanp_pattern(region)
    if pattern is not None:
        match = _NANP_NUMBER.fullmatch(text)
        if match:
            national = match[1] + match[2] + match[3]
            if pattern.fullmatch(national):
                return "+1" + national, ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number.extension or ""


def _check_phone(key: str):
    label = _LABELS[key]

    def check(row, header, text, ref, values, issues):
        if not text:
            return
        parsed = parse_phone(text, ref.country)
        if parsed is None:
            issues.append(_issue(
                ERROR,
                f'{label} "{text}" is not a valid phone number. '
                f"Write the full number with its area code, e.g. {_phone_example(ref.country)}.",
                row, header, text,
            ))
            return
        values[key], extension = parsed
        if extension:
            issues.append(_issue(
                WARNING, f'{label} "{text}": Roster keeps the number {parsed[0]} but not the extension '
                f'"{extension}". Put the extension in the Note if it matters.', row, header, text,
            ))

    return check


# --- Gender, identifiers ---------------------------------------------------------------------------

_GENDERS = {
    "m": "male", "male": "male", "f": "female", "female": "female",
    "o": "other", "other": "other", "u": "unknown", "unknown": "unknown",
}


def check_gender(row, header, text, ref, values, issues):
    if not text:
        return
    gender = _GENDERS.get(text.lower())
    if gender is None:
        issues.append(_issue(
            ERROR, f'Gender "{text}" is not one Roster accepts. Use Male, Female, Other or Unknown (or M, F, O, U).',
            row, header, text,
        ))
    else:
        values["gender"] = gender


def check_patient_id(row, header, text, ref, values, issues):
    if text:
        values["patient_id"] = text


def check_id_system(row, header, text, ref, values, issues):
    """ID System only means something next to a Patient ID; blank means the organization's default."""
    if "patient_id" not in values:
        if text:
            issues.append(_issue(
                WARNING, f'ID System "{text}" is ignored because Patient ID is blank.', row, header, text,
            ))
        return
    if not text:
        if ref.default_id_system is not None:
            values["id_system"] = ref.default_id_system
        return
    system = ref.id_systems.get(text.lower())
    if system is not None:
        values["id_system"] = system
        return
    names = ", ".join(f'"{ref.id_system_names.get(id_, key)}"' for key, id_ in ref.id_systems.items())
    default = ref.id_system_names.get(ref.default_id_system, "the default system")
    fix = f"Use {names}, or leave it blank for {default}." if names else "Leave it blank."
    issues.append(_issue(
        ERROR, f'ID System "{text}" is not one of your organization\'s identification systems. {fix}',
        row, header, text,
    ))


# --- Groups and coach ------------------------------------------------------------------------------

def check_group(row, header, text, ref, values, issues):
    """One or more existing, active groups separated by ";"; blank falls back to the upload's group."""
    if not text:
        if ref.upload_group is not None:
            values["group_ids"] = [ref.upload_group]
        else:
            issues.append(_issue(
                ERROR, 'Group is blank. Write the participant\'s group, or choose a group in "Import into group" '
                'when uploading.', row, header, text,
            ))
        return
    group_ids: list[int] = []
    problems: list[str] = []
    for part in text.split(";"):
        name = part.strip()
        if not name:
            continue
        key = name.lower()
        group_id = ref.groups.get(key)
        if group_id is not None:
            if group_id not in group_ids:
                group_ids.append(group_id)
        elif key in ref.archived_groups:
            problems.append(f'Group "{name}" is archived. Use an active group.')
        else:
            problems.append(_unknown_group_message(name, ref))
    if problems:
        issues.append(_issue(ERROR, " ".join(problems), row, header, text))
    elif group_ids:
        values["group_ids"] = group_ids
    elif ref.upload_group is not None:
        values["group_ids"] = [ref.upload_group]
    else:
        issues.append(_issue(ERROR, 'Group is blank. Write the participant\'s group, or choose a group in '
                                    '"Import into group" when uploading.', row, header, text))


def _unknown_group_message(name: str, ref: Reference) -> str:
    hint = ref._group_hints.get(name)
    if hint is None:
        hint = _group_hint(name, ref)
        ref._group_hints[name] = hint
    return f'Group "{name}" does not exist.{hint}'


def _group_hint(name: str, ref: Reference) -> str:
    parts = [part.strip().lower() for part in re.split(r"[,|/]", name)]
    if len(parts) > 1 and all(part in ref.groups for part in parts):
        return ' Separate several groups with ";", e.g. "' + "; ".join(p.strip() for p in re.split(r"[,|/]", name)) + '".'
    close = difflib.get_close_matches(name.lower(), list(ref.groups), n=1, cutoff=0.6)
    if close:
        stored = ref.group_names.get(ref.groups[close[0]], close[0])
        return f' Did you mean "{stored}"?'
    names = sorted(ref.group_names.get(id_, key) for key, id_ in ref.groups.items())
    if names and len(names) <= 8:
        return " Use one of " + ", ".join(f'"{n}"' for n in names) + "."
    return " Check the name on the Groups page."


def check_primary_coach(row, header, text, ref, values, issues):
    """An active coach on the team of one of the row's groups; otherwise imported without a coach."""
    if not text:
        return
    coach = ref.coaches.get(text.lower())
    if coach is None:
        issues.append(_issue(
            WARNING, f'Primary Coach "{text}" is not an active coach in your organization. '
            "The participant is imported without a coach.", row, header, text,
        ))
        return
    user_id, team_of = coach
    group_ids = values.get("group_ids")
    if group_ids is None:
        # The row already has a Group error; membership is checked once the group is fixed.
        return
    if team_of.isdisjoint(group_ids):
        issues.append(_issue(
            WARNING, f'Primary Coach "{text}" is not a team member of the participant\'s group. '
            "The participant is imported without a coach; add the coach to the group's team first.",
            row, header, text,
        ))
        return
    values["primary_coach"] = user_id


# --- Address -------------------------------------------------------------------------------------

def _check_text(key: str):
    def check(row, header, text, ref, values, issues):
        if text:
            values[key] = text

    return check


_NAME_KEY = re.compile(r"[\s.\-_]+")


def check_country(row, header, text, ref, values, issues):
    """ISO 3166 two-letter code or a common name; blank stays absent so it never clears a stored country."""
    if not text:
        return
    code = text.upper()
    if code not in COUNTRY_CODES:
        code = COUNTRY_NAMES.get(_NAME_KEY.sub("", text.lower()))
    if code is None:
        issues.append(_issue(
            WARNING, f'Country "{text}" is not a country Roster knows. Use the 2-letter ISO code, e.g. US. '
            "The country was not imported.", row, header, text,
        ))
    else:
        values["country"] = code


def check_state(row, header, text, ref, values, issues):
    """In the US a USPS code (full names accepted); elsewhere any text."""
    if not text:
        return
    if values.get("country", ref.country) != "US":
        values["state"] = text
        return
    # "D.C." and "N.Y." are codes too.
    code = text.upper().replace(".", "")
    if code not in US_STATE_CODES:
        code = US_STATE_NAMES.get(_SPACES.sub(" ", text.lower().replace(".", "")).strip())
    if code is None:
        close = difflib.get_close_matches(text.lower(), list(US_STATE_NAMES), n=1, cutoff=0.75)
        example = f'"{US_STATE_NAMES[close[0]]}" for {close[0].title()}' if close else '"MA"'
        issues.append(_issue(
            WARNING, f'State "{text}" is not a US state. Use the 2-letter code, e.g. {example}. '
            "The state was not imported.", row, header, text,
        ))
    else:
        values["state"] = code


_ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?")
_ZIP_LOST_ZEROS = re.compile(r"(\d{3,4})(?:-(\d{4}))?")


def check_postal_code(row, header, text, ref, values, issues):
    """Kept as text; in the US 5 digits or ZIP+4, restoring leading zeros a spreadsheet dropped."""
    if not text:
        return
    if values.get("country", ref.country) != "US":
        values["postal_code"] = text
        return
    match = _ZIP.fullmatch(text)
    if match:
        values["postal_code"] = match[1] + ("-" + match[2] if match[2] else "")
        return
    match = _ZIP_LOST_ZEROS.fullmatch(text)
    if match:
        fixed = match[1].zfill(5) + ("-" + match[2] if match[2] else "")
        issues.append(_issue(
            WARNING, f'Postal Code "{text}" has lost its leading zeros: US ZIP codes have 5 digits. '
            f'It was imported as "{fixed}". Format the Postal Code column as Text to keep them.',
            row, header, text,
        ))
        values["postal_code"] = fixed
        return
    issues.append(_issue(
        WARNING, f'Postal Code "{text}" is not a US ZIP code. Use 5 digits or ZIP+4, e.g. 02134 or 02134-1234. '
        "The postal code was not imported.", row, header, text,
    ))


# Order matters: Patient ID before ID System, Group before Primary Coach, Country before State and Postal Code.
_CHECKS = (
    ("first_name", _check_name("first_name")),
    ("last_name", _check_name("last_name")),
    ("date_of_birth", check_date_of_birth),
    ("email", check_email),
    ("mobile_phone", _check_phone("mobile_phone")),
    ("home_phone", _check_phone("home_phone")),
    ("work_phone", _check_phone("work_phone")),
    ("gender", check_gender),
    ("patient_id", check_patient_id),
    ("id_system", check_id_system),
    ("group", check_group),
    ("primary_coach", check_primary_coach),
    ("street_address", _check_text("street_address")),
    ("street_address_2", _check_text("street_address_2")),
    ("city", _check_text("city")),
    ("country", check_country),
    ("state", check_state),
    ("postal_code", check_postal_code),
    ("note", _check_text("note")),
)


# --- Places ----------------------------------------------------------------------------------------

COUNTRY_CODES = frozenset((
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
    "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
    "IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD "
    "ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST "
    "SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS "
    "YE YT ZA ZM ZW"
).split())

# Names people write instead of codes, compared lowercased without spaces, dots, hyphens or underscores.
COUNTRY_NAMES = {
    "unitedstates": "US", "unitedstatesofamerica": "US", "usa": "US", "america": "US",
    "canada": "CA", "can": "CA", "mexico": "MX", "mex": "MX",
    "unitedkingdom": "GB", "uk": "GB", "gbr": "GB", "greatbritain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northernireland": "GB", "ireland": "IE",
    "puertorico": "PR", "guam": "GU", "usvirginislands": "VI", "americansamoa": "AS",
    "germany": "DE", "france": "FR", "spain": "ES", "italy": "IT", "portugal": "PT", "netherlands": "NL",
    "belgium": "BE", "switzerland": "CH", "austria": "AT", "sweden": "SE", "norway": "NO", "denmark": "DK",
    "finland": "FI", "poland": "PL", "greece": "GR", "ukraine": "UA", "russia": "RU", "turkey": "TR",
    "israel": "IL", "india": "IN", "pakistan": "PK", "bangladesh": "BD", "china": "CN", "japan": "JP",
    "southkorea": "KR", "korea": "KR", "philippines": "PH", "vietnam": "VN", "thailand": "TH",
    "indonesia": "ID", "australia": "AU", "newzealand": "NZ", "brazil": "BR", "argentina": "AR",
    "colombia": "CO", "chile": "CL", "peru": "PE", "venezuela": "VE", "ecuador": "EC",
    "dominicanrepublic": "DO", "haiti": "HT", "jamaica": "JM", "cuba": "CU", "elsalvador": "SV",
    "guatemala": "GT", "honduras": "HN", "nicaragua": "NI", "costarica": "CR", "panama": "PA",
    "nigeria": "NG", "ghana": "GH", "kenya": "KE", "ethiopia": "ET", "egypt": "EG", "southafrica": "ZA",
    "somalia": "SO", "morocco": "MA",
}

US_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "washington dc": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN",
    "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO",
    "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH",
    "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "american samoa": "AS", "guam": "GU", "northern mariana islands": "MP", "puerto rico": "PR",
    "us virgin islands": "VI", "virgin islands": "VI",
}

# USPS codes: states, DC, territories, and the military "states" AA, AE, AP.
US_STATE_CODES = frozenset(US_STATE_NAMES.values()) | {"AA", "AE", "AP"}
