"""GSM-Symbolic's harder templates (P1/P2: one or two clauses added to the original), on
template files written for these tests in ``tests/data/gsm_symbolic_p/``."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_templates import _CHECK, _HEAD, _env, _literal

from mathgen.cli import main
from mathgen.errors import UnsupportedProblem
from mathgen.formulas import Worded
from mathgen.generator import gsm_symbolic
from mathgen.generator.gsm_symbolic import _sections, _segments
from mathgen.generator.instances import instances, variants
from mathgen.generator.symbolic_defaults import adds_clauses, default_value
from mathgen.generator.template import Draw

FOLDER = Path(__file__).parent / "data" / "gsm_symbolic_p"

# file, the answer of its default instance (its own #answer at its defaults)
IMPORTED = [
    ("p1_added_clause", 19),                # 4 * 6 - 5; the stored original answer is 24
    ("p1_defaults_outside_ranges", 41),     # 12 * 8 - 30 - 25; b, c outside their ranges
    ("p1_ordinal_default", 16),             # 'third' read as 3: 60 // 3 - 4
    ("p2_word_defaults", 405),              # 120 + twice 120 + a quarter of 120 + 15
]
# file, rejection reason, a piece of its detail
REJECTED = [
    ("p2_zero_at_defaults", "defaults-unevaluable", "p2_zero_at_defaults.json: "),
    ("original_reworded_mismatch", "default-mismatch", "the original answer is 54"),
    ("huge_range", "template-error", "huge_range.json: OverflowError"),
    # an added clause the worked solution forgot: its #### is not the #answer
    ("p1_solution_disagrees", "solution-mismatch", "the solution ends in 63, the #answer gives 59"),
]


def _load(stem: str):
    return gsm_symbolic.load(FOLDER / f"{stem}.json", stem)


@pytest.mark.parametrize("stem, default_answer", IMPORTED)
def test_p_templates_give_20_instances_from_their_domains(stem, default_answer):
    template = _load(stem)
    out = variants(template, 20, seed=0)
    assert len(out) == 20 and len({v.question for v in out}) == 20
    assert {v.original_final_answer for v in out} == {str(default_answer)}
    envs, _ = instances(template, 20, seed=0)
    for env in envs:  # drawn from the #init domains, whatever the defaults are
        for draw in template.draws:
            for name in draw.names:
                assert env[name] in list(draw.domain), (name, env[name])


@pytest.mark.parametrize("stem, default_answer", IMPORTED)
def test_p_template_instances_keep_every_condition_checked_by_python(stem, default_answer):
    """Every instance meets every #conditions line and its answer is the #answer
    expression, and so is the default instance's: evaluated by Python in the sandbox."""
    from mathgen.sandbox import run_many

    template = _load(stem)
    envs, _ = instances(template, 20, seed=0)
    rows = [f"({_env(env)}, {_literal(env['answer'])})" for env in envs]
    program = _HEAD + (f"ROWS = [{', '.join(rows)}]\n"
                       f"DEFAULTS = ({_env(template.defaults)}, {str(default_answer)!r})\n"
                       f"CONDITIONS = {[c.text for c in template.conditions]!r}\n"
                       f"ANSWER = {template.answer.text!r}\n") + _CHECK
    result, = run_many([program], timeout=60, workers=1)
    assert result.status == "ok", result.stderr
    assert result.stdout.split() == ["20", "20", "1"]


@pytest.mark.parametrize("stem, reason, detail", REJECTED)
def test_p_templates_that_cannot_be_used_are_one_rejection_each(stem, reason, detail):
    with pytest.raises(UnsupportedProblem) as err:
        _load(stem)
    assert err.value.reason == reason and detail in err.value.detail


def test_perturb_a_folder_of_p_templates(tmp_path):
    """One bad template is one rejection; the others of the run still give 20 instances."""
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = CliRunner().invoke(main, ["perturb", str(FOLDER), "-n", "20", "-o", str(out),
                                       "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert f"wrote {20 * len(IMPORTED)} variants for {len(IMPORTED)} problems" in result.output
    assert f"rejected {len(REJECTED)} problems" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted({r["source_id"] for r in rows}) == sorted(s for s, _ in IMPORTED)
    got = {r["source_id"]: r["reason"] for r in map(json.loads, rejects.read_text().splitlines())}
    assert got == {stem: reason for stem, reason, _ in REJECTED}
    again = tmp_path / "again.jsonl"
    result = CliRunner().invoke(main, ["perturb", str(FOLDER), "-n", "20", "-o", str(again),
                                       "--workers", "2"])
    assert result.exit_code == 0 and again.read_bytes() == out.read_bytes()


_WORDS = json.loads((FOLDER / "p2_word_defaults.json").read_text())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(_WORDS["question_annotated"])), st.integers(0, 30),
       st.sampled_from(["", "{", "}", ",", "0", "/0", "quarter", "{q,third}", "\n#init:", "**"]))
