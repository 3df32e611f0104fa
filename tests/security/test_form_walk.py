"""Walk every form and query parameter of every page, as each role, with hostile text: never a 500,
never a write. Like the URL-map walks beside it, it finds new forms by itself."""
from __future__ import annotations

import io
import urllib.parse
from html.parser import HTMLParser

from app.models import MODELS
from tests.conftest import DEMO_EMAILS, csrf_token, sign_in
from tests.security.conftest import fill, routes

HOSTILE = {
    "nul": "Ann\x00Lee",
    "control": "Ann\x07Lee",
    "long": "x" * 100_000,
    "bidi": "\u202eeeL nnA",
    "invalid utf-8": None,  # sent as the raw percent-escape %C3%28, which is no UTF-8 at all
}
INVALID_UTF8 = "%C3%28"
ROLES = [None, "uploader", "admin", "coach"]


class Forms(HTMLParser):
    """The forms of a page: (method, action, [field names]) and the query parameter names of its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, list[str]]] = []
        self.parameters: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action") or "", []))
        elif tag in ("input", "select", "textarea", "button") and self.forms and attrs.get("name"):
            if attrs["name"] not in self.forms[-1][2]:
                self.forms[-1][2].append(attrs["name"])
        if tag == "a" and "?" in (attrs.get("href") or ""):
            self.parameters |= set(urllib.parse.parse_qs(attrs["href"].split("?", 1)[1]))


def counts() -> dict[str, int]:
    return {model._meta.table_name: model.select().count() for model in MODELS}


def body(fields: list[str], token: str, target: str, kind: str) -> bytes:
    pairs = [(name, "") for name in fields if name not in ("csrf_token", target)] + [("csrf_token", token)]
    encoded = urllib.parse.urlencode(pairs)
    value = INVALID_UTF8 if HOSTILE[kind] is None else urllib.parse.quote(HOSTILE[kind])
    return f"{encoded}&{urllib.parse.quote(target)}={value}".encode()


def test_no_hostile_text_in_any_form_or_query_parameter_answers_500_or_writes(app, url, demo_ids):
    walked: set[tuple] = set()
    requests = 0
    for role in ROLES:
        client = app.test_client()
        if role:
            sign_in(client, DEMO_EMAILS[role])
        token = csrf_token(client.get(url("auth.sign_in") if role is None else url("groups.index")))
        for rule, method in routes(app):
            if method != "GET":
                continue
            path = url(rule.endpoint, **fill(rule, demo_ids))
            page = client.get(path)
            if page.status_code != 200 or not page.mimetype == "text/html":
                continue
            parser = Forms()
            parser.feed(page.get_data(as_text=True))
            before = counts()  # what the page view itself wrote (an audit event) is not the walk's
            for name in sorted(parser.parameters) or ["filter"]:
                for kind in HOSTILE:
                    value = INVALID_UTF8 if HOSTILE[kind] is None else urllib.parse.quote(HOSTILE[kind][:2000])
                    response = client.get(f"{path}?{urllib.parse.quote(name)}={value}")
                    assert response.status_code != 500, (role, path, name, kind)
                    walked.add(("GET", rule.endpoint, name, kind))
                    requests += 1
            for form_method, action, fields in parser.forms:
                if form_method != "post":
                    continue
                for field in fields:
                    if field == "csrf_token":
                        continue
                    for kind in HOSTILE:
                        if field == "file":
                            name = ("x" * 300 + ".csv") if kind == "long" else f"{HOSTILE[kind] or chr(0xfffd)}.csv"
                            response = client.post(action or path, content_type="multipart/form-data", data={
                                "file": (io.BytesIO(b"First Name\nAnn\n"), name), "csrf_token": token})
                        else:
                            response = client.post(action or path, data=body(fields, token, field, kind),
                                                   content_type="application/x-www-form-urlencoded")
                        assert response.status_code == 400, (role, action, field, kind, response.status_code)
                        assert "Remove it and try again" in response.get_data(as_text=True) or field == "file"
                        walked.add(("POST", action, field, kind))
                        requests += 1
            assert counts() == before, (role, path)  # nothing written by any of them, not even an audit event
    posts = {(action, field) for method, action, field, _ in walked if method == "POST"}
    assert len(posts) >= 15 and len(walked) >= 150, (len(posts), len(walked))
    print(f"\nform walk: {requests} requests, {len(walked)} distinct (route or form, field, input), "
          f"{len(posts)} form fields")
