"""Child processes of a large preview, on the machine's second core: started with this Python, spoken to
over their stdin and stdout in pickled messages (in memory only: nothing of the file touches the disk).
A child never logs and writes nothing to stderr; it reports an error by its type alone, since a message
may quote a cell."""
from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def two_cores() -> bool:
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


PIPE_BYTES = 1 << 20  # Linux's most for an unprivileged process (/proc/sys/fs/pipe-max-size)


def start(command: list[str], *, wide: str) -> subprocess.Popen:
    """`command` (this Python running one of our modules, `[sys.executable, "-m", name]`) with pipes; the
    one its chunks go through ("stdin" or "stdout", `wide`) holds two of them."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # Its own session: a Ctrl-C or a stop signal sent to the worker's process group reaches the worker,
    # which ends its children itself, rather than killing a child under a preview it lets finish.
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=env, cwd=ROOT, start_new_session=True)
    _widen(getattr(child, wide))
    return child


def _widen(pipe) -> None:
    """Let a pipe hold two chunks (a checked chunk pickles to about 500 kB), not Linux's default 64 kB: with
    less, a child that writes faster than the preview reads stops within its next chunk (or the preview,
    sending the duplicate search its next chunk), and the two take turns instead of working at once."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # a lower limit set by the administrator, or the user's pipe memory spent: 64 kB still works
            pass


def send(pipe, message) -> None:
    """Pickle `message` into a pipe (a child's stdin, or a child's own stdout), every byte of it.

    Not pickle.dump into the pipe's BufferedWriter: a signal caught while that waited on a full pipe
    lost part of a message, and the reader then unpickled garbage (seen under py-spy, and with any
    Python signal handler: tests/importer/test_children.py). os.write says how much went in; the rest
    is written again."""
    pickle.dump(message, _Whole(pipe.fileno()), protocol=pickle.HIGHEST_PROTOCOL)


def tell(child: subprocess.Popen, message, failure: Exception) -> None:
    """send() a message to the child; `failure` raised if it has stopped reading."""
    try:
        send(child.stdin, message)
    except BrokenPipeError:
        raise failure from None


def answer(child: subprocess.Popen, failure: Exception) -> tuple:
    """The child's next message, (kind, answer); `failure` raised if it stopped before sending one whole."""
    try:
        return pickle.load(child.stdout)  # waits for the child: the pipe bounds how far ahead it runs
    except (EOFError, OSError, pickle.UnpicklingError):
        raise failure from None


class _Whole:
    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)


def end(child: subprocess.Popen) -> None:
    """End the child at once (the preview failed or was stopped) and close its pipes."""
    child.kill()
    child.wait()
    for stream in (child.stdin, child.stdout):
        try:
            stream.close()
        except OSError:
            pass


def command(module: str) -> list[str]:
    return [sys.executable, "-m", module]
