"""mathgen mmos build: normal forms, diverse selection, mixing, and whole builds on ToRA paths."""

from __future__ import annotations

import builtins
import json
import keyword
import random
import re
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_data, write_rows
from mathgen.cli import main
from mathgen.errors import InputError, MathgenError
from mathgen.training import mmos
from mathgen.training.mmos import STAGES, build
from mathgen.training.paths import gold_value
from mathgen.training.normalise import BlockForms, normal_form, normalise_code, steps
from mathgen.training.select import (Distinct, k_table, mix_copies, most_diverse,
                                     parse_ratio)

TORA = ("tora/gsm8k-test.tora-70b.jsonl", "tora/gsm8k-test.tora-code-34b.jsonl")


def path(program: str, output: str, answer: str, prose: str = "So the answer is") -> str:
    """A ToRA-style path: one program, its output block, and a boxed answer."""
    return f"```python\n{program}\n```\n```output\n{output}\n```\n{prose} $\\boxed{{{answer}}}$."


# --- normal forms -------------------------------------------------------------------------

SAME = [
    ("renamed variables",
     "eggs = 16\neaten = 3\nprint(eggs - eaten)", "a = 16\nb = 3\nprint(a - b)"),
    ("comments, blank lines and spacing",
     "x = 16  # eggs\n\n\ny=x*2\nprint( y )", "# start\nx = 16\ny = x * 2\nprint(y)"),
    ("docstrings and bare strings",
     'def f():\n    """Janet\'s ducks."""\n    return 2\n"note"\nprint(f())',
     "def g():\n    return 2\nprint(g())"),
    ("parameters and loop targets",
     "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
     "print(total(4))",
     "def t(k):\n    acc = 0\n    for j in range(k):\n        acc += j\n    return acc\n"
     "print(t(4))"),
    ("redundant parentheses", "x = (3 + 4)\nprint((x))", "y = 3 + 4\nprint(y)"),
    ("global statements",
     "n = 1\ndef f():\n    global n\n    n = 2\nf()\nprint(n)",
     "m = 1\ndef g():\n    global m\n    m = 2\ng()\nprint(m)"),
]

DIFFERENT = [
    ("another constant", "x = 16\nprint(x - 3)", "x = 16\nprint(x - 4)"),
    ("another library function", "import math\nprint(math.sqrt(4))",
     "import sympy\nprint(sympy.sqrt(4))"),
    ("another order", "a = 1\nb = 2\nprint(a + b)", "b = 2\na = 1\nprint(a + b)"),
    ("another operator", "print(3 * 4)", "print(3 + 4)"),
]


@pytest.mark.parametrize("case, first, second", SAME, ids=[c[0] for c in SAME])
def test_normal_form_ignores_names_comments_docstrings_layout(case, first, second):
    assert normalise_code(first) == normalise_code(second)


@pytest.mark.parametrize("case, first, second", DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_normal_form_keeps_what_changes_the_program(case, first, second):
    assert normalise_code(first) != normalise_code(second)


def test_names_follow_first_appearance_and_reads_keep_their_names():
    form = normalise_code("import math\nprice = 4\ncount = math.floor(price / 3)\nprint(count)")
    assert form == "import math\nv0 = 4\nv1 = math.floor(v0 / 3)\nprint(v1)"


def test_a_block_that_does_not_parse_keeps_its_text_without_comments():
    assert normalise_code("x = 1%  * 2\n# a comment\nprint( x )") == "x = 1% * 2 print( x )"


def test_path_form_joins_blocks_and_answer_and_ignores_prose():
    one = path("a = 2\nprint(a * 3)", "6", "6", prose="Hence")
    two = path("b = 2\nprint(b * 3)", "6", "6", prose="The total is")
    assert normal_form(one, "6") == normal_form(two, "6")
    assert normal_form(one, "6").endswith("\n#answer 6")
    assert normal_form(one, "6") != normal_form(one, "7")
    assert normal_form("Two and two\n is four.", "4") == "Two and two is four.\n#answer 4"


def test_steps_finds_blocks_outputs_and_cut_off_paths():
    found, complete = steps(path("print(1)", "1", "1") + "\n```python\nprint(2)\n```\n"
                                                         "```output\n2\n```")
    assert complete and [(s.code, s.output) for s in found] == [("print(1)\n", "1"),
                                                                ("print(2)\n", "2")]
    found, complete = steps("```python\nprint(1)\n```\nThe answer is 1.")
    assert complete and found[0].output is None
    assert steps("```python\nprint(1)\n")[1] is False


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=3, max_size=3,
                unique=True).filter(lambda ns: not any(  # a name, never a keyword or builtin
                    keyword.iskeyword(n) or keyword.issoftkeyword(n) or hasattr(builtins, n)
                    for n in ns)))
