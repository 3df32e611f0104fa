"""The shape the code promises (docs/architecture.md): the domain loads no Flask."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import app.importer

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = sorted(f"app.importer.{m.name}" for m in pkgutil.iter_modules(app.importer.__path__)) + [
    "app.audit", "app.backup", "app.models", "app.retention", "app.text"]


@pytest.mark.parametrize("module", DOMAIN)
def test_importing_domain_code_loads_no_flask(module):
    code = f"import sys, {module}; print('flask' in sys.modules, 'werkzeug' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], module


@pytest.mark.parametrize("child", ["app.importer.check_process", "app.importer.search_child", "app.importer.plan_process"])
def test_a_child_process_loads_no_database_layer(child):
    """The row check child reads and checks rows, the duplicate search child compares records: neither
    touches the database, and their start (the row check child's before the first rows reach the preview)
    is not spent loading peewee, the drivers, the models or the matching. The plans' reader of a
    completion opens the database through the driver alone, once it knows which."""
    loaded = ["peewee", "psycopg2", "app.models", "app.importer.bulk", "app.importer.matching", "app.importer.participant_reads"]
    if child.endswith("check_process"):
        loaded.append("app.importer.duplicates")  # the search child's own work
    code = f"import sys, {child}; print(*[m for m in {loaded!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], child
