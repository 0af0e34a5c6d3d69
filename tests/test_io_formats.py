"""Reading JSONL (line-numbered errors) and turning each input format into Problems."""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction as F

import pytest
from conftest import BAD_INPUTS, GSM8K_ROW, require_data, write_bad_input, write_rows

from mathgen.errors import InputError, MathgenError
from mathgen.formats import load_problems
from mathgen.io import read_jsonl, write_jsonl
from mathgen.records import Problem, Rejection

TORA_ROW = {"idx": 0, "question": "Janet has 16 eggs and eats 3. How many are left?",
            "gt_cot": "She has 16 - 3 = <<16-3=13>>13 eggs left.", "gt": "13",
            "code": ["```python\nprint(16 - 3)\n```"], "pred": ["13"], "report": [None]}
SVAMP_ROW = {"Body": "There are 87 oranges and 290 bananas. The bananas are in 2 groups",
             "Question": "How big is each group of bananas?", "Equation": "( 290.0 / 2.0 )",
             "Answer": 145.0, "Type": "Common-Division", "ID": "chal-777", "idx": 0}
ASDIV_ROW = {"body": "Seven red apples and two green apples are in the basket.",
             "question": "How many apples are in the basket?", "solution_type": "Addition",
             "answer": "9 (apples)", "formula": "7+2=9", "idx": 0}
GSM_HARD_ROW = {"input": "Janet has 16 eggs and eats 3. How many are left?",
                "code": "def solution():\n    eggs = 16\n    eaten = 3\n"
                        "    left = eggs - eaten\n    return left\n",
                "target": 13.0}

ROWS = {"gsm8k": GSM8K_ROW, "tora": TORA_ROW, "svamp": SVAMP_ROW, "asdiv": ASDIV_ROW,
        "gsm-hard": GSM_HARD_ROW}


def load(path, **options) -> list[Problem | Rejection]:
    return list(load_problems(path, **options))


def load_rows(tmp_path, rows, **options) -> list[Problem | Rejection]:
    return load(write_rows(tmp_path / "input.jsonl", rows), **options)


def one_rejection(tmp_path, row) -> Rejection:
    [result] = load_rows(tmp_path, [row])
    assert isinstance(result, Rejection), result
    return result


# --- read_jsonl -------------------------------------------------------------------------

def test_read_jsonl_numbers_lines_and_skips_blank_ones(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"b": 2}\n{"c": 3}')  # no final newline
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (4, {"b": 2}), (5, {"c": 3})]


def test_read_jsonl_yields_errors_when_skipping(tmp_path):
    path = write_rows(tmp_path / "rows.jsonl", [{"a": 1}, "{oops", "[1]", {"b": 2}])
    rows = list(read_jsonl(path, skip_invalid=True))
    assert [line for line, _ in rows] == [1, 2, 3, 4]
    assert rows[0][1] == {"a": 1} and rows[3][1] == {"b": 2}
    assert all(isinstance(row, InputError) for _, row in rows[1:3])


def test_read_jsonl_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(InputError, match="cannot read") as info:
        list(read_jsonl(path))
    assert str(path) in str(info.value)


def test_write_jsonl_round_trips(tmp_path):
    records = [{"id": "a", "text": "caf\u00e9 \u2019"}, {"id": "b", "n": 2}]
    path = tmp_path / "sub" / "out.jsonl"
    assert write_jsonl(path, records) == 2
    assert [row for _, row in read_jsonl(path)] == records
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.jsonl"]  # no temp file left


def test_write_jsonl_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")

    def records():
        yield {"id": "a"}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_jsonl(path, records())
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


# --- format detection -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_format_is_detected(tmp_path, name):
    [problem] = load_rows(tmp_path, [ROWS[name]])
    assert isinstance(problem, Problem), problem
    assert problem.format == name
    assert problem.source_id == "input:1" and problem.source_line == 1
    assert problem.solution.rstrip().endswith(f"#### {problem.final_answer}")
    assert "<<" in problem.solution


