"""Checks one row's cells against the column rules and turns them into clean participant values.

Each column has a check: a small function of a RowCheck, which holds the cell being checked (its
header and text) and collects the row's values and issues (`c.error(...)`, `c.warning(...)`,
`c.keep(...)`). RULES lists the checks in the order they run; a check that reads another column's
value names it in `after`, and the order is verified when this module loads.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from app.importer import places
from app.importer.columns import COLUMNS_BY_KEY
from app.importer.contacts import MANY_ADDRESSES, email_problem, is_simple_email, parse_phone, phone_example
from app.importer.issues import ERROR, WARNING, Issue
from app.text import describe, without_unsafe


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


@dataclass(slots=True)
class RowCheck:
    """One row being checked: the cell at hand, and what the row's checks found so far."""

    row: int
    ref: Reference
    values: dict = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    key: str = ""  # the field being checked
    header: str = ""  # the cell's column as written in the file
    text: str = ""  # the cell as text, trimmed
    cell: object = None  # the cell as read (a date for a real date cell)

    def error(self, what: str, message: str) -> None:
        """An error of the kind `what` (a few words: "blank", "not a real date") in this cell's column."""
        self.issues.append(Issue(ERROR, message, row=self.row, column=self.header, value=self.text,
                                 kind=f"{self.key}:{what}"))

    def warning(self, what: str, message: str) -> None:
        self.issues.append(Issue(WARNING, message, row=self.row, column=self.header, value=self.text,
                                 kind=f"{self.key}:{what}"))

    def keep(self, key: str, value) -> None:
        self.values[key] = value


Check = Callable[[RowCheck], None]


@dataclass(frozen=True)
class Rule:
    key: str  # the column's field
    check: Check
    after: tuple[str, ...] = ()  # fields whose values this check reads: their checks run first
    when_absent: Check | None = None  # what to do when the file has no such column (else nothing)


# The rules that run on a file's rows, in RULES order: each with its column's header as written and
# index, or with no index when the file has no such column (only the rules with a when_absent, then).
Layout = tuple[tuple[Rule, str, "int | None"], ...]


@dataclass(slots=True)
class CheckedRow:
    """A row as checked: what matching (matching.py) takes."""

    row: int
    values: dict
    issues: list[Issue]
    cells: str  # JSON text: header as written -> cell as written (UploadRow.values)

    @property
    def has_error(self) -> bool:
        return bool(self.issues) and any(issue.is_error for issue in self.issues)  # most rows have none

    def __reduce__(self):
        # Pickled (check_process sends a large preview's rows) as a call to the constructor: the slots
        # dataclass's own state calls fields() for every row, a third of a chunk's pickling either way.
        return CheckedRow, (self.row, self.values, self.issues, self.cells)


def layout(columns: dict[str, tuple[str, int]]) -> Layout:
    """The rules for a file whose columns are these (field key -> (header as written, index)): worked
    out once for the file, so a row is checked without a dict of its cells."""
    return tuple((rule, *columns[rule.key]) if rule.key in columns else (rule, _LABELS[rule.key], None)
                 for rule in RULES if rule.key in columns or rule.when_absent is not None)


def check_cells(row: int, cells: list, rules: Layout, ref: Reference) -> tuple[dict, list[Issue]]:
    """Check one row of the file (its cells as read; a short row's last ones are blank); return the
    valid non-blank values (normalized) and the issues found."""
    c = RowCheck(row, ref)
    width = len(cells)
    for rule, header, index in rules:
        c.key, c.header = rule.key, header
        if index is None:
            # A missing required column is one file-level error (map_headers), not one per row.
            c.text, c.cell = "", None
            rule.when_absent(c)
            continue
        raw = cells[index] if index < width else ""
        if raw.__class__ is str:
            c.text = raw.strip()
        elif isinstance(raw, date):
            c.text = raw.isoformat()
        else:
            c.text = "" if raw is None else str(raw).strip()
        c.cell = raw
        if not c.text.isprintable():  # rare, and cheap to ask: the regex runs only then
            _remove_unsafe(c)
        rule.check(c)
    return c.values, c.issues


_LABELS = {key: column.label for key, column in COLUMNS_BY_KEY.items()}


def _remove_unsafe(c: RowCheck) -> None:
    """Control characters and bidirectional overrides are taken out of the cell, with a warning."""
    clean, removed = without_unsafe(c.text)
    if removed:
        c.text = clean.strip()
        what = ", ".join(describe(char) for char in removed)
        c.warning("unsafe characters removed", f'{c.header} "{c.text}": Roster removed {what}, which cannot be shown or stored. '
                  "Check the value.")


