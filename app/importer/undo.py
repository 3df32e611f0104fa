"""Undo Import (SPEC 13): a completed import taken back, all or nothing, with what it will change shown first.

A participant the import created says so itself (Participant.created_by_upload); for each one it
updated, Complete Import keeps an ImportChange (keep_changes, below): the fields it changed (before and
after) and the memberships and Patient ID it added. The undo plan reads them against the participants as
they are now:
- a participant the import created is deleted, unless it was since invited or changed (then it is kept,
  and named);
- a field the import changed is put back, unless it was changed again since (the later value stays);
- the memberships and Patient IDs it added are removed (a created participant's go with it).
The confirmation shows the plan and posts its digest; the undo plans again inside its transaction and
refuses if the digest differs ("show the undo again"). The upload's claim (lifecycle.UNDO) makes it once.
"""
from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app import audit
from app.importer import bulk, lifecycle
from app.importer.columns import FIELDS
from app.importer.garbage import fewer_collections
from app.importer.lifecycle import FINISH_UNDO, UNDO, ImportRefused, Progress
from app.models import (
    ImportChange,
    Participant,
    ParticipantGroup,
    ParticipantIdentifier,
    Upload,
    User,
    db,
    lock_organization,
    utcnow,
)
from app.stored import json_text

UNDO_DAYS = 30
ALREADY_UNDONE = "This import is already undone; nothing was changed again."
STAMP = ("updated_at", "updated_by_upload")  # kept in `before` beside the fields
CHANGED = "Participants changed since this confirmation was shown. Show the undo again to see what it will do now."
PAGE = 5000  # participants a statement (SQLite takes 32,766 parameters)


@dataclass
class UndoPlan:
    delete: list[int] = field(default_factory=list)  # created by the import, untouched since
    kept: list[tuple[int, str]] = field(default_factory=list)  # created, since invited or changed: why
    restore: dict[int, dict] = field(default_factory=dict)  # participant -> field -> the value before
    kept_fields: list[tuple[int, str]] = field(default_factory=list)  # changed again since: the later value stays
    memberships: list[tuple[int, int]] = field(default_factory=list)  # (participant, group) to remove
    identifiers: list[tuple[int, int, str]] = field(default_factory=list)  # (participant, system, value) to remove
    participants: int = 0  # whose changes were read
    digest: str = ""  # of every page's part, in order (plan_undo): what the confirmation showed
    totals: dict | None = None  # the counts over every page (plan_undo), whatever of the lists it keeps

    @property
    def counts(self) -> dict:
        if self.totals is not None:
            return self.totals
        return {"deleted": len(self.delete), "restored": len(self.restore), "memberships": len(self.memberships),
                "identifiers": len(self.identifiers), "kept": len(self.kept), "fields_kept": len(self.kept_fields)}

    def part(self) -> bytes:
        """This page of the plan as the digest reads it."""
        return json_text([sorted(self.delete), sorted(self.kept), sorted((k, sorted(v.items())) for k, v in self.restore.items()),
                          sorted(self.kept_fields), sorted(self.memberships), sorted(self.identifiers)]).encode()

    def merge(self, page: "UndoPlan") -> None:
        self.participants += page.participants
        self.delete += page.delete
        self.kept += page.kept
        self.restore.update(page.restore)
        self.kept_fields += page.kept_fields
        self.memberships += page.memberships
        self.identifiers += page.identifiers


# --- what Complete Import keeps (apply._apply_batch calls these, in its transaction) ----------------

def values_before(updates, org_id: int) -> dict[int, dict]:
    """The fields the updates (apply.PlanRow) will change, as they are now, with the participant's
    last-change stamp: what an undo puts back."""
    if not updates:
        return {}
    names = ["id", *FIELDS, "primary_coach", *STAMP]
    fields = [getattr(Participant, n) for n in names]
    # The matcher's plain look-up, the dates and times read as peewee reads them: peewee's own IN list of
    # 5,000 ids, and its conversion of every value, were a quarter of a 100,000-row Complete Import (update).
    timed = bulk.date_columns(fields)
    current = {}
    for values in bulk.participants_by_id(org_id, fields, {r.participant_id for r in updates}):
        values = list(values)
        for i in timed:
            values[i] = fields[i].python_value(values[i])
        current[values[0]] = dict(zip(names[1:], values[1:], strict=True))
    return {r.participant_id: {key: _text(current[r.participant_id].get(key)) for key in (*r.plan["fields"], *STAMP)}
            for r in updates}


