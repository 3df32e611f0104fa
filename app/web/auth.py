"""Sign in and sign out."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app import audit
from app.accounts import authenticate
from app.factory import current_config
from app.models import db
from app.security import limit_password_attempts, start_session

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/")
def index():
    return redirect(url_for("groups.index"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limit_password_attempts
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("groups.index"))
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form)
    settings = current_config()
    with db.atomic():
        result = authenticate(
            form.email.data,
            form.password.data,
            max_failures=settings.LOCKOUT_FAILURES,
            lockout_minutes=settings.LOCKOUT_MINUTES,
        )
        audit.record(
            "sign_in" if result.ok else "sign_in_failed",
            user=result.user,
            details=None if result.ok else {"reason": result.reason},
            ip=request.remote_addr,
        )
    if result.locked_until:
        retry = result.locked_until.strftime("%H:%M UTC")
        error = f"Too many failed sign-ins. This account is locked; try again after {retry}."
        return render_template("auth/sign_in.html", form=form, error=error), 429
    if not result.ok:
        return render_template("auth/sign_in.html", form=form, error="Email or password is not right."), 401
    start_session(result.user)
    login_user(result.user)
    return redirect(url_for("groups.index"))


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    user = current_user._get_current_object()
    with db.atomic():
        user.rotate_session_token()  # a copy of the old cookie no longer signs anyone in
        audit.record("sign_out", user=user, ip=request.remote_addr)
    logout_user()
    return redirect(url_for("auth.sign_in"))
