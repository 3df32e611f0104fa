"""The one place that decides between a full page and an htmx fragment."""
from __future__ import annotations

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """A real htmx swap: not a boosted navigation, not a history restore."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render_fragment(template: str, status: int = 200, /, **context):
    """A response that depends on HX-Request says so, so caches keep page and fragment apart."""
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def render_page_or_fragment(page_template: str, fragment_template: str, /, **context):
    return render_fragment(fragment_template if wants_fragment() else page_template, **context)
