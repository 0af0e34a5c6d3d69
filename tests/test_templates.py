"""Templates: mathgen's own format and library, and GSM-Symbolic's annotated files."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import pytest
from checks import annotation_errors, final_line
from click.testing import CliRunner
from conftest import require_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mathgen.cli import main
from mathgen.errors import UnsupportedProblem
from mathgen.formulas import Worded
from mathgen.generator import gsm_symbolic, library
from mathgen.generator.run import library as library_folder
from mathgen.generator.run import template_files
from mathgen.generator.instances import instances, variants
from mathgen.generator.template import TemplateError

LIBRARY = template_files([library_folder()])
GOOD = """---
skills: [money]
variables:
  name: {list: names}
  cups: {range: [12, 80], default: 24, scale: true}
  price: {range: [0.25, 2], step: 0.25, default: 0.75}
  cost: {choice: [5, 8, 10], default: 8}
constraints:
  - cups * price > cost
steps:
  revenue: cups * price
  profit: revenue - cost
answer: profit
---
{{ name }} sells {{ cups }} cups at ${{ price | money }} each and spends ${{ cost }}. Profit?
---
{{ name }} takes in {{ cups }} * {{ price | money }} = ${{ calc("cups * price") }}.
The profit is {{ revenue }} - {{ cost }} = ${{ calc("revenue - cost") }}.
#### {{ answer }}
"""


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write(tmp_path: Path, text: str, name: str = "t.jinja") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the format ---------------------------------------------------------------------------

def test_a_template_gives_distinct_true_instances(tmp_path):
    template = library.load(write(tmp_path, GOOD))
    out = variants(template, 30, seed=4)
    assert len({v.question for v in out}) == 30
    for v in out:
        assert not annotation_errors(v.answer)
        assert final_line(v.answer) == v.final_answer
        assert Fraction(v.final_answer) > 0
        assert v.question != v.original_question
    assert "24 cups at $0.75" in out[0].original_question


def test_same_seed_same_instances_and_a_prefix_for_fewer(tmp_path):
    template = library.load(write(tmp_path, GOOD))
    ten = [v.to_json() for v in variants(template, 10, seed=2)]
    assert ten == [v.to_json() for v in variants(template, 10, seed=2)]
    assert ten != [v.to_json() for v in variants(template, 10, seed=3)]


@pytest.mark.parametrize("edit, fragment", [
    (("cups * price > cost", "cups * pryce > cost"), "t.jinja:9: field 'constraints[0]': "
                                                       "unknown variable 'pryce'"),
    (("profit: revenue - cost", "profit: revenue - tax"), "unknown variable 'tax'"),
    (("answer: profit", "answer: profits"), "field 'answer': unknown variable 'profits'"),
    (("{{ name }} sells", "{{ nam }} sells"), "t.jinja:15: the question uses unknown "
                                              "variable 'nam'"),
    (("= ${{ calc(\"revenue - cost\") }}", "= {{ tax }}"), "the solution uses unknown variable"),
    (("range: [12, 80], default: 24", "range: [80, 12], default: 24"), "the domain is empty"),
    (("choice: [5, 8, 10]", "choice: []"), "the domain is empty"),
    (("default: 24", "default: 81"), "default 81 is not one of its values"),
    (("list: names", "list: planets"), "unknown list 'planets'"),
    (("cups * price > cost", "__import__('os')"), "the function '__import__' is not allowed"),
    (("cups * price > cost", "cups.real > 1"), "attribute is not allowed"),
    (("cups * price > cost", "cups > 100"), "the defaults break a constraint: cups > 100"),
    (("answer: profit\n", ""), "field 'answer': missing"),
    (("  cost: {choice", "cost {choice"), "not valid YAML"),
    (("{{ name }} sells", "{% if %} sells"), "not a valid jinja2 template"),
    (("{{ cups }} cups at", "{{ cups | calc }} cups at"), "No filter named 'calc'"),
])
def test_format_errors_name_file_line_and_field(tmp_path, edit, fragment):
    old, new = edit
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TemplateError) as err:
        library.load(path)
    assert str(path) in str(err.value) and fragment in str(err.value)
    result = mathgen("perturb", path, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and fragment in result.stderr


def test_missing_sections_are_an_error(tmp_path):
    with pytest.raises(TemplateError, match="expected front matter, question and solution"):
        library.load(write(tmp_path, "just a question?"))


@pytest.mark.parametrize("constraint, space", [
    ("cups * price < 0", "small"),  # 69 * 8 * 3 combinations: all tried, none holds
    ("cups == cups + 1", "large"),  # a million combinations: bounded sampling
])
def test_unsatisfiable_constraints_are_a_clear_rejection_not_a_hang(tmp_path, constraint, space):
    text = GOOD.replace("  - cups * price > cost", f"  - {constraint}")
    if space == "large":
        text = text.replace("range: [12, 80]", "range: [12, 1000000]")
    path = write(tmp_path, text)
    # the defaults break it too, so load would refuse; draw from a copy without defaults' check
    template = library.load(write(tmp_path, GOOD.replace("range: [12, 80]", "range: [12, 1000000]")
                                  if space == "large" else GOOD, "ok.jinja"))
    from mathgen.formulas import parse

    object.__setattr__(template, "conditions", (parse(constraint),))
    start = time.perf_counter()
    found, why = instances(template, 5, seed=0)
    assert not found and time.perf_counter() - start < 20
    assert ("no values satisfy every constraint" in why) if space == "small" \
        else ("met every constraint" in why)
    assert constraint.split()[0] in why
    with pytest.raises(TemplateError, match="the defaults break a constraint"):
        library.load(path)


def test_the_jinja_sandbox_refuses_unsafe_attributes(tmp_path):
    path = write(tmp_path, GOOD.replace("Profit?", "{{ name.__class__.__mro__ }}"))
    result = mathgen("perturb", path, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2 and "unsafe" in result.stderr


def test_a_number_after_a_or_an_gets_the_right_article(tmp_path):
    text = GOOD.replace("sells {{ cups }} cups", "sells a {{ cups }}-cup batch")
    template = library.load(write(tmp_path, text))
    for v in variants(template, 30, seed=0):
        assert "a 8" not in v.question and "an 1" not in v.question


# --- the library --------------------------------------------------------------------------

def test_the_library_has_60_tagged_templates():
    assert len(LIBRARY) >= 60
    skills = set()
    for path in LIBRARY:
        template = library.load(path)
        steps = [s for s in template.skills if s.startswith("steps:")]
        assert len(steps) == 1 and int(steps[0][6:]) >= 1, path
        assert len(template.skills) >= 2, path
        skills |= set(template.skills)
    for skill in ("rates", "percentages", "fractions", "ratios", "unit-conversion", "money",
                  "time", "comparison"):
        assert skill in skills, skill


_LOADED = {}


def _load(path):
    if path not in _LOADED:
        _LOADED[path] = library.load(path)
    return _LOADED[path]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LIBRARY), st.integers(0, 10 ** 6))
def test_every_instance_of_the_library_is_true(path, seed):
    template = _load(path)
    envs, _ = instances(template, 3, seed)
    assert envs, path
    for env in envs:
        for condition in template.conditions:
            assert condition(env), (path, condition.text)
        for name, kind in template.kinds.items():
            assert kind.admits(Fraction(env[name])) is None, (path, name)
    for v in variants(template, 3, seed):
        assert not annotation_errors(v.answer), (path, v.answer)
        assert final_line(v.answer) == v.final_answer, path
        assert "{{" not in v.question + v.answer and "None" not in v.question


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_twenty_instances_of_each_library_template(path):
    template = _load(path)
    envs, why = instances(template, 20, seed=0)
    assert len(envs) == 20, why
    for env in envs:
        assert all(c(env) for c in template.conditions), path
        assert Fraction(env["answer"]) >= 0
    for v in variants(template, 20, seed=0):
        assert not annotation_errors(v.answer) and final_line(v.answer) == v.final_answer


def test_perturb_without_input_samples_the_library(tmp_path):
    out = tmp_path / "out.jsonl"
    result = mathgen("perturb", "-o", out, "-n", 5)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) >= 300
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        assert not annotation_errors(row["answer"])
        assert final_line(row["answer"]) == row["final_answer"]


def test_tag_selects_templates(tmp_path):
    out = tmp_path / "out.jsonl"
    assert mathgen("perturb", "-o", out, "--tag", "percentages").exit_code == 0
    ids = {json.loads(line)["source_id"] for line in out.read_text().splitlines()}
    assert ids and all("percentages" in library.load(p).skills for p in LIBRARY
                       if library.load(p).id in ids)
    assert len(ids) < len(LIBRARY)


def test_templates_option_takes_files_and_folders(tmp_path):
    (tmp_path / "dir").mkdir()
    write(tmp_path / "dir", GOOD, "a.jinja")
    out = tmp_path / "out.jsonl"
    result = mathgen("perturb", "--templates", tmp_path / "dir", "--templates", LIBRARY[0],
                     "-o", out, "-n", 2)
    assert result.exit_code == 0, result.stderr
    assert {json.loads(line)["source_id"] for line in out.read_text().splitlines()} == \
        {"a", library.load(LIBRARY[0]).id}


def test_other_strategies_rescale_only_numbers_marked_scale(tmp_path):
    template = library.load(write(tmp_path, GOOD))
    for v in variants(template, 5, seed=0, strategy="digits:3"):
        assert Fraction(v.final_answer) > 0 and not annotation_errors(v.answer)
        assert 100 <= Fraction(dict(v.substitutions).get("24", 0)) <= 999
        assert all(Fraction(new) <= 20 for old, new in v.substitutions if old != "24")
    fixed = library.load(write(tmp_path, GOOD.replace(", scale: true", ""), "fixed.jinja"))
    with pytest.raises(UnsupportedProblem, match="scale: true"):
        variants(fixed, 5, seed=0, strategy="digits:3")


# --- GSM-Symbolic -------------------------------------------------------------------------

def _gsm_symbolic_files():
    return sorted(require_data("gsm-symbolic/symbolic").glob("*.json"))


_HEAD = '''
from fractions import Fraction
class W(Fraction):
    def __new__(cls, value, text):
        self = super().__new__(cls, value)
        self.text = text
        return self
    def __getitem__(self, i):
        return (self.text, Fraction(self))[i]
def is_int(x): return Fraction(x).denominator == 1
def divides(a, b): return b != 0 and Fraction(a) % Fraction(b) == 0
'''
_CHECK = '''
NAMES = {"Fraction": Fraction, "is_int": is_int, "divides": divides}
def same(env, expected):
    return abs(Fraction(eval(ANSWER, NAMES, env)) - Fraction(expected)) < Fraction(1, 10 ** 9)
good = sum(all(eval(c, NAMES, env) for c in CONDITIONS) and same(env, expected)
           for env, expected in ROWS)
print(good, len(ROWS), int(same(*DEFAULTS)))
'''


def _env(env: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in env.items() if k != "answer") + "}"


def _literal(value):
    if isinstance(value, Worded):
        return f"W(Fraction({Fraction(value).numerator}, {Fraction(value).denominator}), " \
               f"{value.text!r})"
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        return f"Fraction({Fraction(value).numerator}, {Fraction(value).denominator})"
    return repr(value)


@pytest.mark.slow
def test_gsm_symbolic_templates_import_and_give_50_true_instances():
    """At least 95 of 100 import; each gives 50 distinct instances whose conditions hold and
    whose answer is the #answer expression, checked by Python itself in the sandbox."""
    from mathgen.sandbox import run_many

    programs, imported = [], 0
    for path in _gsm_symbolic_files():
        try:
            template = gsm_symbolic.load(path, path.stem)
        except Exception as err:  # noqa: BLE001 - counted, and at most 5 may fail
            print(path.name, err)
            continue
        imported += 1
        out = variants(template, 50, seed=0)
        assert len(out) == 50 and len({v.question for v in out}) == 50, path
        envs, _ = instances(template, 50, seed=0)
        raw = json.loads(path.read_text())
        body = raw["question_annotated"]
        conditions = [c.text for c in template.conditions]
        answer = template.answer.text
        rows = [f"({_env(env)}, {_literal(env['answer'])})" for env in envs]
        defaults = f"({_env(template.defaults)}, " \
                   f"{final_line(raw['answer']).replace(',', '')!r})"
        programs.append(_HEAD + f"ROWS = [{', '.join(rows)}]\nDEFAULTS = {defaults}\n"
                        f"CONDITIONS = {conditions!r}\nANSWER = {answer!r}\n" + _CHECK)
        assert "#answer" in body
    assert imported >= 95
    results = run_many(programs, timeout=60, workers=2)
    for result in results:
        assert result.status == "ok", result.stderr
        good, total, defaults = map(int, result.stdout.split())
        # the defaults need not meet the conditions (GSM-Symbolic's ranges often exclude the
        # original numbers); their answer must be the original one
        assert good == total == 50 and defaults == 1, result.stdout


