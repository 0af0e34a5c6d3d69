"""Training throughput of mathgen train against a plain transformers Trainer, in one run.

    python benchmarks/train.py [--size tiny|small] [--steps 30] [--micro-batch 8]

Both train the same freshly built Llama (no download) for the same optimizer steps on the
same examples: the ToRA paths of ``../shared/data/tora`` as prompt/completion rows (their real
mix of lengths), or synthetic rows of similar lengths when that folder is absent. The plain
Trainer pads each micro-batch (``DataCollatorForSeq2Seq``, the usual recipe); mathgen train
runs padded, padded with length-grouped micro-batches, and packed. Tokens per second count
real tokens (no padding), over the time of ``Trainer.train`` alone; the ratios are mathgen /
plain (target: at least 1.0).

On a GPU, ``--size small`` (about 160M parameters, bf16) also prints model FLOPs
utilisation: 6 x parameters + 12 x layers x width x mean context per token, against the
GPU's dense bf16 peak (``--peak-tflops``, 989 for an H100/H200 SXM).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

TORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tora"
SIZES = {  # hidden, layers, heads, intermediate, vocab
    "tiny": (128, 2, 2, 256, 1000),
    "small": (768, 12, 12, 2048, 8000),
}


def rows(limit: int, folder: Path = TORA, seed: int = 0) -> list[dict]:
    from mathgen.robustness.prompts import Style

    tora = Style("tora")
    out = []
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    for path in files:
        for raw in path.open(encoding="utf-8"):
            row = json.loads(raw)
            out += [{"prompt": tora.prompt(row["question"]), "completion": c}
                    for c in row["code"]]
    if not out:  # synthetic: questions and programs of ToRA-like lengths
        rng = random.Random(seed)
        words = "apples cost each day total more than twice half left sold buys".split()
        for _ in range(limit):
            q = " ".join(rng.choice(words) for _ in range(rng.randint(20, 90)))
            code = "\n".join(f"x{i} = {rng.randint(1, 99)} * {rng.randint(1, 99)}"
                             for i in range(rng.randint(3, 25)))
            out.append({"prompt": tora.prompt(q), "completion": f"```python\n{code}\n```"})
    random.Random(seed).shuffle(out)
    return out[:limit]


def build_model(folder: Path, data: list[dict], size: str) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    hidden, layers, heads, inter, vocab = SIZES[size]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator((r["prompt"] + r["completion"] for r in data), trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=inter,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        head_dim=hidden // heads, max_position_embeddings=2048,
        bos_token_id=0, eos_token_id=1, pad_token_id=2))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def plain_trainer(model_dir: Path, data: Path, out: Path, args) -> tuple[float, int]:
    """The usual recipe: tokenize prompt + completion, mask the prompt, pad each batch."""
    import torch
    from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq,
                              Trainer, TrainingArguments)

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples = []
    for raw in data.open():
        row = json.loads(raw)
        p = tokenizer(row["prompt"])["input_ids"]
        c = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
        ids = p + c + [tokenizer.eos_token_id]
        if len(ids) <= args.max_length:
            examples.append({"input_ids": ids, "attention_mask": [1] * len(ids),
                             "labels": [-100] * len(p) + ids[len(p):]})
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.config.use_cache = False
    bf16 = torch.cuda.is_available()
    trainer = Trainer(model=model, train_dataset=examples,
                      data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
                      args=TrainingArguments(
                          output_dir=str(out), per_device_train_batch_size=args.micro_batch,
                          gradient_accumulation_steps=args.accumulation, max_steps=args.steps,
                          learning_rate=2e-5, warmup_steps=0.03, lr_scheduler_type="cosine",
                          bf16=bf16, logging_steps=10, save_strategy="no", report_to="none",
                          seed=0, data_seed=0, disable_tqdm=True,
                          include_num_input_tokens_seen="non_padding"))
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start, int(trainer.state.num_input_tokens_seen)


def mathgen_train(model_dir: Path, data: Path, out: Path, args, **options):
    from mathgen.training.config import TrainConfig
    from mathgen.training.sft import train

    summary = train(TrainConfig(
        model=str(model_dir), data=(str(data),), output=str(out), max_steps=args.steps,
        batch_size=args.micro_batch * args.accumulation, micro_batch_size=args.micro_batch,
        max_length=args.max_length, save_steps=10**9, logging_steps=10, tensorboard=False,
        **options), echo=lambda *_: None)
    return summary["seconds"], summary["input_tokens"]


def flops_per_token(model_dir: Path, mean_context: float) -> float:
    cfg = json.loads((model_dir / "config.json").read_text())
    hidden, layers, inter, vocab = (cfg["hidden_size"], cfg["num_hidden_layers"],
                                    cfg["intermediate_size"], cfg["vocab_size"])
    params = layers * (4 * hidden * hidden + 3 * hidden * inter) + vocab * hidden
    return 6 * params + 12 * layers * hidden * mean_context  # matmuls, then attention


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--accumulation", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--tora", type=Path, default=TORA, help="folder of ToRA outputs")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--packed-attention", default="sdpa",
                        help="attention for the packed run (flash_attention_2 on a GPU)")
    args = parser.parse_args()
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = rows(args.steps * args.micro_batch * args.accumulation * 2, args.tora)
        (tmp / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
        build_model(tmp / "model", data, args.size)
        print(f"{args.size} Llama on {device}: {args.steps} steps of "
              f"{args.micro_batch} x {args.accumulation} examples "
              f"({'ToRA paths' if args.tora.is_dir() else 'synthetic rows'})")
        runs = {}
        for name, fn in [("plain Trainer (padded)", lambda o: plain_trainer(
                             tmp / "model", tmp / "data.jsonl", o, args)),
                         ("mathgen train (padded)", lambda o: mathgen_train(
                             tmp / "model", tmp / "data.jsonl", o, args)),
                         ("mathgen train --group-by-length", lambda o: mathgen_train(
                             tmp / "model", tmp / "data.jsonl", o, args, group_by_length=True)),
                         ("mathgen train --packing", lambda o: mathgen_train(
                             tmp / "model", tmp / "data.jsonl", o, args, packing=True,
                             attention=args.packed_attention))]:
            seconds, tokens = fn(tmp / name.split()[0] / str(len(runs)))
            runs[name] = tokens / seconds
            print(f"{name:<32} {tokens:>9} real tokens in {seconds:7.2f} s: "
                  f"{tokens / seconds:>10,.0f} tokens/s")
        plain = runs["plain Trainer (padded)"]
        for name in list(runs)[1:]:
            print(f"ratio {name} / plain Trainer: {runs[name] / plain:.2f} (target >= 1.0)")
        if torch.cuda.is_available():
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(tmp / "model")
            lengths = [len(tokenizer(r["prompt"] + r["completion"])["input_ids"]) + 1
                       for r in data]
            # a token at position t attends to t + 1 tokens: the mean over all tokens
            mean_context = sum(n * (n + 1) / 2 for n in lengths) / sum(lengths)
            fpt = flops_per_token(tmp / "model", mean_context)
            for name, rate in runs.items():
                print(f"MFU {name}: {100 * rate * fpt / (args.peak_tflops * 1e12):.1f}% "
                      f"({rate * fpt / 1e12:.0f} TFLOP/s)")


if __name__ == "__main__":
    main()
