"""Throughput of ``mathgen perturb`` on GSM8K test, and start-up cost of the CLI.

    python benchmarks/perturb.py [--data PATH] [--n 10] [--workers 2] [--repeat 3]
                                 [--processes-only]

Perturbs every problem of the data file ``--n`` times with ``similar`` through the library
(``mathgen.generator.run.perturb_files``, into a temporary folder, no cache), first with one
worker, then with ``--workers``, and prints labelled figures against the targets: 1,000
variants per second per core, and ``mathgen --help`` within 0.5 s without importing torch.

Then whole ``mathgen perturb DATA --strategy mmos-large -n 1`` processes, each run
``--repeat`` times, interleaved, reported as medians (other processes on the machine make
single runs noisy): a first run (an empty cache folder; target under 1.5 s), a second run
reading the cache the first filled (target under 0.5 s), ``--workers 2`` against 1 (no
cache; target 1.8x), and ``--verify-with`` both ToRA files against none (warm cache; target
under 1.5x), with 1 and 2 workers. Every run must write the same bytes as the first.
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

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = SHARED / "gsm8k" / "test.jsonl"
TORA = [SHARED / "tora" / f"gsm8k-test.{model}.jsonl" for model in ("tora-code-34b", "tora-70b")]
TARGET_VARIANTS_PER_CORE = 1000.0
TARGET_FIRST_SECONDS = 1.5
TARGET_CACHED_SECONDS = 0.5
TARGET_WORKERS_SPEEDUP = 1.8
TARGET_VERIFY_RATIO = 1.5
TARGET_HELP_SECONDS = 0.5
HELP_RUNS = 5


def line(label: str, value) -> None:
    print(f"{label:<44} {value}")


def perturb_run(data: Path, out: Path, n: int, workers: int):
    """(summary, wall seconds, CPU seconds of this process) of one perturb_files call."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = perturb_files([data], out, strategy="similar", n=n, seed=0, workers=workers,
                            cache=False)
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


def process_runs(data: Path, repeat: int) -> None:
    """Whole ``mathgen perturb --strategy mmos-large -n 1`` processes (see the docstring)."""
    tora = [p for p in TORA if p.is_file()]
    with tempfile.TemporaryDirectory(prefix="mathgen-bench-") as tmp:
        tmp = Path(tmp)
        verify = sum((["--verify-with", str(p)] for p in tora), [])
        # name: (extra arguments, whether the cache folder starts empty)
        kinds = {"first run (empty cache)": ([], True),
                 "second run (cache filled)": ([], False),
                 "no cache, workers=1": (["--no-cache"], False),
                 "no cache, workers=2": (["--no-cache", "--workers", "2"], False)}
        if len(tora) == 2:
            kinds["cache filled, --verify-with, workers=1"] = (verify, False)
            kinds["cache filled, --verify-with, workers=2"] = (verify + ["--workers", "2"], False)
        times: dict[str, list[float]] = {name: [] for name in kinds}
        reference = None
        for round_ in range(repeat):  # interleaved: a burst of load hits every kind alike
            for k, (name, (extra, empty)) in enumerate(kinds.items()):
                folder = tmp / f"cache-{round_}"  # emptied by the first kind of a round
                if empty and folder.exists():
                    shutil.rmtree(folder)
                out = tmp / "out.jsonl"
                command = mathgen_command() + ["perturb", str(data), "-o", str(out),
                                               "--strategy", "mmos-large", "-n", "1",
                                               "--seed", "0"] + extra
                env = {**os.environ, "MATHGEN_CACHE_DIR": str(folder)}
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
                times[name].append(time.perf_counter() - start)
                if "--verify-with" not in extra:
                    written = out.read_bytes()
                    reference = written if reference is None else reference
                    if written != reference:
                        sys.exit(f"benchmarks/perturb.py: '{name}' wrote other bytes")
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"== mathgen perturb {data.name} --strategy mmos-large -n 1, whole processes "
              f"(median of {repeat}, load average now {os.getloadavg()[0]:.2f})")
        for name, value in median.items():
            line(f"{name} (s)", f"{value:.2f}  (runs: "
                 + ", ".join(f"{t:.2f}" for t in times[name]) + ")")
        first, second = median["first run (empty cache)"], median["second run (cache filled)"]
        line("first run against target", _against(first, TARGET_FIRST_SECONDS, "s", below=True))
        line("second run against target", _against(second, TARGET_CACHED_SECONDS, "s",
                                                    below=True))
        line("first / second run", f"{first / second:.2f}x")
        speedup = median["no cache, workers=1"] / median["no cache, workers=2"]
        line("workers=2 speed-up over workers=1", _against(speedup, TARGET_WORKERS_SPEEDUP, "x"))
        line("same bytes in every run without --verify-with", "yes")
        if len(tora) != 2:
            line("--verify-with", f"skipped: {TORA[0].parent} lacks the two ToRA files")
            return
        for workers in (1, 2):
            ratio = median[f"cache filled, --verify-with, workers={workers}"] / second
            line(f"--verify-with / without (workers={workers})",
                 _against(ratio, TARGET_VERIFY_RATIO, "x", below=True))
        line("--verify-with: workers=2 speed-up over 1",
             f"{median['cache filled, --verify-with, workers=1'] / median['cache filled, --verify-with, workers=2']:.2f}x")


def _against(value: float, target: float, unit: str, below: bool = False) -> str:
    meets = value < target if below else value >= target
    return (f"{value:.2f}{unit} (target {'<' if below else '>='} {target}{unit}: "
            f"{'meets' if meets else 'misses'} it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="GSM8K-format JSONL file")
    parser.add_argument("--n", type=int, default=10, help="variants per problem")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker count compared with workers=1 (1: no comparison)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each whole-process kind (medians are reported)")
    parser.add_argument("--processes-only", action="store_true",
                        help="only the whole-process runs")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"benchmarks/perturb.py: {args.data} not found (use --data PATH)")
    if args.processes_only:
        process_runs(args.data, args.repeat)
        return

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
    process_runs(args.data, args.repeat)


if __name__ == "__main__":
    main()
