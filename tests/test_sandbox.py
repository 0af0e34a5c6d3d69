"""mathgen.sandbox: hostile programs stay contained while the batch goes on; ordinary programs
run as under ``python``, in order, with fresh globals; ToRA's recorded outputs come out again.

The hostile suite is one ``run_many`` batch with a 2 s timeout, run twice: with the audit
hook, and with only the OS limits (the first line of defence, which must hold by itself).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import require_data
from mathgen.errors import MathgenError
from mathgen.sandbox import (
    MAX_WORKERS, TAIL, UID_BASE, Sandbox, SandboxError, isolation, require_isolation, run,
    run_many, seccomp)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the sandbox needs Linux (pidfd, prctl, rlimits)")

TIMEOUT = 2.0


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture()
def listener():
    """A TCP port on 127.0.0.1 that no sandboxed program may reach."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server


@contextlib.contextmanager
def _listening(path: str):
    """A non-blocking UNIX socket listening at ``path``, which anyone may connect to."""
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        os.chmod(path, 0o777)
        server.listen()
        server.setblocking(False)
        try:
            yield server
        finally:
            os.unlink(path)


@pytest.fixture()
def host_listener():
    """A world-writable UNIX socket outside /tmp, /run and /dev/shm (a read-only bind mount
    does not stop connect()), next to the tests."""
    folder = Path(__file__).resolve().parent / f".sandbox-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        with _listening(str(folder / "socket")) as server:
            yield server
    finally:
        folder.rmdir()


@pytest.fixture()
def unix_listener():
    """A UNIX socket file in /tmp that anyone may connect to, yet no sandboxed program may."""
    with _listening(f"/tmp/mathgen-sandbox-socket-{uuid.uuid4().hex[:12]}") as server:
        yield server


_SYSCALL = """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def call(number, *args):
        result = libc.syscall(number, *args)
        if result < 0:
            raise OSError(ctypes.get_errno(), 'the call failed')
        return result
"""
NUMBERS = seccomp.TABLES.get(platform.machine(), (0, {}, False))[1]
SCRATCH_MIB = 48  # a slot's tmpfs: the most a program can keep in files
PIPE_MIB = 8  # 256 fds of 64 KiB pipe buffers


def isolation_cases(secret: Path, host_socket: str) -> dict[str, tuple[str, str]]:
    """The attacks that got past read-only mounts and the audit hook: ``secret`` is a
    world-readable host file, ``host_socket`` a world-writable UNIX socket outside /tmp."""
    n = NUMBERS
    cases = {
        "read a host file": (f"print(open({str(secret)!r}).read()[:80])", "error"),
        "list the host's root": ("import os\nprint(sorted(os.listdir('/')))\n"
                                 "open('/work/shared/data/gsm8k/test.jsonl')", "error"),
        "host UNIX socket outside /tmp": (f"""
            import socket
            with socket.socket(socket.AF_UNIX) as s:
                s.connect({host_socket!r})
                s.sendall(b'escaped')""", "error"),
        "abstract UNIX socket": ("""
            import socket
            s = socket.socket(socket.AF_UNIX)
            s.bind(b'\\0mathgen-sandbox-abstract')
            s.listen()""", "error"),
        "memfd_create and fallocate": ("""
            import os
            fd = os.memfd_create('held')
            os.posix_fallocate(fd, 0, 4 << 30)""", "error"),
        "fallocate the scratch folder": ("""
            import os
            held = 0
            for i in range(100):
                fd = os.open(f'held{i}', os.O_RDWR | os.O_CREAT, 0o600)
                size = 0
                while True:
                    try:
                        os.posix_fallocate(fd, size, 1 << 20)
                    except OSError:
                        break
                    size += 1 << 20
                os.close(fd)
                held += size
                if size == 0:
                    break
            for name in os.listdir('.'):  # room for the output again
                os.unlink(name)
            print(held >> 20)""", "ok"),
        "fill pipe buffers": ("""
            import fcntl, os
            held, pipes = 0, []
            while True:
                try:
                    pipes.append(os.pipe())
                except OSError:
                    break
                try:
                    fcntl.fcntl(pipes[-1][1], 1031, 1 << 20)  # F_SETPIPE_SZ
                except OSError:
                    pass
                os.set_blocking(pipes[-1][1], False)
                while True:
                    try:
                        held += os.write(pipes[-1][1], bytes(65536))
                    except OSError:
                        break
            print(held >> 20)""", "ok"),
        "open a pty": ("import os\nfds = [os.openpty() for _ in range(250)]", "error"),
        "kernel keyring": (_SYSCALL + f"""
    call({n.get('add_key')}, b'user', b'mathgen-left', b'secret', 6, -3)  # session keyring
""", "error"),
        "POSIX message queue": (_SYSCALL + f"""
    call({n.get('mq_open')}, b'mathgen-left', 0o102, 0o600, None)  # O_CREAT | O_RDWR
""", "error"),
        "io_uring": (_SYSCALL + f"""
    params = ctypes.create_string_buffer(120)
    call({n.get('io_uring_setup')}, 8, params)
""", "error"),
        "user namespace": (_SYSCALL + f"""
    call({n.get('unshare')}, 0x10000000 | 0x00020000)  # CLONE_NEWUSER | CLONE_NEWNS
""", "error"),
        "1,100 nested folders": ("""
            import os
            for _ in range(1100):
                os.mkdir('d')
                os.chdir('d')
            print('deep')""", "ok"),
        "NUL and terminal escapes": ("print('a\\0b\\x1b[2J\\x1b]0;title\\x07c')", "ok"),
    }
    return {name: (textwrap.dedent(code).strip(), status) for name, (code, status) in cases.items()}


