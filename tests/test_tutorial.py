"""docs/tutorial.md, run as written in a fresh virtual environment: its pip line (with the
checkout in place of the package index), then templates -> a tiny model -> mathgen train ->
report. The environment sees the interpreter's own packages (``venv --system-site-packages``)
so torch is not downloaded again; mathgen itself is installed into it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from venvs import assert_mathgen_from, checkout_copy, fresh_venv, from_checkout, require_index, run

pytest.importorskip("torch", reason="the tutorial trains a model (pip install torch)")
pytest.importorskip("transformers", reason="the tutorial trains a model")
pytest.importorskip("accelerate", reason="the transformers Trainer needs accelerate")

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def steps(text: str) -> list[tuple[str, str]]:
    """The tutorial's commands in order: ("python", source), ("pip", line) or ("bash", one
    command)."""
    out = []
    for kind, body in re.findall(r"```(bash|python)\n(.*?)```", text, re.DOTALL):
        if kind == "python":
            out.append((kind, body))
            continue
        for command in body.replace("\\\n", " ").splitlines():
            if command.strip():
                out.append(("pip" if command.startswith("pip ") else kind, command))
    return out


@pytest.mark.slow
def test_tutorial_runs_and_accuracy_falls_with_number_size(tmp_path):
    require_index()
    checkout = checkout_copy(tmp_path / "checkout")
    venv = tmp_path / "venv"
    env = fresh_venv(venv)
    work = tmp_path / "work"
    work.mkdir()
    done = []
    for kind, body in steps(TUTORIAL.read_text()):
        if kind == "pip":
            body = from_checkout(body, checkout)
        elif kind == "python":  # the tutorial saves it as tiny.py and runs it
            (work / "tiny.py").write_text(body)
            body = "python tiny.py"
        run(body, work, env)
        if kind == "pip":
            assert_mathgen_from(env, work, venv)
        done.append(body.split()[:2])
    assert done[0] == ["pip", "install"], "the tutorial starts by installing mathgen"
    assert ["mathgen", "train"] in done and ["mathgen", "robustness-report"] in done

    log = [json.loads(ln) for ln in (work / "tiny-sft" / "log.jsonl").open()]
    losses = [ln["loss"] for ln in log if "loss" in ln]
    assert losses[-1] < losses[0] / 10
    sets = json.loads((work / "report" / "metrics.json").read_text())["sets"]
    small, large = sets["small"]["accuracy"], sets["large"]["accuracy"]
    # what the tutorial says: nearly all of the small-number problems, none of the large
    assert small >= 0.8 and large <= 0.05, (small, large)
