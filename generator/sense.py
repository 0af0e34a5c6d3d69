"""Bounds a careful reader expects from the words around a number.

A variant keeps to the world its story is set in:

- a score on a test, quiz or exam stays within 0..100, or within the test's own points
  ('graded out of 50', 'a 40-point quiz'); so does an average of such scores, and the answer
  when the question asks for a score;
- a person's age, height and weight stay within the stage of life of the original (a
  9-year-old stays a child, the age at which someone marries stays an adult's);
- a feat stays within the world's: a tree, a building, a mountain no taller than any there is,
  a player's points a game no more than anyone has averaged;
- between two numbers (``sense_relations``): 'only' so many stays below what it is set
  against, a square's sides stay equal, and a larger size costs more than a smaller.

A bound that the original itself breaks is widened to the original's value ('a 1000-foot
tree' may not grow, but stays legal), or, where it relates two numbers, dropped
(``constraints.covered`` keeps only the bounds the original holds).
"""

from __future__ import annotations

import re
from fractions import Fraction

from mathgen.expressions import const, sym
from mathgen.numbers import parse_answer

_SENTENCE = re.compile(r"[.?!;](?:\s|$)")

# -- scores ---------------------------------------------------------------------------------
_TESTS = re.compile(r"\b(?:tests?|quiz(?:zes)?|exams?|midterms?|finals)\b", re.IGNORECASE)
_SCORE_BEFORE = re.compile(r"\b(?:scored?|scores|scoring|got|gets?|getting|received?|receives|"
                           r"earned|earns?|makes?|made|needs?|grade of|score of|mark of|these:|"
                           r"received:|scores?:|grades?:|"
                           r"average of|averages?|averaged|averaging|wants?|rose\s+to|"
                           r"fell\s+to)\s+(?:an?\s+)?$|\ban\s+$|\ba\s+$"
                           r"|\b(?:score|grade|average)\b[^.,;\d]{0,40}\b(?:is|was|were|of|be)"
                           r"\s+(?:an?\s+)?$", re.IGNORECASE)
# what may follow a score: not a count of things ('got 8 questions right')
_SCORE_AFTER = re.compile(r"\s*(?:$|[.,;:?!)]|%|(?:points?|percent|on|in|and|or|out|for|"
                          r"average|to|but|while|at|the|his|her|their|then|so|if|over|this|"
                          r"last)\b)",
                          re.IGNORECASE)
# 'an 80, a 75 and a 90': the next of a list of scores
_LISTED = re.compile(r"(?:,\s*(?:and\s+)?|\s+and\s+)(?:an?\s+)?", re.IGNORECASE)
_ON_A_TEST = re.compile(r"\s+(?:points?\s+)?(?:on|in)\s+(?:[A-Za-z']+\s+){0,3}?(?:tests?|"
                        r"quiz(?:zes)?|exams?|midterms?|finals?)\b", re.IGNORECASE)
_SCALE_AFTER = re.compile(r"[\s-]+points?[\s-]+(?:tests?|quiz(?:zes)?|exams?)\b|\s+(?:total\s+)?"
                          r"points?\s+(?:possible|in\s+total|total)\b", re.IGNORECASE)
_SCALE_BEFORE = re.compile(r"\b(?:(?:tests?|quiz(?:zes)?|exams?)\s+(?:has|had|is\s+worth|was\s+"
                           r"worth|worth|of|with)|out\s+of|total\s+of|maximum\s+of)\s+$",
                           re.IGNORECASE)
_ASKS_SCORE = re.compile(r"\b(?:what|which)\s+(?:[A-Za-z']+\s+){0,2}(?:score|grade|mark)s?\b|"
                         r"\bwhat\b[^?]*\b(?:need|have|has|must)\s+to\s+(?:get|score|make|"
                         r"earn|average)\b|\bwhat\b[^?]*\b(?:get|got|score|scored|make|made)\s+"
                         r"on\b|\baverage\s+(?:score|grade|mark)\b|\bwhat\b[^?]*\baverage\b",
                         re.IGNORECASE)
_NOT_ONE_SCORE = re.compile(r"\bhow\s+many\b|\b(?:total|combined|sum|together|altogether|"
                            r"difference|more|fewer|higher|lower|less)\b", re.IGNORECASE)
_AVERAGE_LINE = re.compile(r"\baverag", re.IGNORECASE)
_SCORE = Fraction(100)