def keep_changes(updates, before: dict[int, dict], upload_id: int, writes) -> None:
    """One ImportChange a participant updated: its fields before and after, and what was added to it. (A
    created participant needs none: created_by_upload names it, and its memberships go with it.)"""
    fields = [ImportChange.upload, ImportChange.participant, ImportChange.before, ImportChange.after,
              ImportChange.groups, ImportChange.identifier]

    def kept(value):  # NULL for nothing, as the column's own None
        return json_text(value) if value else None

    records = [(upload_id, r.participant_id, kept(before[r.participant_id]), kept(r.plan["fields"]),
                kept(r.plan["groups"]), kept(r.plan["identifier"])) for r in updates]
    bulk.insert_rows(ImportChange, fields, records, pipeline=writes)


# --- the undo ---------------------------------------------------------------------------------------

def window_closes(upload: Upload, days: int = UNDO_DAYS):
    return upload.completed_at + timedelta(days=days) if upload.completed_at else None


def refuse_unless_undoable(upload: Upload, days: int = UNDO_DAYS) -> None:
    state = upload.state
    if state.is_undone:
        raise ImportRefused("undone", ALREADY_UNDONE)
    if not state.can_undo:
        raise ImportRefused("status", f"Only a Completed import can be undone; this one is {state.label}.")
    # Closed stays closed, whatever the window's length now; an import that changed nothing has nothing kept.
    if upload.undo_closed_at or window_closes(upload, days) < utcnow() or not _keeps_anything(upload):
        # Another undo may have finished since `upload` was read: its changes are gone because it is undone.
        if Upload.get_by_id(upload.id).state.is_undone:
            raise ImportRefused("undone", ALREADY_UNDONE)
        raise ImportRefused("window", _window_closed(days))


def _window_closed(days: int) -> str:
    return f"The undo window ({days} days after completion) has closed: what the import changed is no longer kept."


def plan_undo(upload: Upload, *, shown: int | None = None, page: int = 1) -> UndoPlan:
    """What undoing the import would do now: its counts and digest over every page, and its lists whole,
    or with `shown`, only what a confirmation page shows (the `page`th `shown` participants deleted, the
    first `shown` kept and put back): the lists of a million-row import would not fit a web process."""
    plan, tally, deleted = UndoPlan(), _Tally(), 0
    for part in tally.pages(upload):
        if shown is None:
            plan.merge(part)
            continue
        first = (page - 1) * shown - deleted  # where this page's window starts in the part's list
        plan.delete += part.delete[max(first, 0):max(first + shown, 0)]
        deleted += len(part.delete)
        plan.kept += part.kept[:shown - len(plan.kept)]
        plan.restore.update(itertools.islice(part.restore.items(), shown - len(plan.restore)))
    plan.digest, plan.totals = tally.digest(), tally.counts()
    return plan


class _Tally:
    """The digest and counts of a plan, added up as its pages go by (the confirmation's, or the undo's)."""

    def __init__(self):
        self.hash, self.added, self.participants = hashlib.sha256(), Counter(), 0

    def pages(self, upload: Upload):
        for part in planned_pages(upload):
            self.hash.update(part.part())
            self.added.update(part.counts)
            self.participants += part.participants
            yield part

    def digest(self) -> str:
        return self.hash.hexdigest()

    def counts(self) -> dict:
        return {key: self.added[key] for key in UndoPlan().counts}


def planned_pages(upload: Upload):
    """The plan a page of PAGE participants at a time: those the import created, by row, then those it
    updated, by id. The undo itself holds one page's changes and people, not the whole import's (a
    million of them took 1.7 GB)."""
    # Named tuples, not model instances: building 100,000 models was most of the plan's time.
    last = 0
    while created := list(Participant.select(*LOOKED_AT, Participant.created_by_row)
                          .where((Participant.created_by_upload == upload) & (Participant.created_by_row > last))
                          .order_by(Participant.created_by_row).limit(PAGE).namedtuples()):
        last = created[-1].created_by_row
        yield _created_page(upload, created)
    last = 0
    while changes := list(ImportChange.select(ImportChange.participant.alias("participant_id"), ImportChange.before,
                                              ImportChange.after, ImportChange.groups, ImportChange.identifier)
                          .where((ImportChange.upload == upload) & (ImportChange.participant > last))
                          .order_by(ImportChange.participant).limit(PAGE).namedtuples()):
        last = changes[-1].participant_id
        yield _updated_page(upload, changes)


