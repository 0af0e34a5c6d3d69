"""A template's draws, checks and evaluation written once as straight-line Python.

Drawing an instance used to walk general structures on every try: a plan of draws, a dict
of candidate values per narrowed number, each condition through a wrapper, each step
through the formula language's closures, every number through ``Fraction``. A template is
drawn thousands of times, so here it is written out once, in memory, as one function of
its own (for a GSM-Symbolic template about a shark and its remoras, in short)::

    def _draw(r, rng):
        v = {}
        v['n'] = _d0[int(r() * 42)]
        v['x'] = _d2[int(r() * 49)]
        v['k'] = _d3[int(r() * 8)]
        v['y'] = _d4[int(r() * 98)]              # y: kept if the conditions over k, x hold
        if not (_c0(v) and _c1(v) and _c2(v) and _c3(v)):
            _o = _memo.get((4, v['k'], v['x']))  # else drawn from the values that do
            if _o is None:
                _o = _narrow(4, v)
            if not _o:
                return None, 'k * y < x * 12'
            v['y'] = _o[int(r() * len(_o))]
        return v, None

(this is the plain form, kept for conditions that are not compiled; ``generator.drawcode``
writes the same draws over locals, with the conditions inline, on pairs of ints where
``generator.pairs`` can write them), then ``complete`` solves what an equation fixes,
tests the conditions the draw could not, evaluates the steps and the answer with the
language's kinds (an int stays an int) and tests the late conditions and the kinds. Nothing is relaxed: every condition is tested on
every instance, once, exactly as ``Template.complete`` tests it.

An instance is drawn from one stream per template and seed, ``random.Random(f"{seed}/{id}")``
(seeding a generator costs more than drawing a whole instance), and a value from a domain
of ``n`` is ``domain[int(random() * n)]``: deterministic on every platform, uniform to
within ``n / 2**53``.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

from mathgen.formulas import EvalError
from mathgen.numbers import plain

from . import drawcode, pairs
from .compiled import (_FAILS, compile_valued, domain_kind, fraction_names, static_kind,
                       whole_names)
from .narrowing import _MEMO_LIMIT, NARROW_LIMIT
from .template import DecimalRange, _member, is_number

_LISTED = 5_000  # decimal ranges up to this size are held as lists (indexing one makes a value)


def held(domain):
    """A domain as the specialised code indexes it: a small decimal range as a list of its
    values, made once; anything else as it is (a range indexes fast, a list is a list)."""
    return list(domain) if isinstance(domain, DecimalRange) and len(domain) <= _LISTED \
        else domain
_CACHED_SOLUTIONS = 20_000  # enumerated spaces kept in memory up to this many solutions


class Specialised:
    """The straight-line draw and the fast completion of one template."""

    def __init__(self, template, draws, dict_draw: bool = False):
        self.template = template
        early, late = template.checks()
        self._memo: dict = {}
        scope: dict = {"_memo": self._memo, "_narrow": self._narrow, "_several": several}
        lines = ["def _draw(r, rng):", "    v = {}"]
        bound: set[str] = set()
        covered: set[int] = set()
        self._plans, plans = [], []
        for i, draw in enumerate(draws):
            names = set(draw.names)
            here = [(j, text, check) for j, (text, check, read) in enumerate(early)
                    if read & names and read <= bound | names]
            covered |= {j for j, _, _ in here}
            read = set().union(*(early[j][2] for j, _, _ in here))
            keys = tuple(sorted(read - names))
            narrow = bool(here) and draw.mode == "one" and len(draw.domain) <= NARROW_LIMIT
            self._plans.append((draw, [(t, c) for _, t, c in here], keys))
            plans.append((draw, here, keys, narrow))
            bound |= names
            domain = held(draw.domain)
            scope[f"_d{i}"], scope[f"_dr{i}"] = domain, draw
            name = draw.names[0]
            if narrow:
                # a plain draw first, kept when it holds (as uniform over the values that
                # hold as a draw from them); else one from the narrowed domain. The draws
                # taken do not depend on what is kept in memory: same seed, same bytes
                scope[f"_t{i}"] = here[0][1]
                for j, text, check in here:
                    scope[f"_c{j}"] = check
                test = " and ".join(f"_c{j}(v)" for j, _, _ in here)
                key = ", ".join([str(i)] + [f"v[{k!r}]" for k in keys]) + ","
                lines += [f"    v[{name!r}] = _d{i}[int(r() * {len(draw.domain)})]",
                          f"    if not ({test}):",
                          f"        _o = _memo.get(({key}))" if self._hashable(draws, keys)
                          else "        _o = None",
                          "        if _o is None:", f"            _o = _narrow({i}, v)",
                          "        if not _o:", f"            return None, _t{i}",
                          f"        v[{name!r}] = _o[int(r() * len(_o))]"]
                continue
            if draw.mode == "one":
                lines.append(f"    v[{name!r}] = _d{i}[int(r() * {len(draw.domain)})]")
            else:
                targets = ", ".join(f"v[{n!r}]" for n in draw.names)
                lines.append(f"    {targets}, = _several(_d{i}, {len(draw.names)}, "
                             f"{draw.mode == 'distinct'}, r)")
            for j, text, check in here:
                scope[f"_c{j}"], scope[f"_t{j}c"] = check, text
                lines += [f"    if not _c{j}(v):", f"        return None, _t{j}c"]
        lines.append("    return v, None")
        # the same draws, made faster with locals where every condition is compiled
        written = None if dict_draw else drawcode.write(
            template, draws, plans, self._memo, lambda keys: self._hashable(draws, keys))
        self.draw, self.keyed = written or (None, None)
        if self.draw is None:
            # our own source, written from the template's parsed draws: no file's text runs
            exec(compile("\n".join(lines), f"<draw {template.id}>", "exec"), scope)  # noqa: S102
            self.draw = scope["_draw"]
        if self.keyed is None:
            self.keyed = self._keyed_by_calls
        self.names = tuple(n for d in draws for n in d.names)
        pending = [(text, check) for j, (text, check, _) in enumerate(early) if j not in covered]
        self._late = tuple((text, check) for text, check, _ in late)
        domains = {n: d.domain for d in template.draws for n in d.names}
        kinds = {n: domain_kind(domain) for n, domain in domains.items()}
        whole = whole_names(domains)
        self._fractions = fractions = fraction_names(domains)
        numbers = {n for n, domain in domains.items() if drawcode._numeric(domain)}
        ints = {n for n, kind in kinds.items() if kind == 0}
        steps = []
        for name, formula in template.steps:
            kinds[name] = kind = static_kind(formula, kinds)
            steps.append((name, pairs.valued(formula, numbers, ints, kind, fractions)
                          or compile_valued(formula, kind, whole)))
            if kind is not None:  # a number of a known kind (0: an int): later steps read it
                numbers.add(name)
                if kind == 0:
                    ints.add(name)
        self._steps = tuple(steps)
        kind = static_kind(template.answer, kinds)
        self._answer = pairs.valued(template.answer, numbers, ints, kind, fractions) \
            or compile_valued(template.answer, kind, whole)
        numbers = {n for n, domain in domains.items() if drawcode._numeric(domain)}
        ints = {n for n, kind in kinds.items() if kind == 0 and n in domains}
        self._numbers, self._ints, self._early = numbers, ints, None
        # the conditions the draw could not test (they read a number an equation fixes), on
        # pairs of ints where they can be: every instance that is kept tests them
        formulas = {f.text: f for f in template.conditions}
        self._pending = tuple((text, pairs.check(formulas[text], numbers, ints, fractions)
                                     or check)
                              for text, check in pending)
        self._solvers = tuple((d, pairs.solver(d, numbers, ints, fractions) or d.solve)
                              for d in template.derived)
        self._kinds = tuple((name, kind, _fast_kind(kind)) for name, kind in template.kinds.items())
        self._numeric_defaults = tuple((k, template.defaults[k]) for k in self.names
                                       if is_number(template.defaults.get(k)))
        self.defaults_key = self.key({k: template.defaults.get(k) for k in self.names})
        self.solutions: list | None = None  # an enumerated space, once walked

    def _keyed_by_calls(self, r, rng):
        """As the keyed draw that ``generator.drawcode`` writes: ``values, (key, own
        numbers)``, or ``None, why``."""
        values, why = self.draw(r, rng)
        if values is None:
            return None, why
        return values, (self.key(values), self.same_numbers(values))

    def early(self) -> tuple:
        """The conditions over drawn numbers, on pairs of ints where they can be, for
        walking a whole space: (text, check, names read); written on first use."""
        if self._early is None:
            formulas = {f.text: f for f in self.template.conditions}
            self._early = tuple(
                (text, pairs.check(formulas[text], self._numbers, self._ints, self._fractions)
                 or check, read)
                for text, check, read in self.template.checks()[0])
        return self._early

    @staticmethod
    def _hashable(draws, keys) -> bool:
        by_name = {n: d for d in draws for n in d.names}
        return all(not isinstance(by_name[k].domain, list)
                   or all(not isinstance(v, (list, dict, set)) for v in by_name[k].domain)
                   for k in keys)

    def _narrow(self, i: int, values: dict) -> list:
        """The values of draw ``i``'s domain that keep its conditions given ``values``."""
        draw, here, keys = self._plans[i]
        name, trial, options = draw.names[0], dict(values), []
        for value in draw.domain:
            trial[name] = value
            if all(check(trial) for _, check in here):
                options.append(value)
        key = (i, *(values[k] for k in keys))
        try:
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = options
        except TypeError:  # a value that is a list: never kept
            pass
        return options

    @staticmethod
    def key(values: dict):
        """What tells two draws apart: equal values in every place are the same instance."""
        key = tuple(values.values())
        try:
            hash(key)
        except TypeError:  # a list among the values
            return tuple(sorted((k, str(v), type(v).__name__) for k, v in values.items()))
        return key

    def same_numbers(self, values: dict) -> bool:
        """Whether every number drawn is the template's own (only words or names differ)."""
        for name, default in self._numeric_defaults:
            value = values[name]
            if is_number(value) and value != default:
                return False
        return True

    def complete(self, values: dict) -> tuple[dict | None, str | None]:
        """As ``Template.complete`` for values this draw gave (their early conditions hold),
        in place: the evaluated instance, or why there is none."""
        env = values
        for d, solve in self._solvers:
            try:
                x = solve(env)
            except _FAILS:  # no one value, or a side that cannot be evaluated: say why
                try:
                    x = d.solve(env)
                except EvalError as err:
                    return None, str(err)
            member = _member(d.domain, x)
            if member is None:
                return None, f"{d.name} = {plain(x)} is not one of its values"
            env[d.name] = member
        for text, check in self._pending:
            if not check(env):
                return None, text
        try:
            for name, run in self._steps:
                env[name] = run(env)
            env["answer"] = self._answer(env)
        except EvalError as err:
            return None, str(err)
        for text, check in self._late:
            if not check(env):
                return None, text
        for name, kind, fast in self._kinds:
            value = env.get(name)
            if fast and type(value) is int and value > 0:
                continue
            if not is_number(value):
                continue
            why = kind.admits(Fraction(value))
            if why:
                return None, f"{'the answer' if name == 'answer' else name} {why}"
        return env, None


