"""Numbers in the prose of a worked solution, each bound to what computes it.

"Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs" repeats the calculation (bound literal by
literal), shows its result after it, and may mention question numbers and earlier results.
A digit that cannot be traced rejects the problem; a word ('the three of them') that cannot
be traced on its line stays as written.
"""

from __future__ import annotations

import re
from fractions import Fraction

from mathgen import expressions
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, sym
from mathgen.numbers import find_mentions, parse_decimal

from .binding import Candidate, Retie, SameResults, candidates, pick_by_tiers
from .units import ordinal_count


def prose_slots(body: str, sources, chosen, lit_spans, variables, steps, fixed, mentions,
                 question: str, same=None, in_head=None):
    """Bind every number in the solution's prose (outside calculations). ``same`` maps a
    result to the earlier one it stays equal to. ``in_head(value, results, unit)`` reads a
    number that nothing written gives as one worked out in the head from the question's
    numbers and the ``results`` before it (head.explain): a constant tree, or None."""
    same = same or {}
    fixed = set(fixed) | {ordinal_count(question)} - {None}
    env = expressions.random_point([v.name for v in variables if v.derived is None], 0)
    for name, tree in [(v.name, v.derived) for v in variables if v.derived is not None] \
            + [(st.name, st.tree) for st in steps]:
        try:
            env[name] = eval(expressions.to_python(tree), env)  # noqa: S307 - our own tree
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            env[name] = None
        if name in same:
            env[name] = env[same[name]]
    lit_trees = {span: chosen[k].tree for k, span in enumerate(lit_spans)}
    # an answer that no step computes ('round 6.75 up to 7'; in cents) may be written too
    final = chosen[-1].tree if chosen[-1].tree[0] != "sym" else None
    if final is not None:
        final = (final, expressions.evaluate(final, {v.name: v.value for v in variables}
                                             | {st.name: st.value for st in steps}))
    units = {v.name: word_after(question, mentions[v.mentions[0]].end) for v in variables}
    units.update({f"s{i}": word_after(body, src.result_span[1]) for i, src in enumerate(sources)
                  if src.result_span})
    line_of = [body.count("\n", 0, src.start) for src in sources]
    given = {m.text for m in mentions if m.kind == "fraction"}
    # 'half' is 1/2 written as a word: the prose's '1/2 the amount' is it
    given_values = {m.value for m in mentions if m.kind == "fraction"
                    or m.kind == "multiplier" and m.value < 1}
    given_values |= {1 - value for value in given_values if 0 < value < 1}  # '1 - 1/3 = 2/3'
    slots, seg_start = [], 0
    ends = [(src.start, src.end, i) for i, src in enumerate(sources)] + [(len(body), len(body), None)]
    for src_start, src_end, idx in ends:
        segment = body[seg_start:src_start]
        # '1/4 pound' as written in the question, or 'one-third' written 1/3, stays; '60/100
        # * 5' is read number by number
        kept = [m for m in find_mentions(segment) if m.kind == "fraction" and (
            m.text in given or m.value in given_values and _lowest_terms(m.text))] \
            if "/" in segment or any(text in segment for text in given) else []
        prose = [m for m in find_mentions(segment, fractions=False) if m.quantity
                 and not any(k.start <= m.start < k.end for k in kept)
                 and (seg_start + m.start, seg_start + m.end) not in lit_trees]
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
                                   fixed, env, mentions, units, question, final)
            # a part worked out on the way is written in digits ('(30 - 12)/2 = 18/2'): a
            # word before the calculation ('the first three turns') counts something else
            if tree is None and idx is not None and body.startswith("<<", src_start) \
                    and m.kind != "word":
                tree = _partial(m.value, sources[idx], lit_trees)
            if tree is None and m.kind == "word":
                continue  # 'the three of them', 'first two months': words stay as written
            if tree is None and in_head is not None:  # 'the 5 people' of 3 adults and 2 children
                tree = in_head(m.value, sum(src.end <= start for src in sources),
                               word_after(body, end))
            if tree is None:
                raise UnsupportedProblem("unexplained-prose-number",
                                         f"'{m.text}' in the solution text cannot be traced")
            slots.append((start, end, tree, m))
        seg_start = src_end
    return slots