def test_any_renaming_gives_the_same_form(names):
    a, b, c = names
    program = f"{a} = 5\n{b} = {a} * 3\nfor {c} in range(2):\n    {b} += {c}\nprint({b})"
    assert normalise_code(program) == normalise_code(
        "x = 5\ny = x * 3\nfor z in range(2):\n    y += z\nprint(y)")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normal_form_never_raises(text):
    assert isinstance(normal_form(text, "1"), str)
    assert isinstance(normalise_code(text), str)


# Programs from a small grammar with name slots <0>..<5>: filled with two different sets of
# names, a block must get the same form from the skeleton cache as from a direct parse.
_LINES = ["<0> = <e>", "def <0>(<1>, <2>=2):\n    return <e>",
          "for <1> in range(<n>):\n    <0> += <e>", "print(<e>)", "<0>.<1> = <e>", "import <3>",
          "from <3> import <4> as <5>",
          "# <0> is a comment", '"""<1> in a docstring"""', "global <2>",
          "<0> = f'{<1>} and <1>'", "<0> = lambda <1>: <1> * <n>", "<0> = [<1> for <1> in <2>]",
          "<0> = '<1>' + \"<2>\"", "if <0> > <n>:\n    <1> = <e>\nelse:\n    <1> = <n>",
          "try:\n    <0> = <e>\nexcept ValueError as <2>:\n    pass", "<0>, <1> = <1>, <0>",
          "<0>: int = <n>", "print(<3>.<4>(<0>, key=<1>))", "while <0> < <n>:\n    <0> *= 2"]
_EXPRS = ["<0> + <n>", "<1>(<0>, <n>)", "<3>.<4>", "<n>", "(<0> - <1>) / <n>", "-<2> ** <n>",
          "<0> if <1> else <2>", "not <0>"]
_NUMBERS = ["3", "1e5", "0x1F", "1_000", "2.5", ".5", "3j", "7"]
_NAMES = ["a", "b", "total", "math", "x1", "_y", "match", "case", "type", "print", "v0", "v1",
          "sympy", "floor", "key", "eggs", "\u00e9t\u00e9", "\u014b"]


@st.composite
def _program(draw):
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        expr = draw(st.sampled_from(_EXPRS)).replace("<n>", draw(st.sampled_from(_NUMBERS)))
        lines.append(draw(st.sampled_from(_LINES)).replace("<e>", expr).replace(
            "<n>", draw(st.sampled_from(_NUMBERS))))
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(_program(), st.lists(st.sampled_from(_NAMES), min_size=6, max_size=6, unique=True),
       st.lists(st.sampled_from(_NAMES), min_size=6, max_size=6, unique=True))
def test_skeleton_cache_gives_the_direct_form(template, first, second):
    forms = BlockForms()
    for names in (first, second):
        code = re.sub(r"<(\d)>", lambda m: names[int(m.group(1))], template)
        assert forms(code) == normalise_code(code), code


def test_skeleton_cache_on_every_tora_program():
    forms = BlockForms()
    for name in TORA:
        for raw in require_data(name).open(encoding="utf-8"):
            for text in json.loads(raw)["code"]:
                for step in steps(text)[0]:
                    assert forms(step.code) == normalise_code(step.code), step.code
    assert len(forms._forms) > 1000


@pytest.mark.parametrize("code", [
    "\ufb01 = 1\nprint(fi)",          # Python reads the ligature as 'fi'
    "\uff58 = 1\nprint(x)",           # a full-width x is x
    "x = \u210c + 1",                  # and a black-letter H is H
    "print(e\u0301)",                  # a combining accent
    "x\u00b2 = 4\nprint(x\u00b2)",     # a word character that cannot be in a name
    "x = 1 # c\rprint(x)\ny = x",       # a lone carriage return ends a comment
    "x = 'Janet\u2019s'\nprint(x)",    # outside ASCII in a string only: cached
    "x = " + "-" * 400 + "1",           # deeper than the form is printed for
])
def test_skeleton_cache_on_unusual_code(code):
    assert BlockForms()(code) == normalise_code(code)


