"""What Complete Import will save from one previewed row, field by field, beside its cells as written."""
from __future__ import annotations

from dataclasses import dataclass

from app.importer.columns import COLUMNS
from app.importer.mapping import map_headers
from app.importer.matching import CREATE, UPDATE
from app.models import Group, IdentificationSystem, Upload, UploadRow, User

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
