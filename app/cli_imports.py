"""Flask commands for Importable Files: preview, show, complete and delete uploads from a terminal."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import AppGroup

from app.factory import actions, current_config
from app.importer.apply import ImportRefused
from app.importer.check_process import KEPT_BYTES
from app.importer.columns import COLUMNS
from app.importer.lifecycle import PARTICIPANTS
from app.importer.sample_file import sample_csv, sample_xlsx
from app.models import Group, Organization, Upload, UploadRow, User

imports_cli = AppGroup("imports", help="Importable Files: preview, complete and delete uploads.")

PREVIEW_ISSUES = 10
SAMPLE_NAME = "Patient Import Sample File"
COUNT_FIELDS = {
    "created": "created_count", "updated": "updated_count", "unchanged": "unchanged_count",
    "errors": "error_count", "warnings": "warning_count", "blank": "blank_count",
}
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
AS_OPTION = click.option("--as", "email", default=None, help="Act as this user (email).")


def _organization(name: str) -> Organization:
    org = Organization.get_or_none(Organization.name == name)
    if org is None:
        raise click.ClickException(f'No organization named "{name}".')
    return org


def _group(org: Organization, name: str | None) -> Group | None:
    if name is None:
        return None
    group = Group.for_org(org).where(Group.name == name).first()
    if group is None:
        known = ", ".join(g.name for g in Group.for_org(org)) or "none"
        raise click.ClickException(f'No active group named "{name}" in {org.name}. Groups: {known}.')
    return group


def _first_user(org: Organization, allowed) -> User | None:
    """The org's first active user (by id) whom `allowed` accepts."""
    users = User.select().where((User.organization == org) & (User.active == True)).order_by(User.id)  # noqa: E712
    return next((user for user in users if allowed(user)), None)


def _acting_user(org: Organization, email: str | None, allowed, role_words: str) -> User:
    """The user named by --as, or the org's first suitable one; refused unless active, in the org and allowed."""
    if email is None:
        user = _first_user(org, allowed)
        if user is None:
            raise click.ClickException(f"{org.name} has no active user who is {role_words}; use --as EMAIL.")
        return user
    user = User.by_email(email)
    if user is None or user.organization_id != org.id:
        raise click.ClickException(f"No user with email {email} in {org.name}.")
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated.")
    if not allowed(user):
        raise click.ClickException(f"{user.email} is not {role_words}.")
    return user


def _importer(org: Organization, email: str | None) -> User:
    return _acting_user(org, email, lambda user: user.can_import, "an Importable files uploader or admin")


def _import_admin(org: Organization, email: str | None) -> User:
    return _acting_user(org, email, lambda user: user.can_complete_import, "an Importable files admin")


def _upload(upload_id: int) -> Upload:
    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None:
        raise click.ClickException(f"No upload with id {upload_id}.")
    return upload


def _issue(issue: dict, row_number: int | None) -> dict:
    """An issue without its cell value: the message already says what is needed."""
    return {"row": row_number, "column": issue.get("column"), "severity": issue["severity"],
            "message": issue["message"]}


def _issues(upload: Upload, limit: int | None = None) -> list[dict]:
    """File-level issues first, then row issues in row order; at most `limit` of them."""
    found = [_issue(issue, None) for issue in upload.file_issues or []]
    rows = (UploadRow.select(UploadRow.row_number, UploadRow.issues)
            .where((UploadRow.upload == upload) & UploadRow.issues.is_null(False))
            .order_by(UploadRow.row_number))
    for row in rows.iterator():
        if limit is not None and len(found) >= limit:
            break
        found += [_issue(issue, issue.get("row") or row.row_number) for issue in row.issues]
    return found if limit is None else found[:limit]


def _summary(upload: Upload) -> dict:
    labels = {column.key: column.label for column in COLUMNS}
    summary = {"id": upload.id, "status": upload.status, "ready": _exit_status(upload) == READY,
               "counts": {name: getattr(upload, field) for name, field in COUNT_FIELDS.items()},
               "columns": [{"header": e["header"], "field": labels.get(e["field"]), "how": e["how"]}
                           for e in upload.mapping or []],
               "file_issues": [{"severity": i["severity"], "message": i["message"]} for i in upload.file_issues or []]}
    if upload.state.is_failed:
        summary["failure_reason"] = upload.failure_reason
    return summary


