"""The symbolic form of a problem: variables, steps over them, and slots to rewrite.

For "Janet's ducks lay 16 eggs per day. She eats three ... bakes ... with four ... $2 per
egg" with solution "16 - 3 - 4 = <<16-3-4=9>>9 ... 9 * 2 = $<<9*2=18>>18 ... #### 18"::

    variables  n0=16, n1=3, n2=4, n3=2       (question mentions; equal values share one)
    steps      s0 = n0 - n1 - n2             s1 = s0 * n3
    final      s1
    slots      every number written in the solution, each with the tree that computes it

Constraints, drawing values and rendering all work from this form.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.numbers import Mention, find_mentions, parse_decimal
from mathgen.records import Problem

from . import expressions
from .binding import Ambiguity, Candidate, choose, const, pick_by_tiers, sym
from .units import licensed_constants, unit_bound

ANNOTATION = re.compile(r"<<([^<>]*?)=([^<>=]*)>>")
FINAL_LINE = re.compile(r"^####[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_RAW_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Variable:
    """A number of the question that a strategy may change (equal numbers share one)."""

    name: str
    value: Fraction
    mentions: tuple[int, ...]
    percent: bool
    places: int
    upper: Fraction | None
    derived: tuple | None = None  # kept equal to this tree over free variables


@dataclass(frozen=True)
class Step:
    name: str
    tree: tuple  # over variable and earlier step symbols
    value: Fraction  # as in the original solution
    text: str  # the original calculator expression


@dataclass(frozen=True)
class Slot:
    """A number written in the solution, and the tree that computes it in a variant."""

    start: int
    end: int
    tree: tuple
    role: str  # literal | result | prose | final
    style: Mention | None = None


@dataclass(frozen=True)
class SymbolicProblem:
    problem: Problem
    mentions: tuple[Mention, ...]
    variables: tuple[Variable, ...]
    steps: tuple[Step, ...]
    final: tuple
    slots: tuple[Slot, ...]
    notes: tuple[str, ...] = field(default=())

    def sympy_steps(self) -> dict:
        """Each step and the final answer as a SymPy expression over the variables only."""
        import sympy

        out, env = {}, {}
        for step in self.steps:
            env[sympy.Symbol(step.name)] = expressions.to_sympy(step.tree).subs(env)
            out[step.name] = env[sympy.Symbol(step.name)]
        out["answer"] = expressions.to_sympy(self.final).subs(env)
        return out


class _Retie(Exception):
    """Two equal numbers of the question cannot be told apart: build again with them tied."""

    def __init__(self, value: Fraction):
        self.value = value


def build(problem: Problem) -> SymbolicProblem:
    """Symbolic form of a problem; raises UnsupportedProblem with a reason when unsure.

    Equal numbers of the question ('3 sprints 3 times') are separate variables unless the
    solution cannot tell them apart; then they share one, so either reading is right.
    """
    tied: frozenset = frozenset()
    for _ in range(8):
        try:
            return _build(problem, tied)
        except _Retie as retie:
            tied = tied | {retie.value}
    raise UnsupportedProblem("ambiguous-binding", "too many equal numbers in the question")


def _build(problem: Problem, tied: frozenset) -> SymbolicProblem:
    question, solution = problem.question, problem.solution
    mentions = tuple(find_mentions(question))
    variables = _variables(question, mentions, tied)
    final_match = None
    for final_match in FINAL_LINE.finditer(solution):
        pass
    if final_match is None:
        raise UnsupportedProblem("no-final-answer", "the solution has no '#### N' line")
    body_end = final_match.start()
    sources = _sources(solution, body_end, list(ANNOTATION.finditer(solution, 0, body_end)))
    if not sources:
        raise UnsupportedProblem("no-steps", "the solution has no <<expr=result>> or 'a + b = c' steps")
    constants = _constants(question, solution[:body_end], mentions, variables)
    lit_options, lit_spans, describe, raw_steps, step_values = [], [], [], [], []
    for i, src in enumerate(sources):
        base = len(lit_options)
        divisors = expressions.divisor_literals(src.tree)
        for k, (lit, span) in enumerate(zip(src.literals, src.spans)):
            lit_options.append(_candidates(lit.value, i, variables, step_values, constants,
                                           divisor=k in divisors))
            lit_spans.append(span)
            describe.append(f"{lit.text} in step {i + 1} ({src.text})")
        raw_steps.append(_shift(src.tree, base))
        step_values.append(src.value)

    try:
        final_value = parse_decimal(final_match.group(1))
    except ValueError:
        raise UnsupportedProblem("no-final-answer", f"final answer {final_match.group(1)!r}")
    final_opts = _candidates(final_value, len(step_values), variables, step_values, constants)
    last = f"s{len(step_values) - 1}"
    final_opts = sorted(final_opts, key=lambda c: (c.uses != (last,), c.cost))
    lit_options.append(final_opts)
    describe.append(f"the final answer {final_match.group(1)}")
    final_k = len(lit_options) - 1

    capacity = {v.name: len(v.mentions) for v in variables}
    must_use = {v.name: 1.0 for v in variables} | {f"s{i}": 1.0 for i in range(len(step_values))}
    fixed_keys = {e[2] for entries in constants.values() for e in entries}
    variable_mentions = {i for v in variables for i in v.mentions}
    for i, m in enumerate(mentions):
        if i not in variable_mentions and f"f{m.value}" in fixed_keys:
            capacity[f"f{m.value}"] = capacity.get(f"f{m.value}", 0) + 1
            must_use[f"f{m.value}"] = 0.5
    chosen, ties = _choose(lit_options, raw_steps + [("lit", final_k)], capacity, must_use,
                           describe, {v.name: v.value for v in variables})

    steps = []
    leaves = [c.tree for c in chosen]
    for i, (tree, src) in enumerate(zip(raw_steps, sources)):
        steps.append(Step(f"s{i}", expressions.substitute(tree, leaves), step_values[i], src.text))
    if ties:
        variables = _tie(variables, ties, steps)
    # A question number the solution never uses keeps its value: 'the two houses combined'
    # may count what the steps add up, so changing it could make the question wrong.
    used = {n for c in chosen for n in c.uses} | set(ties)
    variables = tuple(v for v in variables if v.name in used)
    slots = [Slot(s, e, chosen[k].tree, "literal") for k, (s, e) in enumerate(lit_spans)]
    slots += [Slot(*src.result_span, sym(f"s{i}"), "result", src.result_style)
              for i, src in enumerate(sources)]
    slots += [Slot(*span, sym(f"s{i}"), "result") for i, src in enumerate(sources)
              for span in src.restatements]
    slots.append(Slot(final_match.start(1), final_match.end(1), chosen[final_k].tree, "final"))
    in_use = {i for v in variables for i in v.mentions}
    fixed = set(constants) | {m.value for i, m in enumerate(mentions) if i not in in_use}
    slots += _prose_slots(solution[:body_end], sources, chosen, lit_spans, variables, steps,
                          fixed, mentions, question)
    slots.sort(key=lambda s: s.start)
    return SymbolicProblem(problem, mentions, variables, tuple(steps), chosen[final_k].tree,
                           tuple(slots))


@dataclass(frozen=True)
class _Source:
    """A calculation written in the solution: an annotation or a plain 'a + b = c'."""

    start: int
    end: int
    text: str
    tree: tuple
    literals: tuple
    spans: tuple  # of each literal, in solution coordinates
    value: Fraction
    result_span: tuple[int, int]
    result_style: Mention | None  # how a prose result is written ($, commas)
    restatements: tuple = ()  # spans that repeat the result: the 240 of <<240=240>>


_NUM = r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\$?\.\d+%?"
_GAP = r"(?:/[A-Za-z]+)?(?:\s+(?!x\b)[A-Za-z][A-Za-z'/-]*){0,6}"
_OP = r"\s*(?:[-+*/\u00d7\u00f7\u2013\u2212]|\bx\b)\s*"
_PROSE_EQUATION = re.compile(
    rf"(?<![\w.,$])(?:{_NUM}){_GAP}(?:{_OP}(?:{_NUM}){_GAP})+\s*=\s*(?:{_NUM})(?![\w,]|\.\d)")
_NUM_TOKEN = re.compile(_NUM)
_OP_TOKEN = re.compile(r"[-+*/\u00d7\u00f7\u2013\u2212]|\bx\b")
_OP_NORMAL = {"x": "*", "\u00d7": "*", "\u00f7": "/", "\u2013": "-", "\u2212": "-"}
_PROSE_LHS = re.compile(rf"((?:{_NUM}){_GAP}(?:{_OP}(?:{_NUM}){_GAP})+)\s*=\s*\$?\s*\Z")


def _sources(solution: str, body_end: int, annotations) -> list[_Source]:
    out = []
    seg_start = 0
    for ann in annotations:
        tree, literals = expressions.parse(ann.group(1))
        try:
            written = parse_decimal(ann.group(2))
        except ValueError:
            raise UnsupportedProblem("unsupported-expression",
                                     f"step result {ann.group(2)!r} is not a number")
        restated = None
        if tree == ("lit", 0):  # "65+94+81 = <<240=240>>": the calculation is in the prose
            lhs = _PROSE_LHS.search(solution, seg_start, ann.start())
            restated = lhs and _calculation(solution, lhs.start(), lhs.group(1))
        if restated and restated[3] == written:
            expr_text, tree, literals, _, spans = restated
            out.append(_Source(lhs.start(), ann.end(), expr_text, tree, literals, spans, written,
                               ann.span(2), None, (ann.span(1),)))
        else:
            exact = _value(tree, literals)
            if exact != written:
                raise UnsupportedProblem("inexact-annotation",
                                         f"{ann.group(1)} is {exact}, not {ann.group(2)}")
            spans = tuple((ann.start(1) + x.start, ann.start(1) + x.end) for x in literals)
            out.append(_Source(ann.start(), ann.end(), ann.group(1), tree, tuple(literals), spans,
                               written, ann.span(2), None))
        seg_start = ann.end()
    cuts = [0] + [p for a in annotations for p in a.span()] + [body_end]
    for seg_start, seg_end in zip(cuts[::2], cuts[1::2]):
        for m in _PROSE_EQUATION.finditer(solution, seg_start, seg_end):
            lhs, _, _ = m.group().rpartition("=")
            calc = _calculation(solution, m.start(), lhs)
            result = list(_NUM_TOKEN.finditer(solution, m.start() + len(lhs) + 1, m.end()))[-1]
            core = re.search(r"[\d.][\d,.]*", result.group())
            try:
                written = parse_decimal(core.group())
            except ValueError:
                continue
            if calc is None or calc[3] != written:
                continue  # an approximate or mistaken calculation stays prose
            r_start = result.start() + core.start()
            r_span = (r_start, r_start + len(core.group()))
            style = find_mentions(solution[r_span[0]:r_span[1]])
            out.append(_Source(m.start(), m.end(), calc[0], calc[1], calc[2], calc[4], written,
                               r_span, style[0] if style else None))
    return sorted(out, key=lambda src: src.start)


def _value(tree, literals) -> Fraction | None:
    try:
        return expressions.evaluate(expressions.substitute(tree, [const(x.value) for x in literals]))
    except (ZeroDivisionError, ValueError, OverflowError):
        return None


def _calculation(solution: str, start: int, lhs: str):
    """Parse 'A op B op C' written in prose at ``start``: (text, tree, literals, value, spans)."""
    parts, spans = [], []
    lhs = re.sub(r"/[A-Za-z]+", lambda m: " " * len(m.group()), lhs)  # '$600/month': a unit
    for tok in re.finditer(rf"{_NUM}|{_OP_TOKEN.pattern}", lhs):
        text = tok.group()
        if _NUM_TOKEN.fullmatch(text):
            core = re.search(r"[\d.][\d,.]*", text)
            spans.append((start + tok.start() + core.start(), start + tok.start() + core.end()))
            parts.append(core.group().replace(",", ""))
        else:
            parts.append(_OP_NORMAL.get(text, text))
    expr_text = " ".join(parts)
    try:
        tree, literals = expressions.parse(expr_text)
    except UnsupportedProblem:
        return None
    if len(literals) != len(spans):
        return None
    return expr_text, tree, tuple(literals), _value(tree, literals), tuple(spans)

def _choose(lit_options, steps, capacity, must_use, describe, values):
    """``binding.choose``, resolving ambiguities that cannot change an answer.

    When the question's 200 and a result of 200 cannot be told apart, they are kept equal in
    every variant (the number is tied to the step), so both readings give the same answer.
    When the question's 2 cannot be told apart from a fixed 2 ('twice'), it keeps its value.
    """
    ties: dict[str, str] = {}
    while True:
        try:
            return choose(lit_options, steps, capacity, must_use, describe), ties
        except Ambiguity as amb:
            trees = sorted((amb.first.tree, amb.second.tree))
            names = [t[1] for t in trees if t[0] == "sym"]
            if len(names) == 2 and names[0][0] == names[1][0] == "n" \
                    and values[names[0]] == values[names[1]]:
                raise _Retie(values[names[0]])
            if len(names) == 2 and names[0][0] == "n" and names[1][0] == "s" \
                    and names[0] not in ties:
                var, step = names
                ties[var] = step
                lit_options = [[c for c in opts if c.tree != sym(var)]
                               if any(c.tree == sym(step) for c in opts) else opts
                               for opts in lit_options]
            elif trees[0][0] == "const" and trees[1][0] == "sym" and trees[1][1][0] == "n":
                var = trees[1][1]
                fixed = {var: const(values[var])}
                lit_options = [[Candidate(expressions.substitute_symbols(c.tree, fixed), 0.2,
                                          tuple(u for u in c.uses if u != var), c.label)
                                if var in c.uses else c for c in opts] for opts in lit_options]
            else:
                raise
            must_use.pop(var, None)


def _tie(variables, ties: dict[str, str], steps) -> tuple[Variable, ...]:
    """Variables tied to a step become derived: their value is the step's, over free variables."""
    trees = {st.name: st.tree for st in steps}
    derived = {}
    for var, step in ties.items():
        tree = ("sym", step)
        for _ in range(len(steps) + len(ties) + 1):
            expanded = expressions.substitute_symbols(tree, {**trees, **derived})
            if expanded == tree:
                break
            tree = expanded
        if var in expressions.symbols(tree) or any(n in ties for n in expressions.symbols(tree)):
            raise UnsupportedProblem("ambiguous-binding", f"the question's number {var} and "
                                     f"{step} are equal but depend on each other")
        derived[var] = tree
    return tuple(Variable(v.name, v.value, v.mentions, v.percent, v.places, v.upper,
                          derived.get(v.name)) for v in variables)


