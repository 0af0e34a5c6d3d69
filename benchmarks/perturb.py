"""Throughput of ``mathgen perturb`` on GSM8K test, and start-up cost of the CLI.

    python benchmarks/perturb.py [--data PATH] [--n 10] [--workers 2]

Perturbs every problem of the data file ``--n`` times with ``similar`` through the library
(``mathgen.generator.run.perturb_files``, into a temporary folder), first with one worker,
then with ``--workers``, and prints labelled figures against the targets: 1,000 variants per
second per core, and ``mathgen --help`` within 0.5 s without importing torch.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mathgen.generator.run import perturb_files

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "test.jsonl"
TARGET_VARIANTS_PER_CORE = 1000.0
TARGET_HELP_SECONDS = 0.5
HELP_RUNS = 5


def line(label: str, value) -> None:
    print(f"{label:<44} {value}")


def perturb_run(data: Path, out: Path, n: int, workers: int):
    """(summary, wall seconds, CPU seconds of this process) of one perturb_files call."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = perturb_files([data], out, strategy="similar", n=n, seed=0, workers=workers)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return summary, wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mathgen_command() -> list[str]:
    """The installed console script beside this interpreter (no pyenv shim), else on PATH."""
    beside = Path(sys.executable).with_name("mathgen")
    found = str(beside) if beside.exists() else shutil.which("mathgen")
    if found:
        return [found]
    return [sys.executable, "-c", "from mathgen.cli import main; main()"]


def time_help(runs: int) -> tuple[list[float], list[str]]:
    command = mathgen_command() + ["--help"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times, command


def heavy_imports() -> list[str]:
    """Heavy top-level packages that ``import mathgen.cli`` loads, in a fresh interpreter."""
    code = ("import sys, mathgen.cli; heavy = {'torch', 'transformers', 'vllm', 'accelerate', "
            "'numpy', 'sympy'}; print(' '.join(sorted({m.split('.')[0] for m in sys.modules} "
            "& heavy)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return out.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="GSM8K-format JSONL file")
    parser.add_argument("--n", type=int, default=10, help="variants per problem")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker count compared with workers=1 (1: no comparison)")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"benchmarks/perturb.py: {args.data} not found (use --data PATH)")

    # other processes on the machine slow the runs; the load tells whether figures are clean
    line("CPU cores; load average (1 min) at start", f"{os.cpu_count()}; {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="mathgen-bench-") as tmp:
        one_path, many_path = Path(tmp) / "workers1.jsonl", Path(tmp) / "workersN.jsonl"
        summary, wall, cpu = perturb_run(args.data, one_path, args.n, workers=1)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        rate = summary.variants / wall
        print(f"== perturb {args.data} -n {args.n} --strategy similar (workers=1)")
        line("problems", summary.problems)
        line("problems with a variant", summary.perturbed)
        line("variants written", summary.variants)
        line("wall seconds", f"{wall:.2f}")
        line("CPU seconds", f"{cpu:.2f}")
        line("variants per second per core (workers=1)", f"{rate:.0f}")
        line("variants per CPU second", f"{summary.variants / cpu:.0f}")
        line("problems per second", f"{summary.problems / wall:.1f}")
        line("peak memory (ru_maxrss, MiB)", f"{peak_mib:.0f}")
        line("target variants/s per core", f"{TARGET_VARIANTS_PER_CORE:.0f}")
        line("ratio to target", f"{rate / TARGET_VARIANTS_PER_CORE:.2f}x "
             f"({'meets' if rate >= TARGET_VARIANTS_PER_CORE else 'below'} the target)")

        if args.workers > 1:
            many, many_wall, _ = perturb_run(args.data, many_path, args.n, args.workers)
            children_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"== same run with workers={args.workers}")
            line("variants written", many.variants)
            line("wall seconds", f"{many_wall:.2f}")
            line("variants per second", f"{many.variants / many_wall:.0f}")
            line("speed-up over workers=1", f"{wall / many_wall:.2f}x "
                 f"(ideal {args.workers}x)")
            line("peak memory of a worker (MiB)", f"{children_mib:.0f}")
            line("CPU seconds of the workers", f"{_children_cpu():.2f}")
        line("same bytes as workers=1",
                 "yes" if filecmp.cmp(one_path, many_path, shallow=False) else "NO")

    times, command = time_help(HELP_RUNS)
    print(f"== {' '.join(command)} ({HELP_RUNS} runs, each a fresh process)")
    line("best seconds", f"{min(times):.3f}")
    line("median seconds", f"{statistics.median(times):.3f}")
    line("target seconds", f"{TARGET_HELP_SECONDS:.1f} "
         f"({'meets' if statistics.median(times) <= TARGET_HELP_SECONDS else 'over'} "
         "the target, median)")
    heavy = heavy_imports()
    line("import mathgen.cli pulls torch", "yes" if "torch" in heavy else "no")
    line("heavy packages imported by mathgen.cli", ", ".join(heavy) or "none")


if __name__ == "__main__":
    main()
