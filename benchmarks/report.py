"""Time to build a robustness report from 20,000 model outputs (target: under 5 s).

    python benchmarks/report.py [--items 20000] [--sources 1000]

Builds four sets over ``--sources`` synthetic problems (the originals, then two sets of five
variants each and one that fills up to ``--items``), gives every item a ToRA-style output
(a program, its output block, a boxed answer; right or wrong by a seeded coin that loses more
often on large numbers), and times the two stages of ``mathgen robustness-report`` after the
model: grading every output, and writing the report folder (metrics with the bootstrap,
plots, Markdown, HTML, items.jsonl). Prints labelled figures and the ratio to the target.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time

from mathgen.robustness.metrics import grade_items
from mathgen.robustness.prompts import make_style
from mathgen.robustness.report import write_report
from mathgen.robustness.sets import Item, number_size

TARGET_SECONDS = 5.0


def line(label: str, value) -> None:
    print(f"{label:<40} {value}")


def synthetic(items: int, sources: int, seed: int = 0):
    rng = random.Random(seed)
    plan = [("original", 1, 2), ("similar", 5, 2), ("large", 5, 4)]
    rest = items - sum(k for _, k, _ in plan) * sources
    plan.append(("digits:6", max(1, -(-rest // sources)), 6))
    out, outputs = [], {}
    for name, per_source, digits in plan:
        for s in range(sources):
            for k in range(per_source):
                if len(out) >= items:
                    break
                a = rng.randrange(10 ** (digits - 1), 10 ** digits)
                b = rng.randrange(2, 50)
                question = (f"A farm packs {a:,} eggs into boxes of {b}. Each box sells for $3. "
                            f"How much money does the farm make from full boxes?")
                gold = a // b * 3
                ident = f"src:{s}" if name == "original" else f"src:{s}/{name}/{k}"
                item = Item(name, ident, f"src:{s}", len(out) + 1, question, str(gold),
                            "gsm8k" if name == "original" else "variant", number_size(question),
                            source=f"src:{s}")
                right = rng.random() < 0.9 - 0.05 * digits
                answer = gold if right else gold + rng.randrange(1, 100)
                outputs[(name, ident)] = (f"```python\nboxes = {a} // {b}\nprint(boxes * 3)\n```"
                                          f"\n```output\n{answer}\n```\nThe farm makes "
                                          f"$\\boxed{{{answer:,}}}$ dollars.")
                out.append(item)
    return out, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--sources", type=int, default=1000)
    args = parser.parse_args()
    items, outputs = synthetic(args.items, args.sources)
    style = make_style("tora")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        graded = grade_items(items, outputs, style.extract)
        grading = time.perf_counter() - start
        start = time.perf_counter()
        metrics = write_report(graded, folder, baseline="original", seed=0)
        writing = time.perf_counter() - start
    total = grading + writing
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line("items graded", f"{len(graded):,} in {len(metrics['sets'])} sets, "
                         f"{args.sources:,} sources")
    line("accuracy per set", ", ".join(f"{n} {100 * s['accuracy']:.1f}%"
                                       for n, s in metrics["sets"].items()))
    line("grading (extract + exact grade)", f"{grading:.2f} s "
                                            f"({len(graded) / grading:,.0f} items/s)")
    line("writing the report folder", f"{writing:.2f} s")
    line("total", f"{total:.2f} s (target {TARGET_SECONDS:.0f} s: "
                  f"{TARGET_SECONDS / total:.1f}x under)" if total < TARGET_SECONDS else
         f"{total:.2f} s (target {TARGET_SECONDS:.0f} s: MISSED)")
    line("peak memory (RSS)", f"{peak:.0f} MiB")


if __name__ == "__main__":
    main()
