"""Identification systems (organization admins): list, add, rename. MRN is always there and the default."""
from __future__ import annotations

import peewee as pw
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from app.administration import Refused, add_id_system, rename_id_system
from app.models import DEFAULT_ID_SYSTEM, IdentificationSystem, ParticipantIdentifier
from app.security import can_manage_organization
from app.web.rendering import render_fragment, render_page_or_fragment, wants_fragment
from app.web.scoping import of_current_org, signed_in_user

bp = Blueprint("id_systems", __name__, url_prefix="/id-systems")


class NameForm(FlaskForm):
    name = StringField("Name")


def _with_counts(query):
    return (query.select_extend(pw.fn.COUNT(ParticipantIdentifier.id).alias("identifier_count"))
            .join(ParticipantIdentifier, pw.JOIN.LEFT_OUTER).group_by(IdentificationSystem.id))


def _counted(system: IdentificationSystem) -> IdentificationSystem:
    return _with_counts(IdentificationSystem.select().where(IdentificationSystem.id == system.id)).get()


def _index(form: NameForm, status: int = 200, error: str | None = None):
    systems = _with_counts(IdentificationSystem.for_org(current_user.organization))
    return render_template("id_systems/index.html", systems=systems, form=form, error=error,
                           default=DEFAULT_ID_SYSTEM), status


def _fragment(template: str, status: int = 200, **context):
    return render_fragment(template, status, default=DEFAULT_ID_SYSTEM, **context)


@bp.route("/")
@can_manage_organization
def index():
    return _index(NameForm())


@bp.route("/", methods=["POST"])
@can_manage_organization
def add():
    form = NameForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    try:
        system = add_id_system(current_user.organization, form.name.data, by=signed_in_user(),
                               ip=request.remote_addr)
    except Refused as refused:
        return _index(form, 422, error=refused.message)
    flash(f'Added the identification system "{system.name}". Imports can name it in the ID System column.', "success")
    return redirect(url_for(".index"))


@bp.route("/<int:system_id>")
@can_manage_organization
def row(system_id: int):
    """The row as shown in the list (htmx: Cancel of a rename); a plain visit goes to the list."""
    system = of_current_org(IdentificationSystem, system_id)
    if not wants_fragment():
        return redirect(url_for(".index"))
    return _fragment("id_systems/_row.html", system=_counted(system))


@bp.route("/<int:system_id>/rename", methods=["GET", "POST"])
@can_manage_organization
def rename(system_id: int):
    system = of_current_org(IdentificationSystem, system_id)
    form = NameForm(name=system.name)
    error = None
    if form.validate_on_submit():
        try:
            rename_id_system(system, form.name.data, by=signed_in_user(), ip=request.remote_addr)
        except Refused as refused:
            error = refused.message
        else:
            if wants_fragment():
                return _fragment("id_systems/_row.html", system=_counted(system))
            flash(f'Renamed to "{system.name}".', "success")
            return redirect(url_for(".index"))
    status = 422 if error else 200
    return render_page_or_fragment("id_systems/rename.html", "id_systems/_rename_row.html",
                                   system=_counted(system), form=form, error=error, default=DEFAULT_ID_SYSTEM), status
