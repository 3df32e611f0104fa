"""Large files through huey (immediate mode here): the same results as in the request, progress, claims, dead jobs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import peewee as pw
import pytest

from app.importer import actions as actions_module
from app.importer import check_process
from app.importer.lifecycle import APPLYING, QUEUE_APPLY, READING, claim
from app.importer.preview import create_upload, preview_upload
from app.models import AuditEvent, Organization, Participant, ParticipantGroup, Upload, UploadRow, User, db, utcnow
from tests.importer.conftest import csv
from tests.web.test_importable_files import last_upload, post_file

ROOT = Path(__file__).resolve().parents[1]
ROW_FIELDS = ("row_number", "action", "display_name", "values", "changes", "plan", "issues", "has_error", "has_warning")
COUNTS = ("row_count", "created_count", "updated_count", "unchanged_count", "error_count", "warning_count", "blank_count")


def many_rows(count: int) -> str:
    rows = [f"P{n},Lee,1980-01-02,p{n}@mail.org,{n:06d},Diabetes Prevention" for n in range(count)]
    rows[5] = "Bo,Ray,02/30/1980,bo@mail.org,,Diabetes Prevention"  # an error
    rows[9] = "Cy,Ray,1980-02-03,,,Hypertension"  # a warning
    return csv(*rows)


def stored_rows(upload: Upload) -> list[tuple]:
    query = UploadRow.select().where(UploadRow.upload == upload).order_by(UploadRow.row_number)
    return [tuple(getattr(row, name) for name in ROW_FIELDS) for row in query]


@pytest.fixture
def background(app, monkeypatch):
    """Every file counts as large, so the web routes hand it to a worker."""
    monkeypatch.setattr(app.config["ROSTER"], "BACKGROUND_ROWS", 2)
    return app


def test_background_preview_stores_exactly_what_the_request_would(app, jobs, client, url, login_as, monkeypatch):
    token = login_as("admin")
    content = many_rows(60)
    post_file(client, url, token, content)
    in_request = last_upload()
    in_request_rows = stored_rows(in_request)  # before the second upload of the same list replaces it
    queued = []
    monkeypatch.setattr(app.config["ROSTER"], "BACKGROUND_ROWS", 2)
    real_read = jobs.read
    monkeypatch.setattr(jobs, "read", lambda upload_id: (queued.append(upload_id), real_read(upload_id)))
    post_file(client, url, token, content, name="again.csv")
    by_worker = last_upload()
    assert queued == [by_worker.id] and by_worker.id != in_request.id and by_worker.status == "pending"
    assert [getattr(by_worker, c) for c in COUNTS] == [getattr(in_request, c) for c in COUNTS]
    assert by_worker.error_count == 1 and by_worker.warning_count >= 1
    assert stored_rows(by_worker) == in_request_rows
    assert by_worker.file_issues == in_request.file_issues


def test_background_complete_import_applies_once_and_says_so(background, client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, many_rows(30))
    upload = last_upload()
    response = client.post(url("importable_files.complete", upload_id=upload.id),
                           data={"csrf_token": token, "skip_error_rows": "y"})
    assert response.status_code == 302
    done = Upload.get_by_id(upload.id)
    assert done.status == "completed" and done.created_count == 29 and done.processing_step is None
    assert Participant.select().count() == 29 and ParticipantGroup.select().count() == 29
    again = client.post(url("importable_files.complete", upload_id=upload.id),
                        data={"csrf_token": token, "skip_error_rows": "y"})
    assert again.status_code == 409 and "already completed" in again.get_data(as_text=True)
    assert Participant.select().count() == 29
    assert AuditEvent.select().where(AuditEvent.action == "complete_import").count() == 1


def test_a_job_delivered_twice_runs_once(app, jobs, demo_org, store):
    data = many_rows(20).encode()
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "p.csv", data, store)
    jobs.read(upload.id)
    first = stored_rows(upload)
    jobs.read(upload.id)  # the same task again, e.g. after a worker restart
    assert stored_rows(upload) == first and Upload.get_by_id(upload.id).status == "pending"


def test_progress_moves_while_reading(app, demo_org, store, monkeypatch):
    monkeypatch.setattr(check_process, "CHUNK", 10)
    data = many_rows(45).encode()
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "p.csv", data, store)
    seen = []
    preview_upload(upload, data, progress=lambda done, total: seen.append(
        (done, total, Upload.get_by_id(upload.id).progress_done)))
    assert [s[0] for s in seen] == [10, 20, 30, 40, 45]
    assert all(total == 45 for _, total, _ in seen)
    assert [stored for _, _, stored in seen] == [10, 20, 30, 40, 45]  # visible to other requests as it goes


def test_processing_status_polls_with_a_progress_bar_and_stops_when_done(app, jobs, client, url, login_as, demo_org,
                                                                          store):
    login_as("uploader")
    data = many_rows(20).encode()
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "big.csv", data, store)
    Upload.update(processing_step="reading", progress_done=12_000, progress_total=100_000).where(
        Upload.id == upload.id).execute()
    jobs.beat(upload.id)
    fragment = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.startswith('<section id="upload-status"') and 'hx-trigger="every 1s"' in html
    assert "12,000 of 100,000 rows read" in html and '<progress class="upload-progress" max="100000" value="12000"' in html
    assert 'style=' not in html  # the CSP forbids inline styles
    row = client.get(url("importable_files.index")).get_data(as_text=True)
    assert f'id="upload-{upload.id}"' in row and 'hx-select="#upload-' in row and "12,000 of 100,000 rows read" in row

    Upload.update(processing_step="read_queued").where(Upload.id == upload.id).execute()
    jobs.read(upload.id)
    html = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in html and ">Pending</span>" in html and "Show results" in html
    page = client.get(url("importable_files.index")).get_data(as_text=True)
    assert "every 1s" not in page


def test_work_done_within_a_beat_leaves_no_heartbeat(app, jobs, login_as, demo_org, store, monkeypatch):
    # A preview done in the request reports progress, but finishes before its first beat is due, so it
    # never touches the queue (nor, then, imports huey or opens its store); nor does it beat before its
    # claim, as a job taken from the queue does. Work that lasts beats once a BEAT_SECONDS.
    beats = []
    monkeypatch.setattr(jobs, "beat", lambda uid, done=0, total=None: beats.append((uid, done, total)))
    monkeypatch.setattr(actions_module, "BEAT_SECONDS", 3600)  # "quick", on the slowest machine
    user = User.by_email("uploader@demo.example")
    quick = jobs.actions.upload(demo_org, user, "quick.csv", many_rows(30).encode(), here=True)
    assert quick.state.is_pending and beats == []

    monkeypatch.setattr(actions_module, "BEAT_SECONDS", 0)
    slow = jobs.actions.upload(demo_org, user, "slow.csv", many_rows(30).encode(), here=True)
    assert slow.state.is_pending and beats and {uid for uid, _, _ in beats} == {slow.id}
    assert beats[-1][1] == 30  # the last report: every row read


def test_a_completion_and_an_undo_done_here_never_beat(app, jobs, demo_org, store, monkeypatch):
    # Done in the caller's process, the upload stays Pending (then Completed) to every page and to the
    # watch until the transaction commits: no one reads a heartbeat, so none is written (nor huey imported).
    user, admin = User.by_email("uploader@demo.example"), User.by_email("admin@demo.example")
    upload = jobs.actions.upload(demo_org, user, "list.csv", many_rows(30).encode(), here=True)
    beats, reports = [], []
    monkeypatch.setattr(jobs, "beat", lambda uid, done=0, total=None: beats.append((uid, done, total)))
    monkeypatch.setattr(actions_module, "BEAT_SECONDS", 0)  # a beat at every report, if there were one
    done = jobs.actions.complete(upload, admin, skip_error_rows=True, here=True, progress=lambda d, t: reports.append(d))
    assert done.state.is_completed and reports and beats == []
    undone = jobs.actions.undo(done, admin, here=True, progress=lambda d, t: reports.append(d))
    assert undone.state.is_undone and beats == []


def test_applying_shows_progress_from_the_heartbeat(app, jobs, client, url, login_as, demo_org, store):
    login_as("uploader")
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "big.csv", b"x", store)
    Upload.update(processing_step=APPLYING, progress_total=100_000).where(Upload.id == upload.id).execute()
    jobs.beat(upload.id, 40_000, 100_000)
    html = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Applying: 40,000 of 100,000 rows written" in html and 'hx-trigger="every 1s"' in html


def test_a_job_that_stopped_beating_leaves_a_failed_upload_with_its_reason(app, jobs, client, url, login_as, demo_org,
                                                                           store):
    login_as("uploader")
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "big.csv", b"x", store)
    an_hour_ago = utcnow() - timedelta(hours=1)
    Upload.update(processing_step=READING, step_at=an_hour_ago).where(Upload.id == upload.id).execute()
    UploadRow.create(upload=upload, row_number=2, action="create")  # a chunk it had stored
    jobs.huey.put(f"upload-beat:{upload.id}", (time.time() - 3600, 0, None))
    page = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"})
    assert "hx-trigger" in page.get_data(as_text=True)  # a page view changes nothing: the watch decides
    assert Upload.get_by_id(upload.id).status == "processing"
    assert jobs.actions.watch() == 1
    html = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert ">Failed</span>" in html and "Reading the file stopped before it finished" in html and "hx-trigger" not in html
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0
    assert jobs.actions.watch() == 0  # a second watch finds nothing more to do


KILLED_WORKER = textwrap.dedent("""
    import sys, time
    from app.config import Config
    from app.importer import apply
    from app.jobs import Jobs
    from app.models import open_database
    open_database(sys.argv[1])
    apply.CHUNK = 50
    real = apply._apply_batch
    def slow(*args):
        result = real(*args)
        time.sleep(0.2)  # slow enough to be killed part way
        return result
    apply._apply_batch = slow
    Jobs(Config.from_env()).actions.apply(int(sys.argv[2]), int(sys.argv[3]))
