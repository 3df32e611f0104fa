"""Review (SPEC 11): a reviewer's decisions on a Pending upload's rows, and cells fixed in place.

A decision is kept on the row (`accept` its warnings, `exclude` it from the import) or, for a warning
kind accepted as a whole, on the upload (`accepted_kinds`), so deciding 30,000 rows is one statement.
A fix keeps the cells as the reviewer wrote them beside the file's (`UploadRow.fixes`) and checks the row
again with the preview's own rules and matching; Complete Import applies the plan that check made.
Every decision and fix moves the upload's `review_revision` on: the confirmation of Complete Import
counts one revision, and a completion posted from an older one is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from app import audit
from app.importer.duplicates import InlineSearch, forget_names, person_of_row
from app.importer.earlier import EarlierRows
from app.importer.issues import ERROR, WARNING, summarise
from app.importer.lifecycle import ImportRefused
from app.importer.mapping import map_headers, mapping_of
from app.importer.matching import CREATE, ERROR_ACTION, UNCHANGED, UPDATE, Matcher, PlannedRow
from app.importer.participant_reads import nearby_index
from app.importer.reference import load_reference, participants_fingerprint
from app.importer.rules import CheckedRow, check_cells, layout
from app.models import Upload, UploadRow, User, db
from app.stored import json_text

ACCEPT, EXCLUDE, RESET = "accept", "exclude", "reset"  # reset takes a decision back ("Include again")
UPDATE_INSTEAD = "update"  # a possible duplicate: the row updates that participant (SPEC 12), decided per row
DECISIONS = (ACCEPT, EXCLUDE, RESET)
STALE = ("Participants changed since this preview was made. Show results again to see what the import "
         "will do now; decisions and fixes are made on the new results.")
NOT_PENDING = "Only a Pending upload is reviewed; this one is {label}."


@dataclass(frozen=True)
class Tally:
    """What Complete Import would do now, with the review's own counts."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0  # rows with errors that are not excluded: skipped, or they stop the import
    excluded: int = 0
    fixed: int = 0
    reviewed: int = 0  # rows with warnings accepted (row by row or by kind)
    to_review: int = 0  # rows with warnings nobody accepted yet (imported as they are)
    revision: int = 0


def not_excluded():
    return UploadRow.decision.is_null() | (UploadRow.decision != EXCLUDE)


def tally(upload: Upload) -> Tally:
    """The counts of the upload's plan as reviewed so far: two grouped queries, no row loaded."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "errors": 0, "excluded": 0, "fixed": 0, "warned": 0}
    named = {CREATE: "created", UPDATE: "updated", UNCHANGED: "unchanged", ERROR_ACTION: "errors"}
    fixed = UploadRow.fixes.is_null(False)
    query = (UploadRow.select(UploadRow.action, UploadRow.decision, UploadRow.has_warning, fixed, pw.fn.COUNT(UploadRow.id))
             .where(UploadRow.upload == upload)
             .group_by(UploadRow.action, UploadRow.decision, UploadRow.has_warning, fixed).tuples())
    for action, decision, warned, was_fixed, n in query:
        counts["fixed"] += n if was_fixed else 0
        if decision == EXCLUDE:
            counts["excluded"] += n
            continue
        counts[named[action]] += n
        if warned and action != ERROR_ACTION:
            counts["warned"] += n
    to_review = _left_to_review(upload) if counts["warned"] else 0
    warned = counts.pop("warned")
    return Tally(**counts, reviewed=warned - to_review, to_review=to_review, revision=upload.review_revision)


def _left_to_review(upload: Upload) -> int:
    """Rows with a warning of a kind not accepted for the upload, and no decision of their own."""
    waiting = [k["kind"] for k in upload.issue_summary or []
               if k["severity"] == WARNING and k["kind"] and k["kind"] not in (upload.accepted_kinds or [])]
    if not waiting:
        return 0
    any_waiting = UploadRow.has_issue_kind(waiting[0])
    for kind in waiting[1:]:
        any_waiting |= UploadRow.has_issue_kind(kind)
    return (UploadRow.select().where((UploadRow.upload == upload) & UploadRow.has_warning
                                     & (UploadRow.action != ERROR_ACTION) & UploadRow.decision.is_null() & any_waiting)
            .count())


def excluded_by_kind(upload: Upload) -> dict[str, int]:
    """Excluded rows by issue kind (for the summary): the excluded rows' kinds, read once."""
    counts: dict[str, int] = {}
    query = (UploadRow.select(UploadRow.issue_kinds)
             .where((UploadRow.upload == upload) & (UploadRow.decision == EXCLUDE) & UploadRow.issue_kinds.is_null(False)))
    for (kinds,) in query.tuples():
        for kind in {kind for _, _, kind in kinds}:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def errors_left(upload: Upload) -> int:
    """Rows with errors a completion would have to skip: those not excluded."""
    return (UploadRow.select().where((UploadRow.upload == upload) & (UploadRow.action == ERROR_ACTION) & not_excluded())
            .count())


