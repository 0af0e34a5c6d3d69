"""GSM-Symbolic instances per second: mathgen against reasoning-gym's ``gsm_symbolic``.

    python benchmarks/peers.py [--data PATH] [--n 50] [--repeat 3]

mathgen draws ``--n`` instances of every GSM-Symbolic template that loads
(``generator.instances``, every condition and kind checked exactly); reasoning-gym generates
the same total number of items from its hand-written generators for those templates. Both in
this process, runs interleaved, medians; the ratio is mathgen's rate over reasoning-gym's
(target: at least 2). Loading the templates is timed apart. reasoning-gym is used only when it
is installed (``pip install mathgen[bench]``); otherwise that comparison is skipped with the
reason printed. Nothing is installed here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mathgen.errors import UnsupportedProblem
from mathgen.generator import gsm_symbolic
from mathgen.generator.instances import instances

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm-symbolic" / "symbolic"
TARGET_RATIO = 2.0


def _mathgen(templates, n: int) -> tuple[int, float]:
    start = time.perf_counter()
    total = sum(len(instances(t, n, seed=0)[0]) for t in templates)
    return total, time.perf_counter() - start


def _reasoning_gym(total: int) -> float:
    import reasoning_gym

    start = time.perf_counter()
    dataset = reasoning_gym.create_dataset("gsm_symbolic", size=total, seed=0)
    got = sum(1 for _ in dataset)  # items are generated as they are read
    assert got == total, got
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
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
    ours, theirs, total = [], [], 0
    for _ in range(args.repeat):
        total, seconds = _mathgen(templates, args.n)
        ours.append(seconds)
        if peer:
            theirs.append(_reasoning_gym(total))
    rate = total / statistics.median(ours)
    print(f"mathgen:       {total} instances ({len(templates)} templates x {args.n}), "
          f"{rate:,.0f} instances/s (median of {args.repeat})")
    if peer:
        peer_rate = total / statistics.median(theirs)
        ratio = rate / peer_rate
        print(f"reasoning-gym: {total} gsm_symbolic items, {peer_rate:,.0f} instances/s")
        print(f"ratio mathgen / reasoning-gym: {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x: "
              f"{'met' if ratio >= TARGET_RATIO else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
