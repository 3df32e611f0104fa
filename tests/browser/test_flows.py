"""The main flows of Importable Files, clicked through as a new user would, in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .steps import open_importable_files, patient_file, sign_in, upload_file, upload_row


def good_and_bad_rows(tmp_path, tag, name):
    """Two participants to create, and one row whose Date of Birth is not a real date."""
    return patient_file(
        tmp_path, name,
        f"José,García-{tag},1969-01-19,jose.{tag}@mail.org,,Diabetes Prevention",
        f"Ann,Lee-{tag},01/02/1980,ann.{tag}@mail.org,,Diabetes Prevention",
        f"Bo,Ray-{tag},02/30/1980,bo.{tag}@mail.org,,Diabetes Prevention",
    )


def good_rows(tmp_path, tag, name):
    return patient_file(
        tmp_path, name,
        f"José,García-{tag},1969-01-19,jose.{tag}@mail.org,,Diabetes Prevention",
        f"Ann,Lee-{tag},01/02/1980,,,Diabetes Prevention",
    )


def open_upload_and_show_results(page, filename):
    upload_row(page, filename).get_by_role("link", name=filename).click()
    expect(page.get_by_role("heading", name=filename, level=1)).to_be_visible()
    page.get_by_role("link", name="Show results").click()
    expect(page.get_by_role("table").filter(has_text="Name as it will appear")).to_be_visible()


def test_uploader_uploads_sees_pending_and_results_but_cannot_complete(page, tmp_path, tag):
    path = good_and_bad_rows(tmp_path, tag, f"uploader-{tag}.csv")
    sign_in(page, "uploader")
    open_importable_files(page)
    button = page.get_by_role("button", name="Upload and Preview").bounding_box()
    label = page.get_by_text("Select file from computer").bounding_box()
    assert button["height"] <= label["height"] + 1, "Upload and Preview is one line at 1280 px, as tall as its neighbour"
    upload_file(page, path)

    row = upload_row(page, path.name)
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("Uma Uploader")
    assert page.url.endswith("/importable-files/"), "the upload swaps into the page without a reload"

    open_upload_and_show_results(page, path.name)
    results = page.get_by_role("region", name="Results")
    expect(results).to_contain_text("2 will be created")
    expect(results).to_contain_text("1 error")
    expect(results).to_contain_text(f"José García-{tag}")
    expect(results).to_contain_text(f"Ann Lee-{tag}")
    error_row = results.get_by_role("row").filter(has_text="column Date of Birth")
    expect(error_row.get_by_role("cell").first).to_have_text("4")
    expect(error_row).to_contain_text("Error")
    expect(page.get_by_role("link", name="Complete Import")).to_have_count(0)
    expect(page.get_by_role("button", name="Complete Import")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)


def test_admin_completes_an_upload_and_the_group_lists_the_participants_not_invited(page, tmp_path, tag):
    path = good_rows(tmp_path, tag, f"complete-{tag}.csv")
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, path)
    expect(upload_row(page, path.name)).to_contain_text("Pending")

    open_upload_and_show_results(page, path.name)
    page.get_by_role("link", name="Complete Import").click()
    expect(page.get_by_text("2 participants will be created and 0 updated")).to_be_visible()
    page.get_by_role("button", name="Complete Import").click()

    status = page.get_by_role("heading", name=path.name, level=1).locator("..")
    expect(status).to_contain_text("Completed")
    expect(status).to_contain_text("Completed by Ada Admin")
    expect(status).to_contain_text("2 created, 0 updated")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    page.get_by_role("link", name="Diabetes Prevention").click()
    for name in (f"García-{tag}, José", f"Lee-{tag}, Ann"):
        expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("Not invited")


def test_admin_is_refused_while_errors_remain_then_skips_them_and_completes(page, tmp_path, tag, problems):
    path = good_and_bad_rows(tmp_path, tag, f"errors-{tag}.csv")
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, path)
    open_upload_and_show_results(page, path.name)
    page.get_by_role("link", name="Complete Import").click()

    problems.allow(r"/complete: Failed to load resource: .*status of 409")  # the refusal is a 409 page by design
    page.get_by_role("button", name="Complete Import").click()
    expect(page.get_by_role("alert")).to_contain_text("error")
    expect(page.get_by_role("heading", name=re.compile("Complete Import of"))).to_be_visible()

    page.get_by_label("Skip the row with errors").check()
    page.get_by_role("button", name="Complete Import").click()
    status = page.get_by_role("heading", name=path.name, level=1).locator("..")
    expect(status).to_contain_text("Completed")
    expect(status).to_contain_text("2 created, 0 updated, 1 row with errors skipped")


def test_admin_deletes_a_pending_upload_and_history_shows_it_deleted(page, tmp_path, tag):
    path = good_rows(tmp_path, tag, f"delete-{tag}.csv")
    sign_in(page, "admin")
    open_importable_files(page)
    upload_file(page, path)
    open_upload_and_show_results(page, path.name)
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete {path.name}?")).to_be_visible()
    page.get_by_role("button", name="Delete").click()

    expect(page.get_by_role("heading", name="Importable Files", level=1)).to_be_visible()
    expect(upload_row(page, path.name)).to_contain_text("Deleted")
    upload_row(page, path.name).get_by_role("link", name=path.name).click()
    expect(page.get_by_text("Deleted by Ada Admin")).to_be_visible()
    expect(page.get_by_role("link", name="Show results")).to_have_count(0)
