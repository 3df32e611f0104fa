"""Operators' logs: JSON lines outside development, plain text in it; a request id on every line of a
request and in its X-Request-ID header; an access log of our own, without colour codes or query strings.

No cell value is ever logged (docs/security.md); the JSON lines add only fields named here, and an error's
type but never its message or traceback, which can quote participant data.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

ACCESS = logging.getLogger("roster.access")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its banner for terminals
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class _RequestId(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(record, "request_id", None) or _request_id() or "-"
        return not (isinstance(record.msg, str) and record.msg.endswith('"%s" %s %s'))


class _NoWerkzeugAccessLine(logging.Filter):
    """The development server's own request lines: ours replace them (its carry the query string, where an
    invitation's token travels, and colour codes)."""

    def filter(self, record):
        return not (isinstance(record.msg, str) and record.msg.endswith('"%s" %s %s'))


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record):
        return COLOUR.sub("", super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": COLOUR.sub("", record.getMessage()),
            "request_id": None if getattr(record, "request_id", "-") == "-" else record.request_id,
        }
        entry.update({name: getattr(record, name) for name in ACCESS_FIELDS if hasattr(record, name)})
        if record.exc_info and record.exc_info[0]:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner or the CLI runner may swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure(log_format: str, level: str) -> None:
    """One handler on the root logger, replacing the one an earlier app of this process set."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "roster"]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler.set_name("roster")
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # peewee logs every query with its parameters at DEBUG: those parameters are participant data.
    logging.getLogger("peewee").setLevel(max(logging.INFO, root.level))
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoWerkzeugAccessLine) for f in werkzeug.filters):
        werkzeug.addFilter(_NoWerkzeugAccessLine())


def init_app(app, trusted_proxies: int) -> None:
    """Register first, so the id is there for every later hook and error page."""

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        # Only a proxy we trust may name the request (so its log and ours share the id); from anyone
        # else the header could forge or flood the logs.
        sane = trusted_proxies and SANE_REQUEST_ID.fullmatch(incoming)
        g.request_id = incoming if sane else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _access(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        took = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1)
        ACCESS.info("%s %s %s %sms", request.method, request.path, response.status_code, took,
                    extra={"method": request.method, "path": request.path, "status": response.status_code,
                           "duration_ms": took, "request_id": request_id})
        return response