def _created_page(upload: Upload, people: list) -> UndoPlan:
    plan = UndoPlan(participants=len(people))
    for person in people:
        why = _changed_since(person, upload)
        if why:
            plan.kept.append((person.id, why))
        else:
            plan.delete.append(person.id)
    return plan


def _updated_page(upload: Upload, changes: list) -> UndoPlan:
    plan = UndoPlan(participants=len(changes))
    ids = [c.participant_id for c in changes]
    people = {p.id: p for p in Participant.select(*LOOKED_AT).where(Participant.id.in_(ids)).namedtuples()}
    members = _existing(ParticipantGroup, [c.participant_id for c in changes if c.groups])
    held = _existing(ParticipantIdentifier, [c.participant_id for c in changes if c.identifier])
    for change in changes:
        person = people.get(change.participant_id)
        if person is None:
            continue
        back, stamp, changed_again = {}, {}, False
        for key, old in (change.before or {}).items():
            if key in STAMP:
                stamp[key] = old
            elif _text(getattr(person, key)) == (change.after or {}).get(key):
                back[key] = old
            else:
                plan.kept_fields.append((person.id, key))
                changed_again = True
        if back:
            untouched_since = person.updated_by_upload == upload.id and not changed_again
            plan.restore[person.id] = {**back, **(stamp if untouched_since else {})}
        plan.memberships += [(person.id, g) for g in change.groups or [] if (person.id, g) in members]
        if change.identifier and (person.id, *change.identifier) in held:
            plan.identifiers.append((person.id, *change.identifier))
    return plan


def _kept(upload: Upload) -> tuple:
    """The participants the undo reads: those the import created, and the changes it kept of those it updated."""
    return (Participant.select().where(Participant.created_by_upload == upload),
            ImportChange.select().where(ImportChange.upload == upload))


def _keeps_anything(upload: Upload) -> bool:
    """Whether the undo has anyone to read (changes_kept, without counting a million of them)."""
    return any(query.exists() for query in _kept(upload))


def changes_kept(upload: Upload) -> int:
    """How many participants the undo reads."""
    return sum(query.count() for query in _kept(upload))


def _existing(model, participant_ids: list[int]) -> set[tuple]:
    """The memberships or Patient IDs these participants hold (a page's: one statement)."""
    if not participant_ids:
        return set()
    if model is ParticipantGroup:
        query = model.select(model.participant, model.group).where(model.participant.in_(participant_ids))
    else:
        query = model.select(model.participant, model.system, model.value).where(model.participant.in_(participant_ids))
    return set(query.tuples())


LOOKED_AT = [Participant.id, Participant.status, Participant.invited_at, Participant.updated_at,
             Participant.updated_by_upload, Participant.primary_coach, *(getattr(Participant, key) for key in FIELDS)]


def _changed_since(person, upload: Upload) -> str | None:
    if person.status != "not_invited" or person.invited_at is not None:
        return "invited since the import"
    if person.updated_at and upload.completed_at and person.updated_at > upload.completed_at:
        return "changed since the import" + (" (by a later import)" if person.updated_by_upload not in (None, upload.id) else "")
    return None


def _text(value):
    """A stored value as the changes keep it: dates and times as ISO text (date covers datetime)."""
    return value.isoformat() if isinstance(value, date) else value