# --- selection and mixing -----------------------------------------------------------------


def test_distinct_keeps_the_shortest_completion_whatever_the_order():
    texts = ["a longer path", "short", "mid path"]
    for order in (texts, texts[::-1]):
        kept = Distinct()
        dropped = [kept.add("form", t, t) for t in order]
        assert kept.paths["form"][0] == "short"
        assert sorted(ident for new, ident in dropped if not new) == ["a longer path", "mid path"]


def test_most_diverse_starts_with_the_shortest_and_spreads_out():
    forms = ["x = 1\nprint(x)", "x = 1\nprint(x) ", "def f():\n    return 10 * 20 + 3\nprint(f())",
             "x = 1\nprint(x)\n"]
    chosen = most_diverse(forms, 2)
    assert chosen == ["x = 1\nprint(x)", "def f():\n    return 10 * 20 + 3\nprint(f())"]
    assert most_diverse(forms, 1) == ["x = 1\nprint(x)"]
    assert most_diverse([], 3) == [] and len(most_diverse(forms, 10)) == 4


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ab =+1\n", min_size=1, max_size=12), min_size=1, max_size=12,
                unique=True), st.integers(1, 5), st.randoms())
def test_most_diverse_is_order_free_and_a_prefix_of_larger_k(forms, k, rng):
    shuffled = list(forms)
    rng.shuffle(shuffled)
    assert most_diverse(shuffled, k) == most_diverse(forms, k)
    assert most_diverse(forms, k + 1)[:k] == most_diverse(forms, k)


def test_k_table_counts_paths_for_each_k():
    assert k_table([1, 3, 0, 2]) == [{"k": 1, "questions": 3, "paths": 3},
                                     {"k": 2, "questions": 3, "paths": 5},
                                     {"k": 3, "questions": 3, "paths": 6}]


@pytest.mark.parametrize("text, value", [("1", 1), ("0.25", Fraction(1, 4)),
                                         ("1/3", Fraction(1, 3)), ("2.5", Fraction(5, 2)),
                                         ("0", 0)])
def test_parse_ratio(text, value):
    assert parse_ratio(text) == value


@pytest.mark.parametrize("text", ["-1", "half", "1/0", "", "1001", "1e100000000"])
def test_parse_ratio_refuses(text):
    with pytest.raises(ValueError):
        parse_ratio(text)


def test_mix_copies_draws_the_fraction_with_the_seed():
    qs = [f"q{i}" for i in range(10)]
    half = mix_copies(len(qs), Fraction(1, 2), seed=0, name="a")
    assert sorted(half) == [0] * 5 + [1] * 5
    assert half == mix_copies(len(qs), Fraction(1, 2), seed=0, name="a")
    assert half != mix_copies(len(qs), Fraction(1, 2), seed=1, name="a")
    assert sorted(mix_copies(len(qs), Fraction(5, 2), seed=0, name="a")) == [2] * 5 + [3] * 5