def _original(name: str, variables) -> Fraction:
    return next(v.value for v in variables if v.name == name)


def _lowest_terms(text: str) -> bool:
    """Whether a written fraction such as '1/3' is in lowest terms (not '60/100')."""
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts) or not int(parts[1]):
        return False
    value = Fraction(int(parts[0]), int(parts[1]))
    return (value.numerator, value.denominator) == (int(parts[0]), int(parts[1]))


def _partial(value, src, lit_trees):
    """A part of the calculation the prose works out on the way ('(30 - 12)/2 = 18/2 =
    <<(30-12)/2=9>>' writes 18 for 30 - 12; '4 * 60 / 5 = 4 * 12' writes 12 for 60 / 5), when
    exactly one part has that value."""
    leaves = [lit_trees[span] for span in src.spans]
    found = {expressions.substitute(part, leaves) for part in expressions.parts_valued(
        src.tree, [lit.value for lit in src.literals], value)
        if part[0] not in ("lit", "const") and part != src.tree}
    return found.pop() if len(found) == 1 else None


_CONVERTED = re.compile(r"(\d+(?:\.\d+)?)[ \t]*[A-Za-z]+[ \t]*=[ \t]*\$?\Z")
_FILLER = {"more", "fewer", "less", "extra", "additional", "other", "of", "the", "a", "an",
           "each", "per", "total", "whole", "full", "on", "in", "at", "for", "to", "from",
           "with", "by", "and", "or", "remaining", "left", "same"}
# words that end a noun phrase: '4 containers then it will cost' names containers
_STOP = {"then", "so", "that", "which", "who", "is", "are", "was", "were", "be", "will",
         "would", "can", "could", "has", "have", "had", "he", "she", "it", "they", "we", "you",
         "his", "her", "its", "their", "this", "these", "those", "if", "but", "because",
         "since", "when", "while", "after", "before", "into", "cost", "costs",
         # adverbs and adjectives after a unit: '2 years ago', '5 years old', '3 days later'
         "ago", "old", "older", "younger", "later", "earlier", "longer", "shorter"}
_SINGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman",
             "feet": "foot", "teeth": "tooth", "mice": "mouse", "geese": "goose"}


def word_after(text: str, end: int) -> str | None:
    """The noun after a number ('4 fewer containers' -> 'container', '5 apple pies' -> 'pie'),
    to tell equal numbers apart; only on the same line and in the same sentence."""
    m = re.match(r"(?:>>)?\$?[\d,.]*[ \t]*%?((?:[ \t]*(?:[a-z]+-)?[A-Za-z]+){1,5})",
                 text[end:end + 60])
    if not m:
        return None
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", m.group(1)) if w.lower() != "x"]
    while words and words[0] in _FILLER:
        words.pop(0)
    noun = None
    for w in words[:2]:  # 'duck eggs per day' -> eggs; 'pieces of straw' -> pieces
        if w in _FILLER or w in _STOP:
            break
        noun = w
    if noun is None:
        return None
    return _SINGULAR.get(noun, noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun)


def nouns(text: str, end: int) -> set[str]:
    """What the number ending at ``end`` counts: the noun ``word_after`` finds and the word
    right after it, singular ('first 3 customers buy' -> {'buy', 'customer'})."""
    after = re.match(r"[ \t-]*([A-Za-z]+?)s?\b", text[end:end + 30])
    return {noun for noun in (word_after(text, end), after and after.group(1).lower()) if noun}


