"""What ``mathgen train`` does, as one frozen dataclass: defaults, then a YAML file, then flags.

The defaults are the MMOS recipe for 7B and 13B models: full fine-tuning, learning rate 2e-5
(MMOS used 1e-5 for 34B), 128 examples per optimizer step, 3% warmup, sequences of up to 2048
tokens, 3 epochs, the loss on completion tokens only. A YAML file sets any field by name:

    learning_rate: 1e-5
    micro_batch_size: 8
    packing: true
    lora_r: 16

Flags (``--learning-rate``, ``--packing``, ...) override the file. ``mathgen train --help``
lists every field with its default.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from mathgen.errors import InputError, MathgenError
from mathgen.wording import counted

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
SCHEDULERS = ("cosine", "linear", "constant_with_warmup")


class BadValue(MathgenError):
    """A value out of its field's range; ``field`` names it."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


def _f(default, text: str):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class TrainConfig:
    model: str = _f("", "model folder (or hub name) that transformers loads")
    data: tuple[str, ...] = _f((), "JSONL files: prompt/completion, messages or GSM8K rows")
    eval_data: tuple[str, ...] = _f((), "held-out JSONL files (the same kinds of rows): the "
                                    "validation loss every eval_steps and at the end")
    eval_steps: int = _f(100, "with eval_data: a validation loss every this many steps")
    output: str = _f("", "folder for the final model, checkpoint-N folders and log.jsonl")
    learning_rate: float = _f(2e-5, "peak learning rate (MMOS: 2e-5 for 7B/13B, 1e-5 for 34B)")
    epochs: float = _f(3.0, "passes over the data")
    max_steps: int = _f(0, "optimizer steps; 0: as many as the epochs make")
    batch_size: int = _f(128, "examples per optimizer step, over all devices")
    micro_batch_size: int = _f(4, "examples per forward pass on one device")
    max_length: int = _f(2048, "tokens of prompt + completion; longer examples are left out")
    warmup_ratio: float = _f(0.03, "share of the steps that warm the learning rate up")
    lr_scheduler: str = _f("cosine", "decay after warmup: " + ", ".join(SCHEDULERS))
    weight_decay: float = _f(0.0, "AdamW weight decay")
    max_grad_norm: float = _f(1.0, "gradient clipping (0: none)")
    precision: str = _f("auto", "auto (bf16 where the GPU has it, else fp32), bf16, fp16, fp32")
    gradient_checkpointing: bool = _f(False, "recompute activations: less memory, ~30% slower")
    packing: bool = _f(False, "one row per micro-batch, no attention across examples: no "
                       "padding (fast with flash_attention_2; sdpa masks cost length^2)")
    group_by_length: bool = _f(False, "micro-batches of similar lengths: less padding")
    chat_template: bool = _f(False, "GSM8K rows: ask through the model's chat template")
    attention: str = _f("sdpa", "sdpa, flash_attention_2, flex_attention or eager")
    lora_r: int = _f(0, "0: full fine-tuning; else the LoRA rank (needs peft)")
    lora_alpha: int = _f(16, "LoRA scaling")
    lora_dropout: float = _f(0.05, "LoRA dropout")
    lora_targets: str = _f("all-linear", "LoRA modules: all-linear, or names joined by commas")
    save_steps: int = _f(500, "a checkpoint-N folder every this many steps")
    save_total_limit: int = _f(2, "checkpoint folders kept")
    logging_steps: int = _f(10, "a log line every this many steps")
    seed: int = _f(0, "data order and initialisation: same seed, same weights")
    deepspeed: str = _f("", "DeepSpeed JSON config for torchrun (accelerate launch has its own)")
    tensorboard: bool = _f(True, "also log to TensorBoard when it is installed")

    def __post_init__(self):
        for f in fields(self):
            if f.type == "float" and not math.isfinite(getattr(self, f.name)):
                raise BadValue(f.name, f"{f.name} = {getattr(self, f.name)!r} must be finite")
        check = [
            (self.learning_rate > 0, "learning_rate", "must be positive"),
            (self.epochs > 0, "epochs", "must be positive"),
            (self.max_steps >= 0, "max_steps", "must be 0 (use epochs) or more"),
            (self.batch_size >= 1, "batch_size", "must be at least 1"),
            (self.micro_batch_size >= 1, "micro_batch_size", "must be at least 1"),
            (self.max_length >= 2, "max_length", "must be at least 2"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio", "must be in [0, 1)"),
            (self.lr_scheduler in SCHEDULERS, "lr_scheduler", f"choose one of {SCHEDULERS}"),
            (self.weight_decay >= 0, "weight_decay", "must be 0 or more"),
            (self.max_grad_norm >= 0, "max_grad_norm", "must be 0 (no clipping) or more"),
            (self.precision in PRECISIONS, "precision", f"choose one of {PRECISIONS}"),
            (self.lora_r >= 0, "lora_r", "must be 0 (full fine-tuning) or a rank"),
            (self.save_steps >= 1, "save_steps", "must be at least 1"),
            (self.save_total_limit >= 1, "save_total_limit", "must be at least 1"),
            (self.logging_steps >= 1, "logging_steps", "must be at least 1"),
            (self.eval_steps >= 1, "eval_steps", "must be at least 1"),
        ]
        for ok, name, message in check:
            if not ok:
                raise BadValue(name, f"{name} = {getattr(self, name)!r} {message}")

    def accumulation(self, world_size: int) -> int:
        """Micro-batches per optimizer step on each device, so that a step sees batch_size
        examples; batch_size must split evenly."""
        per_step = self.micro_batch_size * world_size
        if self.batch_size % per_step:
            raise MathgenError(
                f"batch_size {self.batch_size} is not a multiple of micro_batch_size "
                f"{self.micro_batch_size} x {counted(world_size, 'device')}; choose a "
                f"batch_size of {max(1, self.batch_size // per_step) * per_step} or another micro_batch_size")
        return self.batch_size // per_step


FIELDS = {f.name: f for f in fields(TrainConfig)}


def _coerce(name: str, value, where: dict):
    """``value`` as the field's type; bad values name the file and key."""
    kind = FIELDS[name].type
    try:
        if kind == "tuple[str, ...]":
            value = [value] if isinstance(value, str) else value
            value = list(value) if isinstance(value, tuple) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            return tuple(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            return value
        if kind == "float":
            if isinstance(value, bool):
                raise TypeError
            return float(value)  # YAML reads 2e-5 as text
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        wanted = {"tuple[str, ...]": "a list of paths", "bool": "true or false",
                  "int": "a whole number", "float": "a number"}.get(kind, "text")
        raise InputError(f"{value!r} is not {wanted}", **where, field=name,
                         hint=f"set {name} to {wanted}") from None


def load_config(path=None, **overrides) -> TrainConfig:
    """Defaults, then the YAML file at ``path`` (when given), then ``overrides`` (None: unset)."""
    values, lines = read_yaml(path) if path is not None else ({}, {})
    from_file = set(values)
    for name, value in overrides.items():
        if name not in FIELDS:
            raise MathgenError(f"unknown training option {name!r}")
        if value is not None:
            values[name] = _coerce(name, value, {"path": "command line"})
            from_file.discard(name)
    try:
        return TrainConfig(**values)
    except BadValue as err:
        if err.field not in from_file:
            raise
        raise InputError(str(err).split(" = ", 1)[1], path=path, line=lines.get(err.field),
                         field=err.field, hint="fix the value in the file") from None


def read_yaml(path) -> tuple[dict, dict]:
    """The options a YAML file sets, checked and typed, and the line of each."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the file ({err})", path=path,
                         hint="give a YAML file of training options") from None
    try:
        loaded = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(f"not valid YAML ({getattr(err, 'problem', None) or err})", path=path,
                         line=mark.line + 1 if mark else None,
                         hint="write one 'name: value' per line") from None
    if loaded is None:
        return {}, {}
    if not isinstance(loaded, dict):
        raise InputError("is not a mapping of option names to values", path=path,
                         hint="write one 'name: value' per line, such as 'learning_rate: 1e-5'")
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    out = {}
    for name, value in loaded.items():
        where = {"path": path, "line": lines.get(str(name))}
        if name not in FIELDS:
            raise InputError("unknown training option", **where, field=str(name),
                             hint=f"known options: {', '.join(FIELDS)}")
        out[name] = _coerce(name, value, where)
    return out, lines


def as_yaml(config: TrainConfig) -> str:
    """The whole configuration, as the YAML ``--config`` reads (written beside the model)."""
    import yaml

    values = dataclasses.asdict(config)
    values["data"], values["eval_data"] = list(values["data"]), list(values["eval_data"])
    return yaml.safe_dump(values, sort_keys=False)


def click_options(command):
    """One flag per field (``--learning-rate``, ``--packing/--no-packing``, ``--data`` repeated);
    a flag not given is None, so the YAML file or the default stands."""
    import click

    for f in reversed(fields(TrainConfig)):
        flag = "--" + f.name.replace("_", "-")
        shown = f.default if f.default not in ("", ()) else "none"
        text = f"{f.metadata['help']} [default: {shown}]"
        if f.type == "bool":
            option = click.option(f"{flag}/--no-{flag[2:]}", f.name, default=None, help=text)
        elif f.type == "tuple[str, ...]":
            option = click.option(flag, f.name, multiple=True, metavar="FILE",
                                  help=f"{f.metadata['help']} (repeatable)")
        else:
            kind = {"int": int, "float": float, "str": str}[f.type]
            option = click.option(flag, f.name, type=kind, default=None, help=text)
        command = option(command)
    return command
