"""Supervised fine-tuning: ``mathgen train`` on transformers' ``Trainer``.

    from mathgen.training.config import load_config
    from mathgen.training.sft import train
    summary = train(load_config("cfg.yaml", model="base", data=["mmos.jsonl"], output="out"))

What mathgen adds to the ``Trainer``: the examples of ``training.data`` (the loss on completion
tokens only, optional packing without attention across examples), the MMOS recipe as defaults,
a global batch that stays ``batch_size`` on any number of devices, ``log.jsonl``, a checkpoint
on SIGINT/SIGTERM (``--resume`` goes on from it to the same weights as a run never stopped),
and a final folder that the ``hf`` and ``vllm`` backends load (LoRA merged into the weights).
The same call runs under ``accelerate launch`` or ``torchrun``: DeepSpeed and FSDP come from
the launcher's configuration (see docs/training.md), or ``deepspeed`` names a JSON config.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from mathgen.errors import MathgenError
from mathgen.robustness.backends import require
from mathgen.training.config import TrainConfig, as_yaml

require("torch", "train")
TrainerCallback = require("transformers", "train").TrainerCallback
from transformers.trainer_utils import get_last_checkpoint  # noqa: E402

from mathgen.training.data import Collator, load  # noqa: E402  (needs numpy, torch)
from mathgen.wording import counted  # noqa: E402


class JsonlLog(TrainerCallback):
    """Every log of the Trainer as one JSON line in ``log.jsonl``; lines of steps beyond the
    checkpoint a run resumes from are dropped, so the log reads as one uninterrupted run."""

    def __init__(self, path: Path, resumed_at: int | None):
        self.path = path
        if resumed_at is not None and path.exists() and _is_main():
            kept = []
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut off when the run was killed
                if record.get("step", 0) <= resumed_at and "train_loss" not in record:
                    kept.append(line)  # not the stopped run's end-of-run summary
            path.write_text("".join(ln + "\n" for ln in kept))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            record = {"step": state.global_step, "epoch": round(state.epoch or 0, 4), **logs}
            with open(self.path, "a") as handle:
                handle.write(json.dumps(record) + "\n")


class StopOnSignal(TrainerCallback):
    """SIGINT or SIGTERM (Ctrl-C, a scheduler's preemption): finish the step, save a
    checkpoint and stop; a second signal stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.caught = None
        self.previous = {}

    def _catch(self, signum, frame):
        if self.caught is not None:
            raise KeyboardInterrupt
        self.caught = signal.Signals(signum).name

    def on_train_begin(self, args, state, control, **kwargs):
        self.previous = {s: signal.signal(s, self._catch) for s in self.SIGNALS}

    def on_step_end(self, args, state, control, **kwargs):
        caught = self.caught is not None
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # every process stops at one step
            from accelerate import PartialState
            from accelerate.utils import reduce

            torch = require("torch", "train")
            flag = torch.tensor([float(caught)], device=PartialState().device)
            caught = bool(reduce(flag, "sum").item() > 0)
            self.caught = (self.caught or "a signal to another process") if caught else None
        if caught:
            control.should_save = True
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _checkpoint(output: Path, resume) -> str | None:
    """The checkpoint to go on from: ``resume`` True takes the newest in ``output``."""
    last = get_last_checkpoint(output) if output.is_dir() else None
    if not resume:
        if last is not None:
            raise MathgenError(f"{output} holds checkpoints of an earlier run ({Path(last).name});"
                               " pass --resume to go on from it, or choose another --output")
        return None
    if resume is True:
        if last is None:
            raise MathgenError(f"--resume: no checkpoint-N folder in {output} to go on from")
        return last
    if not Path(resume, "trainer_state.json").exists():
        raise MathgenError(f"--resume {resume}: not a checkpoint folder (no trainer_state.json)")
    return str(resume)


def _precision(name: str, torch) -> str:
    if name == "auto":  # bf16 where the GPU computes in it (not emulated, as on a V100)
        if not torch.cuda.is_available():
            return "fp32"
        try:
            return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
        except TypeError:  # torch before 2.4 did not count emulation
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if name == "fp16" and not torch.cuda.is_available():
        raise MathgenError("precision fp16 needs a GPU; use bf16 or fp32 on a CPU")
    return name


def load_model(config: TrainConfig, precision: str):
    """The model to train: fp32 weights (bf16 autocast trains on them), the cache off, and a
    LoRA wrapper when ``lora_r`` is set (then a bf16 run keeps the frozen base in bf16)."""
    torch, transformers = require("torch", "train"), require("transformers", "train")
    dtype = torch.bfloat16 if config.lora_r and precision == "bf16" else torch.float32
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            config.model, dtype=dtype, attn_implementation=config.attention)
    except (OSError, ValueError, ImportError) as err:
        raise MathgenError(f"cannot load the model {config.model!r}: "
                           f"{str(err).splitlines()[0]}") from None
    model.config.use_cache = False  # training needs no cache, and packing needs it off
    if config.lora_r:
        peft = require("peft", "train")
        targets = config.lora_targets
        if targets != "all-linear":
            targets = [t.strip() for t in targets.split(",") if t.strip()]
        try:
            model = peft.get_peft_model(model, peft.LoraConfig(
                r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                target_modules=targets, task_type="CAUSAL_LM"))
        except ValueError as err:
            raise MathgenError(f"lora_targets {config.lora_targets!r}: "
                               f"{str(err).splitlines()[0]}") from None
    return model


