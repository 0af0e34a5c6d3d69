"""Running untrusted Python: every program in a fresh, locked-down process; results as records.

    from mathgen.sandbox import run, run_many
    run("print(6 * 7)")    # ExecResult(status='ok', stdout='42\\n', stderr='', seconds=0.002, ...)
    run_many(programs, timeout=2, workers=4)   # one ExecResult per program, in input order

Why it is built this way. Model-written code never runs in the caller. A server process,
started with ``python -c`` (never a fork of the caller, which may hold threads and locks),
imports once what model programs use and then forks a fresh child per program: fresh globals
and no state shared between programs come free, and a fork with its clean-up costs about 3 ms
of CPU where a new interpreter costs 40 ms, and half a second more to import sympy. Untrusted
code only ever runs in those children, so reusing the server is safe. There are two servers,
started when first needed: a light one (standard library) and a heavy one (sympy and numpy
too) for programs whose text names those; forking the smaller process is cheaper, and a
program that imports sympy anyway still works in the light one, only slower.

Each child, before it runs its program: starts a new session (a process group to kill);
points fds 0-2 at /dev/null and two files of its job folder, whose last 64 KiB the server
keeps; chdirs into a fresh scratch folder; sets rlimits (address space ``memory_mb`` above
the preloaded modules, CPU seconds, 16 MiB per file, one process, no core files, 256 fds); as
root, drops to an unprivileged uid of its own (``UID_BASE`` + slot), which makes the kernel
enforce the process limit (no fork bomb, no threads) and forbids signalling the server or the
caller; sets no_new_privs and a parent-death signal; installs the seccomp filter of
``seccomp`` (no memfd, keyrings, message queues, io_uring, bpf, perf events, namespaces,
mounts, ptrace, sockets or pipe resizing); joins its slot's memory cgroup (``cgroup``) where
there is one (where it does, the address-space limit lies past the cgroup's, so that memory
a program fills ends at the cgroup's limit, where the kernel kills it and the server reads
that from the cgroup); writes one byte on a pipe of the server's that says the lock-down is
complete, and closes it; installs an audit hook. The hook (denying subprocesses, fork,
kill, sockets, ctypes, and writes outside the scratch folder) is a tripwire only: ctypes or
C extensions get around audit hooks, the OS limits hold.

Around the children, as far as the OS allows (root, or a user with user namespaces), each
server is PID 1 of its own PID namespace (children cannot see or signal the caller, and the
kernel kills them all when the server ends), in a network namespace without interfaces, a
private IPC namespace with System V IPC turned off, and a mount namespace whose root is a
minimal one of its own (``root``: Python and system libraries read-only, a few /dev nodes,
the PID namespace's /proc, the scratch root), entered with pivot_root: no host file, host
UNIX socket, pty or shared memory is in reach. There each slot keeps its job folders on a
tmpfs of its own (48 MiB, 4096 files): no disk to fill, a clean-up that stays quick (and
needs no recursion, ``scratch``), and nothing left once the namespace is gone.

The server watches each child through a pidfd and SIGKILLs it (through the pidfd, which
works before the child's setsid) and its process group at the wall-clock timeout, again every
0.1 s until it ends, whatever it is doing (a C call such as pow(10, 10**9) included), reaps
it, reads the output tails, removes the job folder and sends the result before it starts the
next program. It holds up to ``workers`` programs queued besides the ``workers`` running, and
starts the next one the moment one ends. The caller's
side never blocks on a server: one that dies or stops answering is killed and replaced; the
programs it may have started run once more in a fresh server and then count as ``killed``,
the ones still queued run again; a batch is never lost.
A result's status comes from what the server and the kernel saw (its own kill at the
deadline, the cgroup's OOM-kill counter, the lock-down byte, CPU seconds, the exit status):
no exit code is reserved, and nothing a program prints or does to itself makes a status but
``ok``, ``error`` or ``killed``; its output is escaped so that no line of it reads as the
sandbox's note. Servers end when their Sandbox is closed or the caller exits (EOF on their
stdin). Output is deterministic (PYTHONHASHSEED=0), except that ``random`` is seeded afresh
in every child, as in a new interpreter.

Weaker without root (tests/test_sandbox_unprivileged.py runs it as uid 65534): programs run
as the caller's uid inside a user namespace, with their capabilities dropped; the process
limit holds (it counts the user's processes) and the PID, network and mount namespaces and
the minimal root work as for root. The programs of one server share a uid, but none can
reach another: children are not dumpable (hidepid=2 then hides them from each other's
/proc) and the seccomp filter lets signals, prlimit and scheduling calls name the calling
program only. There is no memory cgroup: a program out of memory ends as ``error`` with
its MemoryError, never ``memory``. Where user namespaces are turned off (some
distributions do), network use, writes outside the scratch folder and signals to the user's
other processes meet the audit hook only. ``Sandbox.isolation`` says what a server got,
``isolation()`` what the shared one got; the first server of a process prints it once.
Linux only.

The code: this module is the caller's side (``Sandbox``, ``run``, ``run_many``); ``records``
holds ``ExecResult`` and ``Isolation``, ``server`` is the server process and its isolation,
``child`` what a forked child does before and while it runs a program, ``output`` how its
output is read back and escaped, ``seccomp``, ``root``, ``cgroup`` and ``scratch`` the
pieces of isolation, ``linux`` the few system calls the standard library lacks.
"""

