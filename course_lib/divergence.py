r"""The package's one divergence policy.

A run *diverges* when an iterate leaves the domain where the arithmetic means
anything: some coordinate is not finite, or the iterate's norm exceeds a
threshold (``radius``, by default :data:`DEFAULT_RADIUS`).  Every simulator and
solver in ``course_lib`` treats this the same way:

* the diverged chain (or run) is **frozen** at its last iterate inside the
  domain and **flagged** in the result (``diverged``, and where known the step
  ``diverged_at``); no NaN is ever returned silently;
* with ``on_divergence="warn"`` (the default of the many-chain simulators) a
  :class:`DivergenceWarning` says how many chains diverged and at which steps;
* with ``on_divergence="raise"`` (the default of the single-path solvers, whose
  whole output would be meaningless) a :class:`DivergenceError` is raised, naming
  how many chains diverged and where.

:class:`DivergenceError` is the one exception class for this, everywhere.  It
derives from :class:`FloatingPointError` (the step was too large for the
arithmetic) and, for code written against earlier versions that caught the
``ValueError`` some functions raised, also from :class:`ValueError`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _checks

__all__ = ["DEFAULT_RADIUS", "POLICIES", "DivergenceError", "DivergenceWarning", "report", "check"]

DEFAULT_RADIUS = 1e6
"""Norm beyond which an iterate counts as diverged (with the non-finite ones)."""

POLICIES = ("warn", "raise", "ignore")
"""Values of ``on_divergence``: warn (and flag), raise :class:`DivergenceError`, or only flag."""


class DivergenceError(FloatingPointError, ValueError):
    """Iterates left the domain (non-finite, or norm beyond the divergence radius): the step is too large."""


class DivergenceWarning(RuntimeWarning):
    """Some chains left the domain; they are frozen at their last iterate inside it and flagged."""


def policy(on_divergence: Any) -> str:
    """Check an ``on_divergence`` argument (one of :data:`POLICIES`)."""
    return _checks.one_of("on_divergence", on_divergence, POLICIES)


def _where(diverged_at: np.ndarray | None, diverged: np.ndarray) -> str:
    if diverged_at is None:
        return ""
    steps = np.asarray(diverged_at)[np.asarray(diverged)]
    steps = steps[steps >= 0]
    if steps.size == 0:
        return ""
    if steps.min() == steps.max():
        return f" at step {int(steps.min())}"
    return f" between steps {int(steps.min())} and {int(steps.max())} (first at {int(steps.min())})"


def report(
    diverged: Any, diverged_at: Any = None, *, what: str = "chains", on_divergence: str = "warn",
    stacklevel: int = 3,
) -> None:
    """Apply the policy to a finished run: warn or raise when some ``diverged`` flag is set.

    ``diverged``: ``(n,)`` bool (one entry per chain); ``diverged_at``:
    ``(n,)`` int steps (``-1`` = never), used to say where.
    """
    policy(on_divergence)
    d = np.asarray(diverged) if diverged is not None and not isinstance(diverged, (str, bytes)) else None
    if d is None or d.dtype.kind not in "biu" or (d.dtype.kind != "b" and not np.isin(d, (0, 1)).all()):
        raise ValueError(f"diverged must be an array of bool flags (one per chain), got {diverged!r}"[:200])
    if diverged_at is not None:
        da = np.asarray(diverged_at) if not isinstance(diverged_at, (str, bytes)) else None
        if da is None or da.dtype.kind not in "iu" or da.size != np.atleast_1d(d).size:
            raise ValueError(f"diverged_at must be an integer array of the shape of diverged ({d.shape}), got "
                             f"{diverged_at!r}"[:200])
    diverged = np.atleast_1d(np.asarray(diverged, bool))
    n = int(diverged.sum())
    if n == 0 or on_divergence == "ignore":
        return
    at = None if diverged_at is None else np.atleast_1d(np.asarray(diverged_at))
    msg = (f"{n} of {diverged.size} {what} diverged{_where(at, diverged)} (an iterate was not finite or its norm "
           "exceeded the divergence radius)")
    if on_divergence == "raise":
        raise DivergenceError(msg + "; reduce the step size")
    warnings.warn(msg + "; they are frozen at their last iterate inside the domain and flagged in the result's "
                  "`diverged` field. A smaller step size usually cures this.", DivergenceWarning,
                  stacklevel=stacklevel)


def check(xs: Any, what: str, radius: float = DEFAULT_RADIUS, *, chain_axis: int | None = None) -> Any:
    """Raise :class:`DivergenceError` if a path ``xs`` (time first) leaves the domain; return it otherwise.

    An iterate leaves the domain when it is not finite or its norm (over all
    axes but time, or but time and ``chain_axis``) exceeds ``radius``.  The
    message names the first bad iterate and, with ``chain_axis``, how many
    chains diverged.
    """
    if not isinstance(what, str):
        raise ValueError(f"what must be a string naming the run (for the message), got {what!r}")
    if not (isinstance(radius, (int, float, np.floating, np.integer)) and not isinstance(radius, (bool, np.bool_))
            and float(radius) > 0):  # inf is allowed: then only non-finite iterates count
        raise ValueError(f"radius must be a positive number (or inf), got {radius!r}")
    a = np.asarray(xs)
    if a.ndim == 0:
        a = a[None]
    if chain_axis is not None:
        if isinstance(chain_axis, (bool, np.bool_)) or not isinstance(chain_axis, (int, np.integer)) or not (
                -a.ndim < chain_axis < a.ndim and chain_axis % a.ndim != 0):
            raise ValueError(f"chain_axis must be an axis of xs other than time (0), in 1..{a.ndim - 1}, "
                             f"got {chain_axis!r}")
    radius = min(float(radius), 1e150)  # radius**2 below: no overflow
    if chain_axis is None:
        flat = a.reshape(a.shape[0], -1)
        r2 = np.sum(flat.astype(np.float64) ** 2, axis=1)
        bad = ~(r2 <= float(radius) ** 2)  # NaN compares False
        if bad.any():
            raise DivergenceError(f"{what} diverged: iterate {int(np.argmax(bad))} is not finite or beyond "
                                  f"norm {float(radius):g} (reduce the step size)")
        return xs
    moved = np.moveaxis(a, chain_axis, 1)
    flat = moved.reshape(moved.shape[0], moved.shape[1], -1)
    r2 = np.sum(flat.astype(np.float64) ** 2, axis=2)
    bad = ~(r2 <= float(radius) ** 2)  # (T, n)
    if bad.any():
        chains = bad.any(axis=0)
        first = np.where(chains, np.argmax(bad, axis=0), -1)
        report(chains, first, what=f"chains of {what}", on_divergence="raise")
    return xs
