"""``mathgen worksheet``: the PDF's text holds every problem and every answer, the pages
render, long problems wrap and break across pages, the HTML is well formed and escaped, the
same seed gives the same bytes, and bad input is one error line.

The PDFs are read back with PDFium (pypdfium2), a reader of its own, not the typesetter."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from conftest import require_data, write_rows

from mathgen.cli import main
from mathgen.generator.run import library
from mathgen.worksheet import Item, Sheet, readable
from mathgen.worksheet.items import written_answer
from mathgen.worksheet.pdf import drawable

pdfium = pytest.importorskip("pypdfium2", reason="reading PDFs back needs pypdfium2 "
                             "(pip install '.[test]')")
pytest.importorskip("reportlab", reason="typesetting needs reportlab (pip install "
                    "'.[worksheet]')")


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(*args):
    result = mathgen(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def flat(text: str) -> str:
    return " ".join(text.split())


_FOOTER = re.compile(r"^(.* · mathgen worksheet, seed -?\d+( page \d+)?|page \d+)$")


def pages(path) -> list[str]:
    """The text of each page, as PDFium reads it, less the footer lines (drawn first, so
    they would stand inside a problem that goes on over a page break)."""
    document = pdfium.PdfDocument(str(path))
    try:
        texts = [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
    return ["\n".join(line for line in t.splitlines() if not _FOOTER.match(line.strip()))
            for t in texts]


def text(path) -> str:
    return flat(" ".join(pages(path)))


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def one_error_line(result, *fragments) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathgen: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def value(shown: str) -> Fraction:
    """The value of an answer as the key writes it: '$71.30', '1,250', '-5', '7/2'."""
    return Fraction(shown.strip("$€£").replace(",", ""))


def gsm8k_row(question: str, answer: str = "Tom has 3 + 4 = <<3+4=7>>7 apples.\n#### 7"):
    return {"question": question, "answer": answer}


# --- what the sheet holds ---------------------------------------------------------------

def test_sheet_holds_the_problems_perturb_draws_and_the_key_their_answers(tmp_path):
    variants = tmp_path / "variants.jsonl"
    ok("perturb", "-o", variants, "-n", 1, "--seed", 3)
    drawn = {flat(r["question"]): r for r in records(variants)}
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.pdf"
    result = ok("worksheet", "-o", sheet, "--key", key, "-n", 12, "--seed", 3)
    assert "wrote 12 problems" in result.stdout
    sheet_text, key_text = text(sheet), text(key)
    found = [q for q in drawn if drawable(q) in sheet_text]
    assert len(found) == 12, len(found)
    # numbered 1..12 in the order they stand on the sheet; the key in the same order
    starts = sorted(sheet_text.index(drawable(q)) for q in found)
    for number, start in enumerate(starts, 1):
        assert sheet_text[:start].rstrip().endswith(f"{number}.")
    order = sorted(found, key=lambda q: sheet_text.index(drawable(q)))
    at = 0
    for number, question in enumerate(order, 1):
        row = drawn[question]
        entry = re.compile(rf"{number}\. Answer: (\S+) {re.escape(drawable(question))} "
                           rf"\({re.escape(row['source_id'])}\)")
        match = entry.search(key_text, at)
        assert match, (number, question)
        assert value(match.group(1)) == Fraction(row["final_answer"]), match.group(1)
        at = match.end()
        for step in readable(row["answer"]):
            assert drawable(step) in key_text, step
    assert "<<" not in key_text and "####" not in key_text
    assert sheet_text.count("Answer:") == 12  # the line to write the answer on


def test_a_variants_file_is_printed_as_it_is_in_its_order(tmp_path):
    variants = tmp_path / "variants.jsonl"
    ok("perturb", "-o", variants, "-n", 2, "--seed", 1)
    rows = records(variants)[:5]
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.html"
    ok("worksheet", variants, "-o", sheet, "--key", key, "-n", 5, "--keep-order")
    sheet_text = text(sheet)
    positions = [sheet_text.index(drawable(flat(r["question"]))) for r in rows]
    assert positions == sorted(positions)
    page = key.read_text(encoding="utf-8")
    shown = re.findall(r"<b>Answer: (.*?)</b>", page)
    assert [value(a) for a in shown] == [Fraction(r["final_answer"]) for r in rows]
    assert "&lt;&lt;" not in page and "####" not in page


def test_worked_solutions_read_as_a_reader_sees_them():
    solution = ("She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n"
                "She makes 9 * 2 = $<<9*2=18>>18 a day.\n"
                "Each friend gets 55 / 5 = <<55/5=11>>11 cookies, 1/2 of them at 30 km/h.\n"
                "\n#### 18")
    assert readable(solution) == ("She sells 16 - 3 - 4 = 9 eggs.",
                                  "She makes 9 × 2 = $18 a day.",
                                  "Each friend gets 55 ÷ 5 = 11 cookies, 1/2 of them at 30 km/h.")


@pytest.mark.parametrize("last_step, answer, shown", [
    ("Each friend pays 213.90 ÷ 3 = $71.30.", "71.3", "$71.30"),
    ("He pays €12.50 for 3.5 kg.", "12.5", "€12.50"),
    ("The library holds 1,250 books.", "1250", "1,250"),
    ("It is -5 degrees.", "-5", "-5"),
    ("So there are 55 - 44 = 11 flowers.", "11", "11"),
    ("That is 5 more than 6 apples.", "11", "11"),  # no number of that value: as it is
    ("She has 2.5 cups.", "2.5", "2.5"),
])
def test_the_key_writes_the_answer_as_the_last_step_does(last_step, answer, shown):
    assert written_answer(("First step 1 + 1 = 2.", last_step), answer) == shown


@pytest.mark.parametrize("raw, shown", [
    ("It costs €5 — “fine” × ÷ é ’", "It costs €5 — “fine” × ÷ é ’"),
    ("5 − 3 = 2", "5 - 3 = 2"),
    ("√16 = 4", "sqrt 16 = 4"),
    ("a\u200bb\u2028c", "ab c"),
    ("Ŝ and Ā", "S and A"),
    ("Москва", "??????"),
])
def test_what_helvetica_cannot_draw_is_written_plainly(raw, shown):
    assert drawable(raw) == shown


def test_signs_and_markup_characters_survive_in_the_pdf(tmp_path):
    questions = ["Is 3 < 5 & 7 > 2? A <b>box</b> costs €5 and a pen −2 less.",
                 "Tom has 3 apples and gets 4 more. How many apples does he have?"]
    problems = write_rows(tmp_path / "problems.jsonl", [gsm8k_row(q) for q in questions])
    sheet = tmp_path / "sheet.pdf"
    ok("worksheet", problems, "-o", sheet, "--keep-order")
    got = text(sheet)
    assert "Is 3 < 5 & 7 > 2? A <b>box</b> costs €5 and a pen -2 less." in got
    assert questions[1] in got


# --- layout -----------------------------------------------------------------------------

@pytest.mark.parametrize("paper, size", [("a4", (595, 842)), ("letter", (612, 792))])
def test_every_page_renders_to_an_image_of_the_paper_size(tmp_path, paper, size):
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.pdf"
    ok("worksheet", "-o", sheet, "--key", key, "-n", 7, "--paper", paper)
    for path in (sheet, key):
        document = pdfium.PdfDocument(str(path))
        assert len(document) >= (2 if path == sheet else 1)
        for page in document:
            assert tuple(round(x) for x in page.get_size()) == size
            image = page.render(scale=1).to_pil().convert("L")
            assert all(abs(a - b) <= 1 for a, b in zip(image.size, size))
            dark = sum(image.histogram()[:128])
            assert dark > 500, f"page of {path.name} is nearly blank"
        document.close()


def test_a_long_problem_wraps_within_the_margins_and_breaks_across_pages(tmp_path):
    sentences = [f"On day {i} the farmer counts {i * 7} sheep in field {i} and writes the "
                 f"number in a notebook with a green cover." for i in range(1, 61)]
    long = " ".join(sentences) + " How many sheep does the farmer count on day 60?"
    rows = [gsm8k_row("Tom has 3 apples and gets 4 more. How many apples does he have?"),
            gsm8k_row(long, "The farmer counts 60 * 7 = <<60*7=420>>420 sheep.\n#### 420"),
            gsm8k_row("Ann has 2 pears and buys 5 more. How many pears does she have?")]
    problems = write_rows(tmp_path / "problems.jsonl", rows)
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.pdf"
    ok("worksheet", problems, "-o", sheet, "--key", key, "--keep-order")
    texts = [flat(t) for t in pages(sheet)]
    assert len(texts) >= 3
    first = next(i for i, t in enumerate(texts) if sentences[0] in t)
    last = next(i for i, t in enumerate(texts) if "on day 60?" in t)
    assert last > first  # the problem goes on over a page break
    assert drawable(long) in text(sheet)  # whole, nothing lost at the break
    assert text(sheet).index("3. Ann has 2 pears") > text(sheet).index("on day 60?")
    assert "2. Answer: 420" in text(key)
    document = pdfium.PdfDocument(str(sheet))
    for page in document:
        width, _ = page.get_size()
        textpage = page.get_textpage()
        for i in range(textpage.count_chars()):
            left, _, right, _ = textpage.get_charbox(i)
            assert 2 * 28.3 - 1 <= left and right <= width - 2 * 28.3 + 1, (left, right)
    document.close()


# --- HTML -------------------------------------------------------------------------------

def test_html_is_well_formed_and_escapes_the_problems(tmp_path):
    questions = ["Is 3 < 5 & 7 > 2? A <script>alert(1)</script> costs €5.",
                 "Tom has 3 apples and gets 4 more. How many apples does he have?"]
    problems = write_rows(tmp_path / "problems.jsonl", [gsm8k_row(q) for q in questions])
    sheet, key = tmp_path / "sheet.html", tmp_path / "key.html"
    ok("worksheet", problems, "-o", sheet, "--key", key, "--keep-order", "--title", "A & B")
    page = sheet.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n")
    assert "<script>" not in page and "&lt;script&gt;" in page
    root = ET.fromstring(page.split("\n", 1)[1])  # well-formed: an XML parser reads it
    items = root.findall(".//ol/li")
    assert [li.get("value") for li in items] == ["1", "2"]
    assert [li.find("p").text for li in items] == questions
    assert root.find(".//h1").text == "A & B"
    key_root = ET.fromstring(key.read_text(encoding="utf-8").split("\n", 1)[1])
    answers = [li.find("p/b").text for li in key_root.findall(".//ol/li")]
    assert answers == ["Answer: 7", "Answer: 7"]
    steps = [p.text for p in key_root.findall(".//div[@class='steps']/p")]
    assert steps == ["Tom has 3 + 4 = 7 apples."] * 2


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=4))
def test_any_text_gives_a_well_formed_page_that_shows_it(questions):
    from mathgen.worksheet import html

    items = tuple(Item(i, q, (q,), q, q) for i, q in enumerate(questions, 1))
    sheet = Sheet(questions[0], items, 0)
    expected = [flat(printable(q)) for q in questions]
    root = ET.fromstring(html.worksheet(sheet).split("\n", 1)[1])
    assert flat(root.find(".//h1").text or "") == expected[0]
    assert [flat(li.find("p").text or "") for li in root.findall(".//ol/li")] == expected
    key = ET.fromstring(html.answer_key(sheet).split("\n", 1)[1])
    entries = key.findall(".//ol/li")
    assert [flat(li.find("p/b").text) for li in entries] == [flat(f"Answer: {q}")
                                                           for q in expected]
    assert [flat(li.find("div/p").text or "") for li in entries] == expected


def printable(text: str) -> str:
    """What a page can show of any text: controls and noncharacters are spaces."""
    return "".join(" " if (ord(c) < 32 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f
                   or c in "\ufffe\uffff" else c for c in text)


# --- choosing problems --------------------------------------------------------------------

def test_same_seed_same_bytes_and_another_seed_other_problems(tmp_path):
    def run(name, seed):
        folder = tmp_path / name
        folder.mkdir()
        ok("worksheet", "-o", folder / "s.pdf", "-o", folder / "s.html", "--key",
           folder / "k.pdf", "-n", 6, "--seed", seed)
        return [(folder / f).read_bytes() for f in ("s.pdf", "s.html", "k.pdf")]

    first, again, other = run("a", 5), run("b", 5), run("c", 6)
    assert first == again
    assert all(x != y for x, y in zip(first, other))
    # the creation date and id are fixed, not today's
    assert b"/CreationDate (D:2000" in first[0]


def test_tags_keep_the_templates_perturb_keeps(tmp_path):
    variants = tmp_path / "variants.jsonl"
    ok("perturb", "-o", variants, "--tag", "percentages", "--seed", 2)
    allowed = {flat(r["question"]) for r in records(variants)}
    sheet = tmp_path / "sheet.html"
    ok("worksheet", "-o", sheet, "--tag", "percentages", "--seed", 2, "-n", len(allowed))
    root = ET.fromstring(sheet.read_text(encoding="utf-8").split("\n", 1)[1])
    shown = [flat(li.find("p").text) for li in root.findall(".//ol/li")]
    assert 3 <= len(shown) < 65 and set(shown) == allowed


def test_digits_draws_numbers_of_that_size(tmp_path):
    variants = tmp_path / "variants.jsonl"
    ok("perturb", "-o", variants, "--strategy", "digits:4", "--seed", 0)
    allowed = {flat(r["question"]): r for r in records(variants)}
    sheet = tmp_path / "sheet.html"
    result = ok("worksheet", "-o", sheet, "--digits", 4, "-n", 5)
    root = ET.fromstring(sheet.read_text(encoding="utf-8").split("\n", 1)[1])
    shown = [flat(li.find("p").text) for li in root.findall(".//ol/li")]
    assert len(shown) == 5 and set(shown) <= set(allowed)
    assert all(re.search(r"\d{4}", q.replace(",", "")) for q in shown)
    templates = len(list(library().glob("*.jinja")))
    assert f"left out {templates - len(allowed)} of {templates} templates" in result.stdout


def test_more_problems_than_templates_deals_each_template_again(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    for name in ("c-cookie-sharing.jinja", "c-library-books.jinja"):
        shutil.copy(library() / name, folder / name)
    sheet = tmp_path / "sheet.html"
    ok("worksheet", folder, "-o", sheet, "-n", 5)
    root = ET.fromstring(sheet.read_text(encoding="utf-8").split("\n", 1)[1])
    shown = [li.find("p").text for li in root.findall(".//ol/li")]
    assert len(shown) == 5 and len(set(shown)) == 5
    cookies = ["cookie" in q for q in shown]
    assert cookies[:4] in ([True, False, True, False], [False, True, False, True])


def test_fewer_problems_than_asked_says_so(tmp_path):
    problems = write_rows(tmp_path / "problems.jsonl", [gsm8k_row(f"Tom has {i} apples.")
                                                         for i in range(3)])
    result = ok("worksheet", problems, "-o", tmp_path / "s.html", "-n", 100)
    assert "only 3 of the 100 problems asked for" in result.stdout
    assert "wrote 3 problems" in result.stdout


def test_problems_with_no_right_solution_are_left_out_and_counted(tmp_path):
    row = {"question": "Tom has 3 apples and gets 4 more. How many apples does he have?",
           "ground_truth": "Tom has 3 + 4 = <<3+4=7>>7 apples.\nA: 7",
           "6b_verification": {"is_correct": True, "solution": "He has 3 + 4 = 7 apples.\nA: 7"},
           "175b_verification": {"is_correct": False, "solution": "3 + 4 = 8\nA: 8"}}
    problems = write_rows(tmp_path / "solutions.jsonl", [row])
    key = tmp_path / "key.html"
    result = ok("worksheet", problems, "-o", tmp_path / "s.html", "--key", key)
    assert "left out 1 problem of the problem files" in result.stdout
    assert "wrote 1 problem:" in result.stdout
    assert "He has 3 + 4 = 7 apples." in key.read_text(encoding="utf-8")
    assert "= 8" not in key.read_text(encoding="utf-8")


def test_format_forces_the_problem_files_format(tmp_path):
    problems = write_rows(tmp_path / "problems.jsonl", [gsm8k_row("Tom has 3 apples.")])
    one_error_line(mathgen("worksheet", problems, "-o", tmp_path / "s.pdf", "--format", "svamp"),
                   f"{problems}:1", "'Body'")


def test_gsm_symbolic_templates(tmp_path):
    folder = require_data("gsm-symbolic/symbolic")
    subset = tmp_path / "symbolic"
    subset.mkdir()
    for path in sorted(folder.glob("*.json"))[:6]:
        shutil.copy(path, subset / path.name)
    variants = tmp_path / "variants.jsonl"
    ok("perturb", subset, "-o", variants, "--seed", 4)
    drawn = {flat(r["question"]): r["final_answer"] for r in records(variants)}
    sheet, key = tmp_path / "sheet.pdf", tmp_path / "key.pdf"
    ok("worksheet", subset, "-o", sheet, "--key", key, "--seed", 4, "-n", len(drawn))
    sheet_text, key_text = text(sheet), text(key)
    for question, answer in drawn.items():
        assert drawable(question) in sheet_text
        assert f"Answer: {answer} {drawable(question)}" in key_text


# --- bad input and outputs -----------------------------------------------------------------

@pytest.mark.parametrize("rows, line, field", [
    ([gsm8k_row("Tom has 3 apples."), {"question": "Ann has 2 pears."}], 2, "answer"),
    ([gsm8k_row("Tom has 3 apples."), gsm8k_row("x", "no final line")], 2, "answer"),
    ([gsm8k_row("Tom has 3 apples."), "{broken"], 2, None),
])
def test_a_bad_variants_file_is_one_error_line_naming_file_line_and_field(tmp_path, rows,
                                                                           line, field):
    problems = write_rows(tmp_path / "problems.jsonl", rows)
    sheet = tmp_path / "sheet.pdf"
    sheet.write_bytes(b"an earlier sheet")
    message = one_error_line(mathgen("worksheet", problems, "-o", sheet,
                                     "--key", tmp_path / "key.pdf"), f"{problems}:{line}")
    if field:
        assert f"'{field}'" in message
    assert sheet.read_bytes() == b"an earlier sheet"
    assert not (tmp_path / "key.pdf").exists()


def test_an_output_that_is_a_pipe_or_folder_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    one_error_line(mathgen("worksheet", "-o", fifo), str(fifo), "not a regular file")
    assert fifo.is_fifo()
    folder = tmp_path / "folder.html"
    folder.mkdir()
    one_error_line(mathgen("worksheet", "-o", tmp_path / "s.pdf", "--key", folder), "a folder")
    assert not (tmp_path / "s.pdf").exists()
    one_error_line(mathgen("worksheet", "-o", "/dev/null"), "/dev/null")


def test_a_link_to_a_sheet_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.pdf"
    target.write_bytes(b"old")
    link = tmp_path / "link.pdf"
    link.symlink_to(target)
    ok("worksheet", "-o", link, "-n", 2)
    assert link.is_symlink() and target.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, fragments", [
    (["-o", "sheet.txt"], ["sheet.txt", ".pdf or .html"]),
    (["-o", "s.pdf", "--key", "s.pdf"], ["same file"]),
    (["-o", "s.pdf", "--tag", "no-such-skill"], ["--tag no-such-skill", "no template"]),
    (["-o", "s.pdf", "--digits", "3", "--strategy", "mmos-large"], ["give one of them"]),
    (["-o", "s.pdf", "--strategy", "simlar"], ["simlar", "similar"]),
    (["-o", "s.pdf", "--title", "  "], ["--title"]),
])
def test_bad_options_are_one_error_line(tmp_path, args, fragments):
    args = [str(tmp_path / a) if a.endswith((".pdf", ".txt")) else a for a in args]
    one_error_line(mathgen("worksheet", *args), *fragments)
    assert not list(tmp_path.iterdir())


def test_tags_and_strategies_need_templates(tmp_path):
    problems = write_rows(tmp_path / "problems.jsonl", [gsm8k_row("Tom has 3 apples.")])
    one_error_line(mathgen("worksheet", problems, "-o", tmp_path / "s.pdf", "--digits", 3),
                   "--strategy digits:3", "problem files")


def test_an_output_that_is_an_input_is_refused(tmp_path):
    problems = write_rows(tmp_path / "problems.html", [gsm8k_row("Tom has 3 apples.")])
    before = problems.read_bytes()
    one_error_line(mathgen("worksheet", problems, "-o", problems), "same file as an input")
    assert problems.read_bytes() == before


def test_help_and_an_html_sheet_import_no_typesetter():
    script = (
        "import sys, tempfile, os\n"
        "from mathgen.cli import main\n"
        "out = os.path.join(tempfile.mkdtemp(), 's.html')\n"
        "for args in (['worksheet', '--help'], ['worksheet', '-o', out, '-n', '2']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "heavy = {'reportlab', 'torch', 'transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