def _arguments(config: TrainConfig, precision: str, transformers, cuda: bool):
    world = int(os.environ.get("WORLD_SIZE", "1"))
    tensorboard = config.tensorboard and _installed("tensorboard")
    # the loss only: gathering the logits of a held-out set would cost vocabulary x tokens
    evaluation = dict(eval_strategy="steps", eval_steps=config.eval_steps,
                      per_device_eval_batch_size=config.micro_batch_size,
                      prediction_loss_only=True) if config.eval_data else {}
    return transformers.TrainingArguments(
        **evaluation,
        output_dir=config.output,
        per_device_train_batch_size=config.micro_batch_size,
        gradient_accumulation_steps=config.accumulation(world),
        learning_rate=config.learning_rate, num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1, warmup_steps=config.warmup_ratio,  # < 1: a ratio
        lr_scheduler_type=config.lr_scheduler, weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        bf16=precision == "bf16", fp16=precision == "fp16",
        **_checkpointing(config.gradient_checkpointing, transformers),
        **_sampling(config.group_by_length, transformers),
        logging_steps=config.logging_steps, logging_first_step=True,
        save_strategy="steps", save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed, data_seed=config.seed,
        report_to=["tensorboard"] if tensorboard else "none",
        include_num_input_tokens_seen="all" if config.packing else "non_padding",
        remove_unused_columns=False, dataloader_num_workers=0,
        dataloader_pin_memory=cuda,
        deepspeed=config.deepspeed or None)


