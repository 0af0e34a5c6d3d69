"""The sandbox server: isolates itself (namespaces, read-only mounts, a /proc of its own),
then forks a locked-down child per program, kills it at its deadline and sends back the
result. Runs in its own process, started by ``mathgen.sandbox.Sandbox``."""

from __future__ import annotations

import atexit
import gc
import math
import os
import select
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from mathgen.sandbox import (
    FILE_LIMIT, Isolation, MAX_WORKERS, PRELOAD, UID_BASE, _pack, _unpack, cpu_limit)
from mathgen.sandbox import cgroup, seccomp
from mathgen.sandbox.child import run_child
from mathgen.sandbox.linux import (
    CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, MS_NODEV, MS_NOSUID,
    PR_SET_PDEATHSIG, libc_call, mount, prctl)
from mathgen.sandbox.output import tail
from mathgen.sandbox.root import enter_minimal_root
from mathgen.sandbox.scratch import remove_tree

_NOBODY = 65534
_SLOT_INODES = 4096  # files and folders a program may leave in its scratch folder


def serve() -> None:
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
        libc_call("unshare", CLONE_NEWPID | (CLONE_NEWUSER if userns else 0))
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
    memory = None if userns else cgroup.base()
    if memory is not None:
        memory = f"{memory}/{os.path.basename(root)}"
        try:
            os.mkdir(memory, 0o700)
        except OSError:
            memory = None
    pid = os.fork()  # the child is PID 1 of the new namespace: the server proper
    if pid:  # this one stays outside and removes the scratch root after the server ends
        os.close(rfd)
        os.close(wfd)
        os.waitpid(pid, 0)
        _remove_quietly(root)
        if memory is not None:
            cgroup.remove(memory)
        os._exit(0)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _Server(root, rfd, wfd, preload, [], True, userns, memory).serve()


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
    ready: int  # read end of the pipe that says the child's lock-down completed
    killed: bool = False
    retry: float = 0.0  # when to send SIGKILL again if it has not ended by then

    @property
    def deadline(self) -> float:
        return self.started + self.timeout


class _Server:
    """Forks a child per job, kills it at its deadline, reaps it and sends back its result."""

    def __init__(self, root: str, rfd: int, wfd: int, preload: tuple[str, ...],
                 notes: list[str], pid_namespace: bool, userns: bool = False,
                 memory: str | None = None):
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
        self.cgroups = cgroup.SlotCgroups(memory) if memory else None  # before pivot_root
        if self.cgroups is None:
            notes.append("no memory cgroup (needs root and a writable cgroup v1 memory "
                         "controller): memory is bounded by address space, tmpfs and pipes, "
                         "and a program out of memory ends as 'error' with its MemoryError, "
                         "never 'memory': in its own process it could raise one itself")
        network, own_root = _isolate(root, pid_namespace, notes)
        self.filter = seccomp.prepared()
        if self.filter is None:
            notes.append(f"no seccomp filter for {os.uname().machine}")
        read_only = network and all(os.statvfs(p).f_flag & os.ST_RDONLY
                                    for p in ("/", sys.prefix, sys.base_prefix))
        no_ptys = own_root and not os.path.exists("/dev/ptmx")
        self.isolation = Isolation(self.own_uids, pid_namespace, network, read_only, own_root,
                                   self.filter is not None, no_ptys, self.cgroups is not None,
                                   tuple(notes))
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
        # what a child may come to hold of the server's pages by writing to them
        self.shared = int(os.pread(self.statm, 64, 0).split()[1]) * self.page
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
        group = None
        if self.cgroups is not None:
            limit = (memory_mb << 20) + self.shared + cgroup.MARGIN
            group = self.cgroups.prepare(slot, limit)
            # the cgroup is the memory limit, the kernel's OOM kill its only word ('memory');
            # the address space, a bound on reservations only, lies past it, so that memory
            # a program fills comes to the cgroup's limit first
            address_space = mapped + limit + cgroup.MARGIN
        ready, ready_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            run_child(code, folder, self.uid(slot), timeout, address_space, audit, self.userns,
                      self.pid, self.filter, group, ready_w)
        os.close(ready_w)  # the child holds the only write end
        fd = os.pidfd_open(pid)
        self.jobs[fd] = _Job(job_id, pid, slot, folder, timeout, memory_mb, started, ready)
        self.poller.register(fd, select.POLLIN)

    def mount_slot(self, slot: int) -> None:
        """A folder per slot for its job folders: where we can, a small tmpfs, so that a
        program can neither fill the disk nor leave more files than are quick to remove."""
        os.mkdir(f"{self.root}/{slot}", 0o711)
        if self.tmpfs:
            mount("tmpfs", f"{self.root}/{slot}", "tmpfs", MS_NOSUID | MS_NODEV,
                   f"mode=0711,size={3 * FILE_LIMIT},nr_inodes={_SLOT_INODES}")
        self.slots.add(slot)

    def finish(self, fd: int) -> None:
        job = self.jobs.pop(fd)
        self.poller.unregister(fd)
        _kill_group(job.pid)  # whatever else is left in its process group
        _, status, usage = os.wait4(job.pid, 0)
        seconds = time.monotonic() - job.started
        os.close(fd)
        try:  # the child is gone, with the pipe's only write end: this never waits
            ready = os.read(job.ready, 1) == b"\x01"
        except BlockingIOError:
            ready = False
        os.close(job.ready)
        stdout, stderr = (tail(f"{job.folder}/{name}") for name in ("stdout", "stderr"))
        _remove_tree(job.folder)
        returncode = os.waitstatus_to_exitcode(status)
        # the kernel's word, read whenever SIGKILL ended a job, so that the count stays current
        oom = returncode == -signal.SIGKILL and self.cgroups is not None \
            and self.cgroups.killed(job.slot)
        kind, note = _classify(returncode, job, oom, ready, usage.ru_utime + usage.ru_stime)
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
            _remove_quietly(job.folder)
        _remove_quietly(self.root)  # inside a mount namespace: the contents
        os._exit(0)


