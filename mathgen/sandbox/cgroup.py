"""Memory counted by a cgroup: one memory cgroup per sandbox slot, where the OS gives one.

The address-space limit (RLIMIT_AS) counts only a program's own mappings. Pages the kernel
holds for it elsewhere (its scratch files on tmpfs, pipe buffers, page tables, copies of
the server's pages it writes to) are not counted there; a cgroup counts them all. As root,
with the cgroup v1 memory controller mounted writable (cgroup v2 is not used: its
"no internal processes" rule needs the caller's own cgroup to be empty), the server's
keeper makes ``<own cgroup>/<scratch root name>/`` and the server a ``slot<k>`` folder in
it per slot. A child joins its slot's cgroup before it drops root; its limit is
``memory_mb`` + the server's resident size + ``MARGIN``. A program that passes it is killed
by the kernel's OOM killer inside that cgroup alone, and the server reads that from the
cgroup's ``oom_kill`` counter: the status ``memory`` then comes from the kernel.

Without it (not root, cgroup v2 only, or a read-only hierarchy) the weaker form holds:
address space <= ``memory_mb`` above the preloaded modules, scratch files <= 48 MiB (the
slot's tmpfs), pipe buffers <= 8 MiB (256 fds, no F_SETPIPE_SZ), no memfd or shared memory.
"""

from __future__ import annotations

import os
from pathlib import Path

MARGIN = 64 << 20  # the slot tmpfs (48 MiB), pipe buffers (8 MiB), page tables and the like


def base() -> str | None:
    """Path of this process's cgroup in a writable v1 memory hierarchy, or None."""
    try:
        own = next(line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text()
                   .splitlines() if "memory" in line.split(":", 2)[1].split(","))
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            tail = fields[fields.index("-") + 1:]
            if tail[0] == "cgroup" and "memory" in tail[2].split(",") \
                    and "rw" in fields[5].split(","):
                root = fields[3]
                if own == root or own.startswith(root.rstrip("/") + "/") or root == "/":
                    path = fields[4] + own[len(root.rstrip("/")):]
                    return path if os.access(path, os.W_OK) else None
    except (OSError, StopIteration, IndexError, ValueError):
        pass
    return None


class SlotCgroups:
    """The server's cgroup folder (opened before pivot_root; reached through ``fd`` after)
    and a ``slot<k>`` cgroup per slot, with the limit it last wrote."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        self.slots: dict[int, int] = {}  # slot -> fd of its folder
        self.limits: dict[int, int] = {}
        self.kills: dict[int, int] = {}  # slot -> oom_kill count seen so far

    def prepare(self, slot: int, limit: int) -> int:
        """The folder fd of ``slot``'s cgroup with ``limit`` bytes, made if need be."""
        if slot not in self.slots:
            name = f"slot{slot}"
            try:
                os.mkdir(name, 0o700, dir_fd=self.fd)
            except FileExistsError:
                pass
            self.slots[slot] = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=self.fd)
            self.kills[slot] = self.oom_kills(slot)
        if self.limits.get(slot) != limit:
            _write(self.slots[slot], "memory.limit_in_bytes", str(limit))
            self.limits[slot] = limit
        return self.slots[slot]

    def oom_kills(self, slot: int) -> int:
        fd = os.open("memory.oom_control", os.O_RDONLY, dir_fd=self.slots[slot])
        try:
            text = os.read(fd, 4096).decode()
        finally:
            os.close(fd)
        return next((int(line.split()[1]) for line in text.splitlines()
                     if line.startswith("oom_kill ")), 0)

    def killed(self, slot: int) -> bool:
        """Whether the OOM killer ended a process of ``slot`` since last asked."""
        count = self.oom_kills(slot)
        before, self.kills[slot] = self.kills[slot], count
        return count > before


def join(folder_fd: int) -> None:
    """Move this process into the cgroup whose folder is open as ``folder_fd``."""
    _write(folder_fd, "cgroup.procs", "0")  # 0: the writer itself


def _write(folder_fd: int, name: str, value: str) -> None:
    fd = os.open(name, os.O_WRONLY, dir_fd=folder_fd)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def remove(path: str) -> None:
    """Remove the server's cgroup folder and its slots (empty once the server is gone)."""
    try:
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                os.rmdir(entry.path)
        os.rmdir(path)
    except OSError:
        pass