def _checkpointing(on: bool, transformers) -> dict:
    """Gradient checkpointing by the name this transformers gives it (renamed "activation
    checkpointing" in 5.x)."""
    if not on:
        return {}
    names = transformers.TrainingArguments.__dataclass_fields__
    name = "activation_checkpointing" if "activation_checkpointing" in names else \
        "gradient_checkpointing"
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def _sampling(by_length: bool, transformers) -> dict:
    """Length-grouped micro-batches, by the option this transformers has."""
    if not by_length:
        return {}
    if "train_sampling_strategy" in transformers.TrainingArguments.__dataclass_fields__:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def train(config: TrainConfig, *, resume=False, callbacks=(), echo=print) -> dict:
    """Fine-tune ``config.model`` on ``config.data``; returns a summary (also in
    ``OUTPUT/summary.json`` when the run ends). ``resume``: True for the newest checkpoint in
    the output folder, or a checkpoint folder. ``callbacks``: more ``TrainerCallback``s."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    if not _is_main():  # under a launcher, the first process speaks for all
        echo = lambda *_: None  # noqa: E731
    for name in ("model", "output"):
        if not getattr(config, name):
            raise MathgenError(f"no {name}: give --{name}")
    if not config.data:
        raise MathgenError("no training data: give --data FILE (repeatable)")
    output = Path(config.output)
    if output.exists() and not output.is_dir():
        raise MathgenError(f"--output {output} is a file; give a folder")
    checkpoint = _checkpoint(output, resume)
    if checkpoint is not None and config.group_by_length:
        echo("note: group_by_length draws its batches anew when resumed, so the weights will "
             "not be exactly those of a run never stopped")
    precision = _precision(config.precision, torch)
    try:
        args = _arguments(config, precision, transformers, torch.cuda.is_available())
    except (ImportError, ValueError) as err:  # deepspeed missing, a bad DeepSpeed file, ...
        raise MathgenError(f"cannot set up training: {str(err).splitlines()[0]}") from None

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(config.model)
    except (OSError, ValueError) as err:
        raise MathgenError(f"cannot load the tokenizer of {config.model!r}: "
                           f"{str(err).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = load(config.data, tokenizer, max_length=config.max_length,
                    chat=config.chat_template)
    echo(f"read {counted(examples.rows, 'row')}: {counted(len(examples), 'example')}, "
         f"{counted(examples.tokens, 'token')} "
         f"({examples.completion_tokens} with loss); {examples.too_long} longer than "
         f"max_length {config.max_length} left out")
    if not len(examples):
        raise MathgenError("no example fits in max_length; raise --max-length")
    held_out = None
    if config.eval_data:
        held_out = load(config.eval_data, tokenizer, max_length=config.max_length,
                        chat=config.chat_template)
        echo(f"read {counted(held_out.rows, 'held-out row')}: "
             f"{counted(len(held_out), 'example')}; {held_out.too_long} longer than max_length"
             " left out")
        if not len(held_out):
            raise MathgenError("--eval-data: no example fits in max_length; raise --max-length")

    model = load_model(config, precision)
    if _is_main():
        output.mkdir(parents=True, exist_ok=True)
        (output / "train_config.yaml").write_text(as_yaml(config))
    resumed_at, tokens_before = None, 0
    if checkpoint is not None:
        state = json.loads(Path(checkpoint, "trainer_state.json").read_text())
        resumed_at, tokens_before = state["global_step"], state.get("num_input_tokens_seen", 0)
    stop = StopOnSignal()
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=examples, eval_dataset=held_out,
        processing_class=tokenizer,
        data_collator=Collator(tokenizer.pad_token_id, config.packing),
        callbacks=[JsonlLog(output / "log.jsonl", resumed_at), stop, *callbacks])
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - started
    state = trainer.state
    summary = {"examples": len(examples), "too_long": examples.too_long,
               "steps": state.global_step, "max_steps": state.max_steps,
               "train_loss": result.training_loss, "seconds": round(seconds, 3),
               "input_tokens": int(state.num_input_tokens_seen),
               # of this session: a resumed run's earlier tokens took their time before
               "tokens_per_second": round((state.num_input_tokens_seen - tokens_before)
                                          / seconds, 1)}
    if state.global_step < state.max_steps:
        summary["stopped"] = stop.caught or "a callback"
        last = get_last_checkpoint(output) if output.is_dir() else None
        echo(f"stopped ({summary['stopped']}) at step {state.global_step} of {state.max_steps}; "
             + (f"go on from {Path(last).name} with --resume" if last else "no checkpoint saved"))
        return summary
    if held_out is not None:  # the final weights' validation loss, logged like the others
        summary["eval_loss"] = trainer.evaluate()["eval_loss"]
    _save(trainer, config, output)
    if _is_main():
        (output / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    echo(f"trained {counted(state.global_step, 'step')} in {seconds:.1f} s "
         f"({summary['tokens_per_second']} tokens/s), final loss {_last_loss(state)}"
         + (f", validation loss {summary['eval_loss']:.4f}" if held_out is not None else "")
         + "; "
         f"model and tokenizer in {output}")
    return summary


def _save(trainer, config: TrainConfig, output: Path) -> None:
    """The final model and tokenizer in ``output``, as the backends load them."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if config.lora_r:  # one process merges; see docs/training.md for the launchers it suits
        model = model.merge_and_unload()
        model.config.use_cache = True
        if trainer.accelerator.is_main_process:
            model.save_pretrained(output)
            trainer.processing_class.save_pretrained(output)
    else:
        model.config.use_cache = True
        trainer.save_model(str(output))  # gathers ZeRO-3 / FSDP shards; saves the tokenizer
    trainer.accelerator.wait_for_everyone()


def _last_loss(state) -> str:
    losses = [h["loss"] for h in state.log_history if "loss" in h]
    return f"{losses[-1]:.4f}" if losses else "n/a"
