"""The draw of a template written as one Python function over local variables.

``generator.specialised`` plans the draws (which conditions can be tested once each number
is drawn, which numbers are narrowed); this writes the plan out with every condition's
expression inline, its numbers as locals, so that a draw makes no dict until it returns
and calls nothing but the random generator::

    def _draw(r, rng):
        v_k = _d3[int(r() * 8)]
        v_y = _d4[int(r() * 98)]
        try:
            _ok = (v_k * v_y) < (v_x * 12) and _0c0((v_k * v_y), 12)
        except _FAILS:          # a condition that cannot be evaluated does not hold
            _ok = False
        if not _ok:
            _o = _memo.get((4, v_k, v_x))
            if _o is None:
                _o = _n4(v_k, v_x)   # [y for y in _d4 if the conditions hold]
                ...
        return {'n': v_n, ..., 'y': v_y}, None

It draws exactly what the dict-based draw of ``generator.specialised`` draws, from the
same random numbers (``tests/test_specialised.py`` compares the two); a template with a
condition that is not compiled keeps that one.
"""

from __future__ import annotations

import re

from . import pairs
from .compiled import _FAILS, domain_kind, fraction_names, source, whole_names
from .narrowing import _MEMO_LIMIT


def write(template, draws, plans, memo: dict, hashable) -> tuple | None:
    """The draw function and the keyed draw, or None when a condition is not compiled.
    ``plans``: for each draw, (draw, [(index, text, check)], keys, narrowed). The keyed
    draw (None where a value is a list) gives ``values, (key, own numbers)`` where the
    draw gives ``values, None``: what ``Specialised.key`` and ``same_numbers`` would say
    of the values, without a call or a loop."""
    formulas = {f.text: f for f in template.conditions}
    whole = whole_names({n: d.domain for d in template.draws for n in d.names})
    from .specialised import held, several

    scope: dict = {"_memo": memo, "_FAILS": _FAILS, "_LIMIT": _MEMO_LIMIT, "_several": several}
    domains = {n: d.domain for d in template.draws for n in d.names}
    numbers = {n for n, d in domains.items() if _numeric(d)}
    ints = {n for n, d in domains.items() if domain_kind(d) == 0}
    fractions = fraction_names(domains)
    scope.update(pairs.HELPERS)
    exprs: dict[int, str] = {}
    stmts: dict[int, list[str]] = {}
    for _, here, _, _ in plans:
        for j, text, _ in here:
            paired = pairs.condition(formulas[text], numbers, ints, f"{j}p", fractions)
            if paired is not None:  # on pairs of ints
                stmts[j], exprs[j] = paired[0], f"({paired[1]})"
                continue
            written = source(formulas[text], whole, f"{j}")
            if written is None:
                return None
            stmts[j], exprs[j] = [], f"({written[0]})"
            scope.update(written[1])
    lines = ["def _draw(r, rng):"]
    for i, (draw, here, keys, narrow) in enumerate(plans):
        domain = held(draw.domain)
        scope[f"_d{i}"], scope[f"_dr{i}"] = domain, draw
        name = f"v_{draw.names[0]}"
        if draw.mode == "one":
            lines.append(f"    {name} = _d{i}[int(r() * {len(draw.domain)})]")
        else:
            lines += _several_inline(i, draw)
        if narrow:
            test = " and ".join(exprs[j] for j, _, _ in here)
            args = ", ".join(f"v_{k}" for k in keys)
            scope[f"_t{i}"] = here[0][1]
            lines += _guarded(test, [line for j, _, _ in here for line in stmts[j]])
            lines += ["    if not _ok:"]
            if hashable(keys):
                key = ", ".join([str(i)] + [f"v_{k}" for k in keys]) + ","
                lines += [f"        _k = ({key})", "        _o = _memo.get(_k)",
                          "        if _o is None:", f"            _o = _n{i}({args})",
                          "            if len(_memo) < _LIMIT:", "                _memo[_k] = _o"]
            else:
                lines.append(f"        _o = _n{i}({args})")
            lines += ["        if not _o:", f"            return None, _t{i}",
                      f"        {name} = _o[int(r() * len(_o))]"]
            body = _multiples(i, name, here, keys, (exprs, stmts), draw.domain) or _narrowing(
                i, name, here, keys, formulas, (exprs, stmts), set(draw.names), hashable(keys))
            exec(compile("\n".join(body), f"<narrow {template.id}>", "exec"), scope)  # noqa: S102
            continue
        for j, text, _ in here:
            scope[f"_t{j}c"] = text
            lines += _guarded(exprs[j], stmts[j]) + ["    if not _ok:",
                                                     f"        return None, _t{j}c"]
    names = [n for d in draws for n in d.names]
    values = "{" + ", ".join(f"{n!r}: v_{n}" for n in names) + "}"
    if hashable(names):  # the draws, with what sampling asks of each at once
        keyed = _keyed(template, names, domains, scope)
        code = [line.replace("def _draw(", "def _keyed(", 1) for line in lines]
        code.append(f"    return {values}, (({''.join(f'v_{n}, ' for n in names)}), {keyed})")
        # the plain draw, from the keyed one: the code is written (and compiled) once
        code += ["def _draw(r, rng):", "    values, got = _keyed(r, rng)",
                 "    return (None, got) if values is None else (values, None)"]
    else:
        code = lines + [f"    return {values}, None"]
    # our own source, written from the template's parsed draws: no text of a file is run
    exec(compile("\n".join(code), f"<draw {template.id}>", "exec"), scope)  # noqa: S102
    return scope["_draw"], scope.get("_keyed")


