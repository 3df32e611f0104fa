"""Possible duplicates (SPEC 12): the same person under a typo, a nickname, a swapped date, a new surname.

A row that would create a participant is compared with the organization's participants and with the
earlier rows of its file that share a blocking key with it (a date of birth, that date with day and month
swapped, an email, a phone, a surname's sound with two of the three parts of the birth date, the names'
sounds across a missing date), so the cost stays near linear. (Not a postal code with the birth year: a
clinic's patients share a handful of postal codes, and those blocks held hundreds each.) Each pair gets a Fellegi-Sunter score:
the sum of a weight per field (how much more often that level of agreement is seen between two records
of one person than between two people), turned into a probability. Above the threshold the row keeps
action Create with a warning naming the other record; a person decides (never a score).

The weights were set by hand and checked on the labelled benchmark in bench/linkage.py (docs/matching.md
gives its precision and recall). Household fields (phone, postal code, street) count only when the
first names agree: twins and a parent and child share them, and they say nothing about which member a
record is.
"""
from __future__ import annotations

import math
import sys
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache

import jellyfish
from rapidfuzz.distance import JaroWinkler

from app.importer.nicknames import formal, same_name
from app.stored import stored_date

THRESHOLD = 0.5  # probability above which a pair is shown as a possible duplicate
PRIOR_BITS = 10.0  # log2 odds against a pair being one person before the fields are compared
BLOCK_LIMIT = 100  # a blocking key shared by more records than this picks nobody out
SHOWN = 3  # candidates kept per row, best first

# Weights, log2(m / u), by field and level of agreement.
FIRST = {"exact": 4.0, "nickname": 3.5, "close": 2.5, "near": 1.0, "sounds": 1.5, "different": -8.0}
LAST = {"exact": 5.0, "close": 3.5, "near": 1.5, "sounds": 2.0, "different": -3.0}
BIRTH = {"exact": 7.0, "swapped": 4.5, "one digit": 3.5, "same month": 0.5, "different": -10.0}
EMAIL = {"exact": 8.0, "same name": 3.0, "different": -1.0}
PHONE = {"exact": 5.0, "different": -0.5}
POSTAL = {"exact": 1.5, "different": -0.5}
STREET = {"close": 2.0}


def simplify(text: str | None) -> str:
    """A name as compared: accents, case, spaces and punctuation ignored ("José-Luis" -> "joseluis")."""
    if not text:
        return ""
    if text.isascii():  # nothing to decompose (most cells): the same result, several times faster
        return "".join(filter(str.isalnum, text)).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def sound(name: str) -> str:
    return jellyfish.metaphone(name) if name else ""


# A clinic's list repeats its first and last names thousands of times: each is simplified and sounded once.
_name = lru_cache(maxsize=1 << 16)(simplify)
_sound = lru_cache(maxsize=1 << 16)(sound)


def forget_names() -> None:
    """Empty the caches of names (PHI): a finished preview leaves none of its file in the process."""
    _name.cache_clear()
    _sound.cache_clear()


@dataclass(slots=True)
class Person:
    """One record as the comparison sees it: a participant (`participant_id`) or a row of the file (`row`)."""

    first: str
    last: str
    born: date | None = None
    email: str = ""  # email key (lowercase)
    phones: tuple = ()  # E.164, each once, as a tuple (a quarter of a frozenset's size)
    postal: str = ""
    street: str = ""
    participant_id: int | None = None
    row: int | None = None
    name: str = ""  # as shown: "First Last"
    first_sound: str = field(default="", init=False)
    last_sound: str = field(default="", init=False)
    initial: str = field(default="", init=False)  # the first name's sound's first letter: asked of most records met

    # A preview's search holds a Person for every participant and every row that creates one: only what
    # the comparison reads is kept, and what a million of them repeat (postal codes) once.
    def __post_init__(self):
        self.first, self.last = _name(self.first), _name(self.last)
        self.first_sound, self.last_sound = _sound(formal(self.first)), _sound(self.last)
        self.initial = self.first_sound[:1]
        self.street = simplify(self.street)
        self.phones = tuple(dict.fromkeys(self.phones))  # each once: a phone in two columns is one block
        self.postal = sys.intern(self.postal)

    @property
    def key(self) -> tuple:
        """("p", participant id) or ("r", row number)."""
        return ("p", self.participant_id) if self.participant_id is not None else ("r", self.row)