def hostile_cases(escapes: list[Path], port: int,
                  unix_socket: str) -> dict[str, tuple[str, str]]:
    """name -> (program, status with the audit hook). ``escapes``: paths it must not write;
    ``port`` and ``unix_socket``: listeners it must not reach."""
    cases = {
        "infinite loop": ("while True:\n    pass", "timeout"),
        "pow(10, 10**9)": ("pow(10, 10**9)", "timeout"),
        "long C loop": ("sum(range(10**13))", "timeout"),
        "regex backtracking": ("import re\nre.fullmatch(r'(a+)+b', 'a' * 40)", "timeout"),
        "signal tampering": ("""
            import signal
            for name in ('SIGTERM', 'SIGALRM', 'SIGXCPU', 'SIGINT', 'SIGHUP', 'SIGUSR1'):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
            signal.alarm(1)
            while True:
                pass""", "timeout"),
        "fork bomb": ("import os\nwhile True:\n    os.fork()", "error"),
        "multiprocessing bomb": ("""
            import multiprocessing
            while True:
                multiprocessing.Process(target=print, args=('child',)).start()""", "error"),
        "thread": ("import threading\nthreading.Thread(target=print).start()", "error"),
        # bytes(n) maps zero pages without touching them, so the address-space limit is hit
        # at once even on a loaded machine: a MemoryError, which is no more than an 'error'
        # (test_memory_is_the_kernels_word fills memory until the cgroup's limit)
        "memory bomb": ("chunks = []\nwhile True:\n    chunks.append(bytes(10**8))", "error"),
        "one huge allocation": ("x = 'x' * 10**11", "error"),
        "os.system": (f"import os\nos.system('touch {escapes[0]}')", "error"),
        "subprocess": (f"import subprocess\nsubprocess.run(['touch', '{escapes[0]}'])", "error"),
        **{f"write {path.parent}": (f"open({str(path)!r}, 'w').write('escaped')", "error")
           for path in escapes},
        "write through a symlink": (f"""
            import os
            os.symlink({str(escapes[0].parent)!r}, 'link')
            open(os.path.join('link', {escapes[0].name!r}), 'w').write('escaped')""", "error"),
        "socket connect": (f"""
            import socket
            with socket.create_connection(('127.0.0.1', {port}), timeout=1) as s:
                s.sendall(b'escaped')""", "error"),
        "UNIX socket file": (f"""
            import socket
            with socket.socket(socket.AF_UNIX) as s:
                s.connect({unix_socket!r})
                s.sendall(b'escaped')""", "error"),
        "see the caller": (f"""
            import os
            print(sorted(int(name) for name in os.listdir('/proc') if name.isdigit()))
            print(open('/proc/{os.getpid()}/cmdline', 'rb').read())""", "error"),
        "System V shared memory": ("""
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            segment = libc.shmget(0, 1 << 30, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
            if segment < 0:
                raise OSError(ctypes.get_errno(), 'shmget failed')
            print('created', segment)""", "error"),
        "POSIX shared memory": ("""
            from multiprocessing import shared_memory
            shared_memory.SharedMemory(create=True, size=1 << 30)""", "error"),
        "many files": ("""
            i = 0
            while True:
                open(f'f{i}', 'w').close()
                i += 1""", "error"),
        "kill the server": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", "error"),
        "killpg the server": ("import os, signal\n"
                              "os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)", "error"),
        "kill the caller": (f"import os, signal\nos.kill({os.getpid()}, signal.SIGKILL)",
                            "error"),
        "kill everyone": ("import os, signal\nos.kill(-1, signal.SIGKILL)", "error"),
        "sys.exit(3)": ("import sys\nprint('bye')\nsys.exit(3)", "error"),
        "sys.exit(0)": ("import sys\nprint('bye')\nsys.exit(0)", "ok"),
        "100 MB of stdout": ("import sys\nsys.stdout.write('x' * 10**8)", "error"),
        "100 MB through fd 1": ("import os\nfor _ in range(100):\n    os.write(1, b'y' * 10**6)",
                                "error"),
        "recursion": ("def f(n):\n    return f(n + 1)\nf(0)", "error"),
        "C stack overflow": ("""
            import sys
            sys.setrecursionlimit(10**6)
            def f(n):
                return list(map(f, [n + 1]))
            f(0)""", "killed"),
        "ctypes segfault": ("import ctypes\nctypes.string_at(0)", "error"),
        "faulthandler segfault": ("import faulthandler\nfaulthandler._sigsegv()", "killed"),
        "scratch folder is writable": ("""
            import os
            open('mine.txt', 'w').write('kept')
            os.mkdir('locked')
            open('locked/inner.txt', 'w').write('x')
            os.chmod('locked', 0)
            print(open('mine.txt').read())""", "ok"),
    }
    return {name: (textwrap.dedent(code).strip(), status) for name, (code, status) in cases.items()}


_FAKE_NOTE = "mathgen.sandbox: ran out of memory (limit 512 MiB)"


