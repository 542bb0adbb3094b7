"""The graded exercise pipeline: master -> student / solutions / autograder, and the questions' tests.

Fast tests run the otter test files in-process against namespaces built from
the notebooks; a few slow ones start real kernels (student self-checks, batch
grading with ``otter run``).
"""

from __future__ import annotations

import ast
import copy
import csv
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "two_pillars"
MASTER = ROOT / "exercises" / "source" / f"{NAME}.ipynb"
STUDENT = ROOT / "exercises" / f"{NAME}.ipynb"
SOLUTIONS = ROOT / "solutions" / f"{NAME}.ipynb"
PUBLIC_TESTS = ROOT / "exercises" / "tests" / NAME
AUTOGRADER = ROOT / "exercises" / "autograder" / f"{NAME}-autograder.zip"
MAX = {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}


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


def test_committed_copies_are_fresh():
    stale = _load_tool().stale_files(ROOT)
    assert stale == [], f"run `python tools/make_exercises.py`; stale: {stale}"


def test_check_fails_on_stale_copy(tmp_path):
    for rel in ("exercises", "solutions"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    cmd = [sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check", "--root", str(tmp_path)]
    nb = _read(tmp_path / "solutions" / f"{NAME}.ipynb")
    nb.cells[-1].source += "\nEdited by hand."
    nbformat.write(nb, tmp_path / "solutions" / f"{NAME}.ipynb")
    (tmp_path / "exercises" / "tests" / NAME / "q9.py").write_text("# leftover\n")
    stale = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert stale.returncode == 1
    assert f"solutions/{NAME}.ipynb" in stale.stderr and "q9.py" in stale.stderr


def test_student_notebook_has_no_solutions_and_self_checks():
    nb = _read(STUDENT)
    text = "\n".join(c.source for c in nb.cells)
    for leak in ("BEGIN SOLUTION", "# SOLUTION", "eigvalsh(A.T", "fold_in(key, t), x.shape)\n", "4.0 * x1 * u"):
        assert leak not in text, f"solution text {leak!r} leaked into the student notebook"
    assert f'otter.Notebook("{NAME}.ipynb", tests_dir="tests/{NAME}")' in text
    for q in MAX:
        assert f'grader.check("{q}")' in text
    answers = [c for c in nb.cells if "otter_answer_cell" in _tags(c)]
    assert len(answers) == 4 and all("..." in c.source for c in answers)
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
    assert hidden.count("hidden=True") >= 2 * len(MAX) - 1
    assert AUTOGRADER.stat().st_size < 50_000


def test_solutions_notebook_folds_solutions():
    nb = _read(SOLUTIONS)
    text = "\n".join(c.source for c in nb.cells)
    assert "grader" not in text and "otter" not in text and "BEGIN SOLUTION" not in text
    folded = [c for c in nb.cells if "hide-input" in _tags(c)]
    assert len(folded) == 4
    assert all(c.cell_type == "code" and "..." not in c.source for c in folded)
    # every question's solution is folded: no open code cell defines a student answer
    for c in nb.cells:
        if c.cell_type == "code" and "hide-input" not in _tags(c):
            assert not re.search(r"def (himmelblau_grad|minibatch_grad|sgd)\b|L_smooth =", c.source), c.source


@pytest.mark.parametrize("path", [STUDENT, SOLUTIONS], ids=["student", "solutions"])
def test_notebook_headings_and_cells_suit_the_book(path):
    nb = _read(path)
    assert not [c for c in nb.cells if c.cell_type == "raw"], "raw cells make Sphinx warn"
    levels = []
    for c in nb.cells:
        if c.cell_type != "markdown":
            continue
        in_code = False
        for line in c.source.splitlines():
            if line.startswith("```"):
                in_code = not in_code
            m = re.match(r"(#+) ", line)
            if m and not in_code:
                levels.append(len(m.group(1)))
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), f"heading levels skip: {levels}"
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(i.startswith(NAME) for i in ids)


@pytest.mark.parametrize("path", [MASTER, STUDENT, SOLUTIONS], ids=["master", "student", "solutions"])
def test_notebooks_import_only_public_course_lib_names(path):
    import course_lib

    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # otter's placeholders are valid Python; other cells are checked by running them
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_lib"):
                mod = importlib.import_module(node.module)
                public = set(getattr(mod, "__all__", []))
                for alias in node.names:
                    assert alias.name in public, f"{path.name}: {node.module}.{alias.name} is not public"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("course_lib."):
                        assert alias.name.split(".")[1] in course_lib.__all__
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in ("landscapes", "noise", "simulate", "grading"):
                    mod = importlib.import_module(f"course_lib.{node.value.id}")
                    assert node.attr in mod.__all__, f"{path.name}: {node.value.id}.{node.attr} is not public"


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
        "q1": "q1: your function returned None (did you forget `return`?)",
        "q2": "q2: your function returned None",
        "q3": "q3: your function returned None",
        "q4": "q4: L_smooth is still the placeholder `...`",
    }
    for q, test in all_tests.items():
        score, summary = _run(test, blank_env)
        assert score == 0, summary
        assert expected[q] in summary
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
    import jax
    import jax.numpy as jnp

    good_q1, good_q2, good_sgd = env["himmelblau_grad"], env["minibatch_grad"], env["sgd"]
    problem = env["problem"]

    def forgot_chain_rule(x):
        u, v = x[0] ** 2 + x[1] - 11.0, x[0] + x[1] ** 2 - 7.0
        return jnp.array([2.0 * u + 2.0 * v, 2.0 * u + 2.0 * v])

    def sum_not_mean(problem, x, idx):
        return good_q2(problem, x, idx) * len(idx)

    def no_reg(problem, x, idx):
        return good_q2(problem, x, idx) - problem.reg * x

    def ignores_idx(problem, x, idx):
        return jax.grad(problem)(x)

    def same_key(key, grad_fn, x0, step, n_steps, sigma):
        xs = [x0]
        for _ in range(n_steps):
            xs.append(xs[-1] - step * (grad_fn(xs[-1]) + sigma * jax.random.normal(key, x0.shape)))
        return jnp.stack(xs)

    def last_only(*args):
        return good_sgd(*args)[-1]

    A = problem.features
    L = float(jnp.linalg.eigvalsh(A.T @ A / problem.n)[-1] + problem.reg)
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(himmelblau_grad=forgot_chain_rule), "q1: your function returned [", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: jnp.zeros(3)), "q1: your function returned shape (3,), expected (2,)", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: jnp.full(2, jnp.nan)), "q1: your function returned NaN or infinite values", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError: division by zero", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: "grad"), "q1: your function returned a str", 0.0),
        ("q1", dict(himmelblau_grad=None), "q1: your function is not defined", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: good_q1(x)[:, None]), "returned shape (2, 1), expected (2,)", 0.0),
        ("q2", dict(minibatch_grad=sum_not_mean), "q2: your function returned [", 0.75),  # single batches pass
        ("q2", dict(minibatch_grad=no_reg), "q2:", 1.0),  # the unregularised hidden problem passes
        ("q2", dict(minibatch_grad=ignores_idx), "q2: your function returned [", 1.5),  # unbiased, but not f_B
        ("q2", dict(minibatch_grad=lambda p, x, idx: x[idx]), "q2:", 0.0),
        ("q3", dict(sgd=same_key), "q3: your iterate x_", 1.8),
        ("q3", dict(sgd=last_only), "q3: your function returned shape (2,), expected (6, 2)", 0.0),
        ("q3", dict(sgd=lambda k, g, x0, s, n, sig: good_sgd(k, lambda x: -g(x), x0, s, n, sig)), "q3:", 0.6),  # ascent: only the shape test passes
        ("q4", dict(L_smooth=L * problem.n, eta_max=2 / (L * problem.n)), "cannot be the largest eigenvalue", 0.0),
        ("q4", dict(L_smooth=L, eta_max=1 / L), "q4: eta_max = ", 1.5),
        ("q4", dict(L_smooth="4.2"), "q4: L_smooth returned a str", 0.67),  # eta_max is right
        ("q4", dict(L_smooth=[L, L]), "q4: L_smooth should be one number, got 2 values", 0.67),
    ]


