"""The pipes of a large preview's children (app/importer/children.py)."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time

from app.importer import children

WRITER = """
import signal, sys
from app.importer import children
signal.signal(signal.SIGUSR1, lambda *args: None)  # a handler: a blocked write returns early when signalled
children.send(sys.stdout, "ready")
message = ("rows", [f"row {n} " + "x" * 30 for n in range(60_000)])  # 2.4 MB, far more than the pipe holds
for _ in range(12):
    children.send(sys.stdout, message)
"""


def test_a_message_sent_while_the_sender_is_signalled_arrives_whole():
    # With pickle.dump into the pipe's BufferedWriter this lost bytes mid-message (UnpicklingError).
    child = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, cwd=children.ROOT)
    assert pickle.load(child.stdout) == "ready"  # its handler is set: a signal no longer ends it
    stop = threading.Event()

    def signal_the_child():
        while not stop.is_set() and child.poll() is None:
            os.kill(child.pid, signal.SIGUSR1)
            time.sleep(0.0003)

    poker = threading.Thread(target=signal_the_child, daemon=True)
    poker.start()
    try:
        received = []
        for _ in range(12):
            time.sleep(0.02)  # the child waits on a full pipe meanwhile, and is signalled there
            received.append(pickle.load(child.stdout))
    finally:
        stop.set()
        poker.join()
        child.kill()
        child.wait()
        child.stdout.close()
    expected = ("rows", [f"row {n} " + "x" * 30 for n in range(60_000)])
    assert received == [expected] * 12
