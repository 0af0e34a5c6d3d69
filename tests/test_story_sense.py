"""Bounds of sense read from the words around a number (``generator.sense``), on problems
written here: scores, people, feats of the world, 'only', squares and sizes, each checked on
every variant of several seeds under every strategy."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from mathgen.generator import perturb_problem

from mathgen.records import Problem, Rejection

STRATEGIES = ["similar", "mmos-similar", "mmos-large", "gsm-hard", "digits:3"]
SEEDS = (0, 1, 2)


def problem(question: str, answer: str) -> Problem:
    final = Fraction(answer.rsplit("####", 1)[1].strip())
    return Problem("sense:1", 1, question, answer, final, "gsm8k")


# strategies whose numbers may all fall outside the bounds: no variant is then the answer
MAY_FIND_NONE = {"gsm-hard", "digits:3", "mmos-large"}


def every_variant(question: str, answer: str, strategy: str, n: int = 4) -> list:
    """The variants of several seeds; a strategy that draws near the original must find some,
    one that may not (gsm-hard) must say that no draw kept every constraint."""
    out = []
    for seed in SEEDS:
        got = perturb_problem(problem(question, answer), strategy, n=n, seed=seed)
        if isinstance(got, Rejection):
            assert strategy in MAY_FIND_NONE and got.reason in (
                "constraints-unsatisfied", "no-new-values"), got
        else:
            out += got
    assert out or strategy in MAY_FIND_NONE, f"no variant under {strategy}"
    return out


def value(variant, old: str) -> Fraction:
    """The number written ``old`` in the original, as the variant has it (the first one)."""
    for was, new in variant.substitutions:
        if was == old:
            return Fraction(new.replace(",", "").lstrip("$"))
    return Fraction(old.lstrip("$"))


def values(variant, old: str) -> list[Fraction]:
    return [Fraction(new.replace(",", "").lstrip("$")) for was, new in variant.substitutions
            if was == old]


def answer_of(variant) -> Fraction:
    return Fraction(variant.final_answer)


# (question, solution, numbers that are scores, the test's points as written or None (100))
SCORES = [
    ("Nina scored 72 on her first quiz and 88 on her second quiz. What score does she need on "
     "her third quiz to average 85 over the three quizzes?",
     "To average 85 she needs 85 * 3 = <<85*3=255>>255 points in all.\nShe has 72 + 88 = "
     "<<72+88=160>>160 points.\nShe needs 255 - 160 = <<255-160=95>>95 on the third quiz.\n"
     "#### 95", ["72", "88", "85"], None),
    ("Omar's average on four exams was 80. He got 70, 85 and 90 on the first three exams. What "
     "did he get on the fourth exam?",
     "The four exams total 80 * 4 = <<80*4=320>>320 points.\nThe first three add up to 70 + "
     "85 + 90 = <<70+85+90=245>>245.\nHe got 320 - 245 = <<320-245=75>>75 on the fourth exam."
     "\n#### 75", ["80", "70", "85", "90"], None),
    ("A quiz is worth 40 points. Lea scored 31 points on the quiz and Sam scored 6 points more "
     "than Lea. What was Sam's score?",
     "Sam scored 31 + 6 = <<31+6=37>>37 points.\n#### 37", ["31"], "40"),
    ("Ivan needs an average of 90 on five tests to earn an A. On the last three tests he got "
     "84, 92 and 95. What must the first two tests average?",
     "Five tests at 90 make 90 * 5 = <<90*5=450>>450 points.\nThe last three give 84 + 92 + 95"
     " = <<84+92+95=271>>271 points.\nThe first two give 450 - 271 = <<450-271=179>>179 points."
     "\nSo they average 179 / 2 = <<179/2=89.5>>89.5.\n#### 89.5", ["90", "84", "92", "95"],
     None),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, scores, scale", SCORES)
def test_a_score_and_the_score_asked_for_stay_within_the_tests_points(
        question, answer, scores, scale, strategy):
    for variant in every_variant(question, answer, strategy):
        most = value(variant, scale) if scale else 100
        for score in scores:
            assert 0 <= value(variant, score) <= most, variant.question
        assert 0 <= answer_of(variant) <= most, (variant.question, variant.final_answer)


# (question, solution, {number: (lowest, highest)}, the answer's (lowest, highest))
PEOPLE = [
    ("Lily is 7 years old. Her mother is 4 times as old as Lily. How old will her mother be "
     "in 5 years?", "Her mother is 7 * 4 = <<7*4=28>>28 years old.\nIn 5 years she will be "
     "28 + 5 = <<28+5=33>>33 years old.\n#### 33", {"7": (1, 12)}, (18, 100)),
    ("A fortune game says that a person marries at the age given by the number of letters of "
     "their name plus three times their age. Kira is 8 years old and her name has 4 letters. "
     "At what age does the game say Kira marries?", "Three times her age is 3 * 8 = "
     "<<3*8=24>>24.\nShe marries at 24 + 4 = <<24+4=28>>28.\n#### 28", {"8": (1, 12)},
     (18, 100)),
    ("Theo is an 8-year-old boy who is 50 inches tall. He grows 2 inches each year. How tall "
     "will he be in 3 years?", "He grows 2 * 3 = <<2*3=6>>6 inches.\nHe will be 50 + 6 = "
     "<<50+6=56>>56 inches tall.\n#### 56", {"8": (1, 12), "50": (36, 68)}, None),
    ("Rosa weighs 160 pounds. She loses 3 pounds a week on her diet. How much does she weigh "
     "after 8 weeks?", "She loses 3 * 8 = <<3*8=24>>24 pounds.\nShe weighs 160 - 24 = "
     "<<160-24=136>>136 pounds.\n#### 136", {"160": (90, 600)}, (30, 600)),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, bounds, asked", PEOPLE)
def test_ages_heights_and_weights_of_people_keep_to_their_stage_of_life(
        question, answer, bounds, asked, strategy):
    for variant in every_variant(question, answer, strategy):
        for number, (low, high) in bounds.items():
            assert low <= value(variant, number) <= high, variant.question
        if asked:
            assert asked[0] <= answer_of(variant) <= asked[1], (variant.question,
                                                                 variant.final_answer)


FEATS = [
    ("A redwood tree is 300 feet tall. A pine next to it is 120 feet shorter. How tall is "
     "the pine?", "The pine is 300 - 120 = <<300-120=180>>180 feet tall.\n#### 180", "300",
     380),
    # beyond any tree already: it may not grow, and the original stays legal
    ("The giant tree in the story is 1000 feet tall. A vine has climbed 350 feet of it. How "
     "many feet are left to climb?", "There are 1000 - 350 = <<1000-350=650>>650 feet left.\n"
     "#### 650", "1000", 1000),
    ("Dana is a basketball player averaging 24 points a game. How many points does she score "
     "in a season of 20 games?", "She scores 24 * 20 = <<24*20=480>>480 points.\n#### 480",
     "24", 50),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, number, most", FEATS)
def test_a_feat_stays_within_the_worlds_or_the_originals(question, answer, number, most,
                                                         strategy):
    for variant in every_variant(question, answer, strategy):
        assert value(variant, number) <= most, variant.question


ONLY = [
    ("Mr. Hale usually teaches 24 students a year. In his first year he only taught 9 "
     "students. How many more students does he teach in a usual year than in his first year?",
     "He teaches 24 - 9 = <<24-9=15>>15 more students.\n#### 15", "24", "9"),
    ("Ana planted 40 tulip bulbs, but only 28 bulbs came up in spring. Each bulb that came up "
     "gave 3 flowers. How many flowers did she get?", "She got 28 * 3 = <<28*3=84>>84 flowers."
     "\n#### 84", "40", "28"),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, reference, only", ONLY)
def test_only_so_many_stays_below_what_it_is_set_against(question, answer, reference, only,
                                                         strategy):
    for variant in every_variant(question, answer, strategy):
        assert value(variant, only) < value(variant, reference), variant.question


PARTS_OF_EVERY = [
    ("At a school, 12 of every 60 pupils walk to school. If the same share of the 250 pupils of "
     "another school walk, how many of them walk?", "A share of 12/60 = <<12/60=0.2>>0.2 of the "
     "pupils walk.\nThat is 20% of them, so 250 * 20% = <<250*20*.01=50>>50 pupils walk.\n#### 50",
     "12", "60"),
    ("In a town, 3 out of 8 houses have a dog. There are 400 houses. How many houses have no "
     "dog?", "There are 400 / 8 = <<400/8=50>>50 groups of 8 houses.\nIn them, 50 * 3 = "
     "<<50*3=150>>150 houses have a dog.\nSo 400 - 150 = <<400-150=250>>250 houses have none."
     "\n#### 250", "3", "8"),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, part, every", PARTS_OF_EVERY)
def test_a_part_of_every_group_stays_within_the_group(question, answer, part, every, strategy):
    for variant in every_variant(question, answer, strategy):
        assert value(variant, part) <= value(variant, every), variant.question


SQUARES = [
    ("Zoe cuts square tiles that are 6 inches by 6 inches. How many square inches do 10 tiles "
     "cover?", "Each tile covers 6 * 6 = <<6*6=36>>36 square inches.\n10 tiles cover 36 * 10 = "
     "<<36*10=360>>360 square inches.\n#### 360", "6"),
    ("A square garden is 12 meters by 12 meters. A path takes 30 square meters of it. How many "
     "square meters are left for plants?", "The garden is 12 * 12 = <<12*12=144>>144 square "
     "meters.\nThere are 144 - 30 = <<144-30=114>>114 square meters left.\n#### 114", "12"),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, side", SQUARES)
def test_a_squares_sides_stay_equal(question, answer, side, strategy):
    for variant in every_variant(question, answer, strategy):
        sides = values(variant, side)
        assert len(set(sides)) <= 1 and len(sides) in (0, 2), variant.question


SIZES = [
    ("A cafe sells small coffees for $3 and large coffees for $5. Ben buys 4 small coffees "
     "and 2 large coffees. How much does he spend?", "Small ones cost 4 * 3 = $<<4*3=12>>12.\n"
     "Large ones cost 2 * 5 = $<<2*5=10>>10.\nHe spends 12 + 10 = $<<12+10=22>>22.\n#### 22",
     "$5", "$3"),
    ("Juice comes in $2 for a small cup or $4 for a large cup. A team buys 6 large cups and 5 "
     "small cups. What do they pay?", "Large cups cost 6 * 4 = $<<6*4=24>>24.\nSmall cups cost "
     "5 * 2 = $<<5*2=10>>10.\nThey pay 24 + 10 = $<<24+10=34>>34.\n#### 34", "$4", "$2"),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, large, small", SIZES)
def test_a_larger_size_costs_more(question, answer, large, small, strategy):
    for variant in every_variant(question, answer, strategy):
        assert value(variant, large) > value(variant, small), variant.question


def test_a_bound_the_original_breaks_between_two_numbers_is_dropped():
    # 'only' set against a smaller count: the original breaks the order, so nothing binds it
    question = ("Pia picked 12 apples on Monday. On Tuesday she only picked 30 apples, fewer "
                "than she hoped. How many apples did she pick?")
    answer = "She picked 12 + 30 = <<12+30=42>>42 apples.\n#### 42"
    found = every_variant(question, answer, "similar")
    assert any(value(v, "30") >= value(v, "12") for v in found)


def test_mmos_large_draws_a_bounded_score_within_its_bound_rather_than_beyond_it():
    question = ("Kai got a 70 on his first quiz. After his second quiz his average was 75. "
                "What did he get on the second quiz?")
    answer = ("Both quizzes add up to 75 * 2 = <<75*2=150>>150 points.\nHe got 150 - 70 = "
              "<<150-70=80>>80 on the second quiz.\n#### 80")
    found = every_variant(question, answer, "mmos-large")
    assert found
    for variant in found:
        assert 0 <= value(variant, "70") <= 100 and 0 <= value(variant, "75") <= 100
        assert 0 <= answer_of(variant) <= 100, variant.question
    # drawn within the bound, not only kept: some variant moves a score
    assert any(value(v, "70") != 70 or value(v, "75") != 75 for v in found)


def test_unconstrained_turns_the_bounds_of_sense_off():
    question, answer = SCORES[0][:2]
    found = perturb_problem(problem(question, answer), "mmos-large", n=4, seed=0,
                            constrained=False)
    assert any(answer_of(v) > 100 for v in found)


DENOMINATIONS = [
    ("Ravi has 6 five-dollar bills and 3 $20 bills. He spends $45. How much money does he have "
     "left?", "His five-dollar bills make 6 * 5 = $<<6*5=30>>30.\nHis $20 bills make 3 * 20 = "
     "$<<3*20=60>>60.\nHe has 30 + 60 = $<<30+60=90>>90.\nHe has 90 - 45 = $<<90-45=45>>45 left."
     "\n#### 45", ["five-dollar bills", "$20 bills"]),
    ("A jar holds 40 10-cent coins and 7 loose buttons. How many cents are in the jar?",
     "The coins make 40 * 10 = <<40*10=400>>400 cents.\n#### 400", ["10-cent coins"]),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, kept", DENOMINATIONS)
def test_the_value_of_a_bill_or_a_coin_stays(question, answer, kept, strategy):
    out = every_variant(question, answer, strategy)
    for variant in out:
        for words in kept:
            assert words in variant.question, variant.question


def numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_share_of_what_is_counted_stays_at_most_the_whole(strategy):
    # 45 seeds sprout of the 60 seeds planted: the sprouted ones stay at most the planted
    question = ("Ben plants 60 seeds and 45 seeds sprout. What percent of the seeds sprout?")
    answer = "The share is 45/60 = <<45/60=0.75>>0.75.\nThat is 0.75*100 = <<0.75*100=75>>75 " \
             "percent.\n#### 75"
    for v in every_variant(question, answer, strategy):
        planted, sprouted = numbers(v.question)[:2]
        assert sprouted <= planted, v.question


def test_an_average_divides_by_the_count_of_the_terms_it_sums():
    # the 3 of '/ 3' is no number of the question: it counts the three terms of the sum
    p = problem("Ann reads 12 pages on Monday, 15 on Tuesday and 21 on Wednesday. What is "
                "the average number of pages she reads a day?",
                "She reads 12 + 15 + 21 = <<12+15+21=48>>48 pages.\n"
                "The average is 48 / 3 = <<48/3=16>>16 pages a day.\n#### 16")
    out = perturb_problem(p, "similar", n=4, seed=0)
    assert isinstance(out, list) and out, out
    for v in out:
        a, b, c = numbers(v.question)
        assert Fraction(v.final_answer) == Fraction(a + b + c, 3)
        assert f"/ 3 = <<{a + b + c}/3=" in v.answer
