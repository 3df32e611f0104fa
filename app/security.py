"""Security headers, server-side session expiry, role checks and the sign-in redirect for htmx."""
from __future__ import annotations

import time
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.factory import current_config, limiter, login_manager

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

HSTS = "max-age=63072000; includeSubDomains"


def init_app(app):
    app.before_request(_expire_idle_session)
    app.after_request(_security_headers)


def sign_in_redirect(message: str):
    """Send the browser to sign-in; an htmx request gets 401 + HX-Redirect so the whole page moves."""
    target = url_for("auth.sign_in")
    flash(message, "warning")
    if request.htmx:
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@login_manager.unauthorized_handler
def _unauthorized():
    return sign_in_redirect("Please sign in to continue.")


def start_session(user) -> None:
    """A new session for a fresh sign-in: nothing carried over from before."""
    session.clear()
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now


def _expire_idle_session():
    # Health checks load no user: a browser's cookie must not make /readyz query a database that is down.
    if request.endpoint == "static" or request.blueprint == "health" or not current_user.is_authenticated:
        return None
    settings = current_config()
    now = int(time.time())
    idle = now - session.get("seen_at", 0) > settings.SESSION_IDLE_MINUTES * 60
    too_old = now - session.get("signed_in_at", 0) > settings.SESSION_MAX_HOURS * 3600
    if idle or too_old:
        logout_user()
        session.clear()
        return sign_in_redirect("Your session expired. Please sign in again.")
    session["seen_at"] = now
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if not current_config().is_development:
        # Browsers then refuse plain http for this host for two years: no cookie or page over http.
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def _failed(response) -> bool:
    return response.status_code >= 400


# Sign-in and invitation acceptance share one budget per client address; only failures spend it, so a
# clinic behind one address is not kept out by its own staff signing in.
limit_password_attempts = limiter.shared_limit(
    lambda: current_config().RATELIMIT_SIGN_IN, scope="password-attempts", methods=["POST"], deduct_when=_failed
)


def role_required(check):
    """Guard a view: `check(user)` must hold, else 403 (sign-in first if anonymous)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# One guard per right, named for what it allows.
can_import = role_required(lambda user: user.can_import)
can_complete_import = role_required(lambda user: user.can_complete_import)
can_manage_organization = role_required(lambda user: user.can_manage_organization)
can_invite_participants = role_required(lambda user: user.can_invite_participants)
