"""Where outputs go: regular files atomically, anything else in place (stdout, FIFOs, devices,
a symlink's target), never an input, and no temporaries left by a killed run."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_rows
from mathgen.cli import main
from mathgen.errors import MathgenError
from mathgen.io import AtomicJsonl, check_outputs, write_text

ROWS = [
    {"question": "A baker makes 12 rolls an hour for 5 hours. How many rolls does he make?",
     "answer": "He makes 12 * 5 = <<12*5=60>>60 rolls.\n#### 60"},
    {"question": "Mia reads 14 pages on Monday and 9 pages on Tuesday. How many pages is that?",
     "answer": "She reads 14 + 9 = <<14+9=23>>23 pages.\n#### 23"},
    {"question": "Hello there.", "answer": "#### 1"},
]
PATHS = [{"question": "What is 3 times 7?", "answer": "#### 21",
          "completions": ["We compute.\n```python\nprint(3 * 7)\n```\n```output\n21\n```\n"
                          "The answer is $\\boxed{21}$."]}]
HARD = [{"input": "Sam has 4 boxes of 6 pens. How many pens?",
         "code": "def solution():\n    return 4 * 6\n", "target": 24.0}]
GSM8K = [{"question": "Sam has 4 boxes of 6 pens. How many pens?",
          "answer": "4 * 6 = <<4*6=24>>24\n#### 24"}]


def _perturb(tmp):
    src = write_rows(tmp / "in.jsonl", ROWS)
    return src, ["perturb", src, "-o", "{out}", "--seed", "3"]


def _rejects(tmp):
    src = write_rows(tmp / "in.jsonl", ROWS)
    return src, ["perturb", src, "-o", tmp / "variants.jsonl", "--rejects", "{out}"]


def _mmos(tmp):
    src = write_rows(tmp / "paths.jsonl", PATHS)
    return src, ["mmos", "build", src, "-o", "{out}", "--workers", "1", "--no-execute"]


def _audit(tmp):
    src = write_rows(tmp / "hard.jsonl", HARD)
    gsm8k = write_rows(tmp / "gsm8k.jsonl", GSM8K)
    return src, ["audit", "gsm-hard", src, "--gsm8k", gsm8k, "-o", "{out}", "--timeout", "2",
                 "--workers", "1"]


def _templatize(tmp):
    src = write_rows(tmp / "in.jsonl", ROWS)
    return src, ["templatize", src, "-o", tmp / "templates", "--rejects", "{out}"]


COMMANDS = {"perturb": _perturb, "perturb --rejects": _rejects, "mmos build": _mmos,
            "audit": _audit, "templatize --rejects": _templatize}


def _run(args, out):
    runner = CliRunner()
    result = runner.invoke(main, [str(out) if a == "{out}" else str(a) for a in args])
    return result


def _kind(path: Path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


@pytest.fixture(params=list(COMMANDS))
def command(request, tmp_path):
    src, args = COMMANDS[request.param](tmp_path)
    ref = tmp_path / "reference.jsonl"
    result = _run(args, ref)
    assert result.exit_code == 0, result.output
    assert ref.read_bytes()  # each command writes something to compare with
    return src, args, ref.read_bytes()


def test_regular_file_and_symlink_keep_their_kind(command, tmp_path):
    src, args, expected = command
    target = tmp_path / "target.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert _run(args, link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == expected
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "new.jsonl")
    assert _run(args, dangling).exit_code == 0
    assert dangling.is_symlink() and (tmp_path / "new.jsonl").read_bytes() == expected


def test_stdout_gets_the_data_alone(command):
    src, args, expected = command
    result = _run(args, "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.encode() == expected
    assert result.stderr  # the summary went there


def test_fifo_is_streamed_not_replaced(command, tmp_path):
    src, args, expected = command
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = _run(args, fifo)
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert _kind(fifo) == stat.S_IFIFO and got == [expected]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="making a character device with mknod needs root")
def test_char_device_stays_a_device(command, tmp_path):
    src, args, expected = command
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the numbers of /dev/null
    assert _run(args, null).exit_code == 0
    assert _kind(null) == stat.S_IFCHR and os.stat(null).st_rdev == os.makedev(1, 3)


def test_input_itself_is_refused(command, tmp_path):
    src, args, expected = command
    before = src.read_bytes()
    for out in (src, tmp_path / "via-link"):
        if out != src:
            out.symlink_to(src)
        result = _run(args, out)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "same file" in result.stderr
        assert src.read_bytes() == before


def test_two_outputs_on_one_file_are_refused(tmp_path):
    with pytest.raises(MathgenError, match="same file as -o"):
        check_outputs([("-o", tmp_path / "a"), ("--rejects", tmp_path / "a")])
    check_outputs([("-o", "-"), ("--rejects", "-")])  # stdout twice is not a file


def test_a_failed_write_keeps_the_old_file(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        with AtomicJsonl(out) as w:
            w.write({"a": 1})
            raise RuntimeError
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["o.jsonl"]
    write_text(out, "new\n")
    assert out.read_text() == "new\n" and os.listdir(tmp_path) == ["o.jsonl"]


def test_killed_run_leaves_temporaries_the_next_run_removes(tmp_path):
    out = tmp_path / "o.jsonl"
    code = ("import sys, time\nfrom mathgen.io import AtomicJsonl\n"
            "with AtomicJsonl(sys.argv[1]) as w:\n"
            "    w.write({'a': 1}); print('ready', flush=True); time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    left = [n for n in os.listdir(tmp_path)]
    assert len(left) == 1 and left[0].startswith(f".o.jsonl.mathgen-{child.pid}-")
    assert left[0].endswith(".tmp")
    # a run started while the first is alive leaves its temporary alone
    write_text(tmp_path / "o.jsonl", "x\n")
    assert left[0] in os.listdir(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    src = write_rows(tmp_path / "in.jsonl", ROWS)
    assert _run(["perturb", src, "-o", "{out}"], out).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "o.jsonl"]
    assert json.loads(out.read_text().splitlines()[0])["question"]


def test_sigkill_of_the_cli_mid_run_then_rerun(tmp_path):
    src = write_rows(tmp_path / "in.jsonl", ROWS * 200)
    out = tmp_path / "o.jsonl"
    cmd = [str(Path(sys.executable).with_name("mathgen")), "perturb", str(src), "-o", str(out),
           "-n", "20"]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any(n.endswith(".tmp") for n in os.listdir(tmp_path)):
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))
    rerun = subprocess.run(cmd[:-2], capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "o.jsonl"]
