"""The sandbox's records: how one program ended (``ExecResult``) and what isolation a server
got (``Isolation``). Re-exported by ``mathgen.sandbox``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExecResult:
    """How one program ended.

    ``status`` says what the server saw, never what the program claims: ``ok`` (exit code 0:
    it finished, or called sys.exit() / sys.exit(0), as a shell would see it); ``error`` (a
    non-zero exit: an exception, traceback in stderr, MemoryError at the address-space limit
    included, or a write past the 16 MiB file limit, "File too large"); ``timeout`` (killed
    by the server at the wall-clock limit, or by the kernel once its CPU seconds ran out);
    ``memory`` (killed by the kernel at its memory cgroup's limit, read from the cgroup's
    OOM-kill counter; where there is no cgroup, see ``Isolation``, a program out of memory
    ends as ``error``); ``killed`` (any other signal, such as a segfault, or its server was
    lost). No exit code means anything to the sandbox, and signals a program sends itself
    count for nothing more than ``killed``. ``stdout`` and ``stderr`` are the last 64 KiB of
    what the program wrote to fds 1 and 2 (of at most 16 MiB), decoded as UTF-8 with bad
    bytes replaced; when the sandbox stopped a program it adds a ``mathgen.sandbox:`` line
    to stderr saying why (a line of the program's own that begins so has its colon escaped;
    control characters and line separators come as ``\\x..`` / ``\\u..`` escapes).
    ``seconds`` is wall time from fork to reap; ``returncode`` the exit code, or minus the
    signal number.
    """

    status: str
    stdout: str
    stderr: str
    seconds: float
    returncode: int | None


@dataclass(frozen=True)
class Isolation:
    """Which OS-level protections a sandbox server got; ``notes`` says why any is missing.

    ``full`` is whether every one holds; ``describe()`` says it in one line.
    """

    own_uid: bool  # programs run as an unprivileged uid per slot (needs root)
    pid_namespace: bool
    network_namespace: bool
    read_only: bool  # the file system is read-only outside the scratch root
    own_root: bool  # a minimal root of its own (pivot_root): no host file or socket in reach
    seccomp: bool  # the seccomp filter of ``mathgen.sandbox.seccomp`` is installed
    no_ptys: bool  # no /dev/ptmx in reach: no pseudo-terminals
    memory_cgroup: bool  # memory is counted by a cgroup (else: address space, tmpfs, pipes)
    notes: tuple[str, ...]

    _NAMES = ("own_uid", "pid_namespace", "network_namespace", "read_only", "own_root",
              "seccomp", "no_ptys", "memory_cgroup")

    @property
    def full(self) -> bool:
        return all(getattr(self, name) for name in self._NAMES)

    def missing(self) -> list[str]:
        return [name for name in self._NAMES if not getattr(self, name)]

    def describe(self) -> str:
        held = [name for name in self._NAMES if getattr(self, name)]
        text = "sandbox isolation: " + (", ".join(held) or "none")
        if self.missing():
            text += "; missing: " + ", ".join(self.missing())
        return text + "".join(f"; {note}" for note in self.notes)