def _echo_summary(upload: Upload) -> None:
    click.echo(f"Upload {upload.id}: {upload.state.label}")
    if upload.state.is_failed:
        click.echo(f"Failed: {upload.failure_reason}")
        return
    counts = _summary(upload)["counts"]
    counts = ", ".join(f"{name} {'-' if value is None else value}" for name, value in counts.items())
    click.echo(counts[0].upper() + counts[1:])


def _echo_issues(upload: Upload, issues: list[dict], *, limit: int | None) -> None:
    if not issues:
        return
    click.echo("Issues (row, column, severity, message):")
    for issue in issues:
        where = f"row {issue['row']}" if issue["row"] is not None else "file"
        click.echo(f"  {where}\t{issue['column'] or '-'}\t{issue['severity']}\t{issue['message']}")
    if limit is not None and len(issues) >= limit:
        click.echo(f"Only the first {limit} issues are shown; `imports show {upload.id} --issues` lists all.")


def _report(upload: Upload, *, as_json: bool, issue_limit: int | None, with_issues: bool = True) -> None:
    """Print the upload's summary and issues, as text or as one JSON object."""
    issues = _issues(upload, issue_limit) if with_issues else []
    if as_json:
        summary = _summary(upload)
        if with_issues and issue_limit is None:
            summary["issues"] = issues
        click.echo(json.dumps(summary))
        return
    _echo_summary(upload)
    _echo_issues(upload, issues, limit=issue_limit)


class ProgressBar:
    """A terminal progress bar on stderr for long work (files the web app would hand to a worker), shown
    once the total says the work is long; stdout keeps only the result (so --json parses)."""

    WIDTH = 30

    def __init__(self, words: str, total: int | None = None):
        self.words, self.total, self.shown = words, total, 0.0
        self.long = actions().in_background  # taken here: the work may report from a thread of its own

    def __call__(self, done: int, total: int | None = None, unit: str | None = None) -> None:
        total = total or self.total
        if not self.long(total):
            return
        now = time.monotonic()
        if now - self.shown < 0.2 and done != total:
            return
        self.shown = now
        what = "participants read for the duplicate search" if unit == PARTICIPANTS else f"rows {self.words}"
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // max(total, 1))
            line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,} of {total:,} {what}"
        else:
            line = f"{done:,} {what}"
        click.echo(("\r" + line) if sys.stderr.isatty() else line, err=True, nl=not sys.stderr.isatty())

    def close(self) -> None:
        if self.shown and sys.stderr.isatty():
            click.echo("", err=True)


@contextmanager
def _opened(path: Path) -> Iterator[bytes | BinaryIO]:
    """The file to upload: its bytes, or a large one open, to be kept a segment at a time (a million-row
    CSV held whole was the largest thing in the preview's process)."""
    limit_mb, size = current_config().MAX_UPLOAD_MB, path.stat().st_size
    if size > limit_mb * 1024 * 1024:
        raise click.ClickException(f"The file is larger than {limit_mb} MB.")
    if size <= KEPT_BYTES:
        yield path.read_bytes()
        return
    with path.open("rb") as source:
        yield source


# What a preview's exit status tells a script (README, "Command line").
READY, FAILED_OR_REFUSED, NEEDS_MAPPING, HAS_ERRORS = 0, 1, 2, 3


def _exit_status(upload: Upload) -> int:
    state = upload.state
    if state.needs_mapping:
        return NEEDS_MAPPING
    if not state.is_pending and not state.is_completed:
        return FAILED_OR_REFUSED
    return HAS_ERRORS if state.is_pending and (upload.has_file_errors or upload.error_count) else READY


