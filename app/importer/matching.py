"""Decide, for checked rows, whether each creates, updates or leaves a participant unchanged (SPEC 7)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.importer import bulk
from app.importer.columns import COLUMNS_BY_KEY, FIELDS
from app.importer.duplicates import InlineSearch, row_record
from app.importer.earlier import EarlierRows
from app.importer.issues import ERROR, WARNING, Issue
from app.importer.participant_reads import organization_index
from app.importer.rules import CheckedRow
from app.models import Participant, display_name
from app.stored import stored_date

CREATE, UPDATE, UNCHANGED, ERROR_ACTION = "create", "update", "unchanged", "error"

LOADED = [getattr(Participant, name) for name in ("id", "email_key", "primary_coach") + FIELDS]


@dataclass(slots=True)
class PlannedRow:
    row: int
    action: str
    cells: str  # JSON text, as CheckedRow's
    issues: list[Issue]
    participant_id: int | None = None
    display_name: str = ""
    changes: list = field(default_factory=list)
    plan: dict | None = None


def _name_key(first: str | None, last: str | None) -> tuple[str, str]:
    return ((first or "").casefold(), (last or "").casefold())


_LOADED_NAMES = [f.name for f in LOADED]


def _iso(value) -> str:
    """A date as the driver returns it (SQLite: ISO text; PostgreSQL: a date) as ISO text."""
    return value if value.__class__ is str else value.isoformat()


def _shown(value) -> str:
    return value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))


@dataclass(slots=True)
class Found:
    """What one chunk's rows match in the database, looked up once for the chunk."""

    holders: dict[tuple[int, str], int]  # (ID system, Patient ID) -> the participant holding it
    people: dict[int, dict]  # every candidate, loaded whole: id -> LOADED fields
    by_email: dict[str, list[int]]  # email key -> candidates
    by_birth: dict[tuple, list[int]]  # (first, last casefolded, date of birth) -> candidates
    groups: dict[int, set[int]]  # candidate -> groups
    identifier_of: dict[tuple[int, int], str]  # (candidate, ID system) -> the Patient ID it holds


