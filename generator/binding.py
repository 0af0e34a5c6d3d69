"""Explaining each number of a worked solution, and choosing one explanation for all.

A literal such as ``60`` in ``<<60*60=3600>>`` may be a number of the question (a variable),
an earlier step's result, or a constant licensed by the text. Each explanation is a
Candidate with a cost; ``choose`` picks the cheapest assignment for all literals at once
(every question number used, every step result used, few constants), and refuses when two
cheapest assignments would compute different answers: a label is never guessed.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.expressions import (
    RUNTIME,
    compiled,
    const,
    random_point,
    substitute,
    subtrees,
    sym,
    to_python,
)

from .units import answer_conversions

# the assignments a reading may weigh (their product over the literals), and the steps of the
# search through them: more would take seconds for one problem
_MAX_ASSIGNMENTS = 2_000_000
_MAX_VISITS = 400_000
# Using a number more often than it is written costs as much as a unit constant: when either
# could explain a literal, the tie is found and resolved safely (see resolve.choose).
REUSE_COST = 1.0
# small units in a larger one, or a whole in percent: 100 cents, 12 inches, 60 minutes
_PER_UNIT = {12, 16, 60, 100, 1000}
# factors between units (12 months a year, 100 for percent): they scale; added to a count or
# taken from one, such a number is more likely a quantity of the same value
_FACTORS = {12, 16, 24, 52, 60, 100, 365, 1000, 2000, 3600, 5280, 10**6, 10**9}
_ADDED_FACTOR_COST = 0.5
_CLOSE = 0.5  # costs closer than this differ by preferences only, not by structure


@dataclass(frozen=True)
class Candidate:
    tree: tuple
    cost: float
    uses: tuple[str, ...]
    label: str


class Ambiguity(UnsupportedProblem):
    """Two cheapest explanations of a literal compute different answers."""

    def __init__(self, what: str, first: Candidate, second: Candidate):
        self.first, self.second = first, second
        super().__init__("ambiguous-binding", f"{what} could be {first.label} or {second.label}")


class SameResults(Exception):
    """Two equal results that the prose cannot tell apart: build again with them kept equal."""

    def __init__(self, earlier: str, later: str):
        self.earlier, self.later = earlier, later


class Retie(Exception):
    """Two equal numbers of the question cannot be told apart: build again with them tied."""

    def __init__(self, value: Fraction, underused: bool = False):
        self.value, self.underused = value, underused


def choose(options: list[list[Candidate]], steps: list[tuple], capacity: dict[str, int],
           must_use: dict[str, float], describe: list[str],
           pinned: dict[int, Fraction | str] | None = None) -> list[Candidate]:
    """Cheapest assignment of one candidate per literal.

    Args:
        options: candidates for each literal, in solution order.
        steps: for each step, its tree with ``("lit", k)`` leaves (k indexes ``options``).
        capacity: how often each variable or step may be used before reuse costs extra.
        must_use: what non-use costs, for variables, steps and fixed numbers.
        describe: a phrase per literal for error messages.
        pinned: steps that keep their original value in every variant, or the value of the
            earlier step named.
    """
    for k, opts in enumerate(options):
        if not opts:
            raise UnsupportedProblem("unexplained-number", f"{describe[k]} is neither a number "
                                     "of the question, an earlier result nor a known constant")
    open_slots = [k for k, opts in enumerate(options) if len(opts) > 1]
    total = 1
    for k in open_slots:
        total *= len(options[k])
        if total > _MAX_ASSIGNMENTS:
            raise UnsupportedProblem("ambiguous-binding",
                                     f"too many ways to explain the numbers ({describe[k]})")
    fixed = [opts[0] for opts in options]
    # the literals with one explanation cost the same in every assignment: counted once
    base_cost, base_uses = 0.0, {}
    for k, cand in enumerate(fixed):
        if len(options[k]) == 1:
            base_cost += cand.cost
            for name in cand.uses:
                base_uses[name] = base_uses.get(name, 0) + 1
    best = _cheapest([options[k] for k in open_slots], base_cost, base_uses, capacity, must_use)
    best = [_fill(fixed, open_slots, combo) for combo in best]
    if len(best) > 1:
        reference = fingerprint(best[0], steps, pinned or {})
        for other in best[1:]:
            if fingerprint(other, steps, pinned or {}) != reference:
                k = next(k for k in open_slots if other[k] != best[0][k])
                raise Ambiguity(describe[k], best[0][k], other[k])
    return best[0]


def _cheapest(slots: list[list[Candidate]], base_cost: float, base_uses: dict[str, int],
              capacity: dict[str, int], must_use: dict[str, float]) -> list[tuple]:
    """Every cheapest choice of one candidate per slot, in the order of itertools.product.

    A depth-first search that keeps the use counts, the reuse cost and the cost of what is
    left unused as it goes, and leaves a branch once what it already costs (reuse only grows)
    exceeds the cheapest found.
    """
    names = sorted({u for opts in slots for c in opts for u in c.uses} | set(base_uses)
                   | set(must_use))
    index = {name: i for i, name in enumerate(names)}
    counts = [base_uses.get(name, 0) for name in names]
    cap = [capacity.get(name, 1) for name in names]
    must = [must_use.get(name, 0.0) for name in names]
    plans = [[(c, c.cost, tuple(index[u] for u in c.uses)) for c in opts] for opts in slots]
    chosen: list = [None] * len(slots)
    best_cost, best = None, []

    visits = 0

    def walk(depth, cost, reuse, unused):
        nonlocal best_cost, best, visits
        visits += 1
        if visits > _MAX_VISITS:
            raise UnsupportedProblem("ambiguous-binding", "too many ways to explain the numbers")
        if best_cost is not None and cost + reuse > best_cost + 1e-9:
            return  # reuse only grows: nothing below is the cheapest
        if depth == len(plans):
            total = cost + reuse + unused
            if best_cost is None or total < best_cost - 1e-9:
                best_cost, best = total, [tuple(chosen)]
            elif abs(total - best_cost) <= 1e-9:
                best.append(tuple(chosen))
            return
        for cand, own, idx in plans[depth]:
            more_reuse, more_unused = reuse, unused
            for i in idx:
                counts[i] += 1
                if counts[i] > cap[i]:
                    more_reuse += REUSE_COST
                if counts[i] == 1:
                    more_unused -= must[i]
            chosen[depth] = cand
            walk(depth + 1, cost + own, more_reuse, more_unused)
            for i in idx:
                counts[i] -= 1

    walk(0, base_cost, sum(REUSE_COST * max(0, c - k) for c, k in zip(counts, cap)),
         sum(m for m, c in zip(must, counts) if c == 0))
    return best


def _penalties(combo, base_uses: dict[str, int], capacity: dict[str, int],
               must_use: dict[str, float]) -> float:
    """What reusing a number beyond its capacity, and leaving one unused, costs."""
    uses = dict(base_uses)
    for cand in combo:
        for name in cand.uses:
            uses[name] = uses.get(name, 0) + 1
    cost = 0.0
    for name, count in uses.items():
        cost += REUSE_COST * max(0, count - capacity.get(name, 1))
    cost += sum(penalty for name, penalty in must_use.items() if name not in uses)
    return cost


def _fill(fixed: list[Candidate], open_slots: list[int], combo) -> list[Candidate]:
    chosen = list(fixed)
    for k, cand in zip(open_slots, combo):
        chosen[k] = cand
    return chosen


def check_counts(chosen: list[Candidate], steps: list[tuple], describe: list[str]) -> None:
    """Refuse a known constant added to itself: '4 + 4' legs for 2 dogs counts the dogs in
    the head, so the count is a number the steps do not show."""
    def walk(tree):
        if tree[0] == "add" and tree[1][0] == tree[2][0] == "lit":
            first, second = chosen[tree[1][1]], chosen[tree[2][1]]
            if first.tree == second.tree and first.label.startswith("the constant") \
                    and first.tree[1] > 1:  # 1 + 1 teams: each is named
                raise UnsupportedProblem("unexplained-number", f"{describe[tree[1][1]]} is added "
                                         "to itself: it counts something the steps do not show")
        for child in tree[2] if tree[0] == "call" else tree[1:]:
            if isinstance(child, tuple):
                walk(child)

    for tree in steps:
        walk(tree)


@functools.lru_cache(maxsize=8192)
def _literals(tree: tuple) -> tuple[int, ...]:
    """The literal indices of a tree, in order."""
    return tuple(sorted({part[1] for part in subtrees(tree) if part[0] == "lit"}))


@functools.lru_cache(maxsize=16384)
def _step_code(tree: tuple, leaves: tuple):
    """A step compiled with its literals read as ``leaves`` (in the order of _literals)."""
    by_index = dict(zip(_literals(tree), leaves))
    full = [by_index.get(k) for k in range(max(by_index, default=-1) + 1)]
    return compiled(to_python(substitute(tree, full)))


def fingerprint(chosen: list[Candidate], steps: list[tuple], pinned: dict) -> tuple:
    """Step results at two fixed random points (callers add the final answer as a step)."""
    names = {n for c in chosen for n in c.uses if n.startswith("n")}
    codes = [_step_code(tree, tuple(chosen[k].tree for k in _literals(tree))) for tree in steps]
    out = []
    for seed in (1, 2):
        env = random_point(names, seed)
        values = []
        for i, code in enumerate(codes):
            try:
                value = eval(code, env)  # noqa: S307 - our own trees
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                value = None
            # a pinned result keeps its value downstream, but how it is computed must still
            # be read one way: '40 - 4' and '9 * 4' with 4 packs and a $4 discount swapped
            # would both keep 36
            keep = pinned.get(i, value)
            env[f"s{i}"] = env[keep] if isinstance(keep, str) else keep
            values.append(value)
        out.append(tuple(values))
    return tuple(out)


def exchangeable(chosen: list[Candidate], options: list[list[Candidate]], steps: list[tuple],
                 pinned: dict, capacity: dict[str, int], must_use: dict[str, float],
                 scaling: frozenset = frozenset(), divisors: frozenset = frozenset()
                 ) -> str | None:
    """A question number or a result that the assignment cannot tell from an equal fixed
    number ('2 planes' and the 2 of 'half'), or None.

    Reading a literal (or two, traded) the other way round that costs little more, only the
    small preferences of the candidates and not a number left unused or used twice, is
    about as likely; when it gives other results, the choice would be a guess. A word such
    as 'double' used more often than written is not a reading ('2 * 2' for double Monday's
    2 is not double twice). A result equal to the number of such a word read the other way
    round (the 2 of 'half' multiplying, of 'twice' dividing) is told from it by the costs of
    other uses only, so it is always a guess: '4 goals * 2' is not 'the second half'.
    """
    def total(assignment):
        return sum(c.cost for c in assignment) + _penalties(assignment, {}, capacity, must_use)

    def named(cand):
        if cand.tree[0] == "sym" and cand.tree[1][0] in "ns" \
                and not (cand.tree[1][0] == "s"
                         and isinstance(pinned.get(int(cand.tree[1][1:])), Fraction)):
            return cand.tree[1]  # a pinned result keeps its value: either reading is right
        return None

    def fixed(cand):
        return cand.tree[0] == "const" and any(u[0] == "f" for u in cand.uses)

    best, reference = total(chosen), fingerprint(chosen, steps, pinned)

    def unclear(trial, result_or_word=False):
        uses = Counter(u for c in trial for u in c.uses if u in scaling)
        if any(count > capacity.get(key, 1) for key, count in uses.items()):
            return False
        return (result_or_word or total(trial) - best <= _CLOSE) \
            and fingerprint(trial, steps, pinned) != reference

    for k, cand in enumerate(chosen):
        for alt in options[k]:
            name = named(cand) if fixed(alt) else named(alt) if fixed(cand) else None
            if name is None:
                continue
            trial = list(chosen)
            trial[k] = alt
            word = cand if fixed(cand) else alt
            if unclear(trial, name[0] == "s" and _inverse(word, k in divisors, scaling)):
                return name
            for j, other in enumerate(chosen):  # or the two traded between two literals
                if j == k or (other.tree, other.uses) != (alt.tree, alt.uses):
                    continue
                mine = next((c for c in options[j] if (c.tree, c.uses) == (cand.tree, cand.uses)),
                            None)
                if mine is not None:
                    traded = list(trial)
                    traded[j] = mine
                    if unclear(traded):
                        return name
    return None


def _inverse(word: Candidate, divisor: bool, scaling) -> bool:
    """Whether a word such as 'half' or 'twice' is read the other way round: the 2 of 'half'
    multiplying, the 2 of 'twice' dividing."""
    keys = [u for u in word.uses if u in scaling]
    if not keys:
        return False
    scale = Fraction(keys[0][1:])
    return divisor if scale > 1 else not divisor and word.tree[1] != scale


def pick_by_tiers(tiers: list[list[Candidate]], env: dict) -> Candidate | None:
    """First tier with candidates; None when its candidates disagree at a random point."""
    for tier in tiers:
        if not tier:
            continue
        values = set()
        for cand in tier:
            try:
                values.add(eval(to_python(cand.tree), dict(RUNTIME), env))  # noqa: S307
            except (ZeroDivisionError, ValueError, OverflowError):
                values.add(None)
        return tier[0] if len(values) == 1 else None
    return None


def candidates(value: Fraction, step: int, variables, step_values, constants,
                divisor: bool = False, addend: bool = False) -> list[Candidate]:
    out = []
    hundred = const(100)
    for v in variables:
        if v.value == 0:
            continue
        s = sym(v.name)
        label = f"the question's {v.value}"
        if v.value == value:
            out.append(Candidate(s, 0.0, (v.name,), label))
        if v.percent:
            derived = [(v.value / 100, ("div", s, hundred), 0.0),
                       (1 - v.value / 100, ("sub", const(1), ("div", s, hundred)), 1.0),
                       (1 + v.value / 100, ("add", const(1), ("div", s, hundred)), 1.0),
                       (100 - v.value, ("sub", hundred, s), 1.0),
                       (100 + v.value, ("add", hundred, s), 1.0),
                       (100 / v.value, ("div", hundred, s), 1.0)]  # 25% is a quarter: x/4
            out += [Candidate(t, c, (v.name,), f"{label}%") for x, t, c in derived if x == value]
        # 4 times as much: 5 parts of the whole; 4 of her friends: 5 with her
        times, company = getattr(v, "times", False), getattr(v, "company", False)
        if (times or company) and v.value + 1 == value:
            more = "parts and one" if times else "and one more"
            out.append(Candidate(("add", s, const(1)), 1.0, (v.name,), f"{label} {more}"))
        if getattr(v, "cents", False) and v.value / 100 == value:
            out.append(Candidate(("div", s, hundred), 0.0, (v.name,), f"{label} cents in dollars"))
    # a result in a larger unit, where it makes one of it or a part ('100 cents = $1',
    # '100 - 40 = 60%' then '.6'): more would explain too much
    units = [c for c, entries in constants.items() if c in _PER_UNIT
             and any(e[2] is None for e in entries)] if 0 < value <= 1 else []
    for j, sv in enumerate(step_values[:step]):
        if sv == value:
            out.append(Candidate(sym(f"s{j}"), 0.0, (f"s{j}",), f"the result of step {j + 1}"))
        for c in units:
            if sv == value * c:
                out.append(Candidate(("div", sym(f"s{j}"), const(c)), 1.0, (f"s{j}",),
                                     f"the result of step {j + 1} over {c}"))
    # 'half' explains a 2 best where something is divided by it ('half as many as x' can
    # still mean x = 2 * y, so elsewhere it costs a little more)
    usable = sorted((e[0] + (0.1 if e[3] and not divisor else 0), e[1], e[2] or "")
                    for e in constants.get(value, ()))
    seen_keys = set()
    if addend and value in _FACTORS and any(c.tree[0] == "sym" for c in out):
        usable = [(cost + (_ADDED_FACTOR_COST if not key and cost >= 1.0 else 0), label, key)
                  for cost, label, key in usable]
    for cost, label, key in usable:  # the cheapest way through each fixed number
        if key not in seen_keys:
            seen_keys.add(key)
            out.append(Candidate(const(value), cost, (key,) if key else (), label))
    if not out:  # a part found as a fraction, written again in percent: 1/5, then 20%
        out += [Candidate(("mul", sym(f"s{j}"), hundred), 1.0, (f"s{j}",),
                          f"the result of step {j + 1} in percent")
                for j, sv in enumerate(step_values[:step]) if 0 < sv < 1 and sv * 100 == value]
    if not out:
        for v in variables:  # a question number in other units: 2 hours -> 120 minutes
            for c, ((cost, label, _, _), *_) in constants.items():
                if c.denominator == 1 and c > 2 and cost >= 1.0:
                    if v.value * c == value:
                        out.append(Candidate(("mul", sym(v.name), const(c)), 2.0, (v.name,),
                                             f"the question's {v.value} times {label}"))
    return sorted(out, key=lambda c: c.cost)




def other_forms(question: str, body: str, last: str, value: Fraction, answer: Fraction,
                mentions) -> list[Candidate]:
    """The answer as the last result (named ``last``, of ``value``) in another form: in the
    units the question asks for (asked in cents, worked in dollars: times 100; the factor is
    none of the question's numbers), or rounded as the solution says ('round 6.75 up')."""
    out = [Candidate((op, sym(last), const(f)), 1.0, (last,), f"in other units ({f})")
           for op, f in answer_conversions(question)
           if (value * f if op == "mul" else value / f) == answer
           and all(m.value != f for m in mentions)][:1]
    for fn, way in (("ceil", "up"), ("floor", "down")):
        if value.denominator != 1 and getattr(math, fn)(value) == answer and (
                re.search(rf"\bround(?:ed|ing|s)?\b[^\n]{{0,40}}?\b{way}\b", body, re.IGNORECASE)
                or _WHOLE.search(body) and not _NEAREST.search(body + question)):
            out.append(Candidate(("call", fn, (sym(last),)), 1.0, (last,), f"rounded {way}"))
    return out


# 'cannot buy half a can, so 8 cans', 'only 3 whole cakes': a count of whole things, up or
# down as the answer shows; never where 'the nearest' could round either way
_WHOLE = re.compile(r"\b(?:whole|full|complete|partial|(?:half|part|fraction|portion) of an?|"
                    r"half an?)\b", re.IGNORECASE)
_NEAREST = re.compile(r"\bnearest\b|\bround(?:ed|ing|s)?\b(?![^\n]{0,40}?\b(?:up|down)\b)",
                      re.IGNORECASE)
