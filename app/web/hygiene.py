"""Text that comes in is checked once, before any view: form fields, query parameters, file names.

A NUL or other control character, a bidirectional override (text that can make one name look like
another), text that was not valid UTF-8, or a field longer than any real one is refused with a 400
page that names the field, before anything is read from it or written; never a 500 from the database.
"""
from __future__ import annotations

import urllib.parse

from flask import request

from app.text import describe, first_unsafe
from app.web.errors import render_error

MAX_FIELD = 10_000  # characters; the longest real field (a note, a list of emails) is far shorter
MAX_QUERY = 1_000


def init_app(app) -> None:
    app.before_request(refuse_unsafe_input)


def problem(text: str, limit: int) -> str | None:
    """What is wrong with one value, in words, or None."""
    if len(text) > limit:
        return f"is longer than {limit:,} characters"
    unsafe = first_unsafe(text)
    if unsafe:
        return f"holds {describe(unsafe)}, which Roster does not accept"
    return None


def _label(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or "A field"


def undecodable(raw: bytes) -> str | None:
    """The name of the first field of a URL-encoded string whose escapes are not UTF-8, or None.

    werkzeug keeps such an escape as its literal text ("%C3(" for %C3%28): harmless, but not what was
    sent; it is refused like the rest.
    """
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            urllib.parse.unquote_to_bytes(name.replace(b"+", b" ")).decode()
            urllib.parse.unquote_to_bytes(value.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            return urllib.parse.unquote(name.decode("latin-1"), errors="replace")
    return None


def refuse_unsafe_input():
    if request.endpoint == "static":
        return None
    raw = [(request.query_string, "parameter")]
    if request.mimetype == "application/x-www-form-urlencoded":
        raw.append((request.get_data(cache=True), "field"))
    for text, kind in raw:
        name = undecodable(text) if b"%" in text else None
        if name is not None:
            return _refuse(f'The {kind} "{_label(name)}" holds text that is not valid UTF-8. Remove it and try again.')
    checks = [(request.args, MAX_QUERY, "parameter"), (request.form, MAX_FIELD, "field")]
    for values, limit, kind in checks:
        for name, value in values.items(multi=True):
            found = problem(name, 100) or problem(value, limit)
            if found:
                return _refuse(f'The {kind} "{_label(name)}" {found}. Remove it and try again.')
    for _field, file in request.files.items(multi=True):
        found = problem(file.filename or "", 255)
        if found:
            return _refuse(f"The file's name {found}. Rename the file and upload it again.")
    return None


def _refuse(message: str):
    return render_error(400, message)
