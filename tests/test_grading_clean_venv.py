"""Grading for credit works from a fresh virtual environment built from the repository.

``course_lib`` is not on PyPI: a teacher creates an environment from a copy of
the repository (``pip install .`` with the pinned ``constraints.txt``) and runs
``python -m course_lib.grading`` with the autograder zip, as the teacher guide
says.  This test does exactly that in an empty virtual environment -- a regular
(non-editable) install, so that the sandbox sees the installed package and
nothing of the checkout -- and grades a solved and a blank notebook from a
folder outside the repository.  Packages come from PyPI through pip's cache.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.grading_sandbox import sandbox_available

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(sandbox_available()), reason=f"no sandbox here: {sandbox_available()}"),
]


def _run(cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_fresh_venv_grades_a_solution_and_a_blank_notebook(tmp_path):
    source = tmp_path / "course"  # only what `pip install .` needs, so the checkout stays clean
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "course_lib", source / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 300)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "."], source, 1800)

    work = tmp_path / "teacher"  # outside the repository: nothing of the checkout is importable
    (work / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "two_pillars.ipynb", work / "submissions" / "solved.ipynb")
    shutil.copy(ROOT / "exercises" / "two_pillars.ipynb", work / "submissions" / "blank.ipynb")
    shutil.copy(ROOT / "solutions" / "two_pillars.ipynb", work / "solution.ipynb")
    shutil.copy(ROOT / "exercises" / "autograder" / "two_pillars-autograder.zip", work / "autograder.zip")
    where = _run([str(python), "-c", "import course_lib; print(course_lib.__file__)"], work, 300).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the checkout
    proc = _run([str(python), "-m", "course_lib.grading", "--autograder", "autograder.zip", "--out", "scores.csv",
                 "--workers", "2", "--warm-up", "solution.ipynb", "--no-progress",
                 "submissions/solved.ipynb", "submissions/blank.ipynb"], work, 1200)
    rows = {Path(r["submission"]).name: r for r in csv.DictReader((work / "scores.csv").open())}
    assert rows["max"]["total"] == "10"
    assert rows["solved.ipynb"]["total"] == "10" and rows["solved.ipynb"]["error"] == ""
    assert rows["blank.ipynb"]["total"] == "0" and rows["blank.ipynb"]["error"].startswith("no test passed")
    assert "graded 2 submissions: mean 5 / 10" in proc.stdout
