"""Smaller promises of the command line: the help lists every strategy, a mistyped local
model folder fails at once without asking a model hub."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from conftest import GSM8K_ROW, write_rows

from mathgen.cli import main
from mathgen.generator.strategies import NAMES
from mathgen.model_path import looks_local


def mathgen(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_perturb_help_lists_every_strategy():
    text = " ".join(mathgen("perturb", "--help").output.split())
    for name in NAMES:
        assert name in text, name


@pytest.mark.parametrize("name, local", [
    ("./tiny-sft", True), ("../models/base", True), ("/srv/models/llama", True),
    ("~/models/base", True), ("runs/2024/sft", True), ("C:\\models\\base", True),
    ("a b", True), ("Qwen/Qwen2.5-0.5B", False), ("gpt2", False), ("tiny-sft", False),
    ("meta-llama/Llama-3.1-8B-Instruct", False),
])
def test_what_looks_like_a_local_folder(name, local):
    assert looks_local(name) is local


def _args(command, tmp_path, model):
    data = write_rows(tmp_path / "d.jsonl", [GSM8K_ROW])
    if command == "train":
        return ["train", "--model", model, "--data", data, "--output", tmp_path / "o"]
    if command == "sample":
        return ["sample", data, "-o", tmp_path / "s.jsonl", "--backend", "hf", "--model", model]
    return ["robustness-report", "--set", f"d={data}", "--backend", "hf", "--model", model,
            "--out", tmp_path / "rep"]


@pytest.mark.parametrize("command", ["train", "sample", "robustness-report"])
@pytest.mark.parametrize("model", ["./tiny-sfft", "runs/0/sft", "~/no-such-model-folder"])
def test_a_missing_local_model_folder_fails_at_once(tmp_path, monkeypatch, command, model):
    # a loader would reach for the hub, which this must never do
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    started = time.perf_counter()
    result = mathgen(*_args(command, tmp_path, model))
    assert time.perf_counter() - started < 10
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and model in lines[0] and "no such model folder" in lines[0], lines
