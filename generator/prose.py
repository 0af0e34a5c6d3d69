"""Numbers in the prose of a worked solution, each bound to what computes it.

"Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs" repeats the calculation (bound literal by
literal), shows its result after it, and may mention question numbers and earlier results.
A digit that cannot be traced rejects the problem; a word ('the three of them') that cannot
be traced on its line stays as written.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.numbers import find_mentions

from . import expressions
from .binding import Candidate, Retie, candidates, const, pick_by_tiers, sym

def prose_slots(body: str, sources, chosen, lit_spans, variables, steps, fixed, mentions,
                 question: str):
    """Bind every number in the solution's prose (outside calculations)."""
    rng = random.Random(0)
    env = {v.name: Fraction(rng.randint(101, 99991)) for v in variables}
    env.update(expressions.RUNTIME)
    for name, tree in [(v.name, v.derived) for v in variables if v.derived is not None] \
            + [(st.name, st.tree) for st in steps]:
        try:
            env[name] = eval(expressions.to_python(tree), env)  # noqa: S307 - our own tree
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            env[name] = None
    lit_trees = {span: chosen[k].tree for k, span in enumerate(lit_spans)}
    units = {v.name: _word_after(question, mentions[v.mentions[0]].end) for v in variables}
    units.update({f"s{i}": _word_after(body, src.result_span[1]) for i, src in enumerate(sources)})
    line_of = [body.count("\n", 0, src.start) for src in sources]
    slots, seg_start = [], 0
    ends = [(src.start, src.end, i) for i, src in enumerate(sources)] + [(len(body), len(body), None)]
    for src_start, src_end, idx in ends:
        prose = [m for m in find_mentions(body[seg_start:src_start], fractions=False)
                 if m.quantity]
        echo = {}
        if idx is not None and body.startswith("<<", src_start):
            # "16 - 3 - 4 = <<16-3-4=9>>": the prose repeats the calculation before it
            values = [x.value for x in sources[idx].literals]
            j = len(values)
            for m in reversed(prose):  # match from the annotation backwards
                if j > 0 and m.value == values[j - 1]:
                    j -= 1
                    echo[m.start] = lit_trees[sources[idx].spans[j]]
            if j != 0:
                echo = {}
        for m in prose:
            start, end = seg_start + m.start, seg_start + m.end
            tree = echo.get(m.start)
            if tree is None:
                tree = _prose_tree(body, start, m, sources, line_of, lit_trees, variables, steps,
                                   fixed, env, mentions, units)
            if tree is None and m.kind == "word":
                continue  # 'the three of them', 'first two months': words stay as written
            if tree is None:
                raise UnsupportedProblem("unexplained-prose-number",
                                         f"'{m.text}' in the solution text cannot be traced")
            slots.append((start, end, tree, m))
        seg_start = src_end
    return slots


def _word_after(text: str, end: int) -> str | None:
    """The noun after a number ('4 containers' -> 'container'), for telling equal numbers apart."""
    m = re.match(r"(?:>>)?\$?[\d,.]*\s*%?\s*(?:[a-z]+-)?([A-Za-z]+)", text[end:end + 40])
    return m.group(1).lower().rstrip("s") if m else None


def _prose_tree(body, pos, mention, sources, line_of, lit_trees, variables, steps, fixed, env,
                mentions, units):
    value, line = mention.value, body.count("\n", 0, pos)
    here = [i for i, ln in enumerate(line_of) if ln == line]
    for i in here:  # "<<9*2=18>>18" and "= $18": the result written right after its step
        if sources[i].end <= pos and not body[sources[i].end:pos].strip(" $") \
                and steps[i].value == value:
            return sym(f"s{i}")
    tiers = [[Candidate(sym(f"s{i}"), 0, (), "") for i in here if steps[i].value == value],
             [Candidate(lit_trees[span], 0, (), "") for i in here
              for lit, span in zip(sources[i].literals, sources[i].spans) if lit.value == value]]
    if mention.kind != "word":  # words ('the two movies') are bound on their line only
        earlier = [i for i, src in enumerate(sources) if src.end <= pos and i not in here]
        tier2 = [Candidate(sym(f"s{i}"), 0, (), "") for i in reversed(earlier)
                 if steps[i].value == value]
        tier2 += [c for c in candidates(value, 0, variables, [], {}) if c.cost == 0]
        tiers += [tier2, [Candidate(const(value), 0, (), "")] if value in fixed else []]
    chosen = pick_by_tiers(tiers, env)
    if chosen is None:  # '5 dinosaur children' is the question's 5 children, not 5 pounds
        first = next((tier for tier in tiers if tier), [])
        word = _word_after(body, pos + len(mention.text))
        agree = {c.tree for c in first if c.tree[0] == "sym" and word
                 and units.get(c.tree[1]) == word}
        if len(agree) == 1:
            return agree.pop()
    if chosen is None and ("." in mention.text or "," in mention.text or mention.money):
        # '$4.00' written as in the question is that number, not a result that equals it
        same = {v.name for v in variables for i in v.mentions
                if mentions[i].text == mention.text and mentions[i].money == mention.money}
        if len(same) == 1:
            return sym(same.pop())
    first = next((tier for tier in tiers if tier), [])
    if chosen is None and first and all(c.tree[0] == "sym" and c.tree[1][0] == "n" for c in first):
        raise Retie(value)  # '2' could be either of the question's two 2s
    return None if chosen is None else chosen.tree