def _variables(question: str, mentions: tuple[Mention, ...], tied: frozenset) -> tuple[Variable, ...]:
    """One variable per quantity of the question; equal ones in ``tied`` share a variable."""
    groups: dict = {}
    bounds: dict = {}
    for i, m in enumerate(mentions):
        if not m.quantity or m.value in (0, 1):
            continue  # proportions keep their value; so do 0 and 1 (one of, a single ...)
        bound = unit_bound(question, m.end)
        if bound is not None and m.value == bound:
            continue  # "60 minutes in an hour" is a definition, not a quantity
        key = ("value", m.value) if m.value in tied else ("mention", i)
        groups.setdefault(key, []).append(i)
        if bound is not None and m.value < bound:
            bounds.setdefault(key, []).append(bound)
    out = []
    for k, (key, idx) in enumerate(groups.items()):
        value = mentions[idx[0]].value
        percent = any(mentions[i].percent for i in idx)
        limits = list(bounds.get(key, []))
        if percent and value <= 100:
            limits.append(100)
        out.append(Variable(f"n{k}", value, tuple(idx), percent,
                            max(mentions[i].places for i in idx),
                            Fraction(min(limits)) if limits else None))
    return tuple(out)


def _constants(question: str, body: str, mentions, variables) -> dict[Fraction, list]:
    """Values a literal may take without being a variable: [(cost, label, use key or None,
    divisor only)]. 'half' explains a 2 only where something is divided by it.

    A number the question fixes ('half', 'one', '1/2') explains one literal cheaply, and
    is expected to be used; a unit constant licensed by a word (60 for minutes) costs more.
    """
    out: dict[Fraction, tuple] = {}

    def add(value, cost, label, key=None, divisor=False):
        entries = out.setdefault(Fraction(value), [])
        entries.append((cost, label, key, divisor))
        entries.sort(key=lambda e: (e[0], e[3]))

    prose = ANNOTATION.sub(" ", body)
    for value, word in licensed_constants(question + " " + prose).items():
        add(value, 1.0, f"the constant {value} ({word})")
    variable_mentions = {i for v in variables for i in v.mentions}
    for i, m in enumerate(mentions):
        if i in variable_mentions:
            continue
        label, key = f"the fixed number '{m.text}'", f"f{m.value}"
        add(m.value, 0.2, label, key)
        if m.value:
            add(1 / m.value, 0.2, label, key, divisor=m.value < 1)
        if m.kind == "fraction":
            add(m.value.numerator, 0.2, label, key)
            add(m.value.denominator, 0.2, label, key, divisor=True)
            if m.value < 1:
                add(1 - m.value, 0.5, label, key)
        if m.percent:
            add(m.value / 100, 0.2, label, key)
            add(100, 0.2, label, key)
    covered = {(m.start, m.end) for m in mentions}
    for raw in _RAW_NUMBER.finditer(question):  # times, ordinals: 7:30, 2nd
        if not any(s <= raw.start() < e for s, e in covered):
            add(Fraction(raw.group()), 0.5, f"the fixed number '{raw.group()}'")
    return out