""")


def test_a_killed_complete_import_leaves_a_failed_upload_and_no_participants(app, config, jobs, demo_org, store,
                                                                              tmp_path):
    admin = User.by_email("admin@demo.example")
    data = many_rows(600).encode()
    upload = create_upload(demo_org, admin, "big.csv", data, store)
    preview_upload(upload, data)
    assert claim(Upload.get_by_id(upload.id), QUEUE_APPLY, skip_error_rows=True)  # queued; its job runs below
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path / "worker"), "ROSTER_FILE_KEY": config.FILE_KEY.decode(),
           "UPLOAD_DIR": str(config.UPLOAD_DIR), "DATABASE_URL": config.DATABASE_URL, "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    db.close()
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, config.DATABASE_URL, str(upload.id), str(admin.id)],
                              env=env, cwd=ROOT)
    try:
        deadline = time.time() + 30
        with db.connection_context():
            while Upload.get_by_id(upload.id).processing_step != APPLYING and time.time() < deadline:
                time.sleep(0.05)
        time.sleep(1.0)  # a few chunks written inside its transaction
        assert worker.poll() is None, "the worker finished before it could be killed"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    db.connect(reuse_if_open=True)
    # This process cannot see the dead worker's heartbeat store: a missing beat counts as stopped.
    assert jobs.actions.watch() == 0  # not before a minute has passed since it claimed the upload
    assert jobs.actions.watch(stall_seconds=0) == 1
    failed = Upload.get_by_id(upload.id)
    assert failed.status == "failed" and "Complete Import stopped before it finished" in failed.failure_reason
    assert Participant.select().count() == 0 and ParticipantGroup.select().count() == 0
    assert Organization.by_name("Demo Clinic").participants.count() == 0


def test_a_read_says_when_it_is_reading_the_organizations_participants(app, jobs, client, url, login_as, demo_org, store):
    login_as("uploader")
    upload = create_upload(demo_org, User.by_email("uploader@demo.example"), "big.csv", many_rows(20).encode(), store)
    Upload.update(processing_step="reading", progress_done=400_000, progress_total=1_000_000,
                  progress_unit="participants").where(Upload.id == upload.id).execute()
    jobs.beat(upload.id)
    html = client.get(url("importable_files.show", upload_id=upload.id), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Looking for possible duplicates: 400,000 of 1,000,000 participants read" in html
    assert '<progress class="upload-progress" max="1000000" value="400000" aria-label="Looking for possible duplicates">' in html
    assert "rows read" not in html


def test_imports_cli_draws_progress_on_stderr_and_json_on_stdout(app, runner, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(app.config["ROSTER"], "BACKGROUND_ROWS", 2)
    path = tmp_path / "big.csv"
    path.write_text(many_rows(1500))
    result = runner.invoke(args=["imports", "preview", str(path), "--org", "Demo Clinic", "--json"])
    assert result.exit_code == 3, result.output  # Pending with a row error
    summary = json.loads(result.stdout)
    assert summary["status"] == "pending" and summary["counts"]["created"] == 1499
    assert "1,000 of 1,500 rows read" in result.stderr and "1,500 of 1,500 rows read" in result.stderr
    done = runner.invoke(args=["imports", "complete", str(summary["id"]), "--skip-error-rows", "--json"])
    assert json.loads(done.stdout)["counts"]["created"] == 1499
    assert "rows written" in done.stderr


def test_imports_cli_says_when_it_reads_the_participants_for_the_duplicate_search(app, runner, tmp_path, monkeypatch,
                                                                                   demo_org):
    from app.importer import search_process

    monkeypatch.setattr(app.config["ROSTER"], "BACKGROUND_ROWS", 2)
    monkeypatch.setattr(search_process, "HOLD_FROM", 0)  # the rows held, then compared with every participant
    Participant.insert_many([{"organization": demo_org.id, "first_name": f"Pat{n}", "last_name": "Roe"}
                             for n in range(12)]).execute()
    path = tmp_path / "big.csv"
    path.write_text(many_rows(1500))
    result = runner.invoke(args=["imports", "preview", str(path), "--org", "Demo Clinic", "--json"])
    assert result.exit_code == 3, result.output
    said = result.stderr.splitlines()
    read = said.index("[##############################] 12 of 12 participants read for the duplicate search")
    assert read > said.index("[##############################] 1,500 of 1,500 rows read")  # after the last row


def test_a_queued_completion_whose_account_is_gone_goes_back_to_pending_with_the_reason(app, jobs, demo_org, store):
    admin = User.by_email("admin@demo.example")
    data = many_rows(20).encode()
    upload = create_upload(demo_org, admin, "small.csv", data, store)
    preview_upload(upload, data)
    assert claim(Upload.get_by_id(upload.id), QUEUE_APPLY, skip_error_rows=True)
    missing = User.select(User.id).order_by(User.id.desc()).scalar() + 1
    jobs.apply(upload.id, missing, None)
    back = Upload.get_by_id(upload.id)
    assert (back.status, back.processing_step, back.refusal) == ("pending", None, actions_module.USER_GONE)
    assert Participant.select().count() == 0


@pytest.fixture
def real_queue(jobs):
    """The queue as a worker sees it (the SQLite file under instance/), not immediate: jobs wait in it."""
    jobs.huey.immediate = False
    yield jobs
    jobs.huey.flush()
    jobs.huey.immediate = True


def _pending_upload(actions, demo_org, store, rows=20):
    admin = User.by_email("admin@demo.example")
    data = many_rows(rows).encode()
    return actions.upload(demo_org, admin, "list.csv", data, here=True), admin


def test_a_queued_completion_whose_job_was_lost_returns_to_pending_and_can_be_started_again(
        app, real_queue, background, demo_org, store):
    actions = real_queue.actions
    upload, admin = _pending_upload(actions, demo_org, store)
    queued = actions.complete(upload, admin, skip_error_rows=True)
    assert queued.state.is_applying and upload.id in real_queue.waiting_uploads()
    assert actions.watch(stall_seconds=0) == 0  # still in the queue: the worker will come to it
    real_queue.huey.flush()  # the queue is lost (Redis restarted without persistence)
    assert actions.watch(stall_seconds=0) == 1
    back = Upload.get_by_id(upload.id)
    assert (back.status, back.processing_step, back.refusal) == ("pending", None, actions_module.LOST_COMPLETION)
    assert Participant.select().count() == 0
    done = actions.complete(back, admin, skip_error_rows=True, here=True)
    assert done.state.is_completed and Participant.select().count() == 19


def test_a_queued_read_whose_job_was_lost_ends_failed_with_a_reason(app, real_queue, background, demo_org, client,
                                                                      url, login_as):
    token = login_as("admin")
    post_file(client, url, token, many_rows(20))
    upload = last_upload()
    assert upload.state.is_reading and upload.id in real_queue.waiting_uploads()
    real_queue.huey.flush()
    assert real_queue.actions.watch() == 0  # queued a moment ago: its job may just have been taken
    assert real_queue.actions.watch(stall_seconds=0) == 1
    failed = Upload.get_by_id(upload.id)
    assert failed.state.is_failed and failed.failure_reason == actions_module.STOPPED["read_queued"]
    page = client.get(url("importable_files.show", upload_id=upload.id)).get_data(as_text=True)
    assert "its job was lost from the queue" in page and ">Delete</a>" in page


def test_a_job_that_fails_before_claiming_is_retried_and_ends_failed_after_its_last_try(
        app, real_queue, background, demo_org, store, monkeypatch):
    upload = real_queue.actions.upload(demo_org, User.by_email("uploader@demo.example"), "list.csv",
                                       many_rows(20).encode())
    huey = real_queue.huey

    def unreachable(upload_id, **kwargs):
        raise pw.OperationalError("could not connect to server")  # what the worker saw

    monkeypatch.setattr(real_queue.actions, "read", unreachable)
    task = huey.dequeue()
    huey.execute(task)  # huey logs the error and schedules the next try
    assert huey.scheduled_count() == 1 and upload.id in real_queue.waiting_uploads()
    assert real_queue.actions.watch(stall_seconds=0) == 0
    retry = huey.scheduled()[0]
    retry.retries, retry.eta = 0, None  # its last try, due now
    huey.flush()
    huey.execute(retry)  # the last try fails too: nothing is queued any more
    assert upload.id not in real_queue.waiting_uploads()
    assert real_queue.actions.watch(stall_seconds=0) == 1
    assert Upload.get_by_id(upload.id).state.is_failed


def test_an_admin_can_delete_an_upload_still_waiting_for_a_worker_and_its_job_then_does_nothing(
        app, real_queue, background, client, url, login_as):
    token = login_as("admin")
    post_file(client, url, token, many_rows(20))
    upload = last_upload()
    assert upload.state.is_queued
    response = client.post(url("importable_files.delete", upload_id=upload.id), data={"csrf_token": token})
    assert response.status_code == 302
    task = real_queue.huey.dequeue()
    real_queue.huey.execute(task)  # the worker comes to it after all
    gone = Upload.get_by_id(upload.id)
    assert gone.state.is_deleted and gone.stored_name is None and UploadRow.select().count() == 0


def test_a_large_undo_runs_in_the_worker_and_a_stopped_one_leaves_the_import_complete(background, app, client, url,
                                                                                    login_as, monkeypatch):
    from app.importer import undo as undo_module
    from app.importer.lifecycle import UNDOING

    token = login_as("admin")
    post_file(client, url, token, many_rows(30))
    upload = last_upload()
    client.post(url("importable_files.complete", upload_id=upload.id), data={"csrf_token": token, "skip_error_rows": "y"})
    page = client.get(url("importable_files.undo", upload_id=upload.id)).get_data(as_text=True)
    digest = page.split('name="digest" type="hidden" value="')[1].split('"')[0]

    real_apply = undo_module._apply
    monkeypatch.setattr(undo_module, "_apply", lambda plan, progress=None: (_ for _ in ()).throw(MemoryError()))
    client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": token, "digest": digest})
    stopped = Upload.get_by_id(upload.id)  # the job failed: nothing undone, the import still Completed
    assert stopped.state.is_completed and "nothing was undone" in stopped.refusal and Participant.select().count() == 29
    assert undo_module.changes_kept(upload) == 29

    monkeypatch.setattr(undo_module, "_apply", real_apply)
    monkeypatch.setattr(actions_module, "BEAT_SECONDS", 0)  # a beat each report: this small undo takes less than one
    beats = []
    real_beat = app.extensions["roster.jobs"].beat
    monkeypatch.setattr(app.extensions["roster.jobs"], "beat", lambda uid, done=0, total=None: (beats.append((done, total)), real_beat(uid, done, total)))
    response = client.post(url("importable_files.undo", upload_id=upload.id), data={"csrf_token": token, "digest": digest})
    assert response.status_code == 302
    done = Upload.get_by_id(upload.id)
    assert done.state.is_undone and done.refusal is None and Participant.select().count() == 0
    assert (29, 29) in beats  # progress, beaten into the queue's store for the page's bar

    # A worker that died mid-undo: the watch puts the import back to Completed, with the reason.
    other = Upload.create(organization=upload.organization, uploaded_by=upload.uploaded_by, original_filename="x.csv",
                          sha256="0" * 64, status="processing", processing_step=UNDOING,
                          step_at=utcnow() - timedelta(minutes=5), completed_at=utcnow())
    assert app.extensions["roster.jobs"].actions.watch(stall_seconds=60) >= 1
    back = Upload.get_by_id(other.id)
    assert back.state.is_completed and "Undo Import stopped before it finished" in back.refusal
