"""Verifiable rewards for reinforcement learning, in TRL's calling convention.

    from trl import GRPOConfig, GRPOTrainer
    from mathgen.rewards import correctness_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[correctness_reward], train_dataset=variants)

A reward function takes the batch's ``completions`` (texts, or chat message lists as TRL
passes them for conversational sets) and the set's columns as keyword lists (``final_answer``
of ``mathgen perturb`` variants, or a GSM8K ``answer`` whose ``#### N`` line is the gold), and
returns one float per completion: 1.0 right, 0.0 otherwise. Nothing is guessed: an answer is
right only when it equals the gold one exactly (``mathgen.answers.grade``: rationals, percents
and thousands separators understood, no tolerance).

``answer_reward``  the answer the completion states (``\\boxed{}``, "the answer is", ``####``).
``code_reward``    tool-integrated completions: the last ```` ```python ```` block runs in
                   ``mathgen.sandbox`` (a timeout, a memory limit, no network, no escape) and
                   what it prints must be the gold answer, and so must the answer the text
                   states, if it states one. The model's own ```` ```output ```` block is never
                   trusted, so a made-up output earns nothing; a program that fails, is
                   stopped by the sandbox or loops past the timeout scores 0.
``correctness_reward``  ``code_reward`` for a completion with a program, ``answer_reward``
                   for one without: the reward for sets that mix both.

``make_code_reward(timeout=..., memory_mb=...)`` builds a ``code_reward`` with other limits.
This module imports neither torch nor trl.
"""

from __future__ import annotations

from mathgen.answers import extract, grade
from mathgen.answer_numbers import last_token
from mathgen.errors import MathgenError
from mathgen.robustness.prompts import last_program

__all__ = ["answer_reward", "code_reward", "correctness_reward", "make_code_reward",
           "completion_text", "gold_answers"]

# gold columns, most exact first: a variant's final_answer is the number itself
_GOLD_COLUMNS = ("final_answer", "answer")
_STATED = ("boxed", "answer-is", "hashes")  # extraction methods that are a statement


def completion_text(completion) -> str:
    """The text of one completion: a string, or the contents of a chat message list."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        parts = []
        for message in completion:
            if not isinstance(message, dict):
                raise MathgenError(f"a chat completion holds {type(message).__name__}, not a "
                                   "message ({'role': ..., 'content': ...})")
            if message.get("role", "assistant") != "assistant":
                continue  # tool or user turns are not what the model wrote
            content = message.get("content") or ""
            if isinstance(content, list):  # content parts: [{'type': 'text', 'text': ...}]
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append(str(content))
        return "\n".join(parts)
    raise MathgenError(f"a completion is text or chat messages, not {type(completion).__name__}")


def gold_answers(n: int, columns: dict) -> list:
    """The gold answer of each of ``n`` rows, from ``final_answer`` or a GSM8K ``answer``."""
    for name in _GOLD_COLUMNS:
        if name in columns:
            values = list(columns[name])
            if len(values) != n:
                raise MathgenError(f"reward: {n} completions but {len(values)} values of "
                                   f"{name!r}; pass the set's columns as TRL does")
            if name == "answer":  # a worked solution: its '#### N' line, or the whole text
                values = [_gsm8k_gold(v) for v in values]
            return values
    seen = ", ".join(sorted(columns)) or "none"
    raise MathgenError("reward: the set has no gold answer column; give rows with "
                       f"{' or '.join(repr(c) for c in _GOLD_COLUMNS)} (mathgen perturb "
                       f"writes final_answer); columns seen: {seen}")


def _gsm8k_gold(value):
    if isinstance(value, str) and "####" in value:
        return value.rsplit("####", 1)[1].strip()
    return value


def _right(said, gold) -> bool:
    return said is not None and gold is not None and grade(said, gold).correct


def answer_reward(completions, **columns) -> list[float]:
    """1.0 for each completion whose stated final answer equals the gold one, else 0.0."""
    texts = [completion_text(c) for c in completions]
    golds = gold_answers(len(texts), columns)
    return [float(_right(extract(t).text, g)) for t, g in zip(texts, golds)]


def _printed(result) -> str | None:
    """The answer a program printed: the last number of its output, when it ended well."""
    if result.status != "ok":
        return None
    token = last_token(result.stdout)
    return token.group() if token else None


def make_code_reward(timeout: float = 5.0, memory_mb: int = 512, *, fallback=None,
                     name: str = "code_reward"):
    """A reward that runs each completion's last program in the sandbox (see the module
    docstring). ``fallback``: the reward of a completion without a program (default 0.0),
    e.g. ``answer_reward``."""

    def reward(completions, **columns) -> list[float]:
        texts = [completion_text(c) for c in completions]
        golds = gold_answers(len(texts), columns)
        programs = [last_program(t) for t in texts]
        ran = [i for i, p in enumerate(programs) if p is not None]
        out = [0.0] * len(texts)
        if ran:
            from mathgen.sandbox import run_many  # started only when a program needs it

            results = run_many([programs[i] for i in ran], timeout=timeout, memory_mb=memory_mb)
            for i, result in zip(ran, results):
                stated = extract(texts[i])
                agrees = stated.method not in _STATED or _right(stated.text, golds[i])
                out[i] = float(agrees and _right(_printed(result), golds[i]))
        if fallback is not None:
            rest = [i for i, p in enumerate(programs) if p is None]
            if rest:
                gold = {k: list(v) for k, v in columns.items() if k in _GOLD_COLUMNS}
                sub = {k: [v[i] for i in rest] for k, v in gold.items()}
                for i, value in zip(rest, fallback([completions[i] for i in rest], **sub)):
                    out[i] = value
        return out

    reward.__name__ = reward.__qualname__ = name  # TRL logs each reward under its __name__
    return reward


code_reward = make_code_reward()
correctness_reward = make_code_reward(fallback=answer_reward, name="correctness_reward")
