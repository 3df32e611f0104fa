"""Review of a Pending upload's results (SPEC 11): decisions by row, kind or filter, and cells fixed in place.

A decision for a kind or a filter swaps the whole results. A row's decision swaps its line, a fix the
row's detail, and each says `review-changed` in an HX-Trigger header: the review bar and the issues by
kind listen for it and fetch themselves again, and a fixed row's line listens for its own event. Without JavaScript the same forms post and come back to the results page.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, request, url_for

from app.importer import review
from app.importer.lifecycle import ImportRefused
from app.models import Upload, UploadRow
from app.security import can_import
from app.web.importable_files import results_context, row_detail_context, rows_shown
from app.web.rendering import render_fragment, wants_fragment
from app.web.scoping import of_current_org, signed_in_user

bp = Blueprint("review", __name__, url_prefix="/importable-files/<int:upload_id>/review")

VIEW = ("filter", "kind", "page")  # the results view a form was posted from, to come back to


def _refused(upload: Upload, refusal: ImportRefused):
    """A decision refused: said in the results (a fragment swaps in the alert), nothing written."""
    if wants_fragment():  # shown above the results, whatever the form's own target was
        response = render_fragment("importable_files/_refusal.html", 409, upload=upload, refused=refusal)
        response.headers.update({"HX-Retarget": "#review-alert", "HX-Reswap": "innerHTML"})
        return response
    flash(refusal.message, "warning")
    return redirect(url_for("importable_files.results", upload_id=upload.id, **_view()))


def _view() -> dict:
    return {name: request.form.get(name) for name in VIEW if request.form.get(name)}


def _changed(response, *events: str):
    response.headers["HX-Trigger"] = json.dumps({"review-changed": True, **{event: True for event in events}})
    return response


@bp.route("/decide", methods=["POST"])
@can_import
def decide(upload_id: int):
    """decision = accept | exclude | reset, for scope = row (row), kind (of_kind) or filter (filter, kind);
    or, for a possible duplicate's row, update (participant) or create."""
    upload = of_current_org(Upload, upload_id)
    decision, scope = request.form.get("decision"), request.form.get("scope")
    duplicate = decision in ("update", "create") and scope == "row"  # a possible duplicate, decided (SPEC 12)
    if not duplicate and (decision not in review.DECISIONS or scope not in ("row", "kind", "filter")):
        abort(400)
    user, ip = signed_in_user(), request.remote_addr
    try:
        if duplicate:
            number = request.form.get("row", type=int) or abort(400)
            chosen = request.form.get("participant", type=int) if decision == "update" else None
            if decision == "update" and chosen is None:
                abort(400)
            review.choose_duplicate(upload, user, number, chosen, ip=ip)
        elif scope == "kind":
            review.decide_kind(upload, user, decision, request.form.get("of_kind", ""), ip=ip)
        elif scope == "row":
            number = request.form.get("row", type=int) or abort(400)
            review.decide_rows(upload, user, decision, UploadRow.row_number == number, ip=ip)
        else:
            _, kind, where = rows_shown(upload, request.form)
            if request.form.get("kind") and kind is None:
                abort(400)  # a kind the results do not have: nothing is decided for "every row" instead
            review.decide_rows(upload, user, decision, where, by="filter", kind=kind, ip=ip)
    except ImportRefused as refusal:
        return _refused(upload, refusal)
    if not wants_fragment():
        return redirect(url_for("importable_files.results", upload_id=upload.id, **_view()))
    if scope == "row":
        return _changed(_line(upload, number))
    # The whole results, counts and kinds included: nothing else to tell (an event would make the old
    # bar and kinds fetch themselves while they are being replaced).
    return render_fragment("importable_files/_results.html", **results_context(upload, request.form))


@bp.route("/rows/<int:row_number>/fix", methods=["POST"])
@can_import
def fix(upload_id: int, row_number: int):
    """The row's cells as the reviewer wrote them (cell-N: the upload's Nth imported column)."""
    upload = of_current_org(Upload, upload_id)
    headers = upload.headers or []
    cells = {header: request.form[f"cell-{n}"] for n, header in enumerate(headers) if f"cell-{n}" in request.form}
    try:
        review.fix_row(upload, signed_in_user(), row_number, cells, ip=request.remote_addr)
    except ImportRefused as refusal:
        return _refused(upload, refusal)
    if not wants_fragment():
        return redirect(url_for("importable_files.row_detail", upload_id=upload.id, row_number=row_number))
    response = render_fragment("importable_files/_row_detail.html", **row_detail_context(upload, row_number), fixed=True)
    return _changed(response, f"row-changed-{row_number}")


@bp.route("/rows/<int:row_number>/line")
@can_import
def line(upload_id: int, row_number: int):
    return _line(of_current_org(Upload, upload_id), row_number)


def _line(upload: Upload, row_number: int):
    row = UploadRow.get_or_none((UploadRow.upload == upload) & (UploadRow.row_number == row_number)) or abort(404)
    return render_fragment("importable_files/_result_row.html", upload=upload, row=row, participants={})


@bp.route("/<any(bar, kinds):part>")
@can_import
def part(upload_id: int, part: str):
    """The review bar or the issues by kind, fetched again when the review changed."""
    upload = of_current_org(Upload, upload_id)
    template = "importable_files/_review_bar.html" if part == "bar" else "importable_files/_issue_kinds.html"
    return render_fragment(template, **results_context(upload, request.args, rows=False))