def _candidates(value: Fraction, step: int, variables, step_values, constants,
                divisor: bool = False) -> list[Candidate]:
    out = []
    hundred = const(100)
    for v in variables:
        s = sym(v.name)
        label = f"the question's {v.value}"
        if v.value == value:
            out.append(Candidate(s, 0.0, (v.name,), label))
        if v.percent:
            derived = [(v.value / 100, ("div", s, hundred), 0.0),
                       (1 - v.value / 100, ("sub", const(1), ("div", s, hundred)), 1.0),
                       (1 + v.value / 100, ("add", const(1), ("div", s, hundred)), 1.0),
                       (100 - v.value, ("sub", hundred, s), 1.0),
                       (100 + v.value, ("add", hundred, s), 1.0)]
            out += [Candidate(t, c, (v.name,), f"{label}%") for x, t, c in derived if x == value]
    for j, sv in enumerate(step_values[:step]):
        if sv == value:
            out.append(Candidate(sym(f"s{j}"), 0.0, (f"s{j}",), f"the result of step {j + 1}"))
    usable = [e for e in constants.get(value, ()) if divisor or not e[3]]
    if usable:
        cost, label, key, _ = usable[0]
        out.append(Candidate(const(value), cost, (key,) if key else (), label))
    if not out:
        for v in variables:  # a question number in other units: 2 hours -> 120 minutes
            for c, ((cost, label, _, _), *_) in constants.items():
                if c.denominator == 1 and c > 2 and cost >= 1.0:
                    if v.value * c == value:
                        out.append(Candidate(("mul", sym(v.name), const(c)), 2.0, (v.name,),
                                             f"the question's {v.value} times {label}"))
                    elif v.value / c == value:
                        out.append(Candidate(("div", sym(v.name), const(c)), 2.0, (v.name,),
                                             f"the question's {v.value} over {label}"))
    return sorted(out, key=lambda c: c.cost)


def _shift(tree: tuple, base: int) -> tuple:
    """Renumber a step's literal leaves into the problem-wide literal list."""
    if tree[0] == "lit":
        return ("lit", tree[1] + base)
    if tree[0] == "call":
        return ("call", tree[1], tuple(_shift(a, base) for a in tree[2]))
    return (tree[0],) + tuple(_shift(a, base) if isinstance(a, tuple) else a for a in tree[1:])


def _prose_slots(body: str, sources, chosen, lit_spans, variables, steps, fixed, mentions,
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
            slots.append(Slot(start, end, tree, "prose", m))
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
        tier2 += [c for c in _candidates(value, 0, variables, [], {}) if c.cost == 0]
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
        raise _Retie(value)  # '2' could be either of the question's two 2s
    return None if chosen is None else chosen.tree
