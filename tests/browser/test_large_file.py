"""A large file is read in the background: its progress bar appears and reaches Pending without a reload."""
from __future__ import annotations

from playwright.sync_api import expect

from .steps import open_importable_files, patient_file, sign_in, upload_file, upload_row

ROWS = 20_000


def test_large_file_shows_a_progress_bar_that_reaches_pending_without_a_reload(page, tmp_path, tag):
    rows = (f"Pat{n},Many-{tag},1970-01-{n % 28 + 1:02d},pat{n}.{tag}@mail.org,{tag}-{n},Weight Management"
            for n in range(ROWS))
    path = patient_file(tmp_path, f"large-{tag}.csv", *rows)
    sign_in(page, "uploader")
    open_importable_files(page)
    page.evaluate("() => { window.sameDocument = true; }")  # gone if anything reloads the page
    upload_file(page, path)

    row = upload_row(page, path.name)
    expect(row).to_contain_text("Processing")
    expect(row.get_by_role("progressbar")).to_be_visible()
    # Focus is put back after each settle of the row's 1 s poll: wait for a settle, not a swap in flight.
    focused_on_upload = f"() => document.activeElement.textContent.trim() === {path.name!r}"
    page.wait_for_function(focused_on_upload, timeout=5_000)  # focus lands on the new upload
    expect(row).to_contain_text("Pending", timeout=120_000)
    expect(row.get_by_role("progressbar")).to_have_count(0)
    expect(row.get_by_role("cell").nth(4)).to_have_text(f"{ROWS:,}")
    assert page.evaluate("() => window.sameDocument") is True, "the page reloaded"
    page.wait_for_function(focused_on_upload, timeout=5_000)  # the row's updates keep focus where it was
