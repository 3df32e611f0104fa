"""Groups (the Admin Dashboard) and each group's participants."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app.models import Group, GroupCoach, Participant, User

bp = Blueprint("groups", __name__, url_prefix="/groups")


def group_of_current_org(group_id: int) -> Group:
    """The group, if it belongs to the signed-in user's organization; 404 otherwise."""
    group = Group.get_or_none((Group.id == group_id) & (Group.organization == current_user.organization_id))
    if group is None:
        abort(404)
    return group


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
    return render_template("groups/index.html", groups=groups, team=team)


@bp.route("/<int:group_id>")
@login_required
def show(group_id: int):
    group = group_of_current_org(group_id)
    participants = Participant.in_group(group)
    return render_template("groups/show.html", group=group, participants=participants)
