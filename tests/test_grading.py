"""course_lib.grading: readable feedback helpers and batch grading of submissions."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import nbformat
import numpy as np
import pytest

from course_lib.grading import (
    GradingError,
    autograder_questions,
    call_safely,
    check_array,
    check_number,
    grade_submissions,
)

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "exercises" / "autograder" / "two_pillars-autograder.zip"


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(GradingError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_call_safely_returns_the_value():
    assert call_safely("q1", lambda a, b=1: a + b, 2, b=3) == 5


def test_call_safely_turns_problems_into_one_line_messages():
    def broken(x):
        return x / 0

    msg = _message(call_safely, "q2", broken, 1)
    assert msg.startswith("q2: your function `broken` raised ZeroDivisionError: division by zero")
    assert "return x / 0" in msg  # the student's line, when its source is known
    assert "placeholder `...`" in _message(call_safely, "q1", ..., 1)
    assert "not defined" in _message(call_safely, "q1", None, 1)
    assert _message(call_safely, "q1", 3.0, 1) == "q1: expected a function, got a float: 3.0"
    with pytest.raises(ValueError, match="question"):
        call_safely("", print)


def test_check_array_messages():
    good = check_array("q1", [1.0, 2.0], (2,), expected=jnp.array([1.0, 2.0]))
    assert isinstance(good, np.ndarray) and good.shape == (2,)
    assert _message(check_array, "q1", jnp.zeros(3), (2,)) == "q1: your function returned shape (3,), expected (2,)"
    assert "returned None (did you forget `return`?)" in _message(check_array, "q1", None, (2,))
    assert "returned a str" in _message(check_array, "q1", "1, 2", (2,))
    assert "NaN or infinite" in _message(check_array, "q1", [np.nan, 1.0], (2,))
    msg = _message(check_array, "q1", [1.0, 2.5], (2,), expected=[1.0, 2.0], at=jnp.array([0.0, 1.0]))
    assert msg.startswith("q1: your function returned [1.  2.5] at x = [0. 1.], expected [1. 2.]") and "0.5" in msg
    big = _message(check_array, "q3", np.zeros((10, 2)), (10, 2), expected=np.eye(10, 2), what="your path")
    assert big.startswith("q3: your path differs") and "index (0, 0)" in big
    with pytest.raises(ValueError, match="shape"):
        check_array("q1", [1.0], [1])
    with pytest.raises(ValueError, match="expected"):
        check_array("q1", [1.0], (1,), expected=[1.0, 2.0])


def test_check_number_messages():
    assert check_number("q4", jnp.array([2.0]), expected=2.0) == 2.0
    assert "placeholder" in _message(check_number, "q4", ..., what="L_smooth")
    assert _message(check_number, "q4", 3.0, expected=2.0, what="L") == "q4: L = 3 is not the expected value"
    assert "one number, got 2 values" in _message(check_number, "q4", [1.0, 2.0])
    assert "finite" in _message(check_number, "q4", float("inf"))
    assert "bool" in _message(check_number, "q4", True)
    with pytest.raises(ValueError, match="rtol"):
        check_number("q4", 1.0, rtol=-1)


def test_autograder_questions_and_bad_inputs(tmp_path):
    assert autograder_questions(AUTOGRADER) == {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}
    bad = tmp_path / "x.zip"
    bad.write_text("no zip")
    with pytest.raises(ValueError, match="autograder_zip"):
        autograder_questions(bad)
    with pytest.raises(ValueError, match="paths"):
        grade_submissions([], AUTOGRADER)
    with pytest.raises(ValueError, match="paths"):
        grade_submissions("one.ipynb", AUTOGRADER)
    with pytest.raises(ValueError, match="timeout"):
        grade_submissions(["a.ipynb"], AUTOGRADER, timeout=0)
    with pytest.raises(ValueError, match="workers"):
        grade_submissions(["a.ipynb"], AUTOGRADER, workers=0)


def test_batch_grading_survives_loops_and_junk(tmp_path):
    nb = nbformat.read(ROOT / "exercises" / "two_pillars.ipynb", as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code" and "import jax" in c.source)
    first_code.source = "while True:\n    pass"
    nbformat.write(nb, tmp_path / "loops.ipynb")
    (tmp_path / "essay.txt").write_text("I did not do it")
    out = tmp_path / "scores.csv"
    start = time.monotonic()
    results = grade_submissions(
        [tmp_path / "loops.ipynb", tmp_path / "essay.txt", tmp_path / "missing.ipynb"], AUTOGRADER, out, timeout=20
    )
    assert time.monotonic() - start < 90
    assert [r.total for r in results] == [0, 0, 0]
    assert "time limit of 20 s exceeded" in results[0].error or "CPU time limit" in results[0].error
    assert "not a notebook" in results[1].error
    assert results[2].error == "file not found"
    lines = out.read_text().splitlines()
    assert lines[0] == "submission,q1,q2,q3,q4,total,error" and lines[1] == "max,2,3,3,2,10,"
    assert len(lines) == 5


def _killer(tmp_path, name, cell):
    nb = nbformat.read(ROOT / "exercises" / "two_pillars.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    nbformat.write(nb, tmp_path / name)
    return tmp_path / name


def test_batch_survives_killed_and_memory_hungry_submissions_and_resumes(tmp_path):
    """Rows are written as graded; a rerun with the same CSV skips them; crashes cost only their own row."""
    import csv

    solved = tmp_path / "solved.ipynb"
    solved.write_bytes((ROOT / "solutions" / "two_pillars.ipynb").read_bytes())
    killed = _killer(tmp_path, "killed.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    hungry = _killer(tmp_path, "hungry.ipynb", "import numpy as np\nx = np.ones((4, 2**30))\ny = [bytes(2**30) for _ in range(8)]")
    out = tmp_path / "scores.csv"
    first = grade_submissions([killed, hungry], AUTOGRADER, out, timeout=120, workers=2, memory_gib=2)
    assert [r.total for r in first] == [0, 0] and all(r.error for r in first), first
    rows = list(csv.reader(out.open()))
    assert [r[0] for r in rows[2:]] == sorted([str(killed), str(hungry)], key=[str(killed), str(hungry)].index) or \
        sorted(r[0] for r in rows[2:]) == sorted([str(killed), str(hungry)])
    # rerun with one more submission: only the new one is graded (the old rows are kept as they are)
    start = time.monotonic()
    second = grade_submissions([killed, hungry, solved], AUTOGRADER, out, timeout=240, workers=2)
    assert [r.error for r in second[:2]] == [r.error for r in first]
    assert second[2].scores == {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}, second[2]
    rows = list(csv.reader(out.open()))
    assert len(rows) == 5 and sorted(r[0] for r in rows[2:]) == sorted(map(str, (killed, hungry, solved)))
    # a third run has nothing to do
    start = time.monotonic()
    third = grade_submissions([killed, hungry, solved], AUTOGRADER, out)
    assert time.monotonic() - start < 30 and [r.total for r in third] == [0, 0, 10]
    assert len(list(csv.reader(out.open()))) == 5


def test_wire_format_refuses_code_and_oversized_data():
    from course_lib import grading_wire as wire

    arr = np.arange(6.0).reshape(2, 3)
    back = wire.decode(wire.encode({"a": arr, "b": (1, "x", None, ...)}, lambda o: {"$": "ref", "id": 0, "kind": "object", "type": "T", "name": ""}))
    assert np.array_equal(back["a"], arr) and back["b"] == (1, "x", None, ...)
    with pytest.raises(wire.WireError, match="numeric"):
        wire.decode({"$": "nd", "dtype": "|O", "shape": [1], "data": "AAAAAAAAAAA="})
    with pytest.raises(wire.WireError, match="shape"):
        wire.decode({"$": "nd", "dtype": "<f8", "shape": [3], "data": "AAAAAAAAAAA="})
    with pytest.raises(wire.WireError, match="unknown"):
        wire.decode({"$": "pickle", "data": "gASVAAAAAAAAAAA="})
    with pytest.raises(wire.WireError, match="object type"):
        wire.decode({"$": "obj", "type": "os:system", "fields": {"$": "dict", "items": []}})
    r, w = __import__("os").pipe()
    __import__("os").write(w, (2**40).to_bytes(8, "big"))
    with pytest.raises(wire.WireError, match="limit"):
        wire.read_frame(r, time.monotonic() + 5)


def test_summary_line():
    from course_lib.grading import SubmissionResult, summary

    questions = {"q1": 4.0, "q2": 6.0}
    results = [
        SubmissionResult("a.ipynb", {"q1": 4.0, "q2": 6.0}, 10.0, ""),
        SubmissionResult("b.ipynb", {"q1": 4.0, "q2": 0.0}, 4.0, ""),
        SubmissionResult("c.txt", {"q1": 0.0, "q2": 0.0}, 0.0, "not a notebook (.ipynb) file: c.txt"),
    ]
    assert summary(results, questions) == (
        "graded 3 submissions: mean 4.67 / 10, median 4; 1 with full marks; 1 not graded (see the error column)"
    )
    assert summary(results[:1], questions) == "graded 1 submission: mean 10 / 10, median 10; 1 with full marks"
    with pytest.raises(ValueError, match="results"):
        summary([], questions)


def test_command_line_shows_progress_and_summary(tmp_path):
    (tmp_path / "essay.txt").write_text("I did not do it")
    out = tmp_path / "scores.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grading", "--autograder", str(AUTOGRADER), "--out", str(out),
         str(tmp_path / "essay.txt"), str(tmp_path / "missing.ipynb")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "grading: 100%" in proc.stderr and "2/2" in proc.stderr  # the tqdm bar
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["submission", "q1", "q2", "q3", "q4", "total", "error"]
    assert lines[-2] == "graded 2 submissions: mean 0 / 10, median 0; 0 with full marks; 2 not graded (see the error column)"
    assert lines[-1] == f"score table written to {out}"
    assert out.read_text().splitlines()[1] == "max,2,3,3,2,10,"


_POISON = """
import os, pathlib
cache = pathlib.Path(os.environ.get("JAX_COMPILATION_CACHE_DIR", "/jax-cache"))
attempts = {}
for name, act in [("overwrite", lambda: (cache / "entry-cache").write_bytes(b"poisoned")),
                  ("create", lambda: (cache / "new-cache").write_bytes(b"poisoned")),
                  ("delete", lambda: (cache / "entry-cache").unlink()),
                  ("chmod", lambda: os.chmod(cache, 0o777))]:
    try:
        act()
        attempts[name] = "done"
    except OSError as exc:
        attempts[name] = type(exc).__name__
