"""The last check of a variant's worked solution as a reader sees it: the calculations the
prose writes stay true, and a number no slot rewrites keeps the value it stands for."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from checks import annotation_errors, exact

from mathgen.generator.perturb import perturb_problem
from mathgen.generator.selfcheck import ProseCheck, truths
from mathgen.records import Problem


def problem(question: str, solution: str, answer) -> Problem:
    return Problem("t:1", 1, question, solution, F(answer), "gsm8k")


def variants(p: Problem, n: int = 6, strategy: str = "similar"):
    out = perturb_problem(p, strategy, n=n, seed=0)
    assert isinstance(out, list) and out, out
    for v in out:
        assert annotation_errors(v.answer) == []
    return out


@pytest.mark.parametrize("text, expected", [
    ("So 3 + 4 = 7 apples.", [True]),
    ("He pays 12/20 x 100% = 60% of it.", [True]),
    ("Warm water mile = 2+2(16)=34 minutes", [True]),
    ("It costs $1,200 / 4 = $300 each.", [True]),
    ("They make 1170 /3 = <<1170/5=234>>234 pies.", [False]),
    ("She makes -27 * 2 = $-54.", [True]),
    ("He has 1 1/2 * 2 = 3 cups.", [True]),
    ("A chain: 4 * 60 / 5 = 4 * 12 = 48 lines.", [True]),
    ("Rounded: 10 / 3 = 3.33 each.", [False]),
    ("x+x+30=110 so 2*x=80", []),          # an equation in the unknown is not a calculation
    ("At 1:30 she ate 2/3 of them.", []),  # a time and a fraction are no calculations
    ("He has 12, 3 + 4 = 7 more.", [True]),  # a comma that separates is no thousands comma
])
def test_written_calculations_are_read_with_their_truth(text, expected):
    assert [t for t in truths(text + "\n#### 1") if t is not None] == expected


def test_a_variant_keeps_the_truth_of_each_calculation():
    check = ProseCheck("He has 3 + 4 = <<3+4=7>>7 and 10 / 3 = 3.33 each.\n#### 7")
    assert check.keeps("He has 5 + 4 = <<5+4=9>>9 and 10 / 3 = 3.33 each.\n#### 9")
    assert not check.keeps("He has 5 + 4 = <<5+4=9>>7 and 10 / 3 = 3.33 each.\n#### 9")
    assert ProseCheck("No calculation here: <<3+4=7>>7\n#### 7").needed is False


# Each case is a number the reader does not rewrite, or a result shown in a way it did not
# read; each test fails when the last check is switched off.

def test_a_number_glued_to_a_multiplication_sign_keeps_its_value():
    p = problem("Ann borrowed $3000 and must pay back 20% more. How much more does she pay back?",
                "Ann pays an additional $3000x 20/100 =$<<3000*20/100=600>>600.\n#### 600", 600)
    for v in variants(p):
        borrowed = re.search(r"borrowed \$(\d+)", v.question).group(1)
        written = re.search(r"\$(\d+)x (\d+)/100 =\$<<[^>]*>>(\d+)", v.answer)
        assert written.group(1) == borrowed
        assert F(int(written.group(1)) * int(written.group(2)), 100) == int(written.group(3))


def test_a_divisor_written_apart_from_its_annotation_is_checked():
    p = problem("A pie needs 3 apples. Ann has 4 bags of 6 apples. How many pies can she make?",
                "Ann has 4 * 6 = <<4*6=24>>24 apples.\n"
                "She can make 24 /3 = <<24/3=8>>8 pies.\n#### 8", 8)
    for v in variants(p):
        a, b, shown = re.search(r"make (\d+) /(\d+) = <<[^>]*>>(\d+)", v.answer).groups()
        assert F(int(a), int(b)) == int(shown)


def test_a_place_shown_after_its_calculation_is_rewritten_with_its_suffix():
    p = problem("A runner starts in 1st place, falls back 4 places, then gains 2 places. "
                "In what place does she finish?",
                "She falls to 1+4=<<1+4=5>>5th place.\n"
                "Then she moves to 5-2=<<5-2=3>>3rd place.\n#### 3", 3)
    suffix = {1: "st", 2: "nd", 3: "rd"}
    for v in variants(p):
        for expr, shown, ending in re.findall(r"<<([^=]*)=[^>]*>>(\d+)(st|nd|rd|th) place",
                                              v.answer):
            n = int(shown)
            assert exact(expr) == n >= 1
            assert ending == ("th" if n % 100 in (11, 12, 13) else suffix.get(n % 10, "th"))


def test_a_result_glued_to_its_unit_is_rewritten():
    p = problem("A file is 3000kb. Each Mb is 1000kb. How many Mb is the file?",
                "The file is 3000/1000=<<3000/1000=3>>3Mb.\n#### 3", 3)
    for v in variants(p, n=4):
        expr, shown = re.search(r"<<([^=]*)=[^>]*>>(\d+)Mb", v.answer).groups()
        assert exact(expr) == int(shown)


def test_a_question_number_written_as_an_ordinal_keeps_its_value():
    p = problem("Sam started saving when he was 6 years old, putting away $2 each year. "
                "How much has he saved by his 9th birthday?",
                "From his 6th to his 9th birthday, 9 - 6 = <<9-6=3>>3 years pass.\n"
                "He saved 3 * 2 = $<<3*2=6>>6.\n#### 6", 6)
    for v in variants(p, n=4):
        age = re.search(r"he was (\d+) years", v.question).group(1)
        assert re.search(r"From his (\d+)th", v.answer).group(1) == age
        assert f"- {age} = " in v.answer


@pytest.mark.parametrize("strategy", ["similar", "mmos-large", "gsm-hard"])
def test_every_strategy_is_checked(strategy):
    p = problem("A pie needs 3 apples. Ann has 4 bags of 6 apples. How many pies can she make?",
                "Ann has 4 * 6 = <<4*6=24>>24 apples.\n"
                "She can make 24 /3 = <<24/3=8>>8 pies.\n#### 8", 8)
    for v in variants(p, n=3, strategy=strategy):
        a, b, shown = re.search(r"make (\d+) /(\d+) = <<[^>]*>>(\d+)", v.answer).groups()
        assert F(int(a), int(b)) == int(shown)


def test_a_count_written_as_a_word_keeps_the_question_number_it_repeats():
    p = problem("A match has 4 halves of 20 minutes each. How long is the match?",
                "The four halves last 20 x 4 = <<20*4=80>>80 minutes.\n#### 80", 80)
    for v in variants(p, n=4):
        assert "has 4 halves" in v.question  # 'The four halves' is not rewritten


def test_a_result_written_as_a_word_keeps_its_value():
    p = problem("Ten boxes hold 20 pens each. Tom buys 40 pens and shares them equally "
                "among the boxes. How many pens are in 3 boxes now?",
                "Each box gets 40/10 = <<40/10=4>>4 new pens.\n"
                "So 3 boxes get 3 * 4 = <<3*4=12>>12 new pens.\n"
                "Since each box had 20 pens before Tom added four into each box, 3 boxes had "
                "3 * 20 = <<3*20=60>>60 pens.\n"
                "There are 60 + 12 = <<60+12=72>>72 pens in 3 boxes.\n#### 72", 72)
    for v in variants(p, n=4):
        first = re.search(r"<<([^=]*)=", v.answer).group(1)
        assert exact(first) == 4  # the 'four' that no slot rewrites stays true


def test_a_number_word_before_a_calculation_is_not_a_part_of_it():
    p = problem("In a game Ann moves 8 spaces, then 2 spaces, then back 5 spaces, then 6 "
                "spaces. How far has she moved?",
                "In the first three turns and the last, she moved 8 + 2 - 5 + 6 = "
                "<<8+2-5+6=11>>11 spaces.\n#### 11", 11)
    out = perturb_problem(p, "similar", n=4, seed=0)
    for v in out if isinstance(out, list) else []:
        assert "first three turns" in v.answer  # never the '2 - 5 + 6' written as a word


def test_an_equation_in_the_socratic_layout_is_read_after_its_marker():
    p = problem("Gretchen has 110 coins. There are 30 more gold coins than silver coins. "
                "How many gold coins does Gretchen have?",
                "Define a variable ** Let x be the number of silver coins\n"
                "Write an equation ** x+x+30=110\n"
                "Simplify ** 2*x=80\n"
                "Simplify ** x=<<40=40>>40\n"
                "How many gold coins does Gretchen have? ** 40+30=<<40+30=70>>70\n#### 70", 70)
    for v in variants(p, n=3):
        total, more = map(int, re.search(r"has (\d+) coins. There are (\d+)", v.question).groups())
        assert f"x+x+{more}={total}" in v.answer and f"2*x={total - more}" in v.answer