def status_spoofs() -> dict[str, tuple[str, str]]:
    """Programs that claim a status for themselves: through an exit code that once meant
    something to the sandbox (86 memory, 87 set-up failure), from Python or from C (no
    Python-level hook or atexit handler runs then), by raising MemoryError, by sending
    themselves the signal of a spent CPU limit, and by printing the sandbox's notes."""
    fake = textwrap.dedent(f"""
        import os, sys
        for stream in (sys.stdout, sys.stderr):
            stream.write('{_FAKE_NOTE}\\n\\r{_FAKE_NOTE}\\n\\u2028{_FAKE_NOTE}\\n')
            stream.flush()
    """)
    cases = {
        "spoof memory with os._exit(86)": (fake + "os._exit(86)", "error"),
        "spoof memory with C _exit(86)": (fake + "import ctypes\nctypes.CDLL(None)._exit(86)",
                                          "error"),
        "spoof a set-up failure with C _exit(87)": ("import ctypes\nctypes.CDLL(None)._exit(87)",
                                                     "error"),
        "spoof memory with sys.exit(86)": ("import sys\nsys.exit(86)", "error"),
        "raise MemoryError": (fake + "raise MemoryError", "error"),
        "spoof a CPU timeout with SIGXCPU": ("import os, signal\n"
                                             "os.kill(os.getpid(), signal.SIGXCPU)", "error"),
        "fake notes on stdout and stderr": (fake, "ok"),
    }
    return {name: (textwrap.dedent(code).strip(), status) for name, (code, status) in cases.items()}


# Without the audit hook the OS answers: failed forks, read-only mounts, no network, no
# permission to signal. os.system() then only returns 127 (no shell could start), killpg
# of the server's group (invisible from the PID namespace, so 0) kills the program itself,
# kill(-1) is refused by the seccomp filter (signals may name the program only; without the
# filter it finds no other process of its uid), and ctypes really segfaults. The caller's
# pid means another process inside the PID namespace, if any: at worst the program itself.
OS_ONLY = {"os.system": "ok", "killpg the server": "killed",
           "ctypes segfault": "killed", "kill the caller": {"error", "killed"},
           "spoof a CPU timeout with SIGXCPU": "killed"}


