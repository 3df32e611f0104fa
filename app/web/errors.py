"""One error page per status; no traceback or data, a reference id for the logs."""
from __future__ import annotations

import logging
import secrets

from flask import g, render_template
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from app.web.rendering import wants_fragment

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    403: ("Not allowed", "Your roles do not allow this. Ask your organization admin if you need access."),
    404: ("Not found", "There is nothing here, or it belongs to another organization."),
    405: ("Not allowed", "That action is not available here."),
    413: ("File too large", None),
    429: ("Too many attempts", "Too many attempts. Wait a moment and try again."),
    500: ("Something went wrong", "Roster hit an unexpected problem. Nothing was changed by the failed request."),
}


def render_error(status: int, message: str | None = None, reference: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template("error.html", title=title, message=message or default, reference=reference), status


def init_app(app):
    limit_mb = app.config["ROSTER"].MAX_UPLOAD_MB

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, "The form expired or was sent from elsewhere. Reload the page and try again.")

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error):
        return render_error(429, "Too many failed attempts from your network address. Wait a few minutes and try again.")

    @app.errorhandler(413)
    def _too_large(error):
        message = f"The file is larger than {limit_mb} MB. Split it into smaller files and upload each."
        if wants_fragment():
            # Into the upload panel's error slot, keeping the form and the list in place.
            fragment = render_template("_alert.html", message=message)
            return fragment, 413, {"HX-Retarget": "#upload-error", "HX-Reswap": "innerHTML"}
        return render_error(413, message)

    for status in (400, 403, 404, 405, 429):
        app.register_error_handler(status, lambda error, status=status: render_error(status))

    @app.errorhandler(500)
    def _server_error(error):
        return render_error(500, reference=g.get("error_reference"))


def log_exception(exc_info) -> None:
    """Flask's hook for unhandled errors: the exception type and a reference, never its message or
    traceback text, which may quote participant data (a constraint error names the values)."""
    reference = secrets.token_hex(4)
    g.error_reference = reference
    error_type, _, traceback = exc_info
    where = traceback.tb_frame.f_code.co_filename if traceback else "?"
    while traceback and traceback.tb_next:
        traceback = traceback.tb_next
        where = f"{traceback.tb_frame.f_code.co_filename}:{traceback.tb_lineno}"
    log.error("unhandled error ref=%s type=%s at %s", reference, error_type.__name__, where)
