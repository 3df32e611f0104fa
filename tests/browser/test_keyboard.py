"""Keyboard only, no mouse: from sign-in to a reviewed warning list and Complete Import, focus visible throughout."""
from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .steps import EMAILS, PASSWORD, patient_file

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return {where: "nowhere (body)"};
  // A file input is out of sight; its label is what shows it has focus.
  const shown = el.type === "file" && el.labels && el.labels.length ? el.labels[0] : el;
  const box = shown.getBoundingClientRect();
  const style = getComputedStyle(shown);
  return {
    where: el.tagName.toLowerCase() + " " + JSON.stringify((el.getAttribute("aria-label") || el.innerText || el.value || "").trim().slice(0, 50)),
    text: (el.innerText || el.value || "").trim(),
    visible: box.width > 1 && box.height > 1 && style.visibility !== "hidden" && style.opacity !== "0",
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none",
    focusVisible: el.matches(":focus-visible"),
  };
}"""


def focus(page, step: str) -> dict:
    """Where focus is; fails unless it is on a visible element that shows a focus ring."""
    try:  # a swap settles a moment after its content shows; focus moves then
        page.wait_for_function("() => document.activeElement && document.activeElement !== document.body", timeout=2000)
    except PlaywrightTimeout:
        pass
    state = page.evaluate(FOCUS)
    assert state.get("visible") and state.get("ring") and state.get("focusVisible"), f"after {step}: focus is {state}"
    return state


def row_focused(page, name: str, step: str) -> dict:
    """The review row of `name` has focus (a swap moves it there a moment after the new rows show)."""
    page.wait_for_function(
        "(name) => { const el = document.activeElement; return el && el.tagName === 'TR' && el.innerText.includes(name); }",
        arg=name, timeout=5000)
    return focus(page, step)


def tab_to(page, text: str, limit: int = 40) -> None:
    """Press Tab until the focused element reads `text`, checking the focus ring on every stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focus(page, f"Tab towards {text!r}")["text"] == text:
            return
    raise AssertionError(f"{text!r} not reached with {limit} Tabs")


def test_keyboard_only_from_sign_in_to_reviewed_warnings_and_complete_import(page, tmp_path, tag):
    path = patient_file(
        tmp_path, f"keyboard-{tag}.csv",
        f"Kim,Park-{tag},1975-03-04,kim.{tag}@mail.org,,Diabetes Prevention",
        f"Lou,Reed-{tag},1960-07-08,,,Diabetes Prevention",
        f"Mo,Sato-{tag},1988-11-12,,,Diabetes Prevention",
    )
    page.goto("/sign-in")
    focus(page, "opening sign-in (Email has autofocus)")
    page.keyboard.type(EMAILS["admin"])
    page.keyboard.press("Tab")
    focus(page, "Tab to Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Groups")).to_be_visible()

    tab_to(page, "Actions")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert focus(page, "ArrowDown into the Actions menu")["text"] == "Importable Files"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Importable Files", level=1)).to_be_visible()

    for _ in range(40):  # Tab to the file picker, then Space opens it
        page.keyboard.press("Tab")
        focus(page, "Tab towards the file picker")
        if page.evaluate("document.activeElement.type") == "file":
            break
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(path)
    expect(page.get_by_text(path.name, exact=True)).to_be_visible()
    tab_to(page, "Upload and Preview")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text=path.name)).to_contain_text("Pending")
    assert focus(page, "the upload panel swapped in")["text"] == path.name, "focus lands on the new upload"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=path.name, level=1)).to_be_visible()
    tab_to(page, "Show results")
    page.keyboard.press("Enter")
    results = page.get_by_role("region", name="Results")
    expect(results).to_contain_text("3 will be created")
    row_focused(page, f"Park-{tag}", "Show results swapped in: the first row")

    page.keyboard.press("e")
    expect(results).to_contain_text("No rows for this filter")
    focus(page, "e (errors: none)")
    page.keyboard.press("w")
    expect(results.get_by_role("link", name="Warnings")).to_have_attribute("aria-current", "true")
    assert "filter=warnings" in page.url
    row_focused(page, f"Reed-{tag}", "w (warnings): the first warning row")
    page.keyboard.press("j")
    row_focused(page, f"Sato-{tag}", "j")
    page.keyboard.press("k")
    row_focused(page, f"Reed-{tag}", "k")
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Row 3: what will be saved")).to_contain_text(f"Reed-{tag}")
    focus(page, "Enter (row detail)")
    page.keyboard.press("?")
    expect(page.get_by_text("next / previous row")).to_be_visible()
    page.keyboard.press("a")
    expect(results.get_by_role("link", name="All")).to_have_attribute("aria-current", "true")
    row_focused(page, f"Park-{tag}", "a (all): the first row")

    page.keyboard.press("c")  # Complete Import sits above the results, and has its key
    expect(page.get_by_text("3 participants will be created")).to_be_visible()
    assert focus(page, "c (the confirmation)")["text"] == "Complete Import", "the confirmation's button has focus"
    page.keyboard.press("Enter")
    status = page.get_by_role("heading", name=path.name, level=1).locator("..")
    expect(status).to_contain_text("Completed by Ada Admin")
    expect(status).to_contain_text("3 created, 0 updated")
