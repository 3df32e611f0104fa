"""The review of a 30,000-row list by keyboard only (SPEC 11, issue 17): one error row fixed in place, the
other error rows excluded, three kinds of warnings accepted and the import completed, keys counted; then
the participants in the database are exactly the reviewed plan."""
from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

from .live_app import ROOT
from .steps import open_importable_files, sign_in, upload_file, upload_row

ROWS = 30_000
HEADER = "First Name,Last Name,Date of Birth,Email,Patient ID,Group,State,Postal Code"
REVIEW_KEYS = 20  # the target: accept every warning kind, exclude the error rows, complete


def _row(n: int, tag: str) -> str:
    """Every 7th row has no email, every 11th an unknown state, every 13th a postal code that is no ZIP
    code (three kinds of warnings); every 97th a date that does not exist (one kind of error)."""
    born = "02/30/1980" if n % 97 == 0 else f"1970-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
    email = "" if n % 7 == 0 else f"p{n}.{tag}@mail.org"
    state = "Zz" if n % 11 == 0 else "MA"
    postal = "ABC" if n % 13 == 0 else "02134"
    return f"Pat{n},Rev-{tag},{born},{email},{tag}-{n},Hypertension,{state},{postal}"


def test_a_30000_row_review_by_keyboard_completes_exactly_the_reviewed_plan(page, tmp_path, tag, live_app):
    path = tmp_path / f"review-{tag}.csv"
    path.write_text("\n".join([HEADER, *(_row(n, tag) for n in range(ROWS))]) + "\n", encoding="utf-8")
    errors = [n for n in range(ROWS) if n % 97 == 0]
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, path)
    expect(upload_row(page, path.name)).to_contain_text("Pending", timeout=120_000)
    upload_row(page, path.name).get_by_role("link").click()
    page.get_by_role("link", name="Show results").click()
    results = page.get_by_role("region", name="Results")
    expect(results.locator("[data-review-row]").first).to_be_focused()
    kinds = results.locator("[data-kind-item]")
    expect(kinds).to_have_count(4)
    expect(kinds.nth(0)).to_contain_text(f"{len(errors):,} rows: Date of Birth not a real date")
    page.screenshot(path=ROOT / "test-results" / "review-1-summary.png")

    keys = []

    def press(key: str) -> None:
        keys.append(key)
        page.keyboard.press(key)

    # One error row fixed in place: its kind, its rows, f (focus lands in the cell with the error), a date.
    press("1")
    expect(page.locator("#kind-1")).to_be_focused()
    press("Enter")
    first_error = results.locator("[data-review-row]").first
    expect(first_error).to_contain_text("Error")
    expect(first_error).to_be_focused()
    press("f")
    date_input = page.locator("[data-row-detail] input.is-invalid")
    expect(date_input).to_be_focused()
    page.keyboard.type("1980-02-28")  # typed text, not counted as review keys
    press("Enter")
    expect(page.get_by_role("status").filter(has_text="Checked again")).to_contain_text("the row will create")
    expect(first_error).to_contain_text("Fixed")
    press("Escape")
    expect(results.locator("[data-review-row]").first).to_be_focused()
    fix_keys = len(keys)

    # The review of item 4: the remaining error rows excluded, each warning kind accepted, then complete.
    page.evaluate("() => { window.sameDocument = true; }")  # gone if a key posts a plain form (a page load)
    press("1")
    press("x")
    expect(kinds.nth(0)).to_contain_text(f"{len(errors) - 1:,} excluded")
    expect(page.locator("#kind-1")).to_be_focused()
    for n in (2, 3, 4):
        press(str(n))
        press("y")
        expect(kinds.nth(n - 1)).to_contain_text("Accepted")
        expect(page.locator(f"#kind-{n}")).to_be_focused()
    assert page.evaluate("() => window.sameDocument") is True, "a decision reloaded the page"
    bar = page.locator("#review-bar")
    expect(bar.locator('[data-count="left to review"]')).to_have_text("0")
    expect(bar.locator('[data-count="excluded"]')).to_have_text(f"{len(errors) - 1:,}")
    page.screenshot(path=ROOT / "test-results" / "review-2-decisions.png")

    press("c")
    expect(page.get_by_role("heading", name=f"Complete Import of {path.name}?")).to_be_visible()
    expected = ROWS - len(errors) + 1
    confirmation = page.get_by_role("main")
    expect(confirmation).to_contain_text(f"{expected:,} participants will be created and 0 updated")
    expect(confirmation).to_contain_text(f"{len(errors) - 1:,} rows excluded by review")
    expect(confirmation).to_contain_text("1 row imported with cells fixed in review")
    expect(confirmation).not_to_contain_text("not yet reviewed")
    expect(page.get_by_role("button", name="Complete Import")).to_be_focused()
    page.screenshot(path=ROOT / "test-results" / "review-3-confirmation.png")
    press("Enter")
    status = page.get_by_role("heading", name=path.name, level=1).locator("..")
    expect(status).to_contain_text(f"{expected:,} created, 0 updated", timeout=120_000)
    review_keys = len(keys) - fix_keys
    assert review_keys <= REVIEW_KEYS, f"the review took {review_keys} keys: {keys[fix_keys:]}"
    print(f"\nkeys: fix {fix_keys} ({keys[:fix_keys]}) + typed date; review {review_keys} ({keys[fix_keys:]})")

    with sqlite3.connect(f"file:{live_app.directory / 'roster.db'}?mode=ro", uri=True) as db:
        people = dict(db.execute("SELECT first_name, date_of_birth FROM participant WHERE last_name = ?",
                                 (f"Rev-{tag}",)).fetchall())
    assert len(people) == expected
    assert set(people) == {f"Pat{n}" for n in range(ROWS) if n % 97 or n == 0}
    assert people["Pat0"] == "1980-02-28"  # the fixed value, not the file's


