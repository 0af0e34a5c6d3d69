"""Numbers a solution works out in the head (generator/head.py): a count of what the question
lists, a fact of the calendar, or a number made from the question's own numbers without a
written calculation. Each is read as a constant, after every question number and result that
could have made it keeps its value; a larger number that nothing explains is still refused."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from checks import annotation_errors, prose_errors

from mathgen.generator.head import sources
from mathgen.generator.perturb import perturb_problem
from mathgen.records import Problem, Rejection


def problem(question: str, solution: str, answer) -> Problem:
    return Problem("t:1", 1, question, solution, F(answer), "gsm8k")


def variants(p: Problem, n: int = 6) -> list:
    out = perturb_problem(p, "similar", n=n, seed=0)
    assert isinstance(out, list) and out, out
    for v in out:
        assert annotation_errors(v.answer) == []
        assert prose_errors(p.solution, v.to_json()) == []
    return out


def numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


# a count of the things the question lists: three grades, however many pupils each has
GRADES = problem(
    "A school takes its 112 fourth graders, 104 fifth graders and 97 sixth graders to a "
    "museum. Each grade brings 5 teachers. How many people go to the museum?",
    "There are 112 + 104 + 97 = <<112+104+97=313>>313 pupils.\n"
    "There are 3 grades, so 3 x 5 = <<3*5=15>>15 teachers go.\n"
    "In all 313 + 15 = <<313+15=328>>328 people go.\n#### 328", 328)

# a fact of the calendar: a week has 5 school days, whatever the question's numbers are
SCHOOL_DAYS = problem(
    "Mia reads 14 pages every school day. She does not read on weekends. How many pages does "
    "she read in 6 weeks?",
    "She reads on 5 days a week, so 14 x 5 = <<14*5=70>>70 pages a week.\n"
    "In 6 weeks she reads 70 x 6 = <<70*6=420>>420 pages.\n#### 420", 420)

# made from a question number: of every 4 customers, 3 pay
CAFE = problem(
    "At a cafe, every 4 customers in a row get one free drink between them, and the other "
    "customers pay $5 each. If 120 customers come, how much money does the cafe take?",
    "There are 120 / 4 = <<120/4=30>>30 groups of customers.\n"
    "In each group 3 pay, so 30 x 3 = <<30*3=90>>90 customers pay.\n"
    "The cafe takes 90 x 5 = $<<90*5=450>>450.\n#### 450", 450)

# made from three numbers at once: a mother, 3 children and the father are 5 people
FAMILY = problem(
    "Leo lives with his mother and 3 sisters. Each person eats 2 apples a day. How many "
    "apples does the family eat in 9 days?",
    "There are 5 people, so they eat 5 x 2 = <<5*2=10>>10 apples a day.\n"
    "In 9 days they eat 10 x 9 = <<10*9=90>>90 apples.\n#### 90", 90)


def test_a_count_of_what_the_question_lists_stays_while_the_rest_changes():
    for v in variants(GRADES):
        pupils = numbers(v.question)[:3]
        assert pupils != [112, 104, 97] or numbers(v.question)[3] != 5
        assert "There are 3 grades" in v.answer
        assert F(v.final_answer) == sum(pupils) + 3 * numbers(v.question)[3]


def test_a_fact_of_the_calendar_is_a_constant():
    out = variants(SCHOOL_DAYS)
    assert {tuple(numbers(v.question)) for v in out} != {(14, 6)}
    for v in out:
        pages, weeks = numbers(v.question)
        assert F(v.final_answer) == pages * 5 * weeks


def test_a_number_made_from_a_question_number_keeps_that_number():
    out = variants(CAFE)
    assert any(numbers(v.question)[2] != 120 for v in out)
    for v in out:
        group, price, customers = numbers(v.question)
        assert group == 4  # the 4 that made the 3 keeps its value
        assert F(v.final_answer) == F(customers, 4) * 3 * price


def test_a_count_made_from_three_numbers_keeps_every_one_of_them():
    for v in variants(FAMILY):
        sisters, apples, days = numbers(v.question)
        assert sisters == 3  # 3 + 1 + 1 people: the count of sisters made the 5
        assert F(v.final_answer) == 5 * apples * days


def test_a_larger_number_that_nothing_explains_is_refused():
    p = problem("Ava has 4 boxes of pens. How many pens does she have?",
                "Each box holds 37 pens, so she has 4 x 37 = <<4*37=148>>148 pens.\n#### 148",
                148)
    out = perturb_problem(p, "similar", n=1, seed=0)
    assert isinstance(out, Rejection) and out.reason == "unexplained-number"


def test_a_result_used_only_in_the_head_is_refused():
    # the 24 is half the 48, or a slip where 48 was meant: a result that no step uses is how
    # a solution's own mistakes show ('150 - 5 = 145', then 120 / 15), so it is refused
    p = problem(
        "Ann has 18 red and 30 blue beads. She uses half of all her beads on a necklace and "
        "puts the rest in 3 jars equally. How many beads are in each jar?",
        "She has 18 + 30 = <<18+30=48>>48 beads.\n"
        "She keeps 24 of them, so each jar holds 24 / 3 = <<24/3=8>>8 beads.\n#### 8", 8)
    out = perturb_problem(p, "similar", n=1, seed=0)
    assert isinstance(out, Rejection) and out.reason == "unused-result"


@pytest.mark.parametrize("value, live, fixed, expected", [
    (F(3), {"a": F(4), "b": F(9)}, {F(1), F(2)}, {"a"}),             # 4 - 1
    (F(5), {"a": F(3), "b": F(40)}, {F(1), F(2)}, {"a"}),            # 3 + 2, 3 + 1 + 1
    (F(6), {"a": F(2), "b": F(3), "c": F(1000)}, {F(1)}, {"a", "b"}),  # 2 * 3, 2 + 3 + 1
    (F(37), {"a": F(4), "b": F(5)}, {F(1), F(2)}, set()),            # nothing makes 37
    (F(12), {"s0": F(24)}, {F(2)}, {"s0"}),                          # half a result
])
def test_sources_are_every_number_a_small_expression_uses(value, live, fixed, expected):
    assert sources(value, live, fixed) == expected


@pytest.mark.parametrize("value, live, fixed, foreign, expected", [
    (F(5), {"a": F(4), "b": F(2)}, {F(1)}, {"a", "b"}, set()),  # 4 pages + 1 are no 5 days
    (F(5), {"a": F(4), "b": F(2)}, {F(1)}, {"b"}, {"a"}),       # 4 days + 1 still are
    (F(8), {"a": F(4), "b": F(2)}, {F(1)}, {"a", "b"}, {"a", "b"}),  # 4 x 2: units multiply
])
def test_numbers_of_other_things_are_not_added_into_a_unit(value, live, fixed, foreign, expected):
    assert sources(value, live, fixed, frozenset(foreign)) == expected


def test_a_count_of_days_is_not_a_sum_of_pages_and_weeks():
    # 5 = 4 + 1 by value, but 4 counts pages: the 5 school days are a fact of the calendar,
    # and the 4 pages a day may change
    p = problem("Liam reads 4 pages every school day. He has no school on weekends. How many "
                "pages does he read in 2 weeks?",
                "There are 5 school days in a week: 5 days/week x 4 pages/day = 20 pages every "
                "week\nIn 2 weeks he reads 2 weeks x 20 pages/week = <<2*20=40>>40 pages\n#### 40",
                40)
    out = variants(p)
    assert any(numbers(v.question)[0] != 4 for v in out)
    for v in out:
        pages, weeks = numbers(v.question)
        assert "5 school days" in v.answer and F(v.final_answer) == 5 * pages * weeks


def test_a_result_added_again_is_that_result_not_the_hundred_of_percent():
    # '100 + 80': the 100 adds shirts, so it is week one's result (used a second time), not
    # the 100 that '%' licenses; the week's sales then change with the question's numbers
    p = problem("A shop has 500 shirts. Each week it sells 20% of the shirts it has left. How "
                "many shirts does it sell in the first two weeks?",
                "In week one it sells 500 * 20% = <<500*20*.01=100>>100 shirts.\n"
                "It has 500 - 100 = <<500-100=400>>400 shirts left.\n"
                "In week two it sells 400 * 20% = <<400*20*.01=80>>80 shirts.\n"
                "In all it sells 100 + 80 = <<100+80=180>>180 shirts.\n#### 180", 180)
    out = variants(p)
    assert any(F(numbers(v.question)[0] * numbers(v.question)[1], 100) != 100 for v in out)
    for v in out:
        shirts, pct = numbers(v.question)[:2]
        first = F(shirts * pct, 100)
        assert F(v.final_answer) == first + (shirts - first) * F(pct, 100)


def test_a_sum_done_in_the_head_keeps_both_terms():
    p = problem("Tom has 15 apples and gets 12 more. He gives 9 away. How many are left?",
                "He has 27-9=<<27-9=18>>18 apples left.\n#### 18", 18)
    out = variants(p, 3)
    for v in out:
        first, more, away = numbers(v.question)
        assert (first, more) == (15, 12) and F(v.final_answer) == 27 - away
    assert {numbers(v.question)[2] for v in out} != {9}


def test_a_result_written_by_an_unread_calculation_keeps_its_numbers():
    # '¼ * 36 = 9' is not read as a step: the 9 is made from the 36, which keeps its value
    p = problem("A box holds 36 toys, and ¼ of them are cars. The rest are 3 kinds of dolls in "
                "equal numbers. How many dolls of each kind are there?",
                "There are ¼ * 36 = 9 cars.\n"
                "So there are 36 - 9 = <<36-9=27>>27 dolls, and 27 / 3 = <<27/3=9>>9 of each "
                "kind.\n#### 9", 9)
    for v in variants(p, 1):
        toys, kinds = numbers(v.question)[0], numbers(v.question)[-1]
        assert toys == 36 and F(v.final_answer) == F(27, kinds)
    # a time span worked out from clock times: the times stay, the rest may change
    shift = problem("Ben works from 9:00 to 14:00 and packs 40 boxes an hour. How many boxes "
                    "does he pack?",
                    "He works 14:00 - 9:00 = 5 hours.\n"
                    "He packs 40 x 5 = <<40*5=200>>200 boxes.\n#### 200", 200)
    out = variants(shift)
    assert {numbers(v.question)[4] for v in out} != {40}
    for v in out:
        assert "from 9:00 to 14:00" in v.question
        assert F(v.final_answer) == 5 * numbers(v.question)[4]


def test_a_comparison_with_a_number_of_the_question_keeps_its_order():
    # the bonus is paid because the total is above the question's threshold: every variant
    # keeps the total above it, or the solution's choice would no longer follow
    p = problem("Zoe saved $40 in May and $45 in June. Her aunt pays a bonus of $10 to anyone who "
                "saves more than $80. How much money does Zoe have?",
                "Zoe saved 40 + 45 = $<<40+45=85>>85.\n"
                "$85 is more than $80, so she gets the bonus: 85 + 10 = $<<85+10=95>>95.\n"
                "#### 95", 95)
    out = variants(p, 8)
    assert len({tuple(numbers(v.question)) for v in out}) > 1
    for v in out:
        may, june, bonus, threshold = numbers(v.question)
        assert may + june > threshold
        assert F(v.final_answer) == may + june + bonus


WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve"]


def test_a_percent_or_a_multiplier_added_to_amounts_is_the_equal_amount():
    # the two 2s (2 kilograms, two times heavier) and the two 20s (20 sacks, twenty percent)
    # are told apart by the sum: what is added is the amount, not the ratio
    cat = problem("Ben's small dog weighs 2 kilograms. His big dog is two times heavier. If "
                  "Ben carries both of them, how many kilograms does he carry?",
                  "The big dog weighs 2 x 2 = <<2*2=4>>4 kilograms.\n"
                  "He carries 2 + 4 = <<2+4=6>>6 kilograms.\n#### 6", 6)
    out = variants(cat)
    assert len({v.question for v in out}) > 1
    for v in out:
        times = re.search(r"big dog is (\w+) times", v.question).group(1)
        times = WORDS.index(times) if times in WORDS else int(times)
        kilos = numbers(v.question)[0]
        assert F(v.final_answer) == kilos + kilos * times
    cars = problem("25 cars pass a shop on Tuesday. On Monday 20% fewer cars pass than on "
                   "Tuesday, and on Wednesday 2 more than on Monday. How many cars pass on the "
                   "three days?",
                   "On Monday 20/100 * 25 = <<20/100*25=5>>5 fewer cars pass.\n"
                   "So 25 - 5 = <<25-5=20>>20 cars pass on Monday.\n"
                   "On Wednesday 20 + 2 = <<20+2=22>>22 cars pass.\n"
                   "In all 25 + 20 + 22 = <<25+20+22=67>>67 cars pass.\n#### 67", 67)
    out = variants(cars)
    assert any(numbers(v.question)[:2] != [25, 20] for v in out)
    for v in out:
        tuesday, pct, more = numbers(v.question)
        monday = tuesday - F(tuesday * pct, 100)
        assert F(v.final_answer) == tuesday + monday + monday + more


@pytest.mark.parametrize("question, solution, whole, part", [
    ("Omar runs 4 and 1/2 miles every day. How many miles does he run in 6 days?",
     "He runs 4.5 * 6 = <<4.5*6=27>>27 miles.\n#### 27", r"runs (\d+) and 1/2", F(1, 2)),
    ("Eve bakes three and a quarter dozen rolls. She sells 9 of them. How many are left?",
     "She bakes 3.25 * 12 = <<3.25*12=39>>39 rolls.\nShe has 39 - 9 = <<39-9=30>>30 left.\n#### 30",
     r"bakes (\w+) and a quarter", F(1, 4)),
])
def test_a_number_and_a_part_written_after_it_is_one_amount(question, solution, whole, part):
    # '4 and 1/2 miles' is 4.5: the whole part may change and the half stays
    out = variants(problem(question, solution, numbers(solution.split("####")[1])[0]))
    wholes = set()
    for v in out:
        said = re.search(whole, v.question).group(1)
        value = WORDS.index(said) if said in WORDS else int(said)
        wholes.add(value)
        first = F(re.search(r"[\d.]+", v.answer).group())
        assert first == value + part
    assert len(wholes) > 1


def test_a_share_found_as_a_fraction_and_written_again_in_percent_is_that_result():
    # '12/60 = 0.2', then '20%' of another number: the 20 is the share in percent
    p = problem("At a school, 12 of every 60 pupils walk to school. If the same share of the "
                "250 pupils of another school walk, how many of them walk?",
                "A share of 12/60 = <<12/60=0.2>>0.2 of the pupils walk.\n"
                "That is 20% of them, so 250 * 20% = <<250*20*.01=50>>50 pupils walk.\n#### 50",
                50)
    out = variants(p)
    assert any(numbers(v.question)[:2] != [12, 60] for v in out)
    for v in out:
        walk, every, pupils = numbers(v.question)
        assert F(v.final_answer) == F(walk, every) * pupils


def test_a_unit_and_half_is_one_and_a_half():
    p = problem("Lena buys a pound and half of cheese at $6 a pound. How much does she pay?",
                "She pays 1.5 * 6 = $<<1.5*6=9>>9.\n#### 9", 9)
    out = variants(p)
    assert {numbers(v.question)[0] for v in out} != {6}
    for v in out:
        assert F(v.final_answer) == F(3, 2) * numbers(v.question)[0]


def test_many_equal_numbers_are_read_when_the_search_can_weigh_every_reading():
    # six calculations over equal 2s, 3s and 1s: over 20,000 ways to read them, all weighed
    p = problem("A bun costs $2 and a juice costs $3. Tom had 2 buns and 2 juices. Kim had 1 "
                "bun and 2 juices. Ann had 2 buns and 1 juice. How much did they pay together?",
                "Tom's buns cost 2 x $2 = $<<2*2=4>>4.\nKim's bun costs 1 x $2 = $<<1*2=2>>2.\n"
                "Ann's buns cost 2 x $2 = $<<2*2=4>>4.\n"
                "Tom's juices cost 2 x $3 = $<<2*3=6>>6.\nKim's juices cost 2 x $3 = $<<2*3=6>>6.\n"
                "Ann's juice costs 1 x $3 = $<<1*3=3>>3.\n"
                "Together they paid $4 + $2 + $4 + $6 + $6 + $3 = $<<4+2+4+6+6+3=25>>25.\n#### 25",
                25)
    out = variants(p)
    assert {v.question for v in out} != {p.question}
    for v in out:
        bun, juice, tom_buns, tom_juices, _, kim_juices, ann_buns, _ = numbers(v.question)
        assert F(v.final_answer) == (tom_buns + 1 + ann_buns) * bun \
            + (tom_juices + kim_juices + 1) * juice


# a number of the prose that no calculation shows, made from numbers of the question
CLASS_TRIP = problem(
    "Four teachers and 3 parents take the pupils on a trip. Each adult pays $15 for a ticket. "
    "How much do the adults pay?",
    "The 7 adults are the teachers and the parents.\n"
    "They pay 4 * 15 + 3 * 15 = <<4*15+3*15=105>>105 dollars.\n#### 105", 105)
ROPE = problem(
    "A rope is 3 feet long. A ribbon is 20 inches long. How many inches are they together?",
    "The rope is 36 inches because a foot has 12 inches.\n"
    "Together they are 36 + 20 = <<36+20=56>>56 inches.\n#### 56", 56)


@pytest.mark.parametrize("p, kept, free", [
    # '7 adults' is 4 teachers and 3 parents: both stay, the ticket changes
    (CLASS_TRIP, {0: 3}, 1),
    # '36 inches' is 3 feet of 12 inches: the 3 stays, the ribbon changes
    (ROPE, {0: 3}, 1),
])
def test_a_prose_number_worked_out_in_the_head_keeps_what_made_it(p, kept, free):
    out = variants(p)
    assert any(numbers(v.question)[free] != numbers(p.question)[free] for v in out)
    for v in out:
        for index, value in kept.items():
            assert numbers(v.question)[index] == value
        assert p.solution.split("\n")[0] in v.answer  # the prose number stays true


def test_a_larger_prose_number_that_nothing_explains_is_refused():
    p = problem("Ava has 4 boxes of pens and gives 5 pens away. How many pens are left?",
                "Ava had 37 pens in each box.\nShe has 4 * 12 - 5 = <<4*12-5=43>>43 pens left.\n"
                "#### 43", 43)
    out = perturb_problem(p, "similar", n=1, seed=0)
    assert isinstance(out, Rejection)
