"""Acceptance check "cross-check with real programs": a variant's label must be what a real
program that solved the original prints once the variant's numbers are put into it.

The programs are ToRA-Code-34B and ToRA-70B outputs on GSM8K test (../shared/data/tora).
"""

from __future__ import annotations

import re
import tokenize
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from crosscheck import agrees, extract_program, last_number, plan, run_programs, \
    substitute_literals
from mathgen.formats import load_problems
from mathgen.generator import perturb_problem
from mathgen.io import read_jsonl
from mathgen.records import Rejection

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MODELS = ("tora-code-34b", "tora-70b")
MIN_AGREEMENT = 0.99


@pytest.mark.parametrize("program, mapping, expected", [
    ("x = 16 - 3 - 4", {16: "21"}, "x = 21 - 3 - 4"),
    ("y = 1.5", {15: "20"}, "y = 1.5"),
    ("z = 150/100", {150: "130"}, "z = 130/100"),
    # one pass: 3 -> 4 and 4 -> 6 do not chain into 3 -> 6
    ("a = 3 + 4", {3: "4", 4: "6"}, "a = 4 + 6"),
    # equal values written differently; a float stays a float
    ("p = 2.50 * 2.5", {Fraction(5, 2): "2.75"}, "p = 2.75 * 2.75"),
    ("r = 20.0 + 20", {20: "25"}, "r = 25.0 + 25"),
    ("n = 1_000 + 1e3", {1000: "900"}, "n = 900 + 900.0"),
    # strings, comments and names keep their text, whatever their digits
    ('s = "16 eggs"  # 16 a day\nx16 = 16', {16: "21"}, 's = "16 eggs"  # 16 a day\nx16 = 21'),
    ('def f():\n    """Ducks lay 16 eggs."""\n    return 16\n', {16: "9"},
     'def f():\n    """Ducks lay 16 eggs."""\n    return 9\n'),
    ("t = (16,\n     4)\nprint(t)", {4: "10", 16: "8"}, "t = (8,\n     10)\nprint(t)"),
    ("u = -3 + 3j", {3: "5"}, "u = -5 + 3j"),
])
def test_substitute_literals(program, mapping, expected):
    assert substitute_literals(program, {Fraction(k): v for k, v in mapping.items()}) == expected


@pytest.mark.parametrize("printed, value", [
    ("18\n", Fraction(18)),
    ("The answer is 1,250.50 dollars\n", Fraction("1250.5")),
    ("-35.0\n", Fraction(-35)),
    ("190/3\n", Fraction(190, 3)),
    ("3 then 0.3333333333333333\n", Fraction("0.3333333333333333")),
    ("(1, 0)\n", Fraction(0)),
    ("1.5e-05\n", 1.5e-05),
    ("no number\n", None),
])
def test_last_number(printed, value):
    assert last_number(printed) == value


@pytest.mark.parametrize("printed, label, expected", [
    ("288\n", "288", True),
    ("288.0\n", "288", True),
    ("2,125\n", "2125", True),
    ("0.30000000000000004\n", "0.3", True),
    ("14.666666666666666\n", "14.666667", False),
    ("287\n", "288", False),
    ("", "288", False),
])
def test_agrees(printed, label, expected):
    assert agrees(printed, label) is expected


@pytest.mark.parametrize("subs, question, program, reason", [
    ([("16", "21")], "Ducks lay 16 eggs.", "x = 16 - 3", "checkable"),
    ([("16", "21")], "Ducks lay 16 eggs.", "x = 15 - 3", "missing-literal"),
    ([("2", "3"), ("2", "5")], "2 cats and 2 dogs.", "x = 2 + 2", "ambiguous-value"),
    ([("2", "9")], "2 tickets at $2 each.", "x = 2 * 2", "unchanged-mention"),
    ([("2", "5")], "It rained 2 inches, then twice that.", "x = 2 * 2", "literal-count"),
    ([("30", "50"), ("30", "50")], "Mo slid 30 times, Al 30% less.", "x = 30 * 0.7",
     "literal-count"),
])
def test_plan(subs, question, program, reason):
    assert plan(subs, question, program)[1] == reason


