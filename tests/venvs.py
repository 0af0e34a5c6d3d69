"""Fresh virtual environments for the tests that install mathgen as a user does.

Each environment is made with ``python -m venv --system-site-packages``: the heavy packages
already installed beside the interpreter (torch, transformers) are visible in it, so no test
downloads gigabytes, while mathgen itself is installed into the environment from a copy of
the checkout, by the documentation's own pip lines.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "mathgen-mmos"  # setup.cfg's name; the import name stays mathgen

# what a build or a test run leaves in a checkout; never part of what a user clones
_NOT_SOURCE = (".git", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
               ".hypothesis", "out", ".gl")


def require_index() -> None:
    """Skip unless pip's configured package index answers: pip fetches the build back end
    (setuptools) from it for every install of the checkout."""
    found = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "setuptools"],
                           capture_output=True, text=True, timeout=300)
    if found.returncode != 0:
        pytest.skip("no package index reachable (pip index versions setuptools failed): "
                    "pip needs one for the build back end")


def checkout_copy(dest: Path) -> Path:
    """A copy of the checkout's source files at ``dest``, so installs leave no build files in
    the working tree."""
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    return dest


def fresh_venv(folder: Path) -> dict:
    """Make a virtual environment in ``folder``; returns the environment variables that
    activate it (its ``bin`` first on PATH), as ``source bin/activate`` would."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)],
                   check=True, capture_output=True)
    bin_dir = folder / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(VIRTUAL_ENV=str(folder), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    return env


def from_checkout(pip_line: str, checkout: Path) -> str:
    """A documented ``pip install`` line with the distribution name replaced by the checkout
    folder, extras kept: ``pip install 'mathgen-mmos[train]'`` -> ``pip install '/c[train]'``."""
    pattern = re.compile(r"(['\"]?)" + re.escape(DISTRIBUTION) + r"(\[[\w,-]+\])?\1(?=\s|$)")
    line, count = pattern.subn(lambda m: f"'{checkout}{m.group(2) or ''}'", pip_line)
    assert count == 1, f"the pip line names {DISTRIBUTION} once: {pip_line}"
    return line


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """Run one shell command; fail the test with its output when it fails."""
    result = subprocess.run(command, shell=True, cwd=cwd, env=env, text=True,
                            capture_output=True)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def assert_mathgen_from(env: dict, cwd: Path, *places: Path) -> None:
    """``import mathgen`` and the ``mathgen`` command both come from one of ``places`` (the
    fresh environment, or the checkout of an editable install), not from an install beside
    the interpreter."""
    where = run("python -c 'import mathgen; print(mathgen.__file__)'", cwd, env).stdout.strip()
    command = shutil.which("mathgen", path=env["PATH"])
    for path in (where, command):
        assert path is not None
        assert any(Path(path).resolve().is_relative_to(p.resolve()) for p in places), \
            (path, places)
