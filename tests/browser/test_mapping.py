"""An export with headers Roster does not know, mapped by keyboard, previewed and completed; the same
layout uploaded again maps at once from the saved mapping."""
from __future__ import annotations

from playwright.sync_api import expect

from .steps import open_importable_files, sign_in, upload_file, upload_row


def export_file(directory, name, tag, *people):
    path = directory / name
    header = f"Frist Name,Fam,DOB (MM/DD/YYYY),Group,Chart ref {tag}"  # a guess, an unknown, a synonym, own column
    path.write_text("\n".join((header, *people)) + "\n", encoding="utf-8")
    return path


def test_an_unknown_layout_is_mapped_by_keyboard_previewed_completed_and_then_remembered(page, tmp_path, tag):
    first = export_file(tmp_path, f"export-{tag}.csv", tag, f"Ann,Lee-{tag},01/02/1980,Diabetes Prevention,r1",
                        f"Bo,Ray-{tag},11/30/1975,Diabetes Prevention,r2")
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, first)
    expect(upload_row(page, first.name)).to_contain_text("Needs mapping")
    upload_row(page, first.name).get_by_role("link", name=first.name).click()
    page.get_by_role("link", name="Map the columns").click()
    expect(page.get_by_role("heading", name="Which field is in each column")).to_be_visible()
    expect(page.get_by_label("Frist Name")).to_have_value("first_name")  # the guess, pre-filled
    expect(page.get_by_label("Fam")).to_have_value("")  # not recognised: Leave out

    page.get_by_label("Fam").focus()
    page.keyboard.type("Last")  # a focused select picks the option that starts so
    expect(page.get_by_label("Fam")).to_have_value("last_name")
    page.get_by_role("button", name="Confirm and preview").focus()
    page.keyboard.press("Enter")

    results = page.get_by_role("region", name="Results")
    expect(results).to_contain_text("2 will be created")
    expect(results).to_contain_text(f"Ann Lee-{tag}")
    page.get_by_role("link", name="Complete Import").click()
    page.get_by_role("button", name="Complete Import").click()
    expect(page.get_by_role("status").filter(has_text="Completed by")).to_contain_text("2 created")

    second = export_file(tmp_path, f"export-again-{tag}.csv", tag, f"Cy,Park-{tag},06/15/1990,Diabetes Prevention,r3")
    page.get_by_role("link", name="Groups").first.click()
    open_importable_files(page)
    upload_file(page, second)
    expect(upload_row(page, second.name)).to_contain_text("Pending")
    upload_row(page, second.name).get_by_role("link", name=second.name).click()
    page.get_by_role("link", name="Show results").click()
    expect(page.get_by_role("region", name="Results")).to_contain_text("by the mapping saved")