# --- decisions -------------------------------------------------------------------------------------

def decide_rows(upload: Upload, user: User, decision: str, where, *, by: str = "row", kind: str | None = None,
                ip: str | None = None) -> int:
    """Accept, exclude or include again the upload's rows matching `where` (a row, a kind, a filter);
    how many rows changed. One statement, whatever the count."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    # A row a person pointed at a participant (update that participant instead) is decided one by one.
    chosen = (UploadRow.upload == upload) & where & (UploadRow.decision.is_null() | (UploadRow.decision != UPDATE_INSTEAD))
    if decision == ACCEPT:  # rows with errors are fixed or excluded, never accepted
        query = UploadRow.update(decision=ACCEPT).where(
            chosen & UploadRow.has_warning & (UploadRow.action != ERROR_ACTION)
            & (UploadRow.decision.is_null() | (UploadRow.decision != ACCEPT)))
    elif decision == EXCLUDE:
        query = UploadRow.update(decision=EXCLUDE).where(chosen & not_excluded())
    else:
        query = UploadRow.update(decision=None).where(chosen & UploadRow.decision.is_null(False))
    with db.atomic():
        _next_revision(upload)
        changed = query.execute()
        audit.record("review_decision", user=user, obj=upload, ip=ip,
                     details={"decision": decision, "by": by, "rows": changed, **({"kind": kind} if kind else {})})
    return changed


def decide_kind(upload: Upload, user: User, decision: str, kind: str, *, ip: str | None = None) -> int:
    """A decision for every row with an issue of `kind`: a warning kind accepted is kept on the upload
    (its rows need no statement); excluding or including again is one statement over its rows."""
    entry = next((k for k in upload.issue_summary or [] if k["kind"] == kind), None)
    if entry is None:
        raise ImportRefused("kind", "This kind of issue is not in the results. Show results again.")
    accepted = list(upload.accepted_kinds or [])
    if decision == ACCEPT:
        if entry["severity"] == ERROR:
            raise ImportRefused("kind", "A row with an error cannot be accepted: fix the cell, or exclude the rows.")
        if kind not in accepted:
            accepted.append(kind)
    elif decision == RESET and kind in accepted:
        accepted.remove(kind)
    with db.atomic():
        if accepted != (upload.accepted_kinds or []):
            upload.accepted_kinds = accepted or None
            Upload.update(accepted_kinds=upload.accepted_kinds).where(Upload.id == upload.id).execute()
        rows = entry["rows"]
        if decision != ACCEPT:
            rows = decide_rows(upload, user, decision, UploadRow.has_issue_kind(kind), by="kind", kind=kind, ip=ip)
        else:
            _next_revision(upload)
            audit.record("review_decision", user=user, obj=upload, ip=ip,
                         details={"decision": decision, "by": "kind", "rows": rows, "kind": kind})
    return rows


def _check_reviewable(upload: Upload) -> None:
    if not upload.state.is_pending:
        raise ImportRefused("status", NOT_PENDING.format(label=upload.state.label))
    if participants_fingerprint(upload.organization) != upload.fingerprint:
        raise ImportRefused("stale", STALE)


def _next_revision(upload: Upload) -> None:
    """Move the review on, refusing unless the upload is still Pending and its preview still current.
    In the decision's transaction: the conditional update orders it against a completion's claim."""
    _check_reviewable(upload)
    moved = (Upload.update(review_revision=Upload.review_revision + 1)
             .where((Upload.id == upload.id) & (Upload.status == upload.status) & Upload.processing_step.is_null())
             .execute())
    if not moved:
        fresh = Upload.get_by_id(upload.id)
        raise ImportRefused("status", NOT_PENDING.format(label=fresh.state.label))
    upload.review_revision = Upload.get_by_id(upload.id).review_revision


# --- fixes ---------------------------------------------------------------------------------------

def fix_row(upload: Upload, user: User, row_number: int, cells: dict[str, str], *, ip: str | None = None,
            today=None) -> UploadRow:
    """Set the row's cells (header as written -> text) as the reviewer wrote them and check the row again:
    the same rules, the same matching, against the participants and the upload's other rows."""
    row = UploadRow.get_or_none((UploadRow.upload == upload) & (UploadRow.row_number == row_number))
    if row is None or row.values is None and row.plan is None and row.issues is None:
        raise ImportRefused("row", f"Row {row_number} is not in this upload's results.")
    _check_reviewable(upload)
    imported = set(upload.headers or [])
    original = row.values or {}
    written = {**original, **(row.fixes or {})}
    written.update({header: text.strip() for header, text in cells.items() if header in imported})
    fixes = {h: v for h, v in written.items() if v != original.get(h, "")} or None
    forced = row.participant_id if row.decision == UPDATE_INSTEAD else None
    planned = recheck(upload, row_number, written, today=today, forced=forced)
    with db.atomic():
        _next_revision(upload)
        before = _shape(row)
        _store(row, planned, fixes)
        _recount(upload, before, _shape(row))
        audit.record("row_fixed", user=user, obj=upload, ip=ip,
                     details={"row": row_number, "cells": len(fixes or {}), "action": row.action})
    return row