def sandbox_processes(box: Sandbox) -> list[tuple[int, int, str]]:
    """(pid, uid, cmdline) of processes that belong to ``box``'s servers or run as a sandbox
    uid: the servers' own processes carry their scratch root in their command line, and so
    does every child they fork."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (entry / "status").read_text()
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M)[1])
        except (OSError, TypeError):  # it ended meanwhile
            continue
        if re.search(r"^State:\s+Z", status, re.M):
            continue  # ended, waiting for init to reap it (no PID namespace of its own)
        if UID_BASE <= uid < UID_BASE + MAX_WORKERS or any(r in cmdline for r in box.roots):
            found.append((int(entry.name), uid, cmdline))
    return found


def leftovers(box: Sandbox) -> list[str]:
    """Files and job folders left in the servers' scratch roots, seen by the caller and by the
    servers (whose mount namespace has a tmpfs for each slot folder)."""
    found = []
    for pid, root in zip(box.pids, box.roots):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        server = children[0] if children else pid  # PID 1 of its namespace, or itself
        for base in (root, f"/proc/{server}/root{root}"):
            for folder, subfolders, files in os.walk(base):
                found += [os.path.join(folder, name) for name in files]
                if folder != base:  # a slot's folder holds job folders while jobs run
                    found += [os.path.join(folder, name) for name in subfolders]
    return found


def server_process_count(box: Sandbox) -> int:
    """Processes per server while idle: the server, plus its keeper outside the PID namespace."""
    return len(box.pids) * (2 if box.isolation.pid_namespace else 1)


def check_hostile_suite(box: Sandbox, tmp_path: Path, listener, unix_listener, host_listener,
                        audit_hook: bool) -> None:
    tag = uuid.uuid4().hex[:12]
    escapes = [Path("/tmp") / f"mathgen-sandbox-escape-{tag}",
               Path.cwd() / f"mathgen-sandbox-escape-{tag}",  # the caller's folder
               Path(__file__).resolve().parents[2] / f"mathgen-sandbox-escape-{tag}",
               tmp_path / f"escape-{tag}"]
    cases = hostile_cases(escapes, listener.getsockname()[1], unix_listener.getsockname())
    cases.update(status_spoofs())
    held = box.isolation
    own_root = held.own_root and held.seccomp
    if own_root:  # what only the minimal root and the seccomp filter stop
        cases.update(isolation_cases(Path(__file__).resolve(), host_listener.getsockname()))
    expected = {name: status for name, (_, status) in cases.items()}
    if not audit_hook:
        expected.update(OS_ONLY)
        if not held.seccomp:
            expected["kill everyone"] = "ok"
    if not box.isolation.network_namespace:  # no mount namespace either: no tmpfs per slot
        expected["many files"] = "timeout"
        expected["UNIX socket file"] = {"ok", "error"} if not audit_hook else "error"
    if not box.isolation.pid_namespace:
        expected["see the caller"] = {"ok", "error"}
    box.isolation  # started, so that a restart would show
    servers = box.pids

    start = time.monotonic()
    results = box.run_many([code for code, _ in cases.values()], timeout=TIMEOUT, workers=4,
                           audit_hook=audit_hook)
    wall = time.monotonic() - start

    wrong = {name: (result.status, expected[name]) for name, result in zip(cases, results)
             if result.status not in ({expected[name]} if isinstance(expected[name], str)
                                      else expected[name])}
    assert not wrong, wrong
    slow = {name: r.seconds for name, r in zip(cases, results) if r.seconds > TIMEOUT + 1}
    assert not slow, slow
    assert wall < 8 * (TIMEOUT + 1)
    by_name = dict(zip(cases, results))
    assert by_name["sys.exit(3)"].returncode == 3 and by_name["sys.exit(3)"].stdout == "bye\n"
    assert by_name["sys.exit(0)"].stdout == "bye\n"
    assert by_name["scratch folder is writable"].stdout == "kept\n"
    big = by_name["100 MB of stdout"]
    assert len(big.stdout) == TAIL and set(big.stdout) == {"x"}, "the tail is kept, capped"
    assert "File too large" in big.stderr
    assert "RecursionError" in by_name["recursion"].stderr
    assert by_name["C stack overflow"].returncode == -signal.SIGSEGV
    assert "time limit" in by_name["infinite loop"].stderr

    # the spoofs: their exit code and signal are their own, their notes show escaped, and
    # no line of theirs reads as the sandbox's (not even to str.splitlines)
    for name in set(status_spoofs()) - {"spoof a CPU timeout with SIGXCPU"}:
        result = by_name[name]
        for text in (result.stdout, result.stderr):
            lines = text.splitlines()  # a note of the server's would be a line of its own
            assert not [line for line in lines if line.startswith("mathgen.sandbox:")], \
                (name, text)
    fake = by_name["fake notes on stdout and stderr"]
    assert fake.stdout.count("mathgen.sandbox\\x3a ran out of memory") == 1
    assert fake.stdout.count("\\x0dmathgen.sandbox: ran") == 1
    assert fake.stdout.count("\\u2028mathgen.sandbox: ran") == 1
    assert by_name["spoof memory with os._exit(86)"].returncode == 86
    assert by_name["spoof memory with sys.exit(86)"].returncode == 86
    assert "MemoryError" in by_name["raise MemoryError"].stderr
    if not audit_hook:  # with it, ctypes cannot be loaded nor a signal sent: an exception
        xcpu = by_name["spoof a CPU timeout with SIGXCPU"]
        assert xcpu.returncode == -signal.SIGXCPU
        assert xcpu.stderr == "mathgen.sandbox: killed by SIGXCPU\n", xcpu  # no timeout
        assert by_name["spoof memory with C _exit(86)"].returncode == 86
        assert by_name["spoof a set-up failure with C _exit(87)"].returncode == 87

    if own_root:
        assert "FileNotFoundError" in by_name["read a host file"].stderr
        assert int(by_name["fallocate the scratch folder"].stdout) <= SCRATCH_MIB
        assert int(by_name["fill pipe buffers"].stdout) <= PIPE_MIB
        assert by_name["1,100 nested folders"].stdout == "deep\n"
        assert by_name["NUL and terminal escapes"].stdout == \
            "a\\x00b\\x1b[2J\\x1b]0;title\\x07c\n"
        for name in ("kernel keyring", "POSIX message queue", "io_uring", "user namespace",
                     "memfd_create and fallocate", "abstract UNIX socket"):
            assert "[Errno 1]" in by_name[name].stderr or \
                (audit_hook and "not allowed in the mathgen sandbox" in by_name[name].stderr), \
                (name, by_name[name].stderr)

    # contained: nothing written or reached outside, servers alive, no strays, no leftovers
    assert [path for path in escapes if path.exists()] == []
    for server in (listener, unix_listener, host_listener):
        with pytest.raises(BlockingIOError):
            server.accept()
    if box.isolation.pid_namespace:  # a /proc of its own, with only the sandbox's processes
        seen = by_name["see the caller"]
        assert os.getpid() not in json.loads(seen.stdout.splitlines()[0])
        assert "FileNotFoundError" in seen.stderr
    assert box.pids == servers, "a server was lost and restarted"
    for pid in servers:
        os.kill(pid, 0)
    assert len(sandbox_processes(box)) == server_process_count(box), sandbox_processes(box)
    assert leftovers(box) == []
    assert box.run("print(6 * 7)").stdout == "42\n"


def test_hostile_programs_are_contained(box, tmp_path, listener, unix_listener, host_listener):
    check_hostile_suite(box, tmp_path, listener, unix_listener, host_listener, audit_hook=True)


def test_os_limits_alone_contain_hostile_programs(box, tmp_path, listener, unix_listener,
                                                  host_listener):
    isolation = box.isolation
    if not (isolation.own_uid and isolation.pid_namespace and isolation.network_namespace
            and isolation.read_only):
        pytest.skip(f"this machine gives the sandbox only part of its OS isolation: {isolation}")
    check_hostile_suite(box, tmp_path, listener, unix_listener, host_listener,
                        audit_hook=False)


def test_isolation_as_root():
    capabilities = re.search(r"^CapEff:\s+(\w+)", Path("/proc/self/status").read_text(), re.M)
    if os.geteuid() != 0 or not int(capabilities[1], 16) >> 21 & 1:  # CAP_SYS_ADMIN
        pytest.skip("the full OS isolation needs root with CAP_SYS_ADMIN (namespaces, mounts)")
    with Sandbox() as sandbox:
        isolation = sandbox.isolation
    assert (isolation.own_uid, isolation.pid_namespace, isolation.network_namespace,
            isolation.read_only) == (True, True, True, True), isolation.notes


def test_each_program_gets_fresh_globals(box):
    first = """
        import builtins, math, os, sys, sympy
        math.pi = 3
        sympy.pi = 3
        builtins.len = lambda x: -1
        sys.modules['json'] = None
        os.environ['LEAK'] = '1'
        shared = 'leaked'
        open('left-behind.txt', 'w').write('x')
    """
    second = """
        import math, os, sympy, json
        print(math.pi, sympy.pi, len('abc'), 'shared' in globals(), os.environ.get('LEAK'),
              os.listdir('.'))
    """
    results = box.run_many([textwrap.dedent(first), textwrap.dedent(second)], workers=1)
    assert [r.status for r in results] == ["ok", "ok"], results
    assert results[1].stdout == "3.141592653589793 pi 3 False None []\n"


def test_results_come_in_input_order(box):
    # later programs finish first, so completion order is the reverse of input order
    codes = [f"import time\ntime.sleep({(30 - i) * 0.004})\nprint({i})" for i in range(30)]
    results = box.run_many(codes, workers=6)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(30)]


def test_run_equals_run_many_and_output_is_deterministic():
    code = "print(sorted({'apple', 'pear', 'fig'}), {'plum', 'kiwi', 'lime'}, hash('mathgen'))\n" \
           "print(1 / 3, 2 ** 100)"
    one = run(code)
    [many] = run_many([code])
    assert (one.status, one.stdout, one.stderr) == (many.status, many.stdout, many.stderr)
    assert one.status == "ok" and one.stdout.endswith("0.3333333333333333 "
                                                      "1267650600228229401496703205376\n")
    with Sandbox() as other:  # a new server prints the very same bytes (hash seed fixed)
        assert other.run(code).stdout == one.stdout


def test_errors_and_exits():
    results = run_many(["1 / 0", "def f(:\n    pass", "raise SystemExit('bye')", "exit()",
                        "import sys\nsys.exit(None)", "raise KeyboardInterrupt"])
    assert [r.status for r in results] == ["error", "error", "error", "ok", "ok", "error"]
    assert results[0].stderr.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert '  File "<program>", line 1' in results[0].stderr, "the program's own traceback"
    assert "mathgen/sandbox" not in results[0].stderr  # none of the sandbox's own frames
    assert "SyntaxError" in results[1].stderr
    assert results[2].stderr == "bye\n" and results[2].returncode == 1


@pytest.mark.parametrize("timeout", [0.001, 0.0001])
def test_a_timeout_that_comes_before_the_program_starts_still_stops_it(timeout):
    # the deadline may pass before the child has its own process group: the pidfd kills it
    with Sandbox() as sandbox:
        start = time.monotonic()
        results = sandbox.run_many(["import time\ntime.sleep(20)"] * 8, timeout=timeout,
                                   workers=8)
        assert [r.status for r in results] == ["timeout"] * 8, results
        assert all(r.seconds < timeout + 1 for r in results), results
        assert time.monotonic() - start < 5
        servers = sandbox.pids
        assert sandbox.run("print(1)").stdout == "1\n" and sandbox.pids == servers


def test_timeout_and_memory_limits():
    stopped = run("while True:\n    pass", timeout=0.5)
    # an allocation past the address-space limit (past the cgroup's limit and a margin,
    # where there is a cgroup) fails at once: MemoryError, an exception like any other
    allocate = "x = bytes(400 * 2**20)\nprint(len(x))"
    small, large = run(allocate, memory_mb=64), run(allocate, memory_mb=512)
    assert stopped.status == "timeout" and 0.5 <= stopped.seconds < 1.5
    assert stopped.returncode == -signal.SIGKILL
    assert small.status == "error" and small.stderr.splitlines()[-1] == "MemoryError", small
    assert large.status == "ok" and large.stdout == f"{400 * 2**20}\n"


@pytest.mark.parametrize("audit_hook", [True, False])
def test_memory_is_the_kernels_word(box, audit_hook):
    """Memory filled page by page: where a cgroup counts it, the kernel kills the program at
    the cgroup's limit and the server reads that from the cgroup ('memory'); without one the
    address-space limit stops it with a MemoryError, which the server cannot tell from one
    the program raised itself ('error')."""
    fill = "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))"
    result = box.run_many([fill], timeout=20, memory_mb=64, audit_hook=audit_hook)[0]
    if box.isolation.memory_cgroup:
        assert (result.status, result.returncode) == ("memory", -signal.SIGKILL), result
        assert result.stderr.endswith("mathgen.sandbox: killed at its memory cgroup's limit "
                                      "(64 MiB, the server's resident pages and 64 MiB)\n")
    else:
        assert result.status == "error" and "MemoryError" in result.stderr, result
    assert box.run("print(6 * 7)").stdout == "42\n"


def test_output_keeps_the_tail():
    result = run("for i in range(200000):\n    print(i)")
    assert result.status == "ok" and len(result.stdout) == TAIL
    assert result.stdout.endswith("199998\n199999\n")


@pytest.mark.parametrize("options", [
    {"timeout": 0}, {"timeout": -1}, {"timeout": "5"}, {"timeout": float("nan")},
    {"timeout": True}, {"memory_mb": 0}, {"memory_mb": 1.5}, {"workers": 0},
    {"workers": MAX_WORKERS + 1}, {"codes": ["print(1)", b"print(2)"]}, {"codes": [None]},
])
def test_bad_options_raise_a_clear_error(options):
    codes = options.pop("codes", ["print(1)"])
    with pytest.raises(SandboxError) as error:
        run_many(codes, **options)
    assert isinstance(error.value, MathgenError)
    assert re.search(r"timeout|memory_mb|workers|program \d", str(error.value))


def _kill_servers(sandbox: Sandbox, times: int, after: float) -> threading.Thread:
    """Kill ``sandbox``'s server ``after`` s into each of its first ``times`` lives."""
    def killer():
        killed = set()
        while len(killed) < times:
            pids = [pid for pid in sandbox.pids if pid not in killed]
            if pids:
                time.sleep(after)
                os.killpg(pids[0], signal.SIGKILL)
                killed.add(pids[0])
            time.sleep(0.01)
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_a_dead_server_costs_nothing_its_programs_run_again():
    with Sandbox() as sandbox:
        sandbox.isolation
        [server], [old_root] = sandbox.pids, sandbox.roots
        killer = _kill_servers(sandbox, 1, 0.5)
        slow = "import time\ntime.sleep(2)\nprint('done')"
        # two run and are lost with the server, two wait in its queue: all run again
        results = sandbox.run_many([slow] * 2 + ["print('after')"] * 3, workers=2)
        killer.join()
        assert [r.status for r in results] == ["ok"] * 5, results
        assert results[0].stdout == "done\n" and results[2].stdout == "after\n"
        assert sandbox.pids != [server] and not os.path.exists(old_root)
        assert len(sandbox_processes(sandbox)) == server_process_count(sandbox)
        roots = sandbox.roots
    assert not any(os.path.exists(root) for root in roots)


