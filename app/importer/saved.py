"""What Complete Import will save from one previewed row, field by field, beside its cells as written."""
from __future__ import annotations

from dataclasses import dataclass

from app.importer.columns import COLUMNS, COLUMNS_BY_KEY
from app.importer.mapping import map_headers
from app.importer.matching import CREATE, UPDATE
from app.models import Group, IdentificationSystem, Participant, Upload, UploadRow, User

NOT_IMPORTED = "not imported"
NO_CHANGE = "no change"


@dataclass(frozen=True)
class SavedField:
    label: str  # the field as Roster names it
    header: str  # the column as written in the file ("" when the value comes from elsewhere)
    written: str  # the cell as written in the file
    saved: str  # what Complete Import writes: E.164 phones, ISO dates, group names, the coach's email
    fixed: str | None = None  # the cell as a reviewer fixed it, if they did
    severity: str | None = None  # the worst issue the row has in this column


def saved_fields(upload: Upload, row: UploadRow) -> list[SavedField]:
    """Each imported column of the row, and the fields its plan sets without one (the upload's group, the
    default country); empty once the upload is decided (its values are destroyed then)."""
    if row.values is None and row.plan is None:
        return []
    # The mapping the preview used (a person's choices included); an upload from before mappings were kept
    # is mapped again from its imported headers.
    header_of = ({e["field"]: e["header"] for e in upload.mapping if e["field"]} if upload.mapping else
                 {key: map_headers(upload.headers or [], upload_names_group=upload.target_group_id is not None)
                  .header(key) for key in [c.key for c in COLUMNS]})
    plan = row.plan if row.action in (CREATE, UPDATE) else None
    planned = dict(plan["fields"]) if plan else {}
    if plan:
        planned.update(_looked_up(plan))
    fixes = row.fixes or {}
    worst = {}
    for issue in row.issues or []:
        if issue.get("column") and worst.get(issue["column"]) != "error":
            worst[issue["column"]] = issue["severity"]
    shown: list[SavedField] = []
    for column in COLUMNS:
        header = header_of.get(column.key)
        written = (row.values or {}).get(header, "") if header else ""
        saved = planned.pop(column.key, None)
        if not header and saved is None:  # an imported column stays, blank or not: a reviewer may fill it in
            continue
        if saved is None:
            saved = NO_CHANGE if row.action in (UPDATE, "unchanged") and column.key != "id_system" else NOT_IMPORTED
        shown.append(SavedField(column.label, header or "", str(written), str(saved), fixes.get(header),
                                worst.get(header)))
    return shown


def _looked_up(plan: dict) -> dict[str, str]:
    """The plan's ids as a person reads them: group names, the coach's email, the ID system's name."""
    shown = {}
    if plan.get("groups"):
        names = dict(Group.select(Group.id, Group.name).where(Group.id.in_(plan["groups"])).tuples())
        shown["group"] = "; ".join(names.get(gid, "") for gid in plan["groups"])
    if plan["fields"].get("primary_coach"):
        shown["primary_coach"] = User.get_by_id(plan["fields"]["primary_coach"]).email
    if plan.get("identifier"):
        system, value = plan["identifier"]
        shown["patient_id"] = value
        shown["id_system"] = IdentificationSystem.get_by_id(system).name
    return shown


COMPARED = ("first_name", "last_name", "date_of_birth", "email", "mobile_phone", "home_phone", "work_phone",
            "street_address", "city", "postal_code")


@dataclass(frozen=True)
class Duplicate:
    """A possible duplicate of a row, side by side with it (SPEC 12): a participant, or an earlier row."""

    candidate: dict  # the plan's entry: participant_id or row, score, reasons, name, born
    fields: list[tuple[str, str, str, bool]]  # label, this row, the other, whether they differ


def duplicates_of(upload: Upload, row: UploadRow) -> list[Duplicate]:
    candidates = ((row.plan or {}).get("duplicates") or [])
    if not candidates:
        return []
    mine = (row.plan or {}).get("fields", {}) if row.action == CREATE else {}
    people = {p.id: p for p in Participant.select().where(
        (Participant.organization == upload.organization_id)
        & Participant.id.in_([c["participant_id"] for c in candidates if c.get("participant_id")]))}
    rows = {r.row_number: r for r in UploadRow.select().where(
        (UploadRow.upload == upload) & UploadRow.row_number.in_([c["row"] for c in candidates if c.get("row")]))}
    shown = []
    for candidate in candidates:
        if candidate.get("participant_id") in people:
            person = people[candidate["participant_id"]]
            theirs = {key: getattr(person, key) for key in COMPARED}
        elif candidate.get("row") in rows:
            theirs = (rows[candidate["row"]].plan or {}).get("fields", {})
        else:
            continue
        fields = []
        for key in COMPARED:
            a, b = _text(mine.get(key)), _text(theirs.get(key))
            if a or b:
                fields.append((COLUMNS_BY_KEY[key].label, a, b, a.casefold() != b.casefold()))
        shown.append(Duplicate(candidate, fields))
    return shown


def _text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else ("" if value is None else str(value))
