"""``mathgen perturb --verify-with``: variants checked with programs that solved the original."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_data, write_rows
from mathgen.cli import main
from mathgen.errors import InputError
from mathgen.generator.verify import load_programs, printed_equals, swap
from mathgen.records import Variant

sys.path.insert(0, str(Path(__file__).parent))
from crosscheck import cross_check  # noqa: E402  (the tests' own, independent check)

EGGS = ("Janet's ducks lay 16 eggs per day. She eats 3 for breakfast and bakes muffins with 4. "
        "She sells the rest for $2 per egg. How much does she make every day?")
EGGS_ANSWER = "16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n9 * 2 = $<<9*2=18>>18\n#### 18"


def variant(subs, final, question=EGGS) -> Variant:
    return Variant("t:1/similar/0/0", "t:1", 1, "similar", 0, "(new)", "#### " + final, final,
                   tuple(subs), question, "18")


@pytest.mark.parametrize("program, subs, expected", [
    ("x = 16 - 3 - 4\nprint(x * 2)", [("16", "21")], "x = 21 - 3 - 4\nprint(x * 2)"),
    ("x = 16.0 - 3 - 4\nprint(x * 2)", [("16", "21")], "x = 21.0 - 3 - 4\nprint(x * 2)"),
    ('"""16 eggs"""\nx = 16  # 16 a day\nprint(x)', [("16", "20")],
     '"""16 eggs"""\nx = 20\nprint(x)'),
    # a literal the question does not mention that often: 'twice' written as 2
    ("print((16 - 3 - 4) * 2 * 2)", [("2", "5")], None),
    # the changed number is not in the program
    ("print((15 - 3 - 4) * 2)", [("16", "21")], None),
    # one number became two
    ("print(3 + 3)", [("3", "4"), ("3", "5")], None),
    ("print(16 +)", [("16", "21")], None),
])
def test_swap(program, subs, expected):
    assert swap(program, variant(subs, "0")) == expected


def test_swap_leaves_an_unchanged_mention_alone():
    question = "Tom buys 2 bags with 2 apples each. How many apples?"
    assert swap("print(2 * 2)", variant([("2", "3")], "6", question)) is None


@pytest.mark.parametrize("stdout, label, equal", [
    ("18\n", "18", True), ("The answer is 1,250.5\n", "1250.5", True), ("18.0\n", "18", True),
    ("0.30000000000000004\n", "0.3", True), ("7/2\n", "3.5", True), ("17\n", "18", False),
    ("", "18", False), ("[18, 19]\n", "18", False),
    # whole numbers compare exactly; untrusted huge output is read without big arithmetic
    ("1000001\n", "1000000", False), ("1000000.0\n", "1000000", True),
    (str(2 ** 2000) + "\n", "18", False), ("1e9999999\n", "18", False),
    ("1" * 5000 + "\n", "18", False),
])
def test_printed_equals(stdout, label, equal):
    assert printed_equals(stdout, label) is equal


def tora_row(question, outputs, preds, gt):
    return {"idx": 0, "question": question, "gt": gt, "code": outputs, "pred": preds}


def test_load_programs_keeps_paths_that_solved(tmp_path):
    block = "```python\nprint((16 - 3 - 4) * 2)\n```\n```output\n18\n```\nSo 18."
    path = write_rows(tmp_path / "tora.jsonl", [
        tora_row(EGGS, [block, block.replace("* 2", "* 3"), "no code"], ["18", "27", "18"], "18"),
        {"input": EGGS, "code": "def solution():\n    return (16 - 3 - 4) * 2\n", "target": 18.0},
        {"source_line": 1, "program": "print(18)"},
    ])
    programs = load_programs([path])
    assert [p.origin.split("/")[-1] for p in programs] == [
        "tora.jsonl:1 path 1", "tora.jsonl:2", "tora.jsonl:3"]
    assert programs[1].code.endswith("print(solution())\n")
    assert programs[2].source_line == 1 and programs[2].question is None


@pytest.mark.parametrize("row, field", [
    ({"source_line": 0, "program": "print(1)"}, "source_line"),
    ({"source_line": 2, "program": 5}, "program"),
    ({"question": "x", "code": "not a list", "pred": []}, "code"),
    ({"foo": 1}, None),
])
def test_bad_program_rows(tmp_path, row, field):
    path = write_rows(tmp_path / "p.jsonl", [{"source_line": 1, "program": "print(1)"}, row])
    with pytest.raises(InputError) as err:
        load_programs([path])
    assert err.value.line == 2 and err.value.field == field


def test_cli_counts_verified_disagreed_uncheckable(tmp_path):
    problems = write_rows(tmp_path / "in.jsonl", [{"question": EGGS, "answer": EGGS_ANSWER}])
    programs = write_rows(tmp_path / "programs.jsonl", [
        {"source_line": 1, "program": "eggs = 16 - 3 - 4\nprint(eggs * 2)"},
    ])
    wrong = write_rows(tmp_path / "wrong.jsonl", [
        # it solved the original, but only by luck: it does not follow the numbers
        {"source_line": 1,
         "program": "eggs = 16 - 3 - 4\nprice = 2\nprint(18 if eggs == 9 else eggs * price + 1)"},
    ])
    none = write_rows(tmp_path / "none.jsonl", [{"source_line": 1, "program": "print(18)"}])
    # it solved the original, but never finishes with other numbers: that contradicts nothing
    slow = write_rows(tmp_path / "slow.jsonl", [{
        "source_id": "in:1",
        "program": "eggs = 16 - 3 - 4\nprice = 2\nwhile eggs != 9:\n    pass\nprint(eggs * price)"}])
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    for files, verified, disagreed, uncheckable in [([programs], 4, 0, 0),
                                                    ([programs, wrong], 0, 4, 0),
                                                    ([none], 0, 0, 4),
                                                    ([slow], 0, 0, 4)]:
        args = ["perturb", str(problems), "-o", str(out), "--rejects", str(rej), "-n", "4",
                "--verify-timeout", "0.5"]
        for f in files:
            args += ["--verify-with", str(f)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert (f"{verified} verified, {disagreed} disagreed (rejected as program-disagrees), "
                f"{uncheckable} uncheckable") in result.output
        kept = out.read_text().splitlines()
        rejected = [json.loads(line) for line in rej.read_text().splitlines()]
        assert len(kept) == verified + uncheckable
        assert len(rejected) == disagreed
        assert all(r["reason"] == "program-disagrees" and "printed" in r["detail"]
                   for r in rejected)
        if disagreed == 4:
            assert "program-disagrees" in result.output  # the problem counts as rejected
            assert "fewer than asked" not in result.output  # not 'no more distinct draws'


def test_verify_with_tora_on_gsm8k(tmp_path):
    gsm8k = require_data("gsm8k/test.jsonl")
    tora = [require_data(f"tora/gsm8k-test.{m}.jsonl") for m in ("tora-code-34b", "tora-70b")]
    plain, checked = tmp_path / "plain.jsonl", tmp_path / "checked.jsonl"
    rej = tmp_path / "rej.jsonl"
    first = CliRunner().invoke(main, ["perturb", str(gsm8k), "-o", str(plain)])
    args = ["perturb", str(gsm8k), "-o", str(checked), "--rejects", str(rej)]
    second = CliRunner().invoke(main, args + sum((["--verify-with", str(t)] for t in tora), []))
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    print(second.output)
    written = len(plain.read_text().splitlines())
    line = next(x for x in second.output.splitlines() if x.startswith("checked with programs"))
    verified, disagreed, uncheckable = (int(w) for w in line.replace(",", " ").split()
                                        if w.isdigit())
    assert verified + disagreed + uncheckable == written  # the counts add up
    kept = [json.loads(x) for x in checked.read_text().splitlines()]
    assert len(kept) == verified + uncheckable
    assert verified > 500 and disagreed >= 1
    rejects = [json.loads(x) for x in rej.read_text().splitlines()]
    assert sum(r["reason"] == "program-disagrees" for r in rejects) == disagreed
    # checked independently: the tests' own substitution and runner agree on every kept one
    variants = [Variant(**{**r, "substitutions": tuple((s["old"], s["new"])
                                                       for s in r["substitutions"])})
                for r in kept]
    outputs = {name: {row["idx"]: row for row in map(json.loads, path.read_text().splitlines())}
               for name, path in zip(("tora-code-34b", "tora-70b"), tora)}
    check = cross_check(variants, outputs, timeout=2)
    assert len(check.pairs) > 500
    assert check.disagreeing == [], [p.variant.id for p in check.disagreeing]


def test_each_distinct_program_runs_once_in_order():
    """Two copies of a program that prints a fresh random number print the same one: it ran
    once; other programs keep their own results, in input order."""
    from mathgen.generator.verify import _run_distinct

    lucky = "import random\nprint(random.getrandbits(64))"
    codes = [lucky, "print(7)", lucky, "print(8)", "print(7)"]
    runs = _run_distinct(codes, timeout=5.0, workers=2)
    assert [r.status for r in runs] == ["ok"] * 5
    out = [r.stdout.strip() for r in runs]
    assert out[0] == out[2] and out[1] == out[4] == "7" and out[3] == "8"
    again = _run_distinct([lucky, lucky + "\n"], timeout=5.0, workers=1)
    assert again[0].stdout != again[1].stdout  # distinct text: run apart, two draws


@pytest.mark.parametrize("workers", [1, 2])
def test_verify_gives_the_same_bytes_for_any_worker_count(tmp_path, workers):
    problems = write_rows(tmp_path / "in.jsonl", [{"question": EGGS, "answer": EGGS_ANSWER}] * 3)
    programs = write_rows(tmp_path / "programs.jsonl", [
        {"source_line": line, "program": "eggs = 16 - 3 - 4\nprint(eggs * 2)"}
        for line in (1, 2, 3)])
    outputs = []
    for count in (1, workers):
        out, rej = tmp_path / f"out{count}.jsonl", tmp_path / f"rej{count}.jsonl"
        result = CliRunner().invoke(main, ["perturb", str(problems), "-o", str(out), "--rejects",
                                           str(rej), "-n", "3", "--workers", str(count),
                                           "--verify-with", str(programs)])
        assert result.exit_code == 0, result.output
        assert "9 verified" in result.output
        outputs.append(out.read_bytes() + rej.read_bytes())
    assert outputs[0] == outputs[1]
