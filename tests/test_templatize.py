"""mathgen templatize: the symbolic form as an editable template, and the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_data

from mathgen.cli import main
from mathgen.generator import library
from mathgen.generator.run import example_problems
from mathgen.generator.templatize import formula_text, formula_tree


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def variants_by_id(path: Path) -> dict[str, str]:
    return {json.loads(line)["id"]: line for line in path.read_text().splitlines()}


def round_trip(tmp_path: Path, source: Path, *options) -> tuple[dict, dict]:
    folder = tmp_path / "templates"
    result = mathgen("templatize", source, "-o", folder)
    assert result.exit_code == 0, result.stderr
    assert mathgen("perturb", source, "-o", tmp_path / "a.jsonl", *options).exit_code == 0
    assert mathgen("perturb", folder, "-o", tmp_path / "b.jsonl", *options).exit_code == 0
    return variants_by_id(tmp_path / "a.jsonl"), variants_by_id(tmp_path / "b.jsonl")


@pytest.mark.parametrize("options", [("-n", 3, "--seed", 5), ("--strategy", "mmos-large"),
                                     ("--strategy", "digits:4", "--unconstrained")])
def test_templatize_then_perturb_equals_perturb(tmp_path, options):
    direct, via_templates = round_trip(tmp_path, example_problems(), *options)
    assert direct and direct == via_templates


@pytest.mark.slow
def test_round_trip_on_the_gsm8k_test_problems(tmp_path):
    direct, via_templates = round_trip(tmp_path, require_data("gsm8k/test.jsonl"), "-n", 2)
    assert len(direct) > 2000 and direct == via_templates


def test_a_template_renders_its_source_and_reads_as_it(tmp_path):
    folder = tmp_path / "t"
    mathgen("templatize", example_problems(), "-o", folder)
    rows = [json.loads(line) for line in example_problems().read_text().splitlines()]
    for path in sorted(folder.glob("*.jinja")):
        symbolic = library.load(path)
        line = symbolic.problem.source_line
        assert symbolic.problem.question == rows[line - 1]["question"]
        assert symbolic.problem.solution == rows[line - 1]["answer"]
        text = path.read_text()
        assert "form: symbolic" in text and '{{ v("n0", ' in text


def test_an_edited_template_is_perturbed_as_edited(tmp_path):
    folder = tmp_path / "t"
    mathgen("templatize", example_problems(), "-o", folder)
    path = sorted(folder.glob("*.jinja"))[0]
    text = path.read_text()
    question = text.split("\n---\n")[1]
    path.write_text(text.replace(question, "Rewritten: " + question, 1))
    out = tmp_path / "o.jsonl"
    assert mathgen("perturb", path, "-o", out).exit_code == 0
    row = json.loads(out.read_text())
    assert row["question"].startswith("Rewritten: ")
    assert row["original_question"].startswith("Rewritten: ")


def test_templatize_counts_rejections(tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [json.loads(line) for line in example_problems().read_text().splitlines()][:2]
    rows.append({"question": "Tom has 5 apples and finds 7 more.", "answer": "#### 13"})
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rejects = tmp_path / "rej.jsonl"
    result = mathgen("templatize", source, "-o", tmp_path / "t", "--rejects", rejects)
    assert result.exit_code == 0
    assert "read 3 problems" in result.stdout and "wrote 2 templates" in result.stdout
    assert json.loads(rejects.read_text())["source_id"] == "in:3"


def test_templatize_bad_input_is_one_error_line(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("{broken\n")
    result = mathgen("templatize", source, "-o", tmp_path / "t")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "in.jsonl:1" in result.stderr


@pytest.mark.parametrize("text", ["n0 - n1 - n2", "n0 - (n1 - n2)", "n0 / (n1 * n2)", "n0 * (n1 / n2)",
                                  "-(n0 + n1)", "(-n0) ** 2", "n0 ** (n1 ** 2)", "n0 + 0.5 * n1",
                                  "floor(n0 / 3) + Fraction(1, 3)", "n0 - (-2)", "n0 // 4 % 3"])
def test_formula_text_reads_back_as_the_same_tree(text):
    tree = formula_tree(text, "here")
    assert formula_tree(formula_text(tree), "here") == tree