def choose_duplicate(upload: Upload, user: User, row_number: int, participant_id: int | None, *,
                     ip: str | None = None, today=None) -> UploadRow:
    """A possible duplicate decided: the row updates that participant instead (one of the row's
    candidates), or, with None, creates a new one (its warning accepted)."""
    row = UploadRow.get_or_none((UploadRow.upload == upload) & (UploadRow.row_number == row_number))
    candidates = {c["participant_id"] for c in _candidates(row)} - {None}
    if row is None or (participant_id is not None and participant_id not in candidates):
        raise ImportRefused("row", "That participant is not a possible duplicate of this row. Show results again.")
    _check_reviewable(upload)
    planned = recheck(upload, row_number, written_cells(row), today=today, forced=participant_id)
    with db.atomic():
        _next_revision(upload)
        before = _shape(row)
        row.decision = UPDATE_INSTEAD if participant_id is not None else ACCEPT
        if participant_id is not None and planned.plan is not None:
            planned.plan["duplicates"] = _candidates(row)  # kept, so the choice can be taken back
        _store(row, planned, row.fixes)
        _recount(upload, before, _shape(row))
        audit.record("review_decision", user=user, obj=upload, ip=ip,
                     details={"decision": "update instead" if participant_id else "create new", "by": "row", "rows": 1})
    return row


def _candidates(row: UploadRow | None) -> list[dict]:
    return list(((row.plan or {}).get("duplicates") or [])) if row is not None else []


def written_cells(row: UploadRow) -> dict[str, str]:
    """The row's imported cells as the import now takes them: the file's, with the reviewer's fixes."""
    return {**(row.values or {}), **(row.fixes or {})}


def recheck(upload: Upload, row_number: int, written: dict[str, str], *, today=None,
            forced: int | None = None) -> PlannedRow:
    """The row as the preview would plan it with these cells (`forced`: the participant it updates)."""
    entries = upload.mapping or []
    headers = [""] * (max((e.get("index", n) for n, e in enumerate(entries)), default=-1) + 1)
    for n, entry in enumerate(entries):
        headers[entry.get("index", n)] = entry["header"]
    header_map = map_headers(headers, upload_names_group=upload.target_group_id is not None,
                             given=mapping_of(entries))
    ref = load_reference(upload.organization, upload_group_id=upload.target_group_id, today=today)
    ref.date_order = upload.date_order or ref.date_order
    cells = [written.get(header, "") if header else "" for header in headers]
    values, issues = check_cells(row_number, cells, layout(header_map.located), ref)
    matcher = Matcher(upload.organization, ref, {key: header_map.header(key) for key in header_map.fields},
                      search=_nearby_search(upload, row_number, values),
                      forced={row_number: forced} if forced else None)
    shown = json_text({h: v for h, v in written.items() if v})
    _seed_other_rows(matcher, upload, row_number, values, header_map)
    planned = matcher.match_chunk([CheckedRow(row_number, values, list(issues), shown)])[0]
    other = _other_row_of(upload, row_number, planned.participant_id)
    if other is not None:  # another row of the file updates this participant: the matcher says so
        # From the other rows only: the first pass remembered this row's own keys, which it would then repeat.
        matcher.earlier = EarlierRows()
        _seed_other_rows(matcher, upload, row_number, values, header_map)
        matcher.earlier.remember(("p", planned.participant_id), other)
        matcher.search = _nearby_search(upload, row_number, values)
        planned = matcher.match_chunk([CheckedRow(row_number, values, list(issues), shown)])[0]
    forget_names()  # as a preview does: no names stay cached in the web process
    return planned


