"""Independent checks of a variant record, used by several test modules.

The worked solution is checked with Python's own ``ast`` over exact Fractions, not with
mathgen's parser, so a bug there cannot hide itself.
"""

from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.FloorDiv: lambda a, b: Fraction(a // b),
        ast.Mod: operator.mod, ast.Pow: operator.pow}


def exact(expr: str) -> Fraction:
    """Exact value of a calculator expression (digits, + - * / // % ** and parentheses)."""
    expr = re.sub(r"(?<![\d.])0+(\d)", r"\1", expr)  # '05' is five, not a syntax error

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return Fraction(str(node.value))
        if isinstance(node, ast.BinOp):
            return Fraction(_OPS[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):  # '<<+20=20>>'
            return walk(node.operand)
        if isinstance(node, ast.Call) and node.func.id in ("gcd", "lcm", "ceil", "floor"):
            import math

            args = [walk(a) for a in node.args]
            fn = {"gcd": math.gcd, "lcm": math.lcm, "ceil": math.ceil, "floor": math.floor}
            return Fraction(fn[node.func.id](*[int(a) if a.denominator == 1 else a for a in args]))
        raise ValueError(f"unexpected {ast.dump(node)}")

    return walk(ast.parse(expr, mode="eval"))


def annotation_errors(answer: str) -> list[str]:
    """Every <<expr=result>> that is not exactly true."""
    errors = []
    for expr, result in re.findall(r"<<([^<>]*?)=([^<>=]*)>>", answer):
        if exact(expr) != Fraction(result.replace(",", "")):
            errors.append(f"<<{expr}={result}>>")
    return errors


def final_line(answer: str) -> str:
    return re.findall(r"^####\s*(.*?)\s*$", answer, re.MULTILINE)[-1]


def check_variant(record: dict) -> list[str]:
    """What is wrong with a variant record (empty when it is right)."""
    problems = [f"false annotation {a}" for a in annotation_errors(record["answer"])]
    if final_line(record["answer"]) != record["final_answer"]:
        problems.append(f"#### {final_line(record['answer'])} != {record['final_answer']}")
    original, new = Fraction(record["original_final_answer"]), Fraction(record["final_answer"])
    if original >= 0 and original.denominator == 1 and (new < 0 or new.denominator != 1):
        problems.append(f"answer {new} is not a whole number >= 0 like {original}")
    if not record["substitutions"]:
        problems.append("no number changed")
    return problems


def new_values(variant, **unchanged) -> dict:
    """The variant's values by their original text; ``unchanged`` gives the rest
    (``new_values(v, **{"30": 30})["30"]``)."""
    return {k: Fraction(v) for k, v in unchanged.items()} | {
        s["old"]: Fraction(s["new"]) for s in variant.to_json()["substitutions"]}


# --- the prose of a worked solution -------------------------------------------------------
# Every number a reader sees in a variant's solution, read against the original's: the texts
# are the same between their numbers, so the k-th number of one is the k-th of the other.

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100}
_TENS_WORDS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_PROSE_NUMBER = re.compile(r"(?<![\d.,])(?:(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)"
                           rf"|\b(?:(?:{_TENS_WORDS})-(?:one|two|three|four|five|six|seven|eight|nine)"
                           r"|" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_ANNOTATED = re.compile(r"<<([^<>]*?)=([^<>=]*)>>")
_WORD_OPS = {" times ": " * ", " plus ": " + ", " minus ": " - ", " divided by ": " / ",
             " equals ": " = ", " x ": " * ", "×": "*"}


def _value(text: str) -> Fraction:
    if "-" in text:  # 'twenty-two'
        return sum((_value(part) for part in text.split("-")), Fraction(0))
    word = _NUMBER_WORDS.get(text.lower())
    return Fraction(word) if word is not None else Fraction(text.replace(",", ""))


def _shown(solution: str) -> str:
    """What a reader sees: no annotations, no final line."""
    return _ANNOTATED.sub("", re.sub(r"\n####.*\Z", "", solution.rstrip(), flags=re.S))


def _plain_word(m) -> str:
    keep = m.group().lower() in _NUMBER_WORDS or m.group() in (
        "times", "plus", "minus", "divided", "by", "equals", "x")
    return m.group() if keep else ""


def _true_calculations(text: str) -> set[int]:
    """Indexes (in _PROSE_NUMBER order) of the numbers inside a true written calculation
    ('9% per hour * 5 hours = 45%' reads as 9% * 5 = 45%), and of every number on a line
    that works with an unknown ('2x + 30 = 110', '6s = 120', '75 = (3/2)x'): algebra is checked where the
    equations are solved, not here."""
    vouched = set()
    numbers = list(_PROSE_NUMBER.finditer(text))
    for line in re.finditer(r"[^\n]+", text):
        if re.search(r"[\d)]\s*\*?\s*[A-Za-z]\b|\b[A-Za-z]\s*[-+*/=]|[-+*/=]\s*[B-HJ-Zb-z]\b",
                     line.group()) \
                and "=" in line.group():
            vouched.update(k for k, m in enumerate(numbers)
                           if line.start() <= m.start() < line.end())
    # words between a number and an operator are units: they go (number words stay), as
    # do units per thing ('$0.05/package', '10%/inch') and the space in '20 %'
    text = re.sub(r"(?<=[\d%])/[A-Za-z]+\b", "", text)
    text = re.sub(r"(?<=\d) %", "%", text)
    text = re.sub(r"(?<=[\d%])((?:\s+[A-Za-z'/]+){1,4})(?=\s*(?:[-+*/×=–]\s|\)))",
                  lambda m: re.sub(r"[A-Za-z'/]+", _plain_word, m.group(1)), text)
    text = text.replace("–", "-")
    spans = [m.start() for m in _PROSE_NUMBER.finditer(text)]
    for run in re.finditer(r"\b\d+(?: (?:times|plus|minus|divided by|equals) \d[\d.,/]*)+"
                           r"|[\d$(.][\d$.,%+\-*/x×=() \t]*", text):
        written = run.group().rstrip(" .=+-*/x(")
        expr = " " + written.replace("$", "") + " "
        for word, op in _WORD_OPS.items():
            expr = expr.replace(word, op)
        expr = re.sub(r"(\d),(?=\d{3})", r"\1", expr)
        expr = re.sub(r"(\d|\))\s*\(", r"\1*(", expr)
        if "=" not in expr:
            continue
        true = False
        # '12/20 x 100% = 60%' means a share, '28% + 56% = 84%' a sum of points: either holds
        for percent in (r"(\1/100)", r"\1"):
            try:
                values = [exact(re.sub(r"(\d+(?:\.\d+)?)%", percent, side).strip())
                          for side in expr.split("=")]
            except (SyntaxError, ValueError, KeyError, ZeroDivisionError, AttributeError):
                continue
            true |= len(values) > 1 and all(v == values[0] for v in values)
        if true:
            end = run.start() + len(written)
            vouched.update(k for k, start in enumerate(spans) if run.start() <= start < end)
    return vouched


def prose_errors(original: str, record: dict) -> list[str] | None:
    """Numbers of a variant's solution that do not stand for what they stood for in the
    original (None when the two texts no longer match between their numbers):
    - a number that changed must be the new value of a quantity that had its old value
      (a number of the question, an annotation's operand or result, the answer), unless a
      true calculation written around it vouches for it;
    - a number of the question that changed everywhere may not be left as it was, nor may
      a result that changed be left standing as a word ('the four quarters')."""
    new = record["answer"]
    moves = {(_value(s["old"]), _value(s["new"])) for s in record["substitutions"]}
    moves.add((Fraction(record["original_final_answer"]), Fraction(record["final_answer"])))
    old_steps, new_steps = _ANNOTATED.findall(original), _ANNOTATED.findall(new)
    if len(old_steps) != len(new_steps):
        return None
    changed_results = set()
    for (e0, r0), (e1, r1) in zip(old_steps, new_steps):
        moves.add((_value(r0), _value(r1)))
        if _value(r0) != _value(r1):
            changed_results.add(_value(r0))
        a = [Fraction(x) for x in re.findall(r"\d*\.?\d+", e0)]
        b = [Fraction(x) for x in re.findall(r"\d*\.?\d+", e1)]
        if len(a) == len(b):
            moves.update(zip(a, b))
    shown0, shown1 = _shown(original), _shown(new)
    if _PROSE_NUMBER.split(shown0) != _PROSE_NUMBER.split(shown1):
        return None
    kept = {o for o, n in moves if o == n}
    q0, q1 = record["original_question"], record["question"]
    if _PROSE_NUMBER.split(q0) == _PROSE_NUMBER.split(q1):  # '20% off' stays, '$20' changes
        for m0, m1 in zip(_PROSE_NUMBER.finditer(q0), _PROSE_NUMBER.finditer(q1)):
            o, n = _value(m0.group()), _value(m1.group())
            moves.add((o, n))
            if o == n:
                kept.add(o)
    vouched = _true_calculations(shown1)
    pairs = list(zip(_PROSE_NUMBER.finditer(shown0), _PROSE_NUMBER.finditer(shown1)))
    # a number inside a true calculation is a quantity: written again later, it is that
    # quantity's value
    for k, (m0, m1) in enumerate(pairs):
        if k in vouched:
            moves.add((_value(m0.group()), _value(m1.group())))
            if _value(m0.group()) == _value(m1.group()):
                kept.add(_value(m0.group()))
    questioned = {_value(s["old"]) for s in record["substitutions"]} - kept
    errors = []
    for k, (m0, m1) in enumerate(pairs):
        o, n = _value(m0.group()), _value(m1.group())
        if k in vouched:
            continue
        if o != n and (o, n) not in moves:
            errors.append(f"{m0.group()} became {m1.group()}, which no quantity of value "
                          f"{m0.group()} became")
        elif o == n and (o in questioned or m0.group().isalpha() and o in changed_results - kept):
            errors.append(f"{m0.group()} left as it was, though what it counts changed")
    return errors