@fewer_collections()
def undo_import(upload: Upload, user: User, *, digest: str | None = None, ip: str | None = None,
                days: int = UNDO_DAYS, progress: Progress | None = None) -> Upload:
    """Undo the import in one transaction, once; `digest` is the plan the person confirmed (None: as it is
    now). A Completed upload is undone here (lifecycle.UNDO); one a worker claimed, by it (FINISH_UNDO)."""
    by_worker = upload.state.is_undoing
    if not by_worker:
        refuse_unless_undoable(upload, days)
    with lifecycle.transaction(upload):
        now = utcnow()
        if not lifecycle.claim(upload, FINISH_UNDO if by_worker else UNDO, undone_at=now, undone_by=user, refusal=None):
            raise ImportRefused("undone", ALREADY_UNDONE)
        lock_organization(upload.organization_id)  # no completion or other undo writes meanwhile
        # The window may have closed since the upload was read, or since a worker's undo was queued:
        # close_windows closes only an idle Completed import, so after this claim it cannot close it.
        if Upload.get_by_id(upload.id).undo_closed_at:
            raise ImportRefused("window", _window_closed(days))
        # Planned and put back a page at a time; a plan that is not the one confirmed rolls it all back.
        tally, total = _Tally(), changes_kept(upload)
        for page in tally.pages(upload):
            _apply(page)
            if progress:
                progress(tally.participants, total)
        if digest is not None and tally.digest() != digest:
            raise ImportRefused("changed", CHANGED)
        counts = tally.counts()
        ImportChange.delete().where(ImportChange.upload == upload).execute()
        Upload.update(undo_counts=counts).where(Upload.id == upload.id).execute()
        audit.record("undo_import", user=user, obj=upload, ip=ip, details=counts)
    return Upload.get_by_id(upload.id)


def _apply(plan: UndoPlan) -> None:
    by_group: dict[int, list[int]] = {}
    for pid, gid in plan.memberships:
        by_group.setdefault(gid, []).append(pid)
    for gid, pids in by_group.items():
        for start in range(0, len(pids), PAGE):
            ParticipantGroup.delete().where((ParticipantGroup.group == gid)
                                            & ParticipantGroup.participant.in_(pids[start:start + PAGE])).execute()
    for pid, system, value in plan.identifiers:
        ParticipantIdentifier.delete().where((ParticipantIdentifier.participant == pid) & (ParticipantIdentifier.system == system)
                                             & (ParticipantIdentifier.value == value)).execute()
    # One UPDATE per set of fields put back (usually a handful of sets), each for all its participants.
    by_fields: dict[tuple, list[tuple]] = {}
    for pid, fields in plan.restore.items():
        values = {key: _value(key, old) for key, old in fields.items() if key in RESTORABLE}
        if "email" in values:
            values["email_key"] = values["email"].lower() if values["email"] else None
        names = tuple(sorted(values))
        by_fields.setdefault(names, []).append((pid, *(values[name] for name in names)))
    for names, rows in by_fields.items():
        bulk.update_rows(Participant, [getattr(Participant, name) for name in names], rows)
    if ids := plan.delete:
        ImportChange.delete().where(ImportChange.participant.in_(ids)).execute()  # other imports' records of them
        ParticipantGroup.delete().where(ParticipantGroup.participant.in_(ids)).execute()
        ParticipantIdentifier.delete().where(ParticipantIdentifier.participant.in_(ids)).execute()
        Participant.delete().where(Participant.id.in_(ids)).execute()


def _value(key: str, old):
    if key in ("date_of_birth", "updated_at") and old:
        return (date if key == "date_of_birth" else datetime).fromisoformat(old)
    return old


# What a restore writes: the fields, and the participant's last-change stamp as it was before the import
# (so an import undone leaves its participants as if it never ran, for a later undo's "changed since").
RESTORABLE = {*FIELDS, "primary_coach", "updated_at", "updated_by_upload"}


def close_windows(older_than_days: int = UNDO_DAYS) -> int:
    """Close the undo window of completions older than it: destroy what they kept for their undo, and mark
    the window closed, audited with how many participants the undo could still have touched; how many
    imports. Only an idle Completed import is closed (not one being undone, nor one queued for it), by
    a conditional update: an undo claims the upload first, or finds its window closed (undo_import)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    idle = lifecycle.at(lifecycle.COMPLETED) & Upload.undo_closed_at.is_null()
    closed = 0
    for upload in Upload.select().where(idle & (Upload.completed_at < cutoff)):
        with db.atomic():
            if not Upload.update(undo_closed_at=utcnow()).where(idle & (Upload.id == upload.id)).execute():
                continue  # an undo claimed it meanwhile
            participants = changes_kept(upload)
            ImportChange.delete().where(ImportChange.upload == upload).execute()
            audit.record("undo_window_closed", organization=upload.organization_id, obj=upload,
                         details={"participants": participants, "days": older_than_days})
        closed += 1
    return closed