def test_runner_isolates_programs():
    runs = run_programs(["x = 5\nprint(x)", "print(x)", "import sys\nsys.exit(3)",
                         "while True:\n    pass", "print(1/0)", "print('7'); print(8)"],
                        timeout=1, batch_size=3)
    assert runs[0].stdout == "5\n" and runs[0].error is None
    assert runs[1].error.startswith("NameError")  # fresh globals for every program
    assert runs[2].error.startswith("SystemExit")
    assert runs[3].error.startswith("TimeoutError")
    assert runs[4].error.startswith("ZeroDivisionError")
    assert runs[5].stdout == "7\n8\n"


def _number(text) -> Fraction | None:
    try:
        return Fraction(str(text).replace(",", "").strip())
    except (ValueError, ZeroDivisionError):
        return None


def test_variant_labels_agree_with_tora_programs():
    gsm8k = DATA / "gsm8k" / "test.jsonl"
    tora = {name: DATA / "tora" / f"gsm8k-test.{name}.jsonl" for name in MODELS}
    missing = [str(p) for p in (gsm8k, *tora.values()) if not p.exists()]
    if missing:
        pytest.skip(f"reference data not found (needs ../shared/data): {', '.join(missing)}")

    variants = []
    for problem in load_problems(gsm8k):
        if not isinstance(problem, Rejection):
            result = perturb_problem(problem, "similar", n=1, seed=0)
            if not isinstance(result, Rejection):
                variants += result
    outputs = {name: {row["idx"]: row for _, row in read_jsonl(path)}
               for name, path in tora.items()}

    # (variant, model, gt, program, substituted program) for every candidate pair
    pairs, skipped, loose = [], Counter(), 0
    for variant in variants:
        for name in MODELS:
            row = outputs[name].get(variant.source_line - 1)
            gt = _number(row["gt"]) if row else None
            if gt is None or _number(row["pred"][0]) != gt:
                skipped["did not solve the original"] += 1
                continue
            program = extract_program(row["code"][0])
            if program is None:
                skipped["no program"] += 1
                continue
            try:
                mapping, reason = plan(variant.substitutions, variant.original_question, program)
                loose += plan(variant.substitutions, variant.original_question, program,
                              strict=False)[0] is not None
            except (SyntaxError, tokenize.TokenError):
                mapping, reason = None, "program does not tokenize"
            if mapping is None:
                skipped[reason] += 1
                continue
            pairs.append((variant, name, gt, program, substitute_literals(program, mapping)))

    runs = run_programs([p[3] for p in pairs] + [p[4] for p in pairs], timeout=2)
    originals, changed = runs[:len(pairs)], runs[len(pairs):]
    checkable, disagreeing = [], []
    for (variant, name, gt, _, new_program), original, run in zip(pairs, originals, changed):
        if not agrees(original.stdout, str(gt)):
            # its answer came from the prose after the program, not from the program
            skipped["program does not print gt"] += 1
            continue
        checkable.append(variant.id)
        if not agrees(run.stdout, variant.final_answer):
            disagreeing.append((variant, name, run, new_program))

    agreeing = len(checkable) - len(disagreeing)
    rate = agreeing / len(checkable) if checkable else 0.0
    lines = [
        f"variants: {len(variants)} (similar, n=1, seed=0) from {gsm8k}",
        f"(variant, program) pairs not checkable: "
        + ", ".join(f"{reason} {count}" for reason, count in skipped.most_common()),
        f"pairs checkable under the loose rule (every changed number is a literal): {loose}",
        f"checkable pairs: {len(checkable)} ({len(set(checkable))} variants)",
        f"agreeing: {agreeing}, disagreeing: {len(disagreeing)}, agreement: {rate:.2%}",
    ]
    for variant, name, run, _ in disagreeing[:8]:
        printed = run.error or run.stdout.strip()[-60:]
        lines += [f"--- {variant.source_id} ({name}): label {variant.final_answer}, "
                  f"program printed {printed!r}",
                  f"    substitutions: {', '.join(f'{o}->{n}' for o, n in variant.substitutions)}",
                  f"    question: {variant.question}",
                  "    answer: " + re.sub(r"\n", "\n            ", variant.answer)]
    report = "\n".join(lines)
    print(report)
    assert len(checkable) >= 500, report
    assert rate >= MIN_AGREEMENT, report