def _classify(returncode: int, job: _Job, oom: bool, ready: bool,
              cpu: float) -> tuple[str, str | None]:
    """Status of a finished job, and the note the sandbox adds to its stderr.

    Only what the server and the kernel saw counts: its own kill at the deadline, the
    cgroup's OOM-kill counter (``oom``), whether the lock-down completed (``ready``), the
    CPU seconds the kernel counted, the exit status. A program chooses its exit code and
    may signal itself, so neither ever makes a status but ``ok``, ``error`` or ``killed``.
    """
    if oom:
        return "memory", (f"killed at its memory cgroup's limit ({job.memory_mb} MiB, the "
                          f"server's resident pages and {cgroup.MARGIN >> 20} MiB)")
    if job.killed:
        return "timeout", f"stopped at the time limit of {job.timeout:g} s"
    if not ready:
        return "error", "the sandbox could not set up this program"
    if returncode == -signal.SIGXCPU and cpu >= cpu_limit(job.timeout) - 0.05:
        return "timeout", "stopped when it ran out of CPU seconds"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if returncode == -signal.SIGXFSZ:
            name += f" (a file or its output passed {FILE_LIMIT >> 20} MiB)"
        return "killed", f"killed by {name}"
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


def _remove_tree(path: str) -> None:
    try:  # the usual job folder, in four calls
        for name in ("stdout", "stderr"):
            os.unlink(f"{path}/{name}")
        os.rmdir(f"{path}/work")
        os.rmdir(path)
        return
    except OSError:
        pass
    _remove_quietly(path)


def _remove_quietly(path: str) -> None:
    """Remove a tree; what cannot go (a busy mount point) is left, not fatal to the server:
    a slot's tmpfs is dropped with the mount namespace anyway."""
    try:
        remove_tree(path)
    except OSError:
        pass


def _mapped(first: int, stop: int) -> bool:
    """Whether the uids and gids first..stop-1 exist in this user namespace."""
    for name in ("uid_map", "gid_map"):
        rows = [tuple(map(int, line.split()))
                for line in Path("/proc/self", name).read_text().splitlines()]
        if not any(inside <= first and stop <= inside + count for inside, _, count in rows):
            return False
    return True


def _isolate(root: str, pid_namespace: bool, notes: list[str]) -> tuple[bool, bool]:
    """Enter mount, network and IPC namespaces and a minimal root of our own (``root``
    module). Returns (network isolated, minimal root); ``notes`` gets what failed."""
    try:
        libc_call("unshare", CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
    except OSError as err:
        notes.append(f"no mount or network namespace ({err.strerror}): host files, sockets "
                     "and the network are kept out by the audit hook only")
        return False, False
    try:
        enter_minimal_root(root, pid_namespace, notes)
    except OSError as err:
        notes.append(f"no minimal root ({err}): host files and UNIX sockets stay in reach")
        return True, False
    return True, True
