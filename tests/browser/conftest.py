"""Browser fixtures: the real app as subprocesses, Debian's Chromium through Playwright, and a page that fails
its test on any console error, uncaught exception or CSP violation, with a screenshot of the end state."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from .live_app import LAUNCH_ARGS, ROOT, find_chromium, start_live_app

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the `test` extra installs it
    sync_playwright = None

CHROMIUM = find_chromium()
WHY_SKIPPED = None
if sync_playwright is None:
    WHY_SKIPPED = "Playwright is not installed: run `make test` (it installs the `test` extra)."
elif CHROMIUM is None:
    WHY_SKIPPED = "no Chromium found: `sudo apt-get install -y chromium` (or set ROSTER_CHROMIUM=/path/to/chromium)."
RESULTS = ROOT / "test-results"
HERE = Path(__file__).parent

# Seen in the console before a test is written off: the same words a developer would see in DevTools.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


def pytest_collection_modifyitems(config, items):
    if not WHY_SKIPPED:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {WHY_SKIPPED}")
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if WHY_SKIPPED:
        terminalreporter.write_line(f"!!! BROWSER TESTS SKIPPED: {WHY_SKIPPED}", red=True, bold=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """One Roster (server and worker) for the session; tests keep apart by unique names in their files."""
    app = start_live_app(tmp_path_factory.mktemp("roster"))
    yield app
    app.stop()


class PageProblems:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    def __init__(self):
        self.seen: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """A problem the test itself provokes on purpose (e.g. the 401 an expired session answers)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(a.search(p) for a in self.allowed)]


def _watch(page, problems: PageProblems) -> None:
    page.on("console", lambda message: message.type == "error" and problems.seen.append(
        f"console error at {message.location.get('url', '?')}: {message.text}"))
    page.on("pageerror", lambda error: problems.seen.append(f"uncaught exception: {error}"))


def _test_file_name(request) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid.split("::", 1)[-1])


@pytest.fixture
def browser_context(browser, live_app):
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def problems():
    return PageProblems()


@pytest.fixture
def page(browser_context, problems, request):
    """A page that records every console error and CSP violation; the test fails on any it did not expect."""
    page = browser_context.new_page()
    page.add_init_script(CSP_LISTENER)
    _watch(page, problems)
    # Playwright turns file-chooser interception on without waiting for it; turned on here, well before a
    # test opens the picker, the chooser always reaches `expect_file_chooser` instead of a headless dialog.
    page.on("filechooser", lambda chooser: None)
    yield page
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    unexpected = problems.unexpected()
    if failed or unexpected:
        RESULTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=RESULTS / f"{_test_file_name(request)}.png", full_page=True)
        except Exception:  # a screenshot must never hide the real failure
            pass
    assert not unexpected, "the browser reported problems:\n" + "\n".join(unexpected)


@pytest.fixture
def tag():
    """Letters that make this test's participants and file names its own in the shared database."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)).capitalize()
