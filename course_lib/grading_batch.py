r"""Batch grading for credit: many submitted notebooks into a CSV score table.

:func:`grade_submissions` grades each notebook with the tests of an autograder
zip (built by ``tools/make_exercises.py``).  The submission runs in a sandbox
and only evaluates the student's answers; the tests -- comparisons, points,
feedback -- run in this process, into which no student code is loaded
(``course_lib.grading_sandbox``).  Rows are written to the CSV as soon as a
submission is graded; running the same command again with the same CSV skips
the submissions already in it.  From a shell::

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
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from course_lib import grading_sandbox as sb

__all__ = [
    "SubmissionResult",
    "TestCase",
    "autograder_questions",
    "load_tests",
    "notebook_cells",
    "grade_notebook",
    "grade_submissions",
    "read_scores_csv",
    "summary",
    "write_scores_csv",
    "main",
]


@dataclasses.dataclass(frozen=True)
class SubmissionResult:
    """Score of one submission: ``scores`` maps each question to its points,
    ``total`` is their sum, ``error`` is ``""`` or why the submission lost points
    as a whole (not gradable, a limit exceeded, or -- for a total of zero -- the
    first failed checks); ``feedback`` maps each question to the messages of its failed tests."""

    path: str
    scores: dict[str, float]
    total: float
    error: str = ""
    feedback: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    cpu: float = 0.0  # CPU seconds of the submission's sandboxed processes (not in the CSV)


@dataclasses.dataclass(frozen=True)
class TestCase:
    """One test of a question: its otter name, points, whether hidden, and the test function."""

    question: str
    name: str
    points: float
    hidden: bool
    func: Any


_POINTS_RE = re.compile(r"^points\s*=\s*(.+)$", re.MULTILINE)


def _check_zip(autograder_zip: str | os.PathLike[str]) -> Path:
    path = Path(autograder_zip)
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ValueError(f"autograder_zip must be an otter autograder zip file, got {str(autograder_zip)!r}")
    return path


def autograder_questions(autograder_zip: str | os.PathLike[str]) -> dict[str, float]:
    """Questions of an otter autograder zip and their maximal points, in file-name order.

    Reads ``tests/<question>.py`` in the zip.  Raises ``ValueError`` if
    ``autograder_zip`` is not a zip file with such tests.
    """
    tests = load_tests(autograder_zip)
    out: dict[str, float] = {}
    for t in tests:
        out[t.question] = out.get(t.question, 0.0) + t.points
    return out


_TESTS_CACHE: dict[tuple, list[TestCase]] = {}
_TESTS_LOCK = threading.Lock()


def load_tests(autograder_zip: str | os.PathLike[str]) -> list[TestCase]:
    """The test cases of the zip's ``tests/*.py`` (otter's exception format), with otter's point rules.

    The test files are trusted teacher material: they are executed here, in the
    grading process (never in the sandbox).  Cached per zip file and modification time.
    """
    path = _check_zip(autograder_zip).resolve()
    key = (str(path), path.stat().st_mtime_ns)
    with _TESTS_LOCK:
        if key in _TESTS_CACHE:
            return _TESTS_CACHE[key]
        from otter.test_files.exception_test import ExceptionTestFile

        folder = Path(tempfile.mkdtemp(prefix="grading-tests-"))  # kept: probes read their source from here
        tests: list[TestCase] = []
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if re.fullmatch(r"tests/[^/]+\.py", n))
            if not names:
                raise ValueError(f"autograder_zip must contain tests/<question>.py files, found none in {str(path)!r}")
            for n in names:
                target = folder / Path(n).name
                target.write_bytes(zf.read(n))
                tf = ExceptionTestFile.from_file(str(target))
                for tc in tf.test_cases:
                    tests.append(TestCase(tf.name, str(tc.name), float(tc.points or 0.0), bool(tc.hidden), tc.body.test_func))
        _TESTS_CACHE[key] = tests
        return tests


def _is_otter_cell(src: str) -> bool:
    lines = [ln.strip() for ln in src.strip().splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if src.lstrip().startswith("# Initialize Otter"):
        return True
    return bool(lines) and all(ln.startswith(("grader.check", "grader.export")) for ln in lines)


def notebook_cells(path: str | os.PathLike[str]) -> list[str]:
    """Source of the code cells of a submitted notebook, without otter's self-check cells.

    Raises ``ValueError`` (with a reason for the score table) when the file is
    missing, not an ``.ipynb`` or not a notebook.  Only JSON is parsed here.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError("file not found")
    if path.suffix != ".ipynb":
        raise ValueError(f"not a notebook (.ipynb) file: {path.name}")
    if path.stat().st_size > 50 * 2**20:
        raise ValueError("notebook larger than 50 MiB")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no 'cells'")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a valid notebook (JSON): {str(exc).splitlines()[0]}") from None
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else str(src)
        if not _is_otter_cell(src):
            cells.append(src)
    return cells


