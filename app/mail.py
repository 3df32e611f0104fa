"""Sending mail: SMTP when SMTP_HOST is set, otherwise each message is written as a file (development)."""
from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from app.models import utcnow


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


def _email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


class FileMailer:
    """Development: each message becomes an .eml file under the mail directory, readable by its owner only."""

    def __init__(self, directory: Path, sender: str):
        self.directory = Path(directory)
        self.sender = sender

    def send(self, *messages: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            path = self.directory / f"{utcnow():%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(_email(message, self.sender)))


class SmtpMailer:
    """Production: one SMTP connection per batch, STARTTLS unless turned off."""

    def __init__(self, host: str, port: int, sender: str, *, username: str = "", password: str = "", starttls: bool = True):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, *messages: Message) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            for message in messages:
                smtp.send_message(_email(message, self.sender))


def mailer_for(config) -> FileMailer | SmtpMailer:
    """The configured backend: SMTP if SMTP_HOST is set (and MAIL_BACKEND is not file), else files under MAIL_DIR."""
    if config.SMTP_HOST and config.MAIL_BACKEND != "file":
        return SmtpMailer(config.SMTP_HOST, config.SMTP_PORT, config.MAIL_FROM, username=config.SMTP_USER,
                          password=config.SMTP_PASSWORD, starttls=config.SMTP_STARTTLS)
    return FileMailer(config.MAIL_DIR, config.MAIL_FROM)
