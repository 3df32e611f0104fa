"""Preview: every matching branch of SPEC 7, counts, file-level issues, the corpus file."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.importer import preview as preview_module
from app.importer.apply import complete_import
from app.importer.lifecycle import FAILED, PENDING, fail
from app.importer.preview import CANNOT_PROCESS, PARTICIPANTS_GONE, create_upload, preview_upload
from app.models import Participant, ParticipantGroup, ParticipantIdentifier, Upload, UploadRow, User, db
from tests.importer.conftest import csv, spy

CORPUS = Path(__file__).resolve().parents[1] / "files" / "corpus" / "synthea-patients.csv"


def rows_of(upload):
    return {r.row_number: r for r in UploadRow.select().where(UploadRow.upload == upload)}


def messages(row):
    return [i["message"] for i in row.issues or []]


def person(org, first, last, born=date(1980, 1, 2), email=None, group=None, patient_id=None):
    p = Participant.create(organization=org, first_name=first, last_name=last, date_of_birth=born,
                           email=email, email_key=email.lower() if email else None)
    if group:
        ParticipantGroup.create(participant=p, group=group)
    if patient_id:
        ParticipantIdentifier.create(participant=p, system=org.id_systems.get(), value=patient_id)
    return p


def test_new_rows_are_created_with_names_as_they_will_appear(preview):
    upload = preview(csv("José,García,1969-01-19,jose@mail.org,00123,Diabetes Prevention",
                         "Ann,Lee,01/02/1980,ann@mail.org,,Hypertension"))
    assert upload.status == PENDING
    assert (upload.row_count, upload.created_count, upload.updated_count, upload.error_count) == (2, 2, 0, 0)
    rows = rows_of(upload)
    assert rows[2].action == "create" and rows[2].display_name == "José García"
    assert rows[2].plan["identifier"][1] == "00123"
    assert rows[3].display_name == "Ann Lee"


def test_patient_id_match_updates_and_lists_changes(preview, demo_org, group):
    existing = person(demo_org, "Ann", "Lee", email="ann@old.org", group=group, patient_id="00042")
    upload = preview(csv("Ann,Lee,1980-01-02,ann@new.org,00042,Diabetes Prevention"))
    row = rows_of(upload)[2]
    assert row.action == "update" and row.participant_id == existing.id
    assert row.changes == [["Email", "ann@old.org", "ann@new.org"]]


def test_name_and_email_match_case_insensitively(preview, demo_org, group):
    existing = person(demo_org, "Ann", "Lee", email="Ann@Mail.org", group=group)
    row = rows_of(preview(csv("ANN,lee,1980-01-02,ann@mail.ORG,,Diabetes Prevention")))[2]
    assert row.participant_id == existing.id and row.action in ("update", "unchanged")


def test_name_and_birth_date_match_only_without_email(preview, demo_org, group):
    existing = person(demo_org, "Ann", "Lee", group=group)
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,,,Diabetes Prevention")))[2]
    assert row.action == "unchanged" and row.participant_id == existing.id


def test_name_and_birth_date_are_looked_up_only_for_rows_the_patient_id_and_email_do_not_match(preview, demo_org, group):
    # One chunk: Ann's Patient ID is held, so her namesakes do not make her ambiguous; Bo's Patient ID is
    # new and he has no email, so he matches by name and date of birth.
    ann = person(demo_org, "Ann", "Lee", group=group, patient_id="00042")
    person(demo_org, "Ann", "Lee", group=group)
    bo = person(demo_org, "Bo", "Lee", group=group)
    rows = rows_of(preview(csv("Ann,Lee,1980-01-02,,00042,Diabetes Prevention",
                               "Bo,Lee,1980-01-02,,00077,Diabetes Prevention")))
    assert (rows[2].action, rows[2].participant_id) == ("unchanged", ann.id)
    assert (rows[3].action, rows[3].participant_id) == ("update", bo.id)


def test_a_date_of_birth_stored_with_a_time_reads_as_that_date(preview, demo_org, group):
    # Written outside Roster (SQLite keeps the text as given): read as a date and time by stored_date's
    # second form, after the date-only ISO one fails, so the row is unchanged.
    ann = person(demo_org, "Ann", "Lee", group=group, patient_id="00042")
    db.execute_sql(f"UPDATE participant SET date_of_birth = {db.param} WHERE id = {db.param}", ("1980-01-02 00:00:00", ann.id))
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,,00042,Diabetes Prevention")))[2]
    assert (row.action, row.participant_id, row.changes) == ("unchanged", ann.id, None)


@pytest.mark.parametrize("from_the_start", [False, True])
def test_rows_remembered_in_the_compact_table_are_refused_as_in_a_dict(preview, demo_org, group, monkeypatch,
                                                                       from_the_start):
    # The earlier rows' keys move to the table at the first row, or (a file whose row estimate says it is
    # long) are in it from the start: every repeat below is found there.
    from app.importer import earlier

    dee = person(demo_org, "Dee", "Ray", group=group, patient_id="900")
    content = csv("Ann,Lee,1980-01-02,ann@mail.org,7,Diabetes Prevention",
                  "Dee,Ray,1980-01-02,,900,Diabetes Prevention",
                  "Bo,Lee,1981-01-02,bo@mail.org,7,Diabetes Prevention",
                  "Cy,Lee,1982-01-02,ANN@mail.org,,Diabetes Prevention",
                  "Dee,Ray,1980-01-02,,,Diabetes Prevention",
                  "Eve,Lee,1983-01-02,eve@mail.org,8,Diabetes Prevention")

    def outcome(upload):
        return {n: (r.action, r.participant_id, messages(r)) for n, r in rows_of(upload).items()}

    in_a_dict = outcome(preview(content))
    monkeypatch.setattr(preview_module, "COMPACT_AT", 1)
    if not from_the_start:
        monkeypatch.setattr(preview_module, "KEYS_PER_ROW", 0)  # no estimate of the keys
    compacted = spy(monkeypatch, earlier.EarlierRows, "_compact")
    tables = spy(monkeypatch, earlier.EarlierRows, "_empty_table")
    in_the_table = outcome(preview(content))
    assert (compacted, tables) == (([], [1]) if from_the_start else ([1], [1]))
    assert in_the_table == in_a_dict
    assert [in_the_table[n][0] for n in range(2, 8)] == ["create", "unchanged", "error", "error", "error", "create"]
    assert 'Patient ID "7" is also on row 2' in in_the_table[4][2][-1]
    assert "is also on row 2" in in_the_table[5][2][-1]
    assert "This row and row 3 are the same participant" in in_the_table[6][2][-1] and in_the_table[3][1] == dee.id


def test_two_candidates_is_an_error(preview, demo_org):
    person(demo_org, "Ann", "Lee")
    person(demo_org, "Ann", "Lee")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,,,Diabetes Prevention")))[2]
    assert row.action == "error"
    assert "2 participants have this name and date of birth" in messages(row)[-1]


def test_later_row_for_the_same_patient_id_or_email_is_an_error_naming_the_earlier(preview):
    upload = preview(csv("Ann,Lee,1980-01-02,ann@mail.org,7,Diabetes Prevention",
                         "Bo,Lee,1981-01-02,bo@mail.org,7,Diabetes Prevention",
                         "Cy,Lee,1982-01-02,ANN@mail.org,,Diabetes Prevention"))
    rows = rows_of(upload)
    assert rows[2].action == "create"
    assert rows[3].action == "error" and 'Patient ID "7" is also on row 2' in messages(rows[3])[-1]
    assert rows[4].action == "error" and "is also on row 2" in messages(rows[4])[-1]
    assert rows[4].issues[-1]["column"] == "Email"
    assert upload.error_count == 2


def test_two_rows_resolving_to_one_participant_is_an_error(preview, demo_org):
    person(demo_org, "Ann", "Lee", email="ann@mail.org", patient_id="9")
    rows = rows_of(preview(csv("Ann,Lee,1980-01-02,,9,Diabetes Prevention",
                               "Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention")))
    assert rows[2].action == "update"
    assert rows[3].action == "error" and "row 2 are the same participant" in messages(rows[3])[-1]


def test_email_held_by_another_participant_is_an_error(preview, demo_org):
    person(demo_org, "Zoe", "Ray", email="shared@mail.org")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,shared@mail.org,,Diabetes Prevention")))[2]
    assert row.action == "error" and "belongs to another participant (Zoe Ray)" in messages(row)[-1]


def test_same_name_and_birth_date_with_other_email_warns_possible_duplicate(preview, demo_org):
    person(demo_org, "Ann", "Lee", email="ann@one.org")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,ann@two.org,,Diabetes Prevention")))[2]
    assert row.action == "create" and row.has_warning
    assert messages(row)[-1].startswith("Possible duplicate of Ann Lee, born 1980-01-02 (score 1.00: same first name")


def test_name_change_on_update_warns_old_to_new(preview, demo_org, group):
    person(demo_org, "Ann", "Lee", group=group, patient_id="5")
    row = rows_of(preview(csv("Anne,Lee-Smith,1980-01-02,,5,Diabetes Prevention")))[2]
    assert row.action == "update" and row.display_name == "Anne Lee-Smith"
    assert 'Name will change from "Ann Lee" to "Anne Lee-Smith".' in messages(row)


def test_blank_cells_never_clear_and_unchanged_rows_say_so(preview, demo_org, group):
    person(demo_org, "Ann", "Lee", email="ann@mail.org", group=group, patient_id="5")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,,5,Diabetes Prevention")))[2]
    assert row.action == "unchanged" and row.changes is None


def test_new_group_for_existing_participant_is_a_change(preview, demo_org, group):
    person(demo_org, "Ann", "Lee", email="ann@mail.org", group=group, patient_id="5")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,ann@mail.org,5,Hypertension")))[2]
    assert row.action == "update" and row.changes == [["Group", "", "Hypertension"]]


def test_blank_rows_are_counted_and_skipped(preview):
    upload = preview(csv("Ann,Lee,1980-01-02,a@b.org,,Diabetes Prevention", ",,,,,", "Bo,Ray,1980-01-02,b@b.org,,Diabetes Prevention"))
    assert (upload.created_count, upload.blank_count, upload.row_count) == (2, 1, 2)


def test_a_missing_required_column_waits_for_a_person_before_any_row_is_read(preview):
    upload = preview(csv("Ann,1980-01-02", "Bo,1981-01-01", header="First Name,Date of Birth"))
    assert upload.state.needs_mapping and upload.row_count is None
    assert upload.mapping == [{"index": 0, "header": "First Name", "field": "first_name", "how": "exact"},
                              {"index": 1, "header": "Date of Birth", "field": "date_of_birth", "how": "exact"}]
    assert UploadRow.select().count() == 0


def test_a_pdf_renamed_csv_fails_with_the_reason(preview):
    upload = preview(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\x00\x00", filename="list.csv")
    assert upload.status == FAILED and "not a spreadsheet" in upload.failure_reason.lower()


def test_upload_group_is_used_when_the_file_has_no_group_column(preview, group):
    upload = preview(csv("Ann,Lee,1980-01-02,a@b.org", header="First Name,Last Name,Date of Birth,Email"), group=group)
    assert upload.created_count == 1 and rows_of(upload)[2].plan["groups"] == [group.id]


def test_synthea_corpus_previews_all_created_then_all_unchanged(preview, group, store):
    data = CORPUS.read_bytes()
    upload = preview(data, filename="synthea-patients.csv", group=group)
    assert (upload.created_count, upload.error_count, upload.row_count) == (543, 0, 543)
    ignored = [i for i in upload.file_issues if i["message"].startswith("Columns ignored")]
    assert len(ignored) == 1 and '"SSN"' in ignored[0]["message"]
    complete_import(upload, User.by_email("admin@demo.example"), store=store)
    again = preview(data, filename="synthea-patients.csv", group=group)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 543)


def test_a_second_patient_id_in_the_same_system_is_an_error(preview, demo_org, group):
    person(demo_org, "Ann", "Lee", email="ann@mail.org", group=group, patient_id="001")
    row = rows_of(preview(csv("Ann,Lee,1980-01-02,ann@mail.org,002,Diabetes Prevention")))[2]
    assert row.action == "error"
    assert messages(row)[-1] == ('This participant\'s MRN is "001", not "002". '
                                 'Correct the Patient ID, or leave it blank to keep "001".')


def test_a_second_patient_id_is_an_error_beside_rows_whose_patient_ids_are_held(preview, demo_org, group):
    person(demo_org, "Ann", "Lee", email="ann@mail.org", group=group, patient_id="001")
    person(demo_org, "Bo", "Ray", email="bo@mail.org", group=group, patient_id="003")
    rows = rows_of(preview(csv("Bo,Ray,1980-01-02,bo@mail.org,003,Diabetes Prevention",
                               "Ann,Lee,1980-01-02,ann@mail.org,002,Diabetes Prevention")))
    assert rows[2].action != "error" and rows[2].participant_id is not None  # Bo, by his Patient ID
    assert rows[3].action == "error" and messages(rows[3])[-1].startswith('This participant\'s MRN is "001", not "002".')


def test_the_fingerprint_is_taken_before_matching(preview, demo_org, monkeypatch):
    """A participant added while a preview runs makes that preview stale."""
    real = preview_module.Matcher.start

    def add_someone_meanwhile(self, rows):
        Participant.create(organization=demo_org, first_name="Late", last_name="Comer")
        return real(self, rows)

    monkeypatch.setattr(preview_module.Matcher, "start", add_someone_meanwhile)
    upload = preview(csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention"))
    from app.importer.reference import participants_fingerprint
    assert upload.fingerprint != participants_fingerprint(demo_org)


# --- the chunk writer: each chunk stored with its progress (on PostgreSQL from a second connection) ----

def _many(rows: int) -> str:
    return csv(*(f"Ann{n},Lee,1980-01-02,ann{n}@mail.org,{n:05d},Diabetes Prevention" for n in range(rows)))


def _upload(demo_org, store, content: str):
    data = content.encode()
    return create_upload(demo_org, User.by_email("uploader@demo.example"), "many.csv", data, store), data


@pytest.mark.parametrize("hold, stored", [
    (0, [1_000, 2_000, 2_500]),
    (5_000, [0, 0, 0]),  # every row creates: held for the duplicate search, then stored after the last chunk
])
def test_chunks_are_stored_with_their_progress_by_the_time_each_is_reported(demo_org, store, monkeypatch, hold, stored):
    from app.importer import search_process

    monkeypatch.setattr(search_process, "HOLD_ROWS", hold)
    monkeypatch.setattr(search_process, "HOLD_FROM", 0)
    upload, data = _upload(demo_org, store, _many(2_500))
    seen = []

    def progress(done, total):  # runs after each chunk commits
        seen.append((done, UploadRow.select().where(UploadRow.upload == upload).count(),
                     Upload.get_by_id(upload.id).progress_done))

    done = preview_upload(upload, data, progress=progress)
    assert done.status == PENDING and done.created_count == 2_500
    assert [(done, committed) for done, _, committed in seen] == [(1_000, 1_000), (2_000, 2_000), (2_500, 2_500)]
    assert [count for _, count, _ in seen] == stored
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 2_500


ROWS, READ = None, "participants"


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("hold, said", [
    # every row held: the participants are read after the last chunk, the held rows stored after them
    (5_000, [(ROWS, 1_000), (ROWS, 2_000), (ROWS, 2_500), (READ, 4), (READ, 8), (READ, 10)]),
    # the first chunk held: the participants are read with the second, before the first is stored
    (1_500, [(READ, 4), (READ, 8), (READ, 10), (ROWS, 1_000), (ROWS, 2_000), (ROWS, 2_500)]),
])
def test_participants_read_for_the_duplicate_search_are_counted_as_participants(demo_org, store, monkeypatch, parallel,
                                                                                 hold, said):
    """A large organization's participants are read for the duplicate search while the rows read stand
    still: the page and the CLI count them meanwhile, as participants, then the rows again."""
    from app.importer import participant_reads, search_process

    monkeypatch.setattr(search_process, "PARALLEL_ROWS", 0 if parallel else 10**9)
    monkeypatch.setattr(search_process, "HOLD_ROWS", hold)
    monkeypatch.setattr(search_process, "HOLD_FROM", 0)
    monkeypatch.setattr(participant_reads, "PARTICIPANT_PAGE", 4)
    Participant.insert_many([{"organization": demo_org.id, "first_name": f"Pat{n}", "last_name": "Roe"}
                             for n in range(10 - demo_org.participants.count())]).execute()
    upload, data = _upload(demo_org, store, _many(2_500))
    seen = []

    def progress(done, total, unit=None):
        stored = Upload.get_by_id(upload.id)
        seen.append((unit, done, total, (stored.progress_unit, stored.progress_done, stored.progress_total)))

    done = preview_upload(upload, data, progress=progress)
    assert done.status == PENDING and done.created_count == 2_500
    assert [(unit, count) for unit, count, _, _ in seen] == said
    assert all(stored == (unit, count, total) for unit, count, total, stored in seen)  # what the page shows
    assert {total for unit, _, total, _ in seen if unit == READ} == {10}
    assert {total for unit, _, total, _ in seen if unit == ROWS} == {done.progress_total}  # the rows' estimate
    assert done.progress_unit is None


def test_a_preview_marked_failed_meanwhile_stops_at_the_next_chunk_and_keeps_no_rows(demo_org, store):
    upload, data = _upload(demo_org, store, _many(3_500))
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 1_000:
            fail(Upload.get_by_id(upload.id), "Stopped by the test.")

    done = preview_upload(upload, data, progress=progress)
    assert calls == [1_000]
    assert done.status == FAILED and done.failure_reason == "Stopped by the test."
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0


def test_a_failing_write_fails_the_preview_and_keeps_no_rows(demo_org, store):
    upload, data = _upload(demo_org, store, _many(2_500))

    def progress(done, total):
        raise OSError("the writer's side failed")

    done = preview_upload(upload, data, progress=progress)
    assert done.status == FAILED and done.failure_reason == CANNOT_PROCESS
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0


def test_a_failure_while_checking_stops_the_writer_and_keeps_no_rows(demo_org, store, monkeypatch):
    upload, data = _upload(demo_org, store, _many(2_500))
    from app.importer import check_process

    real_check_cells = check_process.check_cells

    def check_cells(row, cells, rules, ref):
        if row == 1_800:
            raise RuntimeError("a bug while checking")
        return real_check_cells(row, cells, rules, ref)

    monkeypatch.setattr(check_process, "check_cells", check_cells)
    done = preview_upload(upload, data)
    assert done.status == FAILED and done.failure_reason == CANNOT_PROCESS
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0


def test_a_finish_rolled_back_after_its_claim_still_ends_failed_not_processing(demo_org, store, monkeypatch):
    upload, data = _upload(demo_org, store, _many(30))
    real_finish = preview_module._finish

    def finish_then_fail(*args):
        assert real_finish(*args)  # Pending, in the transaction...
        raise OSError("the commit failed")  # ...which then rolls back

    monkeypatch.setattr(preview_module, "_finish", finish_then_fail)
    done = preview_upload(upload, data)
    assert (done.status, done.failure_reason) == (FAILED, CANNOT_PROCESS)
    assert Upload.get_by_id(upload.id).status == FAILED


# --- a large preview is read and checked in a child process (app/importer/check_process.py) -------------

def _everything(upload) -> tuple:
    rows = [(r.row_number, r.action, r.participant_id, r.display_name, r.values, r.changes, r.plan, r.issues,
             r.issue_kinds, r.has_error, r.has_warning)
            for r in UploadRow.select().where(UploadRow.upload == upload).order_by(UploadRow.row_number)]
    counted = (upload.status, upload.row_count, upload.blank_count, upload.created_count, upload.updated_count,
               upload.unchanged_count, upload.error_count, upload.warning_count, upload.issue_summary, upload.progress_done)
    return rows, counted


def test_rows_checked_in_a_child_process_are_exactly_those_checked_here(preview, demo_org, monkeypatch):
    from app.importer import check_process
    from bench.case import seed_existing
    from bench.files import csv_bytes, rows

    seed_existing(demo_org, 2500)  # one row in 20 updates
    table = rows(2500)
    table[40:40] = [[""] * len(table[0])] * 3  # blank rows in the middle
    table[7][2] = "30/02/1980"  # and an error, besides the bench's own errors and warnings
    data = csv_bytes(table)
    here = _everything(preview(data))
    monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
    started = []
    monkeypatch.setattr(check_process.children, "start", lambda command, real=check_process.children.start, **kwargs:
                        started.append(command) or real(command, **kwargs))
    in_child = _everything(preview(data))
    assert started == [check_process.COMMAND]
    assert in_child == here
    assert here[1][2] == 3 and here[1][6] > 0 and here[1][4] > 0  # blanks, errors and updates were all there


def test_a_file_the_child_cannot_read_is_refused_with_the_same_words(preview, monkeypatch):
    from app.importer import check_process

    data = csv(*(f"Ann{n},Lee,1980-01-02,,,Diabetes Prevention" for n in range(30)), 'Bo,"' + "x" * 200_000 + '"')
    here = preview(data)
    monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
    in_child = preview(data)
    assert here.status == in_child.status == FAILED
    assert in_child.failure_reason == here.failure_reason and "could not be read as CSV" in here.failure_reason
    assert UploadRow.select().where(UploadRow.upload == in_child).count() == 0


def test_a_check_child_that_dies_fails_the_preview_and_keeps_no_rows(preview, monkeypatch):
    from app.importer import check_process

    monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(check_process, "COMMAND", ["/bin/sh", "-c", "exit 1"])
    upload = preview(_many(30))
    assert (upload.status, upload.failure_reason) == (FAILED, CANNOT_PROCESS)
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0


def _read_here(monkeypatch) -> list[str]:
    """The sheets this process reads itself (reader.build_sheet: every format's reader ends there)."""
    from app.importer import reader

    read = []
    monkeypatch.setattr(reader, "build_sheet", lambda *args, real=reader.build_sheet, **kwargs:
                        read.append(args[2]) or real(*args, **kwargs))
    return read


def test_a_workbook_read_in_the_child_gives_the_same_rows_and_this_process_never_reads_it(preview, demo_org, monkeypatch):
    # The child reads the workbook once and sends the first rows; before, the preview read the whole
    # sheet too (1.2 s and 150 MB at 100,000 rows) only to take its headers and first thousand rows.
    from app.importer import check_process
    from bench.case import seed_existing
    from bench.files import rows, xlsx_bytes

    seed_existing(demo_org, 1500)
    table = rows(1500)
    table[5][2] = "30/02/1980"
    data = xlsx_bytes(table)
    here = _everything(preview(data, filename="patients.xlsx"))
    read = _read_here(monkeypatch)
    monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
    in_child = _everything(preview(data, filename="patients.xlsx"))
    assert read == [] and in_child == here
    assert here[1][0] == PENDING and here[1][6] > 0 and here[1][4] > 0


def test_a_large_kept_file_is_read_by_the_child_from_the_store_and_never_whole_here(demo_org, store, monkeypatch):
    # As a worker previews an upload: from the store. The child reads it there a piece at a time; this
    # process neither decrypts it nor reads its sheet.
    from app.importer import check_process
    from app.storage import FileStore
    from bench.case import seed_existing
    from bench.files import csv_bytes, rows

    seed_existing(demo_org, 2500)
    table = rows(2500)
    table[7][2] = "30/02/1980"
    data = csv_bytes(table)
    user = User.by_email("uploader@demo.example")

    def previewed(file_of) -> tuple:
        upload = create_upload(demo_org, user, "patients.csv", data, store)
        return _everything(preview_upload(upload, file_of(upload)))

    here = previewed(lambda upload: data)
    monkeypatch.setattr(check_process, "KEPT_BYTES", 0)
    read = _read_here(monkeypatch)
    for method in ("load", "pieces"):
        monkeypatch.setattr(FileStore, method, lambda *args: pytest.fail("the file was read in the preview's process"))
    in_child = previewed(lambda upload: store.kept(upload.stored_name, upload.sha256, upload.size_bytes))
    assert read == [] and in_child == here
    assert here[1][0] == PENDING and here[1][6] > 0 and here[1][4] > 0


@pytest.mark.parametrize("kept_bytes", [0, 10**9], ids=["read in the child", "loaded here"])
def test_a_kept_file_that_does_not_match_its_sha256_fails_and_keeps_no_rows(demo_org, store, monkeypatch, kept_bytes):
    from app.importer import check_process

    monkeypatch.setattr(check_process, "KEPT_BYTES", kept_bytes)
    upload, _ = _upload(demo_org, store, _many(2_500))
    done = preview_upload(upload, store.kept(upload.stored_name, "0" * 64, upload.size_bytes))
    assert (done.status, done.failure_reason) == (FAILED, preview_module.FILE_GONE)
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0


def test_a_large_file_waiting_for_its_columns_reads_in_the_child_once_they_are_mapped(preview, actions, monkeypatch):
    from app.importer import check_process

    text = csv(*(f"Ann{n},Lee{n},1980-01-02,Diabetes Prevention" for n in range(40)),
               header="First Name,Column 2,Date of Birth,Group")
    chosen = {0: "first_name", 1: "last_name", 2: "date_of_birth", 3: "group"}
    user = User.by_email("admin@demo.example")

    def mapped() -> tuple:
        upload = preview(text)
        assert upload.state.needs_mapping and UploadRow.select().where(UploadRow.upload == upload).count() == 0
        return _everything(actions.confirm_mapping(upload, user, chosen, save=False, here=True))

    here = mapped()
    read = _read_here(monkeypatch)
    monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
    assert mapped() == here and read == [] and here[1][:2] == (PENDING, 40)


def test_a_file_the_child_refuses_on_opening_is_refused_with_the_same_words(preview, monkeypatch):
    from app.importer import check_process

    for data in (csv(), b"%PDF-1.4\n" + b"x" * 100, csv(header="1,2,3")):
        here = preview(data)
        monkeypatch.setattr(check_process, "PARALLEL_ROWS", 0)
        in_child = preview(data)
        monkeypatch.undo()
        assert here.status == in_child.status == FAILED and in_child.failure_reason == here.failure_reason


def test_a_participant_deleted_before_its_rows_are_stored_fails_the_preview(preview, demo_org, monkeypatch):
    # The rows are stored without PostgreSQL's foreign-key checks (bulk.without_reference_checks): the
    # preview holds the participants they refer to, and says so when one is gone, on both engines.
    ann = person(demo_org, "Ann", "Lee", email="ann@mail.org")
    finish = preview_module.Matcher.finish

    def deleted_meanwhile(self, planned):
        done = finish(self, planned)  # matched; stored next (on PostgreSQL by the writer's connection)
        Participant.delete().where(Participant.id == ann.id).execute()
        return done

    monkeypatch.setattr(preview_module.Matcher, "finish", deleted_meanwhile)
    upload = preview(csv("Ann,Lee,1980-01-02,ann@mail.org,,Diabetes Prevention", "Bo,Kim,1990-03-04,,,"))
    assert upload.status == FAILED and upload.failure_reason == PARTICIPANTS_GONE
    assert UploadRow.select().where(UploadRow.upload == upload).count() == 0