def test_plausible_wrong_answers_fail_readably(all_tests, solution_env):
    for q, overrides, fragment, max_score in _wrong_cases(solution_env):
        score, summary = _run(all_tests[q], _variant(solution_env, **overrides))
        label = f"{q} with {sorted(overrides)}"
        assert score < MAX[q], f"{label} should lose points:\n{summary}"
        assert score <= max_score, f"{label}: score {score} > {max_score}\n{summary}"
        assert fragment in summary, f"{label}: expected {fragment!r} in\n{summary}"
        assert "Traceback" not in summary


def test_q3_sgd_reproduces_the_course_simulator(solution_env):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib import landscapes, noise, simulate

    key, x0 = jax.random.key(3), jnp.array([-2.0, -2.0])
    ours = solution_env["sgd"](key, jax.jit(jax.grad(landscapes.himmelblau)), x0, 0.01, 30, 1.0)
    ref = simulate.trajectories(key, landscapes.himmelblau, noise.gaussian(1.0), x0[None], 0.01, 30).xs[:, 0]
    np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-4, atol=1e-4)


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


WRONG_Q1 = {"4.0 * x1 * u + 2.0 * v, 2.0 * u + 4.0 * x2 * v": "2.0 * u + 2.0 * v, 2.0 * u + 2.0 * v"}
RAISES_Q2 = {
    "return A.T @ residuals / idx.shape[0] + problem.reg * x": "return A.T @ residuals / 0.0 + problem.reg * x",
    "from course_lib import landscapes": "from course_lib import landscapes\nprint(undefined_name)",
}


