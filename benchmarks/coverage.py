"""Coverage of ``mathgen perturb``: the share of problems that give a variant, per data set.

    python benchmarks/coverage.py [--strategy similar --strategy mmos-large] [--workers 2]
                                  [--rejects-dev FILE]

GSM8K train is split once, by a fixed rule: a row whose 1-based line number is divisible by 5
is in the *validation* part, every other row in the *development* part. Rules of the reader
are shaped on the development part and GSM8K test only; the validation part is measured, never
read. So this script prints counts for validation and writes rejections only for development
(``--rejects-dev``), with the line numbers of ``train.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from mathgen import load_problems, perturb
from mathgen.records import Problem, Rejection

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k"


def is_validation(line: int) -> bool:
    """The fixed split of GSM8K train: every fifth row (1-based) is validation."""
    return line % 5 == 0


def sets() -> dict[str, tuple[Path, object]]:
    """Each measured set: its file and which of its problems it keeps (by source line)."""
    out = {"gsm8k-test": (DATA / "test.jsonl", None),
           "gsm8k-socratic": (DATA / "test_socratic.jsonl", None),
           "model-solutions": (DATA / "model_solutions.jsonl", None),
           "train-dev": (DATA / "train.jsonl", lambda line: not is_validation(line)),
           "train-val": (DATA / "train.jsonl", is_validation)}
    return {name: spec for name, spec in out.items() if spec[0].exists()}


def measure(path: Path, keep, strategy: str, workers: int):
    """(problems, problems with a variant, Counter of rejection reasons, rejections).

    Rows the format itself sets aside (a model's solution marked wrong) are not problems.
    """
    try:
        problems = [p for p in load_problems(path) if isinstance(p, Problem)
                    and (keep is None or keep(p.source_line))]
    except Exception as err:  # a format this release cannot read yet: say so, go on
        print(f"  {path.name}: not read ({err})", file=sys.stderr)
        return None
    reasons, rejections = Counter(), []
    ok = 0
    for result in perturb(problems, strategy=strategy, n=1, seed=0, workers=workers):
        if isinstance(result, Rejection):
            reasons[result.reason] += 1
            rejections.append(result)
        else:
            ok += 1
    return len(problems), ok, reasons, rejections


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", action="append", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", action="append", default=None, help="only these sets")
    parser.add_argument("--rejects-dev", type=Path, help="write train-dev rejections here")
    args = parser.parse_args(argv)
    strategies = args.strategy or ["similar", "mmos-large"]
    if not DATA.exists():
        print(f"no reference data at {DATA}; nothing to measure")
        return 0
    for strategy in strategies:
        print(f"strategy {strategy}")
        for name, (path, keep) in sets().items():
            if args.set and name not in args.set:
                continue
            start = time.perf_counter()
            measured = measure(path, keep, strategy, args.workers)
            if measured is None:
                continue
            total, ok, reasons, rejections = measured
            seconds = time.perf_counter() - start
            print(f"  {name:<16} {ok:>5} of {total:>5}  {100 * ok / max(total, 1):5.1f}%"
                  f"  ({seconds:.1f} s)")
            if name != "train-val":
                print("      " + ", ".join(f"{r} {c}" for r, c in reasons.most_common()))
            if name == "train-dev" and args.rejects_dev and strategy == strategies[0]:
                with open(args.rejects_dev, "w", encoding="utf-8") as handle:
                    for r in rejections:
                        handle.write(json.dumps(r.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
