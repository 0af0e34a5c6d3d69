"""mathgen.rewards on planted completions: right, wrong, right with code, and code that escapes
the sandbox, loops or fakes its output (every one 0, none hangs)."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathgen.errors import MathgenError
from mathgen.rewards import (answer_reward, code_reward, completion_text, correctness_reward,
                             make_code_reward)

linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="mathgen.sandbox runs programs on Linux only")


def tora(program: str, shown: str, closing: str) -> str:
    """A tool-integrated completion: a program, the output the model wrote, a closing line."""
    return f"```python\n{program}\n```\n```output\n{shown}\n```\n{closing}"


# (completion, gold, answer_reward)
ANSWERS = [
    ("She bakes 3 * 9 = 27 pies.\nThe answer is 27.", "27", 1.0),
    ("She bakes 3 * 9 = 27 pies.\nThe answer is 26.", "27", 0.0),
    ("So the total is $\\boxed{1,250}$ dollars.", "1250", 1.0),
    ("The final answer is $0.75", "3/4", 1.0),
    ("The answer is 40%.", "0.4", 1.0),  # a percent matches its value / 100
    ("The answer is 2.5 hours.", "5/2", 1.0),
    ("The answer is 2.49.", "5/2", 0.0),  # exact: no tolerance
    ("I cannot tell.", "8", 0.0),
    ("", "8", 0.0),
    ("#### 64", "64", 1.0),
]


@pytest.mark.parametrize("completion, gold, reward", ANSWERS)
def test_answer_reward_on_planted_texts(completion, gold, reward):
    assert answer_reward([completion], final_answer=[gold]) == [reward]


def test_chat_completions_and_gsm8k_answers():
    completions = [[{"role": "assistant", "content": "Half of 14 is 7.\nThe answer is 7."}],
                   [{"role": "assistant", "content": [{"type": "text", "text": "\\boxed{8}"}]}],
                   [{"role": "assistant", "content": "The answer is 9."}]]
    gold = ["Lee has 14 / 2 = <<14/2=7>>7 left.\n#### 7", "#### 8", "#### 10"]
    # TRL passes every column of the set, the prompt included
    assert answer_reward(completions, answer=gold, prompt=["q"] * 3) == [1.0, 1.0, 0.0]


def test_final_answer_wins_over_the_worked_answer():
    # a variant row carries both; the exact final_answer is the gold, not the solution text
    assert answer_reward(["The answer is 12."], final_answer=["12"],
                         answer=["... #### 13"]) == [1.0]


@pytest.mark.parametrize("columns, match", [
    ({"question": ["q"]}, "no gold answer column"),
    ({"final_answer": ["1", "2"]}, "1 completions but 2 values"),
])
def test_bad_columns_raise_a_mathgen_error(columns, match):
    with pytest.raises(MathgenError, match=match):
        answer_reward(["The answer is 1."], **columns)


@pytest.mark.parametrize("completion", [3, [["a"]]])
def test_a_completion_that_is_neither_text_nor_messages(completion):
    with pytest.raises(MathgenError, match="completion"):
        completion_text(completion)


# (completion, code_reward) with gold 18; each program that tries to leave the sandbox also
# prints the right answer, so only the sandbox's refusal makes its reward 0
CODE = [
    (tora("print((16 - 3 - 4) * 2)", "18", "So $\\boxed{18}$."),
     1.0),
    (tora("eggs = 16 - 3 - 4\nprint(eggs * 2)", "18", "She makes 18 dollars."), 1.0),
    (tora("print(9 * 2)", "18", ""), 1.0),  # no statement: the program's output is the answer
    (tora("print(9 * 3)", "27", "So $\\boxed{27}$."), 0.0),  # wrong
    (tora("print(9 * 3)", "18", "So $\\boxed{18}$."), 0.0),  # a made-up output block
    (tora("print(9 * 2)", "18", "So $\\boxed{19}$."), 0.0),  # states another answer
    (tora("print(18 / 0)", "18", "So $\\boxed{18}$."), 0.0),  # the program fails
    (tora("import os\nos.system('echo 18')\nprint(18)", "18", "$\\boxed{18}$"), 0.0),
    (tora("import subprocess\nprint(subprocess.check_output(['echo', '18']).decode())", "18",
          "$\\boxed{18}$"), 0.0),
    (tora("import socket\nsocket.create_connection(('1.1.1.1', 80))\nprint(18)", "18",
          "$\\boxed{18}$"), 0.0),
    (tora("open('/tmp/rewards-escaped', 'w').write('x')\nprint(18)", "18", "$\\boxed{18}$"),
     0.0),
    (tora("import os\nos.kill(os.getppid(), 9)\nprint(18)", "18", "$\\boxed{18}$"), 0.0),
    (tora("while True:\n    pass\nprint(18)", "18", "$\\boxed{18}$"), 0.0),  # loops
    (tora("x = 10 ** 10 ** 9\nprint(18)", "18", "$\\boxed{18}$"), 0.0),  # a C call that loops
    ("No program here. The answer is 18.", 0.0),
]


@linux
def test_code_reward_on_planted_completions():
    reward = make_code_reward(timeout=1.0)
    started = time.monotonic()
    got = reward([c for c, _ in CODE], final_answer=["18"] * len(CODE))
    assert got == [r for _, r in CODE]
    assert time.monotonic() - started < 30  # the loops were stopped at their timeout
    assert code_reward.__name__ == "code_reward"  # TRL logs a reward by its __name__


@linux
def test_correctness_reward_runs_code_where_there_is_code():
    completions = ["The answer is 18.",  # no program: the stated answer
                   "The answer is 17.",
                   tora("import os\nos.system('true')\nprint(18)", "18", "$\\boxed{18}$"),
                   [{"role": "assistant", "content": tora("print(3 * 6)", "18", "\\boxed{18}")}]]
    assert correctness_reward(completions, final_answer=["18"] * 4) == [1.0, 0.0, 0.0, 1.0]
    # the text alone would have rewarded the program that the sandbox refused
    assert answer_reward(completions, final_answer=["18"] * 4)[2] == 1.0


@settings(max_examples=60, deadline=None)
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=50),
       st.sampled_from(["The answer is {}.", "So $\\boxed{{{}}}$.", "#### {}"]))
def test_the_true_answer_scores_one_and_any_other_zero(value: Fraction, form: str):
    written = str(value.numerator) if value.denominator == 1 else \
        f"{value.numerator}/{value.denominator}"
    gold = [str(value)]
    assert answer_reward([form.format(written)], final_answer=gold) == [1.0]
    assert answer_reward([form.format(f"{value.numerator + 1}/{value.denominator}")],
                         final_answer=gold) == [0.0]


def test_no_torch_or_trl_at_import():
    import subprocess

    code = "import sys, mathgen.rewards; print('torch' in sys.modules, 'trl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