def _money(tree, variables, mentions, sources, body) -> bool | None:
    """Whether a question number or a result is written as money ($12), if known."""
    if tree[0] != "sym":
        return None
    if tree[1][0] == "n":
        return any(mentions[i].money for v in variables if v.name == tree[1] for i in v.mentions)
    src = sources[int(tree[1][1:])]
    if src.result_style is not None:
        return src.result_style.money
    if body.startswith("<<", src.start):  # '= $<<12*12=144>>144'
        return body[max(0, src.start - 2):src.start].strip().endswith("$")
    return None


def _next_word(text: str, end: int) -> str | None:
    """The word right after a number ('five pigs consume' -> 'pigs', 'eight-hour' -> 'hour')."""
    m = re.match(r"[ \t-]*([A-Za-z]+)", text[end:end + 30])
    return m.group(1).lower() if m else None


def _phrase(text: str, end: int) -> tuple | None:
    """The three words after a number, if it has three on its sentence ('years from now')."""
    words = re.match(r"(?:[ \t]+[A-Za-z']+){3}", text[end:end + 60])
    return tuple(words.group().lower().split()) if words else None


def _prose_tree(body, pos, mention, sources, line_of, lit_trees, variables, steps, fixed, env,
                mentions, units, question, final=None):
    value, line = mention.value, body.count("\n", 0, pos)
    # an equation's solution (and what a solver derives from it) is not written where the
    # equation is: '9x = 90' does not show x, so a 10 beside it is not x
    written = [src.result_span is not None for src in sources]
    here = [i for i, ln in enumerate(line_of) if ln == line and written[i]]
    for i in here:  # "<<9*2=18>>18" and "= $18": the result written right after its step
        if sources[i].end <= pos and not body[sources[i].end:pos].strip(" $") \
                and steps[i].value == value:
            return sym(f"s{i}")
    word = word_after(body, pos + len(mention.text))
    tiers = [[Candidate(sym(f"s{i}"), 0, (), "") for i in here if steps[i].value == value],
             [Candidate(lit_trees[span], 0, (), "") for i in here
              for lit, span in zip(sources[i].literals, sources[i].spans) if lit.value == value]]
    if mention.kind == "word":  # 'two eggs' elsewhere: only the question's two eggs
        after = _next_word(body, pos + len(mention.text))
        tiers.append([Candidate(sym(v.name), 0, (), "") for v in variables if v.value == value
                      and (word and units.get(v.name) == word or after and any(
                          _next_word(question, mentions[i].end) == after for i in v.mentions))])
    else:
        # a value found in the head is a result written earlier or an expression in the
        # unknown ('Red rope = 4 * (Y - 7)' ... 'The red rope was 20 cm long')
        earlier = [i for i, src in enumerate(sources) if src.end <= pos and i not in here
                   and (written[i] or src.over is not None or src.of is not None)]
        tier2 = [Candidate(sym(f"s{i}"), 0, (), "") for i in reversed(earlier)
                 if steps[i].value == value]
        tier2 += [c for c in candidates(value, 0, variables, [], {}) if c.cost == 0]
        if final and final[1] == value:
            tier2.append(Candidate(final[0], 0, (), ""))
        # '100 cents = $1' where a calculation reads the 1 as that result over 100
        tier2 += [Candidate(tree, 0, (), "") for tree in set(lit_trees.values())
                  if tree[0] == "div" and tree[1][0] == "sym" and tree[1][1][0] == "s"
                  and tree[2][0] == "const" and steps[int(tree[1][1][1:])].value == value
                  * tree[2][1]]
        tiers += [tier2, [Candidate(const(value), 0, (), "")] if value in fixed else []]
        # '15 gallons = 120 pints' before '120/5': a question number in other units, written
        # as such and read so by a calculation
        given = _CONVERTED.search(body, body.rfind("\n", 0, pos) + 1, pos)
        tiers.append([Candidate(tree, 0, (), "") for tree in set(lit_trees.values())
                      if given and tree[0] == "mul" and tree[1][0] == "sym"
                      and tree[1][1][0] == "n" and tree[2][0] == "const"
                      and value == tree[2][1] * _original(tree[1][1], variables)
                      == tree[2][1] * parse_decimal(given.group(1))])
    if mention.money:  # '$12 per pair' is the question's $12, not the 12 pairs
        tiers = [[c for c in tier if _money(c.tree, variables, mentions, sources, body) is not False]
                 if any(_money(c.tree, variables, mentions, sources, body) for c in tier) else tier
                 for tier in tiers]
    if word:  # '5 dinosaur children' is the question's 5 children, not the 5 pounds
        def unit(c):
            return units.get(c.tree[1]) if c.tree[0] == "sym" else None

        agreeing = [[c for c in tier if unit(c) == word] for tier in tiers]
        fitting = [[c for c in tier if unit(c) in (None, word)] for tier in tiers]
        first = next((i for i, tier in enumerate(tiers) if tier), 0)
        if agreeing[first]:  # the nearest candidates that name the same thing
            # a result of this line and a number it uses that names the same thing (10
            # pictures included, 20 - 10 = 10 extra pictures) or nothing ('4 were Mia's',
            # 8 - 4 = 4 more shells) must agree
            tiers = [agreeing[0] + fitting[1] if first == 0 else agreeing[first]]
        elif first == 0 and fitting[0]:  # a result of this line: '5 pens ... 25/5 = <<..>>5'
            tiers = [fitting[0]]
        elif any(agreeing):  # '2 tubs' is the question's 2 tubs, not a $2 of this line
            tiers = agreeing
        elif first == 0 and fitting[1]:  # '2 legs' beside '4/2 = 2 pairs': the 2 of '4/2'
            tiers = [fitting[1]]
        elif fitting[first]:  # never a constant over a number whose unit differs
            tiers = [fitting[first]]
    chosen = pick_by_tiers(tiers, env)
    phrase = _phrase(body, pos + len(mention.text))
    if chosen is None and phrase:  # '4 years from now' as the question says it
        echoed = {c.tree for tier in tiers for c in tier if c.tree[0] == "sym" and any(
            v.name == c.tree[1] and any(_phrase(question, mentions[i].end) == phrase
                                        for i in v.mentions) for v in variables)}
        if len(echoed) == 1:
            return echoed.pop()
    if chosen is None and ("." in mention.text or "," in mention.text or mention.money):
        # '$4.00' written as in the question is that number, not a result that equals it
        same = {v.name for v in variables for i in v.mentions
                if mentions[i].text == mention.text and mentions[i].money == mention.money}
        if len(same) == 1:
            return sym(same.pop())
    first = next((tier for tier in tiers if tier), [])
    if chosen is None and first and all(c.tree[0] == "sym" and c.tree[1][0] == "n" for c in first):
        raise Retie(value)  # '2' could be either of the question's two 2s
    names = sorted({c.tree[1] for c in first if c.tree[0] == "sym"}, key=lambda n: int(n[1:]))
    if chosen is None and len(names) == 2 == len(first) and all(n[0] == "s" for n in names):
        raise SameResults(*names)  # '6 students ... and 6 are in the band': either result
    return None if chosen is None else chosen.tree


_SHOWN = re.compile(r"\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?((?:st|nd|rd|th)\b)?")


def shown_results(body: str, sources, slots) -> list[tuple[int, int, tuple, str]]:
    """The result an annotation shows right after itself, whatever is glued to it
    ('<<1200/1000=1.2>>1.2Mb', '<<1+5=6>>6th place'), where no slot covers it yet:
    (start, end, tree, role). An ordinal's suffix is part of its slot ('6th' -> '10th')."""
    taken = [(slot.start, slot.end) for slot in slots]
    out = []
    for i, src in enumerate(sources):
        if not body.startswith(">>", src.end - 2):
            continue
        m = _SHOWN.match(body, src.end)
        if not m or parse_decimal(m.group(1) + (m.group(2) or "")) != src.value:
            continue
        start = m.start(1)
        if any(s < m.end() and start < e for s, e in taken):
            continue
        out.append((start, m.end(), sym(f"s{i}"), "ordinal" if m.group(3) else "result"))
    return out
