"""Bounds of sense between two numbers of a question, from the words around them: a number
said to be 'only' so many stays below the count of the same things it is set against
('usually 20 students ... only 10 students'), a square's two sides stay equal ('square flags
4 feet by 4 feet'), and prices or sizes of things named small, medium and large keep that
order. See ``sense`` for the bounds of one number.
"""

from __future__ import annotations

import re

from .prose import nouns
from .sense import _UNIT, _clause_before

# --------------------------------------------------------------------
_TIMES = re.compile(r"\s+times\s+(?:as|more|less|fewer)\b", re.IGNORECASE)
_ONLY_BEFORE = re.compile(r"\bonly\s+(?:[a-z]+\s+){0,2}$", re.IGNORECASE)
_SQUARE_BEFORE = re.compile(r"\bsquares?\b[^.;:\d]{0,40}$", re.IGNORECASE)
_BY = re.compile(rf"\s*(?:{_UNIT}\s*)?(?:by|x|\u00d7)\s*$", re.IGNORECASE)
_SIZES = {"small": 0, "little": 0, "mini": 0, "medium": 1, "regular": 1, "large": 2,
          "big": 2, "jumbo": 3, "giant": 3, "huge": 3, "extra-large": 3, "extra large": 3}
_SIZE = re.compile(r"\b(" + "|".join(sorted(_SIZES, key=len, reverse=True)) + r")\b",
                   re.IGNORECASE)


def square_sides(question: str, mentions) -> dict[int, int]:
    """Second side -> first side of each square the question gives as 'N by N'."""
    out = {}
    for i in range(len(mentions) - 1):
        a, b = mentions[i], mentions[i + 1]
        if a.quantity and b.quantity and a.value == b.value \
                and _BY.match(question[a.end:b.start]) \
                and _SQUARE_BEFORE.search(_clause_before(question, a.start, 60)):
            out[i + 1] = i
    return out


def only_bounds(question: str, mentions, trees) -> list:
    """'only N things' stays below the closest other count of the same things."""
    out = []
    for j, m in enumerate(mentions):
        if not m.quantity or m.money or m.value < 2 \
                or not _ONLY_BEFORE.search(_clause_before(question, m.start, 30)):
            continue
        noun = nouns(question, m.end)
        same = [i for i, other in enumerate(mentions) if i != j and other.quantity
                and not other.money and nouns(question, other.end) & noun
                and not _TIMES.match(question, other.end)]  # '8 times as many' is no count
        if same:
            ref = max((i for i in same if i < j), default=min(same))
            out.append((trees[ref], trees[j], f"'only {m.text}' must stay below the "
                        f"{mentions[ref].text} it is set against", True))
    return out


def size_order(question: str, mentions, trees) -> list:
    """Prices (or sizes) of things named small, medium, large keep that order."""
    sized = []
    for i, m in enumerate(mentions):
        if not m.quantity or re.match(rf"\s+{_SIZE.pattern}", question[m.end:m.end + 20],
                                      re.IGNORECASE):
            continue  # '3 large pizzas' counts the large ones
        before = _clause_before(question, m.start, 40)
        after = re.match(r"\s*(?:for|per)\s+(?:(?:an?|each|the)\s+)?" + _SIZE.pattern,
                         question[m.end:m.end + 30], re.IGNORECASE)
        words = list(_SIZE.finditer(before))
        if after:
            word = after.group(1)
        elif words and not re.search(r"\d", before[words[-1].end():]):
            word = words[-1].group(1)
        else:
            continue
        sized.append((i, _SIZES[word.lower()]))
    out = []
    for (a, rank_a), (b, rank_b) in zip(sized, sized[1:]):
        if rank_a == rank_b or mentions[a].money != mentions[b].money or not (
                mentions[a].money or nouns(question, mentions[a].end)
                & nouns(question, mentions[b].end)):
            continue  # a price against a price, or a size in the same units
        (big, _), (small, _) = sorted([(a, rank_a), (b, rank_b)], key=lambda x: -x[1])
        out.append((trees[big], trees[small], f"the {mentions[big].text} of the larger size "
                    f"must stay above the {mentions[small].text} of the smaller", True))
    return out