from __future__ import annotations

import atexit
import math
import os
import select
import signal
import sys
import threading
import time
import weakref
from collections import deque

from mathgen.errors import MathgenError
from mathgen.sandbox.connection import _Connection, _pack, _unpack  # noqa: F401 - server.py
from mathgen.sandbox.records import ExecResult, Isolation


TAIL = 64 * 1024  # bytes of stdout and stderr kept, from the end
FILE_LIMIT = 16 << 20  # RLIMIT_FSIZE: bytes per file, stdout included; then writes fail
UID_BASE = 2_000_000_000  # as root, slot k runs as uid/gid UID_BASE + k
MAX_WORKERS = 256
_STDLIB = ("math", "cmath", "fractions", "decimal", "itertools", "functools", "collections",
           "datetime", "re", "statistics", "random", "string", "heapq", "bisect", "operator",
           "numbers", "json")
PRELOAD = {"light": _STDLIB, "heavy": _STDLIB + ("sympy", "numpy")}  # what servers import
_HEAVY_ONLY = tuple(name for name in PRELOAD["heavy"] if name not in PRELOAD["light"])
_GRACE = 10.0  # seconds past the timeout before a silent server counts as hung
_START_WAIT = 120.0


def cpu_limit(timeout: float) -> int:
    """RLIMIT_CPU's soft limit for a program with this wall-clock timeout (the hard one is a
    second more); the server reads SIGXCPU as a timeout only once that much CPU was used."""
    return math.ceil(timeout) + 1


class SandboxError(MathgenError):
    """Bad options for the sandbox, or a sandbox server that cannot start."""


# --- the caller's side --------------------------------------------------------------------

