"""Importable Files: upload, preview, complete, delete."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.security import role_required

bp = Blueprint("importable_files", __name__, url_prefix="/importable-files")

can_import = role_required(lambda user: user.can_import)


@bp.route("/")
@can_import
def index():
    return render_template("importable_files/index.html")
