r"""Readable feedback for graded exercises, and batch grading for teachers.

The exercise notebooks are graded with `otter-grader <https://otter-grader.readthedocs.io>`_.
Their tests use the helpers below so that a student always reads *what* is
wrong, never only a traceback:

* :func:`call_safely` calls the student's function and turns a placeholder
  ``...``, a missing definition or an exception raised inside it into a
  :class:`GradingError` such as ``q2: your function raised ZeroDivisionError: division by zero``;
* :func:`check_array` and :func:`check_number` check the type, shape,
  finiteness and value of a result, e.g.
  ``q1: your function returned shape (3,), expected (2,)``.

:func:`grade_submissions` grades many submitted notebooks with an autograder
zip (built by ``tools/make_exercises.py``) without Docker: each notebook runs in
its own ``otter run`` process with a time limit, and a broken submission (not a
notebook, an error, an endless loop) scores zero with a reason instead of
stopping the batch.  From a shell::

    python -m course_lib.grading --autograder AUTOGRADER.zip --out scores.csv SUBMISSION.ipynb ...
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "GradingError",
    "call_safely",
    "check_array",
    "check_number",
    "SubmissionResult",
    "autograder_questions",
    "grade_submissions",
    "summary",
    "write_scores_csv",
    "main",
]


class GradingError(AssertionError):
    """A failed check; its message is written for the student and starts with the question name."""


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _label(question: str) -> str:
    if not isinstance(question, str) or not question:
        raise ValueError(f"question must be a non-empty string such as 'q1', got {question!r}")
    return question


def call_safely(question: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``fn(*args, **kwargs)`` and return its result.

    Raises :class:`GradingError` with a one-line message instead of a traceback when

    * ``fn`` is still the placeholder ``...`` or ``None`` (the cell defining it was
      not completed or not run);
    * ``fn`` is not callable;
    * calling it raises any exception ``E``: the message is
      ``"<question>: your function raised E: <message>"``.

    ``question`` (e.g. ``"q1"``) starts every message.  Bad ``question`` raises ``ValueError``.
    """
    question = _label(question)
    name = getattr(fn, "__name__", "your function")
    if fn is Ellipsis:
        raise GradingError(f"{question}: the function is still the placeholder `...`; write your code and run its cell")
    if fn is None:
        raise GradingError(f"{question}: your function is not defined; run the cell that defines it (and fix any error it shows)")
    if not callable(fn):
        raise GradingError(f"{question}: expected a function, got a {type(fn).__name__}: {_short(fn)}")
    try:
        return fn(*args, **kwargs)
    except GradingError:
        raise
    except Exception as exc:  # the student's code may raise anything
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
        raise GradingError(
            f"{question}: your function `{name}` raised {type(exc).__name__}: {message}{_student_line(exc)}"
        ) from None


def _student_line(exc: BaseException) -> str:
    """`` (in your line: `...`)`` for the deepest frame of the traceback outside libraries, or ``""``."""
    here = str(Path(__file__).resolve().parent)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        fn = frame.filename or ""
        if "site-packages" in fn or fn.startswith(here) or fn.startswith("<frozen") or not frame.line:
            continue
        return f" (in your line `{frame.line.strip()}`)"
    return ""


def _as_float_array(question: str, value: Any, what: str) -> np.ndarray:
    if value is Ellipsis:
        raise GradingError(f"{question}: {what} is still the placeholder `...`; replace it with your answer")
    if value is None:
        raise GradingError(f"{question}: {what} returned None (did you forget `return`?)")
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        raise GradingError(f"{question}: {what} returned a {type(value).__name__}, expected an array of numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise GradingError(
            f"{question}: {what} returned a {type(value).__name__} that is not an array of numbers ({exc})"
        ) from None
    return arr


def _where(at: Any) -> str:
    if at is None:
        return ""
    if isinstance(at, str):
        return f" at {at}"
    return f" at x = {np.array2string(np.asarray(at), precision=4)}"


