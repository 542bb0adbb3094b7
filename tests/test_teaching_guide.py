"""The teacher guide (book/teaching.md): every shell command on it runs, in order, as written.

The commands run in a copy of the repository (so that generated files and
``scores.csv`` do not touch the checkout), with this interpreter's ``bin``
folder first on ``PATH`` so that ``python`` and ``otter`` are the course
environment's.  Then the test checks what the guide promises they produce.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "book" / "teaching.md"


def guide_commands() -> list[str]:
    """The lines of the guide's ```bash blocks, in order (comments and blank lines dropped)."""
    blocks = re.findall(r"^```bash\n(.*?)^```", GUIDE.read_text(), flags=re.M | re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_guide_is_in_the_book_and_has_commands():
    assert "file: book/teaching" in (ROOT / "_toc.yml").read_text()
    commands = guide_commands()
    assert len(commands) >= 8
    assert any(c.startswith("python -m course_lib.grading ") for c in commands)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    work = tmp_path_factory.mktemp("teacher") / "course"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".git", ".venv", "_build", "__pycache__", "*.egg-info",
                                                               "handout", "submissions", "scores.csv", "results.json"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    outputs = {}
    for command in guide_commands():
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"`{command}` failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        outputs[command] = proc
    return work, outputs


def _output(outputs, prefix: str) -> subprocess.CompletedProcess:
    return next(p for c, p in outputs.items() if c.startswith(prefix))


def test_listing_and_regeneration(ran):
    work, outputs = ran
    names = _output(outputs, "ls exercises/source").stdout.split()
    assert "two_pillars.ipynb" in names
    assert "wrote exercises/two_pillars.ipynb" in _output(outputs, "python tools/make_exercises.py two_pillars").stdout
    assert "up to date" in _output(outputs, "python tools/make_exercises.py --check").stdout
    # regenerating reproduced the committed files exactly
    for rel in ("exercises/two_pillars.ipynb", "solutions/two_pillars.ipynb",
                "exercises/autograder/two_pillars-autograder.zip"):
        assert (work / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_handout_has_notebook_and_public_tests_only(ran):
    work, _ = ran
    with zipfile.ZipFile(work / "handout" / "two_pillars.zip") as zf:
        names = sorted(zf.namelist())
    public = sorted(f"tests/two_pillars/{p.name}" for p in (ROOT / "exercises" / "tests" / "two_pillars").glob("*.py"))
    assert names == sorted(["two_pillars.ipynb", *public])


def test_batch_grading_gives_the_table_the_guide_describes(ran):
    work, outputs = ran
    proc = _output(outputs, "python -m course_lib.grading")
    rows = list(csv.DictReader((work / "scores.csv").open()))
    by_name = {Path(r["submission"]).name: r for r in rows}
    maximum = float(by_name["max"]["total"])
    assert maximum > 0
    assert float(by_name["solved.ipynb"]["total"]) == maximum and by_name["solved.ipynb"]["error"] == ""
    assert float(by_name["blank.ipynb"]["total"]) == 0
    assert f"graded 2 submissions: mean {maximum / 2:.3g} / {maximum:g}" in proc.stdout
    assert "1 with full marks" in proc.stdout
    assert "grading: 100%" in proc.stderr  # the progress bar


def test_single_grading_and_exercise_tests(ran):
    work, outputs = ran
    assert (work / "results.json").is_file()
    assert " passed" in _output(outputs, "python -m pytest").stdout
    assert "tests/q1.py" in _output(outputs, "python -m zipfile -l").stdout


def test_gradebook_exports_mark_missing_submissions_as_missing(ran):
    work, outputs = ran
    proc = _output(outputs, "python -m course_lib.gradebook")
    assert "wrote canvas.csv" in proc.stdout and "wrote moodle.csv" in proc.stdout
    canvas = list(csv.reader((work / "canvas.csv").open()))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "two_pillars"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][-1] == "10"
    assert {r[2]: r[-1] for r in canvas[2:]} == {"solved": "10", "blank": "0", "absent": ""}
    moodle = list(csv.DictReader((work / "moodle.csv").open()))
    assert [(r["ID number"], r["Email address"], r["two_pillars"]) for r in moodle] == [
        ("solved", "ada@example.org", "10"), ("blank", "blaise@example.org", "0"), ("absent", "carl@example.org", "")]
