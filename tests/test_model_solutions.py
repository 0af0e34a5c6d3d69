"""Solutions that end with an answer sentence, and files of model-written solutions."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from conftest import require_data, write_rows

from mathgen import perturb
from mathgen.errors import InputError
from mathgen.formats import load_problems
from mathgen.records import Problem, Rejection, Variant
from robustness.sets import read_set

QUESTION = "Tom has 3 apples and buys 4 more. How many apples does he have?"
STEP = "Tom has 3 + 4 = <<3+4=7>>7 apples."


def model_row(**solutions) -> dict:
    return {"question": QUESTION, "ground_truth": f"{STEP}\nA: 7",
            **{field: {"is_correct": ok, "solution": text}
               for field, (ok, text) in solutions.items()}}


@pytest.mark.parametrize("last_line, value", [
    ("#### 7", F(7)),
    ("A: 7", F(7)),
    ("A: -7", F(-7)),
    ("Answer: 1,200", F(1200)),
    ("The answer is 7.", F(7)),
    ("The final answer is $7", F(7)),
    ("So the answer is 2.5", F(5, 2)),
])
def test_a_last_line_stating_the_answer_stands_for_the_final_line(tmp_path, last_line, value):
    row = {"question": QUESTION, "answer": f"{STEP}\n{last_line}"}
    [problem] = load_problems(write_rows(tmp_path / "in.jsonl", [row]))
    assert isinstance(problem, Problem) and problem.final_answer == value
    assert problem.solution.splitlines()[-1].startswith("#### ")
    assert problem.solution.splitlines()[0] == STEP


@pytest.mark.parametrize("last_line", [
    "A: about 7",           # not a number alone
    "The answer is 7 or 8",  # two answers
    "A: 7\nHe is happy.",    # the answer is not the last line
])
def test_a_last_line_that_is_not_an_answer_alone_is_no_final_line(tmp_path, last_line):
    row = {"question": QUESTION, "answer": f"{STEP}\n{last_line}"}
    with pytest.raises(InputError, match="has no final '#### N' line"):
        list(load_problems(write_rows(tmp_path / "in.jsonl", [row])))


def test_each_correct_model_solution_is_a_problem_and_each_wrong_one_a_rejection(tmp_path):
    row = model_row(small_model=(False, "Tom has 3 * 4 = <<3*4=12>>12 apples.\nA: 12"),
                    large_model=(True, f"{STEP}\nA: 7"),
                    large_verifier=(True, "He buys 4, so 3 + 4 = <<3+4=7>>7\nA: 7"))
    results = list(load_problems(write_rows(tmp_path / "ms.jsonl", [row])))
    assert [(type(r).__name__, r.source_id) for r in results] == [
        ("Rejection", "ms:1:small_model"), ("Problem", "ms:1:large_model"),
        ("Problem", "ms:1:large_verifier")]
    assert results[0].reason == "incorrect-solution"
    assert all(r.format == "model-solutions" and r.final_answer == 7 and r.question == QUESTION
               for r in results[1:])
    assert results[2].solution.endswith("<<3+4=7>>7\n#### 7")
    # the two readings of one question both perturb, each under its own source id
    variants = [v for out in perturb(results[1:], strategy="similar", n=1, seed=0) for v in out]
    assert [type(v) for v in variants] == [Variant, Variant]
    assert [v.source_id for v in variants] == ["ms:1:large_model", "ms:1:large_verifier"]


def test_a_solution_marked_correct_whose_answer_differs_is_rejected_never_relabelled(tmp_path):
    row = model_row(model=(True, "Tom has 3 + 5 = <<3+5=8>>8 apples.\nA: 8"))
    [result] = load_problems(write_rows(tmp_path / "ms.jsonl", [row]))
    assert isinstance(result, Rejection) and result.reason == "label-mismatch"
    assert "8" in result.detail and "7" in result.detail


@pytest.mark.parametrize("row, field", [
    ({"question": QUESTION, "ground_truth": f"{STEP}\nA: 7"}, None),
    (model_row(model=(True, f"{STEP}\nHe is done.")), "model.solution"),
    ({**model_row(), "ground_truth": STEP, "m": {"is_correct": True, "solution": "A: 7"}},
     "ground_truth"),
])
def test_bad_model_solution_rows_name_line_and_field(tmp_path, row, field):
    path = write_rows(tmp_path / "ms.jsonl", [row])
    with pytest.raises(InputError) as info:
        list(load_problems(path))
    assert f"{path}:1" in str(info.value)
    if field:
        assert field in str(info.value)
    rejected = list(load_problems(path, skip_invalid=True))
    assert [r.reason for r in rejected] == ["invalid-input"]


def test_a_set_of_model_solutions_is_its_questions_and_ground_truths(tmp_path):
    rows = [model_row(model=(True, f"{STEP}\nA: 7")), model_row(model=(False, "A: 1"))]
    items, skipped = read_set("ms", write_rows(tmp_path / "ms.jsonl", rows))
    assert [(i.question, i.gold, i.format) for i in items] == [(QUESTION, "7", "model-solutions")] * 2
    assert skipped == []


@pytest.mark.slow
def test_gsm8k_model_solutions_load_with_every_solution_accounted_for():
    results = list(load_problems(require_data("gsm8k/model_solutions.jsonl")))
    problems = [r for r in results if isinstance(r, Problem)]
    wrong = [r for r in results if isinstance(r, Rejection)]
    assert len(problems) == 2001  # as the data README says: 2001 of the 5276 are correct
    assert len(results) == 5276 and {r.reason for r in wrong} == {"incorrect-solution"}
    assert all(p.solution.splitlines()[-1].startswith("#### ") for p in problems)