@pytest.mark.parametrize("name, question, final", [
    ("gsm8k", GSM8K_ROW["question"], F(7)),
    ("tora", TORA_ROW["question"], F(13)),
    ("svamp", "There are 87 oranges and 290 bananas. The bananas are in 2 groups, "
              "how big is each group of bananas?", F(145)),
    ("asdiv", "Seven red apples and two green apples are in the basket. "
              "How many apples are in the basket?", F(9)),
    ("gsm-hard", GSM_HARD_ROW["input"], F(13)),
])
def test_each_format_gives_question_and_answer(tmp_path, name, question, final):
    [problem] = load_rows(tmp_path, [ROWS[name]])
    assert (problem.question, problem.final_answer) == (question, final)


@pytest.mark.parametrize("name, solution", [
    ("svamp", "290 / 2 = <<290/2=145>>145\n#### 145"),
    ("asdiv", "7 + 2 = <<7+2=9>>9\n#### 9"),
    ("gsm-hard", "16 - 3 = <<16-3=13>>13\n#### 13"),
    ("tora", "She has 16 - 3 = <<16-3=13>>13 eggs left.\n#### 13"),
])
def test_converted_solutions_are_gsm8k_style(tmp_path, name, solution):
    [problem] = load_rows(tmp_path, [ROWS[name]])
    assert problem.solution == solution


def test_tora_answers_may_have_thousands_separators(tmp_path):
    [problem] = load_rows(tmp_path, [dict(TORA_ROW, gt="2,125")])
    assert problem.final_answer == 2125
    assert problem.solution.endswith("#### 2125")


def test_format_is_detected_from_the_first_row(tmp_path):
    # A ToRA row also has 'question'; later rows are read as ToRA, not re-detected.
    results = load_rows(tmp_path, [TORA_ROW, GSM8K_ROW], skip_invalid=True)
    assert isinstance(results[0], Problem) and results[0].format == "tora"
    assert isinstance(results[1], Rejection) and "gt_cot" in results[1].detail


def test_forced_format_overrides_detection(tmp_path):
    row = dict(TORA_ROW, answer="16 - 3 = <<16-3=13>>13\n#### 13")  # fits gsm8k and tora
    assert load_rows(tmp_path, [row])[0].format == "tora"
    assert load_rows(tmp_path, [row], format="gsm8k")[0].format == "gsm8k"


def test_forced_format_reports_its_missing_fields(tmp_path):
    path = write_rows(tmp_path / "input.jsonl", [GSM8K_ROW])
    with pytest.raises(InputError) as info:
        load(path, format="svamp")
    assert f"{path}:1" in str(info.value) and "Body" in str(info.value)


def test_unknown_format_name_is_an_input_error(tmp_path):
    path = write_rows(tmp_path / "input.jsonl", [GSM8K_ROW])
    with pytest.raises(InputError, match="unknown format 'gsm9k'"):
        load(path, format="gsm9k")


# --- bad input: errors name the file, line and field ------------------------------------

@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_line_and_field(tmp_path, case):
    path, line, field = write_bad_input(tmp_path / f"{case}.jsonl", case)
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert isinstance(info.value, MathgenError)
    assert "\n" not in message
    if line is None:
        assert message.startswith(f"{path}: ")
    else:
        assert f"{path}:{line}: " in message
        assert info.value.line == line
    if field is not None:
        assert f"'{field}'" in message
        assert info.value.field == field


@pytest.mark.parametrize("case, words", [
    ("broken-json", "not valid JSON"),
    ("missing-field", "missing"),
    ("non-numeric-answer", "'abc' is not a number"),
    ("empty-file", "empty"),
    ("binary-junk", "binary"),
    ("json-array-line", "expected a JSON object, found list"),
    ("unknown-fields", "cannot tell the format"),
])
def test_bad_input_says_what_is_wrong(tmp_path, case, words):
    path, _, _ = write_bad_input(tmp_path / "input.jsonl", case)
    with pytest.raises(InputError, match=words):
        load(path)


def test_unknown_fields_lists_them_and_the_formats(tmp_path):
    path, _, _ = write_bad_input(tmp_path / "input.jsonl", "unknown-fields")
    with pytest.raises(InputError) as info:
        load(path)
    assert "bar, foo" in str(info.value) and "gsm-hard" in str(info.value)


@pytest.mark.parametrize("case", sorted(c for c, (_, line, _) in BAD_INPUTS.items()
                                        if line is not None))
