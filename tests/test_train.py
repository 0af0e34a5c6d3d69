"""mathgen train: a tiny Llama built here (tokenizer trained on the fly), trained on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_rows

torch = pytest.importorskip("torch", reason="training needs torch (pip install torch)")
pytest.importorskip("transformers", reason="training needs transformers")
pytest.importorskip("accelerate", reason="the transformers Trainer needs accelerate")

from mathgen.cli import main  # noqa: E402
from mathgen.robustness.prompts import Style  # noqa: E402
from mathgen.training.config import TrainConfig, load_config  # noqa: E402
from mathgen.training.data import IGNORE, Collator, load  # noqa: E402

# prompt/completion rows (the mmos build format): one question pattern, its program and answer
ROWS = [{"prompt": f"<|user|>\nWhat is {a} plus {b}?\n<|assistant|>\n",
         "completion": f"```python\nprint({a} + {b})\n```\n```output\n{a + b}\n```\n"
                       f"So the answer is $\\boxed{{{a + b}}}$."}
        for a in range(2, 7) for b in range(3, 6)]
GSM_ROW = {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?",
           "answer": "Tom has 3 + 4 = <<3+4=7>>7 apples.\n#### 7"}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """An untrained tiny Llama and its tokenizer, saved as a model folder."""
    from tiny_models import tiny_llama

    texts = [r["prompt"] + r["completion"] for r in ROWS] + [GSM_ROW["question"],
                                                             GSM_ROW["answer"]]
    model, tokenizer = tiny_llama(texts, vocab_size=300)
    folder = tmp_path_factory.mktemp("base")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_rows(tmp_path_factory.mktemp("data") / "train.jsonl", ROWS)


def quick(base, data, output, **options) -> TrainConfig:
    """A few seconds of training: full batches of the 15 rows, a high learning rate."""
    values = dict(model=str(base), data=(str(data),), output=str(output), batch_size=5,
                  micro_batch_size=5, learning_rate=3e-3, epochs=4, warmup_ratio=0.1,
                  logging_steps=1, save_steps=4, save_total_limit=10, tensorboard=False)
    return TrainConfig(**{**values, **options})


def run(config, **kwargs) -> dict:
    from mathgen.training.sft import train

    return train(config, echo=lambda *_: None, **kwargs)


def weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def losses(output: Path) -> list[float]:
    lines = [json.loads(ln) for ln in (output / "log.jsonl").read_text().splitlines()]
    return [ln["loss"] for ln in lines if "loss" in ln]


def test_defaults_are_the_mmos_recipe():
    c = TrainConfig()
    assert (c.learning_rate, c.batch_size, c.warmup_ratio, c.max_length) == (2e-5, 128, 0.03, 2048)
    assert c.lora_r == 0 and c.precision == "auto"  # full fine-tuning, bf16 on GPUs that have it


def test_yaml_then_flags(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("learning_rate: 1e-5\nepochs: 2\npacking: true\ndata: a.jsonl\n")
    c = load_config(cfg, epochs=5.0, packing=None)
    assert (c.learning_rate, c.epochs, c.packing, c.data) == (1e-5, 5.0, True, ("a.jsonl",))
    assert c.batch_size == 128  # untouched: the default


@pytest.mark.parametrize("text, line, field", [
    ("epochs: 2\nlearning_rte: 1e-5\n", 2, "learning_rte"),
    ("packing: 3\n", 1, "packing"),
    ("epochs: many\n", 1, "epochs"),
    ('epochs: 2\n"learning_rate": -1\n', 2, "learning_rate"),  # a value out of range
    ("epochs: .inf\n", 1, "epochs"),
    ("- 1\n- 2\n", None, None),
    ("epochs: [1\n", None, None),
])
def test_bad_yaml_names_file_line_and_field(tmp_path, text, line, field):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(text)
    result = CliRunner().invoke(main, ["train", "--config", str(cfg)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert str(cfg) + (f":{line}" if line else "") in message
    if field:
        assert f"field '{field}'" in message


def test_labels_mask_the_prompt(base, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    path = write_rows(tmp_path / "mixed.jsonl", [ROWS[0], GSM_ROW])
    examples = load([path], tokenizer, max_length=512)
    assert (examples.rows, len(examples)) == (2, 2)
    batch = Collator(tokenizer.pad_token_id, packing=False)([examples[0], examples[1]])
    cot = Style("cot").prompt(GSM_ROW["question"])  # as robustness-report --prompt cot asks
    for i, (prompt, completion) in enumerate([
            (ROWS[0]["prompt"], ROWS[0]["completion"]),
            (cot, " Tom has 3 + 4 = 7 apples.\nThe answer is 7.")]):
        ids, labels = batch["input_ids"][i], batch["labels"][i]
        learnt = ids[labels != IGNORE]
        # exactly the completion and the end of sequence carry loss, nothing of the prompt
        assert tokenizer.decode(learnt) == completion + tokenizer.eos_token
        assert tokenizer.decode(ids[:examples.prompt_lengths[i]]) == prompt
    # padding carries neither loss nor attention
    short = int(batch["attention_mask"][0].sum())
    assert (batch["labels"][0, short:] == IGNORE).all()


def test_too_long_examples_are_counted_not_lost(base, data):
    from transformers import AutoTokenizer

    examples = load([data], AutoTokenizer.from_pretrained(base), max_length=30)
    assert examples.rows == len(ROWS) == len(examples) + examples.too_long
    assert examples.too_long > 0


def test_packed_loss_is_the_sum_of_separate_losses(base, data):
    from transformers import AutoTokenizer

    from mathgen.training.sft import load_model

    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = load([data], tokenizer, max_length=512)
    items = [examples[i] for i in range(4)]
    model = load_model(quick(base, data, "unused"), "fp32")

    def total(batch):  # the summed loss over its tokens with a label
        out = model(**batch)
        return float(out.loss) * int((batch["labels"][:, 1:] != IGNORE).sum())

    with torch.no_grad():
        alone = sum(total(Collator(tokenizer.pad_token_id, False)([x])) for x in items)
        packed = total(Collator(tokenizer.pad_token_id, True)(items))
        padded = total(Collator(tokenizer.pad_token_id, False)(items))
    assert packed == pytest.approx(alone, rel=1e-5)
    assert padded == pytest.approx(alone, rel=1e-5)


def test_loss_falls_and_the_model_answers_in_the_hf_backend(base, data, tmp_path):
    from mathgen.robustness.backends import Sampling, load_backend

    out = tmp_path / "out"
    summary = run(quick(base, data, out, epochs=60, packing=True, save_steps=1000))
    seen = losses(out)
    assert summary["steps"] == 180 and len(seen) == 180
    assert seen[-1] < seen[0] / 10
    for name in ("config.json", "model.safetensors", "tokenizer.json", "log.jsonl",
                 "train_config.yaml", "summary.json"):
        assert (out / name).exists(), name
    backend = load_backend("hf", str(out), Sampling(temperature=0, max_tokens=60))
    prompts = [r["prompt"] for r in ROWS[:3]]
    answers = dict((i, text) for i, text, _ in backend.generate(prompts, stop=["```output"]))
    for i, row in enumerate(ROWS[:3]):
        assert answers[i] + "```output" == row["completion"][:len(answers[i]) + 9]
        assert "print(" in answers[i]


def test_stop_and_resume_gives_the_same_weights(base, data, tmp_path):
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 8:
                control.should_training_stop = True

    whole = tmp_path / "whole"
    run(quick(base, data, whole, epochs=6))
    parts = tmp_path / "parts"
    first = run(quick(base, data, parts, epochs=6), callbacks=[StopAt()])
    assert first["steps"] == 8 and first["stopped"]
    assert not (parts / "model.safetensors").exists()  # no final model from a stopped run
    with pytest.raises(Exception, match="--resume"):
        run(quick(base, data, parts, epochs=6))
    second = run(quick(base, data, parts, epochs=6), resume=True)
    assert second["steps"] == 18
    a, b = weights(whole), weights(parts)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert losses(whole) == losses(parts)  # the log reads as one run
    steps = [json.loads(ln)["step"] for ln in (parts / "log.jsonl").open()]
    assert steps == sorted(steps) and steps.count(8) == 1  # no end-of-run line of the stop


def test_sigint_saves_a_checkpoint_and_resume_finishes(base, data, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "mathgen.cli", "train", "--model", str(base), "--data",
            str(data), "--output", str(out), "--batch-size", "5", "--micro-batch-size", "5",
            "--epochs", "400", "--logging-steps", "1", "--save-steps", "100000",
            "--no-tensorboard"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = out / "log.jsonl"
    deadline = time.time() + 120
    while not (log.exists() and log.read_text().count("\n") >= 3) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output  # as a shell reports Ctrl-C: `train && x` stops
    assert "stopped (SIGINT)" in output and "with --resume" in output
    checkpoints = sorted(out.glob("checkpoint-*"))
    assert len(checkpoints) == 1 and not (out / "model.safetensors").exists()
    step = int(checkpoints[0].name.split("-")[1])
    assert 3 <= step < 1200
    done = subprocess.run(args + ["--resume", "--max-steps", str(step + 2)], text=True,
                          capture_output=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "model.safetensors").exists()


def test_lora_saves_a_merged_model(base, data, tmp_path):
    pytest.importorskip("peft", reason="LoRA needs peft")
    out = tmp_path / "lora"
    run(quick(base, data, out, epochs=2, lora_r=4, lora_alpha=8))
    trained, start = weights(out), weights(base)
    assert trained.keys() == start.keys()  # a plain model: no adapter left to load
    assert any(not torch.equal(trained[k], start[k]) for k in start)


def test_gsm8k_rows_and_gradient_checkpointing(base, tmp_path):
    path = write_rows(tmp_path / "gsm.jsonl", [GSM_ROW] * 4)
    summary = run(TrainConfig(model=str(base), data=(str(path),), output=str(tmp_path / "o"),
                              batch_size=2, micro_batch_size=2, epochs=1, learning_rate=1e-3,
                              gradient_checkpointing=True, tensorboard=False))
    assert summary["steps"] == 2 and summary["examples"] == 4


@pytest.mark.parametrize("rows, message", [
    ([ROWS[0], {"prompt": "x"}], ":2: field 'completion': missing or empty"),
    ([{"text": "x"}], ":1: has neither 'prompt' and 'completion'"),
    ([{"question": "x", "answer": "no final line"}], ":1: field 'answer': has no final"),
])
def test_bad_rows_fail_with_file_line_and_field(base, tmp_path, rows, message):
    path = write_rows(tmp_path / "bad.jsonl", rows)
    result = CliRunner().invoke(main, ["train", "--model", str(base), "--data", str(path),
                                       "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"mathgen: error: {path}{message}" in result.output
    assert result.output.count("\n") == 1


def test_cli_refusals(base, data, tmp_path):
    def refused(*extra):
        result = CliRunner().invoke(main, ["train", "--model", str(base), "--data", str(data),
                                           "--output", str(tmp_path / "o"), *extra])
        assert result.exit_code == 2, result.output
        return result.output

    assert "not a multiple of micro_batch_size" in refused("--batch-size", "10",
                                                           "--micro-batch-size", "4")
    assert "no checkpoint-N folder" in refused("--resume")
    assert "learning_rate = -1.0 must be positive" in refused("--learning-rate", "-1")
    assert "lora_targets 'nope'" in refused("--lora-r", "4", "--lora-targets", "nope",
                                            "--batch-size", "5", "--micro-batch-size", "5")
    assert "field 'prompt': is a written prompt" in refused("--chat-template")
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(main, ["train", "--model", str(base), "--data", str(data),
                                       "--output", str(tmp_path / "file")])
    assert result.exit_code == 2 and "is a file" in result.output
    (tmp_path / "o" / "checkpoint-3").mkdir(parents=True)
    assert "pass --resume" in refused()


def test_two_processes_train_the_same_weights_as_one(base, data, tmp_path):
    """accelerate launch, 2 CPU processes (DDP over gloo): batch_size stays the examples per
    step, so the run makes the same steps on the same examples as one process."""
    pytest.importorskip("accelerate.commands.launch")
    common = ["--model", str(base), "--data", str(data), "--batch-size", "6",
              "--micro-batch-size", "3", "--epochs", "2", "--learning-rate", "3e-3",
              "--save-steps", "1000", "--no-tensorboard"]
    one = subprocess.run([sys.executable, "-m", "mathgen.cli", "train", "--output",
                          str(tmp_path / "one"), *common], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--cpu",
                          "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
                          "no", "--dynamo_backend", "no", "-m", "mathgen.cli", "train",
                          "--output", str(tmp_path / "two"), *common],
                         capture_output=True, text=True)
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("read 15 rows") == 1  # one process speaks
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=name)
    steps = [json.loads(ln)["step"] for ln in (tmp_path / "two" / "log.jsonl").open()]
    assert max(steps) == 6  # 2 epochs of 15 examples, 6 a step (the last step has 3)


def test_shipped_launcher_configs_load():
    from accelerate.commands.config.config_args import load_config_from_file

    import mathgen.training

    folder = Path(mathgen.training.__file__).parent / "configs"
    zero3 = load_config_from_file(str(folder / "zero3.yaml"))
    assert zero3.distributed_type == "DEEPSPEED" and zero3.deepspeed_config["zero_stage"] == 3
    fsdp = load_config_from_file(str(folder / "fsdp.yaml"))
    assert fsdp.distributed_type == "FSDP" and fsdp.fsdp_config["fsdp_version"] == 2
    ds = json.loads((folder / "zero3.json").read_text())
    assert ds["zero_optimization"]["stage"] == 3
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True


CHAT_ROW = {"messages": [
    {"role": "system", "content": "Answer with a program."},
    {"role": "user", "content": "What is 4 plus 5?"},
    {"role": "assistant", "content": "```python\nprint(4 + 5)\n```"},
    {"role": "user", "content": "And 6 plus 2?"},
    {"role": "assistant", "content": "```python\nprint(6 + 2)\n```\nSo the answer is 8."}]}


def test_chat_rows_learn_only_the_last_assistant_turn(base, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)  # with the tora chat template
    path = write_rows(tmp_path / "chat.jsonl", [CHAT_ROW, ROWS[0]])  # chat and written rows mix
    examples = load([path], tokenizer, max_length=512)
    assert len(examples) == 2
    batch = Collator(tokenizer.pad_token_id, packing=False)([examples[0], examples[1]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    prompt = tokenizer.apply_chat_template(CHAT_ROW["messages"][:-1], tokenize=False,
                                           add_generation_prompt=True)
    assert tokenizer.decode(ids[:examples.prompt_lengths[0]]) == prompt
    # the earlier assistant turn is context: only the last one (and the end) carries loss
    assert tokenizer.decode(ids[labels != IGNORE]) == \
        CHAT_ROW["messages"][-1]["content"] + tokenizer.eos_token
    learnt = batch["input_ids"][1][batch["labels"][1] != IGNORE]
    assert tokenizer.decode(learnt) == ROWS[0]["completion"] + tokenizer.eos_token


@pytest.mark.parametrize("messages, message", [
    ("hello", "is not a list of at least two turns"),
    ([{"role": "user", "content": "hi"}], "is not a list of at least two turns"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant"}], "turn 2 is not a"),
    ([{"role": "assistant", "content": "hi"}, {"role": "user", "content": "ok"}],
     "does not end in an assistant turn"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}],
     "does not end in an assistant turn"),
])
def test_bad_chat_rows_name_file_line_and_field(base, tmp_path, messages, message):
    path = write_rows(tmp_path / "bad.jsonl", [ROWS[0], {"messages": messages}])
    result = CliRunner().invoke(main, ["train", "--model", str(base), "--data", str(path),
                                       "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"mathgen: error: {path}:2: field 'messages': {message}" in result.output
    assert result.output.count("\n") == 1


def test_chat_rows_need_a_chat_template(tmp_path):
    from tiny_models import tiny_llama

    model, tokenizer = tiny_llama(["hello there"], vocab_size=280)
    tokenizer.chat_template = None
    folder = tmp_path / "plain"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    path = write_rows(tmp_path / "chat.jsonl", [CHAT_ROW])
    result = CliRunner().invoke(main, ["train", "--model", str(folder), "--data", str(path),
                                       "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{path}:1: field 'messages': is a chat row" in result.output


def test_eval_data_logs_a_validation_loss(base, data, tmp_path):
    held = write_rows(tmp_path / "held.jsonl", ROWS[:3] + [CHAT_ROW])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "train", "--model", str(base), "--data", str(data), "--eval-data", str(held),
        "--eval-steps", "2", "--output", str(out), "--batch-size", "5",
        "--micro-batch-size", "5", "--epochs", "2", "--learning-rate", "3e-3",
        "--logging-steps", "1", "--save-steps", "1000", "--no-tensorboard"])
    assert result.exit_code == 0, result.output
    assert "read 4 held-out rows: 4 examples" in result.output
    assert "validation loss" in result.output
    log = [json.loads(ln) for ln in (out / "log.jsonl").read_text().splitlines()]
    evals = [(r["step"], r["eval_loss"]) for r in log if "eval_loss" in r]
    # every 2 of the 6 steps, then the final weights once more
    assert [s for s, _ in evals] == [2, 4, 6, 6]
    assert evals[-1][1] < evals[0][1]  # the held-out rows share the training rows' pattern
    summary = json.loads((out / "summary.json").read_text())
    assert summary["eval_loss"] == pytest.approx(evals[-1][1])
    assert "eval_data:" in (out / "train_config.yaml").read_text()
