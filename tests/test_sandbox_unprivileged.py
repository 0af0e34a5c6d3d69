"""mathgen.sandbox without root: the user-namespace path, run as uid 65534 (nobody).

The other sandbox tests run as root (as CI does), where the server gets a uid per slot and a
memory cgroup. Here a root test starts a caller as nobody, with ``setpriv``, and checks what
that caller's sandbox says of itself and does: ``isolation()`` reports the protections that
hold and those that do not (no uid per slot, no memory cgroup), ordinary programs run, and
hostile ones are contained (no host file read or written, no other program's memory read,
memory bounded, status not forged).

Only one thing is arranged for the unprivileged caller: where the interpreter or the source
tree lies under a folder others may not enter (``/root``, for a Python installed there), a
private mount namespace of the test's shows that folder as an empty tmpfs with just those
subfolders bound in, as if the user had installed Python where they can run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

NOBODY = 65534
SOURCE = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the sandbox needs Linux (pidfd, prctl, namespaces)")

# what the unprivileged caller runs; argv: a host file it may read, a folder it may write,
# a JSON file of programs (name -> source) to run at once
CALLER = """
import json, sys
from mathgen.sandbox import Sandbox

secret, home, programs = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
report = {"host_reads_secret": bool(open(secret).read())}
with Sandbox() as box:
    held = box.isolation
    results = box.run_many(list(programs.values()), timeout=10, memory_mb=64,
                           workers=len(programs), audit_hook=False)
report["isolation"] = {name: getattr(held, name) for name in held._NAMES}
report["notes"] = list(held.notes)
report["results"] = {name: {"status": r.status, "stdout": r.stdout, "stderr": r.stderr,
                            "returncode": r.returncode} for name, r in zip(programs, results)}
print(json.dumps(report))
"""

READ_THE_OTHER = """
import json, os, time
time.sleep(1)
seen = {}
for pid in os.listdir('/proc'):
    if pid.isdigit() and int(pid) not in (1, os.getpid()):
        for name in ('mem', 'environ', 'fd'):
            try:
                if name == 'fd':
                    seen[pid + '/fd'] = os.listdir(f'/proc/{pid}/fd')
                else:
                    with open(f'/proc/{pid}/{name}', 'rb') as f:
                        seen[pid + '/' + name] = len(f.read(64))
            except OSError as err:
                seen[pid + '/' + name] = type(err).__name__
print(json.dumps(seen))
"""


KILL_THE_OTHERS = """
import json, os, signal, time
time.sleep(0.5)
hit = []
for pid in [-1] + list(range(2, 500)):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
            hit.append(pid)
        except OSError:
            pass