def test_skip_invalid_turns_bad_rows_into_rejections(tmp_path, case):
    path, line, _ = write_bad_input(tmp_path / "input.jsonl", case)
    results = load(path, skip_invalid=True)
    bad = [r for r in results if isinstance(r, Rejection)]
    assert [(r.source_line, r.reason) for r in bad][:1] == [(line, "invalid-input")]
    assert all(r.reason == "invalid-input" for r in bad)
    assert f"{path}:{line}" in bad[0].detail


def test_skip_invalid_keeps_good_rows_and_counts_add_up(tmp_path):
    rows = [GSM8K_ROW, "{broken", {"question": "no answer"}, GSM8K_ROW, "[1]",
            {"question": "x", "answer": "#### abc"}, "", GSM8K_ROW]
    path = write_rows(tmp_path / "input.jsonl", rows)
    results = load(path, skip_invalid=True)
    kinds = [(type(r).__name__, r.source_line) for r in results]
    assert kinds == [("Problem", 1), ("Rejection", 2), ("Rejection", 3), ("Problem", 4),
                     ("Rejection", 5), ("Rejection", 6), ("Problem", 8)]
    assert Counter(getattr(r, "reason", "ok") for r in results) == {"ok": 3, "invalid-input": 4}
    assert len(results) == sum(1 for row in rows if row != "")


@pytest.mark.parametrize("case", ["empty-file", "blank-lines-only"])
def test_an_empty_file_is_an_error_even_when_skipping(tmp_path, case):
    path, _, _ = write_bad_input(tmp_path / "input.jsonl", case)
    with pytest.raises(InputError, match="empty"):
        load(path, skip_invalid=True)


# --- rows that are valid but unusable ---------------------------------------------------

@pytest.mark.parametrize("answer", ["Yes", "No", "6:7", "3 hours and 20 minutes"])
def test_asdiv_non_numeric_answers_are_rejected(tmp_path, answer):
    rejection = one_rejection(tmp_path, dict(ASDIV_ROW, answer=answer, formula="7>2"))
    assert rejection.reason == "non-numeric-answer"
    assert answer in rejection.detail


def test_asdiv_formula_disagreeing_with_answer_is_a_label_mismatch(tmp_path):
    rejection = one_rejection(tmp_path, dict(ASDIV_ROW, answer="8 (apples)"))
    assert rejection.reason == "label-mismatch"


def test_svamp_equation_disagreeing_with_answer_is_a_label_mismatch(tmp_path):
    rejection = one_rejection(tmp_path, dict(SVAMP_ROW, Answer=146.0))
    assert rejection.reason == "label-mismatch"
    assert "145" in rejection.detail and "146" in rejection.detail


def test_gsm_hard_program_disagreeing_with_target_is_a_label_mismatch(tmp_path):
    rejection = one_rejection(tmp_path, dict(GSM_HARD_ROW, target=-9867630.0))
    assert rejection.reason == "label-mismatch"


def test_gsm_hard_program_is_read_not_run(tmp_path, capsys):
    code = "def solution():\n    print('ran')\n    return 1\n"
    rejection = one_rejection(tmp_path, dict(GSM_HARD_ROW, code=code, target=1.0))
    assert rejection.reason == "unsupported-program"
    assert "ran" not in capsys.readouterr().out


def test_mixed_rows_keep_their_order(tmp_path):
    rows = [ASDIV_ROW, dict(ASDIV_ROW, answer="Yes"), dict(ASDIV_ROW, answer="8 (apples)")]
    assert [getattr(r, "reason", "problem") for r in load_rows(tmp_path, rows)] == [
        "problem", "non-numeric-answer", "label-mismatch"]


# --- known bugs: crafted rows that escape as non-Mathgen errors -------------------------

def outcome_of_load(path) -> str:
    """'ok' when every row loads or is rejected; else the exception's class name."""
    try:
        list(load_problems(path))
    except Exception as err:  # noqa: BLE001 - the test compares the class name
        return "MathgenError" if isinstance(err, MathgenError) else type(err).__name__
    return "ok"


@pytest.mark.parametrize("target", ["NaN", "Infinity", "-Infinity"])
def test_gsm_hard_non_finite_target_is_an_input_error(tmp_path, target):
    line = json.dumps(GSM_HARD_ROW).replace("13.0", target)
    path = write_rows(tmp_path / "input.jsonl", [line])
    with pytest.raises(InputError, match="target"):
        load(path)


