"""What a person does in Roster, step by step, by role and visible text only (the seed's labels)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

PASSWORD = "roster-demo"
EMAILS = {"admin": "admin@demo.example", "uploader": "uploader@demo.example"}
HEADER = "First Name,Last Name,Date of Birth,Email,Patient ID,Group"


def patient_file(directory: Path, name: str, *rows: str) -> Path:
    """A small CSV in the sample file's columns."""
    path = directory / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def sign_in(page, role: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(EMAILS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Groups")).to_be_visible()


def open_importable_files(page) -> None:
    """Groups -> the grey Actions drop-down -> Importable Files."""
    page.wait_for_load_state("domcontentloaded")  # the drop-down opens once Bootstrap's deferred script ran
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("main").get_by_role("link", name="Importable Files").click()
    expect(page.get_by_role("heading", name="Importable Files", level=1)).to_be_visible()


def upload_file(page, path: Path) -> None:
    """Select file from computer (the file picker) -> Upload and Preview; the panel swaps in place."""
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Select file from computer").click()
    chooser.value.set_files(path)
    expect(page.get_by_text(path.name, exact=True).first).to_be_visible()
    page.get_by_role("button", name="Upload and Preview").click()


def upload_row(page, filename: str):
    """The row of the Previous uploads table for this file."""
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=filename, exact=True))