def grade_notebook(
    path: str | os.PathLike[str],
    tests: Sequence[TestCase],
    *,
    limits: sb.Limits = sb.Limits(),
    sandbox: bool = True,
    session: sb.Session | None = None,
    cache: str | None = None,
    cache_writable: bool = False,
) -> SubmissionResult:
    """Grade one notebook: run it in the sandbox, run ``tests`` here against its answers.

    A test passes when its function returns without raising; it then earns its
    points.  If the sandbox stops (limit, crash, exit), the tests not yet run
    score zero and ``error`` says why.  ``session`` is a sandbox started ahead
    of time (``Session(None, ...)``, not yet started; it is used for this notebook
    only and closed), else one is started with ``limits``, ``sandbox`` and the
    compilation ``cache`` folder (``cache_writable`` only for a trusted notebook).
    """
    from course_lib.grading import GradingError

    questions: dict[str, float] = {}
    for t in tests:
        questions.setdefault(t.question, 0.0)
    zero = dict(questions)
    try:
        cells = notebook_cells(path)
    except ValueError as exc:
        if session is not None:
            session.close()
        return SubmissionResult(str(path), zero, 0.0, str(exc))
    scores, feedback, error = dict(zero), {q: [] for q in questions}, ""
    try:
        if session is None:
            session = sb.Session(None, limits, sandbox=sandbox, cache=cache, cache_writable=cache_writable)
        session.start(cells)
    except sb.SandboxError as exc:
        return SubmissionResult(str(path), zero, 0.0, f"while running the notebook: {exc}", cpu=session.cpu_seconds)
    with session:
        for t in tests:
            if session.died:
                feedback[t.question].append(f"{t.question}: not graded ({session.died})")
                continue
            try:
                import inspect

                params = inspect.signature(t.func).parameters
                kwargs = {p: session.lookup(p) for p in params if p != "env"}
                if "env" in params:
                    kwargs["env"] = None
                t.func(**kwargs)
            except sb.SandboxError as exc:
                feedback[t.question].append(f"{t.question}: {exc}")
            except GradingError as exc:
                feedback[t.question].append(str(exc))
            except Exception as exc:  # an assertion or an error of the check on odd data
                feedback[t.question].append(f"{t.question}: {type(exc).__name__}: {str(exc).strip()[:300]}")
            else:
                scores[t.question] += t.points
        error = session.died
    scores = {q: round(s, 6) for q, s in scores.items()}
    total = round(sum(scores.values()), 6)
    if total == 0 and not error:
        failed = [m for msgs in feedback.values() for m in msgs[:1]]
        error = "no test passed: " + " | ".join(failed)[:500] if failed else "no test passed"
    elif error:
        error = f"stopped: {error}"
    return SubmissionResult(str(path), scores, total, error, feedback, session.cpu_seconds)


class _Spares:
    """Sandboxes started ahead of time, so that each has imported NumPy/JAX/``course_lib`` before its notebook arrives.

    :meth:`take` hands out a waiting sandbox (or a new one) and starts a
    replacement while submissions remain; every sandbox runs one notebook only.
    """

    def __init__(self, remaining: int, make: Any):
        self._lock = threading.Lock()
        self._ready: list[sb.Session] = []
        self._remaining = remaining
        self._make = make

    def prestart(self, n: int) -> None:
        with self._lock:
            while len(self._ready) < min(n, self._remaining):
                self._ready.append(self._make())

    def take(self) -> sb.Session:
        with self._lock:
            self._remaining -= 1
            session = self._ready.pop(0) if self._ready else self._make()
            if self._remaining > len(self._ready):
                self._ready.append(self._make())
            return session

    def close(self) -> None:
        with self._lock:
            for s in self._ready:
                s.close()
            self._ready.clear()


# --------------------------------------------------------------------- the score table


def _row(r: SubmissionResult, questions: dict[str, float]) -> list[str]:
    return [r.path, *(f"{r.scores.get(q, 0.0):g}" for q in questions), f"{r.total:g}", r.error]


def write_scores_csv(
    results: Sequence[SubmissionResult], questions: dict[str, float], out_csv: str | os.PathLike[str]
) -> None:
    """Write ``results`` as a CSV table: ``submission, <questions...>, total, error``, a ``max`` row first."""
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["submission", *questions, "total", "error"])
        writer.writerow(["max", *(f"{p:g}" for p in questions.values()), f"{sum(questions.values()):g}", ""])
        for r in results:
            writer.writerow(_row(r, questions))