@pytest.mark.parametrize("name, row", [
    ("svamp", dict(SVAMP_ROW, Answer=10**400)),
    ("gsm-hard", dict(GSM_HARD_ROW, target=10**400)),
])
def test_huge_labels_do_not_crash(tmp_path, name, row):
    assert outcome_of_load(write_rows(tmp_path / "input.jsonl", [row])) in ("ok", "MathgenError")


@pytest.mark.parametrize("row", [
    pytest.param(dict(ASDIV_ROW, formula="floor(7,2)=9"), id="asdiv-floor-two-args"),
    pytest.param(dict(ASDIV_ROW, formula="-" * 300 + "9=9"), id="asdiv-300-minus"),
    pytest.param(dict(ASDIV_ROW, formula="-" * 1000 + "9=9"), id="asdiv-1000-minus"),
    pytest.param(dict(GSM_HARD_ROW, code=GSM_HARD_ROW["code"].replace(
        "eggs = 16", "eggs = " + "-" * 1000 + "16")), id="gsm-hard-1000-minus"),
])
def test_crafted_formulas_become_rejections(tmp_path, row):
    assert outcome_of_load(write_rows(tmp_path / "input.jsonl", [row])) == "ok"


# --- the reference data sets ------------------------------------------------------------

def load_reference(relative: str) -> list[Problem | Rejection]:
    return load(require_data(relative))


@pytest.mark.slow
def test_every_gsm8k_row_loads_as_a_problem():
    results = load_reference("gsm8k/test.jsonl")
    assert len(results) == 1319
    assert all(isinstance(r, Problem) and r.format == "gsm8k" for r in results)
    assert [r.source_line for r in results] == list(range(1, 1320))
    assert sum(r.final_answer < 0 for r in results) == 2  # as the data README says


@pytest.mark.slow
@pytest.mark.parametrize("relative, rows, fmt", [
    ("svamp/test.jsonl", 1000, "svamp"),
    ("asdiv/test.jsonl", 2215, "asdiv"),
    ("gsm-hard/test.jsonl", 1319, "gsm-hard"),
    ("tora/gsm8k-test.tora-code-34b.jsonl", 1319, "tora"),
    ("tora/gsm8k-test.tora-70b.jsonl", 1319, "tora"),
])
def test_every_reference_row_loads_or_is_rejected(relative, rows, fmt):
    results = load_reference(relative)
    assert len(results) == rows
    assert all(isinstance(r, (Problem, Rejection)) for r in results)
    assert all(r.format == fmt for r in results if isinstance(r, Problem))
    assert all(r.reason != "invalid-input" for r in results if isinstance(r, Rejection))
    assert sum(isinstance(r, Problem) for r in results) > rows // 2


@pytest.mark.slow
def test_asdiv_reference_rejections_have_known_reasons():
    reasons = Counter(r.reason for r in load_reference("asdiv/test.jsonl")
                      if isinstance(r, Rejection))
    assert set(reasons) <= {"non-numeric-answer", "unsupported-formula", "label-mismatch",
                            "unsupported-equation"}
    assert reasons["non-numeric-answer"] > 0



@pytest.mark.parametrize("answer, formula", [
    ("7.1.1 (apples)", "3+4=7"), ("5/0 (apples)", "3+4=7"), ("3 (apples)", "17/5=3.3.3 r2")])
def test_odd_asdiv_answers_are_rejections_not_crashes(tmp_path, answer, formula):
    row = {"body": "Tom has 3 apples and 4 pears.", "question": "How many?",
           "answer": answer, "formula": formula}
    (result,) = load_problems(write_rows(tmp_path / "a.jsonl", [row]))
    assert isinstance(result, Rejection)


def test_lone_surrogates_are_an_input_error(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"question": "Tom has \\ud800 3 apples", "answer": "#### 3"}\n')
    with pytest.raises(InputError, match=f"{path}:1"):
        list(load_problems(path))


# --- ASDiv patterns and ratios -----------------------------------------------------------

def _asdiv(body: str, question: str, formula: str, answer: str) -> dict:
    return {"body": body, "question": question, "formula": formula, "answer": answer,
            "solution_type": "Sequential-Operation"}


