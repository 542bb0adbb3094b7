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

:func:`grade_submissions` grades many submitted notebooks for credit with an
autograder zip (built by ``tools/make_exercises.py``): each notebook runs in a
sandbox and only evaluates the answers, the tests run outside it
(``course_lib.grading_sandbox``, ``course_lib.grading_batch``).  When a
test must transform a student's function (``jax.grad``, ``jit``), it does so in
a :func:`probe`, which runs in the sandbox.  From a shell::

    python -m course_lib.grading --autograder AUTOGRADER.zip --out scores.csv SUBMISSION.ipynb ...
"""

from __future__ import annotations

import math
import traceback
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GradingError",
    "call_safely",
    "check_array",
    "check_number",
    "probe",
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

    During grading for credit (``course_lib.grading_sandbox``), ``fn`` is a
    handle of the student's function and the call is evaluated in the sandbox:
    the arguments travel as plain data and the result comes back as plain data;
    a :func:`probe` is sent there as source code and run on its arguments.
    """
    question = _label(question)
    from course_lib import grading_sandbox as sb  # light: no student code, no heavy imports

    name = getattr(fn, "__name__", "your function") if not isinstance(fn, sb.RemoteObject) else "your function"
    if fn is Ellipsis:
        raise GradingError(f"{question}: the function is still the placeholder `...`; write your code and run its cell")
    if fn is None:
        raise GradingError(f"{question}: your function is not defined; run the cell that defines it (and fix any error it shows)")
    if isinstance(fn, sb.RemoteObject):
        raise GradingError(f"{question}: expected a function, got a {fn.type_name}: {_short(fn)}")
    session = sb.current_session()
    remote = None
    if isinstance(fn, sb.RemoteFunction):
        remote = fn.remote_call(args, kwargs)
    elif session is not None and isinstance(getattr(fn, "__grading_probe__", None), tuple):
        remote = sb.run_probe(session, fn, args, kwargs)
    else:
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
    from course_lib.grading_wire import RemoteException

    if isinstance(remote, RemoteException):
        line = f" (in your line `{remote.line}`)" if remote.line else ""
        raise GradingError(f"{question}: your function `{name}` raised {remote.type_name}: {remote.message}{line}")
    return remote


def probe(fn: Any = None, *, name: str | None = None) -> Any:
    """Mark a test helper as a *probe*: code that only evaluates the student's answers.

    Use it when a test must do more with the student's function than call it on
    data -- differentiate it, ``jit`` it, pass it one of our functions::

        @probe(name="my_relu")
        def relu_grad_at_zero(my_relu):
            import jax
            return jax.grad(my_relu)(0.0)

        value = call_safely("q2", relu_grad_at_zero, my_relu)
        check_number("q2", value, expected=0.0)

    In a student's notebook the probe is an ordinary function.  When grading for
    credit, its *source* is sent to the sandbox and run there on the (plain
    data or student) arguments, so a probe must be self-contained: do its
    imports inside, take everything else as arguments, and never compute or
    receive an expected value.  ``name`` names the student's function in
    feedback (default: the probe's own name).
    """
    if fn is None:
        return lambda f: probe(f, name=name)
    import inspect
    import textwrap

    try:
        lines = textwrap.dedent(inspect.getsource(fn)).split("\n")
        while lines and not lines[0].lstrip().startswith(("def ", "async def ")):
            lines.pop(0)  # decorators
        fn.__grading_probe__ = ("\n".join(lines), fn.__name__)
    except (OSError, TypeError):  # source unavailable (e.g. typed at a prompt): runs locally only
        pass
    if name is not None:
        fn.__name__ = name
    return fn


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
    from course_lib import grading_sandbox as sb

    tname = value.type_name if isinstance(value, sb._Remote) else type(value).__name__
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        raise GradingError(f"{question}: {what} returned a {tname}, expected an array of numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, GradingError) as exc:
        raise GradingError(
            f"{question}: {what} returned a {tname} that is not an array of numbers ({exc})"
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


# batch grading lives in course_lib.grading_batch; these names stay importable from here
from course_lib.grading_batch import (  # noqa: E402
    SubmissionResult,
    autograder_questions,
    grade_submissions,
    main,
    summary,
    write_scores_csv,
)

if __name__ == "__main__":
    raise SystemExit(main())
