"""Input validation shared by every module.

Each check raises :class:`ValueError` naming the argument and what was expected,
so that a reader who passes a bad value learns what to fix.
"""

from __future__ import annotations

import difflib
import math
import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["positive", "nonnegative", "real", "in_range", "finite_array", "last_axis", "one_of", "positive_int",
           "nonnegative_int", "prng_key", "real_array", "is_callable", "at_most", "work_size", "MAX_WORK",
           "MAX_PYTHON_STEPS", "MAX_RECORD_BYTES", "FLOAT32_MAX"]

MAX_WORK = 2 * 10**9
"""Default budget of a call, in scalar updates (steps x chains x state size): about a minute of CPU."""

_INT32_MAX = 2**31 - 1

MAX_PYTHON_STEPS = 10**6
"""Default budget of a call that loops in Python (one dispatch per step)."""

MAX_RECORD_BYTES = 2 * 2**30
"""Default budget of the arrays a call records (2 GiB)."""


def _is_tracer(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


def _real(name: str, value: Any, what: str) -> float:
    """``float(value)`` for a real number; a named ValueError for bool, complex, strings, None, arrays."""
    if isinstance(value, (bool, np.bool_)) or (hasattr(value, "dtype") and np.dtype(value.dtype).kind == "b"):
        raise ValueError(f"{name} must be {what}, got the bool {value!r}")
    if isinstance(value, (complex, np.complexfloating)) or (
            hasattr(value, "dtype") and np.dtype(value.dtype).kind == "c"):
        raise ValueError(f"{name} must be {what}, got the complex {value!r} (complex values are not accepted)")
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if hasattr(value, "shape") and tuple(value.shape) not in ((), (1,)):
        raise ValueError(f"{name} must be {what} (a scalar), got an array of shape {tuple(value.shape)}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}, got {value!r}") from None


def real(name: str, value: Any) -> Any:
    """Check that a scalar is a finite real number (skipped for traced values)."""
    if _is_tracer(value):
        return value
    if not math.isfinite(_real(name, value, "a finite real number")):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return value


def in_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
             high_open: bool = False) -> Any:
    """Check that a real scalar lies in the interval from ``low`` to ``high`` (open ends as flagged)."""
    if _is_tracer(value):
        return value
    v = _real(name, value, "a real number")
    ok = math.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = (f"{'(' if low_open or low == -math.inf else '['}{low:g}, "
                    f"{high:g}{')' if high_open or high == math.inf else ']'}")
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def positive(name: str, value: Any) -> Any:
    """Check that a scalar is finite and > 0 (skipped for traced values)."""
    if _is_tracer(value):
        return value
    v = _real(name, value, "a positive number")
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def nonnegative(name: str, value: Any) -> Any:
    """Check that a scalar is finite and >= 0 (skipped for traced values)."""
    if _is_tracer(value):
        return value
    v = _real(name, value, "a non-negative number")
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return value


def _integer(name: str, value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be {what}, got the bool {value!r}")
    try:
        return operator.index(value)  # int, numpy integers, 0-d integer arrays
    except TypeError:
        pass
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        raise ValueError(f"{name} must be {what}, got the float {value!r}; pass int({value!r}) = {int(value)}")
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        raise ValueError(f"{name} must be {what} (a whole number, it counts something), got {value!r}")
    raise ValueError(f"{name} must be {what}, got {value!r}")


def positive_int(name: str, value: Any) -> int:
    """Check that ``value`` is an integer >= 1 (not a float, even ``1e4``: the message says how); return ``int``."""
    v = _integer(name, value, "a positive integer")
    if v < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if v > _INT32_MAX:
        raise ValueError(f"{name}={v} is too large: counts must be at most 2**31 - 1 = {_INT32_MAX} (and a run that "
                         "long would not finish); use a smaller value")
    return v


def nonnegative_int(name: str, value: Any) -> int:
    """Check that ``value`` is an integer >= 0; return it as ``int``."""
    v = _integer(name, value, "a non-negative integer")
    if v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return v


def prng_key(name: str, value: Any, *, batched: bool = False) -> Any:
    """Check a JAX PRNG key: a new-style key (``jax.random.key``) or a legacy ``uint32[2]`` one.

    With ``batched`` a stack of keys (shape ``(..., )`` new-style or ``(..., 2)`` legacy) is accepted.
    """
    if _is_tracer(value):
        return value
    hint = "; make one with jax.random.key(seed), e.g. jax.random.key(0)"
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.integer, np.floating)):
        raise ValueError(f"{name} must be a JAX PRNG key, got {value!r}{hint}")
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        raise ValueError(f"{name} must be a JAX PRNG key, got a {type(value).__name__}{hint}")
    shape = tuple(getattr(value, "shape", ()))
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if shape and not batched:
            raise ValueError(f"{name} must be a single PRNG key, got an array of keys of shape {shape}{hint}")
        return value
    if np.dtype(dtype) == np.uint32 and len(shape) >= 1 and shape[-1] == 2 and (batched or len(shape) == 1):
        return value  # legacy jax.random.PRNGKey(seed)
    raise ValueError(f"{name} must be a JAX PRNG key, got an array of dtype {dtype} and shape {shape}{hint}")


FLOAT32_MAX = float(np.finfo(np.float32).max)


def at_most(name: str, value: Any, top: float = FLOAT32_MAX, why: str = "it is used in float32 arithmetic") -> Any:
    """Check that a real scalar has magnitude at most ``top`` (skipped for traced values).

    The default refuses values that become ``inf`` in float32 (``1e308``), which would
    turn a result into NaN without an error.
    """
    if _is_tracer(value):
        return value
    v = _real(name, value, "a real number")
    if not abs(v) <= top:
        raise ValueError(f"{name} must be at most {top:.3g} in magnitude ({why}), got {value!r}")
    return value


