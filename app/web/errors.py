"""One error page per status; no traceback or data, a reference id for the logs."""
from __future__ import annotations

import logging
import secrets

from flask import render_template
from flask_wtf.csrf import CSRFError

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

    @app.errorhandler(413)
    def _too_large(error):
        return render_error(413, f"The file is larger than {limit_mb} MB. Split it into smaller files and upload each.")

    for status in (400, 403, 404, 405, 429):
        app.register_error_handler(status, lambda error, status=status: render_error(status))

    @app.errorhandler(500)
    def _server_error(error):
        reference = secrets.token_hex(4)
        # The exception type only: its message may quote participant data.
        original = getattr(error, "original_exception", None)
        log.error("unhandled error ref=%s type=%s", reference, type(original).__name__)
        return render_error(500, reference=reference)
