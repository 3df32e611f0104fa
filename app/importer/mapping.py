"""Which file column holds which field, for files as practice systems export them (SPEC 10).

Each header is normalised (case, accents, punctuation, camelCase and snake_case, annotations such as
"(MM/DD/YYYY)", prefixes such as "patient" or "PAT_", "#"/"no"/"nbr" for number), its words put
through synonyms (cell/mobile, zip/postal, given/first, acct/MRN, Spanish headers), then looked up
among every way a field is written. What is left gets a fuzzy suggestion (difflib, see
docs/decisions.md), which is never applied without a person's confirmation.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from app.importer.columns import COLUMNS, COLUMNS_BY_KEY, normalize_header
from app.importer.issues import ERROR, WARNING, Issue

EXACT, SYNONYM, SAVED, SUGGESTED, GIVEN = "exact", "synonym", "saved", "suggested", "given"
CONFIDENT = frozenset({EXACT, SYNONYM, SAVED, GIVEN})
HOW_WORDS = {EXACT: "its header", SYNONYM: "a known header", SAVED: "the saved mapping", SUGGESTED: "a guess",
             GIVEN: "your choice"}
SUGGEST_AT = 0.8  # difflib ratio from which a guess is offered (pre-filled, never applied unasked)
# A guess may be offered for these, but the upload then always waits for a person (SPEC 10).
IDENTITY = frozenset({"first_name", "last_name", "date_of_birth", "patient_id"})

# More ways each field is written, beyond the sample file's synonyms (columns.py): English exports and
# common Spanish headers. Compared after normalise(), so case, accents and punctuation do not matter.
MORE_NAMES = {
    "first_name": ("given", "forename", "fname", "first nm", "nombre", "nombres", "primer nombre"),
    "last_name": ("lname", "last nm", "family", "apellido", "apellidos"),
    "date_of_birth": ("birthday", "born", "birth", "date born", "fecha de nacimiento", "fecha nacimiento",
                      "nacimiento", "fecha de nac", "f nacimiento"),
    "email": ("mail", "e mail address", "email id", "correo", "correo electronico", "email personal"),
    "mobile_phone": ("mobile phone", "cell phone", "telephone", "tel", "primary phone", "telefono", "celular",
                     "telefono celular", "telefono movil", "movil", "contact number"),
    "home_phone": ("home phone", "home telephone", "home tel", "telefono casa", "telefono fijo", "landline"),
    "work_phone": ("work phone", "office phone", "business phone", "work tel", "telefono trabajo"),
    "gender": ("sexo", "genero", "birth sex", "administrative sex", "gender identity"),
    "patient_id": ("id", "medical record", "record number", "chart", "account", "account number", "acct",
                   "patient number", "expediente", "numero de expediente", "historia clinica", "member id",
                   "client id", "person id", "identifier", "mrn id", "chart id", "record id", "ehr id", "emr id",
                   "enterprise id"),
    "id_system": ("id source", "mrn type", "identifier type", "assigning authority"),
    "group": ("grupo", "programa", "program name", "clinic", "location", "clinic program"),
    "primary_coach": ("coach email", "care coordinator", "navigator", "coach asignado", "care team lead"),
    "street_address": ("street", "address 1", "address line 1", "addr", "addr 1", "street 1", "direccion",
                       "calle", "domicilio", "home address", "mailing address"),
    "street_address_2": ("address line 2", "addr 2", "street 2", "apt", "suite", "unit", "apartment",
                         "direccion 2"),
    "city": ("town", "ciudad", "municipio", "localidad", "city name"),
    "state": ("st", "province", "region", "estado", "provincia", "state code", "state province", "state region"),
    "postal_code": ("zip", "zipcode", "postal", "post code", "codigo postal", "cp", "zip 5", "zip 4"),
    "country": ("pais", "nation", "country code", "country name"),
    "note": ("remarks", "notas", "comentarios", "observaciones", "memo"),
}
# Columns exports often carry that are no field of Roster's: left out without a guess (a guess would be
# wrong: County is not Country, PCP is no coach).
NOT_FIELDS = ("county", "ssn", "social security number", "social security", "race", "ethnicity", "suffix",
              "prefix", "title", "middle name", "middle initial", "mi", "maiden", "maiden name", "marital",
              "marital status", "birthplace", "place of birth", "deathdate", "date of death", "death date", "lat",
              "latitude", "lon", "long", "longitude", "pcp", "primary care physician", "primary care provider",
              "provider", "insurance", "payer", "plan", "language", "preferred language", "age", "drivers",
              "drivers license", "passport", "healthcare expenses", "healthcare coverage", "full name", "name",
              "created", "modified", "last visit", "last visit date", "status", "balance", "race ethnicity")

# Words dropped before comparing: whose the field is, and filler.
PREFIXES = ("patient", "pat", "pt", "member", "mbr", "person", "client", "participant", "customer",
            "primary", "preferred", "paciente")
NUMBER_WORDS = frozenset({"number", "no", "nbr", "num", "nr"})
FILLER = frozenset({"of", "the", "de", "del", "la", "el", "number", "no", "nbr", "num", "nr", "code", "text", "abbr",
                    "abbreviation"})
WORD_SYNONYMS = {
    "cell": "mobile", "cellular": "mobile", "celular": "mobile", "movil": "mobile", "phone": "phone",
    "telephone": "phone", "tel": "phone", "ph": "phone", "zipcode": "zip", "postcode": "zip", "given": "first",
    "forename": "first", "surname": "last", "family": "last", "dob": "birth", "birthdate": "birth",
    "birthday": "birth", "born": "birth", "e": "e", "emailaddress": "email", "acct": "account", "dt": "date",
    "addr": "address", "wk": "work", "hm": "home", "mob": "mobile",
}
DATE_FORMAT_WORDS = frozenset({"mm", "dd", "yyyy", "yy", "mmddyyyy", "ddmmyyyy", "yyyymmdd", "iso", "format"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORDS = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"(?<=[a-z])(?=[0-9])")
_ANNOTATION = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")


def normalise(header: str) -> str:
    """A header as compared: its words, lowercased, without accents, annotations, prefixes or filler."""
    text = _CAMEL.sub(" ", str(header).replace("#", " number "))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    text = _DIGITS.sub(" ", text)  # "Address2" is "Address 2"
    annotation = " ".join(_ANNOTATION.findall(text))
    text = _ANNOTATION.sub(" ", text)
    words = [w for w in _WORDS.findall(text)]
    # An annotation only counts when it says which phone ("Phone (cell)"), not a date format.
    kept = [w for w in _WORDS.findall(annotation) if w not in DATE_FORMAT_WORDS]
    words = [w for w in kept if w in ("cell", "mobile", "home", "work", "office")] + words
    words = [_unglue(w) for w in words]
    words = [part for w in words for part in w.split()]
    prefixed = False
    while len(words) > 1 and words[0] in PREFIXES:
        words, prefixed = words[1:], True
    if prefixed and all(w in NUMBER_WORDS for w in words):
        return "id"  # "Patient No", "Member #": the person's number is their identifier
    words = [WORD_SYNONYMS.get(w, w) for w in words if w not in DATE_FORMAT_WORDS]
    meaningful = [w for w in words if w not in FILLER]
    # In any order: "Phone Mobile" and "Mobile Phone", "Birth Date" and "Date of Birth" are one name.
    return " ".join(sorted(meaningful or words))


def _unglue(word: str) -> str:
    """ "patientdob" -> "dob", "firstname" -> "first name": headers written as one lowercase word."""
    for prefix in PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix) + 1 and word[len(prefix):] in _GLUED:
            return _GLUED[word[len(prefix):]]
    return _GLUED.get(word, word)


_GLUED = {"firstname": "first name", "lastname": "last name", "dateofbirth": "date of birth", "dob": "dob",
          "zipcode": "zip", "postalcode": "postal code", "phonenumber": "phone", "cellphone": "cell phone",
          "homephone": "home phone", "workphone": "work phone", "mobilephone": "mobile phone",
          "emailaddress": "email", "streetaddress": "street address", "birthdate": "birth date",
          "middlename": "middle name", "fullname": "full name", "id": "id", "mrn": "mrn", "email": "email",
          "gender": "gender", "sex": "sex", "city": "city", "state": "state", "zip": "zip", "phone": "phone"}


def _names() -> dict[str, tuple[str, str]]:
    """Every known way of writing a field, normalised -> (field, how it counts: exact or synonym)."""
    names: dict[str, tuple[str, str]] = {}
    for column in COLUMNS:
        for written, how in ((column.label, EXACT), (column.key, EXACT), *((s, SYNONYM) for s in column.synonyms),
                             *((s, SYNONYM) for s in MORE_NAMES.get(column.key, ()))):
            key = normalise(written)
            owner = names.setdefault(key, (column.key, how))
            if owner[0] != column.key:
                raise ValueError(f"Header {written!r} would mean both {owner[0]} and {column.key}")
    return names


@cache
def _known() -> tuple[dict[str, tuple[str, str]], frozenset[str], dict[str, set[str]]]:
    """_names(), the headers that are no field of Roster's, and each field's exact headers, normalised:
    made on first use: a web process or CLI command that maps no file never builds them."""
    names = _names()
    not_fields = frozenset(normalise(name) for name in NOT_FIELDS) - set(names)
    return names, not_fields, {c.key: {normalize_header(c.label), normalize_header(c.key)} for c in COLUMNS}


@dataclass(frozen=True)
class ColumnChoice:
    """One file column: its header as written, the field it holds (None: left out) and how that was found."""

    index: int
    header: str
    field: str | None
    how: str | None

    @property
    def confident(self) -> bool:
        return self.field is None or self.how in CONFIDENT

    def as_dict(self) -> dict:
        label = COLUMNS_BY_KEY[self.field].label if self.field else None
        return {"header": self.header, "field": label, "how": self.how}


def header_set_key(headers: list[str]) -> str:
    """What a saved mapping is filed under: the file's set of headers, compared as the sample file's are
    (normalize_header: stable, so a change to recognition never orphans a saved mapping)."""
    names = sorted({normalize_header(h) for h in headers if h})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def recognise(headers: list[str], *, saved: dict[str, str | None] | None = None,
              given: dict[int, tuple[str | None, str]] | None = None) -> list[ColumnChoice]:
    """A field for each header: given (a person's choice), saved (the organization's mapping for these
    headers), else exact or synonym, else a suggestion; a field claimed twice keeps its first column."""
    choices: list[ColumnChoice] = []
    taken: set[str] = set()
    for index, header in enumerate(headers):
        if not header:
            continue
        field, how = _choose(index, header, saved, given)
        if field is not None and field in taken and how not in (GIVEN, SAVED):
            field, how = field, SUGGESTED  # a second column for a field: a person decides
        if field is not None and how in CONFIDENT:
            taken.add(field)
        choices.append(ColumnChoice(index, header, field, how))
    return choices


def _choose(index: int, header: str, saved, given) -> tuple[str | None, str | None]:
    """By column for a person's choice (two columns may share a header), by header for a saved mapping;
    a field that is no field of Roster's (an edited or old mapping) is left out."""
    if given is not None and index in given:
        field, how = given[index]
        return (field, how) if field in COLUMNS_BY_KEY else (None, how)
    if saved is not None and header in saved:
        return (saved[header] if saved[header] in COLUMNS_BY_KEY else None), SAVED
    key = normalise(header)
    names, not_fields, exact = _known()
    if key in not_fields:
        return None, None
    if key in names:
        field = names[key][0]
        return field, EXACT if normalize_header(header) in exact.get(field, ()) else SYNONYM
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=SUGGEST_AT) if len(key) >= 4 else []
    if close:
        return names[close[0]][0], SUGGESTED
    return None, None