import jax, jax.numpy as jnp
value = float(jax.jit(lambda x: 2.0 * x + 1.0)(jnp.float32(3.0)))
"""


@pytest.mark.skipif(bool(__import__("course_lib.grading_sandbox").grading_sandbox.sandbox_available()),
                    reason="no sandbox here")
def test_compilation_cache_is_read_only_for_submissions_and_sandboxes_run_one_notebook(tmp_path):
    """A submission cannot change the shared JAX cache; the trusted warm-up can fill it."""
    from course_lib import grading_sandbox as sb

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "entry-cache").write_bytes(b"teacher's entry")
    with sb.Session(None, sb.Limits(wall=120), cache=str(cache)) as s:  # started ahead of time, like a spare
        s.start([_POISON])
        assert s.cell_errors == []
        assert set(s.lookup("attempts").values()) == {"OSError"}, s.lookup("attempts")  # EROFS, nothing done
        assert s.lookup("value") == 7.0
        with pytest.raises(RuntimeError, match="one notebook"):
            s.start(["x = 1"])
    assert sorted(p.name for p in cache.iterdir()) == ["entry-cache"]
    assert (cache / "entry-cache").read_bytes() == b"teacher's entry"
    with sb.Session([_POISON.replace("attempts[name] = type", "attempts[name] = 'refused ' + type")],
                    sb.Limits(wall=120), cache=str(cache), cache_writable=True) as s:
        assert s.lookup("value") == 7.0
    assert any(p.name.startswith("jit_") for p in cache.iterdir()), "the trusted run writes compiled code"