# -- people -----------------------------------------------------------------------------------
_AGE_AFTER = re.compile(r"[\s-]*years?[\s-]*old\b|\s+years?\s+of\s+age\b", re.IGNORECASE)
_AGE_BEFORE = re.compile(r"\b(?:aged|age\s+of|at\s+age)\s+$", re.IGNORECASE)
_AGE_STORY = re.compile(r"\bhow\s+old\b|\byears?[\s-]+old\b|\byears?\s+(?:older|younger)\b|"
                        r"\b(?:older|younger)\s+than\b|\bages?\b|\bas\s+old\s+as\b", re.IGNORECASE)
# 'Chris is 4,' 'when he was 19.' 'will turn 27 in': an age said of someone in a story of ages
_IS_BEFORE = re.compile(r"\b(?:is|was|turns?|turned|be|are|were|age\s+is|which\s+is)\s+$",
                        re.IGNORECASE)
_IS_AFTER = re.compile(r"\s*(?:$|[.,;:?!)]|(?:and|now|today|but|while|when|then|so|if|how|what|"
                       r"this|next|last|in\s+(?!all\b)|on\s+)\b|years?[\s-]+old\b)",
                       re.IGNORECASE)
_ASKS_AGE = re.compile(r"\bhow\s+old\b|\bwhat\s+age\b|\bat\s+what\s+age\b", re.IGNORECASE)
_NOT_ONE_AGE = re.compile(r"\b(?:combined|total|sum|together|difference|altogether|average)\b",
                          re.IGNORECASE)
# stages of life, in years: a number keeps to the stages its original falls in
_AGES = ((0, 3), (1, 12), (12, 19), (18, 100))
_UNITS = {"in": ("inches", "inch", "in"), "ft": ("feet", "foot", "ft"),
          "cm": ("cm", "centimeters", "centimeter", "centimetres", "centimetre"),
          "m": ("m", "meters", "meter", "metres", "metre"),
          "lb": ("pounds", "pound", "lbs", "lb"), "kg": ("kg", "kgs", "kilograms", "kilogram")}
_UNIT_OF = {word: unit for unit, words in _UNITS.items() for word in words}
_UNIT = r"(?:" + "|".join(sorted(_UNIT_OF, key=len, reverse=True)) + r")(?![A-Za-z])\.?"
_TALL_AFTER = re.compile(rf"[\s-]*({_UNIT})[\s-]*(?:tall|high)\b", re.IGNORECASE)
_WEIGHT_AFTER = re.compile(rf"[\s-]*({_UNIT})", re.IGNORECASE)
_WEIGHS = re.compile(r"\bweigh|\bweight\b|\bdiet\b", re.IGNORECASE)
# a person's height and weight by unit, in stages: infant, child, adult
_BODY = {"in": ((18, 40), (36, 68), (54, 96)), "ft": ((1.5, 3.5), (3, 5.7), (4.5, 8)),
         "cm": ((45, 100), (90, 175), (137, 245)), "m": ((0.45, 1), (0.9, 1.75), (1.37, 2.45)),
         "lb": ((4, 40), (30, 150), (90, 600)), "kg": ((2, 18), (14, 70), (40, 270))}
_PERSON = re.compile(r"\b(?:[Hh]e|[Ss]he|I|[Hh]is|[Hh]er|boys?|girls?|m[ae]n|wom[ae]n|person|"
                     r"child(?:ren)?|kids?|bab(?:y|ies)|sons?|daughters?|brothers?|sisters?|"
                     r"father|mother|dad|mom|friends?|players?|students?|wrestlers?|boxers?)\b"
                     r"|\b[A-Z][a-z]+\b")  # a name is capitalized: case matters
# capitalized words that name no one
_NO_NAME = {"The", "A", "An", "If", "In", "On", "At", "There", "This", "That", "These", "Those",
            "Each", "Every", "After", "Before", "When", "It", "They", "We", "What", "How",
            "Which", "Who", "For", "To", "From", "By", "With", "One", "Two", "Three", "Some",
            "All", "Her", "His", "Its", "Their", "Our", "My", "Your", "Then", "So", "But", "And",
            "Last", "Next", "During", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
            "Saturday", "Sunday", "January", "February", "March", "April", "May", "June",
            "July", "August", "September", "October", "November", "December"}
# 'loses 5 pounds': an amount lost or gained, not a weight
_CHANGE_BEFORE = re.compile(r"\b(?:los[et]s?|losing|gain(?:s|ed|ing)?|drops?|dropped|put\s+on|"
                            r"sheds?|more|less|heavier|lighter)\s+(?:[a-z]+\s+)?$", re.IGNORECASE)
