"""Sampled paths: reading sample files, and judging a path's final answer.

Rows are ToRA outputs (``question``, ``gt``, ``code``: the model's whole outputs) or
``{question, answer, completions: [...]}``; an ``answer`` ending ``#### N`` gives N. A gold
answer written as a number is compared exactly (``mathgen.answers.grade``); a symbolic one
(MATH's ``\\sqrt{2}``) is compared as text with spaces and LaTeX sizing removed.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

from mathgen.answers import extract, grade, number
from mathgen.errors import InputError
from mathgen.io import read_rows
from mathgen.numbers import plain

_NUMERIC_GOLD = re.compile(r"\\?\$?-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
                           r"(?:/\d+)?(?:\\?%)?\.?|-?\\[dt]?frac\{-?\d+\}\{\d+\}")
_HINT = ("rows are ToRA outputs (question, gt, code: [outputs]) or "
         "{question, answer, completions: [outputs]}")


def source(spec) -> tuple[str, Path]:
    """(source name, file) of a file or a (name, file) pair: the name defaults to the file's
    name up to its first dot (a data set's split, see ``mathgen.hfdata.stem``)."""
    from mathgen import hfdata

    if isinstance(spec, tuple):
        name, path = spec
    else:
        name, path = None, spec
    path = Path(path)
    if name is None:
        name = hfdata.stem(path) if hfdata.is_dataset(path) else path.name.split(".")[0]
    return name, path


def read_samples(path: Path):
    """(line, question, gold, outputs, id) of each row of a samples file."""
    for line, row in read_rows(path):
        if "code" in row or "gt" in row:
            outputs, gold_field = row.get("code"), "gt"
        elif "completions" in row:
            outputs, gold_field = row.get("completions"), "answer"
        else:
            fields = ", ".join(sorted(str(k)[:30] for k in row)[:8]) or "none"
            raise InputError(f"cannot tell the format from the fields ({fields})", path=path,
                             line=line, hint=_HINT)
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputError("missing or not text", path=path, line=line, field="question",
                             hint=_HINT)
        gold = row.get(gold_field)
        if isinstance(gold, float) and math.isfinite(gold):
            gold = plain(Fraction(repr(gold)))  # 1e+16 is 10000000000000000
        elif isinstance(gold, int) and not isinstance(gold, bool):
            gold = str(gold)
        if not isinstance(gold, str) or not gold.strip():
            raise InputError("missing or not text", path=path, line=line, field=gold_field,
                             hint="the gold answer, such as '18'")
        gold = gold.rpartition("####")[2].strip()
        if isinstance(outputs, str):
            outputs = [outputs]
        field_name = "code" if gold_field == "gt" else "completions"
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise InputError("expected a list of texts", path=path, line=line, field=field_name,
                             hint="each entry is one sampled path, the model's whole output")
        ident = row.get("idx", row.get("id"))
        yield line, question, gold, outputs, None if ident is None else str(ident)


def text_form(text: str) -> str:
    """An answer that is not a number, as compared: no spaces, LaTeX wrappers dropped."""
    s = text.replace("\\left", "").replace("\\right", "").replace("\\!", "")
    s = s.replace("dfrac", "frac").replace("tfrac", "frac").replace("^\\circ", "")
    return "".join(s.split()).rstrip(".").strip("$")


def gold_value(gold: str) -> Fraction | None:
    """The exact value of a gold answer written as a number ('1,250', '-0.5', '3/4',
    '\\frac{3}{4}', '20\\%'); None for a symbolic one ('\\sqrt{2}', '3\\pi', '(1, 2)')."""
    if not _NUMERIC_GOLD.fullmatch("".join(gold.split()).replace("\\!", "")):
        return None
    value, _ = number(gold)
    return value


def graded(text: str, gold: str, value: Fraction | None) -> tuple[str | None, str]:
    """(the exact answer, '') when the path is right, else (None, reason)."""
    found = extract(text)
    if found.text is None:
        return None, "no answer"
    if value is None:  # a symbolic gold answer (MATH): compared as text
        ok = text_form(found.text) == text_form(gold)
        return (text_form(gold), "") if ok else (None, "wrong answer")
    verdict = grade(found.text, value)
    if not verdict.correct:
        return None, "wrong answer"
    return plain(verdict.predicted), ""