def check_array(
    question: str,
    value: Any,
    shape: tuple[int, ...],
    *,
    expected: Any = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    at: Any = None,
    what: str = "your function",
) -> np.ndarray:
    """Check that ``value`` is a finite array of ``shape`` (and close to ``expected``).

    Returns ``value`` as a float NumPy array of shape ``shape``.  Raises
    :class:`GradingError` with a readable message when ``value`` is ``...``,
    ``None``, not numeric, of another shape (``"q1: your function returned shape
    (3,), expected (2,)"``), contains NaN or inf, or differs from ``expected``
    (array of ``shape``, compared with ``numpy.allclose(value, expected, rtol,
    atol)``; the message shows both and the largest difference).  ``at``
    describes the input (an array or a string) and ``what`` the checked object.
    ``shape`` must be a tuple of non-negative ints, else ``ValueError``.
    """
    question = _label(question)
    if not isinstance(shape, tuple) or not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape):
        raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}")
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol!r}, atol={atol!r}")
    arr = _as_float_array(question, value, what)
    if arr.shape != tuple(shape):
        raise GradingError(f"{question}: {what} returned shape {arr.shape}, expected {tuple(shape)}{_where(at)}")
    if not np.all(np.isfinite(arr)):
        raise GradingError(
            f"{question}: {what} returned NaN or infinite values{_where(at)}: {np.array2string(arr, precision=4)}"
        )
    if expected is not None:
        exp = np.asarray(expected, dtype=float)
        if exp.shape != arr.shape:
            raise ValueError(f"expected must have shape {tuple(shape)}, got {exp.shape}")
        if not np.allclose(arr, exp, rtol=rtol, atol=atol):
            err = float(np.max(np.abs(arr - exp)))
            if arr.size <= 6:
                got = np.array2string(arr, precision=5)
                want = np.array2string(exp, precision=5)
                raise GradingError(
                    f"{question}: {what} returned {got}{_where(at)}, expected {want} (largest difference {err:.3g})"
                )
            bad = np.unravel_index(np.argmax(np.abs(arr - exp) - rtol * np.abs(exp)), arr.shape)
            raise GradingError(
                f"{question}: {what} differs from the expected result{_where(at)}: largest difference {err:.3g}; "
                f"first bad entry at index {tuple(int(i) for i in bad)}: got {arr[bad]:.6g}, expected {exp[bad]:.6g}"
            )
    return arr


def check_number(
    question: str,
    value: Any,
    *,
    expected: float | None = None,
    rtol: float = 1e-4,
    atol: float = 0.0,
    what: str = "your answer",
) -> float:
    """Check that ``value`` is one finite real number (and close to ``expected``); return it as ``float``.

    Accepts Python numbers and arrays with one element.  Raises
    :class:`GradingError` when ``value`` is ``...``, ``None``, not a number, has
    several entries, is NaN or inf, or is not within ``atol + rtol * |expected|``
    of ``expected``.
    """
    question = _label(question)
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol!r}, atol={atol!r}")
    if isinstance(value, bool):
        raise GradingError(f"{question}: {what} is a bool ({value}), expected a number")
    arr = _as_float_array(question, value, what).reshape(-1) if value is not Ellipsis else None
    if arr is None:
        raise GradingError(f"{question}: {what} is still the placeholder `...`; replace it with a number")
    if arr.size != 1:
        raise GradingError(f"{question}: {what} should be one number, got {arr.size} values")
    x = float(arr[0])
    if not math.isfinite(x):
        raise GradingError(f"{question}: {what} is {x}, expected a finite number")
    if expected is not None and not abs(x - float(expected)) <= atol + rtol * abs(float(expected)):
        raise GradingError(f"{question}: {what} = {x:.6g} is not the expected value")
    return x


# ---------------------------------------------------------------------------
# batch grading
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SubmissionResult:
    """Score of one submission: ``scores`` maps each question to its points,
    ``total`` is their sum, ``error`` is ``""`` or why the submission scored zero."""

    path: str
    scores: dict[str, float]
    total: float
    error: str = ""


