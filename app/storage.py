"""Uploaded files at rest: random names, encrypted (Fernet), checked by SHA-256, destroyed on demand.

A file is kept as a run of Fernet tokens, one per megabyte (SEGMENTED): one token for the whole file
made four copies of it at once (padded, encrypted, base64), 600 MB for a million-row CSV; now keeping a
file holds a segment's copies, and reading one holds its segments and then the file they make. Each
token is authenticated on its own, and the SHA-256 of the whole, checked when it is read, refuses
segments reordered, dropped or taken from another file. Files kept as one token still read.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


SEGMENTED = b"roster-segments-1\n"  # what a segmented file starts with; a single token starts "gAAAAA"
SEGMENT_BYTES = 1 << 20
TOKEN_LENGTH = struct.Struct(">I")  # before each token
TOKEN_MOST = 2 << 20  # a megabyte's token is 1.4 MB: a longer length is a damaged file, not a read of 4 GB


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, directory: Path, key: bytes):
        self.directory = Path(directory).absolute()  # the same folder from a child process, whose cwd differs
        self.key = key
        self.fernet = Fernet(key)

    def __reduce__(self):  # sent to a preview's child process over its pipe (check_process.py), never to disk
        return FileStore, (self.directory, self.key)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise StoredFileError("Bad stored file name.")
        return self.directory / name

    def save(self, data: bytes) -> str:
        """Encrypt and keep `data` under a new random name; return the name."""
        return self.keep(data).name

    def keep(self, source: bytes | BinaryIO) -> Kept:
        """Encrypt and keep `source` (bytes, or a binary file read a segment at a time: a large file from
        the command line is never whole in memory) under a new random name, its SHA-256 and size taken on
        the way."""
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        path = self._path(name)
        temporary = path.with_suffix(".part")
        digest, size = hashlib.sha256(), 0
        try:
            with temporary.open("wb") as kept:
                kept.write(SEGMENTED)
                while segment := source.read(SEGMENT_BYTES):
                    digest.update(segment)
                    size += len(segment)
                    token = self.fernet.encrypt(segment)
                    kept.write(TOKEN_LENGTH.pack(len(token)) + token)
            os.replace(temporary, path)  # never a half-written file under the real name
        finally:
            temporary.unlink(missing_ok=True)
        return Kept(self, name, digest.hexdigest(), size)

    def load(self, name: str, expected_sha256: str) -> bytes:
        return b"".join(self.pieces(name, expected_sha256))

    def pieces(self, name: str, expected_sha256: str) -> Iterator[bytes]:
        """The file a segment at a time, so a reader need not hold it whole. Its SHA-256 is checked at the
        end: a reader of pieces uses what it read only once the last one came without StoredFileError."""
        digest = hashlib.sha256()
        try:
            with self._path(name).open("rb") as kept:
                start = kept.read(len(SEGMENTED))
                for piece in self._segments(kept) if start == SEGMENTED else [self.fernet.decrypt(start + kept.read())]:
                    digest.update(piece)
                    yield piece
        except (OSError, InvalidToken) as error:
            raise StoredFileError("The stored file cannot be read.") from error
        if digest.hexdigest() != expected_sha256:
            raise StoredFileError("The stored file does not match what was uploaded.")

    def _segments(self, kept) -> Iterator[bytes]:
        while length := kept.read(TOKEN_LENGTH.size):
            size = TOKEN_LENGTH.unpack(length)[0] if len(length) == TOKEN_LENGTH.size else -1
            token = kept.read(size) if 0 < size <= TOKEN_MOST else b""
            if len(token) != size:
                raise InvalidToken  # cut short
            yield self.fernet.decrypt(token)

    def kept(self, name: str, expected_sha256: str, size: int) -> Kept:
        return Kept(self, name, expected_sha256, size)

    def destroy(self, name: str | None) -> None:
        if name:
            self._path(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class Kept:
    """A file in the store, read a piece at a time (reader.read_pieces) where it is too large to hold."""

    store: FileStore
    name: str
    sha256: str
    size: int

    def pieces(self) -> Iterator[bytes]:
        return self.store.pieces(self.name, self.sha256)

    def load(self) -> bytes:
        return self.store.load(self.name, self.sha256)
