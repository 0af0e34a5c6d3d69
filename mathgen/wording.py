"""How counts are written in the summaries every command prints: "1 problem", "2 problems".

    counted(1, "problem")              # '1 problem'
    counted(3, "set")                  # '3 sets'
    counted(2, "distinct program")     # '2 distinct programs'
"""

from __future__ import annotations

_IRREGULAR = {"was": "were", "has": "have", "gives": "give"}


def plural(noun: str) -> str:
    """The plural of an English noun phrase of this project's summaries (its last word)."""
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def counted(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one (``many`` overrides the plural)."""
    return f"{n} {noun if n == 1 else (many or plural(noun))}"
