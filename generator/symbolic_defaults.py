"""The default instance of a GSM-Symbolic template, and whether it is the original problem.

A ``{var,default}`` placeholder tells the variable's value in the template's own problem.
GSM-Symbolic's P1 and P2 templates are made from an original by adding one or two clauses,
so their defaults need not lie in the ``#init`` ranges and their answer is not the stored
GSM8K one; a default may also be a word ('quarter', 'twice', 'third')::

    {name,Mia} buys {p,4} packs of {k,6} pencils. She gives {g,5} of them away.  <- added
    #init:
    - $g = range(2, 4)            # the default 5 is outside: it stays the default instance
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.formulas import Dec, EvalError, Worded
from mathgen.numbers import find_mentions, parse_answer

from .template import Draw, is_number, show, word_lists

_ARTICLE = re.compile(r"^(?:a|an|one)[\s-]+(?=\S)")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_PARTS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6,
          "eighth": 8, "tenth": 10}


def defaults(draws, question, conditions, derived) -> dict:
    """Each variable's value in the template's own problem: its placeholder's default in
    the question, else solved from its equation, else the first value meeting the
    conditions at the other defaults."""
    written = {}
    for piece in question:
        if isinstance(piece, tuple) and piece[1] is not None and len(piece[0].names) == 1:
            written.setdefault(next(iter(piece[0].names)), piece[1])
    out, missing = {}, []
    for draw in draws:
        for name in draw.names:
            if name in written:
                out[name] = default_value(written[name], draw)
            else:
                missing.append(draw)
                break
    for d in derived:
        if d.name not in out:
            try:
                x = d.solve(out)
                out[d.name] = int(x) if x.denominator == 1 else Dec(x)
            except EvalError:
                pass
    for draw in {id(d): d for d in missing if d.names[0] not in out}.values():
        for pick in draw.each():
            trial = {**out, **dict(zip(draw.names, pick))}
            if all(_holds(c, trial) for c in conditions if c.names <= trial.keys()):
                out.update(zip(draw.names, pick))
                break
        else:
            out.update(zip(draw.names, next(iter(draw.each()))))
    return out


def _holds(condition, env) -> bool:
    try:
        return bool(condition(env))
    except EvalError:
        return False


def default_value(text: str, draw: Draw):
    """The value a placeholder's default stands for, read in the sense of its domain; it need
    not be one of the domain's values (P1/P2 defaults often lie outside the ranges)."""
    for i in range(min(len(draw.domain), 5000)):
        if show(draw.domain[i]).lower() == text.lower():
            return draw.domain[i]
    numeric = len(draw.domain) and isinstance(draw.domain[0], (int, Fraction))
    if not numeric:
        return text
    try:
        value = parse_answer(text)
    except ValueError:
        return Worded(_word_value(text, draw), text)
    if isinstance(draw.domain[0], Worded):
        return Worded(value, text)
    return int(value) if value.denominator == 1 and "." not in text else Dec(value)


def _bare(text: str) -> str:
    """'a quarter', 'one-fourth', 'One Third' -> 'quarter', 'fourth', 'third'."""
    return _ARTICLE.sub("", " ".join(text.lower().replace("-", " ").split()))


def _word_value(text: str, draw: Draw) -> Fraction:
    """A word default's value, read in the sense of its domain (parts below 1, or whole
    numbers): a domain word it names ('quarter' is 'a quarter'), else a word of mathgen's
    lists, else a number word ('twice'), else an ordinal or a part: 'third' is 3 where the
    domain holds whole numbers and 1/3 where it holds parts. A word that none of these
    fixes is rejected, never guessed."""
    bare = _bare(text)
    head = [draw.domain[i] for i in range(min(len(draw.domain), 5000))]  # ranges may be huge
    sample = [Fraction(v) for v in head if is_number(v)]
    parts = all(0 < v < 1 for v in sample)
    whole = all(v >= 1 and v.denominator == 1 for v in sample)

    def fits(v):
        return (0 < v < 1) if parts else (v >= 1 and v.denominator == 1) if whole else True

    found = {Fraction(v) for v in head if isinstance(v, Worded) and _bare(v.text) == bare}
    if not found:
        found = {Fraction(v) for items in word_lists().values() for v in items
                 if isinstance(v, Worded) and _bare(v.text) == bare and fits(Fraction(v))}
    if not found:
        mentions = find_mentions(text)
        if len(mentions) == 1 and mentions[0].text == text.strip() and fits(mentions[0].value):
            found = {mentions[0].value}
    if not found and parts and bare in _PARTS:
        found = {Fraction(1, _PARTS[bare])}
    if not found and whole and bare in _ORDINALS:
        found = {Fraction(_ORDINALS[bare])}
    if len(found) != 1:
        why = "means more than one value" if found else "is not a number of its domain's kind"
        raise UnsupportedProblem("unsupported-construct", f"default {text!r} {why}")
    return found.pop()


def original_answer(row) -> Fraction | None:
    """The stored final answer (``#### N`` of ``answer``), or None."""
    m = re.search(r"^####\s*(.+?)\s*$", str(row.get("answer", "")), re.MULTILINE)
    try:
        return parse_answer(m.group(1)) if m else None
    except ValueError:
        return None


def adds_clauses(row, question: list) -> bool:
    """Whether the annotated question is the original with clauses added (P1/P2), so that
    the stored answer is not its answer.

    Rule: with its defaults filled in, it holds every number of the ``question`` field and
    also a number of its own that a placeholder gives. Numbers, not words, are compared
    because GSM-Symbolic rewords its originals ('Twenty' for '20', 'he' for 'James') in
    half the files. A file this cannot tell (no ``question``, a number of the original
    missing, added numbers only in the fixed text) counts as the original: its defaults
    must then give the stored answer, so a wrong label is rejected rather than kept.
    """
    original = row.get("question")
    if not isinstance(original, str):
        return False
    filled, spans, at = [], [], 0
    for piece in question:
        text = piece if isinstance(piece, str) else piece[1]
        if text is None:
            return False  # an expression without a default: the filled text is unknown
        if not isinstance(piece, str):
            spans.append((at, at + len(text)))
        filled.append(text)
        at += len(text)
    mentions = find_mentions("".join(filled))
    theirs = Counter(m.value for m in find_mentions(original))
    added = Counter(m.value for m in mentions) - theirs
    if theirs - Counter(m.value for m in mentions):
        return False
    # 'a {frac,quarter}': the mention 'a quarter' overlaps the placeholder
    return any(m.value in added and any(m.start < end and start < m.end for start, end in spans)
               for m in mentions)