print(json.dumps(hit))
"""


def _programs(secret: str, home: str) -> dict[str, str]:
    return {
        "read a host file": f"print(open({secret!r}).read()[:40])",
        "write the caller's home": f"open({home!r} + '/escaped', 'w').write('x')",
        "ordinary": "print(sum(range(10)))",
        "fill memory": "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))",
        "spoof memory with C _exit(86)": "import ctypes\nctypes.CDLL(None)._exit(86)",
        "hold a secret": "secret = 'hidden-' + 'value'\nimport time\ntime.sleep(3)",
        "read the other program": READ_THE_OTHER,
        "kill the others": KILL_THE_OTHERS,
    }


def _needed_paths() -> list[str]:
    """What the caller must reach: the interpreter, its prefixes and import folders, and this
    source tree (the sandbox servers import mathgen from it)."""
    paths = {os.path.realpath(sys.executable), os.path.realpath(sys.prefix),
             os.path.realpath(sys.base_prefix), str(SOURCE)}
    paths |= {os.path.realpath(p) for p in sys.path if p and os.path.exists(p)}
    return sorted(paths)


def _closed_folders(paths: list[str]) -> dict[str, set[str]]:
    """Folders on the way to ``paths`` that others may not enter -> the names under them
    that must show; ValueError when one path passes two such folders."""
    closed: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        found = [Path(*parts[:k]) for k in range(1, len(parts))
                 if not os.stat(Path(*parts[:k])).st_mode & 0o001]
        if len(found) > 1:
            raise ValueError(f"{path} lies under {len(found)} closed folders")
        if found:
            closed.setdefault(str(found[0]), set()).add(parts[len(found[0].parts)])
    return closed


def _shell_setup(closed: dict[str, set[str]], stage: str) -> list[str]:
    """Commands (as root, in a private mount namespace) that open the closed folders."""
    lines = []
    for number, (folder, names) in enumerate(sorted(closed.items())):
        for index, name in enumerate(sorted(names)):
            held = f"{stage}/{number}-{index}"
            lines += [f"mkdir -p '{held}'", f"mount --bind '{folder}/{name}' '{held}'"]
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs '{folder}'")
        for index, name in enumerate(sorted(names)):
            held = f"{stage}/{number}-{index}"
            lines += [f"mkdir -p '{folder}/{name}'", f"mount --move '{held}' '{folder}/{name}'"]
    return lines


@pytest.fixture()
def unprivileged():
    """Runs CALLER as nobody; returns its report (a dict)."""
    if os.geteuid() != 0:
        pytest.skip("this test switches to uid 65534, which needs root; as a user, the other "
                    "sandbox tests already take the unprivileged path")
    missing = [tool for tool in ("setpriv", "unshare", "mount") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux)")
    if Path("/proc/sys/user/max_user_namespaces").read_text().strip() == "0":
        pytest.skip("user namespaces are turned off here (user.max_user_namespaces = 0)")
    try:
        closed = _closed_folders(_needed_paths())
    except ValueError as err:
        pytest.skip(f"the interpreter cannot be shown to uid {NOBODY}: {err}")
    home = tempfile.mkdtemp(prefix="mathgen-nobody-")
    stage = tempfile.mkdtemp(prefix="mathgen-stage-")
    os.chown(home, NOBODY, NOBODY)
    secret = Path(home, "secret.txt")
    secret.write_text("a host file the caller may read and its programs may not\n")
    secret.chmod(0o644)
    script, programs = Path(home, "caller.py"), Path(home, "programs.json")
    script.write_text(CALLER)
    programs.write_text(json.dumps(_programs(str(secret), home)))
    for path in (script, programs):
        path.chmod(0o644)
    run_as_nobody = (f"cd / && exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups "
                     f"env -i PATH=/usr/bin:/bin HOME='{home}' XDG_CACHE_HOME='{home}/cache' "
                     f"PYTHONPATH='{SOURCE}' '{sys.executable}' '{script}' '{secret}' '{home}' "
                     f"'{programs}'")
    setup = ["set -e", *_shell_setup(closed, stage)]
    # the arrangement itself (a mount namespace, setpriv) may be refused in a container:
    # that is the test's own limit, not the sandbox's, so it skips
    tried = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            " && ".join(setup + [f"setpriv --reuid={NOBODY} --regid={NOBODY} "
                                                 f"--clear-groups '{sys.executable}' -c ''"])],
                           capture_output=True, text=True, timeout=60)
    if tried.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
        pytest.skip(f"cannot start Python as uid {NOBODY} here: {tried.stderr.strip()[-300:]}")
    command = " && ".join(setup + [run_as_nobody])

    def run() -> dict:
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               command], capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.splitlines()[-1])
        report["stderr"], report["home"] = done.stderr, home
        return report

    try:
        yield run
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)


def test_an_unprivileged_caller_gets_what_its_isolation_says(unprivileged):
    report = unprivileged()
    held, results = report["isolation"], report["results"]
    if not held["pid_namespace"]:
        pytest.skip(f"no user namespace for uid {NOBODY} here: {report['notes']}")
    assert report["host_reads_secret"], "the caller itself reads the host file"
    # what needs root is said to be missing, with why; the rest holds
    assert (held["own_uid"], held["memory_cgroup"]) == (False, False)
    assert {name for name, value in held.items() if value} == {
        "pid_namespace", "network_namespace", "read_only", "own_root", "seccomp", "no_ptys"}
    assert any(note.startswith("not root") for note in report["notes"])
    assert any("never 'memory'" in note for note in report["notes"])
    assert report["stderr"].count("mathgen.sandbox: sandbox isolation:") == 1

    assert results["ordinary"]["status"] == "ok" and results["ordinary"]["stdout"] == "45\n"
    read = results["read a host file"]
    assert read["status"] == "error" and "FileNotFoundError" in read["stderr"], read
    write = results["write the caller's home"]
    assert write["status"] == "error" and "FileNotFoundError" in write["stderr"], write
    assert not Path(report["home"], "escaped").exists()
    # no cgroup: the address-space limit stops it, an error like any other
    memory = results["fill memory"]
    assert memory["status"] == "error" and "MemoryError" in memory["stderr"], memory
    spoof = results["spoof memory with C _exit(86)"]
    assert (spoof["status"], spoof["returncode"]) == ("error", 86), spoof
    assert results["hold a secret"]["status"] == "ok"
    # the programs share a uid here, yet one cannot see another's memory, environment or
    # open files: children are not dumpable, and hidepid=2 hides what may not be read
    other = results["read the other program"]
    assert other["status"] == "ok", other
    seen = json.loads(other["stdout"])  # /proc/PID/... -> what reading it gave
    # (hidepid=2 hides a process that may not be read: /proc shows no other program at all)
    got_through = {path: got for path, got in seen.items()
                   if got not in ("PermissionError", "FileNotFoundError")}
    assert not got_through, got_through
    # nor signal it (the pids of the PID namespace are few and easy to guess): the seccomp
    # filter lets signals name the program itself only, so no program chooses another's
    # status; every one above ended on its own
    killer = results["kill the others"]
    assert killer["status"] == "ok" and json.loads(killer["stdout"]) == [], killer
