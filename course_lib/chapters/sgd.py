r"""The chapter "Stochastic gradient descent" (``book/sgd.md``): its studies and the widget's computation.

* :func:`minibatch_deviations` -- measured :math:`\mathbb E\|g_b-\nabla J\|^2` for many batch sizes at once,
  with and without replacement;
* :func:`sgd_grad_curve` -- many SGD chains on a nonconvex finite sum, their mean squared
  gradient norm against the nonconvex bound :func:`course_lib.stochastic.nonconvex_bound`;
* :func:`replacement_comparison` -- SGD with and without replacement (random reshuffling)
  from the same start and keys, distances at epoch ends;
* :func:`compare_methods` -- GD, AGD, SGD and variance reduction on one least-squares problem
  against the complexity table (:func:`course_lib.stochastic.complexity`), the second widget.

Thin callers of :mod:`course_lib.stochastic`, which holds the methods and the bounds.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ..stochastic import (METHODS, Problem, complexity, grad_norms, make_problem, nonconvex_bound,
                          reference_solution, relative_errors, run_method, sgd)

__all__ = [
    "minibatch_deviations",
    "GradCurve",
    "sgd_grad_curve",
    "ReplacementRuns",
    "replacement_comparison",
    "MethodComparison",
    "compare_methods",
]


class GradCurve(NamedTuple):
    r"""Mean squared gradient norm of SGD over many runs, against the nonconvex bound.

    ``k`` ``(m+1,)`` iteration counts; ``mean_sq`` :math:`\mathbb E\|\nabla J(\theta_k)\|^2` (average over
    runs); ``running_min`` :math:`\min_{i\le k}` of it; ``running_avg`` the average over the recorded
    :math:`i \le k`; ``bound`` :func:`course_lib.stochastic.nonconvex_bound` at each ``k`` with ``sigma2`` (the largest exact
    :math:`\sigma^2(\theta)/b + s^2 d` met along the runs) and ``gap`` :math:`J(\theta_0) - J^\star`.
    """

    k: np.ndarray
    mean_sq: np.ndarray
    running_min: np.ndarray
    running_avg: np.ndarray
    bound: np.ndarray
    sigma2: float
    gap: float


@partial(jax.jit, static_argnames=("b_max", "n_draws"), compiler_options={"xla_backend_optimization_level": 1})
def _prefix_deviations(problem, theta, key, batches, b_max, n_draws):
    n = problem.n
    G = problem.example_grads(theta) - problem.grad(theta)       # (n, d): centred per-example gradients
    bf = batches.astype(G.dtype)[:, None]

    def one(k, replacement):
        if replacement:
            idx = jax.random.randint(k, (b_max,), 0, n)
        else:   # the first entries of a random permutation: for every b, a uniform subset of b distinct indices
            idx = jax.random.permutation(k, n)[:b_max]
        mean = jnp.cumsum(G[idx], axis=0)[batches - 1] / bf       # (B, d): g_b - grad J for every b
        return jnp.sum(mean**2, axis=1)

    k1, k2 = jax.random.split(key)
    out = [jax.vmap(lambda k: one(k, r))(jax.random.split(kk, n_draws)).mean(0) for kk, r in ((k1, True), (k2, False))]
    return out[0], out[1]


def minibatch_deviations(problem: Problem, theta, key: jax.Array, batches, *, n_draws: int) -> dict:
    r"""Measured :math:`\mathbb E\|g_b(\theta) - \nabla J(\theta)\|^2` of minibatch gradients for every ``b`` in
    ``batches`` (``(B,)`` integers in ``[1, n]``), averaged over ``n_draws`` draws, with replacement (i.i.d.
    uniform indices) and without (a uniform subset of ``b`` distinct indices); returns ``{True: (B,), False: (B,)}``
    (float64), to compare with :func:`course_lib.stochastic.minibatch_variance`.

    Each draw takes one sequence of ``max(batches)`` indices (i.i.d., or the start of a random permutation)
    and uses its first ``b`` for every ``b``: one compiled call for all batch sizes.  Every point is an
    unbiased estimate from ``n_draws`` independent draws; the points of one curve share their draws."""
    _checks.prng_key("key", key, batched=True)
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a course_lib.stochastic.Problem, got {type(problem).__name__}")
    theta = _checks.finite_array("theta", theta, ndim=1, last=problem.dim)
    b = np.asarray(_checks.real_array("batches", batches, low=1.0))
    if b.ndim != 1 or b.size == 0 or np.any(b != np.round(b)) or np.any(b > problem.n):
        raise ValueError(f"batches must be a non-empty 1-D array of whole numbers in [1, n = {problem.n}], "
                         f"got {batches!r}")
    n_draws = _checks.positive_int("n_draws", n_draws)
    _checks.work_size(f"minibatch_deviations(n_draws={n_draws}, max batch {int(b.max())})", steps=1,
                      size=n_draws * int(b.max()) * problem.dim)
    wr, wo = _prefix_deviations(problem, theta, key, jnp.asarray(b, jnp.int32), int(b.max()), n_draws)
    return {True: np.asarray(wr, np.float64), False: np.asarray(wo, np.float64)}


_VAR_CHUNK = 256   # iterates per block in _curve_stats: bounds the (block, n, d) per-example gradients


@partial(jax.jit, static_argnames=("stride",), compiler_options={"xla_backend_optimization_level": 1})
def _curve_stats(problem, thetas, theta0, stride):
    # squared gradient norms of every iterate, the largest sigma^2(theta) over a subsample of them
    # (in blocks: all at once was a (iterates, n, d) temporary of 200 MB), and J(theta0)
    sub = thetas[:, ::stride].reshape(-1, thetas.shape[-1])
    var = jax.lax.map(problem.variance, sub, batch_size=_VAR_CHUNK)
    return grad_norms(problem, thetas), jnp.max(var), problem.value(theta0)


def sgd_grad_curve(problem: Problem, theta0, key: jax.Array, *, step: float, n_steps: int, n_runs: int,
                   j_star: float, batch: int = 1, batch_max: int | None = None, noise: float = 0.0,
                   record_every: int = 1) -> GradCurve:
    """Run ``n_runs`` SGD chains (constant ``step``, minibatch ``batch``, extra noise ``noise``) and return
    their :class:`GradCurve`.  ``j_star`` is :math:`J^\\star` (or a lower estimate).  Every argument but
    ``n_steps``, ``n_runs``, ``batch_max`` and ``record_every`` is traced: no recompilation."""
    _checks.prng_key("key", key, batched=True)
    n_steps = _checks.positive_int("n_steps", n_steps)
    record_every = _checks.positive_int("record_every", record_every)
    if n_steps % record_every:
        raise ValueError(f"n_steps must be a multiple of record_every, got {n_steps} and {record_every}")
    run = sgd(problem, theta0, key, step=step, n_records=n_steps // record_every, record_every=record_every,
              batch=batch, batch_max=batch_max, noise=noise, n_runs=n_runs)
    g2, var, value0 = _curve_stats(problem, run.thetas, jnp.asarray(theta0, run.thetas.dtype),
                                   max(1, run.thetas.shape[1] // 20))
    g2 = np.asarray(g2, dtype=np.float64).mean(0)
    sigma2 = float(var) / batch + noise**2 * problem.dim
    gap = float(value0) - float(j_star)
    k = run.steps.astype(float)
    avg = np.cumsum(g2) / np.arange(1, len(g2) + 1)
    return GradCurve(k, g2, np.minimum.accumulate(g2), avg, nonconvex_bound(k, gap, problem.L, step, sigma2),
                     sigma2, gap)


class ReplacementRuns(NamedTuple):
    r"""Constant-step SGD with and without replacement on one problem, from the same start, same steps.

    ``epochs`` ``(m+1,)``; ``with_replacement`` and ``without_replacement`` ``(n_runs, m+1)``: the squared
    distances :math:`\|\theta-\theta^\star\|^2` at the end of each epoch (float64), one row per seed."""

    epochs: np.ndarray
    with_replacement: np.ndarray
    without_replacement: np.ndarray


def replacement_comparison(problem: Problem, theta_star, key: jax.Array, *, step: float, n_epochs: int,
                           n_runs: int, batch: int = 1, theta0=None) -> ReplacementRuns:
    """Run :func:`course_lib.stochastic.sgd` with ``replacement=True`` and ``False`` (random reshuffling) for ``n_epochs`` epochs
    of ``n // batch`` steps, ``n_runs`` seeds each (the same keys for both), from ``theta0`` (zeros by
    default), and return the squared distances to ``theta_star`` at epoch ends as :class:`ReplacementRuns`.
    ``step`` and ``batch`` are traced (no recompilation when they change)."""
    _checks.prng_key("key", key, batched=True)
    theta0 = jnp.zeros(problem.dim) if theta0 is None else theta0
    batch = _checks.positive_int("batch", batch)
    if batch > problem.n:
        raise ValueError(f"batch must be <= n = {problem.n}, got {batch}")
    ts = np.asarray(_checks.finite_array("theta_star", theta_star, ndim=1, last=problem.dim), dtype=np.float64)
    dist = {}
    for repl in (True, False):
        run = sgd(problem, theta0, key, step=step, batch=batch, replacement=repl, n_records=n_epochs,
                  record_every=problem.n // batch, n_runs=n_runs)
        dist[repl] = np.sum((np.asarray(run.thetas, dtype=np.float64) - ts) ** 2, axis=-1)
    return ReplacementRuns(np.arange(n_epochs + 1), dist[True], dist[False])


class MethodComparison(NamedTuple):
    """Output of :func:`compare_methods`: per method, the error curve and the table's prediction."""

    n: int
    kappa: float
    curves: dict  # method -> (epochs, relative errors), arrays of the same length
    predicted: dict  # method -> evaluations / n that Bach's table predicts to reach ``eps``
    eps: float


