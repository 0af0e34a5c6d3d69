"""``--strategy distractor``: one added sentence that carries a number and changes nothing.

As GSM-IC (irrelevant context, Shi et al. 2023) and GSM-NoOp (seemingly relevant clauses,
Mirzadeh et al. 2024) showed, models are misled by such sentences. The sentence is drawn
from ``templates/distractors.yaml`` (mathgen's own patterns), speaks of the problem's own
things ('eggs', from '16 eggs') or of someone who is not in it, uses a number that is not in
the problem, and goes before the question sentence. The answer and worked solution stay as
they were; the record's ``distractor`` field holds the sentence and where it starts.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from mathgen.numbers import find_mentions, plain
from mathgen.records import Problem, Rejection, Variant

_THING = re.compile(r"\b(\d[\d,]*)\s+((?:[a-z]+\s)?[a-z]{3,}s)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
# not things one keeps at home: units, time, money, people
_NOT_THINGS = set("""the of a an more each per times years minutes hours days weeks months
seconds dollars cents percent miles inches feet yards meters centimeters kilometers pounds
ounces grams kilograms tons liters gallons quarts pints cups watts calories degrees acres
points steps laps students people children kids friends workers employees members players
guests teachers adults boys girls men women babies customers visitors families sisters
brothers parents less plus this thus makes takes gives gets has was regardless always
sometimes minus its yes colors portions""".split())
_PRONOUN = re.compile(r"\b(he|she|his|her|him|they|them|their)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def patterns() -> dict:
    from importlib import resources

    import yaml

    return yaml.safe_load((resources.files("mathgen.templates") / "distractors.yaml")
                          .read_text("utf-8"))


def _things(question: str, solution: str) -> list[tuple[str, int]]:
    """Plural nouns written after a number ('16 eggs' -> ('eggs', 16)) that the solution
    names too (so they are things of the story, not 'regardless' or 'less')."""
    out = []
    for m in _THING.finditer(question):
        words = m.group(2).split()
        noun = words[-1]
        if noun in _NOT_THINGS or words[0] in _NOT_THINGS or noun.endswith(("ss", "us", "is")):
            continue
        if not re.search(rf"\b{re.escape(noun[:-1])}", solution, re.IGNORECASE):
            continue
        out.append((noun, int(m.group(1).replace(",", ""))))
    return out


def add(problem: Problem, n: int, seed: int) -> list[Variant] | Rejection:
    """Up to ``n`` variants of ``problem``, each with one distinct distractor sentence."""
    from .template import word_lists

    question = problem.question
    sentences = _SENTENCE_END.split(question.strip())
    if len(sentences) < 2:
        return Rejection(problem.source_id, problem.source_line, "no-context",
                         "the problem is a single sentence: no place for a distractor")
    taken = {m.value for m in find_mentions(question)} | {m.value for m in
                                                           find_mentions(problem.solution)}
    names = [x for x in word_lists()["names"] if x not in question]
    things = _things(question, problem.solution)
    table = patterns()
    # a new name before 'how many does she ...' could be read as the one meant
    named_ok = not _PRONOUN.search(sentences[-1])
    out, seen = [], set()
    for k in range(n):
        rng = random.Random(f"{seed}/{problem.source_id}/distractor/{k}")
        for _ in range(50):
            kind = "noop" if things and rng.random() < 0.4 else "irrelevant"
            choices = [p for p in table[kind] if (things or p.get("needs") != "thing")
                       and (named_ok or "{other}" not in p["text"])]
            if not choices:
                continue
            chosen = rng.choice(choices)
            pattern = chosen["text"]
            thing, _ = rng.choice(things) if things else ("", 0)
            low, high = chosen.get("range", (2, 60))
            number = rng.randint(low, high)
            if number in taken:
                continue
            sentence = pattern.format(other=rng.choice(names), relative=rng.choice(
                table["relatives"]), thing=thing, n=number)
            sentence = sentence[0].upper() + sentence[1:]
            if sentence not in seen:
                break
        else:
            break
        seen.add(sentence)
        head = " ".join(sentences[:-1])
        start = question.find(sentences[-1], len(head)) if head else 0
        new_question = question[:start] + sentence + " " + question[start:]
        out.append(Variant(
            id=f"{problem.source_id}/distractor/{seed}/{k}", source_id=problem.source_id,
            source_line=problem.source_line, strategy="distractor", seed=seed,
            question=new_question, answer=problem.solution,
            final_answer=plain(problem.final_answer), substitutions=(),
            original_question=question, original_final_answer=plain(problem.final_answer),
            distractor=(sentence, start)))
    if not out:
        return Rejection(problem.source_id, problem.source_line, "no-distractor",
                         "no pattern gave a sentence with a number new to the problem")
    return out