_NOT_PERSON = re.compile(r"\b(?:dogs?|cats?|pupp(?:y|ies)|kittens?|horses?|cows?|pigs?|"
                         r"elephants?|animals?|fish|whales?|bears?|birds?|bags?|box(?:es)?|"
                         r"packages?|suitcases?|trucks?|cars?|boats?|tables?|statues?|plants?|"
                         r"flowers?|sunflowers?|towers?|buildings?|trees?|walls?|fences?|"
                         r"giraffes?|poles?|ladders?|snowm[ae]n|sculptures?|pumpkins?|"
                         r"watermelons?|turkeys?|cakes?|stacks?|piles?|plates?|weights|dumbbells?|"
                         r"barbells?|bands?|backpacks?|luggage|bricks?|rocks?|stones?|"
                         r"machines?|instruments?|sacks?|water|food|intake|loads?|cargo)\b",
                         re.IGNORECASE)
_CHANGE_AFTER = re.compile(r"\s+(?:less|more|heavier|lighter|taller|shorter)\b", re.IGNORECASE)
_ALL = re.compile(r"\b(?:combined|total|sum|together|altogether)\b", re.IGNORECASE)
# '5 pounds of weight', '3 pounds of flour': an amount of something, not a body's weight
_OF_AFTER = re.compile(r"\s+of\b", re.IGNORECASE)

# -- feats ------------------------------------------------------------------------------------
# (what, unit) -> the world's most: the tallest tree, building and mountain there are
_TALLEST = {"tree": {"ft": 380, "m": 116, "in": 4560},
            "building|skyscraper|tower": {"ft": 2717, "m": 828},
            "mountain": {"ft": 29032, "m": 8849}}
_TALLEST_RES = [(re.compile(rf"\b(?:{what})s?\b", re.IGNORECASE), most)
                for what, most in _TALLEST.items()]
_POINTS_A_GAME = re.compile(r"\s+points?\s+(?:a|per|each|every)\s+(?:game|match)\b",
                            re.IGNORECASE)
_AVERAGING = re.compile(r"\baverag\w*\s+$", re.IGNORECASE)
_MOST_POINTS = (Fraction(50), Fraction(100))  # a season's average, one game


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around ``start:end``."""
    before = max((m.end() for m in _SENTENCE.finditer(text, 0, start)), default=0)
    after = _SENTENCE.search(text, end)
    return text[before:after.start() if after else len(text)]


def _clause_before(text: str, start: int, width: int = 60) -> str:
    """The text of the sentence before ``start``, at most ``width`` characters."""
    head = text[max(0, start - width):start]
    cut = max((m.end() for m in _SENTENCE.finditer(head)), default=0)
    return head[cut:]


def _stages(value: Fraction, bands) -> tuple[Fraction, Fraction] | None:
    """The span of the stages (low, high) that hold ``value``; None when none does."""
    held = [(low, high) for low, high in ((Fraction(str(a)), Fraction(str(b))) for a, b in bands)
            if low <= value <= high]
    if not held:
        return None
    return min(low for low, _ in held), max(high for _, high in held)


def _ages(question: str, m) -> tuple | None:
    """The stages of life of an age: '7 years old', 'a 9-year-old', 'aged 40', and in a story
    of ages ('how old', 'years older'), 'if Chris is 4,', 'when he was 19.', 'turns 27'."""
    if m.money or m.percent or m.value.denominator != 1:
        return None
    before = _clause_before(question, m.start)
    if _ALL.search(before):
        return None  # 'the sum of our ages will be 45': no one's age
    if not (_AGE_AFTER.match(question, m.end) or _AGE_BEFORE.search(before)
            or _AGE_STORY.search(question) and _IS_BEFORE.search(before)
            and _IS_AFTER.match(question, m.end)):
        return None
    return _stages(m.value, _AGES)


def _body(question: str, m) -> tuple | None:
    """A person's height or weight: the stages of life its original falls in."""
    if m.money or m.percent:
        return None
    sentence = _sentence(question, m.start, m.end)
    tall = _TALL_AFTER.match(question, m.end)
    weight = None if tall else _WEIGHT_AFTER.match(question, m.end)
    if tall:
        unit = _UNIT_OF[tall.group(1).lower().rstrip(".")]
    elif weight and _WEIGHS.search(sentence):
        unit = _UNIT_OF[weight.group(1).lower().rstrip(".")]
        if unit not in ("lb", "kg"):
            return None
    else:
        return None
    if weight and (_CHANGE_BEFORE.search(_clause_before(question, m.start, 30))
                   or _OF_AFTER.match(question, weight.end())
                   or _CHANGE_AFTER.match(question, weight.end()) or _ALL.search(sentence)):
        return None  # '12 kg less than him', '5 pounds of flour', 'their combined weight'
    if _NOT_PERSON.search(sentence) or not any(
            w.group() not in _NO_NAME for w in _PERSON.finditer(sentence)):
        return None
    return _stages(m.value, _BODY[unit])