def needs_person(choices: list[ColumnChoice], *, upload_names_group: bool) -> bool:
    """A guess to confirm, or a required field without a confident column: the upload waits (Needs mapping)."""
    if any(not choice.confident for choice in choices):
        return True
    mapped = {choice.field for choice in choices if choice.field}
    return any(c.required and c.key not in mapped and not (c.key == "group" and upload_names_group)
               for c in COLUMNS)


@dataclass
class HeaderMap:
    """Which file column holds which field, plus the file-level issues found in the header row."""

    fields: dict[str, int]
    headers: list[str]
    issues: list[Issue]
    choices: list[ColumnChoice]

    @property
    def has_errors(self) -> bool:
        return any(issue.severity == ERROR for issue in self.issues)

    def header(self, key: str) -> str | None:
        """The header as written for a field, or None when the file has no such column."""
        index = self.fields.get(key)
        return None if index is None else self.headers[index]

    @property
    def imported_headers(self) -> list[str]:
        """The headers of the columns Roster imports, in the file's order: all that is kept of the header row."""
        return [self.headers[index] for index in sorted(self.fields.values())]

    @property
    def used(self) -> list[dict]:
        """The mapping as the upload keeps it: every column's header, field key (or None) and how."""
        return [{"index": c.index, "header": c.header, "field": c.field if c.confident else None, "how": c.how}
                for c in self.choices]

    @property
    def proposed(self) -> list[dict]:
        """Every column with its field, guesses included: what the mapping page offers a person."""
        return [{"index": c.index, "header": c.header, "field": c.field, "how": c.how} for c in self.choices]

    @property
    def located(self) -> dict[str, tuple[str, int]]:
        """Field key -> (its column's header as written, the column's index): what rules.layout takes."""
        return {key: (self.headers[index], index) for key, index in self.fields.items()}


