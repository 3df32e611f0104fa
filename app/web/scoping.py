"""Objects as the signed-in user may see them: their own organization's, or 404."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.models import User


def of_current_org(model, object_id: int | None):
    """The object, if it belongs to the signed-in user's organization; 404 otherwise, so ids leak nothing."""
    found = model.get_or_none((model.id == object_id) & (model.organization == current_user.organization_id))
    if found is None:
        abort(404)
    return found


def signed_in_user() -> User:
    """The user model itself, not flask-login's proxy, for domain functions and peewee."""
    return current_user._get_current_object()
