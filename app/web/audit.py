"""The audit trail, for organization admins: filter by user, action and date; export as CSV."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import tablib
from flask import Blueprint, render_template, request, send_file
from flask_login import current_user

from app import audit
from app.importer.report import neutralise
from app.models import AuditEvent, User, db
from app.security import can_manage_organization

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 100


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filtered():
    """The organization's events matching the query string's user, action, from and to."""
    query = AuditEvent.for_org(current_user.organization)
    chosen = {"user": request.args.get("user", type=int), "action": request.args.get("action", ""),
              "from": _day("from"), "to": _day("to")}
    if chosen["user"]:
        query = query.where(AuditEvent.user == chosen["user"])
    if chosen["action"]:
        query = query.where(AuditEvent.action == chosen["action"])
    if chosen["from"]:
        query = query.where(AuditEvent.created_at >= datetime.combine(chosen["from"], datetime.min.time()))
    if chosen["to"]:
        query = query.where(AuditEvent.created_at < datetime.combine(chosen["to"] + timedelta(days=1), datetime.min.time()))
    return query, chosen


@bp.route("/")
@can_manage_organization
def index():
    query, chosen = _filtered()
    page = max(request.args.get("page", 1, type=int), 1)
    users = {u.id: u for u in User.for_org(current_user.organization)}
    actions = [a for (a,) in AuditEvent.select(AuditEvent.action).distinct().where(
        AuditEvent.organization == current_user.organization).order_by(AuditEvent.action).tuples()]
    return render_template("audit/index.html", events=query.paginate(page, PAGE_SIZE), users=users, actions=actions,
                           chosen=chosen, page=page, more=query.count() > page * PAGE_SIZE,
                           in_words=audit.in_words, details_in_words=audit.details_in_words)


@bp.route("/export.csv")
@can_manage_organization
def export():
    query, _ = _filtered()
    users = {u.id: u.email for u in User.for_org(current_user.organization)}
    sheet = tablib.Dataset(headers=["When (UTC)", "User", "Action", "Object", "Object id", "Details", "IP"])
    for event in query.iterator():
        sheet.append([neutralise(cell) for cell in (
            event.created_at.isoformat(timespec="seconds"), users.get(event.user_id, ""), event.action,
            event.object_type or "", event.object_id or "", event.details or "", event.ip or "")])
    with db.atomic():
        audit.record("audit_exported", user=current_user, ip=request.remote_addr, details={"events": len(sheet)})
    return send_file(io.BytesIO(sheet.export("csv").encode("utf-8-sig")), as_attachment=True,
                     download_name="audit-trail.csv", mimetype="text/csv")
