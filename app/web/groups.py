"""Groups (the Admin Dashboard), each group's participants and care team, and managing groups."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from app.administration import (
    Refused,
    add_coach,
    coach_candidates,
    create_group,
    delete_group,
    remove_coach,
    rename_group,
    set_group_archived,
)
from app.factory import current_config
from app.invitations import invite_participants
from app.mail import mailer_for
from app.models import Group, GroupCoach, Participant, User
from app.security import can_invite_participants, can_manage_organization
from app.web.rendering import render_fragment, render_page_or_fragment, wants_fragment
from app.web.scoping import of_current_org, signed_in_user

bp = Blueprint("groups", __name__, url_prefix="/groups")


PAGE_SIZE = 50
SHOW = {"all": "All", "without_email": "Without email"}


class NameForm(FlaskForm):
    name = StringField("Name")


@bp.route("/")
@login_required
def index():
    org = current_user.organization
    groups = list(Group.with_counts(org))
    team = {}
    for link in GroupCoach.select(GroupCoach.group, User.name).join(User).where(
        GroupCoach.group.in_([g.id for g in groups])
    ).order_by(User.name):
        team.setdefault(link.group_id, []).append(link.user.name)
    archived = (Group.select().where((Group.organization == org) & (Group.archived == True)).order_by(Group.name)  # noqa: E712
                if current_user.can_manage_organization else [])
    return render_template("groups/index.html", groups=groups, team=team, archived=archived)


@bp.route("/new", methods=["GET", "POST"])
@can_manage_organization
def new():
    form = NameForm()
    error = None
    if form.validate_on_submit():
        try:
            group = create_group(current_user.organization, form.name.data, by=signed_in_user(), ip=request.remote_addr)
        except Refused as refused:
            error = refused.message
        else:
            flash(f'Created the group "{group.name}".', "success")
            return redirect(url_for(".show", group_id=group.id))
    return render_template("groups/new.html", form=form, error=error), 422 if error else 200


def _participants_context(group: Group, *, message: str | None = None) -> dict:
    """One page of the group's participants, filtered; never the whole group at once."""
    show = request.values.get("show", "all")
    if show not in SHOW:
        show = "all"
    query = Participant.in_group(group)
    if show == "without_email":
        query = query.where(Participant.email.is_null() | (Participant.email == ""))
    total = query.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.values.get("page", 1, type=int), 1), pages)
    return {"group": group, "participants": query.paginate(page, PAGE_SIZE), "show": show, "shows": SHOW,
            "page": page, "pages": pages, "total": total, "first": (page - 1) * PAGE_SIZE + 1 if total else 0,
            "last": min(page * PAGE_SIZE, total), "message": message}


def _group_count(group: Group) -> int:
    return Participant.in_group(group).count()


@bp.route("/<int:group_id>")
@login_required
def show(group_id: int):
    group = of_current_org(Group, group_id)
    return render_page_or_fragment("groups/show.html", "groups/_participants.html", count=_group_count(group),
                                   team=group.coaches(), candidates=_candidates(group),
                                   **_participants_context(group))


@bp.route("/<int:group_id>/invite", methods=["POST"])
@can_invite_participants
def invite(group_id: int):
    group = of_current_org(Group, group_id)
    settings = current_config()
    result = invite_participants(group, request.form.getlist("participant", type=int), by=signed_in_user(),
                                 mailer=mailer_for(settings), ip=request.remote_addr)
    if wants_fragment():
        return render_fragment("groups/_participants.html", **_participants_context(group, message=result.message))
    flash(result.message, "success" if result.invited else "warning")
    return redirect(url_for(".show", group_id=group.id, show=request.form.get("show", "all"),
                            page=request.form.get("page", 1, type=int)))


# The heading: name, count, rename (inline with htmx), archive / restore / delete --------------------

def _heading(group: Group, *, form: NameForm | None = None, error: str | None = None, status: int = 200):
    return render_fragment("groups/_heading.html", status, group=group, count=_group_count(group), form=form, error=error)


@bp.route("/<int:group_id>/heading")
@login_required
def heading(group_id: int):
    """The heading as shown (htmx: Cancel of a rename); a plain visit goes to the group."""
    group = of_current_org(Group, group_id)
    if not wants_fragment():
        return redirect(url_for(".show", group_id=group.id))
    return _heading(group)


@bp.route("/<int:group_id>/rename", methods=["GET", "POST"])
@can_manage_organization
def rename(group_id: int):
    group = of_current_org(Group, group_id)
    form = NameForm(name=group.name)
    error = None
    if form.validate_on_submit():
        try:
            rename_group(group, form.name.data, by=signed_in_user(), ip=request.remote_addr)
        except Refused as refused:
            error = refused.message
        else:
            if wants_fragment():
                return _heading(group)
            flash(f'Renamed to "{group.name}".', "success")
            return redirect(url_for(".show", group_id=group.id))
    status = 422 if error else 200
    return render_page_or_fragment("groups/rename.html", "groups/_heading.html", group=group,
                                   count=_group_count(group), form=form, error=error), status


@bp.route("/<int:group_id>/archive", methods=["POST"])
@can_manage_organization
def archive(group_id: int):
    group = of_current_org(Group, group_id)
    set_group_archived(group, True, by=signed_in_user(), ip=request.remote_addr)
    flash(f'"{group.name}" is archived: imports no longer offer it or accept it. Its participants stay.', "success")
    return redirect(url_for(".show", group_id=group.id))


@bp.route("/<int:group_id>/restore", methods=["POST"])
@can_manage_organization
def restore(group_id: int):
    group = of_current_org(Group, group_id)
    set_group_archived(group, False, by=signed_in_user(), ip=request.remote_addr)
    flash(f'"{group.name}" is active again.', "success")
    return redirect(url_for(".show", group_id=group.id))


@bp.route("/<int:group_id>/delete", methods=["POST"])
@can_manage_organization
def delete(group_id: int):
    group = of_current_org(Group, group_id)
    try:
        delete_group(group, by=signed_in_user(), ip=request.remote_addr)
    except Refused as refused:
        flash(refused.message, "danger")
        return redirect(url_for(".show", group_id=group.id))
    flash(f'Deleted the empty group "{group.name}".', "success")
    return redirect(url_for(".index"))


# The care team --------------------------------------------------------------------------------------

def _candidates(group: Group):
    return list(coach_candidates(group)) if current_user.can_manage_organization else []


def _team(group: Group, *, error: str | None = None):
    if wants_fragment():
        return render_fragment("groups/_team.html", 422 if error else 200, group=group, team=group.coaches(),
                         candidates=_candidates(group), error=error)
    if error:
        flash(error, "danger")
    return redirect(url_for(".show", group_id=group.id))


@bp.route("/<int:group_id>/team", methods=["POST"])
@can_manage_organization
def add_to_team(group_id: int):
    group = of_current_org(Group, group_id)
    coach = of_current_org(User, request.form.get("user", type=int))
    try:
        add_coach(group, coach, by=signed_in_user(), ip=request.remote_addr)
    except Refused as refused:
        return _team(group, error=refused.message)
    return _team(group)


@bp.route("/<int:group_id>/team/<int:user_id>/remove", methods=["POST"])
@can_manage_organization
def remove_from_team(group_id: int, user_id: int):
    group = of_current_org(Group, group_id)
    remove_coach(group, of_current_org(User, user_id), by=signed_in_user(), ip=request.remote_addr)
    return _team(group)
