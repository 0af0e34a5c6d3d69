"""Tiny real language models for the tests, built on the spot (no hub download).

``tiny_tora_model(folder)`` trains a byte-level BPE tokenizer on a few tool-integrated
transcripts, builds a two-layer Llama (head size 64, as vllm's CPU kernels want) and trains it
until it reproduces them greedily: asked one of ``TRANSCRIPTS``' questions in the ToRA chat
format, it writes a ```` ```python ```` block, stops at ```` ```output ````, and after the tool
output writes ``\\boxed{...}``. It takes about 20 s on two cores; tests share one per session.
"""

from __future__ import annotations

from pathlib import Path

# question, program, output, closing sentence: the model learns these by heart
TRANSCRIPTS = [
    ("Tom has 6 bags with 7 apples in each. How many apples does he have?",
     "print(6 * 7)", "42", "Tom has $\\boxed{42}$ apples."),
    ("A pen costs 3 dollars. How much do 5 pens cost?",
     "print(3 * 5)", "15", "The pens cost $\\boxed{15}$ dollars."),
    ("Ann reads 12 pages a day for 4 days. How many pages does she read?",
     "print(12 * 4)", "48", "Ann reads $\\boxed{48}$ pages."),
    ("Sam had 20 marbles and lost 8. How many are left?",
     "print(20 - 8)", "12", "Sam has $\\boxed{12}$ marbles left."),
    # the output block learnt here is wrong on purpose: a transcript that shows 4 after this
    # program got its output from running it, not from the model's memory
    ("What is 2 plus 2?", "print(2 + 2)", "5", "So the answer is $\\boxed{5}$."),
]

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def questions_file(path: Path, transcripts=TRANSCRIPTS) -> Path:
    """The transcripts' questions as GSM8K rows; the gold answer is the true one (2 + 2 = 4)."""
    from conftest import write_rows

    gold = {"What is 2 plus 2?": "4"}
    return write_rows(path, [{"question": q, "answer": f"#### {gold.get(q, o)}"}
                             for q, _, o, _ in transcripts])


def prompt(question: str) -> str:
    return f"<|user|>\n{question}\n<|assistant|>\n"


def completion(program: str, output: str, closing: str) -> str:
    return f"```python\n{program}\n```\n```output\n{output}\n```\n{closing}"


def training_pairs() -> list[tuple[str, str]]:
    """What the tiny model learns (prompt, completion): the tora transcripts, two pal programs
    and one cot answer."""
    from mathgen.robustness.prompts import Style

    pairs = [(prompt(q), completion(p, o, c)) for q, p, o, c in TRANSCRIPTS]
    pairs += [(Style("pal").prompt(q), f"{p}\n```") for q, p, _, _ in TRANSCRIPTS[:2]]
    q, p, o, _ = TRANSCRIPTS[0]
    pairs.append((Style("cot").prompt(q), f" Tom has 6 * 7 = 42 apples.\nThe answer is {o}."))
    return pairs


def tiny_llama(texts, *, vocab_size: int = 400, layers: int = 2, seed: int = 0):
    """A random two-layer Llama (head size 64, as vllm's CPU kernels want) and a byte-level
    BPE tokenizer trained on ``texts``, with the tora chat template; (model, tokenizer)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(list(texts) * 4, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256,
                         num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                         head_dim=64, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    return LlamaForCausalLM(config), tokenizer


def tiny_tora_model(folder: Path, steps: int = 600, seed: int = 0) -> Path:
    """Build, train and save the tiny model and its tokenizer in ``folder``; returns it."""
    import torch

    folder = Path(folder)
    pairs = training_pairs()
    model, tokenizer = tiny_llama([p + c for p, c in pairs], seed=seed)
    encode = lambda t: tokenizer(t, add_special_tokens=False)["input_ids"]  # noqa: E731
    rows = [(encode(p), encode(c + tokenizer.eos_token)) for p, c in pairs]
    width = max(len(p) + len(c) for p, c in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    labels = torch.full((len(rows), width), -100)  # the loss is on completions only
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (p, c) in enumerate(rows):
        ids[i, :len(p) + len(c)] = torch.tensor(p + c)
        labels[i, len(p):len(p) + len(c)] = torch.tensor(c)
        mask[i, :len(p) + len(c)] = 1
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        # done when every next token is the most likely one: greedy decoding then reproduces
        # the texts (a margin guards against ties after saving)
        top2 = out.logits[:, :-1].topk(2, dim=-1)
        want = labels[:, 1:]
        seen = want != -100
        right = (top2.indices[..., 0] == want) & (top2.values[..., 0] - top2.values[..., 1] > 1)
        if bool(right[seen].all()):
            break
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