def several(domain, k: int, distinct: bool, r) -> list:
    """k distinct values of ``domain`` in the order drawn (each uniform over those left), or
    k consecutive ones, from the stream's ``random``."""
    n = len(domain)
    if not distinct:
        start = int(r() * (n - k + 1))
        return [domain[start + i] for i in range(k)]
    picked: list[int] = []
    for i in range(k):
        j = int(r() * (n - i))
        for p in sorted(picked):  # the j-th index not yet taken
            if j >= p:
                j += 1
        picked.append(j)
    return [domain[j] for j in picked]


def _fast_kind(kind) -> bool:
    """Whether every positive int keeps this kind (the common case, tested without Fraction)."""
    return kind.sign > 0 and kind.exact is None and not kind.rounded and kind.upper is None \
        and not kind.not_one


def specialised(template) -> Specialised:
    """The template's specialised code, written on first use and kept with the template."""
    cached = template.__dict__.get("_specialised")
    # kept with the conditions it was written from: an edited copy writes its own
    if cached is None or cached[0] is not template.conditions:
        fixed = {d.name for d in template.derived}
        draws = [d for d in template.draws if not set(d.names) & fixed]
        cached = (template.conditions, Specialised(template, draws))
        object.__setattr__(template, "_specialised", cached)
    return cached[1]


def sampled(template, n: int, seed: int, tries: int) -> tuple[list[dict], str]:
    """Up to ``n`` distinct instances drawn from one stream, each within ``tries`` draws."""
    spec = specialised(template)
    rng = random.Random(f"{seed}/{template.id}")
    r, draw, complete = rng.random, spec.keyed, spec.complete
    out, seen, failures = [], {spec.defaults_key}, Counter()
    for _ in range(n):
        for _ in range(tries):
            values, got = draw(r, rng)
            if values is None:
                failures[got] += 1
                continue
            key, own = got
            if key in seen:
                failures["same values as an earlier instance"] += 1
                continue
            if own:
                failures["the template's own numbers"] += 1
                continue
            env, why = complete(values)
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


def shuffled(items: list, rng: random.Random):
    """The items in a uniformly random order, drawn lazily (Fisher-Yates, front to back):
    a few instances of a large space cost a few draws, not a shuffle of all of it."""
    items = list(items)
    for i in range(len(items)):
        j = i + rng.randrange(len(items) - i)
        items[i], items[j] = items[j], items[i]
        yield items[i]