def is_callable(name: str, value: Any) -> Any:
    """Check that ``value`` can be called (a function of the parameters, an oracle, ...)."""
    if not callable(value):
        raise ValueError(f"{name} must be a function (a callable), got {value!r}")
    return value


def work_size(what: str, *, steps: float, size: float = 1, record_bytes: float = 0, max_work: float | None = None,
              how: str = "") -> None:
    """Refuse up front a call too large to finish in reasonable time or memory.

    ``steps`` x ``size`` (scalar updates) is compared with ``max_work`` (default :data:`MAX_WORK`),
    ``record_bytes`` with :data:`MAX_RECORD_BYTES` (scaled by ``max_work / MAX_WORK`` when given).
    ``what`` names the caller's arguments that set the size; ``how`` says how to ask for it anyway.
    """
    budget = MAX_WORK if max_work is None else float(positive("max_work", max_work))
    work = float(steps) * float(size)
    how = how or f"pass max_work={work:.1e} to run it anyway"
    if not work <= budget:
        raise ValueError(f"{what}: {float(steps):.3g} steps x {float(size):.3g} values = {work:.2e} scalar updates, "
                         f"over the budget of {budget:.1e} (minutes to hours of CPU); use fewer steps, or {how}")
    mem_budget = MAX_RECORD_BYTES * (budget / MAX_WORK)
    if not float(record_bytes) <= mem_budget:
        raise ValueError(f"{what}: the recorded arrays would need {float(record_bytes) / 2**30:.3g} GiB, over the "
                         f"budget of {mem_budget / 2**30:.3g} GiB; record less, or {how}")


def finite_array(name: str, value: Any, *, ndim: int | None = None, last: int | None = None,
                 allow_empty: bool = False) -> jax.Array:
    """Convert to a float JAX array and check its rank, last axis, finiteness, and that it is not empty.

    Complex and bool input is refused (a real array is expected), as is an empty one
    unless ``allow_empty``.
    """
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an array of numbers, got {value!r}")
    dtype = getattr(value, "dtype", None)
    if dtype is None and not _is_tracer(value):
        try:
            dtype = np.asarray(value).dtype
        except (TypeError, ValueError):
            dtype = None
    if dtype is not None and not jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        kind = "c" if jnp.issubdtype(dtype, jnp.complexfloating) else (
            "b" if jnp.issubdtype(dtype, jnp.bool_) else ("f" if jnp.issubdtype(dtype, jnp.number) else "O"))
        if kind == "c":
            raise ValueError(f"{name} must be a real array, got complex values (dtype {dtype}); pass the real "
                             "part explicitly if that is what you mean")
        if kind == "b":
            raise ValueError(f"{name} must be an array of real numbers, got a bool array")
        if kind not in "iuf":
            raise ValueError(f"{name} must be an array of numbers, got dtype {dtype}")
    try:
        arr = jnp.asarray(value, dtype=jnp.result_type(float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(arr.shape)}")
    if last is not None and (arr.ndim == 0 or arr.shape[-1] != last):
        raise ValueError(f"{name} must have last axis of size {last}, got shape {tuple(arr.shape)}")
    # checked in NumPy on the host: an eager jnp check compiles two XLA kernels per new shape
    if not _is_tracer(arr) and not bool(np.all(np.isfinite(np.asarray(arr)))):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def real_array(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> np.ndarray:
    """A float64 NumPy array of finite reals (a scalar or an array, for formulas that broadcast), in a range.

    Refuses complex, bool, strings, None, empty arrays, NaN/inf, and values outside
    the interval from ``low`` to ``high`` (open ends as flagged), naming ``name``.
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number or array, got the bool {value!r}")
    if _is_tracer(value):
        raise ValueError(f"{name} must be a concrete number or array here, not a traced value")
    finite_array(name, value)  # type, emptiness and finiteness, with named messages
    arr = np.asarray(value, dtype=np.float64)  # in float64: finite_array's copy may be float32
    bad_low = low is not None and np.any(arr <= low if low_open else arr < low)
    bad_high = high is not None and np.any(arr >= high if high_open else arr > high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        shown = arr if arr.size <= 6 else f"an array with values from {arr.min():g} to {arr.max():g}"
        raise ValueError(f"{name} must lie in {interval}, got {shown}")
    return arr


def last_axis(name: str, x: Any, size: int) -> jax.Array:
    """Check that ``x`` is a real array of shape ``(..., size)``, finite when concrete (traceable)."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be an array of shape (..., {size}), got {x!r}")
    arr = jnp.asarray(x)
    if arr.dtype.kind == "c" or arr.dtype == bool:
        raise ValueError(f"{name} must be a real array, got dtype {arr.dtype}")
    if not _is_tracer(arr) and arr.dtype.kind == "f" and arr.size and not bool(np.all(np.isfinite(np.asarray(arr)))):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    if arr.ndim == 0 or arr.shape[-1] != size:
        raise ValueError(f"{name} must have shape (..., {size}), got shape {tuple(arr.shape)}")
    return arr


def one_of(name: str, value: Any, options: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``options`` (the message lists them and suggests the closest)."""
    try:
        ok = value in options
    except TypeError:  # unhashable
        ok = False
    if not ok or (isinstance(value, (bool, np.bool_)) and not any(o is value for o in options)):
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, [str(o) for o in options], n=1)
            if close:
                hint = f"; did you mean {close[0]!r}?"
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}{hint}")
    return value