def map_headers(headers: list[str], *, upload_names_group: bool, saved: dict | None = None,
                given: dict | None = None) -> HeaderMap:
    """Map a header row to the fields (recognise); the columns left out and a required field without a
    column become file-level issues."""
    headers = ["" if header is None else str(header).strip() for header in headers]
    choices = recognise(headers, saved=saved, given=given)
    fields = {c.field: c.index for c in choices if c.field and c.confident}
    issues: list[Issue] = []
    for c in choices:
        if c.field in fields and fields[c.field] != c.index:
            first, label = headers[fields[c.field]], COLUMNS_BY_KEY[c.field].label
            issues.append(Issue(ERROR, f'Columns "{first}" and "{c.header}" both mean {label}. '
                                       "Keep one of them and rename or remove the other.", column=c.header))
    left_out = list(dict.fromkeys(c.header for c in choices
                                  if not c.field or (not c.confident and c.field not in fields)))
    if left_out:
        names = ", ".join(f'"{name}"' for name in left_out)
        issues.append(Issue(WARNING, f"Columns ignored: {names}. Roster does not import these."))
    for column in COLUMNS:
        if not column.required or column.key in fields:
            continue
        if column.key == "group":
            if upload_names_group:
                continue
            message = ('The file has no Group column. Add a column named "Group" with each participant\'s group, '
                       'or choose a group in "Import into group" when uploading.')
        else:
            also = " or ".join(f'"{name}"' for name in column.synonyms[:2])
            message = f'The file has no {column.label} column. Add a column named "{column.label}" ({also} also work).'
        issues.append(Issue(ERROR, message))
    return HeaderMap(fields=fields, headers=headers, issues=issues, choices=choices)