@pytest.mark.slow
def test_gsm_symbolic_defaults_reproduce_the_original_answer():
    for path in _gsm_symbolic_files():
        try:
            template = gsm_symbolic.load(path, path.stem)
        except Exception:  # noqa: BLE001
            continue
        raw = json.loads(path.read_text())
        expected = Fraction(final_line(raw["answer"]).replace(",", ""))
        assert Fraction(template.evaluate(template.defaults)["answer"]) == expected, path


def test_gsm_symbolic_unsupported_constructs_are_named(tmp_path):
    row = {"question": "q", "answer": "#### 3",
           "question_annotated": "{name,Ann} has {x,3} pens.\n#init:\n- name = sample(names)\n"
                                 "- $x = weird_sampler(1, 9)\n#answer: x",
           "answer_annotated": "#### {x}"}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(row))
    rejects = tmp_path / "rej.jsonl"
    result = mathgen("perturb", path, "-o", tmp_path / "o.jsonl", "--rejects", rejects)
    assert result.exit_code == 0
    rejection = json.loads(rejects.read_text())
    assert rejection["reason"] == "unsupported-construct"
    assert "weird_sampler" in rejection["detail"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(GOOD)), st.integers(0, 40), st.text(max_size=12))
def test_any_broken_template_gives_only_mathgen_errors(tmp_path, start, length, insert):
    """Cut a piece out of a good template and put some text in: loading and drawing either
    work or raise the package's own error, never anything else."""
    from mathgen.errors import MathgenError

    text = GOOD[:start] + insert + GOOD[start + length:]
    path = write(tmp_path, text, "fuzz.jinja")
    try:
        template = library.load(path)
        variants(template, 2, seed=0)
    except MathgenError:
        pass


