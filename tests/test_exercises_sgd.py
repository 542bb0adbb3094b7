"""The graded exercises of the chapter "Stochastic gradient methods": generation and the questions' tests.

Mirrors tests/test_exercises.py (the two-pillars exercises): the fast tests run
the otter test files in-process against namespaces built from the notebooks;
two slow ones start real kernels (student self-checks, batch grading).
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "sgd"
MASTER = ROOT / "exercises" / "source" / f"{NAME}.ipynb"
STUDENT = ROOT / "exercises" / f"{NAME}.ipynb"
SOLUTIONS = ROOT / "solutions" / f"{NAME}.ipynb"
PUBLIC_TESTS = ROOT / "exercises" / "tests" / NAME
AUTOGRADER = ROOT / "exercises" / "autograder" / f"{NAME}-autograder.zip"
MAX = {"q1": 3.0, "q2": 3.0, "q3": 3.0}


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


# ---------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------


def test_committed_copies_are_fresh(tmp_path):
    import filecmp

    written = _load_tool().generate(MASTER, tmp_path, run_tests=False)
    stale = [str(rel) for rel in written if not (ROOT / rel).is_file() or not filecmp.cmp(ROOT / rel, tmp_path / rel, shallow=False)]
    extra = {p.name for p in PUBLIC_TESTS.glob("*.py")} - {p.name for p in (tmp_path / "exercises" / "tests" / NAME).glob("*.py")}
    assert stale == [] and not extra, f"run `python tools/make_exercises.py`; stale: {stale}, leftovers: {sorted(extra)}"


def test_student_notebook_has_no_solutions_and_self_checks():
    nb = _read(STUDENT)
    text = "\n".join(c.source for c in nb.cells)
    for leak in ("BEGIN SOLUTION", "# SOLUTION", "math.sqrt(2.0 * gap", "table.mean(axis=0)", "costs = {"):
        assert leak not in text, f"solution text {leak!r} leaked into the student notebook"
    assert f'otter.Notebook("{NAME}.ipynb", tests_dir="tests/{NAME}")' in text
    for q in MAX:
        assert f'grader.check("{q}")' in text
    answers = [c for c in nb.cells if "otter_answer_cell" in _tags(c)]
    assert len(answers) == 3 and all("..." in c.source for c in answers)
    assert nb.metadata["otter"]["assignment_name"] == NAME
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_public_tests_hold_no_hidden_tests_and_zip_holds_all():
    assert sorted(p.name for p in PUBLIC_TESTS.glob("*.py")) == [f"{q}.py" for q in MAX]
    public = "\n".join(p.read_text() for p in PUBLIC_TESTS.glob("*.py"))
    assert "hidden=True" not in public and "_hidden" not in public
    with zipfile.ZipFile(AUTOGRADER) as zf:
        names = set(zf.namelist())
        hidden = "\n".join(zf.read(f"tests/{q}.py").decode() for q in MAX)
    assert {f"tests/{q}.py" for q in MAX} <= names and "otter_config.json" in names
    assert hidden.count("hidden=True") >= 2 * len(MAX)
    assert AUTOGRADER.stat().st_size < 50_000


def test_solutions_notebook_folds_solutions():
    nb = _read(SOLUTIONS)
    text = "\n".join(c.source for c in nb.cells)
    assert "grader" not in text and "otter" not in text and "BEGIN SOLUTION" not in text
    folded = [c for c in nb.cells if "hide-input" in _tags(c)]
    assert len(folded) == 3
    assert all(c.cell_type == "code" and "..." not in c.source for c in folded)
    for c in nb.cells:
        if c.cell_type == "code" and "hide-input" not in _tags(c):
            assert not re.search(r"def (best_step|saga_step|cheapest)\b|answers =", c.source), c.source


@pytest.mark.parametrize("path", [STUDENT, SOLUTIONS], ids=["student", "solutions"])
def test_notebook_headings_and_cells_suit_the_book(path):
    nb = _read(path)
    assert not [c for c in nb.cells if c.cell_type == "raw"], "raw cells make Sphinx warn"
    levels = []
    for c in nb.cells:
        if c.cell_type != "markdown":
            continue
        for line in c.source.splitlines():
            m = re.match(r"(#+) ", line)
            if m:
                levels.append(len(m.group(1)))
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), f"heading levels skip: {levels}"
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(i.startswith(NAME) for i in ids)


@pytest.mark.parametrize("path", [MASTER, STUDENT, SOLUTIONS], ids=["master", "student", "solutions"])
def test_notebooks_use_only_public_course_lib_names(path):
    from course_lib import stochastic

    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_lib"):
                mod = importlib.import_module(node.module)
                # course_lib.__all__ may not list the new module yet (asked of the lead)
                public = set(getattr(mod, "__all__", [])) | ({"stochastic"} if node.module == "course_lib" else set())
                for alias in node.names:
                    assert alias.name in public, f"{path.name}: {node.module}.{alias.name} is not public"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "stochastic":
                assert node.attr in stochastic.__all__, f"{path.name}: stochastic.{node.attr} is not public"


# ---------------------------------------------------------------------------
# the questions' tests, in-process
# ---------------------------------------------------------------------------


def _namespace(nb) -> dict:
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


@pytest.fixture(scope="module")
def all_tests(tmp_path_factory):
    """The otter test files with hidden tests (from the autograder zip), by question."""
    from otter.test_files import ExceptionTestFile

    out = tmp_path_factory.mktemp("ag")
    with zipfile.ZipFile(AUTOGRADER) as zf:
        zf.extractall(out)
    return {q: ExceptionTestFile.from_file(str(out / "tests" / f"{q}.py")) for q in MAX}


@pytest.fixture(scope="module")
def solution_env():
    return _namespace(_read(SOLUTIONS))


@pytest.fixture(scope="module")
def blank_env():
    return _namespace(_read(STUDENT))


def _run(test, env):
    test.run(env)
    return test.score, test.summary()


def test_solution_passes_every_test(all_tests, solution_env):
    for q, test in all_tests.items():
        score, summary = _run(test, solution_env)
        assert score == MAX[q], summary


def test_blank_notebook_fails_with_helpful_messages(all_tests, blank_env):
    expected = {
        "q1": "q1: best_step(999, 10.0, 2.0, 50.0) returned None",
        "q2": "q2: saga_step should return a pair (new_theta, new_table), got NoneType",
        "q3": "q3: cheapest(1000000.0, 1000.0, 1e-06) returned None",
    }
    for q, test in all_tests.items():
        score, summary = _run(test, blank_env)
        assert score == 0, summary
        assert expected[q] in summary, summary
        assert "Traceback" not in summary


def _variant(env: dict, **overrides) -> dict:
    new = dict(env)
    for k, v in overrides.items():
        if v is None:
            new.pop(k, None)
        else:
            new[k] = v
    return new


def _wrong_cases(env):
    import math

    import jax.numpy as jnp

    def sgd_step(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        return theta - step * g, table.at[i].set(g)

    def new_mean(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        new = table.at[i].set(g)
        return theta - step * (g - table[i] + new.mean(0)), new

    def no_update(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        return theta - step * (g - table[i] + table.mean(0)), table

    def vr_only(n, kappa, eps):
        return "vr"

    def no_log(n, kappa, eps):
        costs = {"gd": n * kappa, "sgd": kappa / eps, "vr": n + kappa}
        return min(costs, key=costs.get)

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(best_step=lambda k, gap, L, s2: math.sqrt(2 * gap / ((k + 1) * L * s2))), "exceeds 1/L = 0.5", 2.25),
        ("q1", dict(best_step=lambda k, gap, L, s2: min(1 / L, 2 * math.sqrt(2 * gap / ((k + 1) * L * s2)))), "off by a factor 2", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: 1 / L), "returned 1/L", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: float("nan")), "is nan, expected a finite number", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 0.0),
        ("q1", dict(best_step=None), "q1: your function is not defined", 0.0),
        ("q2", dict(saga_step=sgd_step), "plain SGD step", 1.5),
        ("q2", dict(saga_step=new_mean), "use the old table", 1.5),
        ("q2", dict(saga_step=no_update), "q2: new_table", 1.5),
        ("q2", dict(saga_step=lambda p, t, tb, i, s: (jnp.zeros(4), tb)), "q2: new_theta returned shape (4,), expected (3,)", 0.0),
        ("q2", dict(saga_step=lambda p, t, tb, i, s: t), "should return a pair", 0.0),
        ("q3", dict(cheapest=vr_only), "q3: cheapest(1000000.0, 1000.0, 0.1) returned 'vr'", 1.5),
        ("q3", dict(cheapest=no_log), "not the cheapest method", 2.25),
        ("q3", dict(cheapest=lambda n, k, e: "adam"), "return one of 'gd', 'sgd', 'vr'", 1.5),
        ("q3", dict(answers=["vr", "vr", "vr"]), "is not what the table predicts", 2.25),
        ("q3", dict(answers="vr"), "q3: answers should be a list of three names", 1.5),
    ]


def test_plausible_wrong_answers_fail_readably(all_tests, solution_env):
    for q, overrides, fragment, max_score in _wrong_cases(solution_env):
        score, summary = _run(all_tests[q], _variant(solution_env, **overrides))
        label = f"{q} with {sorted(overrides)}"
        assert score < MAX[q], f"{label} should lose points:\n{summary}"
        assert score <= max_score, f"{label}: score {score} > {max_score}\n{summary}"
        assert fragment in summary, f"{label}: expected {fragment!r} in\n{summary}"
        assert "Traceback" not in summary


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's step is course_lib's; its SAGA step equals one step of course_lib.stochastic.saga's recursion."""
    import numpy as np
    from course_lib import stochastic

    for args in ((99, 3.0, 2.0, 5.0), (0, 1e6, 2.0, 1e-3)):
        assert solution_env["best_step"](*args) == pytest.approx(stochastic.optimal_constant_step(*args))
    assert solution_env["answers"] == ["vr", "sgd", "vr"]
    for args in ((1e6, 1e3, 1e-6), (1e6, 1e3, 1e-1), (2, 1e6, 1e-8)):
        costs = {m: float(stochastic.complexity(m if m != "vr" else "vr", *args)) for m in ("gd", "sgd", "vr")}
        assert solution_env["cheapest"](*args) == min(costs, key=costs.get)


