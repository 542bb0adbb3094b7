"""Input validation shared by every module.

Each check raises :class:`ValueError` naming the argument and what was expected,
so that a reader who passes a bad value learns what to fix.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["positive", "nonnegative", "finite_array", "last_axis", "one_of", "positive_int"]


def _is_tracer(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


def positive(name: str, value: Any) -> Any:
    """Check that a scalar is finite and > 0 (skipped for traced values)."""
    if _is_tracer(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def nonnegative(name: str, value: Any) -> Any:
    """Check that a scalar is finite and >= 0 (skipped for traced values)."""
    if _is_tracer(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return value


def positive_int(name: str, value: Any) -> int:
    """Check that ``value`` is an integer >= 1 and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def finite_array(name: str, value: Any, *, ndim: int | None = None, last: int | None = None) -> jax.Array:
    """Convert to a float JAX array and check its rank, last axis and finiteness."""
    try:
        arr = jnp.asarray(value, dtype=jnp.result_type(float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(arr.shape)}")
    if last is not None and (arr.ndim == 0 or arr.shape[-1] != last):
        raise ValueError(f"{name} must have last axis of size {last}, got shape {tuple(arr.shape)}")
    # checked in NumPy on the host: an eager jnp check compiles two XLA kernels per new shape
    if not _is_tracer(arr) and not np.isfinite(np.asarray(arr)).all():
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def last_axis(name: str, x: Any, size: int) -> jax.Array:
    """Check that ``x`` has shape ``(..., size)`` (no finiteness check: traceable)."""
    arr = jnp.asarray(x)
    if arr.ndim == 0 or arr.shape[-1] != size:
        raise ValueError(f"{name} must have shape (..., {size}), got shape {tuple(arr.shape)}")
    return arr


def one_of(name: str, value: Any, options: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value
