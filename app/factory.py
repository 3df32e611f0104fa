"""The app factory: create_app binds the extensions, blueprints, jobs and commands to one Config."""
from __future__ import annotations

import io
import sys

from flask import Flask, Request, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from app import logs
from app.config import ROOT, Config, ConfigError
from app.importer.actions import Actions
from app.jobs import Jobs
from app.models import User, db, open_database
from app.web import errors, hygiene, rendering

APP_LOAD_ERROR = 4  # gunicorn's exit code for "the app failed to load": its master stops, not restarts workers

login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address)  # the client's address (ProxyFix sets it behind trusted proxies)


def uploads_in_memory(request_class: type[Request]) -> type[Request]:
    """`request_class` (htmx-flask's) with an uploaded file parsed into memory, never into a temporary
    file: werkzeug spools a part of over 500 kB to disk, and an upload is PHI, kept only encrypted
    (storage.py). MAX_CONTENT_LENGTH bounds it, and the upload view reads it whole anyway."""

    class InMemoryUploads(request_class):
        def _get_file_stream(self, *args, **kwargs):
            return io.BytesIO()

    return InMemoryUploads


class RosterFlask(Flask):
    def log_exception(self, exc_info):
        errors.log_exception(exc_info)


def create_app(config: Config | None = None) -> Flask:
    if config is None:
        try:
            config = Config.from_env()
        except ConfigError as refused:  # the lines alone, not a traceback around them
            print(f"Roster will not start:\n{refused}", file=sys.stderr)
            raise SystemExit(APP_LOAD_ERROR) from None
    app = RosterFlask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(config.flask_settings())
    if config.TRUSTED_PROXIES:
        # The client's address, scheme and host as the nearest TRUSTED_PROXIES proxies saw them; hops
        # further out could be forged by the client, so they are not believed.
        hops = config.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    logs.configure(config.LOG_FORMAT, config.LOG_LEVEL)
    logs.init_app(app, config.TRUSTED_PROXIES)  # first: every later hook, error page and line has the request id

    open_database(config.DATABASE_URL)

    @app.before_request
    def _connect():
        # /readyz reports an unreachable database rather than failing on it first.
        if request.blueprint != "health":
            db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = None  # our own server-side expiry and token rotation apply
    hygiene.init_app(app)  # first: it reads a form's raw body, which parsing the form (the CSRF check) consumes
    csrf.init_app(app)
    htmx.init_app(app)  # it sets its own request class, which uploads_in_memory extends
    app.request_class = uploads_in_memory(app.request_class)
    limiter.init_app(app)

    from app import security
    from app.cli import register_cli
    from app.web import audit as audit_views
    from app.web import auth, groups, health, id_systems, importable_files, organization, participants, review, users

    security.init_app(app)
    app.extensions["roster.jobs"] = Jobs(config)  # the worker builds its own from the same Config
    errors.init_app(app)
    app.register_blueprint(health.bp)
    csrf.exempt(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(groups.bp)
    app.register_blueprint(importable_files.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(id_systems.bp)
    app.register_blueprint(participants.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(organization.bp)
    register_cli(app)

    app.add_template_filter(rendering.bdi)
    app.add_template_filter(rendering.local_time)
    app.add_template_global(rendering.url_pattern)

    @app.context_processor
    def _globals():
        return {"roster": config}

    return app


def current_config() -> Config:
    """The app's one Config, for views and commands."""
    return current_app.config["ROSTER"]


def actions() -> Actions:
    """The actions on uploads (app/importer/actions.py), bound to the app's Config and queue."""
    return current_app.extensions["roster.jobs"].actions


@login_manager.user_loader
def _load_user(token: str):
    return User.get_or_none((User.session_token == token) & (User.active == True))  # noqa: E712