def _keyed(template, names, domains, scope) -> str:
    """The expression that tells whether every number drawn is the template's own, as
    ``Specialised.same_numbers`` does (a number of a domain that holds numbers only is
    compared as it is)."""
    from .template import is_number

    tests = []
    for m, name in enumerate(names):
        default = template.defaults.get(name)
        if not is_number(default):
            continue
        scope[f"_dv{m}"], scope["_isnum"] = default, is_number
        tests.append(f"v_{name} == _dv{m}" if _numeric(domains[name])
                     else f"(not _isnum(v_{name}) or v_{name} == _dv{m})")
    return " and ".join(tests) or "True"


def _several_inline(i: int, draw) -> list[str]:
    """The lines that draw several values at once, as ``specialised.several`` draws them
    from the same random numbers: inline for consecutive values and for two distinct ones
    (a pair of names, the common case), a call otherwise."""
    n, k = len(draw.domain), len(draw.names)
    targets = [f"v_{name}" for name in draw.names]
    if draw.mode != "distinct":
        return [f"    _j = int(r() * {n - k + 1})"] + [
            f"    {t} = _d{i}[_j + {m}]" for m, t in enumerate(targets)]
    if k == 2:
        return [f"    _j0 = int(r() * {n})", f"    _j1 = int(r() * {n - 1})",
                "    if _j1 >= _j0:", "        _j1 += 1",
                f"    {targets[0]} = _d{i}[_j0]", f"    {targets[1]} = _d{i}[_j1]"]
    return [f"    {', '.join(targets)}, = _several(_d{i}, {k}, True, r)"]


def _numeric(domain) -> bool:
    from .template import is_number

    return len(domain) > 0 and all(
        is_number(domain[i])
        for i in (range(len(domain)) if isinstance(domain, list) else (0, len(domain) - 1)))


def _multiples(i, name, here, keys, written, domain) -> list[str] | None:
    """``_n<i>`` where its one condition is that the number is a multiple of an int the
    numbers before it give (``divides(x, m + n)``) and its domain a range of ints: the
    multiples in the range, as a range, without testing each value (the same values in
    the same order as ``_narrowing``'s loop); None for any other narrowing."""
    exprs, stmts = written
    if len(here) != 1 or not isinstance(domain, range) or domain.step != 1:
        return None
    j = here[0][0]
    match = re.fullmatch(rf"\((\w+) != 0 and \({name}\) % \(\1\) == 0\)", exprs[j])
    fixed, varying = _hoisted(stmts[j], name)
    if match is None or varying:
        return None
    step = match.group(1)
    return [f"def _n{i}({', '.join(f'v_{k}' for k in keys)}):", "    try:",
            *(f"        {line}" for line in fixed), f"        _q = abs({step})",
            "    except _FAILS:", "        return ()",
            "    if not _q:", "        return ()",
            f"    return range(-(-_d{i}.start // _q) * _q, _d{i}.stop, _q)"]


def _narrowing(i, name, here, keys, formulas, written, own, hashable) -> list[str]:
    """``_n<i>(keys...)``: the values of draw i's domain that keep its conditions, in the
    domain's order. The conditions are applied in levels, those over fewer other numbers
    first, each level but the last kept per value of its numbers: a condition over one
    other number narrows once per value of it, and the conditions over many filter what is
    left (the same values, in the same order, as one pass with every condition)."""
    levels: dict[tuple, list[int]] = {}
    for j, text, _ in here:
        levels.setdefault(tuple(sorted(formulas[text].names - own)), []).append(j)
    order = sorted(levels, key=len)
    exprs, stmts = written
    body = [f"def _n{i}({', '.join(f'v_{k}' for k in keys)}):", f"    _src = _d{i}"]
    seen: set[str] = set()
    for m, level in enumerate(order):
        seen |= set(level)
        test = " and ".join(exprs[j] for j in levels[level])
        # what does not read the number narrowed is worked out once, before the loop (if
        # it raises, no value keeps the conditions, as when it raised for each)
        fixed, varying = _hoisted([line for j in levels[level] for line in stmts[j]], name)
        loop = ["_out = []", "try:", *(f"    {line}" for line in fixed), "    _go = True",
                "except _FAILS:", "    _go = False",
                f"for {name} in (_src if _go else ()):", "    try:"]
        loop += [f"        {line}" for line in varying]
        loop += [f"        if {test}:",
                 f"            _out.append({name})", "    except _FAILS:", "        pass",
                 "_src = _out"]
        if m + 1 < len(order) and hashable:  # kept; the last level is kept by the draw
            # a level's key starts with a word: never the same as a whole draw's key
            key = ", ".join([repr(f"level {i}.{m}")] + [f"v_{k}" for k in sorted(seen)])
            body += [f"    _k = ({key},)", "    _out = _memo.get(_k)", "    if _out is None:"]
            body += [f"        {line}" for line in loop[:-1]]
            body += ["        if len(_memo) < _LIMIT:", "            _memo[_k] = _out",
                     "    _src = _out"]
        else:
            body += [f"    {line}" for line in loop]
    return body + ["    return _src"]


def _hoisted(lines: list[str], name: str) -> tuple[list[str], list[str]]:
    """The statements that do not depend on ``name`` (in order), and those that do."""
    depends, fixed, varying = {name}, [], []
    for line in lines:
        targets, _, value = line.partition(" = ")
        if set(re.findall(r"[A-Za-z_]\w*", value)) & depends:
            varying.append(line)
            depends |= {t.strip() for t in targets.split(",")}
        else:
            fixed.append(line)
    return fixed, varying


def _guarded(test: str, statements: list[str]) -> list[str]:
    return ["    try:", *(f"        {line}" for line in statements), f"        _ok = {test}",
            "    except _FAILS:", "        _ok = False"]
