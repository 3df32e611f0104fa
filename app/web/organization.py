"""The organization's settings, for its admins: today its time zone (the times every page shows)."""
from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from app import audit
from app.models import Organization, db
from app.security import can_manage_organization

bp = Blueprint("organization", __name__, url_prefix="/organization")


@cache
def zones() -> list[str]:
    """Every IANA time zone name. Read from disk on first use: listing them took 77 ms of every start-up."""
    return sorted(available_timezones() - {"localtime", "Factory"})


class SettingsForm(FlaskForm):
    time_zone = SelectField("Time zone", choices=zones,
                            description="Pages show times in this zone; each time's UTC is in its tooltip.")


@bp.route("/", methods=["GET", "POST"])
@can_manage_organization
def settings():
    org = current_user.organization
    form = SettingsForm(time_zone=org.time_zone)
    if form.validate_on_submit():
        with db.atomic():
            Organization.update(time_zone=form.time_zone.data).where(Organization.id == org.id).execute()
            audit.record("organization_updated", user=current_user, obj=org, ip=request.remote_addr,
                         details={"time_zone": form.time_zone.data})
        flash(f"Times are now shown in {form.time_zone.data}.", "success")
        return redirect(url_for(".settings"))
    return render_template("organization/settings.html", form=form, org=org), 200 if request.method == "GET" else 422
