"""Hostile and broken files through the real upload form: a clear Failed status, fast, nothing else."""
from __future__ import annotations

import io
import time
import zipfile

import pytest

from app.models import Participant, Upload, UploadRow

SHEET = ('<?xml version="1.0"?>{doctype}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         "<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{cell}</t></is></c></row></sheetData></worksheet>")
WORKBOOK = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Patients" sheetId="1" r:id="rId1"/></sheets></workbook>')


def workbook(sheet_xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    return buffer.getvalue()


LAUGHS = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">" + "".join(
    f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)) + "]>"
HOSTILE = {
    "pdf renamed csv": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n\x00\x01", "patients.csv"),
    "png renamed xlsx": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "patients.xlsx"),
    "empty file": (b"", "patients.csv"),
    "header row alone": (b"First Name,Last Name,Date of Birth,Group\n", "patients.csv"),
    "random bytes": (bytes(range(256)) * 40, "patients.csv"),
    "zip without a workbook": (b"PK\x05\x06" + b"\x00" * 18, "patients.xlsx"),
    "truncated workbook": (workbook(SHEET.format(doctype="", cell="x"))[:300], "patients.xlsx"),
    "billion laughs": (workbook(SHEET.format(doctype=LAUGHS.replace("&lol;", "lol"), cell="&lol9;")), "patients.xlsx"),
    "external entity": (workbook(SHEET.format(doctype='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', cell="&xxe;")), "patients.xlsx"),
}


def upload(client, url, token, data: bytes, name: str):
    return client.post(url("importable_files.upload"), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "group": "0", "csrf_token": token})


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_file_fails_with_a_reason_and_writes_nothing(client, url, login_as, kind):
    token = login_as("uploader")
    data, name = HOSTILE[kind]
    response = upload(client, url, token, data, name)
    assert response.status_code == 302
    stored = Upload.get()
    assert stored.status == "failed" and stored.failure_reason
    assert "root:" not in stored.failure_reason
    assert UploadRow.select().count() == 0 and Participant.select().count() == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ">Failed</span>" in page and stored.failure_reason.split(".")[0] in page


def test_zip_bomb_is_refused_in_well_under_a_second(client, url, login_as):
    token = login_as("uploader")
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024
    started = time.perf_counter()
    upload(client, url, token, bomb, "patients.xlsx")
    elapsed = time.perf_counter() - started
    assert Upload.get().status == "failed" and "unsafe" in Upload.get().failure_reason
    assert elapsed < 1.0, f"zip bomb took {elapsed:.2f} s"


def test_oversized_htmx_upload_gets_an_error_in_the_upload_panel(app, client, url, login_as):
    token = login_as("uploader")
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(url("importable_files.upload"), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"x" * 10_000), "big.csv"), "group": "0"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#upload-error" and response.headers["HX-Reswap"] == "innerHTML"
    body = response.get_data(as_text=True)
    assert "larger than 20 MB" in body and "<html" not in body
    assert Upload.select().count() == 0


UTF16_LAUGHS = workbook(SHEET.format(doctype=LAUGHS.replace("&lol;", "lol"), cell="&lol9;")
                        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'))


def _utf16_without_bom(book: bytes) -> bytes:
    source, buffer = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            text = source.read(name)
            target.writestr(name, text.decode().encode("utf-16-le") if name.endswith("sheet1.xml") else text)
    return buffer.getvalue()


@pytest.mark.parametrize("data, name, says", [
    (_utf16_without_bom(UTF16_LAUGHS), "patients.xlsx", "The workbook is damaged or unsafe to open"),
    (b"\xef\xbb\xbf<html><body><table><tr><td>First Name</td><td>Last Name</td></tr>"
     b"<tr><td>Ann</td><td>Lee</td></tr></table></body></html>", "patients.xls", "This file is a web page"),
    ("\ufeff<?xml version='1.0'?><rows><row>Ann</row></rows>".encode("utf-16-le"), "patients.csv", "This file is a web page"),
])
def test_files_that_hide_what_they_are_get_a_reason_that_says_so(client, url, login_as, data, name, says):
    response = upload(client, url, login_as("uploader"), data, name)
    assert response.status_code == 302
    stored = Upload.get()
    assert stored.status == "failed" and stored.failure_reason.startswith(says), stored.failure_reason
