"""``mathgen export lm-eval``: the tasks lm-eval runs from the exported folder score the same
outputs exactly as ``mathgen robustness-report`` does.

A planted model (``lmeval_planted.py``) answers through lm-eval's own command line, right in
several wordings and wrong in others, so the accuracies compared are neither 0 nor 1; a tiny
random Llama built here runs through lm-eval's ``hf`` model for the whole path on a real model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import GSM8K_ROW, write_rows

from mathgen.answers import extract, grade
from mathgen.cli import main

HERE = Path(__file__).resolve().parent

GSM8K_ROWS = [
    GSM8K_ROW,
    {"question": "A box holds 12 pencils. How many pencils are in 5 boxes?",
     "answer": "There are 12 * 5 = <<12*5=60>>60 pencils.\n#### 60"},
    {"question": "Mia had 30 stickers and gave away 8. How many stickers does she have now?",
     "answer": "She has 30 - 8 = <<30-8=22>>22 stickers.\n#### 22"},
]
# GSM-HARD's labels are floats: 0.30000000000000004 is graded up to float noise
GSM_HARD_ROWS = [
    {"input": "Ann pays 0.1 dollars and then 0.2 dollars. How much does she pay?",
     "code": "def solution():\n    return 0.1 + 0.2", "target": 0.1 + 0.2},
    {"input": "Bo has 3 bags of 4 nuts. How many nuts does he have?",
     "code": "def solution():\n    return 3 * 4.0", "target": 12.0},
    {"input": "It is 1.5 degrees and falls by 6 degrees. What is the temperature now?",
     "code": "def solution():\n    return 1.5 - 6", "target": -4.5},
]


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _shown(gold: str) -> str:
    return gold if "." not in gold else f"{float(gold):.10g}"


def _money(gold: str) -> str:
    value = Fraction(gold)
    return f"${int(value):,}.00" if value.denominator == 1 else _shown(gold)


# what the planted model writes for the i-th item of a set (i % 6), and whether it is right
FORMS = [
    (lambda g: f"It is so.\n#### {_shown(g)}", True),
    (lambda g: f"#### {Fraction(g) + 1}", False),
    (lambda g: f"She pays 2 + 3 = 5 first. The answer is {_money(g)}.", True),
    (lambda g: "I cannot tell.", False),
    # the last number is not the answer: a regex for it would be wrong here, mathgen is not
    (lambda g: f"The answer is {_shown(g)}.\nCheck: 99 - 1 = 98", True),
    (lambda g: f"So it is \\boxed{{{Fraction(g) + 2}}}.", False),
]


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict:
    """Three sets: GSM8K rows, their variants from mathgen perturb, GSM-HARD rows."""
    folder = tmp_path_factory.mktemp("sets")
    original = write_rows(folder / "original.jsonl", GSM8K_ROWS)
    similar = folder / "similar.jsonl"
    result = mathgen("perturb", original, "-o", similar, "-n", 3, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert len(similar.read_text().splitlines()) == 9
    hard = write_rows(folder / "hard.jsonl", GSM_HARD_ROWS)
    return {"original": original, "similar": similar, "hard": hard}


def _plant(sets: dict, path: Path) -> dict:
    """Write the planted answers; returns the number of right ones per set."""
    from mathgen.robustness.sets import read_set

    answers, right = {}, {}
    for name, file in sets.items():
        items, _ = read_set(name, file)
        right[name] = 0
        for i, item in enumerate(items):
            form, correct = FORMS[i % len(FORMS)]
            answers[item.question] = form(item.gold)
            right[name] += correct
    path.write_text(json.dumps(answers), encoding="utf-8")
    return right


def _env(tmp_path: Path) -> dict:
    # datasets' cache in the test's folder, and no model hub: everything here is local
    return dict(os.environ, HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1",
                HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def _lm_eval(command, tmp_path, tasks: Path, out: Path):
    args = command + ["--include_path", str(tasks), "--tasks", "mathgen", "--log_samples",
                      "--output_path", str(out)]
    run = subprocess.run(args, cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    samples = {p.name.split("_")[2]: p for p in out.rglob("samples_*.jsonl")}
    return results, samples


def _report(sets: dict, samples: dict, out: Path) -> dict:
    args = ["robustness-report", "--out", out]
    for name, file in sets.items():
        args += ["--set", f"{name}={file}", "--predictions", f"{name}={samples[name]}"]
    result = mathgen(*args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text())["sets"]


def test_lm_eval_scores_planted_outputs_as_the_report_does(sets, tmp_path):
    pytest.importorskip("lm_eval", reason="needs lm-eval (pip install 'mathgen-mmos[lmeval]')")
    right = _plant(sets, tmp_path / "answers.json")
    exported = tmp_path / "exported"
    result = mathgen("export", "lm-eval", *[f"{n}={p}" for n, p in sets.items()],
                     "-o", exported)
    assert result.exit_code == 0, result.output
    tasks = tmp_path / "moved" / "tasks"  # the folder still works where it is moved
    tasks.parent.mkdir()
    shutil.move(exported, tasks)
    results, samples = _lm_eval([sys.executable, str(HERE / "lmeval_planted.py"), "--model",
                                 "planted", "--model_args", f"answers={tmp_path / 'answers.json'}"],
                                tmp_path, tasks, tmp_path / "lm-eval")
    report = _report(sets, samples, tmp_path / "report")
    sizes = {"original": 3, "similar": 9, "hard": 3}
    assert right == {"original": 2, "similar": 5, "hard": 2}
    for name, n in sizes.items():
        task = results[f"mathgen_{name}"]
        assert task["sample_len"] == n == report[name]["n"]
        assert task["exact_match,none"] == report[name]["accuracy"] == right[name] / n
    assert results["mathgen"]["exact_match,none"] == pytest.approx(9 / 15)


@pytest.mark.slow
def test_a_tiny_llama_through_lm_eval_scores_as_the_report(sets, tmp_path):
    pytest.importorskip("lm_eval", reason="needs lm-eval (pip install 'mathgen-mmos[lmeval]')")
    pytest.importorskip("torch", reason="the tiny model needs torch")
    from mathgen.robustness.sets import read_set
    from tiny_models import tiny_llama

    questions = [it.question for n, f in sets.items() for it in read_set(n, f)[0]]
    model, tokenizer = tiny_llama(questions + ["Question: Answer: #### 0 1 2 3 4 5 6 7 8 9"])
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    tasks = tmp_path / "tasks"
    result = mathgen("export", "lm-eval", *[f"{n}={p}" for n, p in sets.items()],
                     "-o", tasks, "--max-tokens", 12)
    assert result.exit_code == 0, result.output
    results, samples = _lm_eval(
        [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
         f"pretrained={tmp_path / 'model'},dtype=float32", "--device", "cpu",
         "--batch_size", "8"], tmp_path, tasks, tmp_path / "lm-eval")
    report = _report(sets, samples, tmp_path / "report")
    for name in sets:
        rows = [json.loads(line) for line in samples[name].read_text().splitlines()]
        assert all(row["resps"][0][0].strip() for row in rows)  # the model wrote something
        assert results[f"mathgen_{name}"]["exact_match,none"] == report[name]["accuracy"]
        assert results[f"mathgen_{name}"]["sample_len"] == report[name]["n"]


def _utils(folder: Path):
    spec = importlib.util.spec_from_file_location("exported_utils", folder / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("output, gold, rel_tol", [
    ("#### 1,250", "1250", 0.0), ("The answer is $18.00.", "18", 0.0),
    ("\\boxed{\\frac{1}{2}}", "0.5", 0.0), ("The answer is 20%.", "0.2", 0.0),
    ("The answer is 7.\nCheck: 3 + 4 = 7, 99", "7", 0.0), ("nothing here", "3", 0.0),
    ("#### 19", "18", 0.0), ("#### 0.3", "0.30000000000000004", 4e-15),
    ("#### 0.3", "0.30000000000000004", 0.0),
])
def test_the_exported_metric_is_mathgens_grade(sets, tmp_path, output, gold, rel_tol):
    result = mathgen("export", "lm-eval", f"original={sets['original']}", "-o", tmp_path / "t")
    assert result.exit_code == 0, result.output
    utils = _utils(tmp_path / "t")
    want = grade(extract(output).text, gold, rel_tol=rel_tol).correct
    doc = {"target": gold, "rel_tol": rel_tol}
    assert utils.process_results(doc, [output]) == {"exact_match": float(want)}


def test_the_exported_data_is_the_sets_items_and_loads_after_a_move(sets, tmp_path):
    pytest.importorskip("datasets", reason="the tasks' loader reads with datasets")
    import yaml

    from mathgen.robustness.sets import read_set

    examples = write_rows(tmp_path / "shots.jsonl", GSM8K_ROWS[1:])
    result = mathgen("export", "lm-eval", *[f"{n}={p}" for n, p in sets.items()], "-o",
                     tmp_path / "a", "--name", "robust", "--few-shot", examples,
                     "--num-fewshot", 1)
    assert result.exit_code == 0, result.output
    shutil.move(tmp_path / "a", tmp_path / "b")
    folder = tmp_path / "b"
    group = yaml.safe_load((folder / "robust.yaml").read_text())
    assert group["group"] == "robust" and group["task"] == [f"robust_{n}" for n in sets]
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    for name, file in sets.items():
        text = (folder / f"robust_{name}.yaml").read_text()
        assert "num_fewshot: 1" in text and "!function utils.process_results" in text
        config = yaml.load(text, Loader=_loader())
        loaded = _utils(folder).load(**config["dataset_kwargs"], version=1.0)
        items = read_set(name, file)[0]
        assert [(r["id"], r["question"], r["target"]) for r in loaded["test"]] == \
            [(it.id, it.question, it.gold) for it in items]
        assert [r["target"] for r in loaded["fewshot"]] == ["There are 12 * 5 = 60 pencils.\n"
                                                            "#### 60"]
    rel = {r["target"]: r["rel_tol"] for r in map(json.loads, (folder / "data" /
           "robust_hard.jsonl").read_text().splitlines())}
    assert rel == {"0.30000000000000004": 4e-15, "12": 4e-15, "-4.5": 4e-15}


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass
    Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
    return Loader


def test_the_same_export_twice_gives_the_same_bytes_and_drops_stale_tasks(sets, tmp_path):
    out = tmp_path / "t"
    assert mathgen("export", "lm-eval", *[f"{n}={p}" for n, p in sets.items()],
                   "-o", out).exit_code == 0
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert mathgen("export", "lm-eval", f"original={sets['original']}", "-o", out).exit_code == 0
    assert not (out / "mathgen_hard.yaml").exists() and not (out / "data/mathgen_hard.jsonl"
                                                             ).exists()
    assert mathgen("export", "lm-eval", *[f"{n}={p}" for n, p in sets.items()],
                   "-o", out).exit_code == 0
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == first


def _fails(result, *words):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathgen: error: "), lines
    for word in words:
        assert word in lines[0], lines[0]


def test_bad_input_gives_one_line_naming_file_line_and_field(tmp_path):
    bad = write_rows(tmp_path / "bad.jsonl", [GSM8K_ROW, {"question": "How many?", "x": 1}])
    _fails(mathgen("export", "lm-eval", bad, "-o", tmp_path / "t"), "bad.jsonl:2")
    variant = write_rows(tmp_path / "v.jsonl", [{"id": "a", "source_id": "s", "question": "Q?",
                                                 "final_answer": "many"}])
    _fails(mathgen("export", "lm-eval", variant, "-o", tmp_path / "t"), "v.jsonl:1",
           "final_answer")
    good = write_rows(tmp_path / "good.jsonl", [GSM8K_ROW])
    shots = write_rows(tmp_path / "shots.jsonl", [{"question": "Q?", "answer": "no hashes"}])
    _fails(mathgen("export", "lm-eval", good, "-o", tmp_path / "t", "--few-shot", shots),
           "shots.jsonl:1", "answer", "####")
    _fails(mathgen("export", "lm-eval", good, "-o", tmp_path / "t", "--num-fewshot", 2),
           "--few-shot")
    _fails(mathgen("export", "lm-eval", good, "-o", tmp_path / "t", "--name", "my tasks"),
           "--name")
    _fails(mathgen("export", "lm-eval", f"a={good}", f"a={good}", "-o", tmp_path / "t"),
           "differ")
    _fails(mathgen("export", "lm-eval", good, "-o", "-"), "give a folder")
    assert not (tmp_path / "t").exists()


def test_what_the_user_did_not_ask_to_be_written_stays(tmp_path):
    good = write_rows(tmp_path / "good.jsonl", [GSM8K_ROW])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    _fails(mathgen("export", "lm-eval", good, "-o", mine), "did not write")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    _fails(mathgen("export", "lm-eval", good, "-o", good), "same file as an input")
    other = write_rows(tmp_path / "other.jsonl", [GSM8K_ROW])
    _fails(mathgen("export", "lm-eval", good, "-o", other), "not a folder")
    assert good.read_text() == other.read_text() == json.dumps(GSM8K_ROW) + "\n"
    # an earlier export whose utils.py was made a link: the link's target is not written
    out = tmp_path / "t"
    assert mathgen("export", "lm-eval", good, "-o", out).exit_code == 0
    (out / "utils.py").unlink()
    (out / "utils.py").symlink_to(mine / "notes.txt")
    _fails(mathgen("export", "lm-eval", good, "-o", out), "utils.py", "not a regular file")
    assert (mine / "notes.txt").read_text() == "keep me"


def test_the_export_imports_nothing_heavy(tmp_path):
    good = write_rows(tmp_path / "good.jsonl", [GSM8K_ROW])
    args = ["export", "lm-eval", str(good), "-o", str(tmp_path / "t")]
    script = ("import sys\nfrom mathgen.cli import main\n"
              f"try:\n    main({args!r})\n"
              "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
              "heavy = {'lm_eval', 'datasets', 'torch', 'transformers', 'numpy'} & "
              "set(sys.modules)\nassert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "mathgen.yaml").is_file()


@pytest.mark.slow
def test_lm_eval_on_real_tora_outputs_scores_as_the_report(tmp_path):
    pytest.importorskip("lm_eval", reason="needs lm-eval (pip install 'mathgen-mmos[lmeval]')")
    from conftest import require_data

    from mathgen.robustness.sets import read_set

    gsm8k = require_data("gsm8k/test.jsonl")
    tora = require_data("tora/gsm8k-test.tora-code-34b.jsonl")
    items = read_set("gsm8k", gsm8k)[0]
    outputs = [json.loads(line)["code"][0] for line in tora.read_text().splitlines()]
    answers = {}
    for item, output in zip(items, outputs, strict=True):
        answers.setdefault(item.question, output)  # a question asked twice: its first output
    (tmp_path / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    tasks = tmp_path / "tasks"
    assert mathgen("export", "lm-eval", f"gsm8k={gsm8k}", "-o", tasks).exit_code == 0
    results, samples = _lm_eval([sys.executable, str(HERE / "lmeval_planted.py"), "--model",
                                 "planted", "--model_args", f"answers={tmp_path / 'answers.json'}"],
                                tmp_path, tasks, tmp_path / "lm-eval")
    from_samples = _report({"gsm8k": gsm8k}, samples, tmp_path / "report")["gsm8k"]
    from_tora = _report({"gsm8k": gsm8k}, {"gsm8k": tora}, tmp_path / "tora")["gsm8k"]
    if len(answers) == len(items):  # every question has its own output: the same outputs
        assert from_samples == from_tora
    assert results["mathgen_gsm8k"]["exact_match,none"] == from_samples["accuracy"]
    assert results["mathgen_gsm8k"]["sample_len"] == from_samples["n"] == len(items)


@pytest.mark.parametrize("row, words", [
    ({"doc_id": 0, "doc": {"question": "Q?"}, "resps": [["#### 7"]]}, ["field 'doc'", "item id"]),
    ({"doc_id": 0, "doc": {"id": "s:1"}, "resps": ["#### 7"]}, ["field 'resps'"]),
    ({"doc_id": 0, "doc": {"id": "s:1"}, "resps": [[7]]}, ["field 'resps'"]),
])
def test_a_broken_lm_eval_sample_names_its_line_and_field(tmp_path, row, words):
    from mathgen.errors import InputError
    from mathgen.robustness.predictions import read_predictions
    from mathgen.robustness.sets import read_set

    good = write_rows(tmp_path / "s.jsonl", [GSM8K_ROW])
    samples = write_rows(tmp_path / "samples.jsonl",
                         [{"doc_id": 0, "doc": {"id": "s:1"}, "resps": [["#### 7"]]}, row])
    with pytest.raises(InputError) as caught:
        read_predictions([(None, samples)], {"s": read_set("s", good)[0]})
    assert "samples.jsonl:2" in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def test_a_link_to_a_folder_is_written_through_and_stays_a_link(tmp_path):
    good = write_rows(tmp_path / "good.jsonl", [GSM8K_ROW])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    assert mathgen("export", "lm-eval", good, "-o", tmp_path / "link").exit_code == 0
    assert (tmp_path / "link").is_symlink() and (elsewhere / "mathgen_good.yaml").is_file()
    # in an earlier export, a data folder made a link is not written through
    shutil.rmtree(elsewhere / "data")
    (elsewhere / "data").symlink_to(tmp_path / "other", target_is_directory=True)
    (tmp_path / "other").mkdir()
    _fails(mathgen("export", "lm-eval", good, "-o", elsewhere), "is a link")
    assert not any((tmp_path / "other").iterdir())


def test_rows_whose_gold_is_no_number_are_skipped_and_counted_as_the_report_does(tmp_path):
    rows = [{"body": "Ann has 7 pens and buys 2.", "question": "How many pens has she?",
             "formula": "7+2=9", "answer": "9 (pens)"},
            {"body": "Ann has 7 pens.", "question": "Has she more than 5?",
             "formula": "7>5", "answer": "Yes"}]
    asdiv = write_rows(tmp_path / "asdiv.jsonl", rows)
    result = mathgen("export", "lm-eval", asdiv, "-o", tmp_path / "t")
    assert result.exit_code == 0, result.output
    assert "task mathgen_asdiv: 1 items, 1 rows skipped (gold answer not a number)" in \
        result.output
    data = (tmp_path / "t" / "data" / "mathgen_asdiv.jsonl").read_text().splitlines()
    assert [json.loads(line)["target"] for line in data] == ["9"]
