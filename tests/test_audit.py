"""``mathgen audit gsm-hard``: the classes of GSM-HARD items, on small files and the real one."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import require_data, write_rows
from mathgen.cli import main
from mathgen.robustness.audit import audit_gsm_hard, is_float_noise_integer

JANET = ("Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and "
         "bakes muffins for her friends every day with four. She sells the remainder at the "
         "farmers' market daily for $2 per fresh duck egg. How much in dollars does she make "
         "every day at the farmers' market?")
ROBE = "A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?"


def program(doc: str, body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f'\ndef solution():\n    """{doc}"""\n{lines}\n'


ROWS = [
    # 1: the real first item: a negative label, one number changed in text and program
    {"input": JANET.replace("with four", "with 4933828"),
     "code": program(JANET, "eggs = 16 - 3 - 4933828\nresult = eggs * 2\nreturn result"),
     "target": -9867630.0},
    # 2: question unchanged, label fractional, program agrees
    {"input": ROBE, "code": program(ROBE, "blue = 2\nresult = blue + blue / 2 + 0.25\nreturn result"),
     "target": 3.25},
    # 3: the question gained 18387270 but the program still uses 15; label not reproduced
    {"input": ROBE.replace("2 bolts", "18387270 bolts"),
     "code": program(ROBE, "blue = 15\nreturn blue + blue / 2"), "target": 99.0},
    # 4: a program that never ends: its label cannot be reproduced
    {"input": ROBE.replace("2 bolts", "7 bolts"),
     "code": program(ROBE, "while True:\n    pass\nreturn 7"), "target": 10.5},
    # 5: float noise of a whole number
    {"input": ROBE.replace("2 bolts", "102638293 bolts"),
     "code": program(ROBE, "blue = 102638293\nreturn blue * 3 / 2 + 0.49999997"),
     "target": 102638293 * 3 / 2 + 0.49999997},
]
GSM8K = [{"question": JANET, "answer": "16 - 3 - 4 = <<16-3-4=9>>9\n9 * 2 = <<9*2=18>>18\n#### 18"},
         {"question": ROBE, "answer": "2 / 2 = <<2/2=1>>1\n2 + 1 = <<2+1=3>>3\n#### 3"}]


@pytest.mark.parametrize("value, whole", [
    (153957439.99999997, True), (385670.9999999999, True), (18.0, True), (-4.0, True),
    (9284017268534.4, False), (3.509e-07, False), (11.9999986275, False), (2.5, False),
])
def test_float_noise_counts_as_whole(value, whole):
    assert is_float_noise_integer(value) is whole


def test_items_are_classed(tmp_path):
    hard = write_rows(tmp_path / "hard.jsonl", ROWS)
    gsm8k = write_rows(tmp_path / "gsm8k.jsonl", GSM8K)
    items = audit_gsm_hard(hard, gsm8k, timeout=1.0).items
    assert [i.source_line for i in items] == [1, 2, 2, 2, 2]
    assert [i.negative for i in items] == [True, False, False, False, False]
    assert [i.non_integer for i in items] == [False, True, False, True, False]
    assert items[4].non_integer_exact
    assert [i.unchanged for i in items] == [False, True, False, False, False]
    assert [i.text_program_mismatch for i in items] == [False, False, True, False, False]
    assert items[2].numbers_not_in_program == ("18387270",)
    assert [i.label_mismatch for i in items] == [False, False, True, True, False]
    assert items[3].program_status == "timeout"
    assert items[0].program_result == "-9867630"


def test_cli_prints_json_and_writes_items(tmp_path):
    hard = write_rows(tmp_path / "hard.jsonl", ROWS)
    gsm8k = write_rows(tmp_path / "gsm8k.jsonl", GSM8K)
    out = tmp_path / "items.jsonl"
    result = CliRunner().invoke(main, ["audit", "gsm-hard", str(hard), "--gsm8k", str(gsm8k),
                                       "-o", str(out), "--json", "--timeout", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {k: summary[k] for k in ("total", "negative", "non_integer", "negative_or_non_integer",
                                    "unchanged", "text_program_mismatch", "label_mismatch")} == {
        "total": 5, "negative": 1, "non_integer": 2, "negative_or_non_integer": 3,
        "unchanged": 1, "text_program_mismatch": 1, "label_mismatch": 2}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["line"] for row in lines] == [1, 2, 3, 4, 5]
    table = CliRunner().invoke(main, ["audit", "gsm-hard", str(hard), "--gsm8k", str(gsm8k),
                                      "--timeout", "1"])
    assert "negative_or_non_integer" in table.output and "  3 " in table.output


@pytest.mark.parametrize("row, field", [
    ({"input": "x", "code": "def solution():\n    return 1\n"}, "target"),
    ({"input": "x", "target": 1.0}, "code"),
    ({"input": "x", "code": "def solution():\n    return 1\n", "target": "1"}, "target"),
    ({"input": "x", "code": "def solution():\n    return 1\n", "target": 10 ** 400}, "target"),
])
def test_bad_rows_name_line_and_field(tmp_path, row, field):
    hard = write_rows(tmp_path / "hard.jsonl", [ROWS[1], row])
    gsm8k = write_rows(tmp_path / "gsm8k.jsonl", GSM8K)
    result = CliRunner().invoke(main, ["audit", "gsm-hard", str(hard), "--gsm8k", str(gsm8k)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.count("\n") == 0
    assert f"hard.jsonl:2: field '{field}'" in message


def test_reproduces_the_known_gsm_hard_counts():
    hard = require_data("gsm-hard/test.jsonl")
    gsm8k = require_data("gsm8k/test.jsonl")
    audit = audit_gsm_hard(hard, gsm8k)
    counts = audit.summary()
    print(json.dumps(counts))
    assert counts["total"] == 1319
    assert counts["negative"] == 146
    assert counts["non_integer"] == 299
    assert counts["non_integer_exact"] == 303
    assert counts["negative_or_non_integer"] == 415
    assert counts["unchanged"] == 329
    # GSM-HARD's labels are its programs' outputs: re-running them reproduces every one
    assert counts["label_mismatch"] == 0, [i for i in audit.items if i.label_mismatch][:5]
