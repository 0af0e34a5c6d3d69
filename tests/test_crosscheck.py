"""Acceptance check "cross-check with real programs": a variant's label must be what a real
program that solved the original prints once the variant's numbers are put into it.

The programs are ToRA-Code-34B and ToRA-70B outputs on GSM8K test (../shared/data/tora).
A (variant, program) pair counts when the program solved the original (``pred`` == ``gt`` and
the program itself prints ``gt``) and a literal substitution means what the variant means
(``crosscheck.plan``: each changed number is written as a literal exactly as often as the
question mentions it, and every mention of it changed alike). The figures under the looser
rule (only: every changed number is a literal) are printed beside, for comparison.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import require_data
from crosscheck import (
    agrees,
    cross_check,
    extract_program,
    last_number,
    plan,
    substitute_literals,
)
from mathgen.generator import perturb_problem

from mathgen.formats import load_problems
from mathgen.io import read_jsonl
from mathgen.records import Rejection

MODELS = ("tora-code-34b", "tora-70b")
MIN_AGREEMENT = 0.99
# The issue's own, looser rule (every changed number is a literal of the program) also counts
# programs whose literal swap means something else: a question's 2 bolts become 8, and the
# swap also turns the program's 'blue / 2' for 'half' into 'blue / 8'. Measured 98.76%, then
# 95.62% on 2026-11-21 once such numbers (equal to what 'half' or 'twice' stands for) could
# change: 75 of its 86 disagreements write the number more often than the question does. A
# floor.
MIN_LOOSE_AGREEMENT = 0.95


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


@pytest.mark.parametrize("output, program", [
    ("```python\nprint(1)\n```\n```output\n1\n```\nSo $\\boxed{1}$.", "print(1)\n"),
    ("```python\nx = 1\n```\n```output\n\n```\n```python\nprint(2)\n```", "print(2)\n"),
    ("The answer is $\\boxed{1}$.", None),
])
def test_extract_program(output, program):
    assert extract_program(output) == program  # the last block, as ToRA runs it


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
    ("14.666666666666666\n", "14.666667", True),  # relative tolerance 1e-6
    ("14.666666666666666\n", "14.67", False),
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


def test_variant_labels_agree_with_tora_programs():
    gsm8k = require_data("gsm8k/test.jsonl")
    tora = {name: require_data(f"tora/gsm8k-test.{name}.jsonl") for name in MODELS}
    variants = []
    for problem in load_problems(gsm8k):
        if not isinstance(problem, Rejection):
            result = perturb_problem(problem, "similar", n=1, seed=0)
            if not isinstance(result, Rejection):
                variants += result
    outputs = {name: {row["idx"]: row for _, row in read_jsonl(path)}
               for name, path in tora.items()}

    check = cross_check(variants, outputs, timeout=2)

    disagreeing, agreement = check.disagreeing, check.agreement
    lines = [
        f"variants: {len(variants)} (similar, n=1, seed=0) of {gsm8k.name}",
        "(variant, program) pairs not checkable: "
        + ", ".join(f"{reason} {count}" for reason, count in check.skipped.most_common()),
        f"loose rule (every changed number is a literal, the program prints gt): "
        f"{len(check.loose_pairs)} pairs, agreement {check.loose_agreement:.2%}",
        f"checkable pairs: {len(check.pairs)} "
        f"({len({p.variant.id for p in check.pairs})} variants)",
        f"agreeing: {len(check.pairs) - len(disagreeing)}, disagreeing: {len(disagreeing)}, "
        f"agreement: {agreement:.2%} (needed: {MIN_AGREEMENT:.0%})",
    ]
    shown = set()
    for pair in disagreeing:
        if pair.variant.id in shown or len(shown) == 8:
            continue
        shown.add(pair.variant.id)
        models = [p.model for p in disagreeing if p.variant.id == pair.variant.id]
        printed = pair.run.stdout.strip()[-60:] if pair.run.status == "ok" else pair.run.status
        subs = ", ".join(f"{o}->{n}" for o, n in pair.variant.substitutions)
        lines += [f"--- {pair.variant.source_id}: label {pair.variant.final_answer}, "
                  f"{' and '.join(models)} printed {printed!r}; {subs}",
                  f"    question: {pair.variant.question}",
                  "    answer: " + pair.variant.answer.replace("\n", "\n            ")]
    report = "\n".join(lines)
    print(report)
    assert len(check.pairs) >= 500, report
    assert agreement >= MIN_AGREEMENT, report
    assert check.loose_agreement >= MIN_LOOSE_AGREEMENT, report
