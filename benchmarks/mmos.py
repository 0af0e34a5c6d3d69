"""Throughput of mathgen mmos build at the MMOS paper's scale (about 1.5M sampled paths).

    python benchmarks/mmos.py [--paths 1500000] [--workers 2] [--programs 2000]

Builds a synthetic samples file from the paths of ``../shared/data/tora`` whose answer is
right: each question gets about ``--paths / questions`` variants of its paths, each with some
assigned names renamed at random (a new name per variant, so nearly every text is new) and
runs of constant assignments put in a random order. Renamed paths are duplicates that only
the normal form finds; reordered ones are new forms, near their originals, for the diverse
choice. Then it runs ``build`` on that file with ``execute=False`` (the stages after the
sandbox) and prints each stage's time, the paths per second of normalise + dedup + select
(target: at least 10,000 on 2 cores) and peak memory. The sandbox's own throughput, which
bounds a build that re-runs programs, is measured apart: ``--programs`` distinct programs
run with ``--workers`` at once, and one full build (with execution) of the two ToRA files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

TARGET = 10_000
TORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tora"
FILES = [TORA / "gsm8k-test.tora-70b.jsonl", TORA / "gsm8k-test.tora-code-34b.jsonl"]
_ASSIGNED = re.compile(r"^[ \t]*([A-Za-z_]\w*)[ \t]*=[^=]", re.MULTILINE)
_CONSTANT = re.compile(r"^([ \t]*)[A-Za-z_]\w*[ \t]*=[ \t]*[\d.]+[ \t]*$")
_BLOCK = re.compile(r"(```python[ \t]*\n)(.*?)(```)", re.DOTALL)
WORDS = ["total", "count", "amount", "value", "number", "result", "price", "cost", "n", "x",
         "per", "each", "left", "sum", "days", "items"]


def line(label: str, value) -> None:
    print(f"{label:<52} {value}")


def base_paths() -> dict[str, tuple[str, list[str]]]:
    """question -> (gold, the right paths of both ToRA files)."""
    from mathgen.answers import extract, grade

    out: dict[str, tuple[str, list[str]]] = {}
    for path in FILES:
        for raw in path.open(encoding="utf-8"):
            row = json.loads(raw)
            good = [c for c in row["code"] if grade(extract(c).text, row["gt"]).correct]
            gold, paths = out.setdefault(row["question"], (row["gt"], []))
            paths.extend(good)
    return {q: v for q, v in out.items() if v[1]}


def variant(text: str, rng: random.Random) -> str:
    """The path with names renamed and runs of constant assignments shuffled."""
    def program(m):
        code = m.group(2)
        names = sorted(set(_ASSIGNED.findall(code)))
        for name in names:
            if rng.random() < 0.6:
                new = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{rng.randrange(1000)}"
                code = re.sub(rf"\b{re.escape(name)}\b", new, code)
        lines, out, run = code.split("\n"), [], []
        for ln in lines + [None]:
            m2 = _CONSTANT.match(ln) if ln is not None else None
            if m2 and (not run or _CONSTANT.match(run[0]).group(1) == m2.group(1)):
                run.append(ln)
                continue
            if len(run) > 1 and rng.random() < 0.5:
                rng.shuffle(run)
            out += run
            run = [ln] if m2 else []
            if ln is not None and not m2:
                out.append(ln)
        return m.group(1) + "\n".join(out) + m.group(3)
    return _BLOCK.sub(program, text)


def write_samples(path: Path, total: int, seed: int = 0) -> tuple[int, int]:
    base = base_paths()
    per = -(-total // len(base))
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for idx, (question, (gold, paths)) in enumerate(base.items()):
            count = min(per, total - written)
            if count <= 0:
                break
            code = [variant(paths[j % len(paths)], rng) for j in range(count)]
            out.write(json.dumps({"idx": idx, "question": question, "gt": gold,
                                  "code": code}) + "\n")
            written += count
    return written, len(base)


def peak_mib(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, default=1_500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--programs", type=int, default=2000)
    args = parser.parse_args()
    if not all(f.exists() for f in FILES):
        sys.exit(f"needs the ToRA files under {TORA}")
    from mathgen.training.mmos import build

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clock = time.perf_counter()
        n, questions = write_samples(tmp / "samples.jsonl", args.paths)
        line("synthetic paths (questions)", f"{n:,} ({questions:,}); made in "
             f"{time.perf_counter() - clock:.0f} s, "
             f"{(tmp / 'samples.jsonl').stat().st_size / 2**30:.2f} GiB")
        summary = build([("gsm8k", tmp / "samples.jsonl")], tmp / "train.jsonl", k=3,
                        workers=args.workers, execute=False)
        s = summary.seconds
        staged = s["normalise"] + s["dedup"] + s["select"]
        line("duplicates / beyond k / kept", f"{summary.rejected['duplicate']:,} / "
             f"{summary.rejected['beyond k']:,} / {summary.written:,}")
        distinct = sum(v["distinct"] for v in summary.sources.values())
        line("distinct normal forms", f"{distinct:,} ({distinct / questions:.1f} per question)")
        for stage in ("normalise", "dedup", "select"):
            line(f"  {stage} (s)", f"{s[stage]:.1f}")
        line("  read + grade + write (s)", f"{s['total'] - staged - s['execute']:.1f}")
        line("whole build without execution (s)", f"{s['total']:.1f} "
             f"({n / s['total']:,.0f} paths/s)")
        rate = n / staged
        line(f"normalise + dedup + select, {args.workers} workers (paths/s)",
             f"{rate:,.0f}  (target {TARGET:,}: {rate / TARGET:.2f}x)")
        line("peak memory: main process / one worker (MiB)",
             f"{peak_mib(resource.RUSAGE_SELF):,.0f} / {peak_mib(resource.RUSAGE_CHILDREN):,.0f}")

    from mathgen.sandbox import Sandbox
    from mathgen.training.normalise import steps

    programs = list(dict.fromkeys(s.code for _, paths in base_paths().values()
                                  for p in paths for s in steps(p)[0]))[:args.programs]
    with Sandbox() as box:
        box.run_many(programs[:20], workers=args.workers)  # start the servers
        clock = time.perf_counter()
        box.run_many(programs, workers=args.workers)
        took = time.perf_counter() - clock
    line(f"sandbox: {len(programs):,} ToRA programs, {args.workers} at once (programs/s)",
         f"{len(programs) / took:,.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        summary = build([("gsm8k", f) for f in FILES], Path(tmp) / "t.jsonl",
                        workers=args.workers)
        took = time.perf_counter() - clock
    line("full build of the two ToRA files, with execution (s)",
         f"{took:.1f} ({summary.paths:,} paths, {summary.programs:,} programs run)")


if __name__ == "__main__":
    main()