def _check_outputs(nb) -> dict[str, str]:
    out = {}
    for cell in nb.cells:
        m = re.match(r'grader\.check\("(q\d)"\)', cell.source)
        if m:
            out[m.group(1)] = "\n".join(
                o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) or json.dumps(o)
                for o in cell.get("outputs", [])
            )
    return out


def _execute(nb, tmp_path):
    from nbclient import NotebookClient

    shutil.copytree(PUBLIC_TESTS, tmp_path / "tests" / NAME)
    nbformat.write(nb, tmp_path / STUDENT.name)
    done = NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                          resources={"metadata": {"path": str(tmp_path)}}).execute()
    return _check_outputs(done)


def test_student_self_checks_in_a_kernel(tmp_path):
    """Untouched notebook: every grader.check fails with its message.  A filled one with a wrong q1: only q1 fails."""
    blank = _execute(_read(STUDENT), tmp_path / "blank")
    assert set(blank) == set(MAX)
    for q, text in blank.items():
        assert "failed" in text.lower() and f"{q}:" in text, text
        assert "returned None" in text or "placeholder" in text, text
        assert "Traceback" not in text, text
    wrong = _execute(_filled(WRONG_Q1), tmp_path / "wrong")
    assert "q1: your function returned [" in wrong["q1"]
    for q in ("q2", "q3", "q4"):
        assert "All test cases passed" in wrong[q], wrong[q]


def test_teacher_batch_grading_into_csv(tmp_path):
    from course_lib.grading import grade_submissions

    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copyfile(SOLUTIONS, subs / "alice.ipynb")  # the solutions notebook itself
    shutil.copyfile(STUDENT, subs / "bob.ipynb")  # handed in untouched
    # q1 forgets the chain rule, q2 divides by zero, a cell raises NameError
    nbformat.write(_filled({**WRONG_Q1, **RAISES_Q2}), subs / "carol.ipynb")
    (subs / "dave.ipynb").write_text("{ this is not a notebook")
    paths = [subs / f"{n}.ipynb" for n in ("alice", "bob", "carol", "dave")]
    out_csv = tmp_path / "scores.csv"
    results = grade_submissions(paths, AUTOGRADER, out_csv, timeout=240, workers=2)

    expected = {
        "alice": {"q1": 2, "q2": 3, "q3": 3, "q4": 2},
        "bob": {"q1": 0, "q2": 0, "q3": 0, "q4": 0},
        "carol": {"q1": 0, "q2": 0, "q3": 3, "q4": 2},
        "dave": {"q1": 0, "q2": 0, "q3": 0, "q4": 0},
    }
    got = {Path(r.path).stem: r.scores for r in results}
    assert got == expected, [(r.path, r.scores, r.error) for r in results]
    assert [r.total for r in results] == [10, 0, 5, 0]
    assert [bool(r.error) for r in results] == [False, False, False, True]
    assert "not a valid notebook" in results[-1].error

    with open(out_csv, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", "q1", "q2", "q3", "q4", "total", "error"]
    table = {Path(r[0]).stem: r[1:6] for r in rows[1:]}
    assert table["carol"] == ["0", "0", "3", "2", "5"]
    assert table["dave"] == ["0", "0", "0", "0", "0"]
    assert rows[-1][:6] == ["max", "2", "3", "3", "2", "10"]
