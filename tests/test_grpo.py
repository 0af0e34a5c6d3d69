"""mathgen.rewards in TRL's GRPOTrainer: a few steps on CPU with a tiny tool-integrated Llama
built by the test, on perturbed problems; the policy's parameters must change."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch", reason="GRPO needs torch (pip install torch)")
pytest.importorskip("transformers", reason="GRPO needs transformers")
trl = pytest.importorskip("trl", reason="GRPO needs trl (pip install 'mathgen[rl]')")
datasets = pytest.importorskip("datasets", reason="GRPOTrainer reads a datasets.Dataset")

from mathgen.generator import perturb_problem  # noqa: E402
from mathgen.records import Problem, Rejection  # noqa: E402
from mathgen.rewards import correctness_reward  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="the code reward runs programs in mathgen.sandbox")]


def rows() -> list[dict]:
    """The tiny model's questions (which it answers with a program) and variants of them with
    new numbers (which it has never seen), as GRPO rows: a tora prompt and the exact answer."""
    from tiny_models import TRANSCRIPTS, prompt

    out = []
    for i, (question, program, shown, _) in enumerate(TRANSCRIPTS[:4]):
        a, op, b = program[len("print("):-1].split()
        value = {"*": int(a) * int(b), "-": int(a) - int(b)}[op]
        out.append({"prompt": prompt(question), "final_answer": str(value)})
        original = Problem(f"tiny:{i}", i + 1, question,
                           f"It is {a} {op} {b} = <<{a}{op}{b}={value}>>{value}.\n#### {value}",
                           Fraction(value), "gsm8k")
        variants = perturb_problem(original, "similar", n=1, seed=0)
        if not isinstance(variants, Rejection):
            out += [{"prompt": prompt(v.question), "final_answer": v.final_answer}
                    for v in variants]
    return out


def test_grpo_steps_change_the_policy(tmp_path):
    from tiny_models import tiny_tora_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_tora_model(tmp_path / "policy")
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    train = rows()
    assert len(train) > 4  # the variants are there

    seen = []

    def reward(completions, **columns):  # records what the trainer got
        values = correctness_reward(completions, **columns)
        seen.extend(values)
        return values

    reward.__name__ = "correctness_reward"
    config = trl.GRPOConfig(
        output_dir=str(tmp_path / "grpo"), max_steps=3, per_device_train_batch_size=8,
        num_generations=4, max_completion_length=48, temperature=1.3, learning_rate=1e-2,
        logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=0,
        dataloader_num_workers=0)
    trainer = trl.GRPOTrainer(model=model, reward_funcs=[reward], args=config,
                              train_dataset=datasets.Dataset.from_list(train),
                              processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 3
    # the rewards were real: some sampled completions right, some wrong
    assert 0.0 in seen and 1.0 in seen, seen
    changed = [n for n, p in trainer.model.named_parameters()
               if not torch.equal(p.detach().cpu(), before[n])]
    assert changed, "no parameter changed"
    logged = [h for h in trainer.state.log_history if "rewards/correctness_reward/mean" in h]
    assert logged