class Sandbox:
    """Sandbox servers of our own, started on first use: ``with Sandbox() as box: ...``.

    Two servers at most: a light one (the standard library preloaded) and one that has
    sympy and numpy too, for programs that name them; forking the smaller one is cheaper.
    Batches on one Sandbox run one at a time (a lock); the module-level ``run`` and
    ``run_many`` share one that is closed when the interpreter exits.
    """

    def __init__(self):
        self._lock = threading.RLock()
        self._servers: dict[str, _Connection] = {}
        self._next_job = 0
        if not _boxes:
            os.register_at_fork(after_in_child=_forget_servers)
        _boxes.add(self)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def isolation(self) -> Isolation:
        """What the OS gave the (light) server; starts it if need be."""
        with self._lock:
            server = self._server("light")
            while server.isolation is None:
                if not isinstance(self._receive(_START_WAIT), tuple):
                    self.close(kill=True)
                    raise SandboxError("the sandbox server did not start; see its messages "
                                       "on stderr")
            return server.isolation

    @property
    def pids(self) -> list[int]:
        """Top process of each running server; killing its process group stops that server."""
        return [server.proc.pid for server in self._servers.values()]

    @property
    def roots(self) -> list[str]:
        """Scratch roots of the running servers (job folders live there while jobs run)."""
        return [server.root for server in self._servers.values()]

    def run(self, code: str, **options) -> ExecResult:
        """Run one program; options as for ``run_many``."""
        return self.run_many([code], workers=1, **options)[0]

    def run_many(self, codes, *, timeout: float = 5.0, memory_mb: int = 512,
                 workers: int | None = None, audit_hook: bool = True) -> list[ExecResult]:
        """Run programs, ``workers`` at a time; one ExecResult per program, in input order.

        Args:
            timeout: wall-clock seconds per program.
            memory_mb: MiB of address space a program may add to the preloaded modules.
            workers: programs at a time (default: the CPUs this process may use); programs
                that name sympy or numpy have a server of their own, so a batch that mixes
                both kinds may briefly run up to twice as many.
            audit_hook: False leaves only the OS limits (for tests of that first line).
        """
        codes = list(codes)
        workers = _check_options(codes, timeout, memory_mb, workers)
        with self._lock:
            try:
                return self._run_batch(codes, timeout, memory_mb, workers, audit_hook)
            except BaseException:  # such as KeyboardInterrupt: stop what runs, start afresh
                self.close(kill=True)
                raise

    def _run_batch(self, codes: list[str], timeout: float, memory_mb: int, workers: int,
                   audit_hook: bool) -> list[ExecResult]:
        results: list[ExecResult | None] = [None] * len(codes)
        waiting, failures = deque(range(len(codes))), 0
        lost: dict[int, int] = {}  # index -> servers lost while it may have been running
        while waiting or any(server.running for server in self._servers.values()):
            # each server runs up to `workers` and holds as many more queued, so that it
            # starts the next program the moment one ends
            while waiting and sum(len(s.running) for s in self._servers.values()) < 2 * workers:
                index = waiting.popleft()
                server = self._server(_kind(codes[index]))
                self._next_job += 1
                server.running[self._next_job] = index
                server.outbox += _pack((self._next_job, codes[index], float(timeout),
                                        memory_mb, audit_hook, workers))
            reply = self._receive(timeout + _GRACE)
            if isinstance(reply, tuple):
                server, message = reply
                if not isinstance(message, Isolation):
                    job, *fields = message
                    results[server.running.pop(job)] = ExecResult(*fields)
                continue
            for server in [reply] if reply else list(self._servers.values()):
                # it starts jobs in the order sent, `workers` at a time: only the oldest
                # `workers` can have started. Those run once more in a fresh server (a
                # program that kills servers then costs only itself), then count as killed;
                # the others go to its successor as they were
                started, queued = (list(server.running.values())[:workers],
                                   list(server.running.values())[workers:])
                if server.isolation is None and not started:
                    failures += 1  # it never started: no program to blame
                retry = []
                for index in started:
                    lost[index] = lost.get(index, 0) + 1
                    if lost[index] > 1:
                        results[index] = ExecResult(
                            "killed", "", "mathgen.sandbox: the sandbox server stopped "
                            "before this program ended, twice\n", 0.0, None)
                    else:
                        retry.append(index)
                waiting.extendleft(reversed(retry + queued))
                del self._servers[server.kind]
                server.close(kill=True)
            if failures > 3:
                raise SandboxError("a sandbox server failed to start 4 times in one batch; "
                                   "see its messages on stderr")
        return results

    def close(self, kill: bool = False) -> None:
        """Stop the servers (their children die with them) and remove their scratch roots.

        A server is asked to stop (EOF) and killed if it has not within 5 s, or at once with
        ``kill=True``.
        """
        with self._lock:
            servers, self._servers = self._servers, {}
            for server in servers.values():
                server.close(kill)

    def _server(self, kind: str) -> _Connection:
        if kind not in self._servers:
            self._servers[kind] = _Connection(kind)
        return self._servers[kind]

    def _receive(self, wait: float):
        """Send queued jobs until a message comes: ``(server, message)``; the server that
        hung up; or None when no server said anything within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while True:
            for server in self._servers.values():
                if server.messages:
                    message = server.messages.popleft()
                    if isinstance(message, Isolation):  # a server's first message
                        server.isolation = message
                        _tell_once(message)
                    return server, message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            poller, owners = select.poll(), {}
            for server in self._servers.values():
                poller.register(server.rfd, select.POLLIN)
                owners[server.rfd] = server
                if server.outbox:
                    poller.register(server.wfd, select.POLLOUT)
                    owners[server.wfd] = server
            for fd, _ in poller.poll(math.ceil(left * 1000)):
                if not owners[fd].pump(fd):
                    return owners[fd]


def _kind(code: str) -> str:
    """The server for a program: the heavy one only when it names a module only that preloads."""
    return "heavy" if any(name in code for name in _HEAVY_ONLY) else "light"


def _check_options(codes: list, timeout, memory_mb, workers) -> int:
    """The worker count to use; raises SandboxError on options a caller got wrong."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= 86400:
        raise SandboxError(f"timeout must be a number of seconds in (0, 86400], got {timeout!r}")
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) \
            or not 16 <= memory_mb <= 1 << 20:
        raise SandboxError(f"memory_mb must be a whole number of MiB from 16, got {memory_mb!r}")
    if workers is None:
        workers = len(os.sched_getaffinity(0))
    if isinstance(workers, bool) or not isinstance(workers, int) \
            or not 1 <= workers <= MAX_WORKERS:
        raise SandboxError(f"workers must be a whole number from 1 to {MAX_WORKERS}, "
                           f"got {workers!r}")
    for number, code in enumerate(codes):
        if not isinstance(code, str):
            raise SandboxError(f"program {number} is a {type(code).__name__}, not source text")
    return min(workers, max(1, len(codes)))


