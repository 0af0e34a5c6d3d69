"""Throughput of ``mathgen.sandbox.run_many`` on the 2,638 ToRA programs, against a baseline of
one fresh ``python`` process per program, measured in the same run.

    python benchmarks/sandbox.py [--data DIR] [--workers N] [--timeout 5] [--limit N]

Both sides run every program (the last ```python block of each model output in
``DIR/gsm8k-test.tora-*.jsonl``) with the same timeout and the same number running at once
(default: the CPUs this process may use). The sandbox side starts from a new Sandbox, so
server start-up is included; the baseline runs ``python prog.py`` in a temporary folder,
from a thread pool. Prints programs per second for both, the ratio, how many programs
printed the same stdout on both sides, and the targets: 5x the baseline, 300 programs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mathgen.sandbox import Sandbox

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tora"
FILES = ("gsm8k-test.tora-70b.jsonl", "gsm8k-test.tora-code-34b.jsonl")
TARGET_RATIO = 5.0
TARGET_RATE = 300.0
_PYTHON_BLOCK = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)


def line(label: str, value) -> None:
    print(f"{label:<46} {value}")


def tora_programs(folder: Path) -> list[str]:
    """The program of every ToRA output: its last ```python block."""
    programs = []
    for name in FILES:
        for raw in (folder / name).read_text(encoding="utf-8").splitlines():
            programs.append(_PYTHON_BLOCK.findall(json.loads(raw)["code"][0])[-1])
    return programs


def run_baseline(programs: list[str], workers: int, timeout: float) -> list[str | None]:
    """stdout of ``python prog.py`` per program, a fresh process each; None after a timeout."""
    with tempfile.TemporaryDirectory(prefix="mathgen-bench-") as folder:
        paths = []
        for number, program in enumerate(programs):
            path = Path(folder, f"prog{number}.py")
            path.write_text(program, encoding="utf-8")
            paths.append(path)

        def one(path: Path) -> str | None:
            try:
                return subprocess.run([sys.executable, str(path)], cwd=folder, timeout=timeout,
                                      capture_output=True, text=True, errors="replace").stdout
            except subprocess.TimeoutExpired:
                return None

        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(one, paths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the ToRA files")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="programs at a time, both sides (default: usable CPUs)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per program")
    parser.add_argument("--limit", type=int, default=None, help="only the first N programs")
    args = parser.parse_args()
    if not all((args.data / name).is_file() for name in FILES):
        sys.exit(f"benchmarks/sandbox.py: ToRA files not found in {args.data} (use --data DIR)")
    programs = tora_programs(args.data)[:args.limit]

    line("CPU cores; load average (1 min) at start", f"{os.cpu_count()}; {os.getloadavg()[0]:.2f}")
    line("programs; workers; timeout (s)", f"{len(programs)}; {args.workers}; {args.timeout:g}")

    start = time.perf_counter()
    with Sandbox() as box:
        results = box.run_many(programs, timeout=args.timeout, workers=args.workers)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        box.run_many(programs, timeout=args.timeout, workers=args.workers)
        warm = time.perf_counter() - start
        isolation = box.isolation
    rate = len(programs) / cold
    print("== mathgen.sandbox.run_many")
    line("isolation", isolation.describe())
    line("statuses", dict(Counter(r.status for r in results)))
    line("wall seconds (server start-up included)", f"{cold:.2f}")
    line("programs per second", f"{rate:.0f}")
    line("programs per second, servers already up", f"{len(programs) / warm:.0f}")

    start = time.perf_counter()
    baseline = run_baseline(programs, args.workers, args.timeout)
    base_wall = time.perf_counter() - start
    base_rate = len(programs) / base_wall
    print(f"== baseline: one fresh `{Path(sys.executable).name} prog.py` per program")
    line("timeouts", sum(out is None for out in baseline))
    line("wall seconds", f"{base_wall:.2f}")
    line("programs per second", f"{base_rate:.0f}")

    print("== comparison")
    same = sum(r.stdout == out for r, out in zip(results, baseline) if r.status == "ok")
    line("same stdout on both sides (ok programs)",
         f"{same} of {sum(r.status == 'ok' for r in results)}")
    ratio = rate / base_rate
    line("speed-up over the baseline", f"{ratio:.1f}x (target {TARGET_RATIO:g}x: "
         f"{'meets' if ratio >= TARGET_RATIO else 'below'})")
    line(f"programs per second on {args.workers} workers", f"{rate:.0f} (target {TARGET_RATE:g}: "
         f"{'meets' if rate >= TARGET_RATE else 'below'})")


if __name__ == "__main__":
    main()
