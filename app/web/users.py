"""Users (organization admins): roles, invitations, deactivation; and the invitation link itself."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired

from app.administration import Refused, change_roles, deactivate_user, reactivate_user
from app.factory import current_config
from app.invitations import accept_invitation as set_invited_password
from app.invitations import invite_user, open_invitation, send_invitation_again
from app.mail import mailer_for
from app.models import ROLES, User
from app.security import can_manage_organization, limit_password_attempts
from app.web.rendering import render_fragment, wants_fragment
from app.web.scoping import of_current_org, signed_in_user

bp = Blueprint("users", __name__, url_prefix="/users")


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Write the email address to invite.")])
    name = StringField("Name")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField("The same password again", validators=[DataRequired()])


def invitation_link(token: str) -> str:
    """Built on BASE_URL, never on the request's Host header, which a client controls."""
    return current_config().BASE_URL.rstrip("/") + url_for("users.accept_invitation", token=token)


def _index(form: InviteForm, chosen_roles=(), status: int = 200, error: str | None = None):
    users = User.for_org(current_user.organization)
    return render_template("users/index.html", users=users, roles=ROLES, form=form,
                           chosen_roles=set(chosen_roles), error=error), status


def _row_or_redirect(user: User, *, error: str | None = None, notice: str | None = None):
    """An htmx request gets the user's row back; a plain form post goes back to the list with a message."""
    if wants_fragment():
        return render_fragment("users/_row.html", 422 if error else 200, user=user, roles=ROLES, error=error, notice=notice)
    flash(error or notice, "danger" if error else "success")
    return redirect(url_for(".index"))


@bp.route("/")
@can_manage_organization
def index():
    return _index(InviteForm())


@bp.route("/invite", methods=["POST"])
@can_manage_organization
def invite():
    form = InviteForm()
    chosen = request.form.getlist("roles")
    if not form.validate_on_submit():
        return _index(form, chosen, 422)
    try:
        user = invite_user(current_user.organization, form.email.data, form.name.data, chosen, by=signed_in_user(),
                           mailer=mailer_for(current_config()), link_for=invitation_link,
                           hours=current_config().INVITATION_HOURS, ip=request.remote_addr)
    except Refused as refused:
        return _index(form, chosen, 422, error=refused.message)
    flash(f"Invitation sent to {user.email}. The link works once and expires in {current_config().INVITATION_HOURS} hours.",
          "success")
    return redirect(url_for(".index"))


@bp.route("/<int:user_id>/roles", methods=["POST"])
@can_manage_organization
def roles(user_id: int):
    user = of_current_org(User, user_id)
    try:
        change_roles(user, request.form.getlist("roles"), by=signed_in_user(), ip=request.remote_addr)
    except Refused as refused:
        return _row_or_redirect(user, error=refused.message)
    if user.id == current_user.id and not user.can_manage_organization:
        # Without the role this page is closed to them: move the whole page on.
        flash("You are no longer an Organization admin.", "success")
        if wants_fragment():
            response = make_response("", 200)
            response.headers["HX-Redirect"] = url_for("groups.index")
            return response
        return redirect(url_for("groups.index"))
    names = ", ".join(ROLES[r] for r in sorted(user.role_set)) or "no roles"
    return _row_or_redirect(user, notice=f"{user.name}: {names}.")


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@can_manage_organization
def deactivate(user_id: int):
    user = of_current_org(User, user_id)
    try:
        deactivate_user(user, by=signed_in_user(), ip=request.remote_addr)
    except Refused as refused:
        return _row_or_redirect(user, error=refused.message)
    return _row_or_redirect(user, notice=f"{user.name} is deactivated and signed out everywhere.")


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@can_manage_organization
def reactivate(user_id: int):
    user = of_current_org(User, user_id)
    reactivate_user(user, by=signed_in_user(), ip=request.remote_addr)
    return _row_or_redirect(user, notice=f"{user.name} is active again.")


@bp.route("/<int:user_id>/invite-again", methods=["POST"])
@can_manage_organization
def invite_again(user_id: int):
    user = of_current_org(User, user_id)
    try:
        send_invitation_again(user, by=signed_in_user(), mailer=mailer_for(current_config()), link_for=invitation_link,
                              hours=current_config().INVITATION_HOURS, ip=request.remote_addr)
    except Refused as refused:
        return _row_or_redirect(user, error=refused.message)
    return _row_or_redirect(user, notice=f"A new invitation is on its way to {user.email}; earlier links no longer work.")


@bp.route("/invitation", methods=["GET", "POST"])
@limit_password_attempts
def accept_invitation():
    """The link in the invitation email: set a password, once, before it expires."""
    token = request.values.get("token", "")
    invitation = open_invitation(token)
    if invitation is None:
        return render_template("users/invitation.html", invitation=None), 404
    form = SetPasswordForm()
    if not form.validate_on_submit():
        return render_template("users/invitation.html", invitation=invitation, form=form, token=token)
    try:
        set_invited_password(token, form.password.data, form.confirm.data, ip=request.remote_addr)
    except Refused as refused:
        return render_template("users/invitation.html", invitation=invitation, form=form, token=token,
                               error=refused.message), 422
    flash("Your password is set. Sign in with your email and new password.", "success")
    return redirect(url_for("auth.sign_in"))
