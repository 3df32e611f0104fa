"""The watch every browser test relies on really sees CSP violations and console errors."""
from __future__ import annotations

from .steps import sign_in


def test_inline_script_is_refused_by_the_csp_and_the_watch_reports_it(page, problems):
    sign_in(page, "uploader")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.appendChild(script);
        console.error("a console error");
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected") is None, "the CSP let an inline script run"
    seen = "\n".join(problems.seen)
    assert "CSP violation: script-src" in seen and "a console error" in seen
    problems.seen.clear()
