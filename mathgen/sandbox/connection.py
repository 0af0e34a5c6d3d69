"""One sandbox server process seen from the caller: its scratch root, its pipes, and the
length-prefixed pickled messages queued to and from it (the server speaks the same)."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mathgen.sandbox import Isolation


class _Connection:
    """One server process (``kind`` names its preload) and the bytes queued to and from it."""

    def __init__(self, kind: str):
        self.kind = kind
        self.root = tempfile.mkdtemp(prefix=f"mathgen-sandbox-{kind}-")
        os.chmod(self.root, 0o711)  # sandbox uids pass through to their own folders
        env = {"PATH": os.environ.get("PATH", os.defpath), "PYTHONHASHSEED": "0",
               "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from mathgen.sandbox.server import serve; serve()", self.root,
             kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/",
            bufsize=0, start_new_session=True)
        self.rfd, self.wfd = self.proc.stdout.fileno(), self.proc.stdin.fileno()
        os.set_blocking(self.wfd, False)
        self.inbox, self.outbox, self.messages = bytearray(), bytearray(), deque()
        self.isolation: Isolation | None = None  # set by the server's first message
        self.running: dict[int, int] = {}  # job id -> index in the batch

    def pump(self, fd: int) -> bool:
        """Move bytes on ``fd``, which poll found ready; False when the server is gone."""
        try:
            if fd == self.wfd:
                del self.outbox[:os.write(fd, self.outbox)]
                return True
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.inbox += chunk
        self.messages += _unpack(self.inbox)
        return bool(chunk)

    def close(self, kill: bool = False) -> None:
        self.proc.stdin.close()  # EOF: the server kills its children, cleans up and exits
        try:
            self.proc.wait(0 if kill else 5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _pack(message) -> bytes:
    blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(blob).to_bytes(4, "big") + blob


def _unpack(buffer: bytearray) -> list:
    """The whole messages at the front of ``buffer``, which loses them."""
    messages = []
    while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
        size = int.from_bytes(buffer[:4], "big")
        messages.append(pickle.loads(buffer[4:4 + size]))
        del buffer[:4 + size]
    return messages
