"""Prompt styles: what a model is asked, when its code runs, and where its answer is.

=====  ========================================================================================
tora   tool-integrated (ToRA, MMOS): the chat format ``<|user|>\\n{question}\\n<|assistant|>\\n``;
       the model writes a ```` ```python ```` block and stops at ```` ```output ````; the block
       runs in ``mathgen.sandbox``, its output is appended as a ```` ```output ```` block, and
       the model goes on, up to ``rounds`` programs. The answer is the last ``\\boxed{}`` (or
       what ``mathgen.answers.extract`` finds).
pal    program-aided (PAL): the model writes one program that prints the answer; it runs in
       the sandbox and the answer is the last number it printed.
cot    chain of thought: step by step, ending "The answer is N." Zero-shot, few-shot from a
       file of worked examples (GSM8K format), or through the model's own chat template.
=====  ========================================================================================

A transcript is the model's text with the tool outputs spliced in, as the model saw them; it is
what the cache stores and the report shows.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from mathgen.answers import Extraction, extract
from mathgen.errors import InputError, MathgenError

_PYTHON = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)
_TRAILING_CALL = re.compile(r"```python[ \t]*\n((?:(?!```).)*?)```\s*$", re.DOTALL)
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_OUTPUT_LIMIT = 2000
_FAILED = re.compile(r"^[A-Za-z_.]*(?:Error|Exception|Interrupt)\b|^the program ended with")

PAL_INSTRUCTION = ("Write a Python program that solves the problem below. The program must "
                   "print the final answer as a single number and nothing else.")
COT_INSTRUCTION = ("Solve the problem step by step. Then give the final answer on a line of "
                   'its own, as "The answer is N."')


def tool_output(result) -> str:
    """What a program's run shows the model: its output, or the last line of its error."""
    if result.status == "ok":
        text = result.stdout.strip()
    elif result.status == "timeout":
        text = "TimeoutError: the program ran too long"
    elif result.status == "memory":
        text = "MemoryError"
    else:
        lines = [ln for ln in result.stderr.strip().splitlines()
                 if ln.strip() and not ln.startswith("mathgen.sandbox:")]
        text = lines[-1] if lines else f"the program ended with status {result.status}"
    return text[-_OUTPUT_LIMIT:]


def last_program(text: str) -> str | None:
    """The last complete ```` ```python ```` block of a text, or None."""
    blocks = _PYTHON.findall(text)
    return blocks[-1] if blocks else None


@dataclass(frozen=True)
class Style:
    """One way of asking; ``key`` names everything that changes the model's input."""

    name: str
    chat: bool = False  # ask through the model's own chat template
    rounds: int = 4  # programs a tora transcript may run
    examples: tuple[tuple[str, str], ...] = field(default=())  # few-shot (question, solution)

    @property
    def key(self) -> str:
        """Changes with anything that changes what the model sees: the wording (a prompt
        rendered around a placeholder), examples, stop strings, rounds of tool calls."""
        blob = json.dumps([self.name, self.chat, self.rounds if self.name == "tora" else None,
                           self.prompt("\0"), self.stop])
        return f"{self.name}:{hashlib.sha256(blob.encode()).hexdigest()[:16]}"

    @property
    def stop(self) -> list[str]:
        if self.name == "tora":
            return ["```output"]
        if self.name == "pal":
            return [] if self.chat else ["```"]
        return [] if self.chat else ["\n\nProblem:"]

    def prompt(self, question: str):
        """The model's input: a text, or chat messages when ``chat`` is set."""
        question = question.strip()
        if self.name == "tora":
            return f"<|user|>\n{question}\n<|assistant|>\n"
        if self.name == "pal":
            ask = f"{PAL_INSTRUCTION}\n\nProblem: {question}"
            return [{"role": "user", "content": ask}] if self.chat else ask + "\n\n```python\n"
        shots = "".join(f"Problem: {q}\nSolution: {s}\n\n" for q, s in self.examples)
        if self.chat:
            messages = []
            for q, s in self.examples:
                messages += [{"role": "user", "content": f"{COT_INSTRUCTION}\n\nProblem: {q}"},
                             {"role": "assistant", "content": s}]
            return messages + [{"role": "user",
                                "content": f"{COT_INSTRUCTION}\n\nProblem: {question}"}]
        return f"{COT_INSTRUCTION}\n\n{shots}Problem: {question}\nSolution:"

    def program(self, generated: str, rounds_done: int) -> str | None:
        """The program to run after this piece of generation, or None when the model is done."""
        if self.name == "tora":
            if rounds_done >= self.rounds:
                return None
            m = _TRAILING_CALL.search(generated)
            return m.group(1) if m else None
        if self.name == "pal" and rounds_done == 0:
            return last_program(generated) if self.chat else generated
        return None

    @property
    def continues(self) -> bool:
        """Whether the model goes on writing after its program's output."""
        return self.name == "tora"

    def splice(self, generated: str, output: str) -> str:
        """The transcript after a program ran: its output block joined on."""
        if self.name == "pal" and not self.chat:
            generated = f"```python\n{generated.rstrip()}\n```"
        return f"{generated.rstrip()}\n```output\n{output}\n```\n"

    def extract(self, transcript: str) -> Extraction:
        if self.name == "pal":
            outputs = re.findall(r"```output\n(.*?)\n```", transcript, re.DOTALL)
            if not outputs or _FAILED.match(outputs[-1].strip()):
                return Extraction(None, "none")  # no run, or the program failed
            found = extract(f"```output\n{outputs[-1]}\n```")
            return found if found.method == "output" else Extraction(None, "none")
        return extract(transcript)


STYLES = ("tora", "pal", "cot")


def make_style(name: str, *, chat: bool = False, rounds: int = 4, few_shot=None) -> Style:
    """A prompt style by name; ``few_shot`` is a JSONL file of worked examples (cot only)."""
    if name not in STYLES:
        raise MathgenError(f"unknown prompt style {name!r} (choose one of: {', '.join(STYLES)})")
    if name == "tora" and chat:
        raise MathgenError("the tora style has its own chat format; drop --chat-template")
    if few_shot is not None and name != "cot":
        raise MathgenError("--few-shot works with --prompt cot only")
    examples = read_examples(few_shot) if few_shot is not None else ()
    return Style(name, chat=chat, rounds=rounds, examples=examples)


def read_examples(path) -> tuple[tuple[str, str], ...]:
    """Worked examples (GSM8K rows: question, answer ending '#### N') as cot demonstrations."""
    from mathgen.io import read_jsonl

    path = Path(path)
    out = []
    for line, row in read_jsonl(path):
        question, answer = row.get("question"), row.get("answer")
        for name, value in (("question", question), ("answer", answer)):
            if not isinstance(value, str) or not value.strip():
                raise InputError("missing or not text", path=path, line=line, field=name,
                                 hint="few-shot examples are GSM8K rows: question, answer")
        out.append((question.strip(), cot_solution(answer, path=path, line=line)))
    if not out:
        raise InputError("no examples", path=path, hint="give at least one worked example")
    return tuple(out)


def cot_solution(answer: str, *, path=None, line=None) -> str:
    """A GSM8K worked solution as the cot style writes it: the steps without their
    ``<<a*b=c>>`` annotations, then "The answer is N."."""
    steps, hashes, final = answer.rpartition("####")
    if not hashes or not final.strip():
        raise InputError("has no final '#### N' line", path=path, line=line, field="answer",
                         hint="end each worked solution with a line such as '#### 18'")
    steps = _ANNOTATION.sub("", steps).strip()
    return f"{steps}\nThe answer is {final.strip()}."
