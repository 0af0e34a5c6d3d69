"""Reading the calculations of a worked solution: annotations and plain-text arithmetic."""

from __future__ import annotations

from fractions import Fraction

import pytest
from mathgen.generator import calculations
from mathgen.generator.symbolic import ANNOTATION


def read(solution: str):
    solution += "\n#### 0"
    end = solution.index("####")
    return calculations.read(solution, end, list(ANNOTATION.finditer(solution, 0, end)))


@pytest.mark.parametrize("solution, texts, values", [
    ("She needs 60/15 = 4 containers.", ["60 / 15"], [4]),
    ("$600/month * 12 months/year = $7200 in a year.", ["600 * 12"], [7200]),
    ("They raised 83 plus 91 equals 174 dollars.", ["83 + 91"], [174]),
    ("Convert 2 hours to min: 2(60)=120 minutes", ["2 * ( 60 )"], [120]),
    ("Nikita = (1/2) 278 + 11 = 150 points", ["( 1 / 2 ) * 278 + 11"], [150]),
    ("It takes 16 - 3 - 4 = <<16-3-4=9>>9 eggs.", ["16-3-4"], [9]),
    ("65+94+81 = <<240=240>>240 points", ["65 + 94 + 81"], [240]),
    ("Then X = 200/20 = 10, so 10 guests.", ["200 / 20"], [10]),  # a comma ends the result
    ("So 3 * 4 = 12,000 is wrong.", [], []),  # but 12,000 is one number
    ("He has 10 / 3 = 3.33 cups left.", [], []),  # not exact: stays prose
    ("The 2 x 4 boards cost $10.", [], []),
    # worked out on the way: the 6 of '3+6' is 2(3), a hidden step over the same numbers
    ("Harry: 5+2(3)=5+6=11 trees", ["5 + 2 * ( 3 )", "5 + 2 * ( 3 )", "5 + 2 * ( 3 )"],
     [11, 5, 6]),
    # percents of percents: 20% of 40% is 8%; '20% * 40 = 8' is 20% of 40 (not 800)
    ("Then 20% * 40% = 8% of all.", ["20 * 40"], [8]),
    ("Then 20% * 40 = 8 of all.", ["20 * 40"], [8]),
    # a run-on, not a chain: 10 + 2 is no 10, so only '6 + 4 = 10' is read
    ("She has 6 + 4 = 10 + 2 = 12 apples.", ["6 + 4"], [10]),
    # a unit written against its number: '9km/3hrs = 3km/hr', '40ft x 2 = 80ft'
    ("He must ride 9km/3hrs = 3km/hr to be on time.", ["9 / 3"], [3]),
    ("The fence is 40ft x 2 = 80ft long.", ["40 * 2"], [80]),
    # a percent in a calculation whose result is no percent is a part of 100
    ("There are 20 fish / 40% = 50 fish in all.", ["20 / 40"], [50]),
    ("Then 30% * 50 = 15 are white.", ["30 * 50"], [15]),
    # a mixed number is one number: 8 x 1 1/2 is 12
    ("They eat 8 x 1 1/2 = 12 dinner rolls.", ["8 * 1 1/2"], [12]),
    # a capital X between numbers multiplies; beside a letter it is a name
    ("They lay 270 X 7 = 1890 eggs a week.", ["270 * 7"], [1890]),
    # but letters that are no unit still end the reading: '2x' is algebra
    ("So 3 + 2 = 5x apples.", [], []),
])
def test_calculations_are_read_exactly(solution, texts, values):
    found = read(solution)
    assert [c.text for c in found] == texts
    assert [c.value for c in found] == [Fraction(v) for v in values]
    for c in found:  # every literal span points at the number it stands for
        assert [solution[s:e].replace(",", "") for s, e in c.spans] == [x.text for x in c.literals]


def test_a_chain_writes_each_worked_out_number_as_a_hidden_step():
    solution = "Harry: 5+2(3)=5+6=11 trees"
    main, first, second = read(solution)
    assert main.of is None and first.of is main and second.of is main
    assert [solution[slice(*c.result_span)] for c in (main, first, second)] == ["11", "5", "6"]
    assert second.tree == ("mul", ("lit", 1), ("lit", 2))  # the 6 is 2(3)
    # a number that two parts could explain makes the chain unread
    assert [c.text for c in read("So 3+2(3)=3+6=9 cups")] == []