_POINTS_RE = re.compile(r"^points\s*=\s*(.+)$", re.MULTILINE)


def autograder_questions(autograder_zip: str | os.PathLike[str]) -> dict[str, float]:
    """Questions of an otter autograder zip and their maximal points, in file-name order.

    Reads ``tests/<question>.py`` in the zip.  Raises ``ValueError`` if
    ``autograder_zip`` is not a zip file with such tests.
    """
    path = Path(autograder_zip)
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ValueError(f"autograder_zip must be an otter autograder zip file, got {str(autograder_zip)!r}")
    out: dict[str, float] = {}
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            m = re.fullmatch(r"tests/([^/]+)\.py", name)
            if not m:
                continue
            src = zf.read(name).decode("utf-8")
            pm = _POINTS_RE.search(src)
            try:
                points = eval(pm.group(1), {}) if pm else None  # a literal number, list or None
            except Exception:
                points = None
            if isinstance(points, (list, tuple)):
                points = sum(p for p in points if p is not None)
            out[m.group(1)] = float(points) if isinstance(points, (int, float)) else math.nan
    if not out:
        raise ValueError(f"autograder_zip must contain tests/<question>.py files, found none in {str(path)!r}")
    return out


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the otter process and the kernel it started
    except (ProcessLookupError, PermissionError):
        pass


def _grade_one(path: Path, autograder_zip: Path, questions: dict[str, float], timeout: float) -> SubmissionResult:
    zero = {q: 0.0 for q in questions}
    if not path.is_file():
        return SubmissionResult(str(path), zero, 0.0, "file not found")
    if path.suffix != ".ipynb":
        return SubmissionResult(str(path), zero, 0.0, f"not a notebook (.ipynb) file: {path.name}")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or "cells" not in nb:
            raise ValueError("no 'cells'")
    except (ValueError, UnicodeDecodeError) as exc:
        return SubmissionResult(str(path), zero, 0.0, f"not a valid notebook (JSON): {str(exc).splitlines()[0]}")
    work = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        sub = work / "submission.ipynb"  # otter wants exactly one notebook; a plain name avoids surprises
        shutil.copyfile(path, sub)
        env = dict(os.environ, TMPDIR=str(work), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder_zip), "-o", str(work), str(sub)]
        with open(work / "log.txt", "w") as log:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.wait()
                return SubmissionResult(str(path), zero, 0.0, f"time limit of {timeout:g} s exceeded (endless loop?)")
            finally:
                _kill_group(proc)  # a kernel left behind
        results = work / "results.json"
        if proc.returncode != 0 or not results.is_file():
            tail = (work / "log.txt").read_text(errors="replace").strip().splitlines()
            last = next((line for line in reversed(tail) if line.strip()), "no output")
            return SubmissionResult(str(path), zero, 0.0, f"grading failed: {last.strip()[:300]}")
        data = json.loads(results.read_text())
        scores = dict(zero)
        for test in data.get("tests", []):
            name = str(test.get("name", ""))
            q = name.split(" - ")[0].split(" ")[0]
            if q in scores:
                scores[q] += float(test.get("score") or 0.0)
        scores = {q: round(s, 6) for q, s in scores.items()}
        return SubmissionResult(str(path), scores, round(sum(scores.values()), 6), "")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def grade_submissions(
    paths: Sequence[str | os.PathLike[str]],
    autograder_zip: str | os.PathLike[str],
    out_csv: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 300.0,
    workers: int = 1,
    progress: bool = False,
) -> list[SubmissionResult]:
    """Grade every notebook in ``paths`` with ``otter run`` and the autograder zip.

    Each submission runs in its own process group, killed after ``timeout``
    seconds; ``workers`` submissions run at once.  A submission that is missing,
    not a notebook, not valid JSON, too slow, or that otter cannot grade scores
    0 on every question, and its ``error`` says why; errors *inside* the
    notebook cost only the points of the tests that fail.  Returns one
    :class:`SubmissionResult` per path, in order.  If ``out_csv`` is given, also
    writes a CSV table with columns ``submission, <questions...>, total, error``
    (one row per submission, then a ``max`` row with each question's points).

    With ``progress``, a progress bar (tqdm, on standard error) counts the
    graded submissions; :func:`summary` gives a one-line overview of the results.

    Bad arguments (empty ``paths``, a bad zip, ``timeout <= 0``, ``workers < 1``)
    raise ``ValueError`` naming the argument.
    """
    if isinstance(paths, (str, os.PathLike)) or not len(paths):
        raise ValueError("paths must be a non-empty list of notebook paths")
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    questions = autograder_questions(autograder_zip)
    ag = Path(autograder_zip).resolve()

    def job(p: str | os.PathLike[str]) -> SubmissionResult:
        return _grade_one(Path(p).resolve(), ag, questions, float(timeout))

    from tqdm import tqdm

    bar = tqdm(total=len(paths), desc="grading", unit="notebook", disable=not progress, file=sys.stderr)
    results: list[SubmissionResult] = [None] * len(paths)  # type: ignore[list-item]
    with bar, concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(job, p): i for i, p in enumerate(paths)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    results = [dataclasses.replace(r, path=str(p)) for r, p in zip(results, paths)]
    if out_csv is not None:
        write_scores_csv(results, questions, out_csv)
    return results


