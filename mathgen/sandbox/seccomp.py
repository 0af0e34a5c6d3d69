"""A seccomp filter for sandbox children: a small classic-BPF program of our own.

Why our own: libseccomp is a C library that may be missing, and its Python bindings come from
the registries only as wrappers around it; the filter we need is short enough to write out.
What it does, run by the kernel at every system call of the child and of nothing else:

1. The architecture must be the one the tables are for (x86-64 or aarch64). A 32-bit call
   (``int 0x80`` on x86-64 reports AUDIT_ARCH_I386, with other numbers) or an x32 one
   (numbers with bit 30 set) kills the process: those tables would let a denied call through
   under another number.
2. Calls a math program has no business making fail with EPERM: memory the address-space
   limit does not count (``memfd_create``, ``memfd_secret``, ``userfaultfd``), state that
   outlives a program or is shared between programs (``keyctl``/``add_key``/``request_key``,
   POSIX and System V message queues, shared memory, semaphores), kernel interfaces with a
   history of holes (``io_uring_*``, ``bpf``, ``perf_event_open``), namespaces and mounts
   (``unshare``, ``setns``, ``mount`` and the new mount API, ``pivot_root``, ``chroot``),
   other processes (``ptrace``, ``process_vm_*``, ``kcmp``, ``pidfd_getfd``), every socket
   (``socket``, ``socketpair``: this also closes abstract UNIX sockets, which belong to the
   network namespace that all programs of a server share), and the privileged rest (modules,
   kexec, swap, reboot, accounting, quotas, syslog, file handles, fanotify).
3. ``clone`` with any namespace flag fails with EPERM (plain fork/thread creation is left to
   the process limit); ``clone3``, whose flags lie in memory a filter cannot read, fails with
   ENOSYS, which makes the C library fall back to ``clone``.
4. ``fcntl(F_SETPIPE_SZ)`` fails with EPERM: a pipe keeps its 64 KiB buffer, so the 256 fds a
   program may open hold at most 8 MiB of pipe data, outside the address-space limit.

Everything else is allowed. A second filter of a few rows, built in each child with its own
pid (``own_process``), lets the calls that act on another process by its pid (signals,
``pidfd_open``, ``prlimit64``, scheduling and priority) name that child only: without root
the programs of a server share a uid, and one could otherwise stop, kill or starve another
that runs beside it, and so choose that program's status. Installed after no_new_privs,
neither can be removed (a program can only add filters, which only deny more).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

from mathgen.sandbox.linux import libc_call

# classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h)
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = 32-bit word at offset k of seccomp_data
_JEQ, _JGE, _JSET = 0x15, 0x35, 0x45  # BPF_JMP | BPF_{JEQ,JGE,JSET} | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_KILL_PROCESS, _ERRNO, _ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data; args[i] at 16 + 8 * i (low half first)
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_X32_BIT = 0x40000000
F_SETPIPE_SZ = 1031
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 \
    | 0x20000000 | 0x40000000 | 0x00000080

DENIED = (
    "memfd_create", "memfd_secret", "userfaultfd", "keyctl", "add_key", "request_key",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "shmget", "semget", "msgget", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "bpf", "perf_event_open", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "socket",
    "socketpair", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "swapon", "swapoff", "reboot", "acct", "quotactl", "syslog", "vhangup",
    "name_to_handle_at", "open_by_handle_at", "fanotify_init")

# System call numbers: arch/x86/entry/syscalls/syscall_64.tbl and, for aarch64, the generic
# table (include/uapi/asm-generic/unistd.h); tests check them against the installed headers.
_GENERIC = dict(
    memfd_create=279, memfd_secret=447, userfaultfd=282, keyctl=219, add_key=217,
    request_key=218, mq_open=180, mq_unlink=181, mq_timedsend=182, mq_timedreceive=183,
    mq_notify=184, mq_getsetattr=185, shmget=194, semget=190, msgget=186,
    io_uring_setup=425, io_uring_enter=426, io_uring_register=427, bpf=280,
    perf_event_open=241, unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51,
    open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433,
    mount_setattr=442, ptrace=117, process_vm_readv=270, process_vm_writev=271, kcmp=272,
    pidfd_getfd=438, socket=198, socketpair=199, kexec_load=104, kexec_file_load=294,
    init_module=105, finit_module=273, delete_module=106, swapon=224, swapoff=225, reboot=142,
    acct=89, quotactl=60, syslog=116, vhangup=58, name_to_handle_at=264, open_by_handle_at=265,
    fanotify_init=262, clone=220, clone3=435, fcntl=25, kill=129, tkill=130, tgkill=131,
    rt_sigqueueinfo=138, rt_tgsigqueueinfo=240, pidfd_open=434, prlimit64=261,
    sched_setaffinity=122, sched_setscheduler=119, sched_setparam=118, sched_setattr=274,
    setpriority=140)
_X86_64 = dict(
    memfd_create=319, memfd_secret=447, userfaultfd=323, keyctl=250, add_key=248,
    request_key=249, mq_open=240, mq_unlink=241, mq_timedsend=242, mq_timedreceive=243,
    mq_notify=244, mq_getsetattr=245, shmget=29, semget=64, msgget=68, io_uring_setup=425,
    io_uring_enter=426, io_uring_register=427, bpf=321, perf_event_open=298, unshare=272,
    setns=308, mount=165, umount2=166, pivot_root=155, chroot=161, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
    ptrace=101, process_vm_readv=310, process_vm_writev=311, kcmp=312, pidfd_getfd=438,
    socket=41, socketpair=53, kexec_load=246, kexec_file_load=320, init_module=175,
    finit_module=313, delete_module=176, swapon=167, swapoff=168, reboot=169, acct=163,
    quotactl=179, syslog=103, vhangup=153, name_to_handle_at=303, open_by_handle_at=304,
    fanotify_init=300, clone=56, clone3=435, fcntl=72, iopl=172, ioperm=173, kill=62,
    tkill=200, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, pidfd_open=434,
    prlimit64=302, sched_setaffinity=203, sched_setscheduler=144, sched_setparam=142,
    sched_setattr=314, setpriority=141)
# machine -> (AUDIT_ARCH_* value, numbers, x32 numbers exist)
TABLES = {"x86_64": (0xC000003E, _X86_64, True), "aarch64": (0xC00000B7, _GENERIC, False)}


class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str) -> bytes:
    """The filter for ``machine`` (as ``platform.machine()`` names it), as sock_filter rows."""
    arch, numbers, x32 = TABLES[machine]
    denied = [numbers[name] for name in DENIED]
    if machine == "x86_64":  # direct I/O port access; needs CAP_SYS_RAWIO anyway
        denied += [numbers["iopl"], numbers["ioperm"]]
    rows = [_op(_LD_ABS, _ARCH), _op(_JEQ, arch, 1, 0), _op(_RET, _KILL_PROCESS),
            _op(_LD_ABS, _NR)]
    if x32:
        rows += [_op(_JGE, _X32_BIT, 0, 1), _op(_RET, _KILL_PROCESS)]
    for number in denied:  # A holds the call's number throughout
        rows += [_op(_JEQ, number, 0, 1), _op(_RET, _ERRNO | errno.EPERM)]
    rows += [_op(_JEQ, numbers["clone3"], 0, 1), _op(_RET, _ERRNO | errno.ENOSYS)]
    # clone(flags, ...): flags is args[0]; the namespace flags all lie in its low half
    rows += [_op(_JEQ, numbers["clone"], 0, 4), _op(_LD_ABS, 16),
             _op(_JSET, NAMESPACE_FLAGS, 0, 1), _op(_RET, _ERRNO | errno.EPERM),
             _op(_RET, _ALLOW)]
    # fcntl(fd, cmd, ...): cmd is args[1]
    rows += [_op(_JEQ, numbers["fcntl"], 0, 4), _op(_LD_ABS, 24),
             _op(_JEQ, F_SETPIPE_SZ, 0, 1), _op(_RET, _ERRNO | errno.EPERM),
             _op(_RET, _ALLOW)]
    rows.append(_op(_RET, _ALLOW))
    return b"".join(rows)


def own_process(machine: str, pid: int) -> bytes:
    """The second filter: calls that name a process by pid may name only ``pid`` (or 0, the
    caller itself; for kill, also its own process group, -pid), else fail with EPERM.

    Each rule is (call, argument, the values allowed); a call with two rules (setpriority:
    ``which`` must be PRIO_PROCESS, ``who`` the child) must pass both. The architecture is
    the main filter's to check: it runs too, and kills any other.
    """
    numbers, me, group = TABLES[machine][1], pid, -pid & 0xFFFFFFFF
    rules = [("kill", 0, (0, me, group)), ("tkill", 0, (me,)), ("tgkill", 0, (me,)),
             ("rt_sigqueueinfo", 0, (me,)), ("rt_tgsigqueueinfo", 0, (me,)),
             ("pidfd_open", 0, (me,)), ("prlimit64", 0, (0, me)),
             ("sched_setaffinity", 0, (0, me)), ("sched_setscheduler", 0, (0, me)),
             ("sched_setparam", 0, (0, me)), ("sched_setattr", 0, (0, me)),
             ("setpriority", 0, (0,)), ("setpriority", 1, (0, me))]
    rows = []
    for name, arg, allowed in rules:
        n = len(allowed)
        # A = the call; not this one: skip the rule (the argument load, n tests, the EPERM)
        rows += [_op(_LD_ABS, _NR), _op(_JEQ, numbers[name], 0, n + 2),
                 _op(_LD_ABS, 16 + 8 * arg)]  # the argument's low half: pids are 32-bit
        for i, value in enumerate(allowed, 1):  # allowed: on to the next rule
            rows.append(_op(_JEQ, value, n - i + 1, 0))
        rows.append(_op(_RET, _ERRNO | errno.EPERM))
    rows.append(_op(_RET, _ALLOW))
    return b"".join(rows)


def install_own_process() -> None:
    """Install ``own_process`` for this process, where the main filter has a table."""
    machine = platform.machine()
    if machine in TABLES:
        code = ctypes.create_string_buffer(own_process(machine, os.getpid()))
        install((code, _Filter(len(code.raw) // 8, ctypes.addressof(code))))


def prepared() -> tuple | None:
    """What ``install`` needs, built once in the server: None on an architecture without a
    table (the notes then say there is no filter)."""
    machine = platform.machine()
    if machine not in TABLES:
        return None
    code = ctypes.create_string_buffer(program(machine))
    return code, _Filter(len(code.raw) // 8, ctypes.addressof(code))


def install(filter_: tuple) -> None:
    """Install the filter on this process (after PR_SET_NO_NEW_PRIVS); raises OSError."""
    libc_call("prctl", _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(filter_[1]), 0, 0)