class Matcher:
    """Matches chunks of rows against the organization, remembering earlier rows of the same file."""

    def __init__(self, org, ref, headers: dict[str, str], *, search=None, forced: dict[int, int] | None = None,
                 earlier: EarlierRows | None = None):
        self.org = org
        self.ref = ref
        self.headers = headers  # field key -> header as written, for messages
        # Possible duplicates (SPEC 12) among the organization's participants and the file's earlier rows
        # that create one: an InlineSearch (duplicates.py), or a ProcessSearch (search_process.py).
        self.search = search or InlineSearch(lambda: organization_index(org.id))
        self.forced = forced or {}  # row -> the participant a reviewer chose it updates instead
        self.coach_emails = {uid: email for email, (uid, _) in ref.coaches.items()}
        # The first row of the file to hold each ("i", ID system, Patient ID), ("e", email key) and
        # ("p", participant id): a later row repeating one is refused.
        self.earlier = earlier if earlier is not None else EarlierRows()
        self.held: list[PlannedRow] = []  # rows that create, waiting for the duplicate search (finish)

    def match_chunk(self, rows: list[CheckedRow]) -> list[PlannedRow]:
        return self.finish(self.start(rows))

    def start(self, rows: list[CheckedRow]) -> list[PlannedRow]:
        """The chunk planned, its rows that create sent to the duplicate search; `finish` it next (a
        preview starts the next chunk first, so a ProcessSearch searches this one meanwhile)."""
        found = look_up(self.org.id, [r for r in rows if not r.has_error],
                        {self.forced[r.row] for r in rows if r.row in self.forced})
        planned = [self._error(r) if r.has_error else self._plan(r, found) for r in rows]
        self.search.send([row_record(p.row, r.values) for r, p in zip(rows, planned, strict=True) if p.action == CREATE])
        return planned

    def finish(self, planned: list[PlannedRow]) -> list[PlannedRow]:
        """The started chunk with its possible duplicates (kept in the plan, said in a warning), and any
        rows held before it. Rows the search holds (search_process.HOLD_ROWS) wait for `settle`, or for a
        later chunk; the others are given at once."""
        found = self.search.take()
        if found is None:
            self.held += [p for p in planned if p.action == CREATE]
            return [p for p in planned if p.action != CREATE]
        planned, self.held = self.held + planned, []
        self._warn(planned, found)
        return planned

    def settle(self) -> list[PlannedRow]:
        """The rows still held, with their possible duplicates: once every chunk is finished."""
        planned, self.held = self.held, []
        if planned:
            self._warn(planned, self.search.settle())
        return planned

    @staticmethod
    def _warn(planned: list[PlannedRow], found: list[tuple[int, list[dict]]]) -> None:
        if found:
            by_row = {p.row: p for p in planned}
            for row, candidates in found:
                _warn_of_duplicates(by_row[row], candidates)

    # --- one row ---
    def _error(self, r: CheckedRow) -> PlannedRow:
        v = r.values
        return PlannedRow(r.row, ERROR_ACTION, r.cells, r.issues, display_name=display_name(v.get("first_name"), v.get("last_name")))

    def _fail(self, r: CheckedRow, refused: "_RowRefused") -> PlannedRow:
        column = self._header(refused.key) if refused.key else None
        r.issues.append(Issue(ERROR, refused.message, row=r.row, column=column, value=refused.value,
                              kind=f"{refused.key or 'row'}:{refused.what}"))
        return self._error(r)

    def _header(self, key: str) -> str:
        return self.headers.get(key) or COLUMNS_BY_KEY[key].label

    def _plan(self, r: CheckedRow, found: Found) -> PlannedRow:
        v = r.values
        names = _name_key(v.get("first_name"), v.get("last_name"))
        identifier = (v["id_system"], v["patient_id"]) if "patient_id" in v else None
        email = v.get("email_key")
        try:
            self._refuse_repeats(v, identifier, email)
            participant_id = self.forced.get(r.row) or _match(v, found, names, identifier, email)
            self._refuse_conflicts(v, found, participant_id, identifier, email)
        except _RowRefused as refused:
            return self._fail(r, refused)
        if identifier:
            self.earlier.remember(("i", *identifier), r.row)
        if email:
            self.earlier.remember(("e", email), r.row)
        if participant_id is None:
            return self._create(r, names, found)
        self.earlier.remember(("p", participant_id), r.row)
        return self._update(r, found.people[participant_id], found.groups.get(participant_id, set()), identifier,
                            found.holders)

    def _refuse_repeats(self, v: dict, identifier, email) -> None:
        """An earlier row of the file has this Patient ID or email."""
        if identifier and (earlier := self.earlier.get(("i", *identifier))) is not None:
            raise _RowRefused("repeated in the file", f'Patient ID "{identifier[1]}" is also on row {earlier}. '
                              "Each participant's Patient ID may appear once in a file.", "patient_id", identifier[1])
        if email and (earlier := self.earlier.get(("e", email))) is not None:
            raise _RowRefused("repeated in the file", f'Email "{v["email"]}" is also on row {earlier}. '
                              "Two participants cannot share an email; fix one of the rows.", "email", v["email"])

    def _refuse_conflicts(self, v: dict, found: Found, participant_id, identifier, email) -> None:
        """The row's email belongs to someone else, an earlier row is the same participant, or the
        participant holds another Patient ID of the system."""
        if email:
            others = [pid for pid in found.by_email.get(email, []) if pid != participant_id]
            if others:
                holder = found.people[others[0]]
                raise _RowRefused("held by another participant", f'Email "{v["email"]}" belongs to another participant '
                                  f'({display_name(holder["first_name"], holder["last_name"])}). '
                                  "Use this participant's own email, or leave it blank.", "email", v["email"])
        if participant_id is not None and (earlier := self.earlier.get(("p", participant_id))) is not None:
            raise _RowRefused("same participant as another row",
                              f"This row and row {earlier} are the same participant. Keep one row per participant.")
        if identifier and participant_id is not None and identifier not in found.holders:
            current = found.identifier_of.get((participant_id, identifier[0]))
            if current is not None:  # one Patient ID per system: a file never adds a second one silently
                system = self.ref.id_system_names.get(identifier[0], "Patient ID")
                raise _RowRefused("another Patient ID on file",
                                  f'This participant\'s {system} is "{current}", not "{identifier[1]}". '
                                  f'Correct the Patient ID, or leave it blank to keep "{current}".',
                                  "patient_id", identifier[1])

    def _create(self, r: CheckedRow, names, found: Found) -> PlannedRow:
        v = r.values
        # A row's values are never None (rules keep only what a cell holds): one look-up a field.
        fields = {k: x if x.__class__ is str else _shown(x) for k in FIELDS if (x := v.get(k)) is not None}
        fields.setdefault("country", self.ref.country)  # SPEC 6: Country defaults to the organization's
        if "primary_coach" in v:
            fields["primary_coach"] = v["primary_coach"]
        plan = {"fields": fields, "groups": v.get("group_ids", []),
                "identifier": [v["id_system"], v["patient_id"]] if "patient_id" in v else None}
        return PlannedRow(r.row, CREATE, r.cells, r.issues, display_name=display_name(v["first_name"], v["last_name"]), plan=plan)

    def _update(self, r: CheckedRow, person: dict, member_of: set[int], identifier, held) -> PlannedRow:
        v = r.values
        fields, changes = {}, []
        for key in FIELDS:
            if (new := v.get(key)) is not None:
                old = person[key]
                if new == old:  # most fields of most rows: the same text, or the same date
                    continue
                new = new if new.__class__ is str else _shown(new)  # mostly text already
                old = old if old.__class__ is str else _shown(old)
                if new != old:
                    fields[key] = new
                    changes.append([COLUMNS_BY_KEY[key].label, old, new])
        if "primary_coach" in v and v["primary_coach"] != person["primary_coach"]:
            fields["primary_coach"] = v["primary_coach"]
            old_coach = self.coach_emails.get(person["primary_coach"], "")
            changes.append([COLUMNS_BY_KEY["primary_coach"].label, old_coach, self.coach_emails.get(v["primary_coach"], "")])
        new_groups = [g for g in v.get("group_ids", []) if g not in member_of]
        for gid in new_groups:
            changes.append([COLUMNS_BY_KEY["group"].label, "", self.ref.group_names.get(gid, str(gid))])
        new_identifier = identifier if identifier and identifier not in held else None
        if new_identifier:
            changes.append([COLUMNS_BY_KEY["patient_id"].label, "", identifier[1]])
        old_name = display_name(person["first_name"], person["last_name"])
        new_name = display_name(fields.get("first_name", person["first_name"]), fields.get("last_name", person["last_name"]))
        if new_name != old_name:
            r.issues.append(Issue(WARNING, f'Name will change from "{old_name}" to "{new_name}".', row=r.row,
                                  kind="row:name changes"))
        if not changes:
            return PlannedRow(r.row, UNCHANGED, r.cells, r.issues, participant_id=person["id"], display_name=old_name)
        plan = {"fields": fields, "groups": new_groups, "identifier": list(new_identifier) if new_identifier else None}
        return PlannedRow(r.row, UPDATE, r.cells, r.issues, participant_id=person["id"], display_name=new_name,
                          changes=changes, plan=plan)