def _feat(question: str, m) -> Fraction | None:
    """The world's most for a height of a thing or a player's points a game, if it is one."""
    if _POINTS_A_GAME.match(question, m.end):
        return _MOST_POINTS[0 if _AVERAGING.search(_clause_before(question, m.start)) else 1]
    # 'is 300 feet tall' beside the thing, or 'an 8000-foot tree'
    tall = re.match(rf"[\s-]*({_UNIT})(?:[\s-]+(?:tall|high)\b|[\s-]*(?:tall\s+|high\s+)?"
                    rf"(?=(?:{'|'.join(_TALLEST)})))", question[m.end:m.end + 40], re.IGNORECASE)
    if not tall:
        return None
    unit = _UNIT_OF[tall.group(1).lower().rstrip(".")]
    near = _sentence(question, m.start, m.end)
    for what, most in _TALLEST_RES:
        if unit in most and what.search(near):
            return Fraction(most[unit])
    return None


def _scores(question: str, mentions) -> list[int]:
    """The indices of the mentions that are scores on a test, quiz or exam."""
    if not _TESTS.search(question):
        return []
    out = []
    for i, m in enumerate(mentions):
        if not m.quantity or m.money or m.value.denominator != 1 or _scale_at(question, m):
            continue
        before = _clause_before(question, m.start, 70)
        listed = out and out[-1] == i - 1 and _LISTED.fullmatch(question[mentions[i - 1].end:
                                                                          m.start])
        if _ON_A_TEST.match(question, m.end) or (_SCORE_BEFORE.search(before) or listed) \
                and _SCORE_AFTER.match(question, m.end):
            out.append(i)
    return out


def _scale_at(question: str, m) -> bool:
    """Whether the mention gives a test's points ('out of 50', 'a 40-point quiz')."""
    return bool(_SCALE_AFTER.match(question, m.end)
                or _SCALE_BEFORE.search(_clause_before(question, m.start, 40)))


def _scale(question: str, mentions, trees) -> tuple | None:
    """The tree of the one scale the question gives its scores, 100 if none; None when it
    gives several."""
    scales = {trees[i] for i, m in enumerate(mentions) if m.quantity and _scale_at(question, m)}
    if len(scales) > 1:
        return None
    return scales.pop() if scales else const(_SCORE)


def limits(question: str, mentions) -> dict[int, tuple[Fraction, Fraction]]:
    """The least and the most each question number may become (by mention index), from the
    words around it; the most is at least the original's value, the least at most it: a bound
    never makes the original illegal. (The least is kept by ``covers``; here it only says
    where a strategy that cannot keep the bound may draw the number instead.)"""
    scores = set(_scores(question, mentions))
    # drawn within the one scale's value (a scale that changes bounds them as well, ``covers``)
    scales = {m.value for m in mentions if m.quantity and _scale_at(question, m)}
    scale = _SCORE if not scales else scales.pop() if len(scales) == 1 else None
    out = {}
    for i, m in enumerate(mentions):
        if not m.quantity:
            continue
        found, least = [], Fraction(0)
        stages = _ages(question, m) or _body(question, m)
        if stages:
            found.append(stages[1])
            least = stages[0]
        feat = _feat(question, m)
        if feat is not None:
            found.append(feat)
        if i in scores and scale is not None:
            found.append(scale)
        if found:
            out[i] = (min(least, m.value), max(min(found), m.value))
    return out