# ---------------------------------------------------------------------------
# real kernels: student self-checks and a teacher's batch grading
# ---------------------------------------------------------------------------


def _filled(replace: dict[str, str] | None = None):
    """The student notebook with every answer cell replaced by its solution (then edited by ``replace``)."""
    nb = copy.deepcopy(_read(STUDENT))
    solutions = [c.source for c in _read(SOLUTIONS).cells if "hide-input" in _tags(c)]
    answers = [c for c in nb.cells if "otter_answer_cell" in _tags(c)]
    assert len(answers) == len(solutions)
    for cell, src in zip(answers, solutions):
        cell.source = src
    for old, new in (replace or {}).items():
        hits = [c for c in nb.cells if old in c.source]
        assert hits, f"{old!r} not found"
        for c in hits:
            c.source = c.source.replace(old, new)
    return nb


WRONG_Q2 = {"g - table[i] + table.mean(axis=0)": "g"}


def _check_outputs(nb) -> dict[str, str]:
    out = {}
    for cell in nb.cells:
        m = re.match(r'grader\.check\("(q\d)"\)', cell.source)
        if m:
            out[m.group(1)] = "\n".join(
                o.get("text", "") or json.dumps(o.get("data", {})) for o in cell.get("outputs", [])
            )
    return out


def _execute(nb, tmp_path):
    from nbclient import NotebookClient

    shutil.copytree(PUBLIC_TESTS, tmp_path / "tests" / NAME)
    nbformat.write(nb, tmp_path / f"{NAME}.ipynb")  # otter.Notebook opens the notebook it grades
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return _check_outputs(nb)