def _check_name(key: str) -> Check:
    label = _LABELS[key]
    noun = label.lower()

    def check(c: RowCheck) -> None:
        if not c.text:
            c.error("blank", f"{label} is blank. Every participant needs a {noun}.")
        else:
            c.keep(key, " ".join(c.text.split()))

    return check


def _check_text(key: str) -> Check:
    def check(c: RowCheck) -> None:
        if c.text:
            c.keep(key, c.text)

    return check


# --- Date of Birth ---------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_SLASH_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_SHORT_YEAR_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2})")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_MONTH_FIRST = re.compile(r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})")
_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})[\s-]+(?P<month>[A-Za-z]{3,9})\.?[\s-]+(?P<year>\d{4})")


def check_date_of_birth(c: RowCheck) -> None:
    """A real date cell, or text: YYYY-MM-DD or the organization's slash order, four-digit years."""
    if isinstance(c.cell, date):
        _check_birth_date(c, c.cell.date() if isinstance(c.cell, datetime) else c.cell)
        return
    text, ref = c.text, c.ref
    if not text:
        c.error("blank", "Date of Birth is blank. Add it as YYYY-MM-DD, e.g. 1980-01-05.")
        return
    match = _ISO_DATE.fullmatch(text)
    written_with_slashes = match is None
    named = None if match else _month_name_date(text)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif named:
        (year, month, day), written_with_slashes = named, False
    else:
        match = _SLASH_DATE.fullmatch(text)
        if match is None:
            c.error(*_unreadable_date_message(text, ref))
            return
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        month, day = (first, second) if ref.date_order == "MDY" else (second, first)
    try:
        born = date(year, month, day)
    except ValueError:
        c.error("not a real date", _unreal_date_message(text, year, month, day, ref, written_with_slashes))
        return
    _check_birth_date(c, born)


