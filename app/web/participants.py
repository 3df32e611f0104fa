"""A participant's page: what Roster holds of them, their groups and the imports that wrote them."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from app.models import Participant
from app.web.scoping import of_current_org

bp = Blueprint("participants", __name__, url_prefix="/participants")


@bp.route("/<int:participant_id>")
@login_required
def show(participant_id: int):
    participant = of_current_org(Participant, participant_id)
    return render_template("participants/show.html", participant=participant)
