"""Health checks for load balancers and orchestrators: no sign-in, no data, no versions."""
from __future__ import annotations

from flask import Blueprint, current_app

from app import readiness

bp = Blueprint("health", __name__)

TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/healthz")
def healthz():
    """The process is up and answers."""
    return "ok\n", 200, TEXT


@bp.route("/readyz")
def readyz():
    """The database answers with current migrations and the queue answers; 503 naming each failed check."""
    failed = readiness.failed_checks(current_app.extensions["roster.jobs"].huey)
    if failed:
        return "\n".join(failed) + "\n", 503, TEXT
    return "ok\n", 200, TEXT