def test_a_program_lost_with_two_servers_is_reported_killed():
    with Sandbox() as sandbox:
        sandbox.isolation
        killer = _kill_servers(sandbox, 2, 0.5)
        slow = "import time\ntime.sleep(3)\nprint('done')"
        results = sandbox.run_many([slow] * 2 + ["print('after')"] * 3, workers=2)
        killer.join()
        assert [r.status for r in results] == ["killed"] * 2 + ["ok"] * 3, results
        assert "server stopped" in results[0].stderr and results[2].stdout == "after\n"


@pytest.mark.parametrize("ending", ["exit", "SIGKILL"])
def test_servers_end_with_their_caller(ending):
    caller = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import json, sys, time
        from mathgen.sandbox import _default, run
        print(run('print(1)').stdout.strip(), run('import sympy').status,
              json.dumps(_default().roots), flush=True)
        if sys.argv[1] == 'SIGKILL':
            time.sleep(60)
        """), ending], stdout=subprocess.PIPE, text=True)
    first, status, roots = caller.stdout.readline().split(" ", 2)
    assert (first, status) == ("1", "ok")
    roots = json.loads(roots)
    assert len(roots) == 2
    if ending == "SIGKILL":
        caller.kill()
    caller.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(root) for root in roots):
        time.sleep(0.05)
    assert not any(os.path.exists(root) for root in roots)
    strays = [pid for pid in os.listdir("/proc") if pid.isdigit()
              and any(root.encode() in _cmdline(pid) for root in roots)]
    assert strays == []


def test_an_interrupted_batch_stops_its_programs_and_leaves_the_sandbox_usable():
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with Sandbox() as sandbox:
            sandbox.isolation
            roots = sandbox.roots
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            with pytest.raises(KeyboardInterrupt):
                sandbox.run_many(["import time\ntime.sleep(5)"] * 4, workers=2)
            assert not any(os.path.exists(root) for root in roots)
            assert sandbox.run("print('again')").stdout == "again\n"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    strays = [pid for pid in os.listdir("/proc") if pid.isdigit()
              and any(root.encode() in _cmdline(pid) for root in roots)]
    assert strays == []


def test_a_forked_caller_leaves_the_parents_servers_alone():
    with Sandbox() as sandbox:
        assert sandbox.run("print(1)").stdout == "1\n"
        servers = sandbox.pids
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # a forked copy of the caller gets servers of its own
            try:
                os.write(write, sandbox.run("print(2)").stdout.encode())
                time.sleep(30)  # still alive while the parent closes its sandbox
            finally:
                os._exit(0)
        os.close(write)
        try:
            assert os.read(read, 100) == b"2\n"
            assert sandbox.pids == servers and sandbox.run("print(3)").stdout == "3\n"
            start = time.monotonic()
            sandbox.close()  # quick: the child holds no copy of the servers' pipes
            assert time.monotonic() - start < 3
        finally:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            os.close(read)


def test_programs_see_neither_the_callers_environment_nor_a_routing_difference(monkeypatch):
    monkeypatch.setenv("MATHGEN_TEST_SECRET", "hunter2")
    with Sandbox() as sandbox:
        # the light server has no sympy preloaded, yet a program may still import it
        results = sandbox.run_many([
            "import os\nprint(os.environ.get('MATHGEN_TEST_SECRET'), sorted(os.environ))",
            "m = __import__('sym' + 'py')\nprint(m.Rational(1, 3) + 1)"])
    assert results[0].stdout == "None ['HOME', 'LANG', 'PATH']\n"
    if sandbox.isolation.own_uid and not sandbox.isolation.network_namespace \
            and not _readable_by_others(importlib.util.find_spec("sympy").origin):
        # no mount namespace to show the sandbox uid a Python it may not read (under /root):
        # only what the servers preloaded can be imported
        assert results[1].status == "error" and "sympy" in results[1].stderr
    else:
        assert results[1].stdout == "4/3\n"


def _readable_by_others(path: str) -> bool:
    parts = Path(path).parts
    folders = [Path(*parts[:i]) for i in range(2, len(parts))]
    return all(os.stat(f).st_mode & 0o001 for f in folders) and bool(os.stat(path).st_mode & 0o004)


def _cmdline(pid: str) -> bytes:
    try:
        return Path("/proc", pid, "cmdline").read_bytes()
    except OSError:
        return b""


# --- ToRA: the recorded outputs of 2 x 1319 real model programs -------------------------

_PYTHON_BLOCK = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)
_OUTPUT_BLOCK = re.compile(r"```output[ \t]*\n(.*?)```", re.DOTALL)
TORA_FILES = ["tora/gsm8k-test.tora-70b.jsonl", "tora/gsm8k-test.tora-code-34b.jsonl"]


def tora_view(result) -> str:
    """What ToRA's executor writes in the output block for such a run: the last line printed
    (stripped, cut to 50 + '...' + 50 characters past 100), or the last traceback line."""
    if result.status == "timeout":
        return "timeout_decorator.timeout_decorator.TimeoutError: 'Timed Out'"
    if result.status == "ok":
        lines = result.stdout.splitlines()
        if not lines:  # ToRA reads the last line of an empty output
            return "IndexError: list index out of range"
        last = lines[-1].strip()
        return (last[:50] + "..." + last[-50:] if len(last) > 100 else last) or "Done"
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not line.startswith("mathgen.sandbox:")]
    return lines[-1].strip() if lines else ""


def test_tora_programs_print_their_recorded_outputs():
    programs, recorded = [], []
    for relative in TORA_FILES:
        for line in require_data(relative).read_text(encoding="utf-8").splitlines():
            output = json.loads(line)["code"][0]  # one sample: the full model output
            programs.append(_PYTHON_BLOCK.findall(output)[-1])
            blocks = _OUTPUT_BLOCK.findall(output)
            recorded.append(blocks[-1].strip() if blocks else None)
    assert len(programs) == 2638
    results = run_many(programs)
    matches = sum(tora_view(r) == want for r, want in zip(results, recorded))
    # The two misses have no recorded output: the model stopped before ToRA ran them.
    assert sum(want is None for want in recorded) == 2
    assert matches / len(programs) >= 0.99, matches
    assert matches == 2636


# --- the isolation's parts, one at a time --------------------------------------------------

def _header_numbers(path: str, prefix: str) -> dict[str, int]:
    numbers = {}
    for line in Path(path).read_text().splitlines():
        match = re.match(rf"#define {prefix}(\w+)\s+(\d+)\s*$", line)
        if match:
            numbers[match[1]] = int(match[2])
    return numbers


@pytest.mark.parametrize("machine, header, prefix", [
    ("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "__NR_"),
    ("aarch64", "/usr/include/asm-generic/unistd.h", "__NR(?:3264)?_"),
])
def test_seccomp_numbers_match_the_kernel_headers(machine, header, prefix):
    if not os.path.exists(header):
        pytest.skip(f"{header} is not installed (linux-libc-dev)")
    found = _header_numbers(header, prefix)
    numbers = seccomp.TABLES[machine][1]
    wrong = {name: (number, found[name]) for name, number in numbers.items()
             if name in found and found[name] != number}
    assert not wrong and set(numbers) - set(found) <= {"memfd_secret"}, wrong
    assert len(seccomp.program(machine)) % 8 == 0 and len(seccomp.program(machine)) // 8 < 4096


def test_each_program_is_counted_by_its_slots_memory_cgroup():
    if not isolation().memory_cgroup:
        pytest.skip(f"no memory cgroup here: {isolation().notes}")
    results = run_many(["print(open('/proc/self/cgroup').read())"] * 2, workers=2)
    slots = {re.search(r"memory:\S*/(slot\d+)$", r.stdout, re.M)[1] for r in results}
    assert slots <= {"slot0", "slot1"} and slots


def test_no_state_outlives_a_program_in_keyrings_or_queues():
    if not (isolation().seccomp and NUMBERS):
        pytest.skip("no seccomp filter here")
    leave = _SYSCALL + f"""
    call({NUMBERS['add_key']}, b'user', b'mathgen-left', b'secret', 6, -3)
