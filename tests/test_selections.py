"""A selection that selects nothing is an error (exit 2, one line naming it, a hint), and the
summaries count in good English ("1 problem", "2 problems")."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import GSM8K_ROW, write_rows
from hypothesis import given
from hypothesis import strategies as st

from mathgen.cli import main
from mathgen.wording import counted, plural


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathgen: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _folder_of_problems(tmp_path):
    folder = tmp_path / "problems"
    folder.mkdir()
    write_rows(folder / "a.jsonl", [GSM8K_ROW])
    return folder


# name -> (files to lay out in tmp_path -> the perturb arguments, what the line must name)
CASES = {
    "empty folder": (lambda tmp: [tmp / "empty"], ["empty", "holds no template"]),
    "folder of JSONL files": (lambda tmp: [_folder_of_problems(tmp)],
                              ["problems", "no template", "problems/*.jsonl"]),
    "empty folder as --templates": (lambda tmp: ["--templates", tmp / "empty"],
                                    ["empty", "holds no template"]),
    "a tag no template has": (lambda tmp: ["--tag", "no-such-skill"],
                              ["--tag no-such-skill", "no template has this tag", "money"]),
    "one of two tags unknown": (lambda tmp: ["--tag", "money", "--tag", "monye"],
                                ["--tag monye", "no template has this tag"]),
    "a tag with problem files only": (
        lambda tmp: [write_rows(tmp / "p.jsonl", [GSM8K_ROW]), "--tag", "money"],
        ["--tag money", "no template to select from", "--templates"]),
    "a JSONL file as --templates": (
        lambda tmp: ["--templates", write_rows(tmp / "p.jsonl", [GSM8K_ROW])],
        ["p.jsonl", "not a template", "INPUT"]),
    "an input file with no problem": (
        lambda tmp: [write_rows(tmp / "blank.jsonl", [b"\n \n"])], ["blank.jsonl", "empty"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_perturb_selecting_nothing_is_one_error_line_and_writes_nothing(tmp_path, case):
    (tmp_path / "empty").mkdir()
    make, fragments = CASES[case]
    out = tmp_path / "out.jsonl"
    line = one_error_line(mathgen("perturb", *make(tmp_path), "-o", out))
    for fragment in fragments:
        assert fragment in line, line
    assert "hint" in line, line
    assert not out.exists()


def test_a_tag_that_selects_templates_still_runs(tmp_path):
    out = tmp_path / "out.jsonl"
    result = mathgen("perturb", "--tag", "money", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text().strip()


def test_templatize_of_a_file_with_no_problem_is_an_error(tmp_path):
    path = write_rows(tmp_path / "none.jsonl", [b"\n"])
    line = one_error_line(mathgen("templatize", path, "-o", tmp_path / "t"))
    assert "none.jsonl" in line


def test_one_problem_is_counted_in_the_singular(tmp_path):
    path = write_rows(tmp_path / "one.jsonl", [GSM8K_ROW])
    result = mathgen("perturb", path, "-o", tmp_path / "v.jsonl")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:3] == ["read 1 problem from 1 file",
                                              "wrote 1 variant for 1 problem",
                                              "rejected 0 problems"]
    result = mathgen("templatize", path, "-o", tmp_path / "t")
    assert result.stdout.splitlines()[:2] == ["read 1 problem from 1 file",
                                              "wrote 1 template to " + str(tmp_path / "t")]


def test_one_report_item_is_counted_in_the_singular(tmp_path):
    pytest.importorskip("numpy", reason="the report needs the [report] extra")
    path = write_rows(tmp_path / "one.jsonl", [GSM8K_ROW])
    preds = write_rows(tmp_path / "p.jsonl", [{"id": "one:1", "output": "The answer is 7."}])
    result = mathgen("robustness-report", "--set", f"one={path}", "--predictions", preds,
                     "--out", tmp_path / "rep")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "read 1 item in 1 set: one 1"


@pytest.mark.parametrize("n, noun, expected", [
    (0, "problem", "0 problems"), (1, "problem", "1 problem"), (2, "set", "2 sets"),
    (1, "distinct program", "1 distinct program"), (3, "distinct program", "3 distinct programs"),
    (2, "match", "2 matches"), (2, "box", "2 boxes"), (4, "entry", "4 entries"),
    (2, "day", "2 days"), (2, "class", "2 classes"),
])
def test_counted(n, noun, expected):
    assert counted(n, noun) == expected


@given(st.integers(min_value=0, max_value=10**6), st.from_regex(r"[a-z]{2,10}", fullmatch=True))
def test_counted_is_singular_exactly_for_one(n, noun):
    text = counted(n, noun)
    assert text.split(" ", 1)[0] == str(n)
    assert (text == f"1 {noun}") == (n == 1)
    assert plural(noun) != noun
