"""Regenerate the screenshots of issue 5 in docs/screenshots/, at 1280 px and at 390 px (a phone):

    .venv/bin/python -m tests.browser.screenshots [output-directory]

It starts its own Roster (server and worker, a throw-away SQLite file), uploads a file with errors and
warnings, completes the Synthea corpus file, and photographs Importable Files, the preview with issues and
the completed upload."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from .live_app import LAUNCH_ARGS, ROOT, find_chromium, start_live_app
from .steps import open_importable_files, patient_file, sign_in, upload_file, upload_row

CORPUS = ROOT / "tests" / "files" / "corpus" / "synthea-patients.csv"
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def _files(directory: Path) -> dict[str, Path]:
    rows = [
        "José,García,1969-01-19,jose.garcia@mail.org,00123,Diabetes Prevention",
        "Ann,Lee,01/02/1980,,,Hypertension",
        "Bo,Ray,02/30/1980,bo.ray@mail.org,,Diabetes Prevention",
        "Cleo,Diaz,1975-06-30,cleo.diaz@mail,,Diabetes Prevention",
        "Dev,Patel,1988-09-12,dev.patel@mail.org,,Diabetes Prevntion",
        "Eve,Ng,1901-03-04,eve.ng@mail.org,00456,Weight Management",
        ",Okafor,1990-12-01,okafor@mail.org,,Hypertension",
    ] + [f"Pat{n},Sample,1970-01-{n % 28 + 1:02d},pat{n}.sample@mail.org,{1000 + n},Hypertension" for n in range(1, 14)]
    files = {"issues": patient_file(directory, "patients-nov.csv", *rows)}
    broken = directory / "scanned-list.csv"
    broken.write_bytes(b"%PDF-1.4\x00\x01\x02 not a spreadsheet")
    files["broken"] = broken
    if CORPUS.exists():
        files["complete"] = directory / CORPUS.name
        files["complete"].write_bytes(CORPUS.read_bytes())
    else:  # a checkout without the shared corpus: a generated list does the same job
        files["complete"] = patient_file(directory, "synthea-patients.csv", *(
            f"Syn{n},Thea,1960-02-{n % 28 + 1:02d},syn{n}@mail.org,{n},Diabetes Prevention" for n in range(1, 60)))
    return files


def _prepare(page, directory: Path) -> dict[str, str]:
    """Three uploads in the history: Completed, Pending with issues, Failed; the URLs to photograph."""
    files = _files(directory)
    sign_in(page, "admin")
    open_importable_files(page)
    page.get_by_label("Import into group").select_option(label="Diabetes Prevention")  # Synthea has no Group column
    upload_file(page, files["complete"])
    expect(upload_row(page, files["complete"].name)).to_contain_text("Pending", timeout=60_000)
    upload_row(page, files["complete"].name).get_by_role("link").click()
    completed_url = page.url
    page.get_by_role("link", name="Show results").click()
    page.get_by_role("link", name="Complete Import").click()
    if page.get_by_label("Skip the", exact=False).count():
        page.get_by_label("Skip the", exact=False).check()
    page.get_by_role("button", name="Complete Import").click()
    expect(page.get_by_role("heading", name=files["complete"].name).locator("..")).to_contain_text(
        "Completed by", timeout=60_000)

    page.goto("/importable-files/")
    upload_file(page, files["broken"])
    expect(upload_row(page, files["broken"].name)).to_contain_text("Failed")
    upload_file(page, files["issues"])
    expect(upload_row(page, files["issues"].name)).to_contain_text("Pending")
    upload_row(page, files["issues"].name).get_by_role("link").click()
    page.get_by_role("link", name="Show results").click()
    expect(page.get_by_role("region", name="Results")).to_be_visible()
    return {"importable-files": "/importable-files/", "preview-with-issues": page.url, "completed-upload": completed_url}


def take_screenshots(browser, base_url: str, directory: Path, out: Path) -> list[Path]:
    context = browser.new_context(base_url=base_url, viewport=WIDTHS["1280"])
    page = context.new_page()
    page.on("filechooser", lambda chooser: None)
    urls = _prepare(page, directory)
    cookies = context.cookies()
    context.close()
    out.mkdir(parents=True, exist_ok=True)
    taken = []
    for width, viewport in WIDTHS.items():
        context = browser.new_context(base_url=base_url, viewport=viewport, device_scale_factor=1)
        context.add_cookies(cookies)
        page = context.new_page()
        for name, url in urls.items():
            page.goto(url)
            if name == "completed-upload":
                page.get_by_role("link", name="Show results").click()
                expect(page.get_by_role("region", name="Results")).to_be_visible()
            page.mouse.move(0, 0)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            path = out / f"{name}-{width}.png"
            page.screenshot(path=path, full_page=name != "completed-upload")  # 543 rows: the top says it all
            taken.append(path)
        context.close()
    return taken


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    chromium = find_chromium()
    if chromium is None:
        print("No Chromium: sudo apt-get install -y chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temporary, sync_playwright() as playwright:
        app = start_live_app(Path(temporary) / "instance")
        browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            for path in take_screenshots(browser, app.url, Path(temporary), out):
                print(path)
        finally:
            browser.close()
            app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