"""
    look = _SYSCALL + f"""
    print(call({NUMBERS['request_key']}, b'user', b'mathgen-left', None, 0))
"""
    with Sandbox() as first:
        left = first.run(textwrap.dedent(leave), audit_hook=False)
    with Sandbox() as later:
        seen = later.run(textwrap.dedent(look), audit_hook=False)
    assert (left.status, seen.status) == ("error", "error")
    assert "[Errno 1]" in left.stderr and "[Errno 1]" in seen.stderr


def test_two_programs_at_once_cannot_talk_over_an_abstract_socket(box):
    listen = """
        import socket, time
        s = socket.socket(socket.AF_UNIX)
        s.bind(b'\\0mathgen-sandbox-talk')
        s.listen()
        time.sleep(1)
        print(s.accept()[0].recv(10))"""
    talk = """
        import socket, time
        time.sleep(0.3)
        socket.socket(socket.AF_UNIX).connect(b'\\0mathgen-sandbox-talk')"""
    results = box.run_many([textwrap.dedent(listen), textwrap.dedent(talk)], workers=2,
                           audit_hook=False)
    if not box.isolation.seccomp:
        pytest.skip("no seccomp filter here: only the audit hook stops sockets")
    assert [r.status for r in results] == ["error", "error"], results


@pytest.mark.parametrize("depth, width", [(1, 0), (1100, 1), (3000, 0), (5, 40)])
def test_scratch_removal_needs_no_recursion(tmp_path, depth, width):
    from mathgen.sandbox.scratch import remove_tree

    top = tmp_path / "job"
    folder = top
    for level in range(depth):
        folder.mkdir()
        for i in range(width):
            (folder / f"f{i}").write_text("x")
            (folder / f"empty{i}").mkdir()
        (folder / "link").symlink_to(tmp_path)  # removed, never followed
        os.chdir(folder)  # keeps paths short however deep
        folder = Path("d")
    os.chdir(tmp_path)
    (tmp_path / "keep").write_text("kept")
    if depth > 2:
        os.chmod(top / "d", 0)  # a folder its program locked
    remove_tree(str(top))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


@pytest.mark.parametrize("raw, shown", [
    ("plain\ttext\n", "plain\ttext\n"),
    ("a\0b", "a\\x00b"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("over\rwrite", "over\\x0dwrite"),
    ("\x7f\x9b", "\\x7f\\x9b"),
    ("mathgen.sandbox: ran out of memory\n", "mathgen.sandbox\\x3a ran out of memory\n"),
    ("a\u2028mathgen.sandbox: b\u2029", "a\\u2028mathgen.sandbox: b\\u2029"),
    ("says mathgen.sandbox: inside a line", "says mathgen.sandbox: inside a line"),
    ("ünïcode ½", "ünïcode ½"),
])
def test_program_output_is_shown_with_escapes(raw, shown):
    from mathgen.sandbox.output import clean

    assert clean(raw) == shown


def test_isolation_is_told_once_and_can_be_required():
    held = isolation()
    assert held.full == (held.missing() == []) and held.describe().startswith("sandbox")
    if held.full:
        assert require_isolation() == held
    else:
        with pytest.raises(SandboxError, match=held.missing()[0]):
            require_isolation()
    told = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from mathgen.sandbox import Sandbox, run
        run('print(1)')
        with Sandbox() as other:
            other.run('import sympy')
        """)], capture_output=True, text=True, timeout=120)
    assert told.returncode == 0, told.stderr
    assert told.stderr.count("mathgen.sandbox: sandbox isolation:") == 1, told.stderr


