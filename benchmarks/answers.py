"""The grader on adversarial text (target: every 1 MB input under 0.1 s) and on real outputs.

    python benchmarks/answers.py [--size 1048576] [--repeat 3] [--data ../shared/data]

Times ``extract`` then ``grade`` of what it found and ``grade`` of the whole text, for inputs
of ``--size`` characters made of one repeated piece each (digits, spaces, newlines, braces,
unclosed ``\\boxed{`` and ``\\frac{``, 'answer is', '####' lines, digit groups, dashes...),
and prints each input's best of ``--repeat`` runs, the worst of them and its ratio to the
target. Then the accuracy of ``mathgen robustness-report``'s grading (the tora prompt style's
extraction, ``grade_items``) on the two ToRA output files of ``--data`` against GSM8K test,
the figures the README states (80.52 and 84.31), and how many items grade otherwise than
ToRA's own extracted answers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mathgen.answers import extract, grade, number

TARGET_SECONDS = 0.1
PIECES = {  # name: a piece repeated up to the size
    "digits": "9", "spaces": " ", "newlines": "\n", "space-newline": " \n", "tabs": "\t",
    "open braces": "{", "close braces": "}", "brace pairs": "{}", "nested": "{{}",
    "unclosed boxes": "\\boxed{", "empty boxes": "\\boxed{}", "boxed braces": "\\boxed{{x}",
    "fractions": "\\frac{", "closed fractions": "\\frac{1}{2}", "roots": "\\sqrt{",
    "numbers": "1 ", "digit groups": "000 ", "no-break groups": "1\u00a0000\u00a0",
    "commas": "1,", "decimals": "1.", "ratios": "1/", "exponents": "1e", "minus": "-",
    "unicode minus": "\u22121", "dashes": "\u2013\u2014", "hex": "0x", "percent": "%",
    "dollars": "$", "answer is": "answer is ", "answer is newline": "The answer is\n",
    "hashes": "#### ", "hash lines": "#### 1\n", "output blocks": "```output\n",
    "fences": "```", "words": "the eggs ",
}


def line(label: str, value) -> None:
    print(f"{label:<40} {value}")


def time_one(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        found = extract(text)
        grade(found.text, "5")
        grade(text, "5")
        best = min(best, time.perf_counter() - start)
    return best


def adversarial(size: int, repeat: int) -> float:
    worst = 0.0
    for name, piece in PIECES.items():
        text = (piece * (size // len(piece) + 1))[:size]
        seconds = time_one(text, repeat)
        worst = max(worst, seconds)
        line(f"1 MB of {name!r}" if size == 1 << 20 else f"{size:,} chars of {name!r}",
             f"{1000 * seconds:.1f} ms")
    for label, call in [("number('9' * 10000)", lambda: number("9" * 10000)),
                        ("grade(6,000-char fraction, 3)", lambda: grade("7" * 3000 + "/"
                                                                         + "3" * 2999, 3)),
                        ("grade('3', 10**5000)", lambda: grade("3", 10 ** 5000))]:
        start = time.perf_counter()
        try:
            call()
        except Exception as err:  # the figure to show when the grader is broken
            line(label, f"raises {type(err).__name__}")
            continue
        line(label, f"{1000 * (time.perf_counter() - start):.2f} ms")
    return worst


def tora_accuracy(data: Path, name: str) -> tuple[float, int, int]:
    """(accuracy in percent, items, items graded otherwise than ToRA's 'pred') as the report."""
    import json

    from mathgen.robustness.metrics import grade_items
    from mathgen.robustness.predictions import read_predictions
    from mathgen.robustness.prompts import make_style
    from mathgen.robustness.sets import read_set

    tora = data / "tora" / f"gsm8k-test.{name}.jsonl"
    items, _ = read_set("gsm8k", data / "gsm8k" / "test.jsonl")
    found = read_predictions([("gsm8k", tora)], {"gsm8k": items})
    graded = grade_items(items, found.outputs, make_style("tora").extract)
    ours = {g.item.id: g.correct for g in graded}
    differ = sum(grade(r["pred"][0], r["gt"]).correct != ours[f"gsm8k:{r['idx'] + 1}"]
                 for r in map(json.loads, tora.open()))
    return 100 * sum(ours.values()) / len(ours), len(ours), differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    worst = adversarial(args.size, args.repeat)
    line("worst time", f"{1000 * worst:.1f} ms ({worst / TARGET_SECONDS:.2f} of the "
                       f"{1000 * TARGET_SECONDS:.0f} ms target)")
    for name, stated in [("tora-code-34b", 80.52), ("tora-70b", 84.31)]:
        if not (args.data / "tora" / f"gsm8k-test.{name}.jsonl").exists():
            line(f"ToRA {name}", f"skipped: no {args.data}/tora")
            continue
        accuracy, n, differ = tora_accuracy(args.data, name)
        line(f"ToRA {name} accuracy", f"{accuracy:.2f}% of {n} (README: {stated}); "
                                      f"{differ} graded otherwise than ToRA's 'pred'")


if __name__ == "__main__":
    main()
