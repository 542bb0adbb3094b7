"""The otter autograder zip grades correctly on its own, in an environment built only from its files.

Gradescope and otter's Docker grading (``otter grade``) build one image from the
autograder zip -- its ``environment.yml`` -- and grade each submission in its
own container with otter's runner.  This test replays that without Docker: an
empty virtual environment with this machine's Python (the version the zip's
``environment.yml`` asks for) receives *only* the pip requirements of that
file (from PyPI through pip's cache; nothing of the checkout), and otter's own
runner, ``otter run -a <zip> <notebook>`` started from that environment, grades
a solved and a blank ``two_pillars`` notebook in a folder outside the
repository.  ``course_lib`` is not on PyPI: the zip ships its sources under
``files/course_lib/``, which otter copies next to the submission.

This path runs the checks in the student's process (otter's own model: the
tests execute in the kernel that ran the submission, so a hostile notebook
could tamper with them); grading for credit uses ``python -m course_lib.grading``,
which runs the submission in a sandbox and the tests outside it
(``tests/test_grading_clean_venv.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NAME = "two_pillars"
ZIP = ROOT / "exercises" / "autograder" / f"{NAME}-autograder.zip"



def _run(cmd: list[str], cwd: Path, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_", "JUPYTER"))}
    bin_dir = Path(cmd[0]).parent  # the new environment's tools first; no other environment on the path
    env["PATH"] = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _zip_environment(path: Path = ZIP) -> tuple[str, list[str]]:
    """The Python version and the pip requirements of the zip's ``environment.yml``."""
    with zipfile.ZipFile(path) as zf:
        env = yaml.safe_load(zf.read("environment.yml"))
    deps = env["dependencies"]
    (python,) = [d.split("=", 1)[1] for d in deps if isinstance(d, str) and d.startswith("python=")]
    (pip,) = [d["pip"] for d in deps if isinstance(d, dict)]
    return python, pip


def _norm(name: str) -> str:
    """A package name in pip's normal form (``ml_dtypes`` -> ``ml-dtypes``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _score(results: Path) -> tuple[float, float]:
    """Total score and maximum of otter's ``results.json`` (Gradescope format)."""
    data = json.loads(results.read_text())
    assert not [t for t in data["tests"] if t.get("name") == "Autograder Failed"], data
    scored = [t for t in data["tests"] if "max_score" in t]
    assert scored, data
    return sum(t["score"] for t in scored), sum(t["max_score"] for t in scored)


@pytest.mark.parametrize("path", sorted((ROOT / "exercises" / "autograder").glob("*-autograder.zip")), ids=lambda p: p.stem)
def test_every_zip_pins_the_repository_versions_and_ships_course_lib(path):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    lock = {_norm(k): v for k, v in lock.items()}
    python, requirements = _zip_environment(path)
    assert project["requires-python"].startswith(f">={python},")
    pins = {_norm(re.sub(r"\[.*\]", "", r.split("==")[0])): r.split("==")[1] for r in requirements}
    assert len(pins) == len(requirements) and all("==" in r for r in requirements)
    for dep in project["dependencies"]:  # every runtime dependency, at the version of pyproject.toml
        name, version = dep.split("==")
        assert pins[_norm(name)] == version, dep
    assert pins["scipy"] == lock["scipy"]  # and what they pull in, at the version of constraints.txt
    assert {k: v for k, v in pins.items() if lock.get(k) != v} == {}
    with zipfile.ZipFile(path) as zf:
        shipped = zf.read("files/course_lib/__init__.py")
    assert shipped == (ROOT / "course_lib" / "__init__.py").read_bytes()


@pytest.mark.slow
def test_zip_environment_alone_grades_a_solution_and_a_blank_notebook(tmp_path):
    python_version, requirements = _zip_environment()
    assert python_version == f"{sys.version_info.major}.{sys.version_info.minor}", (
        f"the zip asks for Python {python_version}; run this test with that version")
    assert any(r.startswith("jax==") for r in requirements) and any(r.startswith("otter-grader") for r in requirements)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 300)
    python = venv / "bin" / "python"
    (tmp_path / "requirements.txt").write_text("\n".join(requirements) + "\n")
    _run([str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], tmp_path, 1800)

    work = tmp_path / "teacher"  # outside the repository: nothing of the checkout is importable
    work.mkdir()
    missing = _run([str(python), "-c", "import course_lib"], work, 300, check=False)
    assert missing.returncode != 0 and "No module named 'course_lib'" in missing.stderr
    shutil.copy(ZIP, work / "autograder.zip")
    unpacked = tmp_path / "unpacked"  # the support files the zip carries: an importable course_lib
    with zipfile.ZipFile(ZIP) as zf:
        zf.extractall(unpacked)
    where = _run([str(python), "-c", "import course_lib; print(course_lib.__file__)"], unpacked / "files", 300)
    assert Path(where.stdout.strip()).is_relative_to(unpacked), where.stdout

    scores = {}
    for kind, notebook in (("solved", ROOT / "solutions" / f"{NAME}.ipynb"),
                           ("blank", ROOT / "exercises" / f"{NAME}.ipynb")):
        folder = work / kind
        folder.mkdir()
        shutil.copy(notebook, folder / f"{NAME}.ipynb")
        _run([str(venv / "bin" / "otter"), "run", "-a", str(work / "autograder.zip"), "-o", str(folder),
              "--no-logo", str(folder / f"{NAME}.ipynb")], folder, 1200)
        scores[kind] = _score(folder / "results.json")
    (solved, possible), (blank, blank_possible) = scores["solved"], scores["blank"]
    assert possible == blank_possible == 10
    assert solved == possible, scores
    assert blank == 0, scores
