"""Hugging Face data sets in and out: JSONL -> data set -> mathgen -> JSONL gives the same records.

Every data set here is made by the test from rows written for it (save_to_disk folders,
Parquet, Arrow and JSON folders, and the hub's own cache layout), and read offline: nothing
is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_rows
from mathgen.cli import main
from mathgen.errors import MathgenError

datasets = pytest.importorskip("datasets", reason="the Hugging Face tests need datasets "
                               "(pip install 'mathgen-mmos[hf]')")

# written for these tests: four that perturb, one whose solution has no calculation
ROWS = [
    {"question": "A baker makes 24 rolls in the morning and 18 in the afternoon. He sells 30 "
                 "of them. How many rolls are left?",
     "answer": "He makes 24 + 18 = <<24+18=42>>42 rolls.\nHe has 42 - 30 = <<42-30=12>>12 "
               "left.\n#### 12"},
    {"question": "Nadia reads 15 pages a day for 6 days. How many pages does she read?",
     "answer": "She reads 15 * 6 = <<15*6=90>>90 pages.\n#### 90"},
    {"question": "A crate holds 48 lemons packed equally into 4 bags. How many lemons are in "
                 "each bag?",
     "answer": "Each bag holds 48 / 4 = <<48/4=12>>12 lemons.\n#### 12"},
    {"question": "Omar has $35 and earns $20 more. He spends $18 on a game. How much money "
                 "does he have now?",
     "answer": "He has 35 + 20 = <<35+20=55>>55 dollars.\nThen 55 - 18 = <<55-18=37>>37 "
               "dollars.\n#### 37"},
    {"question": "Lea has 9 shells. How many shells does she have?",
     "answer": "She has 9 shells.\n#### 9"},
]


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """A private Hugging Face cache in offline mode, for this process and the ones it starts
    (datasets reads its settings when imported, so its module constants are set too)."""
    import huggingface_hub.constants

    home = tmp_path / "hf"
    for var, value in (("HF_HOME", str(home)), ("HF_DATASETS_OFFLINE", "1"),
                       ("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_CACHE", str(home / "datasets"))):
        monkeypatch.setenv(var, value)
    cfg = datasets.config
    monkeypatch.setattr(cfg, "HF_DATASETS_CACHE", home / "datasets")
    monkeypatch.setattr(cfg, "DOWNLOADED_DATASETS_PATH", home / "datasets" / "downloads")
    monkeypatch.setattr(cfg, "EXTRACTED_DATASETS_PATH", home / "datasets" / "extracted")
    monkeypatch.setattr(cfg, "HF_MODULES_CACHE", home / "modules")
    monkeypatch.setattr(cfg, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(cfg, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    datasets.disable_progress_bars()
    return home


def _dataset(jsonl: Path):
    return datasets.load_dataset("json", data_files=str(jsonl), split="train")


def _hub_cache(home: Path, parquet: Path, repo: str, config: str, split: str) -> None:
    """Lay a data set out as a download from the hub leaves it in the cache
    (``namespace___name/CONFIG/VERSION/HASH/name-SPLIT.arrow`` with its dataset_info.json), by
    preparing it with the Parquet builder that hub downloads of Parquet data go through."""
    from datasets.packaged_modules.parquet.parquet import Parquet

    namespace, name = repo.split("/")
    builder = Parquet(cache_dir=str(home / "datasets"), dataset_name=name, config_name=config,
                      config_id=config, data_files={split: str(parquet)}, hash="0" * 16)
    builder.download_and_prepare()
    (home / "datasets" / name).rename(home / "datasets" / f"{namespace}___{name}")


def _as(kind: str, jsonl: Path, root: Path, home: Path) -> str:
    """The JSONL rows as a data set of this kind; returns the input a user would type."""
    data = _dataset(jsonl)
    split = jsonl.stem  # 'test', so source ids read test:LINE as the JSONL file's do
    if kind == "save_to_disk":
        data.save_to_disk(str(root / split))
        return f"hf:{root / split}"
    if kind == "save_to_disk-splits":
        datasets.DatasetDict({split: data, "other": data.select([0])}).save_to_disk(
            str(root / "dict"))
        return f"hf:{root / 'dict'}:{split}"
    if kind == "parquet-file":
        (root / "pq").mkdir()
        data.to_parquet(str(root / "pq" / f"{split}.parquet"))
        return str(root / "pq" / f"{split}.parquet")
    if kind in ("parquet-folder", "json-folder"):
        folder = root / kind
        folder.mkdir()
        if kind == "parquet-folder":
            data.to_parquet(str(folder / f"{split}.parquet"))
            data.select([0]).to_parquet(str(folder / "train.parquet"))
        else:
            data.to_json(str(folder / f"{split}.jsonl"))
        return f"hf:{folder}:{split}"
    if kind == "arrow-file":
        data.save_to_disk(str(root / "saved"))
        arrow = next((root / "saved").glob("*.arrow"))
        target = root / f"{split}.arrow"
        arrow.rename(target)
        return str(target)
    assert kind == "hub-cache"
    data.to_parquet(str(root / "hub.parquet"))
    _hub_cache(home, root / "hub.parquet", "demo-org/grade-math", "main", split)
    return f"hf:demo-org/grade-math:main:{split}"


KINDS = ["save_to_disk", "save_to_disk-splits", "parquet-file", "parquet-folder", "json-folder",
         "arrow-file", "hub-cache"]


def _perturb(tmp_path: Path, source: str, tag: str, *extra: str) -> tuple[bytes, bytes]:
    out, rej = tmp_path / f"{tag}.jsonl", tmp_path / f"{tag}.rej.jsonl"
    result = CliRunner().invoke(main, ["perturb", source, "-o", str(out), "--rejects", str(rej),
                                       "-n", "2", "--seed", "3", "--no-cache", *extra])
    assert result.exit_code == 0, result.output
    return out.read_bytes(), rej.read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_perturbing_a_dataset_gives_the_jsonl_records(kind, tmp_path, offline):
    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    source = _as(kind, jsonl, tmp_path, offline)
    variants, rejects = _perturb(tmp_path, str(jsonl), "from-jsonl")
    assert variants.count(b"\n") == 8 and rejects.count(b"\n") == 1  # every row accounted for
    assert _perturb(tmp_path, source, "from-dataset") == (variants, rejects)


def test_the_hub_cache_is_read_by_a_fresh_process_in_offline_mode(tmp_path, offline):
    """The environment variables alone (no patched constants) keep the real CLI offline."""
    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    source = _as("hub-cache", jsonl, tmp_path, offline)
    out = tmp_path / "hub.jsonl"
    run = subprocess.run([sys.executable, "-m", "mathgen.cli", "perturb", source, "-o", str(out),
                          "-n", "2", "--seed", "3", "--no-cache"], capture_output=True,
                         text=True, env=dict(os.environ), timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == _perturb(tmp_path, str(jsonl), "from-jsonl")[0]
    assert "Generating" not in run.stderr and "cached version" not in run.stderr  # one summary


def _parquet_records(path: Path) -> list[dict]:
    from mathgen.hfdata import read_dataset

    return [row for _, row in read_dataset(path)]


def _jsonl_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("strategy", ["similar", "distractor"])
def test_perturb_writes_parquet_with_the_jsonl_fields(strategy, tmp_path, offline):
    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    _perturb(tmp_path, str(jsonl), "variants", "--strategy", strategy)
    parquet = tmp_path / "pq" / "variants.parquet"
    result = CliRunner().invoke(main, ["perturb", str(jsonl), "-o", str(parquet), "-n", "2",
                                       "--seed", "3", "--no-cache", "--strategy", strategy])
    assert result.exit_code == 0, result.output
    expected = _jsonl_records(tmp_path / "variants.jsonl")
    assert expected and _parquet_records(parquet) == expected
    # and the Parquet file is an input in turn: its variants are GSM8K rows
    assert _perturb(tmp_path, str(parquet), "again") == \
        _perturb(tmp_path, str(tmp_path / "variants.jsonl"), "again-jsonl")


def test_mmos_build_reads_a_dataset_and_writes_parquet(tmp_path, offline):
    samples = [{"question": r["question"], "answer": r["answer"],
                "completions": [f"So the answer is {r['answer'].split('#### ')[1]}.",
                                "The answer is 1000."]} for r in ROWS]
    jsonl = write_rows(tmp_path / "paths.jsonl", samples)
    _dataset(jsonl).save_to_disk(str(tmp_path / "paths"))
    outputs = {}
    for tag, source, out in (("jsonl", jsonl, "a.jsonl"), ("hf", f"hf:{tmp_path / 'paths'}",
                                                           "b.parquet")):
        result = CliRunner().invoke(main, ["mmos", "build", str(source), "-o",
                                           str(tmp_path / out), "--no-execute", "--workers", "1",
                                           "--rejects", str(tmp_path / f"{tag}.rej.jsonl")])
        assert result.exit_code == 0, result.output
        outputs[tag] = result.output
    assert _parquet_records(tmp_path / "b.parquet") == _jsonl_records(tmp_path / "a.jsonl")
    assert len(_jsonl_records(tmp_path / "a.jsonl")) == len(ROWS)
    rejects = {tag: _jsonl_records(tmp_path / f"{tag}.rej.jsonl") for tag in ("jsonl", "hf")}
    assert {r["file"] for r in rejects["hf"]} == {f"hf:{tmp_path / 'paths'}"}  # where it was
    assert [{**r, "file": None} for r in rejects["hf"]] == \
        [{**r, "file": None} for r in rejects["jsonl"]] and len(rejects["hf"]) == len(ROWS)


def test_a_set_read_from_a_dataset_has_the_same_items(tmp_path, offline):
    from mathgen.robustness.sets import read_set

    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    _perturb(tmp_path, str(jsonl), "variants")
    source = _as("save_to_disk-splits", jsonl, tmp_path, offline)
    _dataset(tmp_path / "variants.jsonl").to_parquet(str(tmp_path / "variants.parquet"))
    assert read_set("orig", source) == read_set("orig", jsonl)
    assert read_set("new", tmp_path / "variants.parquet") == \
        read_set("new", tmp_path / "variants.jsonl")
    predictions = write_rows(tmp_path / "pred.jsonl", [
        {"id": f"orig:{i}", "output": f"The answer is {r['answer'].split('#### ')[1]}."}
        for i, r in enumerate(ROWS, 1)])
    items = {}
    for tag, orig, new in (("jsonl", jsonl, tmp_path / "variants.jsonl"),
                           ("hf", source, tmp_path / "variants.parquet")):
        result = CliRunner().invoke(main, ["robustness-report", "--set", f"orig={orig}",
                                           "--set", f"new={new}", "--predictions",
                                           f"orig={predictions}", "--out",
                                           str(tmp_path / tag)])
        assert result.exit_code == 0, result.output
        items[tag] = (tmp_path / tag / "items.jsonl").read_bytes()
    assert items["hf"] == items["jsonl"] and items["jsonl"].count(b"\n") == 13


def _one_line_error(args) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathgen: error: "), result.output
    return lines[0]


@pytest.mark.parametrize("spec, rows, extra, expected", [
    ("hf:{dict}:validation", ROWS, [], ["no split 'validation'", "the splits: test, other"]),
    ("hf:{dict}", ROWS, [], ["holds 2 splits", "test, other"]),
    ("hf:{single}:train", ROWS, [], ["saved as one split"]),
    ("hf:{dict}:main:test", ROWS, [], ["save_to_disk has no configs"]),
    ("hf:{single}", [{"question": "How many?", "solution": "4"}], [],
     ["{single}:1", "cannot tell the format", "question, solution"]),
    ("hf:{single}", [{"question": "How many?", "solution": "4"}], ["--format", "gsm8k"],
     ["{single}:1: field 'answer': missing"]),
    ("hf:{single}", ROWS[:2] + [{"question": "How many?", "answer": "4 of them"}], [],
     ["{single}:3: field 'answer'", "'#### N'"]),
    ("hf:no-org/no-such-set:test", ROWS, [], ["hf:no-org/no-such-set:test: cannot load"]),
    ("hf:a:b:c:d", ROWS, [], ["not a data set name"]),
])
def test_bad_datasets_stop_with_one_line(spec, rows, extra, expected, tmp_path, offline):
    data = _dataset(write_rows(tmp_path / "rows.jsonl", rows))
    data.save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"test": data, "other": data}).save_to_disk(str(tmp_path / "dict"))
    names = {"dict": str(tmp_path / "dict"), "single": str(tmp_path / "single")}
    line = _one_line_error(["perturb", spec.format(**names), "-o", str(tmp_path / "o.jsonl"),
                            *extra])
    for part in expected:
        assert part.format(**names) in line


def test_a_missing_column_of_a_set_stops_with_one_line(tmp_path, offline):
    rows = [{"id": "x:1", "source_id": "x:1", "question": "How many?"}]
    _dataset(write_rows(tmp_path / "rows.jsonl", rows)).to_parquet(str(tmp_path / "s.parquet"))
    line = _one_line_error(["robustness-report", "--set", f"s={tmp_path / 's.parquet'}",
                            "--predictions", str(tmp_path / "rows.jsonl"),
                            "--out", str(tmp_path / "r")])
    assert f"{tmp_path / 's.parquet'}:1" in line and "cannot tell the kind of set" in line


def test_records_no_single_schema_holds_stop_and_keep_the_earlier_file(tmp_path):
    from mathgen.io import open_records

    out = tmp_path / "o.parquet"
    with open_records(out) as w:
        w.write({"a": 1})
    before = out.read_bytes()
    with pytest.raises(MathgenError, match="one Parquet schema"):
        with open_records(out) as w:
            w.write({"a": 1})
            w.write({"a": "one"})
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["o.parquet"]




@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=10), "n": st.integers(-10**9, 10**9)},
    optional={"subs": st.lists(st.fixed_dictionaries({"old": st.text(max_size=5),
                                                      "new": st.text(max_size=5)}), max_size=3),
              "extra": st.text(max_size=10)}), max_size=12))
def test_parquet_records_read_back_as_written(tmp_path_factory, records):
    from mathgen.io import open_records

    out = tmp_path_factory.mktemp("pq") / "r.parquet"
    with open_records(out) as w:
        for record in records:
            w.write(record)
    if records:
        assert _parquet_records(out) == records
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(out).num_rows == 0


def test_perturb_on_jsonl_never_imports_datasets_or_pyarrow(tmp_path):
    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    code = ("import sys; from mathgen.cli import main\n"
            "try:\n    main(['perturb', sys.argv[1], '-o', sys.argv[2], '--no-cache'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('datasets', 'pyarrow', 'pandas') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code, str(jsonl), str(tmp_path / "o.jsonl")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_templatize_reads_a_dataset_as_its_jsonl(tmp_path, offline):
    jsonl = write_rows(tmp_path / "test.jsonl", ROWS)
    source = _as("parquet-folder", jsonl, tmp_path, offline)
    folders = {}
    for tag, given in (("jsonl", str(jsonl)), ("hf", source)):
        out = tmp_path / f"templates-{tag}"
        result = CliRunner().invoke(main, ["templatize", given, "-o", str(out),
                                           "--rejects", str(tmp_path / f"{tag}.rej.jsonl")])
        assert result.exit_code == 0, result.output
        folders[tag] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert folders["hf"] == folders["jsonl"] and len(folders["jsonl"]) == 4
    assert (tmp_path / "hf.rej.jsonl").read_bytes() == (tmp_path / "jsonl.rej.jsonl").read_bytes()


def test_audit_gsm_hard_reads_datasets(tmp_path, offline):
    # GSM-HARD-style rows written for this test: an int and a float target in one column
    hard = [{"input": "Ana has 3012 pens and buys 4 more. How many pens does she have?",
             "code": "def solution():\n    pens = 3012\n    more = 4\n    return pens + more\n",
             "target": 3016},
            {"input": "A rope of 5 meters is cut in 2 equal parts. How long is each part?",
             "code": "def solution():\n    rope = 5\n    parts = 2\n    return rope / parts\n",
             "target": 2.5}]
    gsm8k = [{"question": "Ana has 12 pens and buys 4 more. How many pens does she have?",
              "answer": "She has 12 + 4 = <<12+4=16>>16 pens.\n#### 16"}]
    files = {"hard": write_rows(tmp_path / "hard.jsonl", hard),
             "gsm8k": write_rows(tmp_path / "gsm8k.jsonl", gsm8k)}
    for name, path in files.items():
        _dataset(path).to_parquet(str(tmp_path / f"{name}.parquet"))
    printed = {}
    for tag, suffix in (("jsonl", ".jsonl"), ("hf", ".parquet")):
        result = CliRunner().invoke(main, ["audit", "gsm-hard", str(tmp_path / f"hard{suffix}"),
                                           "--gsm8k", str(tmp_path / f"gsm8k{suffix}"), "--json",
                                           "--timeout", "2", "--workers", "1"])
        assert result.exit_code == 0, result.output
        printed[tag] = json.loads(result.stdout)  # stderr names the sandbox isolation
    assert printed["hf"] == printed["jsonl"]
    assert printed["jsonl"]["total"] == 2 and printed["jsonl"]["non_integer"] == 1