def summary(results: Sequence[SubmissionResult], questions: dict[str, float]) -> str:
    """One line summarising a batch: count, mean and median total, full marks, zero-scored with a reason.

    ``questions`` maps each question to its maximal points (as from
    :func:`autograder_questions`).  Example:
    ``"graded 3 submissions: mean 6.67 / 10, median 10; 2 with full marks; 1 not graded (see the error column)"``.
    """
    if not len(results):
        raise ValueError("results must contain at least one SubmissionResult")
    totals = np.array([r.total for r in results], dtype=float)
    best = sum(questions.values())
    full = int(np.sum(np.isclose(totals, best)))
    failed = sum(1 for r in results if r.error)
    line = (f"graded {len(results)} submission{'s' * (len(results) != 1)}: mean {totals.mean():.3g} / {best:g}, "
            f"median {np.median(totals):.3g}; {full} with full marks")
    if failed:
        line += f"; {failed} not graded (see the error column)"
    return line


def write_scores_csv(
    results: Sequence[SubmissionResult], questions: dict[str, float], out_csv: str | os.PathLike[str]
) -> None:
    """Write ``results`` as a CSV table: ``submission, <questions...>, total, error``, then a ``max`` row."""
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["submission", *questions, "total", "error"])
        for r in results:
            writer.writerow([r.path, *(f"{r.scores[q]:g}" for q in questions), f"{r.total:g}", r.error])
        writer.writerow(["max", *(f"{p:g}" for p in questions.values()), f"{sum(questions.values()):g}", ""])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course_lib.grading --autograder ZIP [--out CSV] [--timeout S] [--workers N] NOTEBOOK...``.

    Prints the score table; returns 0 (also when some submissions scored zero).
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=grade_submissions.__doc__.split("\n")[0])
    parser.add_argument("submissions", nargs="+", help="submitted notebooks (.ipynb)")
    parser.add_argument("--autograder", required=True, help="autograder zip, e.g. exercises/autograder/two_pillars-autograder.zip")
    parser.add_argument("--out", default=None, help="CSV file for the score table")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per submission (default 300)")
    parser.add_argument("--workers", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    results = grade_submissions(args.submissions, args.autograder, args.out, timeout=args.timeout,
                                workers=args.workers, progress=not args.no_progress)
    questions = autograder_questions(args.autograder)
    print("\t".join(["submission", *questions, "total", "error"]))
    for r in results:
        print("\t".join([r.path, *(f"{r.scores[q]:g}" for q in questions), f"{r.total:g}", r.error]))
    print(summary(results, questions))
    if args.out:
        print(f"score table written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
