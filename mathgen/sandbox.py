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
caller; sets no_new_privs and a parent-death signal; installs an audit hook. The hook
(denying subprocesses, fork, kill, sockets, ctypes, and writes outside the scratch folder) is
a second line only: ctypes or C extensions get around audit hooks, the OS limits hold.

Around the children, as far as the OS allows (root, or a user with user namespaces), each
server is PID 1 of its own PID namespace (children cannot see or signal the caller, and the
kernel kills them all when the server ends), in a network namespace without interfaces, a
private IPC namespace with System V IPC turned off, and a mount namespace where everything
but the scratch root is read-only: /proc there is the PID namespace's own (hidepid=2), and
/tmp, /run and /dev/shm are empty read-only tmpfs mounts (no host UNIX socket file or shared
memory in reach; the scratch root is bound back in). There each slot keeps its job
folders on a tmpfs of its own (48 MiB, 4096 files): no disk to fill, a clean-up that stays
quick, and nothing left once the namespace is gone.
Folders the sandbox uids may not enter (a pyenv Python under /root) are shown to them
read-only on a tmpfs, so imports still work while the rest of /root stays hidden.

The server watches each child through a pidfd and SIGKILLs it (through the pidfd, which
works before the child's setsid) and its process group at the wall-clock timeout, again every
0.1 s until it ends, whatever it is doing (a C call such as pow(10, 10**9) included), reaps
it, reads the output tails, removes the job folder and sends the result before it starts the
next program. It holds up to ``workers`` programs queued besides the ``workers`` running, and
starts the next one the moment one ends. The caller's
side never blocks on a server: one that dies or stops answering is killed and replaced; the
programs it may have started come back as ``killed``, the ones still queued run again.
Servers end when their Sandbox is closed or the caller exits (EOF on their stdin). Output is
deterministic (PYTHONHASHSEED=0), except that ``random`` is seeded afresh in every child, as
in a new interpreter.

Weaker without root (tried as uid 1000): programs run as the caller's uid inside a user
namespace, with their capabilities dropped; the process limit holds (it counts the user's
processes) and the PID, network and mount namespaces work as for root, but the programs of
one server share a uid, so code that gets past the audit hook could signal another running
program (not the server, nor the caller). Where user namespaces are turned off (some
distributions do), network use, writes outside the scratch folder and signals to the user's
other processes meet the audit hook only. ``Sandbox.isolation`` says what a server got.
Linux only.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import linecache
import math
import os
import pickle
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from mathgen.errors import MathgenError

TAIL = 64 * 1024  # bytes of stdout and stderr kept, from the end
FILE_LIMIT = 16 << 20  # RLIMIT_FSIZE: bytes per file, stdout included; then writes fail
UID_BASE = 2_000_000_000  # as root, slot k runs as uid/gid UID_BASE + k
MAX_WORKERS = 256
_STDLIB = ("math", "cmath", "fractions", "decimal", "itertools", "functools", "collections",
           "datetime", "re", "statistics", "random", "string", "heapq", "bisect", "operator",
           "numbers", "json")
PRELOAD = {"light": _STDLIB, "heavy": _STDLIB + ("sympy", "numpy")}  # what servers import
_HEAVY_ONLY = tuple(name for name in PRELOAD["heavy"] if name not in PRELOAD["light"])
_EXIT_MEMORY = 86  # the child's exit code after a MemoryError (a program's exit(86) reads so)
_EXIT_SETUP = 87  # the child could not set itself up
_GRACE = 10.0  # seconds past the timeout before a silent server counts as hung
_START_WAIT = 120.0


class SandboxError(MathgenError):
    """Bad options for the sandbox, or a sandbox server that cannot start."""


@dataclass(frozen=True)
class ExecResult:
    """How one program ended.

    ``status``: ``ok`` (it finished, or called sys.exit() / sys.exit(0), as a shell would
    see it); ``error`` (an exception, traceback in stderr, or a non-zero exit; also a write
    past the 16 MiB file limit, "File too large"); ``timeout`` (killed at the wall-clock
    limit, or out of CPU seconds); ``memory`` (MemoryError at its address-space limit);
    ``killed`` (a signal, such as a segfault, or its server was lost). ``stdout`` and
    ``stderr`` are the last 64 KiB of what the program wrote to fds 1 and 2 (of at most
    16 MiB), decoded as UTF-8 with bad bytes replaced; when the sandbox stopped a program it
    adds a ``mathgen.sandbox:`` line to stderr saying why. ``seconds`` is wall time from fork
    to reap; ``returncode`` the exit code, or minus the signal number.
    """

    status: str
    stdout: str
    stderr: str
    seconds: float
    returncode: int | None


@dataclass(frozen=True)
class Isolation:
    """Which OS-level protections a sandbox server got; ``notes`` says why any is missing."""

    own_uid: bool  # programs run as an unprivileged uid per slot (needs root)
    pid_namespace: bool
    network_namespace: bool
    read_only: bool  # the file system is read-only outside the scratch root
    notes: tuple[str, ...]


# --- the caller's side --------------------------------------------------------------------

class _Connection:
    """One server process (``kind`` names its preload) and the bytes queued to and from it."""

    def __init__(self, kind: str):
        self.kind = kind
        self.root = tempfile.mkdtemp(prefix=f"mathgen-sandbox-{kind}-")
        os.chmod(self.root, 0o711)  # sandbox uids pass through to their own folders
        env = {"PATH": os.environ.get("PATH", os.defpath), "PYTHONHASHSEED": "0",
               "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from mathgen.sandbox import _serve; _serve()", self.root,
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
            failures += 1  # a server died, or none answered in time
            for server in [reply] if reply else list(self._servers.values()):
                # it starts jobs in the order sent, `workers` at a time: only the oldest
                # `workers` can have started; the others go to its successor
                lost = list(server.running.values())
                for index in lost[:workers]:
                    results[index] = ExecResult("killed", "", "mathgen.sandbox: the "
                                                "sandbox server stopped before this "
                                                "program ended\n", 0.0, None)
                waiting.extendleft(reversed(lost[workers:]))
                del self._servers[server.kind]
                server.close(kill=True)
            if failures > 3:
                raise SandboxError("sandbox servers stopped 4 times in one batch; see "
                                   "their messages on stderr")
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


def run(code: str, *, timeout: float = 5.0, memory_mb: int = 512) -> ExecResult:
    """Run one program in the shared sandbox (see ``run_many``)."""
    return _default().run(code, timeout=timeout, memory_mb=memory_mb)


def run_many(codes, *, timeout: float = 5.0, memory_mb: int = 512,
             workers: int | None = None) -> list[ExecResult]:
    """Run programs in the shared sandbox; one ExecResult per program, in input order."""
    return _default().run_many(codes, timeout=timeout, memory_mb=memory_mb, workers=workers)


# --- the server's side ---------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
_CLONE_NEWPID, _CLONE_NEWNET = 0x20000000, 0x40000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MOUNT_OPTIONS = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048,
                  "relatime": 1 << 21}  # per-mount flags a read-only remount must keep
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_NOBODY = 65534
_SLOT_INODES = 4096  # files and folders a program may leave in its scratch folder

# Audit events a program may not raise at all, and events that write to a path (arg indices).
_DENIED = ("socket.", "ctypes.", "subprocess.", "os.system", "os.exec", "os.spawn",
           "os.posix_spawn", "os.fork", "os.kill", "signal.pthread_kill", "resource.prlimit",
           "gc.get_", "pty.", "webbrowser.", "urllib.", "os.chroot")
_PATH_WRITES = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
                "os.symlink": (1,), "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,),
                "os.truncate": (0,), "os.utime": (0,), "os.setxattr": (0,),
                "os.removexattr": (0,), "shutil.rmtree": (0,)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _libc_call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _mount(source, target, fstype, flags: int, data=None) -> None:
    encode = lambda text: None if text is None else os.fsencode(text)  # noqa: E731
    _libc_call("mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags),
               encode(data))


_libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4


def _prctl(option: int, value: int) -> None:
    _libc_call("prctl", option, value, 0, 0, 0)


def _serve() -> None:
    """Entry point of the server process: talks with its Sandbox over fds 0 and 1."""
    root, preload = os.path.realpath(sys.argv[1]), PRELOAD[sys.argv[2]]
    os.umask(0o022)
    rfd, wfd = os.dup(0), os.dup(1)  # the protocol; fds 0 and 1 become /dev/null
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    uid, gid, userns = os.getuid(), os.getgid(), os.geteuid() != 0
    try:
        _libc_call("unshare", _CLONE_NEWPID | (_CLONE_NEWUSER if userns else 0))
    except OSError as err:
        note = f"no PID namespace ({err.strerror})"
    else:
        note = None
    if note is not None:  # served outside the except block: programs' tracebacks stay clean
        _Server(root, rfd, wfd, preload, [note], False).serve()
        return
    if userns:  # map our own ids, so that what the server creates stays the user's
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    pid = os.fork()  # the child is PID 1 of the new namespace: the server proper
    if pid:  # this one stays outside and removes the scratch root after the server ends
        os.close(rfd)
        os.close(wfd)
        os.waitpid(pid, 0)
        shutil.rmtree(root, ignore_errors=True)
        os._exit(0)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _Server(root, rfd, wfd, preload, [], True, userns).serve()


def _warm_sympy() -> None:
    """Run SymPy's common entry points once, so that the modules they import lazily are
    loaded before any fork: children then need not read them (where the sandbox uid cannot
    read the Python installation, with no mount namespace to show it, they could not)."""
    import sympy

    try:
        x, y = sympy.symbols("x y")
        sympy.solve(sympy.Eq(2 * x + 3, 7), x)
        sympy.solve([x + y - 3, x - y - 1], [x, y])
        sympy.simplify((x ** 2 - 1) / (x - 1))
        sympy.factor(x ** 2 - 1)
        sympy.nsimplify(0.5)
        sympy.N(sympy.pi, 5)
        sympy.Symbol("z", positive=True, integer=True)
    except Exception:  # a SymPy version without one of these: programs import it lazily
        pass


@dataclass
class _Job:
    job: int
    pid: int
    slot: int
    folder: str
    timeout: float
    memory_mb: int
    started: float
    killed: bool = False
    retry: float = 0.0  # when to send SIGKILL again if it has not ended by then

    @property
    def deadline(self) -> float:
        return self.started + self.timeout


class _Server:
    """Forks a child per job, kills it at its deadline, reaps it and sends back its result."""

    def __init__(self, root: str, rfd: int, wfd: int, preload: tuple[str, ...],
                 notes: list[str], pid_namespace: bool, userns: bool = False):
        self.root, self.rfd, self.wfd, self.userns = root, rfd, wfd, userns
        self.pid = os.getpid()
        self.jobs: dict[int, _Job] = {}  # by pidfd
        self.inbox = bytearray()
        self.queue: deque = deque()  # jobs received, not started
        root_user = os.geteuid() == 0 and not userns
        self.own_uids = root_user and _mapped(UID_BASE, UID_BASE + MAX_WORKERS)
        if root_user and not self.own_uids:
            notes.append(f"uids {UID_BASE}+ do not exist here: every program runs as nobody")
        if not root_user:
            notes.append("not root: programs run as the caller's user")
        network, read_only = _isolate(root, self.own_uids, pid_namespace, notes)
        self.isolation = Isolation(self.own_uids, pid_namespace, network, read_only, tuple(notes))
        self.slots: set[int] = set()  # slots with a folder
        self.tmpfs = network  # in a mount namespace of our own
        for name in preload:
            try:
                __import__(name)
            except Exception:  # not installed here (numpy is optional)
                pass
        if "sympy" in sys.modules:
            _warm_sympy()
        sys.path[:] = [entry for entry in sys.path if entry]  # '' is the program's folder
        os.environ.clear()  # the caller's secrets stay out of the programs' reach
        os.environ.update(PATH="/usr/bin:/bin", LANG="C.UTF-8", HOME="/nonexistent")
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.statm = os.open("/proc/self/statm", os.O_RDONLY)
        atexit._clear()  # the server never exits normally; a child runs its program's handlers
        gc.collect()
        gc.freeze()  # children then leave the preloaded objects' pages shared

    def uid(self, slot: int) -> int | None:
        if self.own_uids:
            return UID_BASE + slot
        return _NOBODY if os.geteuid() == 0 and not self.userns else None

    def serve(self) -> None:
        self.send(self.isolation)
        self.poller = select.poll()
        self.poller.register(self.rfd, select.POLLIN)
        while True:
            deadlines = [job.retry if job.killed else job.deadline
                         for job in self.jobs.values()]
            wait = None
            if deadlines:
                wait = max(0, math.ceil((min(deadlines) - time.monotonic()) * 1000))
            for fd, _ in self.poller.poll(wait):
                if fd == self.rfd:
                    if not self.read():
                        return self.shutdown()
                elif fd in self.jobs:
                    self.finish(fd)
            now = time.monotonic()
            for fd, job in self.jobs.items():
                if now >= (job.retry if job.killed else job.deadline):
                    # through the pidfd too: the group exists only once the child calls
                    # setsid(), and the deadline may come first
                    job.killed, job.retry = True, now + 0.1
                    _kill_job(fd, job.pid)

    def read(self) -> bool:
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            return False
        self.inbox += chunk
        self.queue += _unpack(self.inbox)
        self.launch()
        return True

    def launch(self) -> None:
        """Start queued jobs while fewer than their ``limit`` run."""
        while self.queue and len(self.jobs) < self.queue[0][-1]:
            self.start(*self.queue.popleft())

    def start(self, job_id: int, code: str, timeout: float, memory_mb: int, audit: bool,
              limit: int) -> None:
        slot = min(set(range(len(self.jobs) + 1)) - {job.slot for job in self.jobs.values()})
        folder = f"{self.root}/{slot}/{job_id}"
        if slot not in self.slots:
            self.mount_slot(slot)
        mapped = int(os.pread(self.statm, 64, 0).split()[0]) * self.page  # the child starts so
        address_space = mapped + (memory_mb << 20)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(code, folder, self.uid(slot), timeout, address_space, audit, self.userns,
                   self.pid)
        fd = os.pidfd_open(pid)
        self.jobs[fd] = _Job(job_id, pid, slot, folder, timeout, memory_mb, started)
        self.poller.register(fd, select.POLLIN)

    def mount_slot(self, slot: int) -> None:
        """A folder per slot for its job folders: where we can, a small tmpfs, so that a
        program can neither fill the disk nor leave more files than are quick to remove."""
        os.mkdir(f"{self.root}/{slot}", 0o711)
        if self.tmpfs:
            _mount("tmpfs", f"{self.root}/{slot}", "tmpfs", _MS_NOSUID | _MS_NODEV,
                   f"mode=0711,size={3 * FILE_LIMIT},nr_inodes={_SLOT_INODES}")
        self.slots.add(slot)

    def finish(self, fd: int) -> None:
        job = self.jobs.pop(fd)
        self.poller.unregister(fd)
        _kill_group(job.pid)  # whatever else is left in its process group
        _, status, _ = os.wait4(job.pid, 0)
        seconds = time.monotonic() - job.started
        os.close(fd)
        stdout, stderr = (_tail(f"{job.folder}/{name}") for name in ("stdout", "stderr"))
        _remove_tree(job.folder)
        returncode = os.waitstatus_to_exitcode(status)
        kind, note = _classify(returncode, job)
        if note:
            stderr += ("\n" if stderr and not stderr.endswith("\n") else "") + \
                f"mathgen.sandbox: {note}\n"
        # sent before the next job starts: the caller counts a job as maybe started only
        # among the oldest `workers` it has no result for
        self.send((job.job, kind, stdout, stderr, round(seconds, 6), returncode))
        self.launch()

    def send(self, message) -> None:
        view = memoryview(_pack(message))
        try:
            while view:
                view = view[os.write(self.wfd, view):]
        except BrokenPipeError:  # the caller is gone
            self.shutdown()

    def shutdown(self) -> None:
        for fd, job in self.jobs.items():
            _kill_job(fd, job.pid)
            os.wait4(job.pid, 0)
            _remove_tree(job.folder)
        shutil.rmtree(self.root, ignore_errors=True)  # inside a mount namespace: the contents
        os._exit(0)


def _classify(returncode: int, job: _Job) -> tuple[str, str | None]:
    """Status of a finished job, and the note the sandbox adds to its stderr."""
    if job.killed:
        return "timeout", f"stopped at the time limit of {job.timeout:g} s"
    if returncode == -signal.SIGXCPU:
        return "timeout", "stopped when it ran out of CPU seconds"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if returncode == -signal.SIGXFSZ:
            name += f" (a file or its output passed {FILE_LIMIT >> 20} MiB)"
        return "killed", f"killed by {name}"
    if returncode == _EXIT_MEMORY:
        return "memory", f"ran out of memory (limit {job.memory_mb} MiB)"
    if returncode == _EXIT_SETUP:
        return "error", "the sandbox could not set up this program"
    return ("ok", None) if returncode == 0 else ("error", None)


def _kill_job(pidfd: int, pid: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:  # it has ended already
        pass
    _kill_group(pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return ""
    try:
        size = os.fstat(fd).st_size
        return os.pread(fd, TAIL, max(0, size - TAIL)).decode("utf-8", "replace")
    finally:
        os.close(fd)


def _remove_tree(path: str) -> None:
    try:  # the usual job folder, in four calls
        for name in ("stdout", "stderr"):
            os.unlink(f"{path}/{name}")
        os.rmdir(f"{path}/work")
        os.rmdir(path)
        return
    except OSError:
        pass
    try:
        shutil.rmtree(path)  # never follows the program's symlinks
        return
    except FileNotFoundError:
        return
    except OSError:  # not root, and the program locked some of its folders
        pass
    for folder, subfolders, _ in os.walk(path):
        for name in subfolders:
            inner = os.path.join(folder, name)
            if not os.path.islink(inner):  # chmod would follow a link out of the folder
                os.chmod(inner, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _mapped(first: int, stop: int) -> bool:
    """Whether the uids and gids first..stop-1 exist in this user namespace."""
    for name in ("uid_map", "gid_map"):
        rows = [tuple(map(int, line.split()))
                for line in Path("/proc/self", name).read_text().splitlines()]
        if not any(inside <= first and stop <= inside + count for inside, _, count in rows):
            return False
    return True


def _isolate(root: str, expose: bool, pid_namespace: bool,
             notes: list[str]) -> tuple[bool, bool]:
    """Enter mount, network and IPC namespaces; make all but the scratch root read-only.

    Then, in the new PID namespace, a /proc of its own (programs see only the sandbox's
    processes); System V IPC turned off in the IPC namespace (shared memory would escape the
    address-space limit and outlive a program); and empty read-only tmpfs mounts over /tmp,
    /run and /dev/shm, so that no host UNIX socket file is reachable (the scratch root comes
    back through a bind mount). Returns (network isolated, file system read-only); ``notes``
    gets what failed.
    """
    try:
        _libc_call("unshare", _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC)
    except OSError as err:
        notes.append(f"no mount or network namespace ({err.strerror}): only the audit hook "
                     "stops network use and writes outside the scratch folder")
        return False, False
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing we do here leaks out
    if expose:
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, root, *filter(None, sys.path)}
        _expose(sorted({os.path.realpath(p) for p in paths if os.path.exists(p)}))
    _mount(root, root, None, _MS_BIND)  # a mount of its own, which stays writable
    failed = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = _unescape(fields[4])
        if point == root or fields[fields.index("-") + 1] == "autofs":
            continue
        flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY
        for option in fields[5].split(","):
            flags |= _MOUNT_OPTIONS.get(option, 0)
        try:
            _mount(None, point, None, flags)
        except OSError:
            failed.append(point)
    if failed:
        notes.append("mounts left writable: " + ", ".join(failed))
    _new_proc(pid_namespace, notes)
    _cover_shared_folders(root, notes)
    writable = ("/", "/tmp", "/var/tmp", "/dev/shm", os.path.dirname(root),
                os.path.expanduser("~"))
    read_only = all(not os.path.exists(p) or os.statvfs(p).f_flag & os.ST_RDONLY
                    for p in writable)
    return True, read_only


_PROC_FLAGS = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC


def _new_proc(pid_namespace: bool, notes: list[str]) -> None:
    """A /proc of the new PID namespace (hidepid=2 where accepted), System V IPC off."""
    mounted = False
    if pid_namespace:
        for data in ("hidepid=2", None):
            try:
                _mount("proc", "/proc", "proc", _PROC_FLAGS, data)
                mounted = True
                break
            except OSError:
                continue
        if not mounted:
            notes.append("no /proc of its own: programs may see the host's processes")
    failed = []
    for name, value in (("shmmni", "0"), ("shmall", "0"), ("msgmni", "0"), ("sem", "0 0 0 0")):
        try:  # these belong to our IPC namespace alone
            Path("/proc/sys/kernel", name).write_text(value)
        except OSError:
            failed.append(name)
    if failed:
        notes.append("System V IPC limits left as they were: " + ", ".join(failed))
    if mounted:
        try:
            _mount(None, "/proc", None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _PROC_FLAGS)
        except OSError:
            notes.append("the new /proc stays writable")


def _cover_shared_folders(root: str, notes: list[str]) -> None:
    """Empty read-only tmpfs mounts over /tmp, /run and /dev/shm (host sockets, POSIX shared
    memory); the scratch root and Python's own folders, if inside one, are bound back in."""
    needed = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                             *filter(None, sys.path)) if os.path.exists(p)}
    for folder in sorted({os.path.realpath(p) for p in ("/tmp", "/run", "/var/run",
                                                         "/dev/shm") if os.path.isdir(p)}):
        if folder in needed:
            notes.append(f"{folder} left visible: Python is installed there")
            continue
        inside = sorted(p for p in needed if p.startswith(folder + "/"))
        inside = [p for p in inside if not any(p.startswith(q + "/") for q in inside)]
        keep = [(p, True) for p in inside] + ([(root, False)] if root.startswith(folder + "/")
                                              else [])
        fds = [os.open(p, os.O_PATH) for p, _ in keep]
        covered = False
        try:
            _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
                   "mode=0755,size=1m,nr_inodes=256")
            covered = True
            for (path, read_only), fd in zip(keep, fds):
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.makedirs(path, 0o755)
                else:
                    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
                    open(path, "x").close()
                _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
                if read_only:
                    _mount(None, path, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
            _mount(None, folder, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
                   | _MS_NOEXEC)
        except OSError as err:
            if covered:  # undo it, so that the scratch root and Python stay in reach
                _libc_call("umount2", os.fsencode(folder), 2)  # MNT_DETACH
            notes.append(f"{folder} left visible ({err.strerror})")
        finally:
            for fd in fds:
                os.close(fd)


def _unescape(field: str) -> str:
    """A path of /proc/self/mountinfo, where space, tab, newline and \\ are octal escapes."""
    parts = field.split("\\")
    return parts[0] + "".join(chr(int(part[:3], 8)) + part[3:] for part in parts[1:])


def _expose(paths: list[str]) -> None:
    """Show paths (the Python installation) to the sandbox uids where a parent hides them.

    A folder others may not enter (/root) gets a read-only tmpfs over it that holds only
    bind mounts of the paths beneath it, so the rest of it stays hidden.
    """
    hidden: dict[str, list[str]] = {}
    for path in paths:  # sorted: a folder comes before the folders inside it
        parts = Path(path).parts
        closed = next((os.path.join(*parts[:i]) for i in range(2, len(parts))
                       if not os.stat(os.path.join(*parts[:i])).st_mode & 0o001), None)
        inside = hidden.setdefault(closed, []) if closed else []
        if closed and not any(path.startswith(shown + "/") for shown in inside):
            inside.append(path)
    for folder, inside in hidden.items():
        fds = [os.open(path, os.O_PATH) for path in inside]
        _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m")
        for path, fd in zip(inside, fds):
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
            os.close(fd)


# --- inside the forked child ---------------------------------------------------------------

def _child(code: str, folder: str, uid: int | None, timeout: float, address_space: int,
           audit: bool, userns: bool, server: int) -> None:
    """Lock this fresh child down, run the program, exit with its status. Never returns."""
    status = _EXIT_SETUP
    try:
        work = _lock_down(folder, uid, timeout, address_space, userns, server)
        status = _execute(code, work if audit else None)
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        os._exit(status)


def _lock_down(folder: str, uid: int | None, timeout: float, address_space: int,
               userns: bool, server: int) -> str:
    """Session, output files, scratch folder, rlimits, privileges; returns the folder.

    Kept to a few calls: every page a child touches is a copy-on-write fault, and those
    faults are most of what a program costs.
    """
    os.setsid()
    os.mkdir(folder, 0o711)
    work = folder + "/work"
    os.mkdir(work, 0o700)
    if uid is not None:
        os.chown(work, uid, uid)
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(os.open(folder + "/stdout", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 1)
    os.dup2(os.open(folder + "/stderr", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 2)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.chdir(work)
    cpu = math.ceil(timeout) + 1
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
        _libc_call("capset", (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)())
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server:  # the server died before the line above
        os._exit(_EXIT_SETUP)
    sys.argv = ["<program>"]
    sys.dont_write_bytecode = True
    return work


def _execute(code: str, scratch: str | None) -> int:
    """Run code as the __main__ module of a fresh namespace; the exit code for the server."""
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    if scratch is not None:
        sys.addaudithook(_audit_hook(scratch))
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
        status = _EXIT_MEMORY if isinstance(err, MemoryError) else 1
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
    """An audit hook that denies what a math program has no business doing."""
    def hook(event: str, args: tuple) -> None:
        if event == "open":
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else _WRITE_FLAGS
            paths = (args[0],) if flags & _WRITE_FLAGS else ()
        elif event.startswith(_DENIED):
            raise PermissionError(f"{event} is not allowed in the mathgen sandbox")
        else:
            paths = [args[i] for i in _PATH_WRITES.get(event, ())]
        for path in paths:
            if not _inside(path, scratch):
                raise PermissionError(f"{event}: {path!r} is outside the scratch folder")
    return hook


def _inside(path, folder: str) -> bool:
    if isinstance(path, int):  # an open descriptor, checked when it was opened
        return True
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == folder or real.startswith(folder + os.sep)
