"""Drawing the instances of a template, and writing them as variants.

Instances are drawn two ways, chosen by the size of the space, never by chance:

- tiny spaces (at most ``_TINY`` combinations of the numbers the constraints, steps and
  answer read) are enumerated at once; larger ones are sampled first;
- when sampling falls short (a rare constraint) and the space has at most
  ``ENUMERATE_LIMIT`` combinations, it is enumerated, pruning a branch as soon as a
  constraint over its numbers fails. The solutions are shuffled with the seed, so draws are
  uniform and distinct, and constraints that nothing satisfies are known for certain;
- beyond that, each instance is drawn a bounded number of times.

Under ``similar`` (a template's own domains) the instances of a template and seed are drawn
in order from one stream, ``random.Random(f"{seed}/{id}")``, by code written once per
template (``generator.specialised``); under another strategy instance k draws from
``random.Random(f"{seed}/{id}/{k}")``. Either way: same seed, same instances, and the
instances for fewer are a prefix of those for more.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from mathgen.errors import UnsupportedProblem
from mathgen.formulas import Dec
from mathgen.numbers import decimal_places
from mathgen.records import Variant

from . import strategies
from .pairs import text
from .specialised import _CACHED_SOLUTIONS, sampled, shuffled, specialised
from .template import Template, is_number

ENUMERATE_LIMIT = 200_000
_TINY = 2_000


@dataclass(frozen=True)
class _Seed:
    """What a strategy needs of a variable: its value at the defaults, and decimal places."""

    value: Fraction
    places: int


def instances(template: Template, n: int, seed: int, strategy: str = "similar",
              tries: int = 500) -> tuple[list[dict], str]:
    """Up to ``n`` distinct evaluated instances, and why there are fewer when there are.

    Tiny spaces are enumerated at once; others are sampled, and enumerated only when sampling
    falls short (a rare constraint) and the space is at most ``ENUMERATE_LIMIT``.
    """
    if strategy != "similar":
        if not any(d.scalable for d in template.draws):
            raise UnsupportedProblem("nothing-to-perturb", f"no variable may change scale under "
                                     f"{strategy} (a range marked 'scale: true')")
        return _sampled(template, n, seed, tries * 10, strategies.get(strategy))
    fixed = {d.name for d in template.derived}
    involved = [d for d in template.draws
                if set(d.names) & _read_names(template) and not set(d.names) & fixed]
    size = math.prod(d.size() for d in involved)
    if size <= _TINY:
        return _enumerated(template, n, seed, involved, size)
    out, why = _sampled(template, n, seed, tries if size <= ENUMERATE_LIMIT else tries * 10, None)
    if len(out) < n and size <= ENUMERATE_LIMIT:
        return _enumerated(template, n, seed, involved, size)
    return out, why


def _read_names(template: Template) -> set[str]:
    names = set().union(*(f.names for f in template.conditions)) if template.conditions else set()
    names |= set().union(*(f.names for _, f in template.steps)) if template.steps else set()
    return names | template.answer.names


def _values(draws, picks) -> dict:
    out = {}
    for draw, pick in zip(draws, picks):
        out.update(zip(draw.names, pick))
    return out


def _key(values: dict) -> tuple:
    return tuple(sorted((k, str(v), type(v).__name__) for k, v in values.items()))


def _same_numbers(template, values: dict) -> bool:
    """Whether every number drawn is the template's own: other words or names alone do not
    make a variant."""
    return all(Fraction(v) == Fraction(template.defaults[k]) for k, v in values.items()
               if is_number(v) and is_number(template.defaults.get(k)))


def _walk(early, involved) -> tuple[list[dict], Counter]:
    """Every combination of the involved numbers that keeps the conditions over them, in
    order, and how often each condition pruned a branch. A condition is tested at the
    first depth where all its numbers are bound."""
    solutions = []
    failures: Counter = Counter()
    at_depth, bound = [], set()
    for draw in involved:
        before = set(bound)
        bound |= set(draw.names)
        at_depth.append([(text, check) for text, check, names in early
                         if names <= bound and not names <= before])

    last = len(involved) - 1

    def walk(i, values):
        draw, checks = involved[i], at_depth[i]
        names = draw.names
        # one dict per depth, its own numbers written over for each pick: a pick that
        # breaks a condition copies nothing (the keys stay in the order they were bound)
        trial = dict(values)
        single = draw.mode == "one"
        for pick in (draw.domain if single else draw.each()):
            if single:
                trial[names[0]] = pick
            else:
                trial.update(zip(names, pick))
            for text, check in checks:
                if not check(trial):
                    failures[text] += 1
                    break
            else:
                if i == last:
                    solutions.append(dict(trial))  # a dict of its own: never changed after
                else:
                    walk(i + 1, trial)

    if involved:
        walk(0, {})
    else:
        solutions.append({})
    return solutions, failures


def _enumerated(template, n, seed, involved, size):
    spec = specialised(template)
    if spec.solutions is None or spec.solutions[0] != involved:
        solutions, failures = _walk(spec.early(), involved)
        if len(solutions) > _CACHED_SOLUTIONS:
            spec.solutions = None
        else:  # the same for every seed: walked once
            spec.solutions = (involved, solutions, failures)
    else:
        _, solutions, failures = spec.solutions
    failures = Counter(failures)
    rng = random.Random(f"{seed}/{template.id}")
    order, taken = shuffled(solutions, rng), []
    fixed = {d.name for d in template.derived}
    others = [d for d in template.draws if d not in involved and not set(d.names) & fixed]
    out, seen = [], {spec.defaults_key}  # the template's own problem is no variant
    # fewer solutions than instances asked for: go round again with other words and names
    rounds = 1 if not others else 4
    for k in range(len(solutions) * rounds):
        if len(out) == n:
            break
        if k < len(solutions):
            taken.append(next(order))
        numbers = taken[k % len(solutions)]
        merged = {**_values(others, [d.random(rng) for d in others]), **numbers}
        values = {name: merged[name] for name in spec.names}
        key = spec.key(values)
        if key in seen or spec.same_numbers(values):
            continue
        env, why = spec.complete(values)
        if env is None:
            failures[why] += 1
            continue
        seen.add(key)
        out.append(env)
    if len(out) < n:
        if not out:
            common = "; ".join(f"{w} ({c}x)" for w, c in failures.most_common(2))
            return out, (f"no values satisfy every constraint: all {size} combinations of "
                         f"{', '.join(n for d in involved for n in d.names)} were tried; "
                         f"most often broken: {common or 'none'}")
        return out, f"only {len(out)} distinct instances satisfy every constraint"
    return out, ""


def _sampled(template, n, seed, tries, drawer):
    if drawer is None:
        return sampled(template, n, seed, tries)
    out, seen, failures = [], {_key(template.defaults)}, Counter()
    fixed = {d.name for d in template.derived}
    draws = [d for d in template.draws if not set(d.names) & fixed]
    for k in range(n):
        rng = random.Random(f"{seed}/{template.id}/{k}")
        for _ in range(tries):
            values = _values(draws, [
                tuple(_propose(drawer, template.defaults[name], rng) for name in draw.names)
                if draw.scalable else draw.random(rng) for draw in draws])
            key = _key(values)
            if key in seen:
                failures["same values as an earlier instance"] += 1
                continue
            if _same_numbers(template, values):
                failures["the template's own numbers"] += 1
                continue
            env, why = template.complete(values)
            if env is None:
                failures[why] += 1
                continue
            seen.add(key)
            out.append(env)
            break
        else:
            break
    if len(out) < n:
        common = "; ".join(f"{w} ({c}x)" for w, c in failures.most_common(2))
        return out, f"no draw in {tries} met every constraint; most often broken: {common}"
    return out, ""


def _propose(drawer, default, rng):
    value = Fraction(default)
    places = decimal_places(value) or 0
    new = drawer.propose(_Seed(value, places), rng)
    return Dec(new) if isinstance(default, Dec) or Fraction(new).denominator != 1 else int(new)


def variants(template: Template, n: int = 1, seed: int = 0, strategy: str = "similar",
             tries: int = 500) -> list[Variant]:
    """Up to ``n`` variants; raises UnsupportedProblem when no instance can be drawn."""
    envs, why = instances(template, n, seed, strategy, tries)
    if not envs:
        raise UnsupportedProblem("constraints-unsatisfied", why)
    question0, final0, numbers = _original(template)
    question, solution = template.renderer.question, template.renderer.solution
    prefix = f"{template.id}/{strategy}/{seed}/"
    source = template.id
    out = []
    for k, env in enumerate(envs):
        changed = []
        for name, default, was in numbers:
            value = env[name]
            if type(value) is int:
                if value != default:
                    changed.append((was, str(value)))
            elif is_number(value) and value != default:
                changed.append((was, _plain(value)))
        answer = env["answer"]
        out.append(Variant(
            id=prefix + str(k),
            source_id=source,
            source_line=1,
            strategy=strategy,
            seed=seed,
            question=question(env),
            answer=solution(env),
            final_answer=str(answer) if type(answer) is int else _plain(answer),
            substitutions=tuple(changed),
            original_question=question0,
            original_final_answer=final0,
        ))
    return out


def _original(template: Template) -> tuple:
    """What every variant of a template repeats of its original: the question, the final
    answer, and the numbers a variant may change (name, default, the default as written);
    worked out once and kept with the template."""
    made = (template.defaults, template.renderer, template.steps, template.answer)
    cached = template.__dict__.get("_original")
    if cached is None or any(a is not b for a, b in zip(cached[0], made)):
        original = template.evaluate(template.defaults)
        numbers = tuple((name, template.defaults[name], _plain(template.defaults[name]))
                        for d in template.draws for name in d.names
                        if is_number(template.defaults.get(name)))
        cached = (made, (template.renderer.question(original), _plain(original["answer"]),
                         numbers))
        object.__setattr__(template, "_original", cached)
    return cached[1]


def _plain(value) -> str:
    """A number as a plain decimal (an int as itself, without building a Fraction)."""
    return str(value) if type(value) is int else text(value.numerator, value.denominator, 2)
