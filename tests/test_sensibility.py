"""Sensibility constraints read from the structure of a story, on problems written here: the
calendar and the clock bound what falls within one period, under every strategy."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from mathgen.generator import perturb_problem
from mathgen.generator.units import calendar_bound

from mathgen.records import Problem, Rejection

STRATEGIES = ["similar", "mmos-similar", "mmos-large", "gsm-hard", "digits:7"]


def problem(question: str, answer: str) -> Problem:
    final = Fraction(answer.rsplit("####", 1)[1].strip())
    return Problem("t:1", 1, question, answer, final, "gsm8k")


def variants(p: Problem, strategy: str, n: int = 4) -> list:
    out = perturb_problem(p, strategy, n=n, seed=0)
    assert not isinstance(out, Rejection), out
    return out


def new_values(variant, old: str) -> list[Fraction]:
    return [Fraction(new.replace(",", "").lstrip("$")) for was, new in variant.substitutions
            if was == old]


@pytest.mark.parametrize("text, bound", [
    ("Ivo naps 35 minutes a day", 1440),
    ("she spends 50 minutes each morning on it", 1440),
    ("Lena sews 3 days in the month", 31),
    ("they work an 8 hour day", 24),
    ("a 4-day work week", 7),
    ("Pim reads 2 hours on Sunday", 24),
    ("he runs 15 hours every week", 168),
    ("the shop opens 9 months of the year", 12),
    ("we swim 25 minutes daily", 1440),
    ("3 weeks in a month", 5),
    ("Ada walks 5 hours over 3 weeks", None),  # three periods bound nothing
    ("for 40 minutes at 4 miles per hour", None),  # a speed, not minutes of an hour
    ("Noor waits 20 minutes. The next day she", None),  # another sentence
    ("12 days, 3 times a week", None),  # another number between
])
def test_calendar_bound_reads_the_one_period_a_number_falls_within(text, bound):
    number = re.search(r"\d+", text)
    assert calendar_bound(text, number.end()) == bound


CLOCKED = [
    ("Mara practices the piano for 45 minutes a day. How many minutes does she practice in "
     "6 days?", "She practices 45 * 6 = <<45*6=270>>270 minutes.\n#### 270", "45", 1440),
    ("Ravi jogs 3 hours on Saturday and 2 hours on Sunday. How many hours does he jog in 4 "
     "weekends?", "Each weekend he jogs 3 + 2 = <<3+2=5>>5 hours.\nIn 4 weekends he jogs 5 * 4 "
     "= <<5*4=20>>20 hours.\n#### 20", "3", 24),
    ("A bakery is open 9 months of the year and sells 120 pies each month it is open. How "
     "many pies does it sell in a year?", "It sells 9 * 120 = <<9*120=1080>>1080 pies.\n"
     "#### 1080", "9", 12),
    ("Juno paints 4 days in the month and earns $75 a day. How much does she earn in 3 "
     "months?", "In a month she earns 4 * 75 = $<<4*75=300>>300.\nIn 3 months she earns "
     "300 * 3 = $<<300*3=900>>900.\n#### 900", "4", 31),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, number, bound", CLOCKED)
def test_a_number_within_one_period_stays_within_it_under_every_strategy(
        question, answer, number, bound, strategy):
    for variant in variants(problem(question, answer), strategy):
        assert all(value <= bound for value in new_values(variant, number)), variant.question


KINDS = [
    ("A baker makes 3 kinds of cookies and bakes 24 of each kind. How many cookies does she "
     "bake?", "She bakes 3 * 24 = <<3*24=72>>72 cookies.\n#### 72", "3", 20),
    ("The league has 6 teams and each team has 11 players. How many players are in the "
     "league?", "There are 6 * 11 = <<6*11=66>>66 players.\n#### 66", "6", 20),
    ("An ice cream stand sells 4 different flavors. It makes 15 tubs of each flavor a week. "
     "How many tubs does it make in 2 weeks?", "It makes 4 * 15 = <<4*15=60>>60 tubs a week.\n"
     "In 2 weeks it makes 60 * 2 = <<60*2=120>>120 tubs.\n#### 120", "4", 20),
    ("A garden has 30 varieties of roses with 12 bushes of each. How many bushes are there?",
     "There are 30 * 12 = <<30*12=360>>360 bushes.\n#### 360", "30", 60),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("question, answer, number, bound", KINDS)
def test_a_count_of_kinds_stays_small_under_every_strategy(question, answer, number, bound,
                                                           strategy):
    for variant in variants(problem(question, answer), strategy):
        assert all(value <= bound for value in new_values(variant, number)), variant.question


NAMED_GROUPS = [
    ("A class of 28 children is split into two equal groups of girls and boys. How many "
     "girls are there?", "There are 28 / 2 = <<28/2=14>>14 girls.\n#### 14", "two"),
    ("A shop stocks 3 colors of yarn: red, blue and green, with 40 balls of each. How many "
     "balls does it stock?", "It stocks 3 * 40 = <<3*40=120>>120 balls.\n#### 120", "3"),
    ("Lucy bakes 2 kinds of pie, apple or cherry, and makes 9 of each kind. How many pies "
     "does she make?", "She makes 2 * 9 = <<2*9=18>>18 pies.\n#### 18", "2"),
]


@pytest.mark.parametrize("strategy", ["similar", "mmos-similar", "digits:2"])
@pytest.mark.parametrize("question, answer, number", NAMED_GROUPS)
def test_a_count_of_the_kinds_a_text_names_keeps_its_value(question, answer, number,
                                                           strategy):
    for variant in variants(problem(question, answer), strategy):
        assert new_values(variant, number) == [], variant.question


def value_of(variant, old: str) -> Fraction:
    """The number written ``old`` in the original, as the variant has it."""
    return next(iter(new_values(variant, old)), Fraction(old))


TAKEN_AWAY = [
    ("Mia had 42 stickers. She gave 35 stickers to her brother and then bought 50 more. How "
     "many stickers does she have now?", "She has 42 - 35 + 50 = <<42-35+50=57>>57 stickers."
     "\n#### 57", "42", "35"),
    ("A jar held 64 marbles. Theo took out 27 marbles, and later his sister put in 45 "
     "marbles. How many marbles are in the jar?", "There are 64 - 27 + 45 = <<64-27+45=82>>82 "
     "marbles.\n#### 82", "64", "27"),
    ("A tank had 80 liters of water. 55 liters leaked out, then 70 liters were poured in and "
     "the tank was shared equally by 5 horses. How many liters does each horse get?",
     "The tank has 80 - 55 + 70 = <<80-55+70=95>>95 liters.\nEach horse gets 95 / 5 = "
     "<<95/5=19>>19 liters.\n#### 19", "80", "55"),
]


@pytest.mark.parametrize("strategy", ["similar", "mmos-large"])
@pytest.mark.parametrize("question, answer, had, taken", TAKEN_AWAY)
def test_what_is_taken_away_on_the_way_stays_at_most_what_there_was(question, answer, had,
                                                                    taken, strategy):
    for variant in variants(problem(question, answer), strategy, n=20):
        assert value_of(variant, had) >= value_of(variant, taken), variant.question


RATE_GROUPS = [
    # the herd is worked out and asked for
    ("On a farm, every 6 cows produce 108 liters of milk a week. The cows produced 2160 "
     "liters in 5 weeks. How many cows are on the farm?", "Each cow produces 108 / 6 = "
     "<<108/6=18>>18 liters a week.\nThe farm produces 2160 / 5 = <<2160/5=432>>432 liters a "
     "week.\nSo there are 432 / 18 = <<432/18=24>>24 cows.\n#### 24", "6", None),
    # the count is a number of the question
    ("For every 4 children at a party, 10 balloons are bought. There are 14 children at the "
     "party. How many balloons are bought?", "There are 14 / 4 = <<14/4=3.5>>3.5 groups of "
     "four.\nSo 3.5 * 10 = <<3.5*10=35>>35 balloons are bought.\n#### 35", "4", "14"),
    ("A gym has 23 members. Each group of 12 members shares 30 towels a week. How many "
     "towels does the gym use in a week?", "There are 23 / 12 * 30 = <<23/12*30=57.5>>57.5 "
     "towels.\n#### 57.5", "12", "23"),
]


@pytest.mark.parametrize("strategy", ["similar", "mmos-large", "digits:2"])
@pytest.mark.parametrize("question, answer, group, count", RATE_GROUPS)
def test_a_group_a_rate_is_given_for_stays_within_the_count_of_those_things(
        question, answer, group, count, strategy):
    for variant in variants(problem(question, answer), strategy):
        whole = Fraction(variant.final_answer) if count is None else value_of(variant, count)
        assert value_of(variant, group) <= whole, variant.question


FOUND_OR_LOST = [
    ("There are 30 eggs hidden in the park. Tom finds 12 eggs and Sara finds 15 eggs. How "
     "many more eggs does Sara find than Tom?", "Sara finds 15 - 12 = <<15-12=3>>3 more eggs."
     "\n#### 3", "30", ["12", "15"]),
    ("Ona keeps 40 beads in a box. On the bus she lost 12 beads. What fraction of her beads "
     "did she lose, as a percent?", "She lost 12 / 40 * 100 = <<12/40*100=30>>30 percent.\n"
     "#### 30", "40", ["12"]),
]


@pytest.mark.parametrize("question, answer, there, parts", FOUND_OR_LOST)
def test_what_is_found_or_lost_stays_within_what_there_was(question, answer, there, parts):
    for variant in variants(problem(question, answer), "similar", n=8):
        whole = value_of(variant, there)
        assert sum(value_of(variant, part) for part in parts) <= whole, variant.question
