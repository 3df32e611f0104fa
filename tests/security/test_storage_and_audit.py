"""Files at rest, purging, logs without PHI, the append-only audit trail, production cookies."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from app.factory import create_app
from app.models import AuditEvent, Upload, UploadRow, utcnow
from app.storage import FileStore, StoredFileError
from tests.conftest import DEMO_EMAILS, csrf_token, sign_in

ROWS = ("First Name,Last Name,Date of Birth,Email,Mobile Phone,Patient ID,Group\n"
        "Zebulon,Quackenbush,1961-07-04,zeb.q@mail.org,617-555-0188,008812,Diabetes Prevention\n")
SECRETS = ("Zebulon", "Quackenbush", "1961-07-04", "zeb.q@mail.org", "555-0188", "008812")


def upload_file(client, url, token, text=ROWS, name="roster-export.csv"):
    client.post(url("importable_files.upload"), content_type="multipart/form-data",
                data={"file": (io.BytesIO(text.encode()), name), "group": "0", "csrf_token": token})
    return Upload.select().order_by(Upload.id.desc()).get()


def test_stored_file_has_a_random_name_outside_static_and_is_encrypted(app, client, url, login_as):
    upload = upload_file(client, url, login_as("uploader"))
    settings = app.config["ROSTER"]
    path = settings.UPLOAD_DIR / upload.stored_name
    assert len(upload.stored_name) == 32 and "roster-export" not in upload.stored_name
    assert not str(path.resolve()).startswith(app.static_folder)
    raw = path.read_bytes()
    assert not any(secret.encode() in raw for secret in SECRETS)
    assert settings.file_store().load(upload.stored_name, upload.sha256) == ROWS.encode()


def test_an_upload_over_500_kb_is_never_spooled_to_a_temporary_file(app, client, url, login_as, monkeypatch):
    # werkzeug writes a file part of over 500 kB to a temporary file while it parses the form: the
    # upload, in plain text, on the server's disk before it is kept encrypted.
    from werkzeug import formparser

    spooled = []
    for name in ("SpooledTemporaryFile", "TemporaryFile"):
        if hasattr(formparser, name):
            real = getattr(formparser, name)
            monkeypatch.setattr(formparser, name, lambda *args, real=real, **kwargs: spooled.append(1) or real(*args, **kwargs))
    header, row = ROWS.splitlines(keepends=True)
    text = header + "".join(row.replace("Zebulon", f"Zebulon{n}").replace("zeb.q@", f"zeb.q{n}@").replace("008812", f"{n:06d}")
                            for n in range(6_000))
    assert len(text) > 550_000  # werkzeug's limit: 500 kB
    upload = upload_file(client, url, login_as("uploader"), text)
    assert spooled == []
    assert app.config["ROSTER"].file_store().load(upload.stored_name, upload.sha256) == text.encode()


def test_a_tampered_stored_file_is_refused(app, client, url, login_as):
    upload = upload_file(client, url, login_as("uploader"))
    store = app.config["ROSTER"].file_store()
    with pytest.raises(StoredFileError):
        store.load(upload.stored_name, "0" * 64)
    (store.directory / upload.stored_name).write_bytes(b"garbage")
    with pytest.raises(StoredFileError):
        store.load(upload.stored_name, upload.sha256)


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    store = FileStore(tmp_path, Fernet.generate_key())

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError):
        store.save(b"data")
    assert list(tmp_path.iterdir()) == []


def test_purge_destroys_old_pending_uploads_and_audits_it(app, client, url, login_as, runner):
    upload = upload_file(client, url, login_as("uploader"))
    other_people = ROWS.replace("Zebulon", "Yannick")  # the same name, or the same people, would replace it
    fresh = upload_file(client, url, _token(client, url), other_people, name="another-export.csv")
    path = app.config["ROSTER"].UPLOAD_DIR / upload.stored_name
    Upload.update(uploaded_at=utcnow() - timedelta(days=31)).where(Upload.id == upload.id).execute()
    result = runner.invoke(args=["purge-uploads", "--older-than", "30d"])
    assert result.exit_code == 0 and "Purged 1 upload(s)" in result.output
    purged = Upload.get_by_id(upload.id)
    assert purged.status == "deleted" and purged.stored_name is None and not path.exists()
    kept = UploadRow.select().where(UploadRow.upload == upload)
    assert kept.count() > 0 and all(r.values is None and r.issues is None and r.plan is None for r in kept)
    assert Upload.get_by_id(fresh.id).status == "pending"
    assert AuditEvent.get(AuditEvent.action == "purge_upload").object_id == upload.id
    assert runner.invoke(args=["purge-uploads", "--older-than", "soon"]).exit_code == 2


def _token(client, url):
    return csrf_token(client.get(url("groups.index")))


def test_a_full_import_logs_no_cell_value(app, config, url, caplog, capsys):
    """Every record, and every JSON line operators get (LOG_FORMAT=json, the default outside development)."""
    config.LOG_FORMAT = "json"
    client = create_app(config).test_client()
    caplog.set_level(logging.DEBUG)
    sign_in(client, DEMO_EMAILS["admin"])
    token = _token(client, url)
    upload = upload_file(client, url, token)
    request_ids = {client.get(url("importable_files.results", upload_id=upload.id)).headers["X-Request-ID"],
                   client.get(url("importable_files.issue_report", upload_id=upload.id, kind="csv")).headers["X-Request-ID"]}
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token})
    assert Upload.get_by_id(upload.id).status == "completed"
    assert caplog.records, "nothing was logged at all: the check would prove nothing"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    access = [line for line in lines if line["logger"] == "roster.access"]
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    assert request_ids <= {line["request_id"] for line in access} and all(line["path"] and line["status"] for line in access)
    assert any(line["logger"] == "roster.audit" and line["request_id"] for line in lines)
    everything = logged + "\n" + json.dumps(lines, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in everything


def test_an_unhandled_error_shows_a_reference_and_logs_no_data(app, client, url, login_as, caplog, monkeypatch):
    login_as("admin")

    def explode(*args, **kwargs):
        raise ValueError("Zebulon Quackenbush 1961-07-04")

    monkeypatch.setattr("app.web.groups.Group.with_counts", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(url("groups.index"))
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Reference:" in page and "Zebulon" not in page and "Traceback" not in page
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "ValueError" in logged and "Zebulon" not in logged


def test_audit_events_cannot_be_changed_or_deleted(client, url, login_as):
    login_as("admin")
    event = AuditEvent.get(AuditEvent.action == "sign_in")
    event.action = "nothing happened"
    for attempt in (event.save, event.delete_instance, lambda: AuditEvent.update(action="x"), AuditEvent.delete):
        with pytest.raises(PermissionError):
            attempt()


def test_org_admin_filters_and_exports_the_audit_trail(client, url, login_as):
    token = login_as("admin")
    upload_file(client, url, token)
    page = client.get(url("audit.index", action="upload")).get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert "Uploaded a file" in body and "sign_in" not in body and "Signed in" not in body  # said in words
    export = client.get(url("audit.export")).data.decode("utf-8-sig")
    assert "sign_in" in export and "upload" in export and "Zebulon" not in export
    assert AuditEvent.select().where(AuditEvent.action == "audit_exported").count() == 1


def test_failed_sign_ins_are_in_the_audit_trail(client):
    sign_in(client, DEMO_EMAILS["admin"], "wrong")
    assert AuditEvent.get(AuditEvent.action == "sign_in_failed").ip == "127.0.0.1"


def test_other_organizations_events_are_not_shown(client, url, login_as):
    sign_in(client, "admin@other.example", "wrong")
    login_as("admin")
    page = client.get(url("audit.index")).get_data(as_text=True)
    assert "sign_in_failed" not in page


def test_cookies_are_secure_outside_development(config):
    config.ENV = "production"
    app = create_app(config)
    response = sign_in(app.test_client(), DEMO_EMAILS["admin"])
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("roster_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- files kept in segments (issue 20: a large file is never encrypted or read in four copies at once) ---

def _segments_of(path) -> list[bytes]:
    from app.storage import SEGMENTED, TOKEN_LENGTH
    raw = path.read_bytes()
    assert raw.startswith(SEGMENTED)
    position, tokens = len(SEGMENTED), []
    while position < len(raw):
        size = TOKEN_LENGTH.unpack_from(raw, position)[0]
        tokens.append(raw[position:position + TOKEN_LENGTH.size + size])
        position += TOKEN_LENGTH.size + size
    return tokens


@pytest.fixture
def small_segments(monkeypatch):
    monkeypatch.setattr("app.storage.SEGMENT_BYTES", 1000)


def test_a_file_is_kept_as_one_token_per_segment_and_reads_back_whole(tmp_path, small_segments):
    from app.storage import sha256
    store = FileStore(tmp_path, Fernet.generate_key())
    data = ROWS.encode() * 200  # 24 segments
    name = store.save(data)
    tokens = _segments_of(tmp_path / name)
    assert len(tokens) == -(-len(data) // 1000) and not any(s.encode() in b"".join(tokens) for s in SECRETS)
    assert store.load(name, sha256(data)) == data
    assert store.load(store.save(b""), sha256(b"")) == b""


def test_segments_reordered_dropped_cut_or_from_another_file_are_refused(tmp_path, small_segments):
    from app.storage import SEGMENTED, sha256
    store = FileStore(tmp_path, Fernet.generate_key())
    data = ROWS.encode() * 20
    name, other = store.save(data), store.save(ROWS.replace("Zebulon", "Yannick").encode() * 20)
    tokens, others = _segments_of(tmp_path / name), _segments_of(tmp_path / other)
    for kept in ([tokens[1], tokens[0], *tokens[2:]], tokens[:-1], [others[0], *tokens[1:]]):
        (tmp_path / name).write_bytes(SEGMENTED + b"".join(kept))
        with pytest.raises(StoredFileError, match="does not match"):
            store.load(name, sha256(data))
    for damaged in (b"".join(tokens)[:-10], tokens[0] + b"\xff\xff\xff\xff" + tokens[1]):  # cut; a length of 4 GB
        (tmp_path / name).write_bytes(SEGMENTED + damaged)
        with pytest.raises(StoredFileError, match="cannot be read"):
            store.load(name, sha256(data))


def test_a_file_kept_as_one_token_before_segments_still_reads(tmp_path):
    from app.storage import sha256
    key = Fernet.generate_key()
    (tmp_path / ("a" * 32)).write_bytes(Fernet(key).encrypt(ROWS.encode()))
    assert FileStore(tmp_path, key).load("a" * 32, sha256(ROWS.encode())) == ROWS.encode()


def test_keeping_a_large_file_holds_a_segment_at_a_time_not_copies_of_the_file(tmp_path):
    import tracemalloc
    store = FileStore(tmp_path, Fernet.generate_key())
    data = ROWS.encode() * 250_000  # 39 MB
    tracemalloc.start()
    try:
        store.save(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A segment's few copies (about 10 MB, whatever the file's size); one token was four of the whole file.
    assert peak < len(data) / 3, peak


def test_a_file_read_a_piece_at_a_time_is_its_segments_and_refused_after_the_last_if_it_does_not_match(
        tmp_path, small_segments):
    import pickle

    from app.storage import sha256
    store = FileStore(tmp_path, Fernet.generate_key())
    data = ROWS.encode() * 20
    name = store.save(data)
    kept = pickle.loads(pickle.dumps(store.kept(name, sha256(data), len(data))))  # as a preview's child gets it
    assert [len(piece) for piece in kept.pieces()] == [1000] * (len(data) // 1000) + [len(data) % 1000]
    assert b"".join(kept.pieces()) == data == kept.load()
    read = []
    with pytest.raises(StoredFileError, match="does not match"):
        for piece in store.pieces(name, "0" * 64):
            read.append(piece)
    assert b"".join(read) == data  # every piece came, then the refusal: a reader uses none of it before


def test_a_store_given_a_relative_folder_reads_the_same_files_from_another_working_directory(tmp_path, monkeypatch):
    # A preview's child runs from the project's folder, not the worker's: the store it is sent must still find the file.
    import pickle

    from app.storage import sha256
    monkeypatch.chdir(tmp_path)
    store = FileStore("uploads", Fernet.generate_key())
    name = store.save(ROWS.encode())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert pickle.loads(pickle.dumps(store)).load(name, sha256(ROWS.encode())) == ROWS.encode()
