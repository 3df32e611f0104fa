"""The one place that decides between a full page and an htmx fragment."""
from __future__ import annotations

from flask import make_response, render_template, request
from markupsafe import Markup


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


def bdi(text) -> Markup:
    """Free text (a name, a file name) isolated from what surrounds it: right-to-left letters in it cannot
    reorder the text around it, so no name can be made to pass for another (a template filter)."""
    return Markup("<bdi>%s</bdi>") % ("" if text is None else text)
