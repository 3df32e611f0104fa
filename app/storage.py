"""Uploaded files at rest: random names, encrypted (Fernet), checked by SHA-256, destroyed on demand."""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class StoredFileError(Exception):
    """The stored file is gone or does not match what was uploaded."""


def file_key(env, instance_dir: Path, *, development: bool) -> bytes:
    """ROSTER_FILE_KEY, or in development a key kept under instance/ (with a warning); outside development
    an unset key stays empty, and Config refuses to start with it."""
    key = env.get("ROSTER_FILE_KEY", "")
    if key or not development:
        return key.encode()
    path = instance_dir / "file_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
        log.warning("Created a development file key at %s; set ROSTER_FILE_KEY in production.", path)
    return path.read_bytes().strip()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, directory: Path, key: bytes):
        self.directory = Path(directory)
        self.fernet = Fernet(key)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise StoredFileError("Bad stored file name.")
        return self.directory / name

    def save(self, data: bytes) -> str:
        """Encrypt and keep `data` under a new random name; return the name."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        path = self._path(name)
        temporary = path.with_suffix(".part")
        try:
            temporary.write_bytes(self.fernet.encrypt(data))
            os.replace(temporary, path)  # never a half-written file under the real name
        finally:
            temporary.unlink(missing_ok=True)
        return name

    def load(self, name: str, expected_sha256: str) -> bytes:
        try:
            data = self.fernet.decrypt(self._path(name).read_bytes())
        except (OSError, InvalidToken) as error:
            raise StoredFileError("The stored file cannot be read.") from error
        if sha256(data) != expected_sha256:
            raise StoredFileError("The stored file does not match what was uploaded.")
        return data

    def destroy(self, name: str | None) -> None:
        if name:
            self._path(name).unlink(missing_ok=True)
