"""robustness-report without a model: sets, prompts, predictions, metrics, files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import require_data, write_rows
from mathgen.answers import grade
from mathgen.cli import main
from mathgen.errors import InputError, MathgenError
from mathgen.robustness.metrics import Graded, compute_metrics
from mathgen.robustness.predictions import read_predictions
from mathgen.robustness.prompts import Style, make_style, read_examples, tool_output
from mathgen.robustness.sets import Item, number_size, read_set
from mathgen.sandbox import ExecResult

pytest.importorskip("matplotlib", reason="the report's plots need matplotlib")

VARIANT = {"id": "q:1/similar/0/0", "source_id": "q:1", "question": "Tom has 1,200 apples.",
           "final_answer": "1200", "answer": "#### 1200"}


@pytest.mark.parametrize("row, question, gold, fmt", [
    ({"question": "A has 3 and 4.", "answer": "3+4=<<3+4=7>>7\n#### 7"}, "A has 3 and 4.", "7",
     "gsm8k"),
    (VARIANT, "Tom has 1,200 apples.", "1200", "variant"),
    ({"input": "Eggs: 4933828.", "code": "def solution(): ...", "target": -9867630.0},
     "Eggs: 4933828.", "-9867630", "gsm-hard"),
    ({"Body": "Ann had 5 pens", "Question": "How many?", "Equation": "( 5.0 )",
      "Answer": 5.0}, "Ann had 5 pens, how many?", "5", "svamp"),
    ({"body": "Ann had 5 pens.", "question": "How many?", "formula": "5=5",
      "answer": "5 (pens)"}, "Ann had 5 pens. How many?", "5", "asdiv"),
])
def test_a_set_reads_question_and_gold_of_every_format(tmp_path, row, question, gold, fmt):
    items, skipped = read_set("s", write_rows(tmp_path / "test.jsonl", [row]))
    assert [(i.question, i.gold, i.format) for i in items] == [(question, gold, fmt)]
    assert skipped == []
    assert items[0].source_id == (row["source_id"] if fmt == "variant" else "test:1")
    assert items[0].id == (row["id"] if fmt == "variant" else "s:1")


def test_rows_whose_gold_is_not_a_number_are_skipped_and_counted(tmp_path):
    rows = [{"body": "Ann is here.", "question": "Who?", "formula": "x", "answer": "Ann"},
            {"body": "Ann had 5 pens.", "question": "How many?", "formula": "5=5",
             "answer": "5 (pens)"}]
    items, skipped = read_set("asdiv", write_rows(tmp_path / "a.jsonl", rows))
    assert [i.gold for i in items] == ["5"] and [s.line for s in skipped] == [1]


@pytest.mark.parametrize("rows, line, field", [
    ([{"question": "x", "answer": "no final line"}], 1, "answer"),
    ([VARIANT, VARIANT], 2, "id"),
    ([{"input": "x", "code": "y", "target": "big"}], 1, "target"),
    ([VARIANT, {**VARIANT, "id": "b", "final_answer": "lots"}], 2, "final_answer"),
])
def test_bad_set_rows_name_file_line_and_field(tmp_path, rows, line, field):
    path = write_rows(tmp_path / "bad.jsonl", rows)
    with pytest.raises(InputError) as err:
        read_set("s", path)
    assert (err.value.line, err.value.field) == (line, field)
    assert str(path) in str(err.value)


def test_number_size_counts_digits_of_the_largest_number():
    assert [number_size(q) for q in ("no numbers", "3 and 12", "$1,250.75 or 9", "0.5 kg",
                                     "4933828 eggs")] == [0, 2, 4, 1, 7]


def test_tool_output_is_what_a_model_sees():
    ok = ExecResult("ok", "42\n", "", 0.01, 0)
    err = ExecResult("error", "", "Traceback ...\nNameError: name 'x' is not defined\n", 0.01, 1)
    slow = ExecResult("timeout", "", "mathgen.sandbox: killed at 5 s\n", 5.0, -9)
    assert [tool_output(r) for r in (ok, err, slow)] == [
        "42", "NameError: name 'x' is not defined", "TimeoutError: the program ran too long"]


def test_tora_runs_only_a_program_that_ends_the_generation():
    tora = make_style("tora", rounds=2)
    call = "Let me compute.\n```python\nprint(1)\n```\n"
    assert tora.program(call, 0) == "print(1)\n"
    assert tora.program(call, 2) is None  # out of rounds
    assert tora.program("```python\nprint(1)\n```\nSo $\\boxed{1}$.", 0) is None
    assert tora.program("```python\nprint(1", 0) is None  # cut off mid-program
    assert tora.splice(call, "1").endswith("```\n```output\n1\n```\n")


def test_pal_reads_the_printed_answer_and_nothing_from_a_failed_run():
    pal = make_style("pal")
    assert pal.extract(pal.splice("print(7 * 6)\n", "42")).text == "42"
    failed = pal.splice("print(x2)\n", "NameError: name 'x2' is not defined")
    assert pal.extract(failed).text is None
    assert pal.prompt("Q?").endswith("Problem: Q?\n\n```python\n")


def test_cot_few_shot_examples_come_from_gsm8k_rows(tmp_path):
    shots = write_rows(tmp_path / "shots.jsonl", [
        {"question": "1 + 1?", "answer": "One and one make 1+1=<<1+1=2>>2.\n#### 2"}])
    style = make_style("cot", few_shot=shots)
    assert style.examples == (("1 + 1?", "One and one make 1+1=2.\nThe answer is 2."),)
    assert "Problem: 1 + 1?\nSolution: One and one" in style.prompt("2 + 2?")
    assert style.key != make_style("cot").key  # other examples, other cache entries
    with pytest.raises(InputError, match="'#### N'"):
        read_examples(write_rows(tmp_path / "bad.jsonl", [{"question": "q", "answer": "a"}]))
    with pytest.raises(MathgenError, match="chat"):
        make_style("tora", chat=True)
    assert Style("cot", chat=True).prompt("Q?")[-1]["role"] == "user"


def _items(name: str, n: int) -> list[Item]:
    return [Item(name, f"{name}:{i}", f"src:{i}", i + 1, f"Q{i} has {10 ** (i % 3)} eggs", "1",
                 "gsm8k", i % 3 + 1, source=f"Q{i}", row=i) for i in range(n)]


def test_predictions_match_by_id_or_by_tora_position(tmp_path):
    sets = {"a": _items("a", 3), "b": _items("b", 3)}
    by_id = write_rows(tmp_path / "p.jsonl", [{"id": "a:0", "output": "1"},
                                              {"id": "b:2", "prediction": "2"},
                                              {"id": "zzz", "output": "3"}])
    tora = write_rows(tmp_path / "t.jsonl", [{"idx": 1, "code": ["\\boxed{1}"],
                                              "question": "Q1 has 10 eggs"}])
    found = read_predictions([(None, by_id), ("b", tora)], sets)
    assert found.outputs == {("a", "a:0"): "1", ("b", "b:2"): "2", ("b", "b:1"): "\\boxed{1}"}
    assert found.unmatched == 1
    with pytest.raises(InputError, match="needs a set"):
        read_predictions([(None, tora)], sets)
    twice = write_rows(tmp_path / "d.jsonl", [{"id": "a:0", "output": "1"}] * 2)
    with pytest.raises(InputError, match="twice"):
        read_predictions([(None, twice)], sets)
    other = write_rows(tmp_path / "o.jsonl", [{"idx": 1, "code": ["1"], "question": "Else?"}])
    with pytest.raises(InputError, match="another question"):
        read_predictions([("a", other)], sets)
    nothing = write_rows(tmp_path / "n.jsonl", [{"id": "zzz", "output": "1"}])
    with pytest.raises(InputError, match="no row matches"):
        read_predictions([(None, nothing)], sets)


def _graded(item: Item, correct: bool) -> Graded:
    return Graded(item, "out", "1" if correct else "2", "last-number", correct, "")


def test_metrics_pair_sets_by_source():
    base = _items("base", 4)
    # two variants per source: source 0 keeps both right, source 1 breaks one, source 3 is fixed
    var = [Item("var", f"v{i}{k}", f"src:{i}", 1, f"V{i}{k} 1234567", "1", "variant", 7,
                source=f"Q{i}") for i in range(4) for k in range(2)]
    graded = [_graded(b, c) for b, c in zip(base, [True, True, True, False])]
    graded += [_graded(v, c) for v, c in zip(var, [True, True, True, False, False, False,
                                                   True, False])]
    m = compute_metrics(graded, baseline="base", seed=0)
    assert m["sets"]["base"] == {"n": 4, "correct": 3, "accuracy": 0.75, "no_answer": 0,
                                 "failed": 0, "failed_share": 0.0, "missing": 0,
                                 "format": "gsm8k", "ci95": m["sets"]["base"]["ci95"]}
    p = m["paired"]["var"]
    assert (p["n_pairs"], p["n_sources"], p["broken_items"], p["fixed_items"]) == (8, 4, 3, 1)
    # by source: 0 right/right, 1 right/split (neither), 2 right/wrong (broken), 3 wrong/split
    assert (p["broken"], p["fixed"]) == (1, 0)
    assert p["drop"] == pytest.approx(0.75 - (1 + 0.5 + 0 + 0.5) / 4)
    assert p["mcnemar_p"] == 1.0  # one discordant source proves nothing
    assert p["drop_ci95"][0] <= p["drop"] <= p["drop_ci95"][1]
    assert set(m["by_size"]["base"]) == {"1", "2", "3"} and set(m["by_size"]["var"]) == {"7+"}
    s = m["spread"]["var"]
    assert (s["sources"], s["consistency"], s["all_wrong"], s["mixed"]) == (4, 0.25, 0.25, 0.5)
    assert s["histogram"] == [1, 0, 2, 0, 1]  # 0, 50, 50, 100 %
    assert m["consistency"] == {"sources": 4, "solved_everywhere": 0.25, "solved_nowhere": 0.0}
    assert [f["kind"] for f in m["flips"]["var"]].count("fixed") == 1
    assert "spread" not in m["paired"] and "base" not in m["spread"]


def _failed(item: Item) -> Graded:
    return Graded(item, None, None, "none", False, "generation failed: HTTP 500 (3 attempts)",
                  error="HTTP 500 (3 attempts)")


def test_failed_items_are_left_out_of_every_figure_and_listed(tmp_path):
    from mathgen.robustness.report import write_report

    base, var = _items("base", 6), _items("var", 6)
    # the failed items would be wrong if they counted: every figure below stays at 100%
    graded = [_failed(b) if i in (1, 4) else _graded(b, True) for i, b in enumerate(base)]
    graded += [_failed(v) if i == 0 else _graded(v, True) for i, v in enumerate(var)]
    graded += [_failed(Item("down", f"down:{i}", f"src:{i}", 1, f"Q{i} has 1 egg", "1",
                            "gsm8k", 1, source=f"Q{i}")) for i in range(2)]
    m = write_report(graded, tmp_path, baseline="base")
    s = m["sets"]["base"]
    assert (s["n"], s["correct"], s["accuracy"], s["failed"]) == (4, 4, 1.0, 2)
    assert s["failed_share"] == pytest.approx(2 / 6) and s["missing"] == 0
    # both items with two-digit numbers failed: that bin has no accuracy, not 0%
    assert m["by_size"]["base"]["2"] == {"n": 0, "correct": 0, "accuracy": None, "failed": 2,
                                         "failed_share": 1.0, "ci95": [0.0, 1.0]}
    assert m["by_size"]["base"]["1"]["accuracy"] == 1.0
    assert m["sets"]["down"]["accuracy"] is None and m["sets"]["down"]["failed"] == 2
    p = m["paired"]["var"]  # sources 1 and 4 failed in the baseline, 0 in the variants
    assert (p["n_sources"], p["drop"], p["broken"]) == (3, 0.0, 0)
    assert m["consistency"]["solved_nowhere"] == 0.0
    assert [f["id"] for f in m["failed"]] == ["base:1", "base:4", "var:0", "down:0", "down:1"]
    page = (tmp_path / "report.md").read_text()
    assert "5 of 14 items (35.7%) could not be generated" in page
    assert "| down | 0 | 0 | n/a |" in page and "| base | 4 | 4 | 100.0 |" in page
    assert "| base | base:4 | HTTP 500 (3 attempts) |" in page
    assert "| base | 100.0 (2) | n/a (0), 2 failed | 100.0 (2) |" in page
    rows = [json.loads(x) for x in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows[:2]] == [True, None] and rows[1]["failed"]
    assert "n/a" in (tmp_path / "report.html").read_text()


def _write_report(tmp_path: Path, *extra: str):
    base = write_rows(tmp_path / "orig.jsonl", [
        {"question": f"Sam has {n} pens and buys {n}. How many?", "answer": f"#### {2 * n}"}
        for n in (3, 40, 500, 6000)])
    variants = write_rows(tmp_path / "var.jsonl", [
        {"id": f"orig:{line}/v/{k}", "source_id": f"orig:{line}", "question": f"Sam has {n} ...",
         "final_answer": str(2 * n),
         "original_question": f"Sam has {n0} pens and buys {n0}. How many?"}
        for line, n0 in enumerate((3, 40, 500, 6000), 1) for k, n in enumerate((n0 * 7, n0 * 9))])
    preds = write_rows(tmp_path / "preds.jsonl", [
        {"id": "orig:1", "output": "The answer is 6."}, {"id": "orig:2", "output": "80"},
        {"id": "orig:3", "output": "\\boxed{1000}"}, {"id": "orig:4", "output": "12,000"},
        {"id": "orig:1/v/0", "output": "42"}, {"id": "orig:1/v/1", "output": "54"},
        {"id": "orig:2/v/0", "output": "560"}, {"id": "orig:2/v/1", "output": "7"},
        {"id": "orig:3/v/0", "output": "no idea"}])
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"orig={base}", "--set",
                                       f"var={variants}", "--predictions", str(preds),
                                       "--out", str(out), *extra])
    return result, out


def test_the_cli_writes_every_report_file(tmp_path):
    result, out = _write_report(tmp_path)
    assert result.exit_code == 0, result.output
    assert "orig: 100.0% of 4" in result.output and "var: 37.5% of 8" in result.output
    for name in ("report.html", "report.md", "metrics.json", "items.jsonl", "plots/accuracy.png",
                 "plots/size.png", "plots/paired.png", "plots/spread.png"):
        assert (out / name).stat().st_size > 0, name
    m = json.loads((out / "metrics.json").read_text())
    assert m["sets"]["var"]["correct"] == 3 and m["paired"]["var"]["baseline"] == "orig"
    assert set(m["paired"]["var"]) >= {"baseline", "n_pairs", "drop", "drop_ci95", "mcnemar_p"}
    items = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert len(items) == 12
    missing = [i for i in items if i["output"] is None]
    assert {i["id"] for i in missing} == {"orig:3/v/1", "orig:4/v/0", "orig:4/v/1"}
    assert all(i["reason"] == "no prediction" for i in missing)
    assert set(items[0]) >= {"question", "output", "extracted", "gold", "correct", "set",
                             "source_id"}
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "<script" not in page
    # same inputs, same files
    first = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _write_report(tmp_path)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first


@pytest.mark.parametrize("args, message", [
    (["--baseline", "nope"], "--baseline 'nope' is not one of the sets"),
    (["--batch-size", "2"], "--batch-size needs --backend"),
    (["--model", "m"], "--model needs --backend"),
    (["--backend", "hf", "--model", "m"], "--predictions needs --backend predictions"),
    (["--out", "/proc/nope"], "cannot make the folder"),
    (["--prompt", "pal", "--few-shot", "x.jsonl"], "--few-shot works with --prompt cot only"),
])
def test_cli_mistakes_are_one_line_and_exit_2(tmp_path, args, message):
    result, _ = _write_report(tmp_path, *args)
    assert result.exit_code == 2 and message in result.output
    assert result.output.count("\n") == 1


def test_cli_bad_set_file_names_file_and_line(tmp_path):
    bad = write_rows(tmp_path / "bad.jsonl", [{"question": "q", "answer": "#### 1"}, "{oops"])
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"b={bad}",
                                       "--predictions", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"{bad}:2" in result.output


def test_gsm_hard_items_pair_with_gsm8k_and_are_classed_by_the_audit(tmp_path):
    gsm8k, hard = require_data("gsm8k/test.jsonl"), require_data("gsm-hard/test.jsonl")
    # a 'model' that answers GSM8K right, and GSM-HARD with its label rounded to a whole
    # number: right wherever the label is whole, wrong on every fractional label
    rows = [{"id": f"gsm8k:{i}", "output": row["answer"].rsplit("####", 1)[1].strip()}
            for i, row in enumerate(map(json.loads, gsm8k.read_text().splitlines()), 1)]
    rows += [{"id": f"hard:{i}", "output": str(round(row["target"]))}
             for i, row in enumerate(map(json.loads, hard.read_text().splitlines()), 1)]
    preds = write_rows(tmp_path / "p.jsonl", rows)
    out = tmp_path / "r"
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"gsm8k={gsm8k}", "--set",
                                       f"hard={hard}", "--predictions", str(preds),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["sets"]["gsm8k"]["accuracy"] == 1.0
    classes = m["gsm_hard"]["hard"]
    assert classes["negative"]["n"] == 146 and classes["non_integer"]["n"] == 299
    assert classes["sensible"]["n"] == 1319 - 415 and classes["sensible"]["accuracy"] == 1.0
    assert classes["non_integer"]["accuracy"] == 0.0
    # each GSM-HARD row pairs with the GSM8K problem the audit found for it, not its line
    items = {r["id"]: r for r in map(json.loads, (out / "items.jsonl").open())}
    assert items["hard:3"]["source_id"] == "test:4"
    assert m["paired"]["hard"]["n_pairs"] == 1317  # two rows match no GSM8K question
    assert (out / "plots" / "gsm_hard_hard.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name, published", [("tora-code-34b", 80.7), ("tora-70b", 84.3)])
def test_tora_outputs_grade_within_half_a_point_of_the_published(tmp_path, name, published):
    gsm8k = require_data("gsm8k/test.jsonl")
    tora = require_data(f"tora/gsm8k-test.{name}.jsonl")
    out = tmp_path / name
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"gsm8k={gsm8k}",
                                       "--predictions", f"gsm8k={tora}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    accuracy = 100 * json.loads((out / "metrics.json").read_text())["sets"]["gsm8k"]["accuracy"]
    assert abs(accuracy - published) <= 0.5, accuracy
    # ToRA's own extracted answers ('pred') grade the same as ours on every item
    ours = {r["id"]: r["correct"] for r in map(json.loads, (out / "items.jsonl").open())}
    differ = [f"gsm8k:{r['idx'] + 1}" for r in map(json.loads, tora.open())
              if grade(r["pred"][0], r["gt"]).correct != ours[f"gsm8k:{r['idx'] + 1}"]]
    assert differ == []



def test_svamp_originals_pair_with_their_perturbed_variants(tmp_path):
    row = {"Body": "Ann had 5 pens and bought 7 more", "Question": "How many pens does she have?",
           "Equation": "( 5.0 + 7.0 )", "Answer": 12.0}
    original = write_rows(tmp_path / "svamp.jsonl", [row])
    variants = tmp_path / "var.jsonl"
    done = CliRunner().invoke(main, ["perturb", str(original), "-o", str(variants), "-n", "2"])
    assert done.exit_code == 0, done.output
    (orig,), _ = read_set("orig", original)
    var, _ = read_set("var", variants)
    assert len(var) == 2 and {v.source for v in var} == {orig.source}


def _instances(name: str, strategy: str, verdicts) -> list[Graded]:
    """Instances of one template (one source), drawn in order, graded as given."""
    return [_graded(Item(name, f"t/{strategy}/1/{i}", "t", i + 1, f"{name} question {i}", "1",
                         "variant", 1, source="the template's question"), ok)
            for i, ok in enumerate(verdicts)]


def test_flips_pair_each_instance_with_the_same_instance_of_the_baseline():
    small = _instances("small", "similar", [True, True, False])
    large = _instances("large", "digits:4", [False, False, False])
    m = compute_metrics(small + large, baseline="small", seed=0)
    flips = m["flips"]["large"]
    # instance 2 is wrong in both: no flip; instances 0 and 1 broke, each against its own
    assert sorted((f["original"]["id"], f["variant"]["id"]) for f in flips) == [
        ("t/similar/1/0", "t/digits:4/1/0"), ("t/similar/1/1", "t/digits:4/1/1")]
    assert {f["kind"] for f in flips} == {"broken"}


def test_flips_pair_a_single_original_with_each_of_its_variants():
    base = [_graded(i, c) for i, c in zip(_items("base", 2), [True, False])]
    var = [_graded(Item("var", f"v{i}{k}", f"src:{i}", 1, f"V{i}{k}", "1", "variant", 1,
                        source=f"Q{i}"), ok)
           for i, oks in enumerate([(False, True), (True, True)]) for k, ok in enumerate(oks)]
    flips = compute_metrics(base + var, baseline="base", seed=0)["flips"]["var"]
    got = sorted((f["kind"], f["original"]["id"], f["variant"]["id"]) for f in flips)
    assert got == [("broken", base[0].item.id, "v00"), ("fixed", base[1].item.id, "v10"),
                   ("fixed", base[1].item.id, "v11")]


def _variant_items(name: str) -> list[Item]:
    return [Item(name, f"q:{i}/similar/0/0", f"q:{i}", i, f"Q{i}", "1", "variant", 1,
                 source=f"Q{i}", row=i - 1) for i in (1, 2)]


@pytest.mark.parametrize("ids", [["q:1/similar/0/0", "q:2/similar/0/0"], ["v:1", "v:2"],
                                 ["q:1/similar/0/0", "v:2"]])
def test_predictions_of_variants_match_by_variant_id_or_by_line(tmp_path, ids):
    rows = [{"id": i, "output": str(k)} for k, i in enumerate(ids)]
    found = read_predictions([(None, write_rows(tmp_path / "p.jsonl", rows))],
                             {"v": _variant_items("v")})
    assert found.outputs == {("v", "q:1/similar/0/0"): "0", ("v", "q:2/similar/0/0"): "1"}
    assert found.unmatched == 0


def test_one_variant_answered_by_its_id_and_its_line_is_an_error(tmp_path):
    rows = [{"id": "q:1/similar/0/0", "output": "1"}, {"id": "v:1", "output": "2"}]
    with pytest.raises(InputError, match="second time"):
        read_predictions([(None, write_rows(tmp_path / "p.jsonl", rows))],
                         {"v": _variant_items("v")})


def test_rows_that_match_no_item_are_counted_with_an_example_of_an_expected_id(tmp_path):
    sets = write_rows(tmp_path / "v.jsonl", [{**VARIANT, "id": "q:1/similar/0/0"}])
    preds = write_rows(tmp_path / "p.jsonl", [{"id": "q:1/similar/0/0", "output": "1200"},
                                              {"id": "q:1", "output": "1200"}])
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"v={sets}",
                                       "--predictions", str(preds), "--out",
                                       str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert ("1 prediction row matched no item (such as 'q:1'; item ids look like "
            "'q:1/similar/0/0')") in result.output
    nothing = write_rows(tmp_path / "n.jsonl", [{"id": "zzz", "output": "1"}])
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"v={sets}",
                                       "--predictions", str(nothing), "--out",
                                       str(tmp_path / "rep2")])
    assert result.exit_code == 2 and "'q:1/similar/0/0'" in result.output