def covers(question: str, solution: str, mentions, variables, result_spans,
           final: tuple) -> tuple[tuple[tuple, tuple, str, bool], ...]:
    """(whole, part, what it means, strict) bounds of sense, the part to stay at most (strict:
    below) the whole, as trees over variable and step names (see ``structure.story_bounds``).
    ``result_spans``: where each step's result is written in ``solution`` (or None)."""
    owner = {i: v for v in variables for i in v.mentions}
    trees = [sym(owner[i].name) if i in owner else const(m.value) for i, m in enumerate(mentions)]
    out: list = []

    def within(tree, stages, what):
        low, high = stages
        out.append((const(high), tree, f"{what} must stay at most {high}", False))
        out.append((tree, const(low), f"{what} must stay at least {low}", False))

    for i, m in enumerate(mentions):  # the lower ends of stages of life
        stages = _ages(question, m) or _body(question, m)
        if i in owner and stages:
            within(trees[i], stages, f"the person's {m.text}")
    asked = re.split(r"(?<=[.!?])\s+", question.strip())[-1]
    scores = _scores(question, mentions)
    scale = _scale(question, mentions, trees) if _TESTS.search(question) else None
    if scale is not None:
        for i in scores:
            if i in owner and scale[0] == "sym":
                out.append((scale, trees[i], f"the score {mentions[i].text} must stay within "
                            "the test's points", False))
        if _ASKS_SCORE.search(asked) and not _NOT_ONE_SCORE.search(asked):
            out.append((scale, final, "the score asked for must stay within the test's points",
                        False))
        for k, span in enumerate(result_spans):
            if span and _averages(solution, span):
                out.append((scale, sym(f"s{k}"), f"step {k + 1}'s average score must stay "
                            "within the test's points", False))
    people_weigh = any(_body(question, m) and _WEIGHT_AFTER.match(question, m.end)
                       for m in mentions)
    answer = _answer(solution)
    if answer is not None and _ASKS_AGE.search(asked) and not _NOT_ONE_AGE.search(asked):
        stages = _stages(answer, _AGES)
        if stages:
            within(final, stages, "the age asked for")
    for k, span in enumerate(result_spans):
        value = _written(solution, span) if span else None
        if value is None:
            continue
        end = _past(solution, span[1])
        weight = _WEIGHT_AFTER.match(solution, end)
        if _AGE_AFTER.match(solution, end):
            stages, what = _stages(value, _AGES), f"step {k + 1}'s age"
        elif weight and people_weigh and _weighs_line(solution, span) \
                and _UNIT_OF[weight.group(1).lower().rstrip(".")] in ("lb", "kg"):
            unit = _UNIT_OF[weight.group(1).lower().rstrip(".")]
            stages, what = _stages(value, _BODY[unit]), f"step {k + 1}'s weight of a person"
        else:
            continue
        if stages:
            within(sym(f"s{k}"), stages, what)
    from .sense_relations import only_bounds, size_order  # they read this module's words

    out += only_bounds(question, mentions, trees) + size_order(question, mentions, trees)
    return tuple(c for c in out if c[0][0] == "sym" or c[1][0] == "sym")


def _averages(solution: str, span) -> bool:
    """Whether the line of a written result says it is an average (and no total)."""
    line = solution[solution.rfind("\n", 0, span[0]) + 1:span[0]]
    return bool(_AVERAGE_LINE.search(line)) and not re.search(
        r"\b(?:total|sum|combined|altogether|in all)\b", line, re.IGNORECASE)


def _weighs_line(solution: str, span) -> bool:
    """Whether the line of a written result says that someone weighs it (not how much was
    lost or gained)."""
    end = solution.find("\n", span[1])
    line = solution[solution.rfind("\n", 0, span[0]) + 1:end if end >= 0 else len(solution)]
    return bool(_WEIGHS.search(line)) and not re.search(
        r"\b(?:los[et]s?|losing|gain\w*|more|less|heavier|lighter|extra|of)\b", line,
        re.IGNORECASE)


def _past(solution: str, end: int) -> int:
    """Where the text after a result goes on: past '>>' and the number written after it
    ('<<160-24=136>>136 pounds')."""
    shown = re.compile(r">>\$?[\d,]*(?:\.\d+)?").match(solution, end)
    return shown.end() if shown else end


def _written(solution: str, span) -> Fraction | None:
    """The value of the number written at ``span``."""
    try:
        return parse_answer(solution[span[0]:span[1]])
    except ValueError:
        return None


def _answer(solution: str) -> Fraction | None:
    finals = re.findall(r"^####[ \t]*(.*?)[ \t]*$", solution, re.MULTILINE)
    try:
        return parse_answer(finals[-1]) if finals else None
    except ValueError:
        return None