def test_any_broken_p_template_gives_a_rejection_or_instances(tmp_path, start, length, insert):
    """Cut a piece out of a P2 template and put a piece of syntax in: loading and drawing
    give instances or the package's own error, never a traceback."""
    from mathgen.errors import MathgenError

    text = _WORDS["question_annotated"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(dict(_WORDS, question_annotated=text[:start] + insert
                                    + text[start + length:])))
    try:
        variants(gsm_symbolic.load(path, "p"), 2, seed=0)
    except MathgenError:
        pass


_PARTS = [Worded(Fraction(1, 3), "a third"), Worded(Fraction(1, 5), "one-fifth")]
_WHOLE = [Worded(Fraction(2), "second"), Worded(Fraction(4), "fourth")]
_TIMES = [Worded(Fraction(2), "twice"), Worded(Fraction(3), "three times")]


@pytest.mark.parametrize("text, domain, value", [
    ("quarter", _PARTS, Fraction(1, 4)),        # 'a quarter' of the word lists
    ("third", _PARTS, Fraction(1, 3)),          # the domain's 'a third'
    ("third", _WHOLE, Fraction(3)),             # an ordinal where the domain is whole
    ("sixth", _PARTS, Fraction(1, 6)),          # a part no list holds
    ("tenth", _WHOLE, Fraction(10)),
    ("Twice", _TIMES, Fraction(2)),
    ("thrice", _TIMES, Fraction(3)),            # outside the domain, in the lists
    ("half", _PARTS + _TIMES, Fraction(1, 2)),
    ("7", range(10, 20), 7),                    # a number outside the range stays itself
])
def test_word_defaults_are_read_in_their_domains_sense(text, domain, value):
    got = default_value(text, Draw(("x",), domain))
    assert got == value and (not isinstance(got, Worded) or got.text.lower() == text.lower())


@pytest.mark.parametrize("text, domain", [
    ("umpteenth", _WHOLE),
    ("quarter", _WHOLE),     # a part where the domain holds whole numbers: not guessed
    ("second", _PARTS),
])
def test_word_defaults_without_a_value_are_rejected(text, domain):
    with pytest.raises(UnsupportedProblem, match=repr(text)):
        default_value(text, Draw(("x",), domain))


def _adds(question: str, annotated: str) -> bool:
    body, _ = _sections(annotated)
    return adds_clauses({"question": question}, _segments(body, "t.json", "q"))


@pytest.mark.parametrize("question, annotated, adds", [
    ("Tom has 5 red and 3 blue pens.", "{n,Tom} has {r,5} red and {b,3} blue pens.", False),
    ("Tom has five pens. He buys 2.", "{n,Tom} owns {p,5} pens. Tom buys {b,2}.", False),
    ("Tom has 5 pens.", "{n,Tom} has {p,5} pens. He loses {l,2} of them.", True),
    ("Tom has 5 pens.", "{n,Tom} has {p,5} pens. He loses a {f,quarter} of them.", True),
    ("Tom has 5 pens.", "{n,Tom} has {p,5} pens. He loses 2 of them.", False),  # fixed text
    ("Tom has 5 pens and 4 cups.", "{n,Tom} has {p,5} pens. He loses {l,2}.", False),
    ("Tom has 5 pens.", "Tom has {p,5} pens and {q,5} cups.", True),  # 5 once more
])
def test_added_clauses_are_told_by_the_numbers(question, annotated, adds):
    assert _adds(question, annotated) is adds


@given(st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=6), st.integers(0, 10 ** 6))
def test_an_original_is_never_read_as_adding_clauses(numbers, extra):
    """The original's own numbers as placeholders: never P1; one placeholder more: P1."""
    question = " ".join(f"Box {i} holds {x} nails." for i, x in enumerate(numbers))
    annotated = " ".join(f"Box {i} holds {{v{i},{x}}} nails." for i, x in enumerate(numbers))
    assert not _adds(question, annotated)
    assert _adds(question, annotated + f" A bag holds {{w,{extra}}} more.")