def mapping_of(used: list[dict] | None) -> dict[int, tuple[str | None, str]] | None:
    """A kept mapping (HeaderMap.used) as column index -> (field, how), to map the same file again as it was."""
    if not used:
        return None
    return {entry.get("index", n): (entry["field"], entry["how"] or GIVEN) for n, entry in enumerate(used)}


def check_mapping(entries: list[dict], chosen: dict[int, str | None], *, upload_names_group: bool) -> list[str]:
    """What is wrong with a person's mapping (column index -> field key), in words: a field that is none of
    Roster's, a field chosen twice, a required one not at all."""
    problems = []
    by_field: dict[str, list[str]] = {}
    for n, entry in enumerate(entries):
        field = chosen.get(entry.get("index", n))
        if field and field not in COLUMNS_BY_KEY:
            problems.append(f'"{field}" is not a field Roster imports. Choose one from the list, or Leave out.')
        elif field:
            by_field.setdefault(field, []).append(entry["header"])
    for field, columns in by_field.items():
        if len(columns) > 1:
            named = " and ".join(f'"{c}"' for c in columns)
            problems.append(f"Columns {named} are both set to {COLUMNS_BY_KEY[field].label}. "
                            "Choose one of them and set the other to another field or Leave out.")
    for column in COLUMNS:
        if column.required and column.key not in by_field and not (column.key == "group" and upload_names_group):
            extra = ' (or choose a group in "Import into group" when uploading)' if column.key == "group" else ""
            problems.append(f"Choose the column that holds {column.label}{extra}. If the file has none, "
                            "add it to the file and upload it again.")
    return problems
