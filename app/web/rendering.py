"""The one place that decides between a full page and an htmx fragment."""
from __future__ import annotations

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """A real htmx swap: not a boosted navigation, not a history restore."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render_page_or_fragment(page_template: str, fragment_template: str, /, **context):
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, **context))
    response.headers.add("Vary", "HX-Request")
    return response
