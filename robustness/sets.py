"""Evaluation sets: the items a model is asked, each with its gold answer and its source.

    items = read_set("hard", "variants.jsonl")   # [Item(set='hard', id='test:1/similar/0/0', ...)]

A set file is either ``mathgen perturb`` output (``id``, ``source_id``, ``question``,
``final_answer``) or any input format mathgen reads (GSM8K, SVAMP, ASDiv, GSM-HARD, ToRA
outputs), whose rows are items ``NAME:LINE`` with source ``STEM:LINE`` (as ``mathgen
perturb`` names the sources of that file). Only the question and the gold answer are read, so
a problem ``mathgen perturb`` would reject is still asked; a row whose gold answer is not a
number (ASDiv has 'Yes' and '3:30 p.m.') is skipped and counted.

Items are paired across sets by the problem they were made from: ``Item.source`` is that
problem's question (a variant's ``original_question``; a row's own question), whitespace
normalised. File names and line numbers never pair anything: two files called
``test.jsonl`` hold different problems.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mathgen.errors import InputError
from mathgen.formats import FORMATS
from mathgen.formula_steps import join
from mathgen.io import read_rows, stem
from mathgen.numbers import parse_answer, plain

_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Item:
    set: str
    id: str
    source_id: str
    source_line: int  # line of the item in its set file
    question: str
    gold: str  # exact, as a plain decimal string (or p/q)
    format: str  # variant, gsm8k, gsm-hard, ...
    size: int  # digits in the integer part of the largest number in the question
    source: str = ""  # the question of the problem it was made from, for pairing
    label: float | None = None  # GSM-HARD's raw float label (the audit classes it)
    row: int = 0  # position among the file's rows, from 0 (ToRA's 'idx')


@dataclass(frozen=True)
class Skipped:
    set: str
    line: int
    reason: str


def number_size(question: str) -> int:
    """Digits in the integer part of the question's largest number (0 when it has none)."""
    best = 0
    for m in _DIGITS.finditer(question):
        head = m.group().split(".")[0].replace(",", "").lstrip("0")
        best = max(best, len(head) or 1)
    return best


def _need(row, field, path, line, hint):
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InputError("missing or not text", path=path, line=line, field=field, hint=hint)
    return value


def _gold(text, path, line, field) -> Fraction:
    try:
        return parse_answer(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{str(text)[:40]!r} is not a number", path=path, line=line,
                         field=field, hint="the gold answer must be one number") from None


def _joined(body_field, question_field):
    def read(row, path, line):
        body = _need(row, body_field, path, line, f"rows have {body_field!r} and "
                                                  f"{question_field!r}").strip()
        question = _need(row, question_field, path, line, "").strip()
        answer = row.get("Answer", row.get("answer"))
        head = str(answer).split(" (")[0].strip()
        field = "Answer" if "Answer" in row else "answer"
        # joined as mathgen perturb joins them, so variants pair with their originals
        return join(body, question), _gold(head, path, line, field)
    return read


def _gsm_hard(row, path, line):
    target = row.get("target")
    if isinstance(target, bool) or not isinstance(target, (int, float)) \
            or not math.isfinite(target):
        raise InputError("must be a finite number", path=path, line=line, field="target",
                         hint="GSM-HARD rows carry the program's output as 'target'")
    return _need(row, "input", path, line, "GSM-HARD rows have 'input'"), \
        Fraction(repr(float(target)))


def _question_and_gold(fmt: str):
    """The format's own reader (GSM8K, ToRA), keeping its question and gold answer."""
    def read(row, path, line):
        question, _solution, gold = FORMATS[fmt].convert(row, path, line)
        return question, gold
    return read


_READERS = {"gsm8k": _question_and_gold("gsm8k"), "svamp": _joined("Body", "Question"),
            "asdiv": _joined("body", "question"), "gsm-hard": _gsm_hard,
            "tora": _question_and_gold("tora"),
            "model-solutions": _question_and_gold("model-solutions")}
_VARIANT_FIELDS = ("id", "source_id", "question", "final_answer")
_GOLD_FIELDS = ("answer", "Answer", "gt")


def normalise(question: str) -> str:
    return " ".join(question.split())


def _kind(row: dict, path: Path, line: int) -> str:
    if all(f in row for f in _VARIANT_FIELDS):
        return "variant"
    for kind in ("gsm-hard", "svamp", "asdiv", "tora", "model-solutions", "gsm8k"):
        if all(f in row for f in FORMATS[kind].fields):
            return kind
    fields = ", ".join(sorted(str(k)[:30] for k in row)[:8]) or "none"
    raise InputError(f"cannot tell the kind of set from the fields ({fields})", path=path,
                     line=line, hint="a set is mathgen perturb output (id, source_id, question, "
                                     "final_answer) or GSM8K, GSM-HARD, SVAMP, ASDiv, ToRA or "
                                     "model-solutions rows")


def read_set(name: str, path, limit: int | None = None) -> tuple[list[Item], list[Skipped]]:
    """The items of one set file in file order (the first ``limit`` when given), and the rows
    skipped because their gold answer is not a number."""
    path = Path(path)
    items: list[Item] = []
    skipped: list[Skipped] = []
    kind = None
    for position, (line, row) in enumerate(read_rows(path)):
        if limit is not None and len(items) >= limit:
            break
        kind = kind or _kind(row, path, line)
        try:
            if kind == "variant":
                question = _need(row, "question", path, line, "a variant has 'question'")
                ident = _need(row, "id", path, line, "a variant has 'id'")
                source_id = _need(row, "source_id", path, line, "a variant has 'source_id'")
                original = row.get("original_question")
                source = normalise(original) if isinstance(original, str) and original.strip() \
                    else f"source_id:{source_id}"
                label = None
                gold = _gold(str(row.get("final_answer")), path, line, "final_answer")
            else:
                ident, source_id = f"{name}:{line}", f"{stem(path)}:{line}"
                label = float(row["target"]) if kind == "gsm-hard" and \
                    isinstance(row.get("target"), (int, float)) else None
                question, gold = _READERS[kind](row, path, line)
                source = normalise(question)
        except InputError as err:
            if kind == "variant" or err.field not in _GOLD_FIELDS or "is not a number" \
                    not in err.reason:
                raise
            skipped.append(Skipped(name, line, f"the gold answer {err.reason}"))
            continue
        items.append(Item(name, ident, source_id, line, question, plain(gold), kind,
                          number_size(question), source, label, position))
    if not items:
        raise InputError("no items", path=path, hint="a set is a non-empty JSONL file")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(f"item id {item.id!r} appears twice", path=path,
                             line=item.source_line, field="id",
                             hint="ids must be unique within a set")
        seen.add(item.id)
    return items, skipped