@pytest.mark.parametrize("terms, answer, rule", [
    ([8, 16, 24, 32], 40, "32 + 16 - 8 = <<32+16-8=40>>40"),  # constant difference
    ([3, 6, 12, 24, 48], 96, "6 / 3"),           # a constant whole ratio
    ([5, 7, 10, 14, 19], 25, "10 - 7 - (7 - 5)"),  # differences that grow by 1
])
def test_asdiv_sequences_are_read_as_the_pattern_of_the_body(tmp_path, terms, answer, rule):
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    listed = ", ".join(f"{t} cups on {day}" for t, day in zip(terms, days))
    row = _asdiv(f"Ann stacked {listed}. If this pattern continues,",
                 f"how many cups will she stack on {days[len(terms)]}?",
                 ", ".join(map(str, terms + [answer])), f"{answer} (cups)")
    [p] = load_rows(tmp_path, [row])
    assert isinstance(p, Problem), p
    assert p.final_answer == answer
    assert p.question.endswith(f"continues, how many cups will she stack on {days[len(terms)]}?")
    assert rule in p.solution


@pytest.mark.parametrize("terms, answer, reason", [
    ([3, 7, 4, 9], 12, "unsupported-formula"),  # no rule
    ([2, 4, 6, 8], 12, "label-mismatch"),       # the rule gives 10
])
def test_asdiv_sequences_without_a_rule_or_with_another_label_are_rejected(
        tmp_path, terms, answer, reason):
    row = _asdiv(f"Bo read {', '.join(map(str, terms))} pages. If this goes on,",
                 "how many pages will he read next?", ", ".join(map(str, terms + [answer])),
                 f"{answer} (pages)")
    assert one_rejection(tmp_path, row).reason == reason


@pytest.mark.parametrize("body, question, formula, answer, written", [
    ("A small school has 42 boys. If the ratio of boys to girls is 7:1,",
     "how many students are there total?", "7:8=42:48", "48 (students)", "42 * (7 + 1) / 7"),
    ("The ratio of boys to girls at the game is 8:5. There are 30 girls.",
     "How many more boys are there than girls?", "48-30=18", "18 (boys)", "(30 * 8 / 5) - 30"),
    ("Two numbers are in the ratio 3:8. Their sum is 44.", "What is their difference?",
     "32-12=20", "20", "(44 * 8 / (3 + 8)) - (44 * 3 / (3 + 8))"),
])
def test_asdiv_numbers_worked_out_from_a_ratio_are_written_out(
        tmp_path, body, question, formula, answer, written):
    [p] = load_rows(tmp_path, [_asdiv(body, question, formula, answer)])
    assert isinstance(p, Problem), p
    assert written in p.solution


@pytest.mark.parametrize("body, question, formula, answer, written", [
    # a licensed constant (60 minutes) or an earlier result is not a ratio reading
    ("The ratio of boys to girls in a club is 3:1. There are 20 girls. Each girl reads for 2 "
     "hours.", "How many minutes do the girls read in all?", "20*2*60=2400", "2400",
     "20 * 2 * 60"),
    ("The ratio of red to blue marbles is 2:1. There are 12 blue marbles. Bo has 4 bags of 6 "
     "stickers.", "He gets 5 more. How many stickers?", "4*6=24; 24+5=29", "29", "24 + 5"),
    # a clock time is not a ratio
    ("Tom started work at 10:30. He worked for 2 hours and 15 minutes.",
     "How many minutes did he work?", "2*60+15=135", "135", "2 * 60 + 15"),
    # a ratio term of the formula is read from the ratio before a number word of the question
    ("Two numbers are in the ratio 5:7. The difference between the numbers is 12.",
     "What is the larger number?", "2:7=12:42", "42", "12 * 7 / (7 - 5)"),
])
def test_asdiv_ratio_readings_leave_other_numbers_alone(tmp_path, body, question, formula,
                                                       answer, written):
    [p] = load_rows(tmp_path, [_asdiv(body, question, formula, answer)])
    assert isinstance(p, Problem), p
    assert written in p.solution


@pytest.mark.parametrize("body, formula, answer", [
    ("Bo read " + "9" * 4400 + ", 2, 4, 6 pages.", "1, 2, 3, 4", "8"),  # too long to read
    ("Bo read 2, 4, 6 and 8 pages.", "3, 5, 7, 9", "9"),  # the formula's terms are not these
])
def test_asdiv_odd_patterns_are_rejections(tmp_path, body, formula, answer):
    assert one_rejection(tmp_path, _asdiv(body, "How many next?", formula, answer)).reason \
        == "unsupported-formula"
