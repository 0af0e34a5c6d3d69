"""A GSM-Symbolic text written once as a function with slots, the same text to the byte.

Rendering a text piece by piece decides at every placeholder, by regular expressions over
all that came before, whether to capitalise the value ('Oats are ...') and which article
it needs ('a apartment' -> 'an apartment'); ``render.tidy`` then scans the whole text for
'a 8-hour' and '$24.5'. Almost all of that depends on the literal text just before the
placeholder, which never changes, so it is decided here once per template::

    "{n, Benny} saw a {x,10}-foot shark"  ->
        s0 = show(e['n']); s0 = capitalised(s0)
        s1 = show(e['x']); l1 = ' saw an ' if reads_with_a_vowel(s1) else ' saw a '
        return ''.join(('', s0, l1, s1, '-foot shark'))

Where a decision reads more than the literal before it (a placeholder right after another
whose words are not known in advance, a choice between words), that placeholder is placed
as the piecewise renderer places it (``place``, on the text so far); where tidy could
change more than an article before a number (a currency sign, a digit after an article in
the literal text), tidy runs over the whole text. ``tests/test_specialised.py`` renders
every GSM-Symbolic template both ways.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

from mathgen.formulas import Dec, Worded
from mathgen.numbers import starts_with_vowel_sound

from . import pairs
from .compiled import (_FAILS, compile_kinded, compile_value, domain_kind, shown, static_kind,
                       whole_names)
from .render import _CENTS, _digit_articles
from .template import DecimalRange, is_number, show

_STARTS = re.compile(r"[.!?]\s+$|\n\s*$")
_ARTICLE = re.compile(r"\b([Aa]n?) $")  # what the piecewise renderer mends before a word
_DIGIT_ARTICLE = re.compile(r"\b([Aa]n?) \$?$")  # what tidy mends before a number
_DIGITS = re.compile(r"\$?\d[\d,]*(?:\.\d+)?")
_RISKY = re.compile(r"[Aa]n? \$?\d")  # literal text whose articles tidy may change
_MONEY = re.compile(r"[$\u20ac\u00a3]")  # where tidy may write cents
_ENDS_IN_ARTICLE = re.compile(r"\b[Aa]n? \$?$")  # a literal whose end may be mended
_ARTICLE_TAIL = re.compile(r"[Aa]?n? \$?|\$")  # all of an article, or its end
_MAYBE_ARTICLE = re.compile(r"[Aa]n? [$\d]")  # found wherever tidy's article rule is


def _tidy(text: str) -> str:
    """``render.tidy``, skipping each of its passes where it cannot match (a text without a
    currency sign has no cents to write; one without 'a 8' or 'a $' has no article to mend):
    the same text, without scanning most texts twice."""
    if "$" in text or "\u20ac" in text or "\u00a3" in text:
        text = _CENTS.sub(r"\g<1>0", text)
    return _digit_articles(text) if _MAYBE_ARTICLE.search(text) else text


def place(out: list, text: str, default: str | None) -> None:
    """Append a placeholder's text to the pieces so far, capitalised where it starts a
    sentence or its default is capitalised, and the article before it mended."""
    before = "".join(out)
    # both rules read the end of the text only: the whitespace it ends in and the few
    # characters before that (an article and the character that bounds it)
    body = before.rstrip()
    tail = before[len(body):]
    starts = not body or tail and (body[-1] in ".!?" or "\n" in tail)
    if text[:1].islower() and ((default and default[:1].isupper()) or starts):
        text = text[0].upper() + text[1:]  # 'Oats are ...' stays capitalised
    article = _ARTICLE.search(before[-4:])
    if article and text[:1].isalpha():  # 'a apartment' -> 'an apartment'
        right = "an" if text[0].lower() in "aeiou" else "a"
        if article.group(1).lower() != right:
            right = right.capitalize() if article.group(1)[0].isupper() else right
            out[-1] = out[-1][:len(out[-1]) - len(article.group(0))] + right + " " \
                if out[-1].endswith(article.group(0)) else out[-1]
    out.append(text)


def _show_words(v):
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is Worded:
        return v.text
    # as show writes them: a decimal plainly, a Fraction as p/q
    return pairs.text(v.numerator, v.denominator, 2 if t is Dec else 1) \
        if t is Dec or t is Fraction else show(v, True)


def _show_numbers(v):
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    # as show writes them: a decimal plainly; a Fraction, and a word's number, as p/q
    return pairs.text(v.numerator, v.denominator, 2 if t is Dec else 1) \
        if t is Dec or t is Fraction or t is Worded else show(v, False)


_NUMBER_TEXT = re.compile(r"-?\d[\d.,/]*")


def _numeric(domain) -> bool:
    return isinstance(domain, (range, DecimalRange)) or isinstance(domain, list) and all(
        is_number(v) for v in domain)


def _texts(formula, domains: dict, words: bool):
    """The texts a placeholder can show ("numbers" for numbers only), or None when they
    are not known in advance."""
    tree = formula.tree
    if isinstance(tree, ast.Name):
        domain = domains.get(tree.id)
        if domain is None:
            return None
        if isinstance(domain, (range, DecimalRange)):
            return "numbers"
        texts = {show(v, words) for v in domain}
        return "numbers" if all(_NUMBER_TEXT.fullmatch(t) for t in texts) else texts
    # arithmetic on numbers gives a number; min/max, a choice, a comparison or an index
    # could give a word or True back
    simple = not any(isinstance(node, (ast.Subscript, ast.List, ast.Tuple, ast.IfExp,
                                       ast.Compare, ast.BoolOp))
                     or isinstance(node, ast.Constant) and isinstance(node.value, str)
                     or isinstance(node, ast.Call) and ast.unparse(node.func) in ("min", "max")
                     for node in ast.walk(tree))
    numeric = all(_numeric(domains.get(n)) for n in formula.names)
    return "numbers" if simple and numeric else None


def _contexts(j: int, before: str, prev, earlier: str = "") -> list[str] | None:
    """What can stand before placeholder ``j``, as far back as its decisions look: the
    literal before it, or each text of the placeholder before with it (and the literal
    ``earlier`` before that one); None when that is not known."""
    if j == 0 or _determined(before):
        return [before]
    if prev is None:
        return None
    # a number ends in a digit
    out = [t + before for t in (["00000"] if prev == "numbers" else prev)]
    if all(_determined(c) for c in out):
        return out
    # a short word between literals ('{cur}{price}'): the literal before the word is
    # written as it stands unless it ends in an article (which may be mended)
    if not _ENDS_IN_ARTICLE.search(earlier) and all(_determined(earlier + c) for c in out):
        return [earlier + c for c in out]
    return None


def _determined(context: str) -> bool:
    """Whether the decisions before a placeholder read the same whatever stands before
    ``context``: they look at the whitespace it ends in and the character before that
    (a sentence's end), or at an article right before it ('a ', 'an $') and the character
    that bounds the article; only a context that is all blank, or all (the tail of) an
    article, lets them read further back."""
    return bool(context.strip()) and not _ARTICLE_TAIL.fullmatch(context)


def _one(results: set):
    """The decision all contexts agree on, or a marker that they do not."""
    return next(iter(results)) if len(results) == 1 else _MIXED


_MIXED = object()


def _article(regex, contexts: list[str], before: str):
    """(article, where it starts in ``before``) that ``regex`` finds in every context, None
    for none, _MIXED when the contexts disagree or the article is not in ``before``."""
    found = set()
    for c in contexts:
        m = regex.search(c)
        found.add(None if m is None else (m.group(1), m.start(1) - (len(c) - len(before))))
    result = _one(found)
    return _MIXED if result is not None and result is not _MIXED and result[1] < 0 else result


def compile_text(pieces: list, domains: dict, words: bool, strip: bool):
    """``env -> str`` equal to rendering ``pieces`` then ``tidy``; None where the text
    needs the piecewise renderer (see the module's docstring)."""
    if len(pieces) % 2 == 0 or not all(isinstance(p, str) for p in pieces[::2]):
        return None
    literals, slots = pieces[::2], pieces[1::2]
    scope = {"_sw": _show_words if words else _show_numbers, "_vowel": starts_with_vowel_sound,
             "_digits": _DIGITS.match, "_shown": shown, "_place": place, "_ptext": pairs.text}
    lines, parts = ["def _render(e):"], []
    kinds = {name: domain_kind(domain) for name, domain in domains.items()}
    whole = whole_names(domains)
    numeric = {name for name, domain in domains.items() if _numeric(domain)}
    ints = {name for name, kind in kinds.items() if kind == 0}
    read: set = set()  # names already held in locals
    scope.update(pairs.HELPERS)
    whole_tidy = any(_RISKY.search(lit) for lit in literals)
    cents = any(_MONEY.search(lit) for lit in literals)
    prev, listed = None, False
    made: dict[str, str] = {}  # formula text -> the local holding its text, once computed
    words_only = {name for name, domain in domains.items() if isinstance(domain, list)
                  and domain and all(type(v) is str for v in domain)}
    for j, (formula, default) in enumerate(slots):
        before, after = literals[j], literals[j + 1]
        texts = _texts(formula, domains, words)
        numbers = texts == "numbers"
        if texts is not None and not numbers:
            if any(re.search(r"\d", t) for t in texts):
                whole_tidy = True  # a word that tidy may read as a number
            cents = cents or any(_MONEY.search(t) for t in texts)
        contexts = _contexts(j, before, prev, literals[j - 1] if j else "")
        prev = texts
        if formula.text in made:  # the same formula shown before: the same text
            lines.append(f"    s{j} = {made[formula.text]}")
        elif isinstance(formula.tree, ast.Name) and formula.tree.id in words_only:
            # shown as it is (anything else would stop the join: the guard renders it)
            lines.append(f"    s{j} = e[{formula.tree.id!r}]")
        elif isinstance(formula.tree, ast.Name):
            lines.append(f"    s{j} = _sw(e[{formula.tree.id!r}])")
        else:
            kind = static_kind(formula, kinds) if numbers else None
            paired = pairs.value(formula, numeric, ints, f"{j}p") if kind is not None else None
            fast = compile_value(formula, whole) if kind is not None else None
            if paired is not None:  # on pairs of ints, written as its kind is written
                for name in sorted(formula.names - read):
                    lines.append(f"    v_{name} = e[{name!r}]")
                read |= formula.names
                lines += [f"    {line}" for line in paired[0]]
                # n / 1 is written as n is, whatever its kind
                lines.append(f"    s{j} = str({paired[1]})" if paired[2] == "1"
                             else f"    s{j} = _ptext({paired[1]}, {paired[2]}, {kind})")
            elif fast is not None:  # on ints, given its kind when written
                scope[f"_f{j}"] = fast
                lines.append(f"    s{j} = _shown(_f{j}(e), {kind})")
            else:
                scope[f"_f{j}"] = compile_kinded(formula)
                lines.append(f"    s{j} = _sw(_f{j}(e))")
        if formula.text not in made:  # kept apart: s{j} may be capitalised below
            lines.append(f"    u{j} = s{j}")
            made[formula.text] = f"u{j}"
        if numbers:
            article = _MIXED if contexts is None else _article(_DIGIT_ARTICLE, contexts, before)
            if article is _MIXED or article and re.fullmatch(r"[\d,.]*", after) \
                    and j + 1 < len(slots):
                whole_tidy = True  # the article, or the number, runs into another slot
            elif article:
                head, tail = before[:article[1]], before[article[1] + len(article[0]):]
                scope[f"_la{j}"] = head + ("A" if article[0][0].isupper() else "a") + tail
                scope[f"_lan{j}"] = head + ("An" if article[0][0].isupper() else "an") + tail
                lines.append(f"    _m = _digits(s{j} + {after!r})")
                lines.append(f"    l{j} = (_lan{j} if _vowel(_m.group()) else _la{j}) "
                             f"if _m else {before!r}")
                parts += [f"l{j}", f"s{j}"]
                continue
            parts += [repr(before), f"s{j}"]
            continue
        upper = bool(default and default[:1].isupper())
        dynamic = texts is None or contexts is None \
            or any(not t.strip() or t != t.strip() for t in texts)
        if not dynamic:
            lower = any(t[:1].islower() for t in texts)
            starts = _one({(j == 0 and not c.strip()) or bool(_STARTS.search(c))
                           for c in contexts})
            article = _article(_ARTICLE, contexts, before)
            alpha = any(t[:1].isalpha() for t in texts)
            dynamic = lower and starts is _MIXED and not upper or alpha and article is _MIXED
        if dynamic:
            # decided as the piecewise renderer decides, on the text so far
            whole_tidy = True
            lines.append(f"    _o {'+' if listed else ''}= [{', '.join(parts + [repr(before)])}]")
            lines.append(f"    _place(_o, s{j}, {default!r})")
            parts, listed = [], True
            continue
        if lower and (starts is True or upper):
            lines.append(f"    if s{j}[:1].islower():")
            lines.append(f"        s{j} = s{j}[0].upper() + s{j}[1:]")
        if any(t[-1:] in "aAnN" for t in texts) and re.match(r" \$?\d", after):
            whole_tidy = True  # a word that may be an article, a number after it
        if alpha and article:
            head = before[:article[1]]
            scope[f"_la{j}"] = head + ("A" if article[0][0].isupper() else "a") + " "
            scope[f"_lan{j}"] = head + ("An" if article[0][0].isupper() else "an") + " "
            lines.append(f"    l{j} = (_lan{j} if s{j}[0].lower() in 'aeiou' else _la{j}) "
                         f"if s{j}[:1].isalpha() else {before!r}")
            parts += [f"l{j}", f"s{j}"]
            continue
        parts += [repr(before), f"s{j}"]
    parts.append(repr(literals[-1]))
    strip_ = ".rstrip()" if strip else ""
    if listed:
        lines.append(f"    _o += [{', '.join(parts)}]")
        lines.append(f"    return ''.join(_o){strip_}")
    else:
        lines.append(f"    return ''.join(({', '.join(parts)},)){strip_}")
    # our own source, written from the template's parsed pieces: no text of a file is run
    exec(compile("\n".join(lines), "<text>", "exec"), scope)  # noqa: S102
    fast = scope["_render"]
    if whole_tidy:
        return lambda env: _tidy(fast(env))
    # every article before a number is mended above; cents after money are all that is left
    # (writing '$24.50' for '$24.5' changes no article: 'a $24.5' reads as 'a $24')
    return (lambda env: _CENTS.sub(r"\g<1>0", fast(env))) if cents else fast


def guarded(fast, slow):
    """``fast``, falling back on ``slow`` (which raises the formula's own error) when a
    value cannot be shown."""
    def render(env):
        try:
            return fast(env)
        except _FAILS:
            return slow(env)
    return render
