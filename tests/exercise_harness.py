"""Shared helpers for the tests of the graded exercises (no tests here).

``tests/test_exercises.py`` runs the generic tests once per exercise source in
``exercises/source/*.ipynb``; what is particular to an exercise (its points per
question, plausible wrong answers and their messages, ...) is an
:class:`Exercise` named ``EXERCISE`` in ``tests/test_exercises_<name>.py``.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))


def load_tool():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path: Path):
    return nbformat.read(path, as_version=4)


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def namespace(nb) -> dict:
    """Run the code cells of a notebook in one namespace, skipping otter cells and ignoring errors (as otter does)."""
    env: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "otter" in cell.source or "grader." in cell.source:
            continue
        try:
            exec(compile(cell.source, "<cell>", "exec"), env)
        except Exception:
            pass
    return env


def run(test, env):
    test.run(env)
    return test.score, test.summary()


def variant(env: dict, **overrides) -> dict:
    """``env`` with some names replaced (or removed, for ``None``)."""
    new = dict(env)
    for k, v in overrides.items():
        if v is None:
            new.pop(k, None)
        else:
            new[k] = v
    return new


def check_outputs(nb) -> dict[str, str]:
    """The text each ``grader.check("qN")`` cell printed, by question."""
    out = {}
    for cell in nb.cells:
        m = re.match(r'grader\.check\("(q\d)"\)', cell.source)
        if m:
            out[m.group(1)] = "\n".join(
                o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) or json.dumps(o)
                for o in cell.get("outputs", [])
            )
    return out


@dataclass(eq=False)
class Exercise:
    """One graded exercise: its files, and what its tests expect of it.

    ``wrong_cases(solution_env)`` lists ``(question, overrides, message fragment, maximal score)``;
    ``self_check`` is ``(replacements, question, message)``: the filled notebook edited so that only
    ``question`` fails, with ``message``; ``batch`` is the edit graded as a teacher would (default: the
    self-check's), with ``batch_scores`` its exact scores if known (else only its question loses points).
    """

    name: str
    max: dict[str, float]
    leaks: tuple[str, ...]
    answer_defs: str  # regex of the answers' definitions, which must not appear unfolded in the solutions
    blank: dict[str, str]  # the message each question gives on the untouched notebook
    wrong_cases: Callable[[dict], list]
    self_check: tuple[dict[str, str], str, str]
    public: dict[str, str] = field(default_factory=dict)  # name in the notebooks -> course_lib module
    hidden_min: int | None = None
    blank_hints: tuple[str, ...] = ("returned None", "placeholder")
    batch: dict[str, str] | None = None
    batch_scores: dict[str, float] | None = None

    def __post_init__(self):
        self.master = ROOT / "exercises" / "source" / f"{self.name}.ipynb"
        self.student = ROOT / "exercises" / f"{self.name}.ipynb"
        self.solutions = ROOT / "solutions" / f"{self.name}.ipynb"
        self.public_tests = ROOT / "exercises" / "tests" / self.name
        self.autograder = ROOT / "exercises" / "autograder" / f"{self.name}-autograder.zip"
        if self.hidden_min is None:
            self.hidden_min = 2 * len(self.max)
        if self.batch is None:
            self.batch = self.self_check[0]

    def __repr__(self):
        return f"Exercise({self.name!r})"

    @functools.cache
    def solution_env(self) -> dict:
        return namespace(read(self.solutions))

    @functools.cache
    def blank_env(self) -> dict:
        return namespace(read(self.student))

    @functools.cache
    def all_tests(self) -> dict:
        """The otter test files with hidden tests (from the autograder zip), by question."""
        from otter.test_files import ExceptionTestFile

        out = Path(tempfile.mkdtemp(prefix=f"ag-{self.name}-"))
        with zipfile.ZipFile(self.autograder) as zf:
            zf.extractall(out)
        return {q: ExceptionTestFile.from_file(str(out / "tests" / f"{q}.py")) for q in self.max}

    def filled(self, replace: dict[str, str] | None = None):
        """The student notebook with every answer cell replaced by its solution (then edited by ``replace``)."""
        nb = copy.deepcopy(read(self.student))
        solutions = [c.source for c in read(self.solutions).cells if "hide-input" in tags(c)]
        answers = [c for c in nb.cells if "otter_answer_cell" in tags(c)]
        assert len(answers) == len(solutions)
        for cell, src in zip(answers, solutions):
            cell.source = src
        for old, new in (replace or {}).items():
            hits = [c for c in nb.cells if old in c.source]
            assert hits, f"{old!r} not found"
            for c in hits:
                c.source = c.source.replace(old, new)
        return nb

    def execute(self, nb, tmp_path: Path) -> dict[str, str]:
        """Run ``nb`` in a real kernel next to the public tests; return what its self-checks printed."""
        from nbclient import NotebookClient

        shutil.copytree(self.public_tests, tmp_path / "tests" / self.name)
        nbformat.write(nb, tmp_path / self.student.name)  # otter.Notebook opens the notebook it grades
        done = NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                              resources={"metadata": {"path": str(tmp_path)}}).execute()
        return check_outputs(done)


def exercises() -> list[Exercise]:
    """Every exercise source, with its ``EXERCISE`` from ``tests/test_exercises_<name>.py``."""
    out = []
    for src in SOURCES:
        mod = importlib.import_module(f"test_exercises_{src.stem}")
        assert mod.EXERCISE.name == src.stem
        out.append(mod.EXERCISE)
    return out