# --- builds ------------------------------------------------------------------------------


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_stage_on_small_samples(tmp_path):
    rows = [{"question": "What is 2 times 3?", "answer": "#### 6", "completions": [
        path("a = 2\nprint(a * 3)", "6", "6"),           # kept
        path("b = 2\nprint(b * 3)", "6", "6", "Hence"),  # duplicate of the first
        path("print(2 * 3)", "6", "6"),                  # kept: another program
        path("print(2 * 3)", "7", "7"),                  # wrong answer
        path("print(2 * 4)", "6", "6"),                  # not reproduced: it prints 8
        "The answer is unclear.",                         # no answer
        "```python\nprint(2 * 3)\n",                      # cut off
        "```python\nprint(6)\n```\nSo $\\boxed{6}$.",     # no output block
        "2 times 3 is 6, so the answer is 6.",           # kept: no code, right answer
        "```python\nprint(1 / 0)\n```\n```output\nZeroDivisionError: division by zero\n```\n"
        + path("print(2 * 3)", "6", "6"),                # kept: its failing run fails alike
    ]}, {"question": "What is 5 minus 5?", "answer": "#### 0", "completions": [
        path("print(5 - 5)", "1", "1")]}]
    data = write_rows(tmp_path / "small.jsonl", rows)
    summary = build([data], tmp_path / "out.jsonl", k=3, workers=1,
                    rejects=tmp_path / "rej.jsonl", stats=tmp_path / "stats.json")
    reasons = Counter(r["reason"] for r in _lines(tmp_path / "rej.jsonl"))
    assert reasons == {"duplicate": 1, "wrong answer": 2, "not reproduced": 1, "no answer": 1,
                       "cut off": 1, "no output": 1, "beyond k": 1}
    out = _lines(tmp_path / "out.jsonl")
    assert len(out) == 3 == summary.paths - sum(summary.rejected.values())
    assert {r["question_id"] for r in out} == {"small:1"}
    assert out[0]["prompt"] == "<|user|>\nWhat is 2 times 3?\n<|assistant|>\n"
    assert out[0]["completion"] == path("print(2 * 3)", "6", "6")  # the shortest form
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["paths"] == 11 and stats["kept"] == 3 and stats["written"] == 3
    assert stats["k_vs_n"] == [{"k": k, "questions": 1, "paths": k} for k in (1, 2, 3, 4)]
    assert stats["sources"]["small"]["with_correct"] == 1 and stats["sources"]["small"][
        "questions"] == 2


def test_no_execute_trusts_the_outputs_shown(tmp_path):
    data = write_rows(tmp_path / "s.jsonl", [{"question": "Q?", "answer": "#### 6",
                                              "completions": [path("print(2 * 4)", "6", "6")]}])
    args = ["mmos", "build", str(data), "-o", str(tmp_path / "o.jsonl"), "--workers", "1"]
    ran = CliRunner().invoke(main, args)
    assert ran.exit_code == 0 and "not reproduced: 1" in ran.output, ran.output
    trusted = CliRunner().invoke(main, args + ["--no-execute"])
    assert trusted.exit_code == 0 and "ran 0 distinct programs" in trusted.output
    assert len(_lines(tmp_path / "o.jsonl")) == 1


@pytest.mark.parametrize("gold, value", [("18", 18), ("1,250", 1250), ("-0.5", Fraction(-1, 2)),
                                         ("\\frac{3}{4}", Fraction(3, 4)), ("$18", 18),
                                         ("\\sqrt{2}", None), ("3\\pi", None),
                                         ("\\frac{\\pi}{2}", None), ("(1, 2)", None)])
def test_gold_value_reads_numbers_only(gold, value):
    assert gold_value(gold) == value


def test_gold_answers_symbolic_float_and_pooled(tmp_path):
    rows = [{"question": "Root?", "gt": "\\sqrt{2}", "code": ["So $\\boxed{2}$.",
                                                           "So $\\boxed{\\sqrt{2}}$."]},
            {"question": "Big?", "gt": 1e16, "code": ["It is $\\boxed{10000000000000000}$."]},
            {"question": "Eggs?", "gt": "18", "code": ["$\\boxed{18}$"]},
            {"question": "Eggs?", "gt": 18.0, "code": ["So $\\boxed{18}$ eggs."]}]
    data = write_rows(tmp_path / "g.jsonl", rows)
    summary = build([data], tmp_path / "o.jsonl", workers=1, execute=False)
    out = _lines(tmp_path / "o.jsonl")
    assert [r["completion"] for r in out] == ["So $\\boxed{\\sqrt{2}}$.",
                                              "It is $\\boxed{10000000000000000}$.",
                                              "$\\boxed{18}$", "So $\\boxed{18}$ eggs."]
    assert summary.rejected == {"wrong answer": 1}
    assert summary.sources["g"]["questions"] == 3  # 18 and 18.0 are one question


def test_questions_keep_distinct_ids_across_files_of_one_stem(tmp_path):
    for folder, question in (("a", "One?"), ("b", "Two?")):
        (tmp_path / folder).mkdir()
        write_rows(tmp_path / folder / "s.jsonl", [{"idx": 0, "question": question, "gt": "5",
                                                    "code": ["$\\boxed{5}$",
                                                             "So 5, $\\boxed{5}$."]}])
    summary = build([tmp_path / "a" / "s.jsonl", tmp_path / "b" / "s.jsonl"],
                    tmp_path / "o.jsonl", workers=1)
    ids = [r["question_id"] for r in _lines(tmp_path / "o.jsonl")]
    assert ids == ["0", "0", "s:1", "s:1"] and summary.written == 4