_shared: Sandbox | None = None
_shared_lock = threading.Lock()
_boxes: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def _forget_servers() -> None:
    """In a forked copy of the caller: drop the parent's servers and their pipes, which would
    keep a server from seeing its caller go; new ones start when needed."""
    global _shared_lock
    _shared_lock = threading.Lock()
    for box in _boxes:
        box._lock = threading.RLock()
        for server in box._servers.values():
            server.proc.stdin.close()
            server.proc.stdout.close()
        box._servers = {}


def _default() -> Sandbox:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox()
            atexit.register(_shared.close)
        return _shared


_told = False


def _tell_once(isolation: Isolation) -> None:
    """The first server of a process says on stderr what isolation holds, once."""
    global _told
    if not _told:
        _told = True
        print(f"mathgen.sandbox: {isolation.describe()}", file=sys.stderr)


def isolation() -> Isolation:
    """What the OS gives the shared sandbox here: each protection, and why any is missing."""
    return _default().isolation


def require_isolation() -> Isolation:
    """``isolation()`` if every protection holds; else SandboxError naming what is missing."""
    held = isolation()
    if not held.full:
        raise SandboxError(f"--require-isolation: the sandbox lacks {', '.join(held.missing())}"
                           f" here ({'; '.join(held.notes) or 'no reason given'}); run as root "
                           "on Linux with namespaces, seccomp and a cgroup v1 memory controller, "
                           "or run without --require-isolation")
    return held


def run(code: str, *, timeout: float = 5.0, memory_mb: int = 512) -> ExecResult:
    """Run one program in the shared sandbox (see ``run_many``)."""
    return _default().run(code, timeout=timeout, memory_mb=memory_mb)


def run_many(codes, *, timeout: float = 5.0, memory_mb: int = 512,
             workers: int | None = None) -> list[ExecResult]:
    """Run programs in the shared sandbox; one ExecResult per program, in input order."""
    return _default().run_many(codes, timeout=timeout, memory_mb=memory_mb, workers=workers)
