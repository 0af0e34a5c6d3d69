"""A templatized file is edited by a person: its domains, constraints, steps and wording are
what the instances then follow, and a key it does not know is refused with its line."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from checks import check_variant

from mathgen.cli import main
from mathgen.generator.domains import Domain

BAKER = {"question": "A baker made 24 muffins in the morning and 36 muffins in the afternoon. "
                     "He sold 45 muffins. How many muffins were left?",
         "answer": "He made 24 + 36 = <<24+36=60>>60 muffins.\n"
                   "He had 60 - 45 = <<60-45=15>>15 muffins left.\n#### 15"}


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def template(tmp_path) -> Path:
    """The templatized file of the baker's problem (n0 24, n1 36, n2 45; s0 = n0 + n1,
    s1 = s0 - n2)."""
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(BAKER) + "\n")
    assert mathgen("templatize", source, "-o", tmp_path / "t").exit_code == 0
    (path,) = (tmp_path / "t").glob("*.jinja")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def instances(path: Path, *options) -> list[tuple[list[int], dict]]:
    """(the question's numbers in order, the variant) of each instance of ``path``."""
    out = path.parent.parent / "out.jsonl"
    result = mathgen("perturb", path, "-o", out, *options)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return [([int(x) for x in re.findall(r"\d+", row["question"])], row) for row in rows]


STRATEGIES = ["similar", "mmos-large", "digits:4"]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("old, new, position, allowed", [
    ("  n0:\n    default: 24\n", "  n0:\n    default: 24\n    range: [20, 30]\n", 0,
     set(range(20, 31))),
    ("  n1:\n    default: 36\n", "  n1: {default: 36, choice: [36, 40, 44, 52]}\n", 1,
     {36, 40, 44, 52}),
    ("  n2:\n    default: 45\n", "  n2: {default: 45, range: [40, 60], step: 5}\n", 2,
     {40, 45, 50, 55, 60}),
])
def test_a_domain_written_in_the_file_bounds_every_instance(template, strategy, old, new,
                                                            position, allowed):
    edit(template, old, new)
    got = instances(template, "-n", 6, "--seed", 3, "--strategy", strategy)
    assert got
    for numbers, row in got:
        assert numbers[position] in allowed
        assert Fraction(row["final_answer"]) == numbers[0] + numbers[1] - numbers[2]


def test_without_a_domain_the_strategy_draws_outside_it(template):
    got = instances(template, "-n", 6, "--seed", 3, "--strategy", "mmos-large")
    assert any(numbers[0] > 30 for numbers, _ in got)


@pytest.mark.parametrize("constraint, holds", [
    ("- n1 > n0 + 10\n", lambda a, b, c: b > a + 10),
    ("- {holds: n2 >= n1, why: he sells at least what he baked in the afternoon}\n",
     lambda a, b, c: c >= b),
    ("- s0 - n2 >= 10\n", lambda a, b, c: a + b - c >= 10),
])
def test_an_added_constraint_is_kept_by_every_instance(template, constraint, holds):
    before = instances(template, "-n", 12, "--seed", 1)
    assert not all(holds(*numbers) for numbers, _ in before)  # it bounds something
    edit(template, "answer: s1\n", "answer: s1\nconstraints:\n" + constraint)
    after = instances(template, "-n", 12, "--seed", 1)
    assert after and all(holds(*numbers) for numbers, _ in after)


def test_an_edited_step_gives_the_answers_it_computes(template):
    edit(template, "  s1: s0 - n2\n", "  s1: s0 - n2 + 10\n")
    # the worked solution says the same: '60 - 45 + 10 = <<60-45+10=25>>25'
    edit(template, '{{ v("n2", "45", "prose", "digits") }} =',
         '{{ v("n2", "45", "prose", "digits") }} + 10 =')
    edit(template, '{{ v("n2", "45", "literal") }}=', '{{ v("n2", "45", "literal") }}+10=')
    got = instances(template, "-n", 5)
    assert got
    for numbers, row in got:
        assert Fraction(row["final_answer"]) == numbers[0] + numbers[1] - numbers[2] + 10
        assert row["original_final_answer"] == "25"
        assert check_variant(row) == []


def test_a_step_edited_without_its_worked_solution_gives_no_false_solution(template):
    edit(template, "  s1: s0 - n2\n", "  s1: s0 - n2 + 10\n")  # the text still says '60 - 45'
    out = template.parent.parent / "out.jsonl"
    result = mathgen("perturb", template, "-o", out, "-n", "3")
    assert result.exit_code == 0, result.output
    assert all(check_variant(json.loads(line)) == [] for line in out.read_text().splitlines())


def test_an_original_number_edited_in_the_text_and_the_default_is_the_new_original(template):
    edit(template, "    default: 45\n", "    default: 40\n")
    edit(template, '{{ v("n2", "45") }}', '{{ v("n2", "40") }}')
    got = instances(template, "-n", 3)
    assert got and all(row["original_final_answer"] == "20" for _, row in got)
    assert all("sold 40 muffins" in row["original_question"] for _, row in got)


def test_edited_wording_appears_in_every_instance(template):
    edit(template, "muffins in the morning", "blueberry cupcakes before noon")
    got = instances(template, "-n", 4)
    assert got and all("blueberry cupcakes before noon" in row["question"] for _, row in got)


@pytest.mark.parametrize("old, new, key, message", [
    ("answer: s1\n", "answer: s1\nconstraint:\n- n1 > n0\n", "constraint:",
     "unknown key 'constraint' (hint: did you mean 'constraints'?"),
    ("    default: 36\n", "    default: 36\n    rnage: [30, 40]\n", "rnage:",
     "field 'variables.n1.rnage': unknown key 'rnage' (hint: did you mean 'range'?"),
    ("  id: in:1\n", "  id: in:1\n  origin: mine\n", "origin:", "unknown key 'origin'"),
    ("answer: s1\n", "answer: s1\nconstraints:\n- {holds: n1 > n0, because: x}\n", "because",
     "unknown key 'because'"),
    ("    default: 24\n", "    default: 24\n    range: [30, 40]\n", "range:",
     "the default 24 lies outside the range [30, 40]"),
    ("    default: 45\n", "    default: 45\n    range: [40, 60]\n    step: 7\n", "range:",
     "60 is not 40 plus a whole number of steps of 7"),
    ("answer: s1\n", "answer: s1\nconstraints:\n- n0 > n1\n", "- n0 > n1",
     "'n0 > n1' does not hold at the defaults"),
    ("answer: s1\n", "answer: s1\nconstraints:\n- n0 + n1\n", "- n0 + n1",
     "'n0 + n1' is not one comparison"),
    ("answer: s1\n", "answer: s1\nconstraints:\n- n9 > n0\n", "- n9 > n0",
     "unknown variable 'n9'"),
    ("  s1: s0 - n2\n", "  s1: s0 - n7\n", "s1:", "unknown variable 'n7'"),
    ("    default: 36\n", "    default: 36\n    derived: n0 + 12\n    range: [30, 40]\n",
     "n1:", "has no domain of its own"),
    ("    default: 45\n", "    default: 50\n", "default: 50",
     "the question writes '45' for n2, not its default 50"),
])
def test_a_wrong_edit_is_one_error_naming_its_line(template, old, new, key, message):
    edit(template, old, new)
    line = next(i for i, row in enumerate(template.read_text().splitlines(), 1) if key in row)
    result = mathgen("perturb", template, "-o", template.parent / "o.jsonl")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"{template}:{line}: " in result.stderr and message in result.stderr


def test_an_unknown_key_hint_lists_the_known_keys(template):
    edit(template, "    default: 24\n", "    default: 24\n    maximum: 30\n")
    result = mathgen("perturb", template, "-o", template.parent / "o.jsonl")
    assert result.exit_code == 2
    assert "known keys: default, places, percent, upper, cents, derived, range, step, " \
        "choice" in result.stderr


@given(st.integers(-50, 50), st.fractions(min_value=Fraction(1, 8), max_value=5),
       st.integers(1, 40), st.randoms(use_true_random=False))
def test_a_range_holds_exactly_its_values(low, step, count, rng):
    domain = Domain.of_range(Fraction(low), low + (count - 1) * step, step)
    values = domain.values()
    assert len(values) == len(domain) == count
    assert all(v in domain for v in values) and domain.pick(rng) in values
    assert low - step not in domain and low + count * step not in domain
    assert low + step / 2 not in domain


@pytest.mark.parametrize("old, new, key, message", [
    ("answer: s1\n", "answer: s1\npinned: [s7]\n", "pinned:", "unknown name 's7'"),
    ("answer: s1\n", "answer: s1\nsame: {s1: s4}\n", "same:", "unknown name 's4'"),
    ("answer: s1\n", "answer: s1\norder:\n- [s1, s0, s0]\n", "- [s1, s0, s0]",
     "is not a pair of names"),
    ("answer: s1\n", "answer: s1\nparts:\n- [n0, s0]\n", "- [n0, s0]", "unknown name 's0'"),
])
def test_a_name_that_names_nothing_is_refused_with_its_line(template, old, new, key, message):
    edit(template, old, new)
    line = next(i for i, row in enumerate(template.read_text().splitlines(), 1) if key in row)
    result = mathgen("perturb", template, "-o", template.parent / "o.jsonl")
    assert result.exit_code == 2 and f"{template}:{line}: " in result.stderr
    assert message in result.stderr
