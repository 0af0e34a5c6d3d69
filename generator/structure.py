"""What the shape of a worked solution says about its numbers.

Some solutions hold a number in their shape rather than in a literal: an average that adds
up five scores one by one and divides by the question's 5 would divide the same five scores
by 7 once the 5 became 7. Such a count keeps its value. And a ratio of the question ('2 times
more') is never a number of things: a solution that adds it to points has read some other 2.
Two results the prose compares ('since $125 > $96, he chooses jewelry') keep their order;
a number of a list the solution picks by its order ('the lowest score, which is 71') cannot.
A literal pair such as '2/3' may write a fraction of the question rather than two numbers.
A number of the question that is a part of the one before ('8 puppies, 3 of which have
spots') stays below it; if the solution never uses the part ('3 groups such that 2 of them
are equal and the last one'), the whole keeps its value. A group a rate is given for ('every
6 cows give 108 liters') stays within each count of the same things (the herd, worked out or
asked for), and what is found or lost ('20 eggs are hidden ... Tom finds 5 eggs') stays
within what there was to find or lose.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, subtrees

from . import sense

# a list of numbers: '89, 71, 92, 100 and 86'
_LIST = re.compile(r"\$?\d[\d,.]*(?:, \$?\d[\d,.]*)+,? and \$?\d[\d,.]*")
# 'the lowest score, which is 71': a number named by its order
_PICKED = re.compile(r"\b(?:lowest|highest|smallest|largest|biggest|greatest|least|cheapest|"
                     r"minimum|maximum|worst|best)\b[^.\n\d]{0,30}?\$?(\d[\d,]*(?:\.\d+)?)",
                     re.IGNORECASE)
# 'has 8 puppies, 3 of which have spots': a part of the number before it
_PART = re.compile(r"\s+of\s+(?:them|which|those|these|whom)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(?:the|all|both)\s+$", re.IGNORECASE)
# 'six of the packets ... the other four': parts of a count said before
_PARTS_SAID = re.compile(r"\b(?:other|rest|remaining|next|last|of (?:them|the|her|his|their|"
                         r"these|those))\b", re.IGNORECASE)
# 'every 6 cows', 'for every 4 students', 'each group of 5 children', 'in groups of 3'
_GROUP_BEFORE = re.compile(r"\b(?:every|each\s+(?:group|set|batch|team|pack|bunch)\s+of|"
                           r"(?:in|into)\s+(?:groups|sets|batches|teams|packs)\s+of)\s+$",
                           re.IGNORECASE)
# '12 of every 60 pupils', '3 out of 4 people': a part of the number after it
_OF_EVERY = re.compile(r"[ \t]+(?:out[ \t]+)?of[ \t]+(?:every[ \t]+|each[ \t]+)?", re.IGNORECASE)
# 'Tom finds 5 eggs', 'she lost 3 of her marbles': a part of what there was to find or lose
_FOUND_BEFORE = re.compile(r"\b(?:finds?|found|loses?|lost|misplaced|misse[sd]|drops?|dropped|"
                           r"breaks?|broke)\s+(?:only\s+|just\s+)?$", re.IGNORECASE)
_MORE_AFTER = re.compile(r"\s+(?:more|extra|additional|new|other)\b", re.IGNORECASE)
_HOW_MANY = re.compile(r"\bhow\s+many\s+(?:more\s+|fewer\s+|total\s+)?([A-Za-z]+)",
                       re.IGNORECASE)
# between two numbers of the prose: '$125 > $96', '1600 is more than 1200'
_COMPARED = re.compile(r"[ \t]*(?:[<>]=?|[\u2264\u2265]|(?:is|are|was|were)[ \t]+(?:greater|more|"
                       r"larger|bigger|higher|less|smaller|lower|fewer)[ \t]+than)[ \t]*\$?\Z")


def check_ratios(chosen, steps: list[tuple], describe: list[str], ratios: set[str]) -> None:
    """Refuse a ratio of the question ('2 times more', written once: a name in ``ratios``)
    added to or taken from anything but 1 in a calculation (``steps`` with ``("lit", k)``
    leaves read as ``chosen[k]``): '81 points + 2 points' is some other 2 that equals it."""
    for tree in steps:
        for part in subtrees(tree):
            if part[0] not in ("add", "sub"):
                continue
            for this, other in ((part[1], part[2]), (part[2], part[1])):
                if this[0] == "lit" and chosen[this[1]].tree[0] == "sym" \
                        and chosen[this[1]].tree[1] in ratios \
                        and not (other[0] == "lit" and chosen[other[1]].tree == const(1)):
                    raise UnsupportedProblem("unexplained-number", f"{describe[this[1]]} would "
                                             "be a ratio of the question added to a quantity")


def terms(tree) -> int:
    """How many terms a sum adds ('10 + 8 + 12': 3); 1 for anything else."""
    return terms(tree[1]) + terms(tree[2]) if tree[0] == "add" else 1


def counted_terms(steps, variables):
    """A variable that divides a sum of as many terms as its value ('65 + 94 + 81 + 86 + 74'
    over the question's 5 tests): the count of what the sum lists, which cannot change
    without the list. None if there is none. ``steps`` are trees over variables and earlier
    results (by name): the sum is written where it is divided, or is the result divided."""
    trees = {step.name: step.tree for step in steps}
    values = {v.name: v.value for v in variables if v.derived is None}
    for step in steps:
        for part in subtrees(step.tree):
            if part[0] == "div" and part[2][0] == "sym" and part[2][1] in values:
                total = part[1]
                count = terms(trees.get(total[1], total) if total[0] == "sym" else total)
                if count > 1 and values[part[2][1]] == count:
                    return part[2][1]
    return None


def terms_counted(tree: tuple, k: int, values: list, earlier) -> bool:
    """Whether literal ``k`` of a calculation divides a sum of as many terms as its value:
    written there ('(10 + 8 + 12) / 3') or as an earlier result ('30 / 3' after '10 + 8 + 12
    = 30'; ``values`` are the literals' values, ``earlier`` holds (value, tree) of the
    calculations before). Such a count of what the sum lists is a constant: it cannot change
    without the list."""
    value = values[k]
    if value.denominator != 1 or value < 2:
        return False
    for part in subtrees(tree):
        if part[0] == "div" and part[2] == ("lit", k):
            if terms(part[1]) == value:
                return True
            if part[1][0] == "lit":
                return any(v == values[part[1][1]] and terms(t) == value for v, t in earlier)
    return False


def share_bounds(steps, variables, mentions, question: str) -> tuple:
    """(whole, part, what it means, False) for each quotient of two numbers of the question that
    count the same thing and give a share below one ('42 kernels pop of the 50 in the bag'):
    the part stays at most the whole, as 90 popped of 72 would not."""
    from .prose import nouns

    by_name = {v.name: v for v in variables if v.derived is None}

    def counted(v) -> set:
        said = [nouns(question, mentions[i].end) for i in v.mentions]
        return set.intersection(*said) if said and all(said) else set()

    out, seen = [], set()
    for step in steps:
        for part in subtrees(step.tree):
            if part[0] != "div" or part[1][0] != "sym" or part[2][0] != "sym":
                continue
            top, bottom = by_name.get(part[1][1]), by_name.get(part[2][1])
            if top is None or bottom is None or not 0 < top.value < bottom.value \
                    or (top.name, bottom.name) in seen:
                continue
            common = counted(top) & counted(bottom)
            if common:
                seen.add((top.name, bottom.name))
                what = f"a share of the {min(common)}s must stay at most the whole"
                out.append((part[2], part[1], what, False))
    return tuple(out)


def compared(solution: str, slots, steps) -> tuple[tuple[str, str], ...]:
    """Results the prose compares ('1600 > 1200'), as (greater, smaller) step names: the
    solution's choice follows from the order, which must hold in a variant too."""
    value = {step.name: step.value for step in steps}
    prose = sorted((s for s in slots if s.role == "prose" and s.tree[0] == "sym"
                    and s.tree[1] in value), key=lambda s: s.start)
    out = []
    for first, second in zip(prose, prose[1:]):
        if _COMPARED.match(solution[first.end:second.start]):
            a, b = first.tree[1], second.tree[1]
            if value[a] != value[b]:
                out.append((a, b) if value[a] > value[b] else (b, a))
    return tuple(out)


_WRITTEN = re.compile(r"(?<![\d.,])\d[\d,]*(?:\.\d+)?(?![\d,]*\d)")


def compared_bounds(solution: str, slots, env) -> tuple[tuple[tuple, tuple, str, bool], ...]:
    """The other comparisons of the prose ('$98 is greater than $75', '13.5 < 14'), where one
    side is a number of the question or one the text writes as it stays, as story bounds
    (greater, smaller, what, strict) over the trees of the two sides: the choice the solution
    makes from the order must hold in a variant too. Two results are ``compared``'s."""
    from mathgen.expressions import evaluate

    body = _ANNOTATIONS.sub(lambda m: " " * len(m.group()), solution)
    numbers = {(s.start, s.end): s.tree for s in slots if s.role != "final"}
    for m in _WRITTEN.finditer(body):
        if not any(a <= m.start() < b for a, b in numbers):
            numbers[(m.start(), m.end())] = const(Fraction(m.group().replace(",", "")))
    ordered = sorted(numbers.items())
    out = []
    for ((_, end), first), ((start, _), second) in zip(ordered, ordered[1:]):
        if not _COMPARED.match(solution[end:start]) or first[0] == second[0] == "const" \
                or first[0] == second[0] == "sym" and first[1][0] == second[1][0] == "s":
            continue
        a, b = evaluate(first, env), evaluate(second, env)
        if a != b:
            greater, smaller = (first, second) if a > b else (second, first)
            out.append((greater, smaller, "the order the solution compares", True))
    return tuple(out)


_ANNOTATIONS = re.compile(r"<<[^<>]*>>")


def check_picked(question: str, solution: str) -> None:
    """Refuse a solution that picks a number of a list in the question by its order ('scores
    of 89, 71, 92 and 86' ... 'the lowest score, which is 71'): new values may change which
    one is lowest, and the steps would not follow."""
    listed = {number.replace(",", "") for m in _LIST.finditer(question)
              for number in re.findall(r"\d[\d,]*(?:\.\d+)?", m.group())}
    for m in _PICKED.finditer(solution):
        if m.group(1).replace(",", "") in listed:
            raise UnsupportedProblem("order-dependent", f"the solution picks {m.group(1)} as "
                                     "the one of a list with an order that new values may change")


def written_fractions(solution: str, src, fractions) -> dict[int, tuple[str, bool]]:
    """Literals of ``src`` that write a fraction of the question, or what remains of it ('2/3'
    of '12 x 2/3' when the question says 2/3, two-thirds, or that a third is gone), with that
    fraction's key and whether it is written in lowest terms."""
    out = {}
    for k in range(len(src.literals) - 1):
        (_, end), (start, _) = src.spans[k], src.spans[k + 1]
        numerator, denominator = src.literals[k].value, src.literals[k + 1].value
        if solution[end:start].strip() != "/" or not denominator:
            continue
        ratio = Fraction(numerator, denominator)
        for fraction in (ratio, 1 - ratio):
            if fraction in fractions:
                # written in lowest terms ('2/3'), or scaled ('10/100' for 1/10) where no
                # number of the question could be read instead ('30/60' is 30 minutes)
                lowest = (ratio.numerator, ratio.denominator) == (numerator, denominator)
                out[k] = out[k + 1] = (f"f{fraction}", lowest)
                break
    return out


def parts_of(question: str, mentions) -> list[tuple[int, int]]:
    """(whole, part) mention indices: '8 puppies, 3 of which have spots', '3 groups such that
    2 of them are equal'; the whole is the count just before, when it was the larger ('the
    two of them' is no part, nor is a part of $60)."""
    out = []
    for j, m in enumerate(mentions):
        if not m.quantity or not _PART.match(question, m.end) \
                or _GROUP.search(question, max(0, m.start - 8), m.start):
            continue  # 'the two of them' is all of them
        before = [i for i in range(j) if mentions[i].quantity]
        whole = mentions[before[-1]] if before else None
        if whole and whole.value > m.value and not (whole.money or whole.percent) \
                and whole.value.denominator == m.value.denominator == 1:
            out.append((before[-1], j))
    return out


def kept_parts(question: str, mentions, variables, named: int, constants: set):
    """The variables (a part of a number the question keeps is bounded by it; a total of two
    parts follows them, see ``totals``) and the (whole, part) variable names whose order must
    hold. Raises Retie to keep a whole whose part the solution never uses ('3 groups such that
    2 of them are equal and the last one'). ``named``: how many variable names are taken;
    ``constants``: the values the solution uses as constants."""
    from .binding import Retie

    owner = {i: v for v in variables for i in v.mentions}
    parts, below = [], {}
    for whole, part in parts_of(question, mentions):
        if whole in owner and part not in owner:
            raise Retie(owner[whole].value, underused=True)
        if whole not in owner and part in owner:
            cap = mentions[whole].value - 1
            below[owner[part].name] = min(cap, below.get(owner[part].name, cap))
        elif part in owner and owner[whole] is not owner[part]:
            parts.append((owner[whole].name, owner[part].name))
    variables = tuple(replace(v, upper=min(below[v.name], v.upper or below[v.name]))
                      if v.name in below else v for v in variables)
    return variables + totals(question, mentions, variables, named, constants), tuple(parts)


def totals(question: str, mentions, variables, named: int, constants: set) -> tuple:
    """Counts of the question that the solution never uses but that two or three later ones
    of the same thing, said to be its parts, add up to ('ten packets ... six of the packets
    ... the other four'; '8 customers ... his first 3 ... his next 2 ... his last 3'): each
    becomes a number worked out from its parts, so the question still adds up."""
    from .prose import nouns
    from .quantities import Variable

    owner = {i: v for v in variables for i in v.mentions}
    out = []
    for w, m in enumerate(mentions):
        if not m.quantity or w in owner or m.value in constants or m.value.denominator != 1 \
                or m.value < 2:
            continue  # used, or it may be the number a constant of the solution stands for
        noun = nouns(question, m.end)
        later = [i for i in sorted(owner) if i > w  # parts name the same thing, or nothing
                 and (not nouns(question, mentions[i].end)
                      or nouns(question, mentions[i].end) & noun)]
        found = {tuple(sorted(owner[i].name for i in parts)): parts
                 for size in (2, 3) for parts in itertools.combinations(later, size)
                 if sum(mentions[i].value for i in parts) == m.value}
        if len(found) == 1 and _PARTS_SAID.search(question, m.end,
                                                  mentions[next(iter(found.values()))[-1]].end):
            trees = [owner[i].derived or ("sym", owner[i].name) for i in found.popitem()[1]]
            tree = trees[0]
            for part in trees[1:]:  # over free variables, as a worked-out number must be
                tree = ("add", tree, part)
            out.append(Variable(f"n{named + len(out)}", m.value, (w,), m.percent, m.places,
                                None, derived=tree))
    return tuple(out)


def _next_noun(text: str, end: int) -> str | None:
    """The word right after a number, singular as ``prose.nouns`` makes it ('6 cows
    produce' -> 'cow')."""
    after = re.match(r"[ \t-]*([A-Za-z]+?)s?\b", text[end:end + 30])
    return after.group(1).lower() if after else None


def story_bounds(question: str, solution: str, mentions, variables, result_spans,
                 final: tuple) -> tuple[tuple[tuple, tuple, str, bool], ...]:
    """(whole, part, what it means, False) trees over variable and step names, the part to
    stay at most the whole (False: it may equal it): a group a rate is given for ('every 6 cows produce 108 liters') and each
    count of those things (a number of the question, a result the solution writes before
    the noun, '= 24 cows', or the answer to 'how many cows'); what is found or lost ('Tom finds
    5 eggs and Sara finds 8 eggs') and what there was to find or lose ('20 eggs are hidden').
    ``result_spans``: where each step's result is written in ``solution`` (or None)."""
    from mathgen.expressions import const, sym

    from .prose import nouns

    owner = {i: v for v in variables for i in v.mentions}
    whole = [m.quantity and m.value.denominator == 1 and not (m.money or m.percent)
             for m in mentions]
    noun = [_next_noun(question, m.end) for m in mentions]
    tree = [sym(owner[i].name) if i in owner else const(m.value) for i, m in enumerate(mentions)]
    groups = [j for j, m in enumerate(mentions) if j in owner and whole[j] and noun[j]
              and _GROUP_BEFORE.search(question, max(0, m.start - 30), m.start)]
    out = []
    for j in groups:
        counts = [(tree[i], f"the count of {noun[j]}s in the question")
                  for i in range(len(mentions)) if i not in groups and whole[i]
                  and noun[j] in nouns(question, mentions[i].end)]
        counts += [(sym(f"s{k}"), f"step {k + 1}'s {noun[j]}s")
                   for k, span in enumerate(result_spans)
                   if span and noun[j] in nouns(solution, span[1])]
        asked = re.split(r"(?<=[.!?])\s+", question.strip())[-1]
        ask = _HOW_MANY.search(asked)
        if ask and noun[j] in nouns(asked, ask.start(1)):
            counts.append((final, f"the {noun[j]}s asked for"))
        seen = set()
        for count, what in counts:  # the herd worked out is often the one asked for
            if count not in seen:
                seen.add(count)
                out.append((count, tree[j], f"the group of {mentions[j].text} {noun[j]}s a "
                            f"rate is given for must stay within {what}", False))
    found: dict[int, list[int]] = {}
    for j, m in enumerate(mentions):
        if j not in owner or not whole[j] or _MORE_AFTER.match(question, m.end) \
                or not _FOUND_BEFORE.search(question, max(0, m.start - 20), m.start):
            continue
        there = [i for i in range(j) if whole[i] and noun[i] and noun[i] == noun[j]
                 and not _FOUND_BEFORE.search(question, max(0, mentions[i].start - 20),
                                              mentions[i].start)]
        if there:  # the closest count of the same things before it
            found.setdefault(there[-1], []).append(j)
    for w, parts in found.items():
        total = tree[parts[0]]
        for part in parts[1:]:
            total = ("add", total, tree[part])
        out.append((tree[w], total, f"what is found or lost must stay within the "
                    f"{mentions[w].text} {noun[w]}s there were", False))
    for j in range(1, len(mentions)):  # '12 of every 60 pupils', '24 out of 60 people'
        if whole[j - 1] and whole[j] and (j in owner or j - 1 in owner) \
                and _OF_EVERY.fullmatch(question, mentions[j - 1].end, mentions[j].start):
            out.append((tree[j], tree[j - 1], f"{mentions[j - 1].text} of "
                        f"{mentions[j].text} must stay a part of them", False))
    # scores, people, feats, 'only', sizes: bounds of sense (``sense``)
    return tuple(out) + sense.covers(question, solution, mentions, variables, result_spans,
                                     final)
