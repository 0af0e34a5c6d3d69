"""A minimal root of its own for a sandbox server and its children, entered with pivot_root.

Read-only bind mounts alone do not keep a program from the host: it can still read every
world-readable file (a benchmark's gold answers among them) and ``connect()`` to any
world-writable UNIX socket, since neither needs write access. So, inside the server's fresh
mount namespace, we build a root that holds only what a forked child can need:

    /<python prefixes and sys.path folders>   read-only binds (the interpreter, stdlib,
                                              site-packages; imports still work)
    /usr/lib*, /lib*, /etc/ld.so.cache        read-only (what extension modules dlopen)
    /dev/{null,zero,full,random,urandom}      binds of the host's nodes; no pts, no ptmx:
                                              no pseudo-terminals at all
    /proc                                     the PID namespace's own (hidepid=2), read-only
    <scratch root>                            bound back in, the only writable place

then ``pivot_root`` into it and detach the old root, so nothing of the host's file system is
left to name, by any path or descriptor (the server holds none open into it). The tmpfs that
holds the root is remounted read-only at the end. The caller's source tree is not shown: the
children have mathgen loaded already (they are forks), so programs cannot browse it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mathgen.sandbox.linux import (
    MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT,
    libc_call, mount)

_MNT_DETACH = 2
_DEVICES = ("null", "zero", "full", "random", "urandom")
_LIBRARIES = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib", "/lib", "/lib64",
              "/lib32", "/etc/ld.so.cache")
# statvfs flags of a mount -> the mount flags a read-only remount must keep (the kernel
# refuses to drop locked ones inside a user namespace)
_KEEP = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
         os.ST_NOATIME: 1024, os.ST_NODIRATIME: 2048, os.ST_RELATIME: 1 << 21}


def python_folders(skip: str | None = None) -> list[str]:
    """The folders the interpreter imports from (real paths, outermost only), without
    ``skip`` (the caller's source tree) unless it lies inside a Python prefix."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found = set(prefixes)
    for entry in filter(None, sys.path):
        real = os.path.realpath(entry)
        if not os.path.isdir(real) and os.path.isfile(real):  # python311.zip
            found.add(real)
        elif os.path.isdir(real) and real != skip:
            found.add(real)
    return [p for p in sorted(found)
            if not any(p.startswith(q + "/") for q in found if q != p)]


def enter_minimal_root(root: str, pid_namespace: bool, notes: list[str]) -> bool:
    """Build the root described above in this (new, private) mount namespace and pivot into
    it; True when done. Must run before the server imports anything lazily."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do here leaks out
    new = f"{root}/fs"
    os.mkdir(new, 0o755)
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=1024")
    source_tree = str(Path(__file__).resolve().parents[2])
    paths = set(python_folders(skip=source_tree)) | {p for p in _LIBRARIES if os.path.lexists(p)}
    for path in sorted(p for p in paths if not any(p.startswith(q + "/") for q in paths)):
        _show(path, new)
    os.mkdir(f"{new}/dev", 0o755)
    for name in _DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", f"{new}/dev/{name}", read_only=False)
    _show_scratch(root, new)
    os.mkdir(f"{new}/proc", 0o555)
    proc = _mount_proc(f"{new}/proc", pid_namespace, notes)
    os.chdir(new)
    libc_call("pivot_root", b".", b".")  # the old root now lies over the new one at /
    libc_call("umount2", b".", _MNT_DETACH)  # and is gone
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if proc:
        try:
            mount(None, "/proc", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
                  | MS_NODEV | MS_NOEXEC)
        except OSError:
            notes.append("the sandbox's /proc stays writable")
    return True


def _show(path: str, new: str) -> None:
    """``path`` at the same place in the new root: a symlink as the same link (/lib ->
    usr/lib), a folder or file as a read-only bind."""
    target = new + path
    os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
    if os.path.lexists(target):  # inside a folder shown already (a link's target)
        return
    if os.path.islink(path):
        os.symlink(os.readlink(path), target)
        return
    _bind(path, target, read_only=True)


def _bind(source: str, target: str, read_only: bool) -> None:
    if os.path.isdir(source):
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        open(target, "x").close()
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        kept = os.statvfs(target).f_flag
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        flags |= sum(flag for st, flag in _KEEP.items() if kept & st)
        mount(None, target, None, flags)


def _show_scratch(root: str, new: str) -> None:
    """The scratch root, writable, at its own path (its ``fs`` folder shows empty there)."""
    target = new + root
    os.makedirs(target, 0o711)
    mount(root, target, None, MS_BIND)


def _mount_proc(target: str, pid_namespace: bool, notes: list[str]) -> bool:
    """The PID namespace's /proc (hidepid=2 where accepted); System V IPC turned off in our
    IPC namespace (shared memory would escape the memory limit and outlive a program)."""
    if not pid_namespace:
        notes.append("no PID namespace: no /proc in the sandbox")
        return False
    mounted = False
    for data in ("hidepid=2", None):
        try:
            mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, data)
            mounted = True
            break
        except OSError:
            continue
    if not mounted:
        notes.append("no /proc of its own could be mounted")
        return False
    failed = []
    for name, value in (("shmmni", "0"), ("shmall", "0"), ("msgmni", "0"), ("sem", "0 0 0 0")):
        try:  # these belong to our IPC namespace alone
            Path(target, "sys/kernel", name).write_text(value)
        except OSError:
            failed.append(name)
    if failed:
        notes.append("System V IPC limits left as they were (" + ", ".join(failed) +
                     "); the seccomp filter, where there is one, denies System V IPC anyway")
    return True
