"""--strategy distractor: one added sentence with a number; the answer stays."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mathgen.cli import main
from mathgen.formats import load_problems
from mathgen.generator.distractors import add
from mathgen.generator.run import example_problems
from mathgen.numbers import find_mentions
from mathgen.records import Problem

PROBLEMS = [p for p in load_problems(example_problems()) if isinstance(p, Problem)]


def test_one_sentence_is_added_before_the_question_and_marked():
    for problem in PROBLEMS:
        out = add(problem, 3, seed=1)
        assert len(out) == 3 and len({v.question for v in out}) == 3
        for v in out:
            sentence, start = v.distractor
            assert v.question == problem.question[:start] + sentence + " " + \
                problem.question[start:]
            assert v.question.rstrip().endswith(problem.question.rstrip()[-20:])
            assert v.answer == problem.solution and v.substitutions == ()
            assert v.final_answer == v.original_final_answer
            new = [m.value for m in find_mentions(sentence) if m.kind == "digits"]
            old = {m.value for m in find_mentions(problem.question + problem.solution)}
            assert len(new) == 1 and new[0] not in old
            assert v.to_json()["distractor"] == {"sentence": sentence, "start": start}


def test_same_seed_same_sentences():
    first = [v.to_json() for v in add(PROBLEMS[0], 4, seed=9)]
    assert first == [v.to_json() for v in add(PROBLEMS[0], 4, seed=9)]
    assert first != [v.to_json() for v in add(PROBLEMS[0], 4, seed=10)]


def test_a_single_sentence_problem_is_rejected_with_a_reason():
    one = Problem("x:1", 1, "How many is 3 plus 4?", "3 + 4 = <<3+4=7>>7\n#### 7", 7, "gsm8k")
    rejection = add(one, 1, 0)
    assert rejection.reason == "no-context"


def test_cli_adds_distractors_to_inputs_and_templates(tmp_path):
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(main, ["perturb", str(example_problems()), "--strategy",
                                       "distractor", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(PROBLEMS) and all("distractor" in r for r in rows)
    result = CliRunner().invoke(main, ["perturb", "--tag", "money", "--strategy", "distractor",
                                       "-o", str(out)])
    assert result.exit_code == 0 and all(
        json.loads(line)["distractor"]["sentence"] in json.loads(line)["question"]
        for line in out.read_text().splitlines())
