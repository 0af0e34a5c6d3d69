"""The symbolic form of a problem: variables, steps over them, and slots to rewrite.

For "Janet's ducks lay 16 eggs per day. She eats three ... bakes ... with four ... $2 per
egg" with solution "16 - 3 - 4 = <<16-3-4=9>>9 ... 9 * 2 = $<<9*2=18>>18 ... #### 18"::

    variables  n0=16, n1=3, n2=4, n3=2       (the quantities of the question)
    steps      s0 = n0 - n1 - n2             s1 = s0 * n3
    final      s1
    slots      every number written in the solution, each with the tree that computes it

Constraints, drawing values and rendering all work from this form.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from mathgen import expressions
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, sym
from mathgen.numbers import Mention, find_mentions, in_name, parse_answer
from mathgen.records import Problem

from . import calculations, equations, head, resolve, twins
from .binding import (Candidate, Retie, SameResults, candidates, check_counts,
                      exchangeable, other_forms)
from .prose import prose_slots, shown_results
from .quantities import Variable, constants_of, mixed_numbers, variables_of
from .structure import (check_picked, check_ratios, compared, compared_bounds, counted_terms,
                        kept_parts, share_bounds, story_bounds, terms_counted,
                        written_fractions)

ANNOTATION = re.compile(r"<<([^<>]*?)=([^<>=]*)>>")
FINAL_LINE = re.compile(r"^####[ \t]*(.*?)[ \t]*$", re.MULTILINE)
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
    role: str  # literal | result | ordinal | prose | final
    style: Mention | None = None


@dataclass(frozen=True)
class SymbolicProblem:
    problem: Problem
    mentions: tuple[Mention, ...]
    variables: tuple[Variable, ...]
    steps: tuple[Step, ...]
    final: tuple
    slots: tuple[Slot, ...]
    pinned: tuple[str, ...] = field(default=())  # steps that keep their value in variants
    same: tuple[tuple[str, str], ...] = field(default=())  # (later, earlier): equal results
    order: tuple[tuple[str, str], ...] = field(default=())  # (greater, smaller): compared
    parts: tuple[tuple[str, str], ...] = field(default=())  # (whole, part) question numbers
    # (whole, part, what, strict) trees: the part stays at most (strict: below) the whole;
    # inferred from the story, or written under 'constraints:' of a templatized file
    covers: tuple[tuple[tuple, tuple, str, bool], ...] = field(default=())
    # (variable, domains.Domain): the values a person gave a number in a templatized file
    domains: tuple[tuple[str, object], ...] = field(default=())

    def sympy_steps(self) -> dict:
        """Each step and the final answer as a SymPy expression over the variables only."""
        import sympy

        out, env = {}, {}
        for step in self.steps:
            env[sympy.Symbol(step.name)] = expressions.to_sympy(step.tree).subs(env)
            out[step.name] = env[sympy.Symbol(step.name)]
        out["answer"] = expressions.to_sympy(self.final).subs(env)
        return out


def build(problem: Problem) -> SymbolicProblem:
    """Symbolic form of a problem; raises UnsupportedProblem with a reason when unsure.

    Equal numbers of the question ('3 sprints 3 times') are separate variables. When the
    solution cannot tell them apart, they share one variable if the solution uses it as often
    as it is written; otherwise ('2 cases ... 2 bottles each', one of them used only in the
    head) they keep their value. Either way, every reading gives the same answer.
    """
    check_picked(problem.question, problem.solution)
    tied, frozen, same = frozenset(), frozenset(), {}
    held, pinned = frozenset(), frozenset()  # literals found in the head, and results they keep
    for _ in range(12):
        try:
            return _build(problem, tied, frozen, same, held, pinned)
        except head.Hold as hold:
            if hold.literal in held and hold.values <= frozen and hold.steps <= pinned:
                raise UnsupportedProblem("unexplained-number", f"{hold.literal} cannot be held")
            tied, frozen = tied - hold.values, frozen | hold.values
            held, pinned = held | {hold.literal}, pinned | hold.steps
        except SameResults as equal:  # the prose cannot tell two equal results apart
            if equal.later in same:
                raise UnsupportedProblem("ambiguous-binding", "the prose cannot tell results "
                                         f"{equal.earlier} and {equal.later} apart")
            same = same | {equal.later: equal.earlier}
        except Retie as retie:
            if retie.value in tied or retie.underused:
                tied, frozen = tied - {retie.value}, frozen | {retie.value}
            else:
                tied = tied | {retie.value}
    raise UnsupportedProblem("ambiguous-binding", "too many equal numbers in the question")


def _build(problem: Problem, tied: frozenset, frozen: frozenset, kept_equal: dict[str, str],
           held: frozenset, held_steps: frozenset) -> SymbolicProblem:
    question, solution = problem.question, problem.solution
    mentions = tuple(find_mentions(question))
    variables = variables_of(question, mentions, tied, frozen)
    final_match = None
    for final_match in FINAL_LINE.finditer(solution):
        pass
    if final_match is None:
        raise UnsupportedProblem("no-final-answer", "the solution has no '#### N' line")
    body_end = final_match.start()
    sources = _calculations(solution, body_end)
    if not sources:
        raise UnsupportedProblem("no-steps", "the solution has no <<expr=result>> or 'a + b = c' steps")
    constants = constants_of(question, ANNOTATION.sub(" ", solution[:body_end]), mentions,
                             variables)
    algebra = bool(equations.unknowns(solution[:body_end]))
    written = head.written_results(solution[:body_end])
    lit_options, lit_spans, describe, raw_steps, step_values = [], [], [], [], []
    scaling = {f"f{m.value}" for m in mentions if m.kind in ("multiplier", "fraction")}
    ratios_of = _ratio_variables(question, mentions, variables)
    mixed = mixed_numbers(question, mentions, variables)
    fractions = {m.value for m in mentions if m.kind == "fraction"}
    divisor_literals: set[int] = set()
    lit_sources = []
    bases: dict[int, int] = {}
    result_of = {src.result_span: i for i, src in enumerate(sources) if src.result_span}
    said = twins.contexts(solution, sources)
    for i, src in enumerate(sources):
        if src.of is not None:  # a hidden step over the numbers of an equation
            raw_steps.append(_shift(src.tree, bases[id(src.of)]))
            step_values.append(src.value)
            continue
        base = bases[id(src)] = len(lit_options)
        divisors = expressions.divisor_literals(src.tree)
        roles = expressions.operand_roles(src.tree)
        addends, summands = _addends(src.tree)
        ratios = written_fractions(solution, src, fractions)
        for k, (key, lowest) in list(ratios.items()):
            if not lowest and any(c.tree[0] == "sym" and c.tree[1][0] == "n" for c in candidates(
                    src.literals[k].value, i, variables, step_values, constants)):
                del ratios[k]
        ratios = {k: key for k, (key, _) in ratios.items()}
        # '<<8=8>>' after other calculations states a value found in the prose (often by
        # algebra): only an earlier result can explain it, not an equal question number.
        # As the first calculation it restates a given: 'Amber ran <<8=8>>8 miles'.
        statement = i > 0 and src.tree == ("lit", 0) and solution.startswith("<<", src.start)
        if statement and not algebra and "=" not in solution[
                solution.rfind("\n", 0, src.start) + 1:src.start]:
            # 'Dues: <<800=800>>800$' with no unknown anywhere restates a given
            statement = False
        for k, (lit, span) in enumerate(zip(src.literals, src.spans)):
            options = candidates(lit.value, i, variables, step_values, constants,
                                 divisor=k in divisors, addend=k in addends)
            options = twins.narrowed(options, said[i][k], variables, mentions, question)
            options += [Candidate(tree, 0.0, uses, label) for value, tree, uses, label in mixed
                        if value == lit.value]
            if statement:
                options = [c for c in options if c.tree[0] == "sym" and c.tree[1][0] == "s"]
            if k in ratios:  # '12 x 2/3' where the question says 2/3, two-thirds or a third
                options = [c for c in options if ratios[k] in c.uses] or [Candidate(
                    const(lit.value), 0.2, (ratios[k],), f"part of the fraction {ratios[k][1:]}")]
            elif roles.get(k, set()) & {"added", "dividend"} \
                    and any(c.tree[0] == "sym" for c in options):
                # 'half' or 'twice' scales: a 2 that is added, or divided, is another 2
                options = [c for c in options if not set(c.uses) & scaling]
            if k in summands and any(c.tree[0] == "sym" and c.tree[1] not in ratios_of
                                     for c in options):
                # '20 percent' or 'two times heavier' as it is written is no amount: a 20
                # or a 2 added to amounts is another number of that value
                options = [c for c in options if not (c.tree[0] == "sym"
                                                      and c.tree[1] in ratios_of)]
            if k in divisors:
                divisor_literals.add(len(lit_options))
            if src.unknown and span in result_of:  # '2L = 22 - 8 = 14': the 14 is that result
                options = [c for c in options if c.tree == sym(f"s{result_of[span]}")]
            if src.over is not None:  # 'Becca: 3x + 5' is read before x is found
                options = [c for c in options if c.tree[0] != "sym" or c.tree[1][0] != "s"
                           or sources[int(c.tree[1][1:])].end <= span[0]]
            if not options and not (src.unknown or src.over) and terms_counted(
                    src.tree, k, [x.value for x in src.literals],
                    [(v.value, v.tree) for v in sources[:i]]):
                # '30 / 3' after '10 + 8 + 12 = 30': the count of the terms it averages
                options = [Candidate(const(lit.value), 0.5, (), "the count of the terms")]
            if not options and not (statement or algebra):
                # '3 grades x 6 adults': a number found without a calculation
                unit = said[i][k][1] if said[i][k] else None
                foreign = head.foreign_keys(unit, variables, mentions, question)
                options = [c for c in [head.explain(lit.value, src.value, variables, step_values,
                                                    held_steps, constants, held, lit.text,
                                                    written, foreign)] if c]
            lit_options.append(options)
            lit_sources.append(src)
            lit_spans.append(span)
            describe.append(f"{lit.text} in step {i + 1} ({src.text})")
        tree = _shift(src.tree, base)
        if src.over is not None:  # '3x + 12': x is the result of the equation solving it
            index = next(j for j, other in enumerate(sources) if other is src.over)
            tree = expressions.substitute_symbols(tree, {src.over.unknown: sym(f"s{index}")})
        raw_steps.append(tree)
        step_values.append(src.value)

    try:
        final_value = parse_answer(final_match.group(1))
    except ValueError:
        raise UnsupportedProblem("no-final-answer", f"final answer {final_match.group(1)!r}")
    # the answer is a step, the last in other units or rounded; never found in the head
    final_opts = [c for c in candidates(final_value, len(step_values), variables, step_values,
                                        constants) if c.tree[0] == "sym" and c.tree[1][0] == "s"]
    last = f"s{len(step_values) - 1}"
    final_opts = final_opts or other_forms(question, solution[:body_end], last, step_values[-1],
                                           final_value, mentions)
    final_opts = sorted(final_opts, key=lambda c: (c.uses != (last,), c.cost))
    lit_options.append(final_opts)
    describe.append(f"the final answer {final_match.group(1)}")
    final_k = len(lit_options) - 1

    capacity = {v.name: len(v.mentions) for v in variables}
    for k, src in enumerate(lit_sources):
        if src.unknown or src.over:  # equations restate the question's numbers: free uses
            for c in lit_options[k]:
                if c.tree[0] == "sym" and c.tree[1] in capacity:
                    capacity[c.tree[1]] += 1
                for key in {u for u in c.uses if u[0] == "f"}:  # and its fixed numbers
                    capacity[key] = capacity.get(key, 0) + 1
    must_use = {v.name: 1.0 for v in variables} | {f"s{i}": 1.0 for i, src in enumerate(sources)
                                                   if not (src.unknown or src.of or src.over)}
    fixed_keys = {e[2] for entries in constants.values() for e in entries}
    variable_mentions = {i for v in variables for i in v.mentions}
    for i, m in enumerate(mentions):
        if i not in variable_mentions and f"f{m.value}" in fixed_keys:
            # a written fraction such as 2/3 is used as two literals, 2 and 3
            uses = 2 if m.kind == "fraction" else 1
            capacity[f"f{m.value}"] = capacity.get(f"f{m.value}", 0) + uses
            # a word such as 'half' or 'twice' is nearly always used; a question number may
            # not be (the '2 planes' of a story), so leaving the word unused costs more; a
            # count kept as written ('the three of them') is like a question number; the
            # number of a name ('Five Flags') need not be used at all
            if not in_name(question, m):
                must_use[f"f{m.value}"] = 1.5 if f"f{m.value}" in scaling else 1.0
    pins: set[str] = {f"s{j}" for j in held_steps}
    same: dict[str, str] = dict(kept_equal)
    while True:
        chosen, ties = resolve.choose(lit_options, raw_steps + [("lit", final_k)], capacity, must_use,
                               describe, {v.name: v.value for v in variables}, step_values,
                               pins, scaling, same)
        pinned = resolve.pinned(pins, same, step_values)
        unclear = exchangeable(chosen, lit_options, raw_steps + [("lit", final_k)], pinned,
                               capacity, must_use, scaling, divisor_literals)
        if unclear is None:
            break
        # either reading must give the same numbers: a question number keeps its value, a
        # result is pinned to its own
        if unclear[0] == "n":
            raise Retie(next(v.value for v in variables if v.name == unclear), underused=True)
        if unclear in pins:  # cannot happen: a pinned result reads the same either way
            raise UnsupportedProblem("ambiguous-binding", f"{unclear} cannot be read one way")
        pins.add(unclear)
    equations.check(sources, chosen, raw_steps)
    check_counts(chosen, raw_steps, describe)
    check_ratios(chosen, [t for t, src in zip(raw_steps, sources) if not (src.unknown or src.of)],
                 describe, {v.name for v in variables if v.times and len(v.mentions) == 1})
    steps = []
    leaves = [c.tree for c in chosen]
    for i, (tree, src) in enumerate(zip(raw_steps, sources)):
        steps.append(Step(f"s{i}", expressions.substitute(tree, leaves), step_values[i], src.text))
    if ties:
        variables = resolve.tie(variables, ties, steps)
    if (count := counted_terms(steps, variables)) is not None:  # an average's count stays
        raise Retie(next(v.value for v in variables if v.name == count), underused=True)
    # A question number the solution never uses keeps its value ('the two houses combined'
    # may count what the steps add up), unless two parts add up to it (structure.totals).
    used = {n for c in chosen for n in c.uses} | set(ties)
    for v in variables:
        if len(v.mentions) > 1 and sum(v.name in c.uses for c in chosen) < len(v.mentions):
            raise Retie(v.value, underused=True)
    variables, parts = kept_parts(question, mentions, tuple(v for v in variables if v.name in used),
                                  len(variables), {c.tree[1] for c in chosen if c.tree[0] == "const"})
    slots = [Slot(*lit_spans[k], chosen[k].tree, "literal")
             for k in equations.written_literals(lit_spans, chosen, raw_steps, result_of)]
    slots += [Slot(*src.result_span, sym(f"s{i}"), "result", src.result_style)
              for i, src in enumerate(sources) if src.result_span]
    slots += [Slot(*span, sym(f"s{i}"), "result") for i, src in enumerate(sources)
              for span in src.restatements]
    slots.append(Slot(final_match.start(1), final_match.end(1), chosen[final_k].tree, "final"))
    in_use = {i for v in variables for i in v.mentions}
    fixed = set(constants) | {m.value for i, m in enumerate(mentions) if i not in in_use} \
        | {c.tree[1] for c in chosen if c.label.endswith(head.LABEL)}
    def in_head(value, results, unit):  # a prose number found without a calculation
        if algebra:
            return None
        found = head.explain(value, None, variables, step_values[:results], held_steps,
                             constants, held, str(value), written,
                             head.foreign_keys(unit, variables, mentions, question))
        return found and found.tree

    slots += [Slot(start, end, tree, "prose", style) for start, end, tree, style in prose_slots(
        solution[:body_end], sources, chosen, lit_spans, variables, steps, fixed, mentions, question,
        same, in_head)]
    slots += [Slot(*shown) for shown in shown_results(solution[:body_end], sources, slots)]
    order = compared(solution, slots, steps)  # '1600 > 1200' picks one: they keep that order
    # a result never used otherwise: a reading that leaves it out may be wrong
    idle = [i for i, src in enumerate(sources) if f"s{i}" in must_use and f"s{i}" not in used
            and not any(f"s{i}" in pair for pair in order)
            and src.tree != ("lit", 0)]  # '2B = <<36=36>>36' restates what algebra found
    if idle and problem.format == "gsm8k":
        raise UnsupportedProblem("unused-result", f"step {idle[0] + 1}'s result is never used")
    slots.sort(key=lambda s: s.start)
    covers = story_bounds(question, solution, mentions, variables,
                          [src.result_span for src in sources], chosen[final_k].tree) \
        + compared_bounds(solution[:body_end], slots, {v.name: v.value for v in variables}
                          | {st.name: st.value for st in steps}) \
        + share_bounds(steps, variables, mentions, question)
    return SymbolicProblem(problem, mentions, variables, tuple(steps), chosen[final_k].tree,
                           tuple(slots), tuple(sorted(pins)), tuple(sorted(same.items())), order,
                           tuple(parts), covers)


@functools.lru_cache(maxsize=64)
def _calculations(solution: str, body_end: int) -> tuple:
    """The calculations of a solution, read once however often the problem is built."""
    return tuple(calculations.read(solution, body_end,
                                   list(ANNOTATION.finditer(solution, 0, body_end))))


def _shift(tree: tuple, base: int) -> tuple:
    """Renumber a step's literal leaves into the problem-wide literal list."""
    if tree[0] == "lit":
        return ("lit", tree[1] + base)
    if tree[0] == "call":
        return ("call", tree[1], tuple(_shift(a, base) for a in tree[2]))
    return (tree[0],) + tuple(_shift(a, base) if isinstance(a, tuple) else a for a in tree[1:])


def _addends(tree: tuple) -> tuple[set[int], set[int]]:
    """The literals added in a sum or taken away in a difference (not what is taken from),
    and of those the ones added in a sum."""
    out, summed = set(), set()
    for node in expressions.subtrees(tree):
        if node[0] in ("add", "sub"):
            for arg in node[1:] if node[0] == "add" else node[2:]:
                if arg[0] == "lit":
                    out.add(arg[1])
                    if node[0] == "add":
                        summed.add(arg[1])
    return out, summed


_TIMES_AFTER = re.compile(r"\s+times\b", re.IGNORECASE)


def _ratio_variables(question: str, mentions, variables) -> set[str]:
    """The question numbers every mention of which is a percent or a multiplier ('20%',
    'two times heavier'): as written they are no amount."""
    return {v.name for v in variables
            if all(mentions[i].percent or _TIMES_AFTER.match(question, mentions[i].end)
                   for i in v.mentions)}