def detect_date_order(texts: list[str]) -> str | None:
    """ "DMY" or "MDY" when the slash dates among these show a day over 12 one way only, in at least 2 %
    of them (and 2), so one typo does not turn a column; else None."""
    slashed = first_over = second_over = 0
    for text in texts:
        match = _SLASH_DATE.fullmatch(text.strip())
        if match:
            slashed += 1
            first_over += int(match[1]) > 12
            second_over += int(match[3]) > 12
    shown = max(first_over, second_over)
    if min(first_over, second_over) == 0 and shown >= max(2, slashed // 50):
        return "DMY" if first_over else "MDY"
    return None


def _month_name_date(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of "January 5, 1980", "Jan 5 1980", "5 January 1980" or "05-Jan-1980"."""
    match = _MONTH_FIRST.fullmatch(text) or _DAY_FIRST.fullmatch(text)
    if match is None:
        return None
    word = match["month"].casefold()
    month = next((n for n, name in enumerate(_MONTHS, start=1) if name.casefold().startswith(word)), None)
    return (int(match["year"]), month, int(match["day"])) if month else None


def _check_birth_date(c: RowCheck, born: date) -> None:
    today, text = c.ref.today, c.text
    if born > today:
        c.error("in the future", f'Date of Birth "{text}" is in the future. Check the year.')
        return
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > 120:
        c.warning("over 120 years ago", f'Date of Birth "{text}" makes the participant {age} years old. Check the year.')
    c.keep("date_of_birth", born)


def _slash_format(ref) -> str:
    return "MM/DD/YYYY" if ref.date_order == "MDY" else "DD/MM/YYYY"


def _unreadable_date_message(text, ref) -> tuple[str, str]:
    short = _SHORT_YEAR_DATE.fullmatch(text)
    if short:
        year = int(short[4])
        century = 1900 if year > ref.today.year % 100 else 2000
        example = f"{short[1]}{short[2]}{short[3]}{short[2]}{century + year}"
        return "two-digit year", f'Date of Birth "{text}" has a two-digit year. Write all four digits, e.g. {example}.'
    return "not readable", (f'Date of Birth "{text}" is not a date Roster can read. '
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
    if not 1 <= month <= 12:
        return f'Date of Birth "{text}" is not a real date: there is no month {month}. Check the month.'
    if day < 1:
        return f'Date of Birth "{text}" is not a real date: there is no day {day}. Check the day.'
    return (f'Date of Birth "{text}" is not a real date: {_MONTHS[month - 1]} {year} has no day {day}. '
            "Check the day.")


# --- Email, phones -------------------------------------------------------------------------------

def check_email(c: RowCheck) -> None:
    """One email address, kept as written; email_key is the form compared case-insensitively."""
    text = c.text
    if not text:
        c.warning("blank", "Email is blank. This participant cannot be invited until an email is added.")
        return
    if not is_simple_email(text):
        if MANY_ADDRESSES.search(text):
            c.error("more than one address", f'Email "{text}" holds more than one address. Keep one address per participant.')
            return
        if problem := email_problem(text):
            c.error("not valid", f'Email "{text}" is not a valid email address. {problem} Correct it or leave the cell blank.')
            return
    c.keep("email", text)
    c.keep("email_key", text.lower())


def _check_phone(key: str) -> Check:
    label = _LABELS[key]

    def check(c: RowCheck) -> None:
        if not c.text:
            return
        parsed = parse_phone(c.text, c.ref.country)
        if parsed is None:
            c.error("not a valid number", f'{label} "{c.text}" is not a valid phone number. '
                    f"Write the full number with its area code, e.g. {phone_example(c.ref.country)}.")
            return
        number, extension = parsed
        c.keep(key, number)
        if extension:
            c.warning("extension not kept", f'{label} "{c.text}": Roster keeps the number {number} but not the extension '
                      f'"{extension}". Put the extension in the Note if it matters.')

    return check


# --- Gender, identifiers ---------------------------------------------------------------------------

_GENDERS = {
    "m": "male", "male": "male", "f": "female", "female": "female",
    "o": "other", "other": "other", "u": "unknown", "unknown": "unknown",
}


def check_gender(c: RowCheck) -> None:
    if not c.text:
        return
    gender = _GENDERS.get(c.text.lower())
    if gender is None:
        c.error("not accepted", f'Gender "{c.text}" is not one Roster accepts. Use Male, Female, Other or Unknown (or M, F, O, U).')
    else:
        c.keep("gender", gender)


def check_id_system(c: RowCheck) -> None:
    """ID System only means something next to a Patient ID; blank means the organization's default."""
    text, ref = c.text, c.ref
    if "patient_id" not in c.values:
        if text:
            c.warning("without Patient ID", f'ID System "{text}" is ignored because Patient ID is blank.')
        return
    if not text:
        if ref.default_id_system is not None:
            c.keep("id_system", ref.default_id_system)
        return
    system = ref.id_systems.get(text.lower())
    if system is not None:
        c.keep("id_system", system)
        return
    names = ", ".join(f'"{ref.id_system_names.get(id_, key)}"' for key, id_ in ref.id_systems.items())
    default = ref.id_system_names.get(ref.default_id_system, "the default system")
    fix = f"Use {names}, or leave it blank for {default}." if names else "Leave it blank."
    c.error("unknown", f'ID System "{text}" is not one of your organization\'s identification systems. {fix}')


# --- Groups and coach ------------------------------------------------------------------------------

_GROUP_BLANK = ('Group is blank. Write the participant\'s group, or choose a group in "Import into group" '
                'when uploading.')


def check_group(c: RowCheck) -> None:
    """One or more existing, active groups separated by ";"; blank falls back to the upload's group."""
    ref = c.ref
    group_ids: list[int] = []
    problems: list[str] = []
    for part in c.text.split(";"):
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
        c.error("unknown or archived", " ".join(problems))
    elif group_ids:
        c.keep("group_ids", group_ids)
    elif ref.upload_group is not None:
        c.keep("group_ids", [ref.upload_group])
    else:
        c.error("blank", _GROUP_BLANK)


def upload_group(c: RowCheck) -> None:
    """No Group column: the upload's group (without one, the file-level error already says so)."""
    if c.ref.upload_group is not None:
        c.keep("group_ids", [c.ref.upload_group])


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


def check_primary_coach(c: RowCheck) -> None:
    """An active coach on the team of one of the row's groups; otherwise imported without a coach."""
    text = c.text
    if not text:
        return
    coach = c.ref.coaches.get(text.lower())
    if coach is None:
        c.warning("not an active coach", f'Primary Coach "{text}" is not an active coach in your organization. '
                  "The participant is imported without a coach.")
        return
    user_id, team_of = coach
    group_ids = c.values.get("group_ids")
    if group_ids is None:
        # The row already has a Group error; membership is checked once the group is fixed.
        return
    if team_of.isdisjoint(group_ids):
        c.warning("not on the group's team", f'Primary Coach "{text}" is not a team member of the participant\'s group. '
                  "The participant is imported without a coach; add the coach to the group's team first.")
        return
    c.keep("primary_coach", user_id)


# --- Address -------------------------------------------------------------------------------------

def check_country(c: RowCheck) -> None:
    """ISO 3166 code (2 or 3 letters) or a name; blank stays absent so it never clears a stored country."""
    if not c.text:
        return
    code = places.country_code(c.text)
    if code is None:
        c.warning("unknown", f'Country "{c.text}" is not a country Roster knows. Use the 2-letter ISO code, e.g. US. '
                  "The country was not imported.")
    else:
        c.keep("country", code)


def _in_the_us(c: RowCheck) -> bool:
    return c.values.get("country", c.ref.country) == "US"


def check_state(c: RowCheck) -> None:
    """In the US a USPS code (full names accepted); elsewhere any text."""
    text = c.text
    if not text:
        return
    if not _in_the_us(c):
        c.keep("state", text)
        return
    code = places.us_state_code(text)
    if code is None:
        states = places.us_states()
        close = difflib.get_close_matches(places.state_key(text), list(states), n=1, cutoff=0.75)
        example = f'"{states[close[0]]}" for {close[0].title()}' if close else '"MA"'
        c.warning("not a US state", f'State "{text}" is not a US state. Use the 2-letter code, e.g. {example}. '
                  "The state was not imported.")
    else:
        c.keep("state", code)


_ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?")
_ZIP_LOST_ZEROS = re.compile(r"(\d{3,4})(?:-(\d{4}))?")


def check_postal_code(c: RowCheck) -> None:
    """Kept as text; in the US 5 digits or ZIP+4, restoring leading zeros a spreadsheet dropped."""
    text = c.text
    if not text:
        return
    if not _in_the_us(c):
        c.keep("postal_code", text)
        return
    match = _ZIP.fullmatch(text)
    if match:
        c.keep("postal_code", match[1] + ("-" + match[2] if match[2] else ""))
        return
    match = _ZIP_LOST_ZEROS.fullmatch(text)
    if match:
        fixed = match[1].zfill(5) + ("-" + match[2] if match[2] else "")
        c.warning("leading zeros lost", f'Postal Code "{text}" has lost its leading zeros: US ZIP codes have 5 digits. '
                  f'It was imported as "{fixed}". Format the Postal Code column as Text to keep them.')
        c.keep("postal_code", fixed)
        return
    c.warning("not a US ZIP code", f'Postal Code "{text}" is not a US ZIP code. Use 5 digits or ZIP+4, e.g. 02134 or 02134-1234. '
              "The postal code was not imported.")


# --- The order they run in -------------------------------------------------------------------------

RULES = (
    Rule("first_name", _check_name("first_name")),
    Rule("last_name", _check_name("last_name")),
    Rule("date_of_birth", check_date_of_birth),
    Rule("email", check_email, when_absent=check_email),  # the blank warning, with or without the column
    Rule("mobile_phone", _check_phone("mobile_phone")),
    Rule("home_phone", _check_phone("home_phone")),
    Rule("work_phone", _check_phone("work_phone")),
    Rule("gender", check_gender),
    Rule("patient_id", _check_text("patient_id")),
    Rule("id_system", check_id_system, after=("patient_id",), when_absent=check_id_system),  # the default
    Rule("group", check_group, when_absent=upload_group),
    Rule("primary_coach", check_primary_coach, after=("group",)),
    Rule("street_address", _check_text("street_address")),
    Rule("street_address_2", _check_text("street_address_2")),
    Rule("city", _check_text("city")),
    Rule("country", check_country),
    Rule("state", check_state, after=("country",)),
    Rule("postal_code", check_postal_code, after=("country",)),
    Rule("note", _check_text("note")),
)


def check_order(rules: tuple[Rule, ...]) -> None:
    """Raise if a rule runs before one whose value it reads, or a column has no rule or two."""
    seen: set[str] = set()
    for rule in rules:
        missing = [key for key in rule.after if key not in seen]
        if missing:
            raise RuntimeError(f"The {rule.key} check reads {', '.join(missing)}, whose check must run first.")
        if rule.key in seen:
            raise RuntimeError(f"Two checks for {rule.key}.")
        seen.add(rule.key)
    if seen != set(COLUMNS_BY_KEY):
        raise RuntimeError(f"Columns without a check: {', '.join(sorted(set(COLUMNS_BY_KEY) - seen))}.")


check_order(RULES)
