"""What the prose says a calculation's number is: '3 x $3 = $<<3*3=9>>9' writes the first 3
bare and the second as money, '5 time-outs * 5 = <<5*5=25>>' names what the first 5 counts.

Where the question has two equal numbers ('$3 each ... three sets'), the reading of a
calculation cannot tell them apart by value, and the build would keep both fixed. The words
the writer put around each number in the calculation's prose (its twin) often can: a twin
written as money is the question's money, a twin followed by a noun is the question number
followed by the same noun. The evidence only narrows a choice among equal question numbers,
and only where at least one of them agrees with it; where none does, nothing changes.
"""

from __future__ import annotations

from mathgen.numbers import find_mentions

from .calculations import _PROSE_LHS
from .prose import word_after

# what a twin says of its number: (written as money, the noun after it)
Context = tuple[bool, "str | None"]


def contexts(solution: str, sources) -> list[list[Context | None]]:
    """Per calculation, per literal, what its prose twin says (None where it has none)."""
    out = []
    seg_start = 0
    for src in sources:
        found: list[Context | None] = [None] * len(src.literals)
        if solution.startswith("<<", src.start):  # the twin is the prose right before it
            line_start = max(seg_start, solution.rfind("\n", 0, src.start) + 1)
            lhs = _PROSE_LHS.search(solution, line_start, src.start) if src.literals else None
            if lhs:
                start = lhs.start(1)
                twins = [m for m in find_mentions(lhs.group(1)) if m.kind == "digits"]
                if [m.value for m in twins] == [lit.value for lit in src.literals]:
                    found = [(m.money, word_after(solution, start + m.end)) for m in twins]
        elif src.of is None and src.over is None and not src.unknown:
            # a prose calculation is its own twin
            found = [(solution[max(0, a - 1):a] == "$", word_after(solution, b))
                     for a, b in src.spans]
        out.append(found)
        seg_start = src.end
    return out


def narrowed(options: list, context: Context | None, variables, mentions, question: str) -> list:
    """``options`` without the equal question numbers the twin's words rule out."""
    if context is None:
        return options
    names = [c.tree[1] for c in options if c.cost == 0 and c.tree[0] == "sym"
             and c.tree[1][0] == "n"]
    if len(names) < 2:
        return options
    money, noun = context
    by_name = {v.name: v for v in variables}

    def agrees(name: str) -> bool | None:
        var = by_name[name]
        said = [mentions[i] for i in var.mentions]
        if money:
            return any(m.money for m in said)
        if noun is not None:
            return any(word_after(question, m.end) == noun for m in said)
        return None

    verdicts = {name: agrees(name) for name in names}
    keep = {name for name, ok in verdicts.items() if ok}
    if not keep or len(keep) == len(names):
        return options
    return [c for c in options if not (c.tree[0] == "sym" and c.tree[1] in names
                                       and c.tree[1] not in keep)] or options

