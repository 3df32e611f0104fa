"""One peer case in its own process, run with the peer venv's python (it has Django, not Roster's deps):

    .venv/bin/python bench/peer/run.py FILE CHANGED_FILE [--db sqlite|postgres] [--clean] [--skip-html-diff] [--no-bulk]

FILE and CHANGED_FILE are bench.files outputs (participants-N.csv and participants-N-changed.csv, or .xlsx).
Prints one JSON line shaped like bench.case's.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import django
from django.apps import AppConfig
from django.conf import settings

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/peer_bench"  # never "test": that one is someone else's
EXISTING_EVERY = 20  # as bench.case: rows n % 20 == 3 belong to participants who already exist


class PeerConfig(AppConfig):
    """This script as the Django app "peer", so its model needs no package of its own."""

    name = "__main__"
    label = "peer"
    default_auto_field = "django.db.models.BigAutoField"


def configure(kind: str, directory: Path) -> None:
    if kind == "sqlite":
        # The pragmas Roster's open_database sets, so the database file behaves alike on both sides.
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "peer.db"),
                    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}
    else:
        ensure_postgres_database()
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": "peer_bench", "USER": "postgres",
                    "HOST": "127.0.0.1", "PORT": "5432"}
    settings.configure(
        DEBUG=False,  # DEBUG=True would keep every query in memory
        DATABASES={"default": database},
        INSTALLED_APPS=["import_export", "__main__.PeerConfig"],
        USE_TZ=True,
        # DateWidget() tries these in turn: the file has both ISO and US dates.
        DATE_INPUT_FORMATS=["%Y-%m-%d", "%m/%d/%Y"],
        IMPORT_EXPORT_USE_TRANSACTIONS=True,
    )
    django.setup()


def ensure_postgres_database() -> None:
    import psycopg2

    connection = psycopg2.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'peer_bench'")
        if cursor.fetchone() is None:
            cursor.execute('CREATE DATABASE "peer_bench"')
    connection.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("changed", type=Path)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clean", action="store_true", help="clean_model_instances: full_clean() every row")
    parser.add_argument("--skip-html-diff", action="store_true", help="no per-row HTML diff for the preview page")
    parser.add_argument("--no-bulk", action="store_true", help="save() per row instead of bulk_create/bulk_update")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    try:
        configure(args.db, directory)
        print(json.dumps(run(args)))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run(args) -> dict:
    # Django must be configured before models and resources can be defined.
    import import_export
    from django.db import connection, models
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import CSV, XLSX
    from import_export.instance_loaders import CachedInstanceLoader

    class Participant(models.Model):
        first_name = models.CharField(max_length=100)
        last_name = models.CharField(max_length=100)
        date_of_birth = models.DateField(null=True)
        email = models.EmailField(blank=True)
        mobile_phone = models.CharField(max_length=40, blank=True)
        home_phone = models.CharField(max_length=40, blank=True)
        gender = models.CharField(max_length=20, blank=True)
        patient_id = models.CharField(max_length=40, unique=True)
        # Text, not M2M: with use_bulk django-import-export skips M2M fields entirely (save_m2m does nothing).
        groups = models.CharField(max_length=200, blank=True)
        primary_coach = models.CharField(max_length=254, blank=True)  # the coach's email, not a link to a user
        street = models.CharField(max_length=200, blank=True)
        city = models.CharField(max_length=100, blank=True)
        state = models.CharField(max_length=40, blank=True)
        postal_code = models.CharField(max_length=20, blank=True)
        note = models.TextField(blank=True)

        class Meta:
            app_label = "peer"  # PeerConfig; the table is made below, without migrations

    columns = {"first_name": "First Name", "last_name": "Last Name", "date_of_birth": "Date of Birth",
               "email": "Email", "mobile_phone": "Mobile Phone", "home_phone": "Home Phone", "gender": "Gender",
               "patient_id": "Patient ID", "groups": "Group", "primary_coach": "Primary Coach",
               "street": "Street Address", "city": "City", "state": "State", "postal_code": "Postal Code",
               "note": "Note"}

    class Meta:
        model = Participant
        fields = list(columns)
        import_id_fields = ["patient_id"]
        instance_loader_class = CachedInstanceLoader  # one query for all the file's Patient IDs
        use_bulk = not args.no_bulk  # Django's bulk_update is slow: --no-bulk updates faster (README)
        batch_size = 1000
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = args.clean
        skip_html_diff = args.skip_html_diff

    # Header → field, as the file spells it; the date widget reads DATE_INPUT_FORMATS (both formats).
    declared = {name: fields.Field(attribute=name, column_name=header,
                                   widget=widgets.DateWidget() if name == "date_of_birth" else widgets.CharWidget())
                for name, header in columns.items()}
    ParticipantResource = type("ParticipantResource", (resources.ModelResource,), {**declared, "Meta": Meta})

    with connection.schema_editor() as editor:
        if args.db == "postgres":
            editor.execute("DROP TABLE IF EXISTS peer_participant")
        editor.create_model(Participant)

    # The participants the file will match, from the file itself (the peer venv lacks bench.files).
    existing = [Participant(first_name=r["First Name"], last_name=r["Last Name"], date_of_birth=date(1960, 1, 1),
                            email=r["Email"], patient_id=r["Patient ID"])
                for n, r in enumerate(read_rows(args.file), start=1) if n % EXISTING_EVERY == 3]
    Participant.objects.bulk_create(existing, batch_size=1000)

    file_format = args.file.suffix.lstrip(".")
    result = {"rows": 0, "format": file_format, "db": args.db, "existing": len(existing), "phases": [],
              "versions": {"django": django.get_version(), "django-import-export": import_export.__version__}}

    def dataset(path: Path):
        # As the admin does: the format's create_dataset on the uploaded bytes.
        reader = CSV(encoding="utf-8-sig") if path.suffix == ".csv" else XLSX()
        return reader.create_dataset(path.read_bytes())

    def phase(name: str, path: Path, dry_run: bool):
        started = time.perf_counter()
        outcome = ParticipantResource().import_data(dataset(path), dry_run=dry_run)
        result["phases"].append({"phase": name, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()})
        if outcome.has_errors():  # an exception, not a bad row: the whole import was rolled back
            raise SystemExit(f"{name}: {outcome.base_errors or outcome.row_errors()[:1]}")
        result["rows"] = outcome.total_rows
        return dict(outcome.totals)

    # The admin flow: a dry run to show the changes, then the same file again for real.
    result["counts"] = phase("preview", args.file, True)
    result["complete_counts"] = phase("complete (create)", args.file, False)
    result["update_counts"] = phase("preview (update)", args.changed, True)
    result["complete_update_counts"] = phase("complete (update)", args.changed, False)
    result["participants"] = Participant.objects.count()
    connection.close()
    return result


def read_rows(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).active
    lines = sheet.iter_rows(values_only=True)
    headers = next(lines)
    return [dict(zip(headers, (v or "" for v in line), strict=True)) for line in lines]


if __name__ == "__main__":
    main()
