"""Settings read from the environment, one object."""
from __future__ import annotations

import base64
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from limits import parse as parse_limit

from app.storage import FileStore, file_key

ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_LENGTH = 32
MIN_DISTINCT = 10  # a random value of that length has about 25 different characters; "s" * 40 has one
MAIL_BACKENDS = ("", "smtp", "file")


class ConfigError(RuntimeError):
    """The environment is not safe to start in."""


def _instance_secret(instance: Path, name: str) -> str:
    """A development secret kept under instance/, so restarts keep sessions and files readable."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _is_fernet_key(key: bytes) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


@dataclass
class Config:
    ENV: str = "development"
    INSTANCE_DIR: Path = ROOT / "instance"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    UPLOAD_DIR: Path = ROOT / "instance" / "uploads"
    MAIL_DIR: Path = ROOT / "instance" / "mail"
    MAX_UPLOAD_MB: int = 20
    MAX_ROWS: int = 100_000
    SESSION_IDLE_MINUTES: int = 15
    SESSION_MAX_HOURS: int = 12
    LOCKOUT_FAILURES: int = 5
    LOCKOUT_MINUTES: int = 15
    REDIS_URL: str = ""  # set: the job queue is Redis; unset: a SQLite file under INSTANCE_DIR
    QUEUE_NAME: str = "roster"
    FILE_KEY: bytes = b""
    BACKGROUND_ROWS: int = 2_000
    TESTING: bool = False
    BASE_URL: str = "http://127.0.0.1:5000"  # links in emails are built on this, never on the Host header
    MAIL_FROM: str = "Roster <roster@localhost>"
    # "file": each message is a file under MAIL_DIR even outside development, on purpose; "" or "smtp": SMTP
    # when SMTP_HOST is set (in development without it, files too).
    MAIL_BACKEND: str = ""
    SMTP_HOST: str = ""
    SMTP_PORT: int = 587
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = True
    INVITATION_HOURS: int = 72
    UNDO_DAYS: int = 30  # what a completion changed is kept this long, for Undo Import (SPEC 13)
    # Proxies in front of the app that set X-Forwarded-*; 0: those headers are ignored (anyone can send them).
    TRUSTED_PROXIES: int = 0
    # Failed sign-ins and invitation acceptances allowed per client address, over all accounts (besides
    # LOCKOUT_FAILURES per account): slows password spraying; a right password is never counted.
    RATELIMIT_SIGN_IN: str = "20 per 10 minutes"
    LOG_FORMAT: str = "text"  # from the environment: json outside development
    LOG_LEVEL: str = "INFO"  # commands log only warnings unless given -v

    @classmethod
    def from_env(cls, env=os.environ) -> "Config":
        mode = env.get("ROSTER_ENV", "development")
        development = mode == "development"
        instance = Path(env.get("INSTANCE_DIR", ROOT / "instance"))
        secret = env.get("SECRET_KEY", "")
        if not secret and development:
            secret = _instance_secret(instance, "secret_key")
        config = cls(
            ENV=mode,
            INSTANCE_DIR=instance,
            SECRET_KEY=secret,
            DATABASE_URL=env.get("DATABASE_URL", f"sqlite:///{instance / 'roster.db'}"),
            UPLOAD_DIR=Path(env.get("UPLOAD_DIR", instance / "uploads")),
            MAIL_DIR=Path(env.get("MAIL_DIR", instance / "mail")),
            MAX_UPLOAD_MB=int(env.get("MAX_UPLOAD_MB", 20)),
            MAX_ROWS=int(env.get("MAX_ROWS", cls.MAX_ROWS)),
            SESSION_IDLE_MINUTES=int(env.get("SESSION_IDLE_MINUTES", 15)),
            REDIS_URL=env.get("REDIS_URL", ""),
            QUEUE_NAME=env.get("ROSTER_QUEUE", cls.QUEUE_NAME),
            FILE_KEY=file_key(env, instance, development=development),
            BASE_URL=env.get("BASE_URL", cls.BASE_URL if development else ""),
            MAIL_FROM=env.get("MAIL_FROM", cls.MAIL_FROM),
            MAIL_BACKEND=env.get("MAIL_BACKEND", "").strip().lower(),
            SMTP_HOST=env.get("SMTP_HOST", ""),
            SMTP_PORT=int(env.get("SMTP_PORT", 587)),
            SMTP_USER=env.get("SMTP_USER", ""),
            SMTP_PASSWORD=env.get("SMTP_PASSWORD", ""),
            SMTP_STARTTLS=env.get("SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
            INVITATION_HOURS=int(env.get("INVITATION_HOURS", 72)),
            UNDO_DAYS=int(env.get("UNDO_DAYS", 30)),
            TRUSTED_PROXIES=int(env.get("TRUSTED_PROXIES", 0)),
            RATELIMIT_SIGN_IN=env.get("RATELIMIT_SIGN_IN", cls.RATELIMIT_SIGN_IN),
            LOG_FORMAT=env.get("LOG_FORMAT", "text" if development else "json").lower(),
            LOG_LEVEL=env.get("LOG_LEVEL", cls.LOG_LEVEL).upper(),
        )
        if config.TRUSTED_PROXIES < 0:
            raise ConfigError(f"TRUSTED_PROXIES must be 0 or more, not {config.TRUSTED_PROXIES}.")
        if config.LOG_FORMAT not in ("json", "text"):
            raise ConfigError(f"LOG_FORMAT must be json or text, not {config.LOG_FORMAT!r}.")
        if not isinstance(logging.getLevelName(config.LOG_LEVEL), int):
            raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {config.LOG_LEVEL!r}.")
        try:  # a limit Flask-Limiter cannot read would leave sign-in unlimited
            parse_limit(config.RATELIMIT_SIGN_IN)
        except ValueError:
            raise ConfigError(f"RATELIMIT_SIGN_IN must read like '20 per 10 minutes', not {config.RATELIMIT_SIGN_IN!r}.") from None
        config.refuse_unsafe()
        return config

    def unsafe_settings(self) -> list[str]:
        """Why these settings must not serve real users, one line each; development and tests may run so."""
        if self.is_development or self.TESTING:
            return []
        unsafe = []
        if not self.SECRET_KEY:
            unsafe.append(f"SECRET_KEY must be set outside development (ROSTER_ENV={self.ENV}).")
        elif len(self.SECRET_KEY) < MIN_SECRET_LENGTH or len(set(self.SECRET_KEY)) < MIN_DISTINCT:
            unsafe.append(f"SECRET_KEY is too weak: use a random value of at least {MIN_SECRET_LENGTH} characters.")
        if not self.FILE_KEY:
            unsafe.append("ROSTER_FILE_KEY must be set outside development (a Fernet key).")
        elif not _is_fernet_key(self.FILE_KEY):
            unsafe.append("ROSTER_FILE_KEY is not a Fernet key (32 random bytes, url-safe base64).")
        elif len(set(base64.urlsafe_b64decode(self.FILE_KEY))) < MIN_DISTINCT:
            unsafe.append("ROSTER_FILE_KEY is too weak: make a random one (see docs/deploy.md).")
        base = urlsplit(self.BASE_URL)
        if base.scheme != "https" or not base.netloc:
            unsafe.append("BASE_URL must be the https:// address users open Roster at (links in emails are built on it).")
        if self.MAIL_BACKEND not in MAIL_BACKENDS:
            unsafe.append(f"MAIL_BACKEND must be smtp or file, not {self.MAIL_BACKEND!r}.")
        elif not self.SMTP_HOST and self.MAIL_BACKEND != "file":
            unsafe.append("SMTP_HOST must be set outside development (or MAIL_BACKEND=file to write mail to files on purpose).")
        return unsafe

    def refuse_unsafe(self) -> None:
        unsafe = self.unsafe_settings()
        if unsafe:
            raise ConfigError("\n".join(unsafe))

    def file_store(self) -> FileStore:
        return FileStore(self.UPLOAD_DIR, self.FILE_KEY)

    @property
    def is_development(self) -> bool:
        return self.ENV == "development"

    def flask_settings(self) -> dict:
        """The subset Flask and its extensions read from app.config."""
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "MAX_CONTENT_LENGTH": self.MAX_UPLOAD_MB * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": not self.is_development,
            "SESSION_COOKIE_NAME": "roster_session",
            "WTF_CSRF_TIME_LIMIT": None,  # the session's own expiry bounds the token
            "TESTING": self.TESTING,
            # Flask-Limiter: shared by every web process through Redis when there is one; keys carry the
            # queue name, as two installs sharing one Redis already must differ in it.
            "RATELIMIT_STORAGE_URI": self.REDIS_URL or "memory://",
            "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"{self.QUEUE_NAME}-limits"},  # per app, unlike RATELIMIT_KEY_PREFIX
            "RATELIMIT_STRATEGY": "moving-window",
            "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: limit per process rather than refuse sign-in
            "ROSTER": self,
        }