def test_a_possible_duplicate_compared_side_by_side_and_updated_instead_by_keyboard(page, tmp_path, tag, live_app):
    header = "First Name,Last Name,Date of Birth,Email,Patient ID,Group"
    first = tmp_path / f"first-{tag}.csv"
    first.write_text(f"{header}\nRobert,Dup-{tag},1970-03-04,,,Hypertension\n", encoding="utf-8")
    second = tmp_path / f"second-{tag}.csv"  # a nickname, day and month swapped, an email added
    second.write_text(f"{header}\nBob,Dup-{tag},1970-04-03,bob.{tag}@mail.org,,Hypertension\n", encoding="utf-8")
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, first)
    expect(upload_row(page, first.name)).to_contain_text("Pending")
    upload_row(page, first.name).get_by_role("link").click()
    page.get_by_role("link", name="Show results").click()
    expect(page.locator("#results [data-review-row]").first).to_be_focused()
    page.keyboard.press("c")
    expect(page.get_by_role("button", name="Complete Import")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=first.name, level=1).locator("..")).to_contain_text("1 created")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Importable Files").click()
    upload_file(page, second)
    expect(upload_row(page, second.name)).to_contain_text("Pending")
    upload_row(page, second.name).get_by_role("link").click()
    page.get_by_role("link", name="Show results").click()
    results = page.get_by_role("region", name="Results")
    row = results.locator("[data-review-row]").first
    expect(row).to_be_focused()
    expect(row).to_contain_text(f"Possible duplicate of Robert Dup-{tag}, born 1970-03-04")
    page.keyboard.press("Enter")
    compared = page.get_by_role("region", name=f"Possible duplicate: Robert Dup-{tag}", exact=False)
    expect(compared).to_contain_text("date of birth with day and month swapped")
    expect(compared.locator("tr.table-warning")).to_have_count(3)  # first name, date of birth, email differ
    page.locator("[data-row-detail]").screenshot(path=ROOT / "test-results" / "duplicate-side-by-side.png")
    page.keyboard.press("u")
    expect(row).to_contain_text("Updates the possible duplicate")
    expect(row).to_contain_text("First Name: Robert → Bob")
    expect(row).to_be_focused()
    page.keyboard.press("c")
    expect(page.get_by_role("main")).to_contain_text("0 participants will be created and 1 updated")
    expect(page.get_by_role("button", name="Complete Import")).to_be_focused()  # else Enter lands on the row
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=second.name, level=1).locator("..")).to_contain_text("0 created, 1 updated")
    with sqlite3.connect(f"file:{live_app.directory / 'roster.db'}?mode=ro", uri=True) as db:
        people = db.execute("SELECT first_name, email FROM participant WHERE last_name = ?", (f"Dup-{tag}",)).fetchall()
    assert people == [("Bob", f"bob.{tag}@mail.org")]


def members(page) -> int:
    """The group page's count of its participants ("1-50 of 1,234"; nothing when it has none)."""
    expect(page.get_by_role("region", name="Participants")).to_be_visible()
    found = re.search(r"of ([\d,]+)", page.get_by_role("region", name="Participants").inner_text())
    return int(found.group(1).replace(",", "")) if found else 0


def test_complete_then_undo_import_with_its_confirmation_leaves_the_group_as_before(page, tmp_path, tag):
    path = tmp_path / f"undo-{tag}.csv"
    path.write_text("First Name,Last Name,Date of Birth,Email,Patient ID,Group\n"
                    f"Ula,Undo-{tag},1971-02-03,ula.{tag}@mail.org,,Weight Management\n"
                    f"Vic,Undo-{tag},1972-03-04,,,Weight Management\n", encoding="utf-8")
    sign_in(page, "admin")
    page.goto("/groups/")
    page.get_by_role("link", name="Weight Management").first.click()
    group_url = page.url
    before = members(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Importable Files").click()
    upload_file(page, path)
    expect(upload_row(page, path.name)).to_contain_text("Pending")
    upload_row(page, path.name).get_by_role("link").click()
    page.get_by_role("link", name="Show results").click()
    page.get_by_role("link", name="Complete Import").click()
    page.get_by_role("button", name="Complete Import").click()
    status = page.get_by_role("heading", name=path.name, level=1).locator("..")
    expect(status).to_contain_text("2 created")
    page.goto(group_url)
    assert members(page) == before + 2

    page.go_back()
    page.get_by_role("link", name="Undo Import").click()
    confirmation = page.get_by_role("main")
    expect(confirmation).to_contain_text("2 participants deleted (the import created them)")
    expect(confirmation).to_contain_text(f"Vic Undo-{tag}")
    page.screenshot(path=ROOT / "test-results" / "undo-confirmation.png")
    page.get_by_role("button", name="Undo Import").click()
    expect(page.get_by_role("heading", name=path.name, level=1).locator("..")).to_contain_text("Undone by Ada Admin")
    page.goto(group_url)
    assert members(page) == before  # the group as it was
