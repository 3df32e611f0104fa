"""Importable Files: upload, Show results, Complete Import, Delete, the sample file and the issue report."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from app import audit
from app.factory import actions
from app.importer import results_pages, review, sample_file
from app.importer.apply import ImportRefused
from app.importer.columns import COLUMNS
from app.importer.mapping import header_set_key
from app.importer.report import issue_report_bytes
from app.importer.saved import duplicates_of, saved_fields
from app.models import Group, Participant, SavedMapping, Upload, UploadRow, User, db
from app.security import can_complete_import, can_import, can_manage_organization
from app.web.rendering import render_page_or_fragment, wants_fragment
from app.web.scoping import of_current_org, signed_in_user

bp = Blueprint("importable_files", __name__, url_prefix="/importable-files")


PAGE_SIZE = 50
UNDO_PAGE = 50
FILTERS = {
    "all": None,
    "errors": UploadRow.has_error == True,  # noqa: E712
    "warnings": UploadRow.has_warning == True,  # noqa: E712
    "created": UploadRow.action == "create",
    "updated": UploadRow.action == "update",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(FlaskForm):
    file = FileField("Select file from computer", validators=[FileRequired("Choose a file to upload first.")])
    group = SelectField("Import into group", coerce=int, default=0)


class CompleteForm(FlaskForm):
    skip_error_rows = BooleanField("Skip the rows with errors")
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])  # the review the confirmation counted


class DeleteForm(FlaskForm):
    pass


@bp.app_template_global()
def saved_mapping_of(upload: Upload) -> SavedMapping | None:
    """The organization's saved mapping for this upload's columns, if its preview used one."""
    if not upload.mapping or not any(entry["how"] == "saved" for entry in upload.mapping):
        return None
    key = header_set_key([entry["header"] for entry in upload.mapping])
    return SavedMapping.get_or_none((SavedMapping.organization == upload.organization_id)
                                    & (SavedMapping.header_key == key))


@bp.app_template_global()
def related_uploads(upload: Upload) -> dict:
    """The uploads a page names beside this one: the one it replaced, an earlier one of the very same file."""
    same_org = Upload.organization == upload.organization_id
    return {
        "replaces": Upload.select().where(same_org & (Upload.replaced_by == upload.id)).order_by(Upload.id).first(),
        "same_file": Upload.select().where(same_org & (Upload.sha256 == upload.sha256) & (Upload.id < upload.id))
                           .order_by(Upload.id.desc()).first(),
    }


@bp.app_template_global()
def uploads_waiting_for_completion(org) -> int:
    """Pending uploads: what waits for an Importable files admin."""
    return Upload.select().where((Upload.organization == org) & (Upload.status == "pending")).count()


@bp.app_template_global()
def upload_progress(upload: Upload) -> tuple[int, int | None]:
    return actions().progress_of(upload)


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.group.choices = [(0, "None: the file has a Group column")] + [
        (g.id, g.name) for g in Group.for_org(current_user.organization)]
    return form


def _panel(form: UploadForm, status: int = 200):
    uploads = (Upload.for_org(current_user.organization).select_extend(User.id, User.name)
               .join(User, on=(Upload.uploaded_by == User.id)).limit(100))
    return render_page_or_fragment("importable_files/index.html", "importable_files/_panel.html",
                                   form=form, uploads=uploads), status


@bp.route("/")
@can_import
def index():
    return _panel(_upload_form())


@bp.route("/", methods=["POST"])
@can_import
def upload():
    form = _upload_form()
    if not form.validate_on_submit():
        return _panel(form, 422)
    file = form.file.data
    group = Group.get_or_none((Group.id == form.group.data) & (Group.organization == current_user.organization_id))
    new = actions().upload(current_user.organization, signed_in_user(), file.filename or "upload", file.read(),
                           group=group, ip=request.remote_addr)
    if wants_fragment():
        return _panel(_upload_form())
    return redirect(url_for(".show", upload_id=new.id))


@bp.route("/sample.<any(xlsx, csv):kind>")
@can_import
def sample(kind: str):
    data = sample_file.sample_xlsx() if kind == "xlsx" else sample_file.sample_csv()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"Patient Import Sample File.{kind}",
                     mimetype=XLSX if kind == "xlsx" else "text/csv")


def rows_shown(upload: Upload, args) -> tuple[str, str | None, object]:
    """The rows a results view shows (`args`: a query string or a posted form): its filter, its kind
    (None unless one of the upload's) and the condition on UploadRow they make together."""
    chosen = args.get("filter", "all")
    if chosen not in FILTERS:
        chosen = "all"
    kind = args.get("kind") if any(entry["kind"] == args.get("kind") for entry in upload.issue_summary or []) else None
    where = UploadRow.upload == upload
    if FILTERS[chosen] is not None:
        where &= FILTERS[chosen]
    if kind:
        where &= UploadRow.has_issue_kind(kind)
    return chosen, kind, where


def results_context(upload: Upload, args, *, rows: bool = True) -> dict:
    """Show results as `args` (a query string or a posted form) chose it: filter, kind and page, the
    review's counts while Pending; `rows=False` for the parts that show no rows."""
    chosen, kind, where = rows_shown(upload, args)
    kinds = {entry["kind"]: entry for entry in upload.issue_summary or [] if entry["kind"]}
    context = {"upload": upload, "filter": chosen, "kind": kind, "kind_entry": kinds.get(kind), "filters": list(FILTERS),
               "field_labels": {column.key: column.label for column in COLUMNS}, "page": 1,
               "tally": review_tally(upload) if upload.state.is_pending else None,
               "excluded_by_kind": results_pages.remembered(upload, ("excluded by kind",),
                                                            lambda: review.excluded_by_kind(upload))}
    if rows:
        found, page, pages, total = results_pages.page_of(upload, where, (chosen, kind), args.get("page", 1, type=int),
                                                          PAGE_SIZE)
        # Once decided, a row's name is its participant's current one: the row's own copy is destroyed.
        participants = {} if upload.state.is_pending else UploadRow.participants_of(upload, found)
        context.update(rows=found, participants=participants, page=page, pages=pages, total=total)
    return context


def review_tally(upload: Upload) -> review.Tally:
    """The review bar's counts, counted once for each state of the upload's rows (results_pages)."""
    return results_pages.remembered(upload, ("tally",), lambda: review.tally(upload))


def row_detail_context(upload: Upload, row_number: int) -> dict:
    row = UploadRow.get_or_none((UploadRow.upload == upload) & (UploadRow.row_number == row_number)) or abort(404)
    return {"upload": upload, "row": row, "fields": saved_fields(upload, row),
            "participant": UploadRow.participants_of(upload, [row]).get(row.row_number),
            "column_index": {header: n for n, header in enumerate(upload.headers or [])},
            "duplicates": duplicates_of(upload, row) if upload.state.is_pending else []}


@bp.route("/<int:upload_id>")
@can_import
def show(upload_id: int):
    upload = of_current_org(Upload, upload_id)
    return render_page_or_fragment("importable_files/show.html", "importable_files/_status.html", upload=upload)


@bp.route("/<int:upload_id>/results")
@can_import
def results(upload_id: int):
    upload = of_current_org(Upload, upload_id)
    with db.atomic():
        audit.record("preview_viewed", user=current_user, obj=upload, ip=request.remote_addr,
                     details={"filter": request.args.get("filter", "all"), "page": request.args.get("page", 1, type=int)})
    context = results_context(upload, request.args)
    return render_page_or_fragment("importable_files/show.html", "importable_files/_results.html",
                                   show_results=True, **context)


@bp.route("/<int:upload_id>/rows/<int:row_number>")
@can_import
def row_detail(upload_id: int, row_number: int):
    upload = of_current_org(Upload, upload_id)
    return render_page_or_fragment("importable_files/row.html", "importable_files/_row_detail.html",
                                   **row_detail_context(upload, row_number))


@bp.route("/<int:upload_id>/issues.<any(csv, xlsx):kind>")
@can_import
def issue_report(upload_id: int, kind: str):
    upload = of_current_org(Upload, upload_id)
    if not upload.state.is_pending:
        abort(404)  # once decided, the rows' values and messages are destroyed: there is no report to give
    with db.atomic():
        audit.record("report_downloaded", user=current_user, obj=upload, ip=request.remote_addr,
                     details={"format": kind})
    data = issue_report_bytes(upload, kind)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"issues-upload-{upload.id}.{kind}",
                     mimetype=XLSX if kind == "xlsx" else "text/csv")