def _nearby_search(upload: Upload, row_number: int, values: dict) -> InlineSearch:
    """A search among the participants this one row may be (not the whole organization)."""
    return InlineSearch(lambda: nearby_index(upload.organization_id, person_of_row(row_number, values)))


def _seed_other_rows(matcher: Matcher, upload: Upload, row_number: int, values: dict, header_map) -> None:
    """The upload's other rows (not excluded, without errors) that hold this row's email or Patient ID,
    so the matcher refuses a repeat as the preview does."""
    for key, header in (("email_key", header_map.header("email")), ("patient_id", header_map.header("patient_id"))):
        if key not in values or not header:
            continue
        needle = json_text(values[key])[1:-1]
        like = f"%{needle}%"
        candidates = (UploadRow.select(UploadRow.row_number, UploadRow.values, UploadRow.fixes)
                      .where((UploadRow.upload == upload) & (UploadRow.row_number != row_number)
                             & (UploadRow.action != ERROR_ACTION) & not_excluded()
                             & (pw.Expression(UploadRow.values, pw.OP.ILIKE, pw.Value(like, converter=False))
                                | pw.Expression(UploadRow.fixes, pw.OP.ILIKE, pw.Value(like, converter=False))))
                      .order_by(UploadRow.row_number))
        for other in candidates:
            cell = written_cells(other).get(header, "").strip()
            same = cell.lower() == values[key] if key == "email_key" else cell == values[key]
            if not same:
                continue
            if key == "email_key":
                matcher.earlier.remember(("e", values[key]), other.row_number)
            else:
                matcher.earlier.remember(("i", values["id_system"], values[key]), other.row_number)


def _other_row_of(upload: Upload, row_number: int, participant_id: int | None) -> int | None:
    if participant_id is None:
        return None
    return (UploadRow.select(UploadRow.row_number)
            .where((UploadRow.upload == upload) & (UploadRow.participant == participant_id)
                   & (UploadRow.row_number != row_number) & UploadRow.action.in_([UPDATE, UNCHANGED]) & not_excluded())
            .order_by(UploadRow.row_number).scalar())


def _shape(row: UploadRow) -> tuple:
    """What the upload's counts and summary take from a row."""
    kinds = frozenset((kind, severity, column) for severity, column, kind in row.issue_kinds or [])
    return row.action, row.has_warning, kinds


def _store(row: UploadRow, p: PlannedRow, fixes: dict | None) -> None:
    row.action, row.participant = p.action, p.participant_id
    row.display_name = p.display_name[:255]
    row.changes, row.plan = p.changes or None, p.plan
    row.issues = [i.to_dict() for i in p.issues] or None
    row.issue_kinds = [[i.severity, i.column, i.kind] for i in p.issues] or None
    row.has_error = p.action == ERROR_ACTION
    row.has_warning = any(i.severity == WARNING for i in p.issues)
    row.fixes = fixes
    if row.has_error and row.decision == ACCEPT:
        row.decision = None  # an accepted warning row that now has an error waits for a new decision
    row.save()


COUNTED = {CREATE: "created_count", UPDATE: "updated_count", UNCHANGED: "unchanged_count", ERROR_ACTION: "error_count"}


def _recount(upload: Upload, before: tuple, after: tuple) -> None:
    """The upload's counts and issues by kind, moved from the row's old shape to its new one."""
    if before == after:
        return
    (old_action, old_warned, old_kinds), (new_action, new_warned, new_kinds) = before, after
    fields = {}
    for action, step in ((old_action, -1), (new_action, 1)):
        name = COUNTED[action]
        fields[name] = fields.get(name, getattr(upload, name) or 0) + step
    fields["warning_count"] = (upload.warning_count or 0) - old_warned + new_warned
    kinds = {(k["kind"], k["severity"], k["column"]): k["rows"] for k in upload.issue_summary or []}
    for kind in old_kinds - new_kinds:
        kinds[kind] = kinds.get(kind, 0) - 1
    for kind in new_kinds - old_kinds:
        kinds[kind] = kinds.get(kind, 0) + 1
    fields["issue_summary"] = summarise(kinds)
    for name, value in fields.items():
        setattr(upload, name, value)
    Upload.update(**fields).where(Upload.id == upload.id).execute()
