"""Training examples: JSONL rows -> (prompt, completion) -> token ids whose prompt carries no loss.

Three kinds of rows, told apart by their fields:

- ``prompt`` and ``completion`` (what ``mathgen mmos build`` writes; any SFT set);
- ``messages`` (chat rows, as TRL and most chat sets write them): a list of
  ``{"role": ..., "content": ...}`` ending in the assistant's turn; the turns before it go
  through the model's chat template as the prompt, and only the last turn carries loss;
- ``question`` and ``answer`` (GSM8K, and the variants ``mathgen perturb`` writes): the
  question is asked as ``robustness-report --prompt cot`` asks it (through the model's chat
  template with ``chat_template``), and the completion is the worked solution without its
  ``<<a*b=c>>`` annotations, ending "The answer is N.". A model trained on them is measured
  with the prompt it learnt.

The prompt and the completion are tokenized apart, as at inference (the prompt with the
tokenizer's special tokens, the completion without, then the end-of-sequence token), so the
labels start exactly where generation starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mathgen.errors import InputError, MathgenError
from mathgen.io import read_jsonl
from mathgen.robustness.prompts import Style, cot_solution

IGNORE = -100  # the label of a token that carries no loss
_CHUNK = 1024  # rows tokenized at once


@dataclass
class Examples:
    """Token ids (int32) and prompt lengths; ``labels(i)`` masks the prompt."""

    ids: list = field(default_factory=list)
    prompt_lengths: list = field(default_factory=list)
    rows: int = 0
    too_long: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "prompt_length": self.prompt_lengths[i]}

    @property
    def tokens(self) -> int:
        return int(sum(len(x) for x in self.ids))

    @property
    def completion_tokens(self) -> int:
        return self.tokens - int(sum(self.prompt_lengths))


def pair(row: dict, path: Path, line: int, chat: bool) -> tuple[str | list, str]:
    """The (prompt, completion) of one row; a prompt is chat messages when ``chat``."""
    if "messages" in row:
        return _chat_pair(row["messages"], path, line)
    if "prompt" in row or "completion" in row:
        names = ("prompt", "completion")
    elif "question" in row or "answer" in row:
        names = ("question", "answer")
    else:
        raise InputError("has neither 'prompt' and 'completion' nor 'question' and 'answer'",
                         path=path, line=line,
                         hint="give mmos build rows (prompt, completion), chat rows "
                              "(messages) or GSM8K rows")
    for name in names:
        if not isinstance(row.get(name), str) or not row[name].strip():
            raise InputError("missing or empty", path=path, line=line, field=name,
                             hint=f"each row needs both {names[0]!r} and {names[1]!r} as text")
    if names[0] == "prompt":
        if chat:
            raise InputError("is a written prompt, and chat_template asks through the chat "
                             "template", path=path, line=line, field="prompt",
                             hint="drop chat_template: prompt/completion rows are used as written")
        return row["prompt"], row["completion"]
    solution = cot_solution(row["answer"], path=path, line=line)
    prompt = Style("cot", chat=chat).prompt(row["question"])
    return prompt, (solution if chat else " " + solution)


def _chat_pair(messages, path: Path, line: int) -> tuple[list, str]:
    """The turns before the last (the prompt) and the last, the assistant's (the completion)."""
    where = {"path": path, "line": line, "field": "messages"}
    if not isinstance(messages, list) or len(messages) < 2:
        raise InputError("is not a list of at least two turns", **where,
                         hint='write [{"role": "user", ...}, {"role": "assistant", ...}]')
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) \
                or not isinstance(m.get("content"), str):
            raise InputError(f"turn {i + 1} is not a {{'role': text, 'content': text}} message",
                             **where, hint="give each turn a role and a text content")
    last = messages[-1]
    if last["role"] != "assistant" or not last["content"].strip():
        raise InputError("does not end in an assistant turn with text", **where,
                         hint="the last turn is what the model learns to write")
    return messages[:-1], last["content"]