@bp.route("/<int:upload_id>/complete", methods=["GET", "POST"])
@can_complete_import
def complete(upload_id: int):
    upload = of_current_org(Upload, upload_id)
    form = CompleteForm()
    if not form.validate_on_submit():
        form.revision.data = upload.review_revision
        return _confirmation(upload, form)
    try:
        done = actions().complete(upload, signed_in_user(), skip_error_rows=form.skip_error_rows.data,
                                  ip=request.remote_addr, revision=form.revision.data)
    except ImportRefused as refused:
        upload = Upload.get_by_id(upload.id)
        form.revision.data = upload.review_revision  # the confirmation shown again counts the review as it is now
        return _confirmation(upload, form, refused, 409)
    if done.state.is_applying:
        flash(f"Complete Import started by {current_user.name}; this page shows its progress.", "info")
    else:
        flash(f"Completed by {current_user.name}: {done.created_count:,} created, {done.updated_count:,} updated.",
              "success")
    return redirect(url_for(".show", upload_id=upload.id))


def _confirmation(upload: Upload, form: CompleteForm, refused: ImportRefused | None = None, status: int = 200):
    """Complete Import's confirmation: what the import will do, counted from the review as it stands."""
    tally = review_tally(upload) if upload.state.can_complete else None
    return render_template("importable_files/complete.html", upload=upload, form=form, refused=refused,
                           tally=tally), status


class UndoForm(FlaskForm):
    digest = StringField(widget=HiddenInput())  # the plan the confirmation showed