def test_huge_numbers_are_rejections_not_crashes(tmp_path):
    data = write_rows(tmp_path / "h.jsonl", [{"question": "Q?", "gt": "1", "code": [
        "The answer is " + "1" * 5000 + "."]}])
    summary = build([data], tmp_path / "o.jsonl", workers=1)
    assert summary.rejected == {"wrong answer": 1}
    write_rows(tmp_path / "j.jsonl", ['{"question": "Q?", "gt": ' + "1" * 5000 + ', "code": []}'])
    with pytest.raises(InputError, match="j.jsonl:1"):
        build([tmp_path / "j.jsonl"], tmp_path / "o.jsonl", workers=1)


def test_programs_forgotten_and_run_again(tmp_path, monkeypatch):
    monkeypatch.setattr(mmos, "RUNS_KEPT", 1)
    rows = [{"question": f"Q{i}?", "gt": "5", "code": [path("print(5)", "5", "5"),
                                                       path(f"print({i} * 0 + 5)", "5", "5")]}
            for i in range(4)]
    data = write_rows(tmp_path / "r.jsonl", rows)
    summary = build([data], tmp_path / "o.jsonl", workers=1, chunk=1)
    assert summary.written == 8 and summary.programs > 5


def test_deep_code_gives_the_same_set_with_any_worker_count(tmp_path):
    deep = "x = " + "-" * 324 + "1\nprint(x)"
    rows = [{"question": f"Deep {i}?", "gt": "-1", "code": [
        path(deep, "-1", "-1"), path(deep.replace("x", "y"), "-1", "-1")]} for i in range(300)]
    data = write_rows(tmp_path / "d.jsonl", rows)
    outs = []
    for workers in (1, 2):
        build([data], tmp_path / f"o{workers}.jsonl", workers=workers, execute=False)
        outs.append((tmp_path / f"o{workers}.jsonl").read_bytes())
    assert outs[0] == outs[1]


def test_paths_in_any_order_give_the_same_bytes(tmp_path):
    # 600 programs, 7 normal forms: enough paths that two workers normalise them in parallel
    completions = [path(f"n{i} = {i % 7}\nprint(n{i} * 0 + 6)", "6", "6") for i in range(600)]
    completions += [path("print(6)", "6", "6"), path("x = 6\nprint(x)", "6", "6")]
    rng = random.Random(1)
    outs = []
    for run, workers in enumerate((1, 2, 1)):
        order = list(completions)
        rng.shuffle(order)
        (tmp_path / str(run)).mkdir()
        data = write_rows(tmp_path / str(run) / "six.jsonl", [
            {"question": "Six?", "answer": "#### 6", "completions": order}])
        summary = build([data], tmp_path / f"o{run}.jsonl", k=3, workers=workers)
        assert summary.rejected == {"duplicate": 593, "beyond k": 6}
        outs.append((tmp_path / f"o{run}.jsonl").read_bytes())
    assert outs[0] == outs[1] == outs[2] and outs[0].count(b"\n") == 3


def test_mix_ratios_across_sources(tmp_path):
    def source(name, n):
        return write_rows(tmp_path / f"{name}.jsonl", [
            {"question": f"{name} question {i}: 1 + {i}?", "answer": f"#### {i + 1}",
             "completions": [path(f"print(1 + {i})", str(i + 1), str(i + 1))]}
            for i in range(n)])
    a, b = source("a", 10), source("b", 4)
    summary = build([a, ("b", b)], tmp_path / "mix.jsonl", mix={"a": Fraction(3, 10),
                                                                "b": Fraction(2)}, workers=1)
    out = Counter(r["source"] for r in _lines(tmp_path / "mix.jsonl"))
    assert out == {"a": 3, "b": 8}
    assert summary.rejected["left out"] == 7 and summary.written == 11
    with pytest.raises(MathgenError, match="no such source"):
        build([a], tmp_path / "x.jsonl", mix={"c": Fraction(1)})