def _warn_of_duplicates(p: PlannedRow, candidates: list[dict]) -> None:
    """Participants and earlier rows a row that creates may be (duplicates.Candidate.as_dict, best first)."""
    p.plan["duplicates"] = candidates
    best = candidates[0]
    born = f", born {best['born']}" if best["born"] else ""
    why = ", ".join(best["reasons"][:4])
    if best["participant_id"] is not None:
        message = (f"Possible duplicate of {best['name']}{born} (score {best['score']:.2f}: {why}). "
                   "Compare them in the row's detail, then update that participant instead or create a new one.")
    else:
        message = (f"Possible duplicate of row {best['row']} ({best['name']}{born}; score {best['score']:.2f}: {why}). "
                   "If they are one person, exclude one of the rows; otherwise accept to create both.")
    p.issues.append(Issue(WARNING, message, row=p.row, kind="row:possible duplicate"))


class _RowRefused(Exception):
    """The row cannot be matched: the message says why and what to fix, in column `key`."""

    def __init__(self, what: str, message: str, key: str | None = None, value: str | None = None):
        super().__init__(message)
        self.what, self.message, self.key, self.value = what, message, key, value


def _match(v: dict, found: Found, names, identifier, email) -> int | None:
    """SPEC 7: the participant the row updates, by Patient ID, else name + email, else name + date of
    birth (for a row without email); None to create one."""
    if identifier and identifier in found.holders:
        return found.holders[identifier]
    if email:
        people = found.people
        same = [pid for pid in found.by_email.get(email, [])
                if _name_key(people[pid]["first_name"], people[pid]["last_name"]) == names]
        if len(same) > 1:
            raise _RowRefused("more than one match", f"{len(same)} participants have this name and email. "
                              "Add the Patient ID to say which one.", "email", v["email"])
        return same[0] if same else None
    same = found.by_birth.get((*names, v.get("date_of_birth")), [])
    if len(same) > 1:
        raise _RowRefused("more than one match", f"{len(same)} participants have this name and date of birth. "
                          "Add the Patient ID or email to say which one.", "date_of_birth")
    return same[0] if same else None