def compare_methods(key: jax.Array, n: int, kappa: float, *, epochs: float = 60.0, eps: float = 1e-6,
                    methods: tuple[str, ...] = ("gd", "agd", "sgd", "svrg", "saga"), d: int = 10) -> MethodComparison:
    r"""Error against gradient evaluations of several methods on one least-squares problem, with the table's predictions.

    The problem: ``n`` normalised rows in :math:`\mathbb{R}^d` with feature scales from 1 to
    :math:`10^{-2}` and the ridge that makes :math:`\kappa = L_{\max}/\mu` equal to ``kappa``
    (:func:`course_lib.stochastic.make_problem`).  Each method runs for ``epochs * n`` evaluations with its
    :func:`course_lib.stochastic.default_step` (:func:`course_lib.stochastic.run_method`); errors are
    :math:`\|\theta_k-\theta^\star\|^2/\|\theta_0-\theta^\star\|^2` (:func:`course_lib.stochastic.relative_errors`).
    ``predicted[m]`` is :func:`course_lib.stochastic.complexity` for ``m``'s row (``"vr"`` for SAG/SVRG/SAGA; GD and AGD
    with their own :math:`L/\mu`), in epochs.  ``kappa`` is data (a ridge value), so a new
    ``kappa`` reuses the compiled runs; a new ``n`` compiles them once.
    """
    _checks.prng_key("key", key, batched=True)
    n = _checks.positive_int("n", n)
    if not (isinstance(kappa, (int, float)) and math.isfinite(kappa) and kappa > 1):
        raise ValueError(f"kappa must be a number > 1, got {kappa!r}")
    _checks.positive("epochs", epochs)
    _checks.positive("eps", eps)
    d = _checks.positive_int("d", d)
    n = _checks.positive_int("n", n)
    if isinstance(methods, str) or not isinstance(methods, (tuple, list)) or not methods:
        raise ValueError(f"methods must be a non-empty tuple of method names from {METHODS}, e.g. ('gd', 'sgd'), "
                         f"got {methods!r}" + (f"; for one method write ({methods!r},)" if isinstance(methods, str) else ""))
    for m in methods:
        _checks.one_of("methods", m, METHODS)
    scales = jnp.geomspace(1.0, 1e-2, d)
    p = make_problem(key, "least_squares", n, d, scales=scales, normalize=True, reg=1.0 / (kappa - 1))
    ts = reference_solution(p)
    curves, predicted = {}, {}
    for m in methods:
        run = run_method(m, p, key, budget=epochs * n)
        curves[m] = (np.asarray(run.evals, float) / n, relative_errors(run, ts))
        row = {"gd": "gd", "agd": "agd", "sgd": "sgd", "katyusha": "accelerated"}.get(m, "vr")
        cond = p.L / p.mu if m in ("gd", "agd") else p.kappa
        predicted[m] = float(complexity(row, n, cond, eps)) / n
    return MethodComparison(n, float(p.kappa), curves, predicted, float(eps))
