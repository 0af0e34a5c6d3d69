"""--n K: maj@K and pass@K on planted outputs, K outputs per prediction id, sample caching."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from conftest import write_rows
from mathgen.cli import main
from mathgen.robustness.cache import GenerationCache
from mathgen.robustness.inference import run_inference
from mathgen.robustness.prompts import make_style
from mathgen.robustness.sets import read_set
from mathgen.robustness.voting import majority, pass_at_k

pytest.importorskip("matplotlib", reason="the report's plots need matplotlib")


@pytest.mark.parametrize("n, c, k, expected", [
    (5, 2, 2, Fraction(7, 10)),   # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (5, 1, 3, Fraction(3, 5)),    # 1 - C(4,3)/C(5,3) = 1 - 4/10
    (3, 1, 1, Fraction(1, 3)),    # pass@1 is c/n
    (4, 0, 2, Fraction(0)),
    (6, 3, 6, Fraction(1)),       # k > n - c: some correct sample is always drawn
    (10, 3, 4, Fraction(5, 6)),   # 1 - C(7,4)/C(10,4) = 1 - 35/210
])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k, expected):
    assert pass_at_k(n, c, k) == expected


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n),
                                                      st.integers(1, n))))
def test_pass_at_k_grows_with_k_and_pass_at_1_is_the_share(nck):
    n, c, k = nck
    assert pass_at_k(n, c, 1) == Fraction(c, n)
    assert 0 <= pass_at_k(n, c, k) <= (pass_at_k(n, c, k + 1) if k < n else 1)


@pytest.mark.parametrize("answers, index", [
    (["7", "8", "7.0"], 0),          # 7 and 7.0 are one vote
    (["8", "7", "7", "8"], 0),       # a tie: the answer voted first
    (["3", "5", "5", "3", "5"], 1),
    ([None, "no idea", "5"], 2),     # an answer that reads as no number does not vote
    ([None, None], None),
    (["$12", "12.00", "3", "3"], 0),
])
def test_majority_votes_by_value_and_ties_go_to_the_first_vote(answers, index):
    assert majority(answers) == index


def _run(tmp_path, rows, *extra):
    base = write_rows(tmp_path / "orig.jsonl", [
        {"question": f"Ana has {n} cups and buys {n}. How many?", "answer": f"#### {2 * n}"}
        for n in (2, 30, 400)])
    var = write_rows(tmp_path / "var.jsonl", [
        {"id": f"orig:{line}/v/0", "source_id": f"orig:{line}", "question": f"Ana has {n} ...",
         "final_answer": str(2 * n),
         "original_question": f"Ana has {n0} cups and buys {n0}. How many?"}
        for line, (n0, n) in enumerate(((2, 7), (30, 11), (400, 13)), 1)])
    preds = write_rows(tmp_path / "preds.jsonl", rows)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"orig={base}", "--set",
                                       f"var={var}", "--predictions", str(preds), "--out",
                                       str(out), *extra])
    return result, out


PLANTED = [  # K = 3; gold: orig 4, 60, 800; var 14, 22, 26
    {"id": "orig:1", "outputs": ["4", "4", "5"]},             # maj right, 2 of 3
    {"id": "orig:2", "outputs": ["61", "60", "61"]},          # maj wrong, 1 of 3
    {"id": "orig:3", "output": "800"},                         # rows of one id add up
    {"id": "orig:3", "output": "799"},
    {"id": "orig:3", "output": "no idea"},                     # maj right (one vote), 1 of 3
    {"id": "orig:1/v/0", "outputs": ["13", "14", "15"]},      # tie: 13 first, wrong; 1 of 3
    {"id": "orig:2/v/0", "outputs": ["22", "22", "22"]},      # right, 3 of 3
    {"id": "orig:3/v/0", "outputs": ["1", "2", "3"]},         # wrong, 0 of 3
]


def test_maj_and_pass_at_k_on_planted_outputs_equal_hand_computed_values(tmp_path):
    result, out = _run(tmp_path, PLANTED, "--n", "3")
    assert result.exit_code == 0, result.output
    m = json.loads((out / "metrics.json").read_text())
    orig, var = m["sets"]["orig"], m["sets"]["var"]
    assert orig["accuracy"] == pytest.approx(2 / 3) and var["accuracy"] == pytest.approx(1 / 3)
    # pass@1: mean of c/n; pass@3 with n = 3: 1 when any sample is right
    assert orig["samples"]["pass_at_1"] == pytest.approx((2 / 3 + 1 / 3 + 1 / 3) / 3)
    assert orig["samples"]["pass_at_k"] == pytest.approx(1.0)
    assert var["samples"]["pass_at_1"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert var["samples"]["pass_at_k"] == pytest.approx(2 / 3)
    assert orig["samples"]["maj_at_k"] == orig["accuracy"] and orig["samples"]["k"] == 3
    # the paired comparison reads maj@K per item: orig 1 right, 2 wrong, 3 right
    p = m["paired"]["var"]
    assert (p["baseline_accuracy"], p["accuracy"]) == (pytest.approx(2 / 3),
                                                       pytest.approx(1 / 3))
    assert p["broken"] == 2 and p["fixed"] == 1
    # every source is shared, so the paired pass@k are the sets' own
    assert p["samples"]["baseline"] == orig["samples"] and p["samples"]["set"] == var["samples"]
    lines = (out / "items.jsonl").read_text().splitlines()
    items = {r["id"]: r for r in map(json.loads, lines)}
    assert items["orig:1/v/0"]["extracted"] == "13"
    assert [s["correct"] for s in items["orig:3"]["samples"]] == [True, False, False]
    assert "pass@3 100.0%" in result.output
    page = (out / "report.md").read_text()
    assert "maj@3" in page and "pass@3" in page


@pytest.mark.parametrize("rows, message", [
    ([{"id": "orig:1", "outputs": ["4", "4"]}], "has 2 outputs, not 3"),
    ([{"id": "orig:1", "outputs": ["4", "4", "4", "4"]}], "has 4 outputs, not 3"),
    ([{"id": "orig:1", "outputs": []}], "must be a non-empty list of texts"),
])
def test_an_item_with_other_than_k_outputs_is_one_line_naming_the_file(tmp_path, rows, message):
    result, _ = _run(tmp_path, rows, "--n", "3")
    assert result.exit_code == 2 and message in result.output and "preds.jsonl" in result.output


def test_several_outputs_without_n_say_which_n_to_ask_for(tmp_path):
    result, _ = _run(tmp_path, [{"id": "orig:1", "outputs": ["4", "4"]}])
    assert result.exit_code == 2 and "--n 2" in result.output


def test_n_above_one_with_greedy_decoding_exits_2_with_a_hint(tmp_path):
    base = write_rows(tmp_path / "s.jsonl", [{"question": "Q?", "answer": "#### 1"}])
    result = CliRunner().invoke(main, ["robustness-report", "--set", f"s={base}", "--backend",
                                       "openai", "--model", "m", "--out", str(tmp_path / "o"),
                                       "--n", "4"])
    assert result.exit_code == 2 and "--temperature" in result.output
    assert result.output.count("\n") == 1


class CountingModel:
    """A stand-in for a sampling model: answers each prompt with a number that depends on
    its seed key, and records every key it was asked."""

    name, settings, chunk = "counting", {"temperature": 0.8}, 64

    def __init__(self):
        self.asked: list[str] = []

    def generate(self, prompts, stop, keys=None):
        for i, key in enumerate(keys):
            self.asked.append(key)
            yield i, f"The answer is {len(key)}.", None


def test_a_rerun_asks_nothing_and_a_larger_n_asks_only_the_new_samples(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [{"question": f"Q{n}?", "answer": f"#### {n}"}
                                             for n in range(3)])
    items, _ = read_set("s", path)
    style = make_style("cot")
    model = CountingModel()
    with GenerationCache(tmp_path / "g.sqlite") as cache:
        first, stats = run_inference(items, model, style, cache, samples=2)
        assert stats.generated == 6 and len(model.asked) == 6 == len(set(model.asked))
        again, stats = run_inference(items, model, style, cache, samples=2)
        assert stats.cached == 6 and stats.generated == 0 and len(model.asked) == 6
        assert again == first
        more, stats = run_inference(items, model, style, cache, samples=4)
        assert stats.cached == 6 and stats.generated == 6
        assert sorted(model.asked[6:]) == sorted(f"s:{n}#{s}" for n in (1, 2, 3)
                                                 for s in (2, 3))
        assert all(more[k][:2] == first[k] for k in first)
        single, stats = run_inference(items, model, style, cache)  # sample 0 is the single one
        assert stats.generated == 0 and all(single[k] == first[k][0] for k in first)


def test_failed_samples_neither_vote_nor_count_and_an_item_failed_in_all_is_left_out(tmp_path):
    from mathgen.robustness.inference import Outcome
    from mathgen.robustness.metrics import compute_metrics
    from mathgen.robustness.voting import grade_samples

    path = write_rows(tmp_path / "s.jsonl", [{"question": f"Q{n}?", "answer": f"#### {n}"}
                                             for n in (5, 6, 7)])
    items, _ = read_set("s", path)
    bad = Outcome(None, "timeout: no reply")
    outcomes = {("s", "s:1"): [bad, Outcome("4"), Outcome("5"), Outcome("5")],  # maj 5, right
                ("s", "s:2"): [bad, bad, bad, bad],                             # failed item
                ("s", "s:3"): [Outcome("7"), Outcome("8"), Outcome("8"), Outcome("7")]}
    graded = grade_samples(items, outcomes, make_style("cot").extract)
    assert [g.failed for g in graded] == [False, True, False]
    assert graded[0].correct and graded[0].samples == (("4", False), ("5", True), ("5", True))
    assert graded[2].correct  # 7 and 8 tie; 7 voted first
    s = compute_metrics(graded, "s")["sets"]["s"]
    assert (s["n"], s["failed"], s["accuracy"]) == (2, 1, 1.0)
    v = s["samples"]
    assert v["pass_at_1"] == pytest.approx((2 / 3 + 2 / 4) / 2)
    # s:1 has 3 answered samples, short of K = 4: left out of pass@4, counted beside it
    assert (v["pass_at_k"], v["items_pass_at_k"], v["short_of_k"]) == (1.0, 1, 1)
    assert v["failed_samples"] == 1


def test_over_http_a_rerun_asks_nothing_and_a_larger_n_asks_only_new_samples(tmp_path):
    from test_backend_faults import FaultServer, _args, _questions

    data, out = _questions(tmp_path / "items.jsonl", 4), tmp_path / "report"
    server = FaultServer()
    try:
        def run(n):
            before = len(server.log)
            result = CliRunner().invoke(main, _args(data, out, server.url, "--temperature",
                                                    "0.7", "--n", str(n)))
            assert result.exit_code == 0, result.output
            return result.output, len(server.log) - before
        output, asked = run(2)
        assert asked >= 8 and "generated 8, from the cache 0" in output
        output, asked = run(2)
        assert asked == 0 and "generated 0, from the cache 8" in output
        output, asked = run(3)
        assert asked >= 4 and "generated 4, from the cache 8" in output
        m = json.loads((out / "metrics.json").read_text())["sets"]["s"]
        assert m["samples"]["k"] == 3 and m["samples"]["items"] == 4
    finally:
        server.close()
