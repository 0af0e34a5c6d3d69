"""The ``mathgen`` command line, run in-process with click's CliRunner."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BAD_INPUTS, GSM8K_ROW, require_data, write_bad_input, write_rows
from mathgen.generator.run import example_problems, library, template_files

from mathgen.cli import main

RECORD_KEYS = {"id", "source_id", "source_line", "strategy", "seed", "question", "answer",
               "final_answer", "substitutions", "original_question", "original_final_answer"}
REJECT_KEYS = {"source_id", "source_line", "reason", "detail"}


def mathgen(*args) -> Result:
    """Run ``mathgen ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def summary(stdout: str) -> dict[str, int]:
    """The counts printed by ``perturb``: read, variants, perturbed, rejected."""
    read = re.search(r"^read (\d+) problems? from (\d+) file", stdout, re.M)
    wrote = re.search(r"^wrote (\d+) variants? for (\d+) problems?", stdout, re.M)
    rejected = re.search(r"^rejected (\d+) problems?", stdout, re.M)
    assert read and wrote and rejected, stdout
    return {"read": int(read[1]), "files": int(read[2]), "variants": int(wrote[1]),
            "perturbed": int(wrote[2]), "rejected": int(rejected[1])}


def assert_one_error_line(result, *fragments: str) -> str:
    """Exit code 2 and a single 'mathgen: error:' line on stderr holding every fragment."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mathgen: error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def default_rows() -> int:
    """Templates in mathgen's own library, which a run without input draws from."""
    return len(template_files([library()]))


@pytest.fixture
def gsm8k_sample(tmp_path) -> Path:
    """The first 40 problems of GSM8K's test split, copied into tmp_path."""
    source = require_data("gsm8k/test.jsonl")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)[:40]
    sample = tmp_path / "gsm8k-sample.jsonl"
    sample.write_text("".join(lines), encoding="utf-8")
    return sample


# --- help -------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["-h"], ["perturb", "--help"]])
def test_help_exits_0(args):
    result = mathgen(*args)
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_help_lists_perturb_and_its_options():
    assert "perturb" in mathgen("--help").stdout
    text = mathgen("perturb", "--help").stdout
    for option in ("--output", "--strategy", "--seed", "--rejects", "--skip-invalid",
                   "--workers", "--format", "--unconstrained"):
        assert option in text


