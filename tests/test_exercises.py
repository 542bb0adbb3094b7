"""The graded exercise pipeline: master -> student / solutions / autograder, and the questions' tests.

Generic tests, run once per exercise source in ``exercises/source/*.ipynb``; what
each exercise expects (points, wrong answers and their messages, value checks)
is in ``tests/test_exercises_<name>.py``, the helpers in ``tests/exercise_harness.py``.
Fast tests run the otter test files in-process against namespaces built from
the notebooks; a few slow ones start real kernels (student self-checks, batch
grading in the sandbox, tests outside it).
"""

from __future__ import annotations

import ast
import csv
import filecmp
import importlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from exercise_harness import ROOT, SOURCES, exercises, load_tool, read, run, tags, variant

EXERCISES = exercises()
assert [ex.name for ex in EXERCISES] == [p.stem for p in SOURCES] and EXERCISES
each = pytest.mark.parametrize("ex", EXERCISES, ids=[ex.name for ex in EXERCISES])


# ---------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------


def test_committed_copies_are_fresh():
    stale = load_tool().stale_files(ROOT)
    assert stale == [], f"run `python tools/make_exercises.py`; stale: {stale}"


def test_check_fails_on_stale_copy(tmp_path):
    name = "two_pillars"
    for rel in ("exercises", "solutions"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    cmd = [sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check", "--root", str(tmp_path)]
    nb = read(tmp_path / "solutions" / f"{name}.ipynb")
    nb.cells[-1].source += "\nEdited by hand."
    nbformat.write(nb, tmp_path / "solutions" / f"{name}.ipynb")
    (tmp_path / "exercises" / "tests" / name / "q9.py").write_text("# leftover\n")
    stale = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert stale.returncode == 1
    assert f"solutions/{name}.ipynb" in stale.stderr and "q9.py" in stale.stderr


@each
def test_exercise_copies_are_fresh(ex, tmp_path):
    written = load_tool().generate(ex.master, tmp_path, run_tests=False)
    stale = [str(rel) for rel in written if not (ROOT / rel).is_file() or not filecmp.cmp(ROOT / rel, tmp_path / rel, shallow=False)]
    extra = {p.name for p in ex.public_tests.glob("*.py")} - {p.name for p in (tmp_path / "exercises" / "tests" / ex.name).glob("*.py")}
    assert stale == [] and not extra, f"run `python tools/make_exercises.py`; stale: {stale}, leftovers: {sorted(extra)}"


@each
def test_student_notebook_has_no_solutions_and_self_checks(ex):
    nb = read(ex.student)
    text = "\n".join(c.source for c in nb.cells)
    for leak in ("BEGIN SOLUTION", "# SOLUTION", *ex.leaks):
        assert leak not in text, f"solution text {leak!r} leaked into the student notebook"
    assert f'otter.Notebook("{ex.name}.ipynb", tests_dir="tests/{ex.name}")' in text
    for q in ex.max:
        assert f'grader.check("{q}")' in text
    answers = [c for c in nb.cells if "otter_answer_cell" in tags(c)]
    assert len(answers) == len(ex.max) and all("..." in c.source for c in answers)
    assert nb.metadata["otter"]["assignment_name"] == ex.name
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@each
def test_public_tests_hold_no_hidden_tests_and_zip_holds_all(ex):
    assert sorted(p.name for p in ex.public_tests.glob("*.py")) == [f"{q}.py" for q in ex.max]
    public = "\n".join(p.read_text() for p in ex.public_tests.glob("*.py"))
    assert "hidden=True" not in public and "_hidden" not in public
    with zipfile.ZipFile(ex.autograder) as zf:
        names = set(zf.namelist())
        hidden = "\n".join(zf.read(f"tests/{q}.py").decode() for q in ex.max)
        own = sum(i.compress_size for i in zf.infolist() if not i.filename.startswith("files/"))
    assert {f"tests/{q}.py" for q in ex.max} <= names and "otter_config.json" in names
    assert hidden.count("hidden=True") >= ex.hidden_min
    assert own < 50_000  # besides the course_lib sources it ships (files/course_lib/, checked below)
    shipped = {n for n in names if n.startswith("files/")}
    package = {f"files/course_lib/{p.relative_to(ROOT / 'course_lib').as_posix()}"
               for p in (ROOT / "course_lib").rglob("*.py") if "__pycache__" not in p.parts}
    assert shipped == package


@each
def test_solutions_notebook_folds_solutions(ex):
    nb = read(ex.solutions)
    text = "\n".join(c.source for c in nb.cells)
    assert "grader" not in text and "otter" not in text and "BEGIN SOLUTION" not in text
    folded = [c for c in nb.cells if "hide-input" in tags(c)]
    assert len(folded) == len(ex.max)
    assert all(c.cell_type == "code" and "..." not in c.source for c in folded)
    # every question's solution is folded: no open code cell defines a student answer
    for c in nb.cells:
        if c.cell_type == "code" and "hide-input" not in tags(c):
            assert not re.search(ex.answer_defs, c.source), c.source


@each
@pytest.mark.parametrize("kind", ["student", "solutions"])
def test_notebook_headings_and_cells_suit_the_book(ex, kind):
    nb = read(getattr(ex, kind))
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
    assert len(set(ids)) == len(ids) and all(i.startswith(ex.name) for i in ids)


@each
@pytest.mark.parametrize("kind", ["master", "student", "solutions"])
def test_notebooks_import_only_public_course_lib_names(ex, kind):
    import course_lib

    path = getattr(ex, kind)
    for cell in read(path).cells:
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
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ex.public:
                mod = importlib.import_module(f"course_lib.{ex.public[node.value.id]}")
                assert node.attr in mod.__all__, f"{path.name}: {node.value.id}.{node.attr} is not public"


# ---------------------------------------------------------------------------
# the questions' tests, in-process
# ---------------------------------------------------------------------------


@each
def test_solution_passes_every_test(ex):
    for q, test in ex.all_tests().items():
        score, summary = run(test, ex.solution_env())
        assert score == ex.max[q], summary


@each
def test_blank_notebook_fails_with_helpful_messages(ex):
    assert set(ex.blank) == set(ex.max)
    for q, test in ex.all_tests().items():
        score, summary = run(test, ex.blank_env())
        assert score == 0, summary
        assert ex.blank[q] in summary, summary
        assert "Traceback" not in summary


@each
def test_plausible_wrong_answers_fail_readably(ex):
    env = ex.solution_env()
    for q, overrides, fragment, max_score in ex.wrong_cases(env):
        score, summary = run(ex.all_tests()[q], variant(env, **overrides))
        label = f"{q} with {sorted(overrides)}"
        assert score < ex.max[q], f"{label} should lose points:\n{summary}"
        assert score <= max_score, f"{label}: score {score} > {max_score}\n{summary}"
        assert fragment in summary, f"{label}: expected {fragment!r} in\n{summary}"
        assert "Traceback" not in summary


# ---------------------------------------------------------------------------
# real kernels: student self-checks and a teacher's batch grading
# ---------------------------------------------------------------------------


@each
def test_student_self_checks_in_a_kernel(ex, tmp_path):
    """Untouched notebook: every grader.check fails with its message.  A filled one with one wrong answer: only it fails."""
    blank = ex.execute(read(ex.student), tmp_path / "blank")
    assert set(blank) == set(ex.max)
    for q, text in blank.items():
        assert "failed" in text.lower() and f"{q}:" in text, text
        assert any(hint in text for hint in ex.blank_hints), text
        assert "Traceback" not in text, text
    replace, wrong_q, message = ex.self_check
    wrong = ex.execute(ex.filled(replace), tmp_path / "wrong")
    assert message in wrong[wrong_q], wrong[wrong_q]
    for q in ex.max:
        if q != wrong_q:
            assert "All test cases passed" in wrong[q], wrong[q]


@each
def test_teacher_batch_grading_into_csv(ex, tmp_path):
    from course_lib.grading import grade_submissions

    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copyfile(ex.solutions, subs / "alice.ipynb")  # the solutions notebook itself
    shutil.copyfile(ex.student, subs / "bob.ipynb")  # handed in untouched
    nbformat.write(ex.filled(ex.batch), subs / "carol.ipynb")  # some answers wrong
    (subs / "dave.ipynb").write_text("{ this is not a notebook")
    paths = [subs / f"{n}.ipynb" for n in ("alice", "bob", "carol", "dave")]
    out_csv = tmp_path / "scores.csv"
    results = grade_submissions(paths, ex.autograder, out_csv, timeout=240, workers=2)

    zero = {q: 0 for q in ex.max}
    got = {Path(r.path).stem: r.scores for r in results}
    info = [(r.path, r.scores, r.error) for r in results]
    assert got["alice"] == ex.max and got["bob"] == zero and got["dave"] == zero, info
    carol = got["carol"]
    if ex.batch_scores is not None:
        assert carol == ex.batch_scores, info
    else:
        wrong_q = ex.self_check[1]
        assert carol[wrong_q] < ex.max[wrong_q], info
        assert all(carol[q] == ex.max[q] for q in ex.max if q != wrong_q), info
    assert [r.total for r in results] == [sum(ex.max.values()), 0, sum(carol.values()), 0]
    assert [bool(r.error) for r in results] == [False, True, False, True]
    assert results[1].error.startswith("no test passed: ")  # every zero has a reason
    assert "not a valid notebook" in results[-1].error

    with open(out_csv, newline="") as f:
        rows = list(csv.reader(f))
    n = len(ex.max)
    assert rows[0] == ["submission", *ex.max, "total", "error"]
    table = {Path(r[0]).stem: r[1 : n + 2] for r in rows[2:]}
    assert table["carol"] == [f"{carol[q]:g}" for q in ex.max] + [f"{sum(carol.values()):g}"]
    assert table["dave"] == ["0"] * (n + 1)
    assert rows[1][: n + 2] == ["max", *(f"{v:g}" for v in ex.max.values()), f"{sum(ex.max.values()):g}"]