def _chosen_fields(upload: Upload, maps: tuple[str, ...]) -> dict[int, str | None]:
    """The upload's columns as recognised, by column index, changed by each --map HEADER=FIELD; a guess
    must be named by a --map (confirmed or left out): nothing is taken from a guess unasked."""
    entries = [(entry.get("index", n), entry) for n, entry in enumerate(upload.mapping or [])]
    chosen = {index: entry["field"] for index, entry in entries}
    by_name = {name.casefold(): column.key for column in COLUMNS for name in (column.label, column.key)}
    named = set()
    for item in maps:
        header, _, field = item.partition("=")
        columns = [index for index, entry in entries if entry["header"] == header]
        if not columns:
            raise click.ClickException(f'--map "{item}": the file has no column "{header}". Its columns: '
                                       + ", ".join(f'"{entry["header"]}"' for _, entry in entries) + ".")
        if field.strip() and field.strip().casefold() not in by_name:
            raise click.ClickException(f'--map "{item}": no field "{field}". Fields: '
                                       + ", ".join(column.label for column in COLUMNS) + ".")
        for index in columns:
            chosen[index] = by_name.get(field.strip().casefold())
        named.add(header)
    guesses = [entry["header"] for _, entry in entries if entry["how"] == "suggested" and entry["header"] not in named]
    if guesses:
        raise click.ClickException("Only guessed: " + ", ".join(f'"{h}"' for h in guesses) + '. Confirm each with '
                                   '--map "HEADER=FIELD", or leave it out with --map "HEADER=".')
    return chosen


@imports_cli.command("preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_name", required=True, help="Organization name.")
@click.option("--group", "group_name", default=None, help='Import into this group (the file needs no "Group" column).')
@click.option("--map", "maps", multiple=True, metavar="HEADER=FIELD",
              help='The field of a column (a label such as "Date of Birth"); "HEADER=" leaves it out. Repeatable.')
@click.option("--save-mapping", is_flag=True, help="Save this mapping for the organization's files with these columns.")
@AS_OPTION
@JSON_OPTION
def imports_preview(file, org_name, group_name, maps, save_mapping, email, as_json):
    """Upload and Preview a file: nothing is written to participants until Complete Import."""
    org = _organization(org_name)
    group = _group(org, group_name)
    user = _importer(org, email)
    bar = ProgressBar("read")
    # Here, whatever the size: the operator watches it in the terminal (the web page sees it too). The
    # bytes are handed over, not kept: a large file is then read from the store (actions.upload).
    with _opened(file) as data:
        upload = actions().upload(org, user, file.name, data, group=group, here=True, progress=bar)
    if (maps or save_mapping) and upload.mapping and (upload.state.needs_mapping or upload.state.is_pending):
        try:
            upload = actions().confirm_mapping(upload, user, _chosen_fields(upload, maps), save=save_mapping,
                                               here=True, progress=bar)
        except ImportRefused as refusal:
            _refused(Upload.get_by_id(upload.id), refusal, as_json=as_json)
    bar.close()
    _report(upload, as_json=as_json, issue_limit=PREVIEW_ISSUES)
    if _exit_status(upload) != READY:
        raise click.exceptions.Exit(_exit_status(upload))


@imports_cli.command("show")
@click.argument("upload_id", type=int)
@click.option("--issues", "all_issues", is_flag=True, help="List every issue, not only the first ten.")
@click.option("--rows", "all_rows", is_flag=True, help="List every row: action, participant, possible duplicates, decision.")
@JSON_OPTION
def imports_show(upload_id, all_issues, all_rows, as_json):
    """Show results of an upload: status, counts and issues (and, with --rows, every row)."""
    upload = _upload(upload_id)
    if as_json and all_rows:
        summary = _summary(upload)
        summary["rows"] = list(_rows(upload))
        click.echo(json.dumps(summary))
    elif as_json:
        _report(upload, as_json=True, issue_limit=None, with_issues=all_issues)
    else:
        _report(upload, as_json=False, issue_limit=None if all_issues else PREVIEW_ISSUES)
        if all_rows:
            click.echo("Rows (row, action, participant, possible duplicates, decision):")
            for row in _rows(upload):
                duplicates = "; ".join(f"{d['participant_id'] or 'row ' + str(d['row'])} ({d['score']:.2f})"
                                       for d in row["possible_duplicates"]) or "-"
                click.echo(f"  {row['row']}\t{row['action']}\t{row['participant_id'] or '-'}\t{duplicates}\t{row['decision'] or '-'}")


def _rows(upload: Upload):
    """Every row: its action, the participant an update or unchanged row points at, its possible
    duplicates (participant, or an earlier row of the file) and the reviewer's decision. No values."""
    query = (UploadRow.select(UploadRow.row_number, UploadRow.action, UploadRow.participant, UploadRow.plan,
                              UploadRow.decision).where(UploadRow.upload == upload).order_by(UploadRow.row_number))
    for row in query.iterator():
        yield {"row": row.row_number, "action": row.action, "participant_id": row.participant_id,
               "possible_duplicates": [{"participant_id": d.get("participant_id"), "row": d.get("row"),
                                        "score": d["score"], "reasons": d["reasons"]}
                                       for d in (row.plan or {}).get("duplicates") or []],
               "decision": row.decision}