@dataclass(frozen=True)
class Candidate:
    person: Person
    score: float  # probability, 0 to 1
    reasons: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"participant_id": self.person.participant_id, "row": self.person.row, "score": round(self.score, 2),
                "reasons": list(self.reasons), "name": self.person.name,
                "born": self.person.born.isoformat() if self.person.born else None}


def swapped(born: date | None) -> date | None:
    if born is None or born.day > 12 or born.day == born.month:
        return None
    try:
        return born.replace(month=born.day, day=born.month)
    except ValueError:
        return None


def _keys(p: Person, *, looking: bool = True) -> tuple[list[int], list[tuple[int, str | None]]]:
    """The blocks a record is filed under, and (`looking`) those looked in to find it, which also try day
    and month swapped and first and last swapped; both at once, as hashes (DuplicateIndex.blocks), since
    a searched row is filed next and most keys are both. A key looked in comes with an initial: in a
    block of a surname and part of a date, only records whose first name begins with that sound, or
    born on a date looked for, are compared (DuplicateIndex.find); other blocks have none (None)."""
    born, first_sound, last_sound = p.born, p.first_sound, p.last_sound
    plain = [hash(("e", p.email))] if p.email else []
    plain += [hash(("t", phone)) for phone in p.phones]
    # The birth date with the first name's initial sound (a new surname, a slip in either name); a block
    # of the date alone brought half the pairs compared and found almost nobody these do not.
    if first_sound and born:
        plain.append(hash(("fd", first_sound[0], born)))
    named = []
    if last_sound and born:  # a slip in one part of the date: the other two still agree
        # A slip in the year is only one digit within its decade (_birth_level): the block says the decade.
        named = [hash(("nym", last_sound, born.year, born.month)), hash(("nyd", last_sound, born.year, born.day)),
                 hash(("nd", last_sound, born.year // 10, born.month, born.day))]
    # By the names' sounds alone, only across a missing date: two dates that disagree in more than one
    # part leave a pair far below the threshold, whatever the names.
    names = hash(("nn", first_sound, last_sound)) if first_sound and last_sound else None
    filed = plain + named
    if names is not None:
        filed.append(names)
        if not born:
            filed.append(hash(("nn0", first_sound, last_sound)))
    if not looking:
        return filed, []
    initial = first_sound[:1] or None
    looked = [(key, None) for key in plain] + [(key, initial) for key in named]
    other = swapped(born)
    if other:
        if first_sound:
            looked.append((hash(("fd", first_sound[0], other)), None))
        if last_sound:
            looked.append((hash(("nym", last_sound, other.year, other.month)), initial))
    if p.last:  # first and last swapped
        last_initial = _sound(formal(p.last))[:1]
        looked += [(hash(("fd", last_initial, day)), None) for day in (born, other) if day]
        if first_sound and last_sound and born:
            looked.append((hash(("nym", _sound(p.first), born.year, born.month)), last_initial or None))
    if names is not None:
        looked.append((hash(("nn0", first_sound, last_sound)) if born else names, None))
    return filed, looked


class DuplicateIndex:
    """Records filed by blocking key; `find` compares a new record with those sharing a key with it."""

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        # A block is filed under its key's hash, and a block of one record is the record itself: at a
        # million rows the key tuples and one-record lists were most of the index. Two keys with one hash
        # (one pair in about 10^12 at a million rows) only share a block: its records are still compared.
        self.blocks: dict[int, Person | list[Person]] = {}

    def add(self, person: Person, filed: list[int] | None = None) -> None:
        """File the record (`filed`: its keys, if _keys gave them already)."""
        blocks = self.blocks
        for key in _keys(person, looking=False)[0] if filed is None else filed:
            block = blocks.get(key)
            if block is None:
                blocks[key] = person
            elif block.__class__ is list:
                block.append(person)
            else:
                blocks[key] = [block, person]

    def find(self, person: Person, looked: list[tuple[int, str | None]] | None = None) -> list[Candidate]:
        """The records that may be this one, best first (`looked`: its keys, if _keys gave them already)."""
        # Only the records found are remembered: a likely duplicate shares many blocks and is compared once,
        # while an unlikely one met again in another block (1 in 70 at 100,000 rows) costs less to compare
        # again than remembering every record met would.
        found: dict[int, Candidate] = {}  # by id(): a record of the index is one object while the index lives
        threshold = self.threshold
        dates = (person.born, swapped(person.born))
        for key, initial in _keys(person)[1] if looked is None else looked:
            block = self.blocks.get(key)
            if block is None:
                continue
            if block.__class__ is not list:
                block = (block,)
            elif len(block) > BLOCK_LIMIT:
                continue
            for other in block:
                # In a block of a surname and part of a date, a record whose first name begins with another
                # sound and that was born on none of the dates looked for is passed over: one person's two
                # records rarely differ in both, and these blocks held most of the pairs compared (at
                # 300,000 rows, 1.9 of 3.1 million). Written out here: it is asked of most records met.
                if (initial is not None and other.initial != initial and other.born not in dates) or id(other) in found:
                    continue
                score, reasons = compare(person, other, threshold)
                if score >= threshold:
                    found[id(other)] = Candidate(other, score, tuple(reasons))
        return sorted(found.values(), key=lambda c: (-c.score, c.person.key))[:SHOWN]


def _name_level(a: str, b: str, weights: dict, *, first: bool) -> str | None:
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if not (a.isalpha() and b.isalpha()) and _digits(a) != _digits(b):  # "Baby Boy 1" and "2" are twins, not a typo
        return "different"
    if first and same_name(a, b):
        return "nickname"
    similarity = JaroWinkler.similarity(a, b)
    level = "close" if similarity >= 0.92 else "near" if similarity >= 0.85 else None
    if similarity >= 0.8 and _sound(formal(a) if first else a) == _sound(formal(b) if first else b):  # short names: Pat, Pete
        level = max((level, "sounds"), key=lambda name: weights.get(name, -99) if name else -99)
    return level or "different"


def _digits(name: str) -> str:
    return "".join(ch for ch in name if ch.isdigit())


def _birth_level(a: Person, b: Person) -> str | None:
    """Dates as written YYYYMMDD: equal, day and month swapped, one digit apart (not the century or the
    decade: a parent and child differ so), the same year and month, or different."""
    x, y = a.born, b.born
    if x is None or y is None:
        return None
    if x == y:
        return "exact"
    year, month, day = x.year != y.year, x.month != y.month, x.day != y.day
    if year + month + day > 1:
        swapped = not year and (x.month, x.day) == (y.day, y.month)
        return "swapped" if swapped else "different"  # else two digits apart at least, another month
    if year:  # one digit apart only in its last digit
        return "one digit" if x.year // 10 == y.year // 10 else "different"
    p, q = (x.month, y.month) if month else (x.day, y.day)
    if p // 10 == q // 10 or p % 10 == q % 10:
        return "one digit"
    return "different" if month else "same month"


# The most the household fields, and with them the names, can add: a pair that cannot reach the threshold
# with them is left after its cheap fields (birth date, email), most pairs a block brings, and again
# after its names.
BEST_HOUSEHOLD = PHONE["exact"] + POSTAL["exact"] + STREET["close"]
BEST_REST = max(FIRST.values()) + max(LAST.values()) + BEST_HOUSEHOLD
BIRTH_SAID = {"exact": "same date of birth", "swapped": "date of birth with day and month swapped",
              "one digit": "date of birth one digit apart", "same month": "born the same month"}
EMAIL_SAID = {"exact": "same email", "same name": "same email name, another domain"}


@cache
def _bits_needed(probability: float) -> float:
    return math.log2(probability / (1 - probability)) if probability else -math.inf


def compare(a: Person, b: Person, at_least: float = 0.0) -> tuple[float, list[str]]:
    """The probability that two records are one person, and the reasons, in words; (0, []) as soon as
    it cannot reach `at_least`."""
    born = _birth_level(a, b)
    email = None
    if a.email and b.email:
        email = ("exact" if a.email == b.email else
                 "same name" if a.email.partition("@")[0] == b.email.partition("@")[0] else "different")
    bits = -PRIOR_BITS + BIRTH.get(born, 0) + EMAIL.get(email, 0)
    needed = _bits_needed(at_least)
    if bits + BEST_REST < needed:
        return 0.0, []
    first = _name_level(a.first, b.first, FIRST, first=True)
    last = _name_level(a.last, b.last, LAST, first=False)
    straight = FIRST.get(first, 0) + LAST.get(last, 0)
    crossed = False
    if straight <= 0:  # first and last swapped?
        crossed_first = _name_level(a.first, b.last, FIRST, first=True)
        crossed_last = _name_level(a.last, b.first, LAST, first=False)
        if crossed_first and crossed_last and FIRST.get(crossed_first, 0) + LAST.get(crossed_last, 0) > straight + 4:
            first, last, crossed = crossed_first, crossed_last, True
    bits += FIRST.get(first, 0) + LAST.get(last, 0)
    household = first in FIRST and FIRST[first] > 0  # household fields: only about the member the names point at
    if bits + (BEST_HOUSEHOLD if household else 0) < needed:
        return 0.0, []
    phone = postal = street = None
    if household:
        if a.phones and b.phones:
            phone = "exact" if any(p in b.phones for p in a.phones) else "different"
            bits += PHONE[phone]
        if a.postal and b.postal:
            postal = "exact" if a.postal == b.postal else "different"
            bits += POSTAL[postal]
        if a.street and b.street and JaroWinkler.similarity(a.street, b.street) >= 0.9:
            street = "exact" if a.street == b.street else "close"
            bits += STREET["close"]
    score = 1 / (1 + math.pow(2, -bits))
    if score < at_least:
        return 0.0, []
    reasons = ["first and last names swapped"] if crossed else []
    reasons += _said("first name", first) + _said("last name", last)
    reasons += [BIRTH_SAID[born]] if born in BIRTH_SAID else []
    reasons += [EMAIL_SAID[email]] if email in EMAIL_SAID else []
    reasons += ["same phone"] if phone == "exact" else []
    reasons += ["same postal code"] if postal == "exact" else []
    if street:
        reasons.append("same street address" if street == "exact" else "street address spelled alike")
    return score, reasons


def _said(what: str, level: str | None) -> list[str]:
    return {"exact": [f"same {what}"], "nickname": [f"{what} a nickname of the other"],
            "close": [f"{what} spelled alike"], "near": [f"{what} spelled a little differently"],
            "sounds": [f"{what} sounds alike"], "different": [f"{what} different"]}.get(level, [])


_PHONES = ("mobile_phone", "home_phone", "work_phone")


def row_record(row: int, values: dict) -> tuple:
    """A checked row (rules.check_cells's values) as Person's arguments, the date of birth as its day
    number (date.toordinal): what the search is sent. The preview pickles one for each row that creates,
    and a date pickles six times slower than an int (1,000 records: 1.3 ms with dates, 0.2 ms without)."""
    phones = tuple([phone for k in _PHONES if (phone := values.get(k))])
    first, last = values.get("first_name") or "", values.get("last_name") or ""
    born = values.get("date_of_birth")
    return (first, last, born.toordinal() if born else None, values.get("email_key") or "", phones,
            values.get("postal_code") or "", values.get("street_address") or "", None, row, f"{first} {last}".strip())


_day = date.fromordinal  # looked up once: `date.fromordinal` makes a bound method at every use


def person_of_record(record: tuple) -> Person:
    """A row_record as a record to compare (each field named: a starred unpacking built a list a row)."""
    first, last, born, email, phones, postal, street, participant_id, row, name = record
    return Person(first, last, _day(born) if born else None, email, phones, postal, street, participant_id, row, name)


def person_of_row(row: int, values: dict) -> Person:
    """A checked row as a record to compare."""
    return person_of_record(row_record(row, values))


def participant_person(columns: tuple) -> Person:
    """A participant, read as PERSON_COLUMNS (participant_reads), as a record to compare."""
    pid, first, last, born, email, mobile, home, work, postal, street = columns
    return Person(first or "", last or "", stored_date(born), email or "",
                  tuple(p for p in (mobile, home, work) if p), postal or "", street or "",
                  participant_id=pid, name=f"{first or ''} {last or ''}".strip())


def search_chunk(index: DuplicateIndex, records: list[tuple]) -> list[tuple[int, list[dict]]]:
    """Each record (row_record) compared with the index, then filed in it, in order: (row, candidates
    as Candidate.as_dict) for the rows that have any."""
    found = []
    for record in records:
        person = person_of_record(record)
        filed, looked = _keys(person)
        candidates = index.find(person, looked)
        index.add(person, filed)
        if candidates:
            found.append((person.row, [c.as_dict() for c in candidates]))
    return found


class HeldSearch:
    """search_chunk's candidates for a few rows that create, against the organization's participants,
    found the other way round: the rows are indexed by the keys they look in, and each participant, read
    a page at a time, is compared with the rows looking in a block it is filed under. Memory grows with
    the rows, not the participants: a monthly list of a million participants with a few new rows loaded
    them all into an index (834 MB for one new row).

    The pairs are search_chunk's: a participant and a row meet when a key one files is one the other
    looks in, with the same initial test, and a block holding more than BLOCK_LIMIT records (counting
    the earlier rows) is passed over. Each participant is `scan`ned once, then `found` gives the answer."""

    def __init__(self, records: list[tuple], threshold: float = THRESHOLD):
        self.threshold = threshold
        self.people = [person_of_record(record) for record in records]
        self.keys = [_keys(person) for person in self.people]
        self.looking: dict[int, list[tuple[int, str | None]]] = {}  # key -> (row's place, initial) looking in it
        for place, (_, looked) in enumerate(self.keys):
            for key, initial in looked:
                self.looking.setdefault(key, []).append((place, initial))
        self.dates = [(person.born, swapped(person.born)) for person in self.people]
        self.filed: dict[int, int] = {}  # key -> participants filed under it (those the rows look in)
        # row's place -> participant id -> [its Candidate, the keys it was found by]: a block can still
        # turn out too large (the earlier rows count too), and a participant found by another key stays.
        self.met: dict[int, dict[int, list]] = {}

    def scan(self, participant: Person) -> None:
        for key in _keys(participant, looking=False)[0]:
            rows = self.looking.get(key)
            if rows is None:
                continue
            count = self.filed[key] = self.filed.get(key, 0) + 1
            if count > BLOCK_LIMIT:  # passed over by every row (found() drops what it found)
                continue
            for place, initial in rows:
                if initial is not None and participant.initial != initial and participant.born not in self.dates[place]:
                    continue
                met = self.met.setdefault(place, {})
                seen = met.get(participant.participant_id)
                if seen is not None:
                    seen[1].append(key)
                    continue
                score, reasons = compare(self.people[place], participant, self.threshold)
                if score >= self.threshold:
                    met[participant.participant_id] = [Candidate(participant, score, tuple(reasons)), [key]]

    def found(self) -> list[tuple[int, list[dict]]]:
        """(row, candidates) for the rows that have any, as search_chunk gives them: each row is compared
        with the earlier rows here, its blocks sized by the participants filed in them too."""
        rows = DuplicateIndex(self.threshold)
        sizes = dict(self.filed)  # key -> records filed under it so far: the participants, then the rows
        found = []
        for place, (person, (keys, looked)) in enumerate(zip(self.people, self.keys, strict=True)):
            candidates = [candidate for candidate, by in self.met.get(place, {}).values()
                          if any(sizes.get(key, 0) <= BLOCK_LIMIT for key in by)]
            candidates += rows.find(person, [(key, initial) for key, initial in looked if sizes.get(key, 0) <= BLOCK_LIMIT])
            rows.add(person, keys)
            for key in keys:
                sizes[key] = sizes.get(key, 0) + 1
            if candidates:
                candidates.sort(key=lambda c: (-c.score, c.person.key))
                found.append((person.row, [c.as_dict() for c in candidates[:SHOWN]]))
        return found


class InlineSearch:
    """The duplicate search in this process: a chunk is searched when it is sent, against an index made
    by `index_of` on the first chunk that has rows (an all-unchanged file never loads one).

    With `hold`, the first `hold` rows that create are held instead (`take` gives None for their chunk):
    a row past them loads the index, and the held rows are searched with it; if none comes, `settle`
    searches them the other way round, against `pages` (participant_pages), as ProcessSearch does."""

    def __init__(self, index_of: Callable[[], DuplicateIndex], *, hold: int = 0, pages: Callable | None = None):
        self.index_of = index_of
        self.index: DuplicateIndex | None = None
        self.waiting: deque[list | None] = deque()
        self.hold, self.pages = hold, pages
        self.held: list[tuple] | None = [] if hold else None  # None once the index is loaded

    def send(self, records: list[tuple]) -> None:
        if self.held is not None:
            if len(self.held) + len(records) <= self.hold:
                self.held += records
                self.waiting.append(None)
                return
            records, self.held = self.held + records, None
        if records and self.index is None:
            self.index = self.index_of()
        self.waiting.append(search_chunk(self.index, records) if records else [])

    def take(self) -> list[tuple[int, list[dict]]] | None:
        """The candidates of the chunk sent longest ago and not yet taken (None: its rows are held)."""
        return self.waiting.popleft()

    def settle(self) -> list[tuple[int, list[dict]]]:
        """The held rows' candidates, once every chunk is taken."""
        held, self.held = self.held, None
        if not held:
            return []
        search = HeldSearch(held)
        for rows in self.pages():
            for columns in rows:
                search.scan(participant_person(columns))
        return search.found()