def load(paths, tokenizer, *, max_length: int, chat: bool = False) -> Examples:
    """Every row of ``paths`` tokenized; examples over ``max_length`` tokens are counted in
    ``too_long`` and left out. Bad rows raise ``InputError`` naming file, line and field."""
    templated = bool(getattr(tokenizer, "chat_template", None))
    if chat and not templated:
        raise MathgenError(f"chat_template: the tokenizer of {tokenizer.name_or_path} has no "
                           "chat template; drop chat_template, or train a model that has one")
    if tokenizer.eos_token_id is None:
        raise MathgenError(f"the tokenizer of {tokenizer.name_or_path} has no end-of-sequence "
                           "token, so a completion would never learn to end; set eos_token")
    out = Examples()
    for path in map(Path, paths):
        batch = []
        for line, row in read_jsonl(path):
            batch.append(pair(row, path, line, chat))
            if not templated and isinstance(batch[-1][0], list):
                raise InputError(f"is a chat row, and the tokenizer of {tokenizer.name_or_path}"
                                 " has no chat template", path=path, line=line,
                                 field="messages", hint="train a model with a chat template, "
                                 "or write the rows as prompt/completion")
            if len(batch) == _CHUNK:
                _add(out, batch, tokenizer, max_length, chat)
                batch = []
        _add(out, batch, tokenizer, max_length, chat)
    return out


def _add(out: Examples, batch, tokenizer, max_length: int, chat: bool) -> None:
    if not batch:
        return
    # a chat template writes its own special tokens, as in the hf backend; written prompts
    # get the tokenizer's
    chats = [i for i, (p, _) in enumerate(batch) if isinstance(p, list)]
    written = [i for i, (p, _) in enumerate(batch) if not isinstance(p, list)]
    prompt_ids = [None] * len(batch)
    if chats:
        texts = [tokenizer.apply_chat_template(batch[i][0], tokenize=False,
                                               add_generation_prompt=True) for i in chats]
        for i, ids in zip(chats, tokenizer(texts, add_special_tokens=False)["input_ids"]):
            prompt_ids[i] = ids
    if written:
        texts = [batch[i][0] for i in written]
        for i, ids in zip(written, tokenizer(texts, add_special_tokens=True)["input_ids"]):
            prompt_ids[i] = ids
    completion_ids = tokenizer([c for _, c in batch], add_special_tokens=False)["input_ids"]
    out.rows += len(batch)
    for p, c in zip(prompt_ids, completion_ids):
        ids = p + c + [tokenizer.eos_token_id]
        if len(ids) > max_length:
            out.too_long += 1
            continue
        out.ids.append(np.asarray(ids, dtype=np.int32))
        out.prompt_lengths.append(len(p))


class Collator:
    """Micro-batches as tensors. Padded: rows padded on the right (no loss, no attention).
    Packed: the examples joined into one row, with positions restarting at each example;
    transformers then lets no token attend across an example's boundary (its packed-sequence
    masks need ``attention_mask`` absent and the model's cache off)."""

    def __init__(self, pad_id: int, packing: bool):
        self.pad_id, self.packing = pad_id, packing

    def __call__(self, items: list[dict]) -> dict:
        import torch

        ids = [torch.from_numpy(np.asarray(x["input_ids"], dtype=np.int64)) for x in items]
        labels = []
        for x, row in zip(items, ids):
            label = row.clone()
            label[:max(1, x["prompt_length"])] = IGNORE  # nothing predicts a first token
            labels.append(label)
        if self.packing:
            return {"input_ids": torch.cat(ids)[None],
                    "labels": torch.cat(labels)[None],
                    "position_ids": torch.cat([torch.arange(len(r)) for r in ids])[None]}
        width = max(len(r) for r in ids)
        batch = {"input_ids": torch.full((len(ids), width), self.pad_id),
                 "labels": torch.full((len(ids), width), IGNORE),
                 "attention_mask": torch.zeros((len(ids), width), dtype=torch.long)}
        for i, (row, label) in enumerate(zip(ids, labels)):
            batch["input_ids"][i, :len(row)] = row
            batch["labels"][i, :len(row)] = label
            batch["attention_mask"][i, :len(row)] = 1
        return batch
