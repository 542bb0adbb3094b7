"""The graded exercises of the chapter "Where SGD spends its time": generation and the questions' tests.

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
NAME = "long_run"
MASTER = ROOT / "exercises" / "source" / f"{NAME}.ipynb"
STUDENT = ROOT / "exercises" / f"{NAME}.ipynb"
SOLUTIONS = ROOT / "solutions" / f"{NAME}.ipynb"
PUBLIC_TESTS = ROOT / "exercises" / "tests" / NAME
AUTOGRADER = ROOT / "exercises" / "autograder" / f"{NAME}-autograder.zip"
MAX = {"q1": 3.0, "q2": 3.0, "q3": 2.0}


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
    for leak in ("BEGIN SOLUTION", "# SOLUTION", "[5.0, 4.0, 2.0]", "min(trees)", "jnp.linalg.det", "E_left < E_right"):
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
            assert not re.search(r"def (energy_3|two_well_energies|dominant|laplace_ratio)\b|ratio_02 =", c.source), c.source


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
    from course_lib import energy, landscapes

    modules = {"energy": energy, "landscapes": landscapes}
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
                public = set(getattr(mod, "__all__", [])) | ({"energy"} if node.module == "course_lib" else set())
                for alias in node.names:
                    assert alias.name in public, f"{path.name}: {node.module}.{alias.name} is not public"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                mod = modules[node.value.id]
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
        "q1": "q1: E_by_hand is still the placeholder `...`",
        "q2": "q2: your function returned None",
        "q3": "q3: ratio_02 is still the placeholder `...`",
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
    import jax.numpy as jnp
    import numpy as np

    f, x_l, y, x_r = env["f"], env["x_l"], env["y"], env["x_r"]

    def greedy(B):  # every node picks its cheapest edge, cycles or not
        B = np.asarray(B, dtype=float)
        return jnp.array([sum(min(B[j, k] for k in range(3) if k != j) for j in range(3) if j != i) for i in range(3)])

    def out_trees(B):  # trees pointing away from i
        return env["energy_3"](np.asarray(B).T)

    def swapped(s1, s2):
        return jnp.array([2 * (f(y) - f(x_r)) / s1**2, 2 * (f(y) - f(x_l)) / s2**2])

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(E_by_hand=[4.0, 4.0, 2.0]), "q1: E_by_hand returned [4. 4. 2.]", 2.25),
        ("q1", dict(energy_3=lambda B: env["energy_3"](B) - 2.0), "differ from the expected ones by the same constant", 2.25),
        ("q1", dict(energy_3=greedy), "q1: your function returned [", 2.25),
        ("q1", dict(energy_3=out_trees), "q1: your function returned [", 2.25),
        ("q1", dict(energy_3=lambda B: jnp.zeros(4)), "q1: your function returned shape (4,), expected (3,)", 2.25),
        ("q1", dict(energy_3=lambda B: jnp.full(3, jnp.nan)), "q1: your function returned NaN or infinite values", 2.25),
        ("q1", dict(energy_3=lambda B: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 2.25),
        ("q1", dict(energy_3=None), "q1: your function is not defined", 2.25),
        ("q2", dict(two_well_energies=swapped), "the energy of a minimum is the cost of the edge pointing TO it", 1.5),
        ("q2", dict(two_well_energies=lambda a, b: env["two_well_energies"](a, b) / 2), "half the expected ones", 1.5),
        ("q2", dict(dominant=lambda a, b: "left"), "dominant(6.0, 3.0) returned 'left'", 1.5),
        ("q2", dict(dominant=lambda a, b: 0), "expected the string 'left' or 'right'", 1.5),
        ("q2", dict(two_well_energies=lambda a, b: "E"), "q2: your function returned a str", 1.5),
        ("q3", dict(ratio_02=1.0), "the Hessian prefactor", 1.34),
        ("q3", dict(ratio_02=1 / env["ratio_02"]), "upside down", 1.34),
        ("q3", dict(ratio_02=env["ratio_02"] ** 2), "square root", 1.34),
        ("q3", dict(ratio_02=float("nan")), "q3: ratio_02 is nan, expected a finite number", 1.34),
        ("q3", dict(ratio_02="2.1"), "q3: ratio_02", 1.34),
        ("q3", dict(laplace_ratio=lambda i, j: env["laplace_ratio"](j, i)), "laplace_ratio(0, 1)", 1.34),
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
    """The solution's energies and Laplace ratios match course_lib.energy."""
    import numpy as np
    from course_lib import energy, landscapes

    B = solution_env["B"]
    np.testing.assert_allclose(np.asarray(solution_env["energy_3"](B)), energy.energies(B))
    cpH = np.array([np.asarray(__import__("jax").hessian(landscapes.himmelblau)(k)) for k in landscapes.HIMMELBLAU_MINIMA])
    w = energy.laplace_weights(np.zeros(4), cpH, 1.0, 1.0)
    assert solution_env["ratio_02"] == __import__("pytest").approx(w[0] / w[2], rel=1e-4)
    pred = energy.two_well_stationary(6.0, 3.0, 0.03)
    np.testing.assert_allclose(np.asarray(solution_env["two_well_energies"](6.0, 3.0)), [pred["E_left"], pred["E_right"]], rtol=1e-5)


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


WRONG_Q2 = {'return "left" if E_left < E_right else "right"': 'return "left"'}


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
        assert "returned None" in text or "placeholder" in text, text
        assert "Traceback" not in text, text
    wrong = _execute(_filled(WRONG_Q2), tmp_path / "wrong")
    assert "dominant(6.0, 3.0) returned 'left'" in wrong["q2"], wrong["q2"]
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
    assert got["alice"] == {"q1": 3, "q2": 3, "q3": 2}, results
    assert got["bob"] == {"q1": 0, "q2": 0, "q3": 0}, results
    assert got["carol"]["q1"] == 3 and got["carol"]["q3"] == 2 and got["carol"]["q2"] < 3, results