def read_scores_csv(out_csv: str | os.PathLike[str], questions: dict[str, float]) -> dict[str, SubmissionResult]:
    """Rows of a score table written by :func:`grade_submissions`, by submission path (the ``max`` row left out).

    Raises ``ValueError`` if the file's columns are not those of ``questions``.
    """
    with open(out_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = ["submission", *questions, "total", "error"]
    if not rows or rows[0] != header:
        raise ValueError(f"out_csv {str(out_csv)!r} is a score table of other questions (columns {rows[:1]}), expected {header}")
    done = {}
    for row in rows[1:]:
        if len(row) != len(header) or row[0] == "max":
            continue  # a row cut short by a crash is graded again
        try:
            scores = {q: float(v) for q, v in zip(questions, row[1:-2])}
            done[row[0]] = SubmissionResult(row[0], scores, float(row[-2]), row[-1])
        except ValueError:
            continue
    return done


def grade_submissions(
    paths: Sequence[str | os.PathLike[str]],
    autograder_zip: str | os.PathLike[str],
    out_csv: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 300.0,
    workers: int = 1,
    progress: bool = False,
    memory_gib: float = 4.0,
    resume: bool = True,
    unsafe_no_sandbox: bool = False,
    warm_up: str | os.PathLike[str] | None = None,
) -> list[SubmissionResult]:
    """Grade every notebook in ``paths`` with the tests of the autograder zip.

    Each submission runs in its own sandboxed process (see
    ``course_lib.grading_sandbox``) with a wall-clock limit of ``timeout``
    seconds and a memory limit of ``memory_gib`` GiB; ``workers`` submissions
    are graded at once.  The tests run in this process against plain data from
    the sandbox.  A submission that is missing, not a notebook, or stops its
    process early scores zero on the tests not run, and ``error`` says why;
    errors *inside* the notebook cost only the points of the tests that fail.

    If ``out_csv`` is given, its header and a ``max`` row (each question's
    points) are written first and then one row per submission *as soon as it
    is graded* (columns ``submission, <questions...>, total, error``).  With
    ``resume`` (default) and an existing ``out_csv`` of the same questions, the
    submissions already in it are not graded again (delete a row to regrade it).
    Returns one :class:`SubmissionResult` per path, in order.

    Speed: while a submission is graded, the sandbox of the next one is
    already started and has imported NumPy, JAX and ``course_lib`` (each
    sandbox still runs one submission only).  ``warm_up`` is a notebook *you
    trust*, normally the exercise's solution: it is graded first, in a sandbox
    that may write JAX's compiled code to a fresh cache folder of this batch;
    every submission then reads that cache *read-only* (the folder is bound
    read-only in its sandbox, so no submission can change what another reads),
    which saves most of the compilation time.  The warm-up is not in the
    results; a warning says if it did not get full marks.

    Without bubblewrap, raises ``course_lib.grading_sandbox.SandboxUnavailable``
    unless ``unsafe_no_sandbox`` (the submission then runs as your own user,
    with the same limits but with access to your files and the network).

    Bad arguments (empty ``paths``, a bad zip, ``timeout <= 0``, ``workers < 1``,
    ``memory_gib <= 0``, a ``warm_up`` that is not a notebook) raise ``ValueError`` naming the argument.
    """
    if isinstance(paths, (str, os.PathLike)) or not len(paths):
        raise ValueError("paths must be a non-empty list of notebook paths")
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if not (isinstance(memory_gib, (int, float)) and math.isfinite(memory_gib) and memory_gib > 0):
        raise ValueError(f"memory_gib must be a positive number, got {memory_gib!r}")
    if warm_up is not None and not (Path(warm_up).is_file() and Path(warm_up).suffix == ".ipynb"):
        raise ValueError(f"warm_up must be a notebook file (.ipynb) you trust, e.g. the solution, got {str(warm_up)!r}")
    tests = load_tests(autograder_zip)
    questions = autograder_questions(autograder_zip)
    sandbox = not unsafe_no_sandbox
    if sandbox:
        why = sb.sandbox_available()
        if why:
            raise sb.SandboxUnavailable(
                f"cannot sandbox the submissions ({why}). Install bubblewrap (Debian/Ubuntu: `apt-get install "
                f"bubblewrap`) or, only for code you trust, pass unsafe_no_sandbox=True (`--unsafe-no-sandbox`)")
    limits = sb.Limits(wall=float(timeout), memory=int(memory_gib * 2**30))
    keys = [str(p) for p in paths]
    done: dict[str, SubmissionResult] = {}
    if out_csv is not None:
        if resume and Path(out_csv).is_file() and Path(out_csv).stat().st_size:
            done = read_scores_csv(out_csv, questions)
        else:
            write_scores_csv([], questions, out_csv)
    todo = [i for i, k in enumerate(keys) if k not in done]

    from tqdm import tqdm

    results: list[SubmissionResult | None] = [done.get(k) for k in keys]
    bar = tqdm(total=len(paths), initial=len(paths) - len(todo), desc="grading", unit="notebook",
               disable=not progress, file=sys.stderr)
    csv_file = open(out_csv, "a", newline="", encoding="utf-8") if out_csv is not None else None
    cache = tempfile.mkdtemp(prefix="grading-jax-cache-") if warm_up is not None and todo else None
    spares = _Spares(len(todo), lambda: sb.Session(None, limits, sandbox=sandbox, cache=cache))

    def grade(i: int) -> SubmissionResult:
        return grade_notebook(Path(keys[i]), tests, limits=limits, sandbox=sandbox, session=spares.take())

    try:
        spares.prestart(workers)
        if cache is not None:
            trusted = grade_notebook(Path(warm_up), tests, limits=limits, sandbox=sandbox, cache=cache, cache_writable=True)
            if trusted.total < sum(questions.values()):
                import warnings

                warnings.warn(f"the warm-up notebook {str(warm_up)!r} scored {trusted.total:g} / "
                              f"{sum(questions.values()):g} ({trusted.error or 'some tests failed'}); is it the solution?",
                              stacklevel=2)
        writer = csv.writer(csv_file, lineterminator="\n") if csv_file else None
        with bar, concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade, i): i for i in todo}
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                try:
                    r = dataclasses.replace(future.result(), path=keys[i])
                except Exception as exc:  # a bug of the grader itself: keep the batch going, say so
                    r = SubmissionResult(keys[i], {q: 0.0 for q in questions}, 0.0, f"grader error: {type(exc).__name__}: {exc}")
                results[i] = r
                if writer is not None:
                    writer.writerow(_row(r, questions))
                    csv_file.flush()
                    os.fsync(csv_file.fileno())
                bar.update(1)
    finally:
        spares.close()
        if csv_file:
            csv_file.close()
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    return [r for r in results if r is not None]


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
    failed = sum(1 for r in results if r.error and r.total == 0 and not r.error.startswith("no test passed"))
    line = (f"graded {len(results)} submission{'s' * (len(results) != 1)}: mean {totals.mean():.3g} / {best:g}, "
            f"median {np.median(totals):.3g}; {full} with full marks")
    if failed:
        line += f"; {failed} not graded (see the error column)"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course_lib.grading --autograder ZIP [--out CSV] [--timeout S] [--workers N] [--warm-up SOLUTION] NOTEBOOK...``.

    Prints the score table; returns 0 (also when some submissions scored zero),
    2 if grading refuses to run without a sandbox.
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading",
                                     description="Grade submitted notebooks in a sandbox into a CSV score table.")
    parser.add_argument("submissions", nargs="+", help="submitted notebooks (.ipynb)")
    parser.add_argument("--autograder", required=True, help="autograder zip, e.g. exercises/autograder/two_pillars-autograder.zip")
    parser.add_argument("--out", default=None, help="CSV file for the score table (rows appended as graded; a rerun resumes)")
    parser.add_argument("--timeout", type=float, default=300.0, help="wall-clock seconds per submission (default 300)")
    parser.add_argument("--memory", type=float, default=4.0, help="memory limit per submission in GiB (default 4)")
    parser.add_argument("--workers", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--warm-up", default=None, metavar="NOTEBOOK",
                        help="a notebook you trust (the solution), graded first to fill a read-only cache of compiled "
                             "JAX code for the submissions (faster)")
    parser.add_argument("--restart", action="store_true", help="grade everything again, overwriting --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions WITHOUT the sandbox, as your user, with access to your files and the "
                             "network (only for code you trust)")
    args = parser.parse_args(argv)
    try:
        results = grade_submissions(args.submissions, args.autograder, args.out, timeout=args.timeout,
                                    workers=args.workers, progress=not args.no_progress, memory_gib=args.memory,
                                    resume=not args.restart, unsafe_no_sandbox=args.unsafe_no_sandbox,
                                    warm_up=args.warm_up)
    except sb.SandboxUnavailable as exc:
        print(f"refusing to grade: {exc}", file=sys.stderr)
        return 2
    questions = autograder_questions(args.autograder)
    print("\t".join(["submission", *questions, "total", "error"]))
    for r in results:
        print("\t".join(_row(r, questions)))
    print(summary(results, questions))
    if args.out:
        print(f"score table written to {args.out}")
    return 0
