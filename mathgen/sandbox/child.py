"""Inside a forked sandbox child: lock the process down (rlimits, own uid, no new privileges,
audit hook), tell the server the lock-down is done, then run the program as ``__main__`` in
fresh globals.

Nothing the program does can speak for the sandbox: its exit code is its own (no code is
reserved), and the one message the child sends, one byte on a pipe saying that the lock-down
is complete, is sent and its pipe closed before the program's first line runs."""

from __future__ import annotations

import atexit
import ctypes
import linecache
import os
import resource
import signal
import sys
import tempfile
import traceback
import types

from mathgen.sandbox import FILE_LIMIT, cpu_limit
from mathgen.sandbox import cgroup, seccomp
from mathgen.sandbox.linux import (
    PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, libc_call, prctl)

# Audit events a program may not raise at all, and events that write to a path (arg indices).
_DENIED = ("socket.", "ctypes.", "subprocess.", "os.system", "os.exec", "os.spawn",
           "os.posix_spawn", "os.fork", "os.kill", "signal.pthread_kill", "resource.prlimit",
           "gc.get_", "pty.", "webbrowser.", "urllib.", "os.chroot")
_PATH_WRITES = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
                "os.symlink": (1,), "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,),
                "os.truncate": (0,), "os.utime": (0,), "os.setxattr": (0,),
                "os.removexattr": (0,), "shutil.rmtree": (0,)}
_exit_now = os._exit  # bound at import: a program may rebind os._exit
_READY = 3  # the fd of the pipe that tells the server the lock-down is done
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def run_child(code: str, folder: str, uid: int | None, timeout: float, address_space: int,
              audit: bool, userns: bool, server: int, filter_, group: int | None,
              ready: int) -> None:
    """Lock this fresh child down, run the program, exit with its status. Never returns.

    ``ready``: the write end of a pipe; one byte goes there once the lock-down is complete,
    and the pipe is closed before the program starts, so the server knows whether the
    program ran at all, and the program has nothing left to tell it anything through.
    """
    status = 1
    try:
        if group is not None:  # first: everything it allocates from here on is counted
            cgroup.join(group)
        work = _lock_down(folder, uid, timeout, address_space, userns, server, filter_, ready)
        os.write(_READY, b"\x01")
        os.close(_READY)
        status = _execute(code, work if audit else None)
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        _exit_now(status)


def _lock_down(folder: str, uid: int | None, timeout: float, address_space: int,
               userns: bool, server: int, filter_, ready: int) -> str:
    """Session, output files, scratch folder, rlimits, privileges; returns the folder.

    Kept to a few calls: every page a child touches is a copy-on-write fault, and those
    faults are most of what a program costs.
    """
    os.setsid()
    os.dup2(ready, _READY)  # kept below the fds closed next
    os.mkdir(folder, 0o711)
    work = folder + "/work"
    os.mkdir(work, 0o700)
    if uid is not None:
        os.chown(work, uid, uid)
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(os.open(folder + "/stdout", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 1)
    os.dup2(os.open(folder + "/stderr", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 2)
    os.closerange(_READY + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.chdir(work)
    cpu = cpu_limit(timeout)
    for which, soft, hard in (
            (resource.RLIMIT_AS, address_space, address_space), (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_FSIZE, FILE_LIMIT, FILE_LIMIT), (resource.RLIMIT_NPROC, 1, 1),
            (resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_NOFILE, 256, 256)):
        resource.setrlimit(which, (soft, hard))
    tempfile.tempdir = work
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root: every capability is gone too
    elif userns:  # capabilities inside our user namespace could undo the read-only mounts
        libc_call("capset", (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)())
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # not dumpable: programs running beside this one under the same uid (without root) can
    # neither open its /proc files (mem, fds) nor ptrace it; a uid change does this anyway
    prctl(PR_SET_DUMPABLE, 0)
    if filter_ is not None:  # last: it denies nothing the lines above need
        seccomp.install(filter_)
        seccomp.install_own_process()
    if os.getppid() != server:  # the server died before the line above
        _exit_now(1)
    sys.argv = ["<program>"]
    sys.dont_write_bytecode = True
    return work


def _execute(code: str, scratch: str | None) -> int:
    """Run code as the __main__ module of a fresh namespace; the exit code for the server."""
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    if scratch is not None:
        sys.addaudithook(_audit_hook(scratch))
        # out of the program's sight: our modules (whose globals it could rewrite)
        for name in [name for name in sys.modules if name.startswith("mathgen")]:
            del sys.modules[name]
    status = 0
    try:
        exec(compile(code, "<program>", "exec"), main.__dict__)
    except SystemExit as stop:  # exit() and exit(0) are a normal end, as for `python file`
        if stop.code is None or isinstance(stop.code, int):
            status = (stop.code or 0) & 0xFF
        else:
            print(stop.code, file=sys.stderr)
            status = 1
    except BaseException as err:  # the traceback without this function's frame
        status = 1  # MemoryError too: the server cannot tell a real one from a raised one
        try:
            linecache.cache["<program>"] = (len(code), None, code.splitlines(True), "<program>")
            traceback.print_exception(type(err), err, err.__traceback__.tb_next)
        except BaseException:
            pass
    if atexit._ncallbacks():  # the program registered some
        try:
            atexit._run_exitfuncs()
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    return status


def _audit_hook(scratch: str):
    """An audit hook that denies what a math program has no business doing.

    A tripwire, not the barrier (the OS is): everything it reads is bound here, immutable,
    so rewriting a module's globals does not switch it off; what C code does never meets it.
    """
    writes = types.MappingProxyType(dict(_PATH_WRITES))  # read-only, its dict unnamed
    denied, write_flags, inside = _DENIED, _WRITE_FLAGS, scratch + os.sep
    realpath, fsdecode, is_a, is_int = os.path.realpath, os.fsdecode, isinstance, int

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            flags = args[2] if len(args) > 2 and is_a(args[2], is_int) else write_flags
            paths = (args[0],) if flags & write_flags else ()
        elif event.startswith(denied):
            raise PermissionError(f"{event} is not allowed in the mathgen sandbox")
        else:
            paths = [args[i] for i in writes.get(event, ())]
        for path in paths:
            if is_a(path, is_int):  # an open descriptor, checked when it was opened
                continue
            try:
                real = realpath(fsdecode(path))
            except (TypeError, ValueError):
                real = ""
            if real != scratch and not real.startswith(inside):
                raise PermissionError(f"{event}: {path!r} is outside the scratch folder")
    return hook