@bp.route("/<int:upload_id>/undo", methods=["GET", "POST"])
@can_complete_import
def undo(upload_id: int):
    """Undo Import: what it will change, paged, then one confirmed undo (SPEC 13)."""
    upload = of_current_org(Upload, upload_id)
    form, refused, status = UndoForm(), None, 200
    if form.validate_on_submit():
        try:
            done = actions().undo(upload, signed_in_user(), digest=form.digest.data or "-", ip=request.remote_addr)
        except ImportRefused as refusal:
            refused, status, upload = refusal, 409, Upload.get_by_id(upload.id)
        else:
            flash(f"Undo Import started by {current_user.name}; this page shows its progress." if done.state.is_undoing
                  else f"Import undone by {current_user.name}.", "info" if done.state.is_undoing else "success")
            return redirect(url_for(".show", upload_id=upload.id))
    page = max(request.args.get("page", 1, type=int), 1)
    try:
        plan = actions().undo_plan(upload, shown=UNDO_PAGE, page=page)  # every count, one page of names
    except ImportRefused as refusal:
        return render_template("importable_files/undo.html", upload=upload, refused=refused or refusal, plan=None), 409
    form.digest.data = plan.digest
    shown_ids = plan.delete + [pid for pid, _ in plan.kept] + list(plan.restore)
    names = {p.id: p.display_name for p in Participant.select(Participant.id, Participant.first_name, Participant.last_name)
             .where(Participant.id.in_(shown_ids))} if shown_ids else {}
    return render_template("importable_files/undo.html", upload=upload, form=form, plan=plan, refused=refused,
                           named=plan.delete, names=names, page=page,
                           pages=max(1, -(-plan.counts["deleted"] // UNDO_PAGE)), shown=UNDO_PAGE), status


@bp.route("/<int:upload_id>/show-results-again", methods=["POST"])
@can_import
def refresh(upload_id: int):
    upload = of_current_org(Upload, upload_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        upload = actions().show_results_again(upload)
    except ImportRefused:
        return redirect(url_for(".show", upload_id=upload.id))
    # Read in the request: the new results; by a worker (or unreadable: Failed): the page with its status.
    return redirect(url_for(".results" if upload.state.is_pending else ".show", upload_id=upload.id))


@bp.route("/<int:upload_id>/mapping", methods=["GET", "POST"])
@can_import
def mapping(upload_id: int):
    """The mapping step: one line per file column, its examples and a field (SPEC 10)."""
    upload = of_current_org(Upload, upload_id)
    form, refused, status = DeleteForm(), None, 200
    if upload.mapping and (upload.state.needs_mapping or upload.state.is_pending) and form.validate_on_submit():
        chosen = {entry.get("index", n): request.form.get(f"field-{n}") or None for n, entry in enumerate(upload.mapping)}
        try:
            done = actions().confirm_mapping(upload, signed_in_user(), chosen, ip=request.remote_addr,
                                             date_order=request.form.get("date-order") or None)
        except ImportRefused as refusal:
            refused, status = refusal, 409
            upload.mapping = [{**entry, "field": chosen[entry.get("index", n)], "how": "given"}
                              for n, entry in enumerate(upload.mapping)]  # shown again as the person chose
        else:
            return redirect(url_for(".results" if done.state.is_pending else ".show", upload_id=upload.id))
    return render_template("importable_files/mapping.html", upload=upload, form=form, refused=refused,
                           examples=actions().mapping_examples(upload), fields=COLUMNS,
                           saved=saved_mapping_of(upload)), status


@bp.route("/saved-mappings")
@can_manage_organization
def saved_mappings():
    return render_template("importable_files/saved_mappings.html", form=DeleteForm(),
                           mappings=SavedMapping.for_org(current_user.organization),
                           labels={column.key: column.label for column in COLUMNS})


@bp.route("/saved-mappings/<int:mapping_id>/delete", methods=["POST"])
@can_manage_organization
def delete_saved_mapping(mapping_id: int):
    saved = of_current_org(SavedMapping, mapping_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    with db.atomic():
        saved.delete_instance()
        audit.record("mapping_deleted", user=current_user, obj=saved, ip=request.remote_addr,
                     details={"columns": len(saved.headers)})
    flash("The saved mapping is deleted; files with those columns are mapped afresh.", "success")
    return redirect(url_for(".saved_mappings"))


@bp.route("/<int:upload_id>/delete", methods=["GET", "POST"])
@can_complete_import
def delete(upload_id: int):
    upload = of_current_org(Upload, upload_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        return render_template("importable_files/delete.html", upload=upload, form=form)
    try:
        actions().delete(upload, signed_in_user(), ip=request.remote_addr)
    except ImportRefused as refused:
        return render_template("importable_files/delete.html", upload=upload, form=form, refused=refused), 409
    # Not the file name: a flash message travels in the (signed, not encrypted) session cookie.
    flash(f"Deleted upload {upload.id}: its file and preview are destroyed; the history keeps it.", "success")
    return redirect(url_for(".index"))