def test_student_self_checks_in_a_kernel(tmp_path):
    """Untouched notebook: every grader.check fails with its message.  A filled one with a wrong q2: only q2 fails."""
    blank = _execute(_read(STUDENT), tmp_path / "blank")
    assert set(blank) == set(MAX)
    for q, text in blank.items():
        assert "failed" in text.lower() and f"{q}:" in text, text
        assert "returned None" in text or "placeholder" in text or "NoneType" in text, text
        assert "Traceback" not in text, text
    wrong = _execute(_filled(WRONG_Q2), tmp_path / "wrong")
    assert "plain SGD step" in wrong["q2"], wrong["q2"]
    for q in ("q1", "q3"):
        assert "All test cases passed" in wrong[q], wrong[q]


def test_teacher_batch_grading(tmp_path):
    from course_lib.grading import grade_submissions

    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copyfile(SOLUTIONS, subs / "alice.ipynb")
    shutil.copyfile(STUDENT, subs / "bob.ipynb")
    nbformat.write(_filled(WRONG_Q2), subs / "carol.ipynb")
    paths = [subs / f"{n}.ipynb" for n in ("alice", "bob", "carol")]
    results = grade_submissions(paths, AUTOGRADER, tmp_path / "scores.csv", timeout=240, workers=2)
    got = {Path(r.path).stem: r.scores for r in results}
    assert got["alice"] == {"q1": 3, "q2": 3, "q3": 3}, results
    assert got["bob"] == {"q1": 0, "q2": 0, "q3": 0}, results
    assert got["carol"]["q1"] == 3 and got["carol"]["q3"] == 3 and got["carol"]["q2"] < 3, results