@pytest.mark.parametrize("row, field", [
    ({"question": "Q?", "gt": "1"}, "code"),
    ({"question": "Q?", "gt": "1", "code": [1, 2]}, "code"),
    ({"question": "", "answer": "1", "completions": []}, "question"),
    ({"question": "Q?", "completions": ["x"]}, "answer"),
    ({"prompt": "Q?"}, None),
])
def test_bad_rows_name_file_line_and_field(tmp_path, row, field):
    data = write_rows(tmp_path / "bad.jsonl", [
        {"question": "Fine?", "answer": "1", "completions": []}, row])
    with pytest.raises(InputError) as err:
        build([data], tmp_path / "o.jsonl", workers=1)
    assert err.value.line == 2 and err.value.field == field and str(data) in str(err.value)
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    data = write_rows(tmp_path / "s.jsonl", [{"question": "Q?", "answer": "1",
                                              "completions": ["The answer is 1."]}])
    for extra, message in ((["--mix", "s"], "write NAME=RATIO"),
                           (["--mix", "s=-1"], "between 0 and 1000"),
                           (["--mix", "t=1"], "no such source"),
                           (["--mix", "s=1", "--mix", "s=2"], "given twice")):
        result = CliRunner().invoke(main, ["mmos", "build", str(data), "-o",
                                           str(tmp_path / "o.jsonl"), *extra])
        assert result.exit_code == 2, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(main, ["mmos", "build", str(tmp_path / "none.jsonl"), "-o",
                                       str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "cannot read the file" in result.output


@pytest.fixture(scope="module")
def tora_build(tmp_path_factory):
    files = [require_data(f) for f in TORA]
    out = tmp_path_factory.mktemp("mmos")
    result = CliRunner().invoke(main, ["mmos", "build", *(f"gsm8k={f}" for f in files), "-o",
                                       str(out / "train.jsonl"), "--k", "3", "--stats",
                                       str(out / "stats.json"), "--rejects",
                                       str(out / "rejects.jsonl"), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return files, out, result.output


def test_tora_build_counts_add_up(tora_build):
    files, out, printed = tora_build
    stats = json.loads((out / "stats.json").read_text())
    assert stats["paths"] == 2638 and stats["rows"] == 2638
    rejected = Counter(r["reason"] for r in _lines(out / "rejects.jsonl"))
    assert dict(rejected) == {k: v for k, v in stats["rejected"].items() if v}
    assert set(rejected) <= set(STAGES)
    assert stats["paths"] == sum(rejected.values()) + stats["kept"]
    assert stats["kept"] == stats["written"] == len(_lines(out / "train.jsonl"))
    assert stats["sources"]["gsm8k"]["questions"] == 1319
    assert f"wrote {stats['written']} lines" in printed


def test_tora_build_keeps_no_two_paths_with_one_normal_form(tora_build):
    files, out, _ = tora_build
    from mathgen.answers import extract, grade
    from mathgen.numbers import plain

    forms = defaultdict(list)
    for row in _lines(out / "train.jsonl"):
        answer = plain(grade(extract(row["completion"]).text, "0").predicted)
        forms[row["question_id"]].append(normal_form(row["completion"], answer))
    assert forms and all(len(set(f)) == len(f) for f in forms.values())
    assert max(len(f) for f in forms.values()) == 2  # two paths per question at most


def test_tora_build_with_k1_keeps_one_path_per_question_with_a_correct_one(tora_build, tmp_path):
    files, out, _ = tora_build
    stats = json.loads((out / "stats.json").read_text())
    summary = build([("gsm8k", f) for f in reversed(files)], tmp_path / "k1.jsonl", k=1,
                    workers=1)
    rows = _lines(tmp_path / "k1.jsonl")
    per_question = Counter(r["question_id"] for r in rows)
    assert set(per_question.values()) == {1}
    assert len(rows) == summary.sources["gsm8k"]["with_correct"] == stats["k_vs_n"][0]["paths"]
    # files in the other order, one worker: the k=3 build again, byte for byte
    build([("gsm8k", f) for f in reversed(files)], tmp_path / "k3.jsonl", k=3, workers=1)
    assert (tmp_path / "k3.jsonl").read_bytes() == (out / "train.jsonl").read_bytes()