def look_up(org_id: int, rows: list[CheckedRow], chosen: set[int] = frozenset()) -> Found:
    """Everyone the rows could be: holders of their Patient IDs or emails, people with their name and
    date of birth, and those a reviewer chose (`chosen`); a few statements for the whole chunk."""
    wanted = {(r.values["id_system"], r.values["patient_id"]) for r in rows if "patient_id" in r.values}
    holders = {}
    if wanted:
        found = bulk.identifier_holders({s for s, _ in wanted}, {v for _, v in wanted})
        holders = {(s, v): p for s, v, p in found if (s, v) in wanted}
    emails = {r.values["email_key"] for r in rows if "email_key" in r.values}
    # Name and date of birth match only a row with no email whose Patient ID nobody holds (_match).
    by_name = [r for r in rows if "email_key" not in r.values
               and (r.values.get("id_system"), r.values.get("patient_id")) not in holders]
    # Who holds the emails is read from the index alone; in a list the organization already has, they are
    # mostly the Patient ID holders, so each person is then loaded whole once, by id.
    email_holders = bulk.email_holders(org_id, emails) if emails else []
    ids = set(holders.values()) | _same_name_and_birth(org_id, by_name) | set(chosen) | {pid for _, pid in email_holders}
    people: dict[int, dict] = {}
    by_email: dict[str, list[int]] = {}
    by_birth: dict[tuple, list[int]] = {}
    if ids:
        for values in bulk.participants_by_id(org_id, LOADED, ids):
            p = dict(zip(_LOADED_NAMES, values, strict=True))
            p["date_of_birth"] = stored_date(p["date_of_birth"])
            people[p["id"]] = p
            if p["email_key"]:
                by_email.setdefault(p["email_key"], []).append(p["id"])
            if by_name:  # asked only for these rows (_match); a list with its Patient IDs or emails has none
                by_birth.setdefault((*_name_key(p["first_name"], p["last_name"]), p["date_of_birth"]), []).append(p["id"])
    groups: dict[int, set[int]] = {}
    identifier_of: dict[tuple[int, int], str] = {}
    if people:
        for pid, gid in bulk.memberships_of(people):
            groups.setdefault(pid, set()).add(gid)
    # Read only for a row whose Patient ID nobody holds: its participant, found otherwise, may hold another
    # (_refuse_conflicts). A monthly list's Patient IDs are all held.
    if people and any(key not in holders for key in wanted):
        identifier_of = {(pid, system): value for pid, system, value in bulk.identifiers_of(people)}
    return Found(holders, people, by_email, by_birth, groups, identifier_of)


def _same_name_and_birth(org_id: int, rows: list[CheckedRow]) -> set[int]:
    """Ids of the people who have a row's name and date of birth."""
    # Names compare casefolded, which SQL does not do alike on both engines: fetch the few columns by
    # date (indexed) and compare the names here; only those people are loaded whole.
    wanted = {(*_name_key(r.values.get("first_name"), r.values.get("last_name")), r.values["date_of_birth"].isoformat())
              for r in rows if "date_of_birth" in r.values}
    if not wanted:
        return set()
    found = bulk.names_born_on(org_id, {born for _, _, born in wanted})
    return {pid for pid, first, last, born in found if (*_name_key(first, last), _iso(born)) in wanted}