def test_help_imports_nothing_heavy():
    script = (
        "import sys\n"
        "from mathgen.cli import main\n"
        "for args in (['--help'], ['perturb', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "heavy = {'torch', 'sympy', 'transformers', 'vllm'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


# --- the default run --------------------------------------------------------------------

def test_perturb_defaults_writes_n_variants_per_problem(tmp_path):
    out = tmp_path / "variants.jsonl"
    result = mathgen("perturb", "-o", out, "-n", 2)
    assert result.exit_code == 0, result.stderr
    rows = records(out)
    assert rows and all(set(row) == RECORD_KEYS for row in rows)
    per_problem = Counter(row["source_id"] for row in rows)
    assert len(per_problem) == default_rows()
    assert set(per_problem.values()) == {2}
    counts = summary(result.stdout)
    assert counts == {"read": default_rows(), "files": default_rows(),
                      "variants": 2 * default_rows(), "perturbed": default_rows(), "rejected": 0}


def test_variant_records_are_consistent(tmp_path):
    out = tmp_path / "variants.jsonl"
    assert mathgen("perturb", "-o", out, "-n", 2, "--seed", 7).exit_code == 0
    ids = set()
    for row in records(out):
        assert row["strategy"] == "similar" and row["seed"] == 7
        assert row["id"].startswith(f"{row['source_id']}/similar/7/")
        assert row["answer"].rstrip().endswith(f"#### {row['final_answer']}")
        assert row["question"] != row["original_question"]
        assert row["substitutions"] and all(set(s) == {"old", "new"}
                                            for s in row["substitutions"])
        ids.add(row["id"])
    assert len(ids) == len(records(out))


# --- bad input: one line, exit 2, nothing written ---------------------------------------

@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, case):
    path, line, field = write_bad_input(tmp_path / f"{case}.jsonl", case)
    out = tmp_path / "variants.jsonl"
    result = mathgen("perturb", path, "-o", out)
    where = f"{path}:{line}" if line is not None else str(path)
    message = assert_one_error_line(result, where, *([f"'{field}'"] if field else []))
    assert message.startswith(f"mathgen: error: {where}")
    assert not out.exists()
    assert result.stdout == ""


def test_missing_input_file_is_one_error_line(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    assert_one_error_line(mathgen("perturb", path, "-o", tmp_path / "out.jsonl"), str(path))


@pytest.mark.parametrize("case", ["broken-json", "missing-field", "binary-junk"])
def test_bad_input_leaves_an_existing_output_untouched(tmp_path, case):
    path, _, _ = write_bad_input(tmp_path / "input.jsonl", case)
    out, rejects = tmp_path / "variants.jsonl", tmp_path / "rejects.jsonl"
    out.write_text("earlier run\n")
    result = mathgen("perturb", path, "-o", out, "--rejects", rejects)
    assert result.exit_code == 2
    assert out.read_text() == "earlier run\n"
    assert not rejects.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.jsonl", "variants.jsonl"]


@pytest.mark.parametrize("strategy, suggestion", [
    ("simlar", "similar"),
    ("mmos-larg", "mmos-large"),
    ("gsm_hard", "gsm-hard"),
])
def test_unknown_strategy_suggests_a_name(tmp_path, strategy, suggestion):
    out = tmp_path / "variants.jsonl"
    result = mathgen("perturb", "-o", out, "--strategy", strategy)
    assert_one_error_line(result, f"unknown strategy '{strategy}'",
                          f"did you mean '{suggestion}'")
    assert not out.exists()


def test_bad_digits_strategy_is_one_error_line(tmp_path):
    result = mathgen("perturb", "-o", tmp_path / "out.jsonl", "--strategy", "digits:99")
    assert_one_error_line(result, "digits:99")


def test_field_names_with_newlines_stay_on_one_line(tmp_path):
    path = write_rows(tmp_path / "input.jsonl", [{"a\nb": 1}])
    assert_one_error_line(mathgen("perturb", path, "-o", tmp_path / "out.jsonl"), f"{path}:1")


def test_unreadable_annotation_is_a_rejection_not_a_crash(tmp_path):
    row = dict(GSM8K_ROW, answer="Tom has 3 + 4 = <<floor(3,4)=7>>7 apples.\n#### 7")
    path = write_rows(tmp_path / "input.jsonl", [row])
    result = CliRunner().invoke(main, ["perturb", str(path), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.exception


# --- --skip-invalid and --rejects -------------------------------------------------------

def test_skip_invalid_counts_add_up_and_rejects_are_written(tmp_path):
    good = [json.loads(line) for line in example_problems().read_text().splitlines()][:4]
    rows = [good[0], "{broken", good[1], {"question": "no answer here"}, "[1, 2]", good[2],
            {"question": "x", "answer": "1 + 1 = 2\n#### abc"}, good[3]]
    path = write_rows(tmp_path / "mixed.jsonl", rows)
    out, rejects = tmp_path / "variants.jsonl", tmp_path / "rejects.jsonl"
    result = mathgen("perturb", path, "-o", out, "--skip-invalid", "--rejects", rejects, "-n", 2)
    assert result.exit_code == 0, result.stderr
    counts = summary(result.stdout)
    assert counts["read"] == len(rows)
    assert counts["read"] == counts["perturbed"] + counts["rejected"]
    assert counts["variants"] == len(records(out))
    assert counts["perturbed"] == len({row["source_id"] for row in records(out)})
    rejected = records(rejects)
    assert len(rejected) == counts["rejected"]
    assert all(set(row) == REJECT_KEYS for row in rejected)
    invalid = [row for row in rejected if row["reason"] == "invalid-input"]
    assert [row["source_line"] for row in invalid] == [2, 4, 5, 7]
    assert all(row["source_id"] == f"mixed:{row['source_line']}" for row in invalid)
    assert all(f"{path}:{row['source_line']}" in row["detail"] for row in invalid)
    assert re.search(r"^\s+invalid-input\s+4$", result.stdout, re.M)


def test_without_skip_invalid_the_same_file_stops(tmp_path):
    path = write_rows(tmp_path / "mixed.jsonl", [GSM8K_ROW, "{broken", GSM8K_ROW])
    assert_one_error_line(mathgen("perturb", path, "-o", tmp_path / "out.jsonl",
                                  "--rejects", tmp_path / "rejects.jsonl"), f"{path}:2")


def test_rejections_of_the_reference_sample_are_written(tmp_path, gsm8k_sample):
    out, rejects = tmp_path / "variants.jsonl", tmp_path / "rejects.jsonl"
    result = mathgen("perturb", gsm8k_sample, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    counts = summary(result.stdout)
    assert counts["read"] == 40 == counts["perturbed"] + counts["rejected"]
    assert len(records(rejects)) == counts["rejected"]
    seen = {row["source_line"] for row in records(rejects)}
    seen |= {row["source_line"] for row in records(out)}
    assert seen == set(range(1, 41))  # nothing is lost


# --- determinism ------------------------------------------------------------------------

def run_bytes(tmp_path: Path, name: str, *args) -> bytes:
    out = tmp_path / name
    result = mathgen("perturb", *args, "-o", out)
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


@pytest.mark.parametrize("source", ["defaults", "gsm8k-sample"])
def test_same_seed_same_bytes_whatever_the_workers(tmp_path, request, source):
    inputs = [] if source == "defaults" else [request.getfixturevalue("gsm8k_sample")]
    options = [*inputs, "-n", 2, "--seed", 3]
    first = run_bytes(tmp_path, "a.jsonl", *options)
    assert first
    assert run_bytes(tmp_path, "b.jsonl", *options) == first
    assert run_bytes(tmp_path, "c.jsonl", *options, "--workers", 1) == first
    assert run_bytes(tmp_path, "d.jsonl", *options, "--workers", 2) == first


@pytest.mark.parametrize("source", ["defaults", "gsm8k-sample"])
def test_different_seeds_give_different_bytes(tmp_path, request, source):
    inputs = [] if source == "defaults" else [request.getfixturevalue("gsm8k_sample")]
    assert run_bytes(tmp_path, "a.jsonl", *inputs, "--seed", 0) != \
        run_bytes(tmp_path, "b.jsonl", *inputs, "--seed", 1)


def test_several_inputs_are_read_in_order(tmp_path):
    first = write_rows(tmp_path / "first.jsonl", [GSM8K_ROW])
    second = write_rows(tmp_path / "second.jsonl", [GSM8K_ROW, GSM8K_ROW])
    out = tmp_path / "variants.jsonl"
    result = mathgen("perturb", first, second, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert summary(result.stdout)["files"] == 2
    assert [row["source_id"] for row in records(out)] == ["first:1", "second:1", "second:2"]


# --- found in review ---------------------------------------------------------------------

def test_bad_input_under_two_workers_is_still_one_clean_line(tmp_path):
    path = write_rows(tmp_path / "broken.jsonl", [GSM8K_ROW, "{broken"])
    line = assert_one_error_line(
        mathgen("perturb", path, "-o", tmp_path / "out.jsonl", "--workers", "2"), f"{path}:2")
    assert line.count(str(path)) == 1 and "<input>" not in line


def test_inputs_with_the_same_stem_get_distinct_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_rows(tmp_path / "a" / "test.jsonl", [GSM8K_ROW])
    second = write_rows(tmp_path / "b" / "test.jsonl", [GSM8K_ROW])
    out = tmp_path / "out.jsonl"
    assert mathgen("perturb", first, second, "-o", out, "-n", "2").exit_code == 0
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 4
    assert {i.split(":")[0] for i in ids} == {"a/test", "b/test"}


def test_rejects_file_must_not_be_the_output(tmp_path):
    out = tmp_path / "out.jsonl"
    assert_one_error_line(mathgen("perturb", "-o", out, "--rejects", out), "must differ")


def test_unconstrained_answers_stay_exact(tmp_path):
    """Without constraints an answer may be a fraction; it is written exactly (p/q)."""
    from fractions import Fraction

    from checks import annotation_errors, final_line

    out = tmp_path / "out.jsonl"
    assert mathgen("perturb", "-o", out, "-n", "5", "--strategy", "gsm-hard",
                   "--unconstrained").exit_code == 0
    for line in out.read_text().splitlines():
        record = json.loads(line)
        assert final_line(record["answer"]) == record["final_answer"]
        Fraction(record["final_answer"])  # a decimal or p/q, never a rounded float
        assert annotation_errors(record["answer"]) == []
