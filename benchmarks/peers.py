"""GSM-Symbolic instances per second: mathgen against reasoning-gym's ``gsm_symbolic``.

    python benchmarks/peers.py [--data PATH] [--n 50] [--repeat 3] [--json]

mathgen draws ``--n`` variants of every GSM-Symbolic template that loads
(``generator.instances.variants``: every condition and kind checked exactly, the question
and the worked solution rendered, the final answer and substitutions written);
reasoning-gym generates the same total number of items from its hand-written generators
for those templates (question, worked solution, answer, metadata). Both end in records in
memory; ``--json`` also writes every record of both as a JSON line (in memory, no file).

Run k uses seed k for both, runs interleaved in this process, each after a full garbage
collection (so that neither pays for a collection of what the other left). The first run is reported
apart: it includes what each does once (mathgen writes each template's code and narrows its
domains; reasoning-gym imports its generators); then the median of the others. The ratio is
mathgen's rate over reasoning-gym's (target: at least 2). Loading the templates is timed
apart. reasoning-gym's generators are its own reading of the same 100 templates (85 of them
marked usable), drawn at random, so the two sets hold the same number of items from nearly
the same templates, not item for item the same ones.

reasoning-gym is used only when it is installed (``pip install mathgen[bench]``);
otherwise that comparison is skipped with the reason printed. Nothing is installed here.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

from mathgen.errors import UnsupportedProblem
from mathgen.generator import gsm_symbolic
from mathgen.generator.instances import variants

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm-symbolic" / "symbolic"
TARGET_RATIO = 2.0


def _mathgen(templates, n: int, seed: int, write: bool) -> tuple[int, float, float]:
    gc.collect()  # each side starts clean: neither pays for what the other left
    start, cpu = time.perf_counter(), time.process_time()
    total = 0
    for template in templates:
        try:
            out = variants(template, n, seed=seed)
        except UnsupportedProblem:
            continue
        total += len(out)
        if write:
            for v in out:
                json.dumps(v.to_json(), default=str)
    return total, time.perf_counter() - start, time.process_time() - cpu


def _reasoning_gym(total: int, seed: int, write: bool) -> tuple[float, float]:
    import reasoning_gym

    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    dataset = reasoning_gym.create_dataset("gsm_symbolic", size=total, seed=seed)
    got = 0
    for item in dataset:  # items are generated as they are read
        got += 1
        if write:
            json.dumps(item, default=str)  # its metadata holds Fractions
    assert got == total, got
    return time.perf_counter() - start, time.process_time() - cpu


def _line(name, total, seconds):
    return f"{name}{total} records, {total / seconds:,.0f}/s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs after the first")
    parser.add_argument("--json", action="store_true", help="also write each record as JSON")
    args = parser.parse_args(argv)
    files = sorted(args.data.glob("*.json"))
    if not files:
        print(f"no GSM-Symbolic templates under {args.data}; nothing to measure")
        return 1
    start = time.perf_counter()
    templates = []
    for path in files:
        try:
            templates.append(gsm_symbolic.load(path, path.stem))
        except UnsupportedProblem as err:
            print(f"  {path.name}: not loaded ({err})")
    print(f"loaded {len(templates)} of {len(files)} templates in "
          f"{time.perf_counter() - start:.2f} s")
    try:
        import reasoning_gym  # noqa: F401
        peer = True
    except ImportError as err:
        print(f"reasoning-gym comparison skipped: not installed ({err}); "
              "pip install 'mathgen[bench]'")
        peer = False
    ours, theirs, totals = [], [], []
    for seed in range(args.repeat + 1):
        total, *seconds = _mathgen(templates, args.n, seed, args.json)
        ours.append(seconds)
        totals.append(total)
        if peer:
            theirs.append(_reasoning_gym(total, seed, args.json))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    what = "records written as JSON" if args.json else "records in memory"
    print(f"{len(templates)} templates x {args.n}, {what}; rates by wall time (by CPU time "
          f"of this process in brackets); load average {load:.2f}")
    rows = [("first run", lambda xs: xs[0])]
    if args.repeat:
        rows.append((f"median of runs 2..{args.repeat + 1}", lambda xs: statistics.median(xs[1:])))
    for label, pick in rows:
        wall, cpu = (totals[0] / pick([t[i] for t in ours]) for i in (0, 1))
        print(f"{label}:")
        print(f"  mathgen:       {wall:,.0f} instances/s ({cpu:,.0f}/s CPU; {totals[0]} "
              "instances)")
        if peer:
            peer_wall, peer_cpu = (totals[0] / pick([t[i] for t in theirs]) for i in (0, 1))
            ratio = wall / peer_wall
            print(f"  reasoning-gym: {peer_wall:,.0f} items/s ({peer_cpu:,.0f}/s CPU)")
            print(f"  ratio mathgen / reasoning-gym: {ratio:.2f}x ({cpu / peer_cpu:.2f}x CPU; "
                  f"target >= {TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