@imports_cli.command("complete")
@click.argument("upload_id", type=int)
@click.option("--skip-error-rows", is_flag=True, help="Import the other rows and skip the rows with errors.")
@AS_OPTION
@JSON_OPTION
def imports_complete(upload_id, skip_error_rows, email, as_json):
    """Complete Import: apply exactly what the preview showed, all or nothing."""
    upload = _upload(upload_id)
    user = _import_admin(upload.organization, email)
    bar = ProgressBar("written", (upload.created_count or 0) + (upload.updated_count or 0))
    try:
        upload = actions().complete(upload, user, skip_error_rows=skip_error_rows, here=True, progress=bar)
    except ImportRefused as refusal:
        _refused(Upload.get_by_id(upload.id), refusal, as_json=as_json)
    finally:
        bar.close()
    _report(upload, as_json=as_json, issue_limit=None, with_issues=False)
    if upload.skipped_count and not as_json:
        click.echo(f"Skipped {upload.skipped_count:,} rows with errors.")


def _refused(upload: Upload, refusal: ImportRefused, *, as_json: bool):
    """Say why nothing happened and exit 1; with --json the one object carries the refusal."""
    if as_json:
        click.echo(json.dumps({**_summary(upload), "refused": {"reason": refusal.reason, "message": refusal.message}}))
        raise click.exceptions.Exit(1)
    raise click.ClickException(refusal.message)


@imports_cli.command("undo")
@click.argument("upload_id", type=int)
@click.option("--yes", is_flag=True, help="Undo without asking (after showing what it will do).")
@AS_OPTION
@JSON_OPTION
def imports_undo(upload_id, yes, email, as_json):
    """Undo a completed import: show what it will change, then (with --yes, or when confirmed) do it."""
    upload = _upload(upload_id)
    user = _import_admin(upload.organization, email)
    try:
        plan = actions().undo_plan(upload, shown=0)  # the counts and digest: no list is printed
    except ImportRefused as refusal:
        _refused(upload, refusal, as_json=as_json)
    counts = plan.counts
    if not as_json:
        click.echo(f"Undo upload {upload.id}: {counts['deleted']} participant(s) deleted, {counts['restored']} put back, "
                   f"{counts['memberships']} membership(s) and {counts['identifiers']} Patient ID(s) removed; "
                   f"{counts['kept']} created since invited or changed are kept, {counts['fields_kept']} field(s) changed since keep their later value.")
    if not yes and (as_json or not click.confirm("Undo this import?", default=False)):
        if as_json:
            click.echo(json.dumps({"id": upload.id, "status": upload.status, "undo": counts, "done": False}))
        return
    try:
        done = actions().undo(upload, user, digest=plan.digest)
    except ImportRefused as refusal:
        _refused(upload, refusal, as_json=as_json)
    if as_json:
        click.echo(json.dumps({"id": done.id, "status": done.status, "undo": done.undo_counts, "done": True}))
    else:
        click.echo(f"Upload {done.id}: Undone.")


@imports_cli.command("delete")
@click.argument("upload_id", type=int)
@AS_OPTION
def imports_delete(upload_id, email):
    """Delete an upload that is not completed: its file and preview rows go, the history stays."""
    upload = _upload(upload_id)
    user = _import_admin(upload.organization, email)
    try:
        upload = actions().delete(upload, user)
    except ImportRefused as refusal:
        raise click.ClickException(refusal.message) from None
    click.echo(f"Upload {upload.id}: {upload.state.label}")


@imports_cli.command("sample-file")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def imports_sample_file(directory):
    """Write the Patient Import Sample File, as XLSX and CSV, into DIRECTORY."""
    settings = current_config()
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        directory / f"{SAMPLE_NAME}.xlsx": sample_xlsx(max_file_mb=settings.MAX_UPLOAD_MB, max_rows=settings.MAX_ROWS),
        directory / f"{SAMPLE_NAME}.csv": sample_csv(),
    }
    for path, data in files.items():
        path.write_bytes(data)
        click.echo(str(path))