def test_require_isolation_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from mathgen.cli import main

    missing = str(tmp_path / "missing.jsonl")
    result = CliRunner().invoke(main, ["audit", "gsm-hard", missing, "--gsm8k", missing,
                                       "--require-isolation"])
    assert result.exit_code == 2
    refused = "--require-isolation: the sandbox lacks" in result.output
    assert refused == (not isolation().full), result.output
    assert len(result.output.strip().splitlines()) <= 2  # the isolation line, one error line


def test_nested_folders_cost_the_batch_nothing(box):
    deep = "import os\nfor _ in range(1100):\n    os.mkdir('d')\n    os.chdir('d')"
    codes = [deep] * 4 + [f"print({i} * 2)" for i in range(96)]
    box.isolation
    servers = box.pids
    results = box.run_many(codes, workers=4)
    assert [r.status for r in results] == ["ok"] * 100, [r for r in results if r.status != "ok"]
    assert [r.stdout for r in results[4:]] == [f"{i * 2}\n" for i in range(96)]
    assert box.pids == servers and leftovers(box) == []


@pytest.mark.parametrize("returncode, killed, oom, ready, cpu, status, note", [
    (0, False, False, True, 0.0, "ok", None),
    (1, False, False, True, 0.0, "error", None),
    (86, False, False, True, 0.0, "error", None),  # once the child's word for MemoryError
    (87, False, False, True, 0.0, "error", None),  # once its word for a failed set-up
    (0, False, False, False, 0.0, "error", "could not set up"),  # no lock-down byte
    (-signal.SIGKILL, True, False, False, 0.0, "timeout", "time limit"),  # killed early
    (-signal.SIGKILL, False, True, True, 0.3, "memory", "memory cgroup"),
    (-signal.SIGKILL, False, False, True, 0.3, "killed", "SIGKILL"),  # not the kernel's
    (-signal.SIGXCPU, False, False, True, 4.0, "timeout", "CPU seconds"),  # 2 s: limit 3
    (-signal.SIGXCPU, False, False, True, 0.1, "killed", "SIGXCPU"),  # sent by itself
    (-signal.SIGSEGV, False, False, True, 0.1, "killed", "SIGSEGV"),
])
def test_a_status_is_what_the_server_saw(returncode, killed, oom, ready, cpu, status, note):
    from mathgen.sandbox.server import _classify, _Job

    job = _Job(1, 2, 0, "/nonexistent", 2.0, 64, 0.0, -1, killed=killed)
    got, said = _classify(returncode, job, oom, ready, cpu)
    assert got == status and (said is None if note is None else note in said), (got, said)