_SYMBOLIC = {
    "question": "q", "answer": "... #### 10",
    "question_annotated": "{name,Ben} saw a {x,10}-foot {fish,shark} with {k,2} {y,6}-inch "
                          "remoras. What percent of its length are they?\n\n#init:\n"
                          "- name = sample(names)\n- fish = sample([\"whale\", \"shark\"])\n"
                          "- $x = range(10, 500, 10)\n- $k = range(2, 10)\n- $y = range(2, 100)\n"
                          "\n#conditions:\n- divides(k*y, 12)\n- divides(x * 12, k*y)\n"
                          "- divides(100, x * 12 / (k*y))\n\n#answer: int((k * y) / (x * 12) * 100)",
    "answer_annotated": "{y} * {k} = <<{y}*{k}={k*y}>>{k*y} inches.\n#### {int(k*y/(12*x)*100)}",
}


def test_a_written_gsm_symbolic_file_imports(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_SYMBOLIC))
    out = variants(gsm_symbolic.load(path, "s"), 20, seed=0)
    assert len(out) == 20
    for v in out:
        assert int(v.final_answer) == int(final_line(v.answer))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(_SYMBOLIC["question_annotated"])), st.integers(0, 30),
       st.text(max_size=10))
def test_any_broken_gsm_symbolic_file_gives_only_mathgen_errors(tmp_path, start, length, insert):
    from mathgen.errors import MathgenError

    text = _SYMBOLIC["question_annotated"]
    row = dict(_SYMBOLIC, question_annotated=text[:start] + insert + text[start + length:])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(row))
    try:
        variants(gsm_symbolic.load(path, "s"), 2, seed=0)
    except MathgenError:
        pass


def test_large_numbers_from_the_library_keep_every_constraint(tmp_path):
    """digits:4 moves only numbers marked scale: true; half the library has such numbers."""
    out = tmp_path / "out.jsonl"
    result = mathgen("perturb", "-o", out, "--strategy", "digits:4", "-n", 2)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({r["source_id"] for r in rows}) >= 30
    for row in rows:
        assert not annotation_errors(row["answer"])
        assert final_line(row["answer"]) == row["final_answer"]
        assert any(len(s["new"].split(".")[0]) == 4 for s in row["substitutions"])
