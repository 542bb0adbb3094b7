r"""Stochastic gradient methods on finite sums: SGD, minibatches, variance reduction, and their bounds.

The problem is a finite sum :math:`J(\theta) = \frac1n\sum_{i=1}^n J_i(\theta)`
:cite:`pauwels2024intro,bach2025convexity`.  :class:`Problem` wraps a
:class:`course_lib.landscapes.FiniteSum` (linear least squares or logistic
regression with a ridge term) by composition and adds what the methods need:
per-example gradients, the smoothness and strong-convexity constants, and an
optional *nonconvex* regulariser :math:`\nu\sum_j \theta_j^2/(1+\theta_j^2)`
(smooth, bounded, nonconvex), so that one object covers the convex table of
:cite:`bach2025convexity` and the nonconvex rate of :cite:`pauwels2024intro`.

Every model is linear in the data, :math:`J_i(\theta) = \ell(a_i^\top\theta, b_i) + R(\theta)`,
so :math:`\nabla J_i(\theta) = \ell'(a_i^\top\theta, b_i)\,a_i + \nabla R(\theta)`;
the incremental methods store the scalars :math:`\ell'_i` (a table of size ``n``)
rather than ``n`` vectors.  One *gradient evaluation* is one :math:`\ell'_i`
(the regulariser's gradient is shared and cheap): a full gradient costs ``n``.

Methods (jitted ``lax.scan``/``fori_loop`` loops with an explicit PRNG key;
step sizes, batch size, noise and decay are traced arguments, so changing
them never recompiles):

* :func:`gd` -- gradient descent, ``n`` evaluations per step;
* :func:`nesterov` -- Nesterov's accelerated gradient descent (``"agd"``), ``n`` per step;
* :func:`sgd` -- minibatch SGD with or without replacement, constant or
  Robbins--Monro steps :math:`\alpha_k = \alpha\,(k_0/(k_0+k))^{p}`, optional
  extra Gaussian gradient noise;
* :func:`sag` :cite:`schmidt2017sag`, :func:`saga` :cite:`defazio2014saga`,
  :func:`svrg` :cite:`johnson2013svrg` -- variance reduction;
* :func:`katyusha` -- accelerated variance reduction (loopless Katyusha
  :cite:`kovalev2020lkatyusha`).

Each returns a :class:`Run`: the iterates at recorded steps and the number of
gradient evaluations spent to reach them.  A run whose iterates are not finite
raises ``ValueError`` (step too large), never returns NaN silently.

Bounds as functions: :func:`descent_bound`, :func:`nonconvex_bound`,
:func:`optimal_constant_step`, :func:`minibatch_variance`, :func:`complexity`.
:func:`reference_solution` solves convex problems to float64 precision
(Newton's method in NumPy; the global JAX ``x64`` flag is never touched);
:func:`sklearn_solution` asks scikit-learn for the same minimiser, as an
independent check.  :func:`distance_floor` bounds the noise floor of SGD with
and without replacement (random reshuffling).  The studies of the SGD chapter
(its comparisons and widget computations) are in :mod:`course_lib.chapters.sgd`.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases
from .landscapes import FiniteSum, least_squares, logistic_regression

__all__ = [
    "Problem",
    "make_problem",
    "minibatch_gradients",
    "Run",
    "gd",
    "sgd",
    "sag",
    "saga",
    "svrg",
    "nesterov",
    "katyusha",
    "default_step",
    "grad_norms",
    "values",
    "reference_solution",
    "descent_bound",
    "nonconvex_bound",
    "optimal_constant_step",
    "minibatch_variance",
    "complexity",
    "evals_to_reach",
    "relative_errors",
    "run_method",
    "sklearn_solution",
    "distance_floor",
]

METHODS = ("gd", "agd", "sgd", "sag", "saga", "svrg", "katyusha")

# XLA's backend optimisation level for the compiled loops: level 1 instead of the default 2 cuts the
# compilation of the random-number code (threefry) about twofold for the same run time on these small
# loops; the data generators, which run once, use level 0.
_O1 = {"xla_backend_optimization_level": 1}
_O0 = {"xla_backend_optimization_level": 0}

_MOVED = ("GradCurve", "sgd_grad_curve", "ReplacementRuns", "replacement_comparison", "MethodComparison",
          "compare_methods")
__getattr__ = deprecated_aliases(__name__, {name: (f"course_lib.chapters.sgd:{name}", "0.2") for name in _MOVED})


# ---------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Problem:
    r"""A finite sum :math:`J = \frac1n\sum_i J_i` with per-example gradients.

    :math:`J_i(\theta) = \ell(a_i^\top\theta, b_i) + \frac{\lambda}{2}\|\theta\|^2
    + \nu\sum_j \frac{\theta_j^2}{1+\theta_j^2}`, where ``base`` (a
    :class:`~course_lib.landscapes.FiniteSum`) holds the data
    :math:`a_i` (``features``, ``(n, d)``), :math:`b_i` (``targets``, ``(n,)``),
    :math:`\lambda` (``reg``) and the loss ``kind``; ``ncvx`` is :math:`\nu \ge 0`
    (``0``: convex).  A JAX pytree: pass it to jitted functions.
    """

    base: FiniteSum
    ncvx: jax.Array

    # -- sizes ----------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of terms ``n``."""
        return self.base.n

    @property
    def dim(self) -> int:
        """Dimension ``d`` of :math:`\\theta`."""
        return self.base.dim

    # -- losses and gradients ---------------------------------------------------
    def _reg_value(self, theta: jax.Array) -> jax.Array:
        return self.ncvx * jnp.sum(theta**2 / (1.0 + theta**2), axis=-1)

    def reg_grad(self, theta: jax.Array) -> jax.Array:
        r"""Gradient of the shared regulariser :math:`\lambda\theta + \nu\,2\theta/(1+\theta^2)^2`: ``(d,) -> (d,)``."""
        return self.base.reg * theta + self.ncvx * 2.0 * theta / (1.0 + theta**2) ** 2

    def dloss(self, p: jax.Array, b: jax.Array) -> jax.Array:
        r"""Derivative :math:`\ell'(p, b)` of the loss in the prediction ``p`` (elementwise)."""
        if self.base.kind == "least_squares":
            return p - b
        return -b * jax.nn.sigmoid(-b * p)

    def value(self, theta: jax.Array) -> jax.Array:
        """Full objective :math:`J(\\theta)`: ``(..., d) -> (...)``."""
        return self.base(theta) + self._reg_value(theta)

    def grad(self, theta: jax.Array) -> jax.Array:
        r"""Full gradient :math:`\nabla J(\theta) = \frac1n A^\top \ell'(A\theta, b) + \nabla R(\theta)`: ``(d,) -> (d,)`` (costs ``n`` evaluations)."""
        A = self.base.features
        s = self.dloss(A @ theta, self.base.targets)
        return A.T @ s / self.n + self.reg_grad(theta)

    def example_grads(self, theta: jax.Array, idx: jax.Array | None = None) -> jax.Array:
        r"""Per-example gradients :math:`\nabla J_i(\theta)` for ``i`` in ``idx`` (``(B,)``; all ``n`` if None): ``(B, d)``."""
        A = self.base.features if idx is None else self.base.features[idx]
        b = self.base.targets if idx is None else self.base.targets[idx]
        return self.dloss(A @ theta, b)[:, None] * A + self.reg_grad(theta)

    def variance(self, theta: jax.Array) -> jax.Array:
        r"""Gradient variance :math:`\sigma^2(\theta) = \frac1n\sum_i\|\nabla J_i(\theta) - \nabla J(\theta)\|^2` (scalar)."""
        G = self.example_grads(theta)
        return jnp.mean(jnp.sum((G - G.mean(0)) ** 2, axis=1))

    # -- constants (NumPy float64; call outside jit) -------------------------------
    def _curv(self) -> float:
        return 1.0 if self.base.kind == "least_squares" else 0.25

    def _gram_eigs(self) -> np.ndarray:
        A = np.asarray(self.base.features, dtype=np.float64)
        return np.linalg.eigvalsh(A.T @ A / A.shape[0])

    @property
    def L(self) -> float:
        r"""Smoothness constant of :math:`J`: :math:`c\,\lambda_{\max}(A^\top A/n) + \lambda + 2\nu` (:math:`c = 1` least squares, :math:`1/4` logistic)."""
        return float(self._curv() * self._gram_eigs()[-1] + float(self.base.reg) + 2.0 * float(self.ncvx))

    @property
    def L_max(self) -> float:
        r"""Largest smoothness constant of the terms, :math:`c\max_i\|a_i\|^2 + \lambda + 2\nu`."""
        A = np.asarray(self.base.features, dtype=np.float64)
        return float(self._curv() * np.max(np.sum(A**2, axis=1)) + float(self.base.reg) + 2.0 * float(self.ncvx))

    @property
    def mu(self) -> float:
        r"""Strong-convexity constant (convex problems only), :math:`\lambda_{\min}(A^\top A/n) + \lambda` for least squares, :math:`\lambda` for logistic."""
        if float(self.ncvx) != 0.0:
            raise ValueError("mu is defined for convex problems only (ncvx = 0)")
        if self.base.kind == "least_squares":
            return float(max(self._gram_eigs()[0], 0.0) + float(self.base.reg))
        return float(self.base.reg)

    @property
    def kappa(self) -> float:
        r"""Condition number of the finite sum :math:`\kappa = L_{\max}/\mu` (the :math:`\kappa` of Bach's table)."""
        mu = self.mu
        if mu <= 0:
            raise ValueError("kappa needs mu > 0: add a ridge term (reg > 0)")
        return self.L_max / mu


def make_problem(key: jax.Array, kind: str, n: int, d: int, *, reg: float = 0.0, ncvx: float = 0.0,
                 noise: float = 0.5, scales=None, normalize: bool = False) -> Problem:
    r"""Generated :class:`Problem` wrapping a :class:`~course_lib.landscapes.FiniteSum`.

    ``kind`` is ``"least_squares"`` or ``"logistic"``; ``reg`` the ridge :math:`\lambda`, ``ncvx`` the
    nonconvex weight :math:`\nu`.  Without ``scales``/``normalize`` the data are those of
    :func:`course_lib.landscapes.least_squares` / :func:`~course_lib.landscapes.logistic_regression`.
    ``scales`` (``(d,)``) multiplies feature ``j`` by ``scales[j]`` (an ill-conditioned design) and
    ``normalize=True`` then rescales every row to unit norm, so that :math:`L_{\max}` is exactly
    :math:`1` (least squares) or :math:`1/4` (logistic) plus the regularisers, and the condition number
    :math:`\kappa = L_{\max}/\mu` is set by ``reg``.  Targets are generated from the final features.
    """
    _checks.prng_key("key", key, batched=True)
    _checks.one_of("kind", kind, ("least_squares", "logistic"))
    _checks.nonnegative("ncvx", ncvx)
    _checks.nonnegative("reg", reg)
    if scales is None and not normalize:
        base = least_squares(key, n, d, noise=noise, reg=reg) if kind == "least_squares" else \
            logistic_regression(key, n, d, reg=reg)
        return Problem(base, jnp.asarray(ncvx, dtype=base.features.dtype))
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    scales = None if scales is None else _checks.finite_array("scales", scales, ndim=1, last=d)
    A, b = _make_data(key, scales, jnp.asarray(noise, jnp.float32), n, d, kind, bool(normalize))
    base = FiniteSum(A, b, jnp.asarray(reg, dtype=A.dtype), kind)
    return Problem(base, jnp.asarray(ncvx, dtype=A.dtype))


@partial(jax.jit, static_argnames=("n", "d", "kind", "normalize"), compiler_options=_O0)
def _make_data(key, scales, noise, n, d, kind, normalize):
    # one compiled call (a sequence of eager operations compiled one XLA kernel each per new shape)
    k1, k2, k3 = jax.random.split(key, 3)
    A = jax.random.normal(k1, (n, d))
    if scales is not None:
        A = A * scales
    if normalize:
        A = A / jnp.linalg.norm(A, axis=1, keepdims=True)
    x_star = jax.random.normal(k2, (d,)) / jnp.sqrt(jnp.mean(jnp.sum(A**2, axis=1)))
    p = A @ x_star
    if kind == "least_squares":
        b = p + noise * jax.random.normal(k3, (n,))
    else:
        b = jnp.where(jax.random.uniform(k3, (n,)) < jax.nn.sigmoid(2.0 * p), 1.0, -1.0)
    return A, b


@partial(jax.jit, static_argnames=("batch_max", "n_draws", "replacement"), compiler_options=_O1)
def _minibatch_draws(problem, theta, key, batch, batch_max, n_draws, replacement):
    w = jnp.where(jnp.arange(batch_max) < batch, 1.0 / batch, 0.0)   # weight 1/b on the first b slots

    def one(k):
        if replacement:
            idx = jax.random.randint(k, (batch_max,), 0, problem.n)
        else:   # the first b entries of a random permutation: a uniform subset of b distinct indices
            idx = jax.random.permutation(k, problem.n)[:batch_max]
        return w @ problem.example_grads(theta, idx)

    return jax.vmap(one)(jax.random.split(key, n_draws))


def minibatch_gradients(problem: Problem, theta, key: jax.Array, *, batch: int, n_draws: int,
                        replacement: bool = True, batch_max: int | None = None) -> jax.Array:
    r"""``n_draws`` independent minibatch gradients :math:`g_b(\theta) = \frac1b\sum_{j\le b}\nabla J_{I_j}(\theta)`,
    ``(n_draws, d)``: indices i.i.d. uniform (``replacement=True``) or ``b`` distinct indices (``False``).

    ``batch`` is traced when ``batch_max`` (static, ``batch <= batch_max <= n``; default ``batch``) is
    given: a sweep over batch sizes with one ``batch_max`` compiles once per ``replacement``."""
    _checks.prng_key("key", key, batched=True)
    theta = _start(problem, theta)
    batch = _checks.positive_int("batch", batch)
    batch_max = batch if batch_max is None else _checks.positive_int("batch_max", batch_max)
    if batch > batch_max or batch_max > problem.n:
        raise ValueError(f"batch must satisfy batch <= batch_max <= n = {problem.n}, got batch={batch}, "
                         f"batch_max={batch_max}")
    return _minibatch_draws(problem, theta, key, jnp.asarray(batch), batch_max,
                            _checks.positive_int("n_draws", n_draws), bool(replacement))


def reference_solution(problem: Problem, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
    r"""High-precision minimiser of a convex :class:`Problem` (NumPy float64, ``(d,)``).

    Least squares: the normal equations :math:`(A^\top A/n + \lambda I)\theta = A^\top b/n`.
    Logistic: Newton's method with backtracking, stopped when
    :math:`\|\nabla J\| \le` ``tol``.  Raises ``ValueError`` for a nonconvex problem
    or when Newton does not converge.
    """
    _checks.positive("tol", tol)
    max_iter = _checks.positive_int("max_iter", max_iter)
    if float(problem.ncvx) != 0.0:
        raise ValueError("reference_solution needs a convex problem (ncvx = 0)")
    A = np.asarray(problem.base.features, dtype=np.float64)
    b = np.asarray(problem.base.targets, dtype=np.float64)
    lam, n, d = float(problem.base.reg), A.shape[0], A.shape[1]
    if problem.base.kind == "least_squares":
        return np.linalg.solve(A.T @ A / n + lam * np.eye(d), A.T @ b / n)

    def value(t):
        return np.mean(np.logaddexp(0.0, -b * (A @ t))) + 0.5 * lam * t @ t

    theta = np.zeros(d)
    for _ in range(max_iter):
        m = b * (A @ theta)
        s = 1.0 / (1.0 + np.exp(m))                   # sigmoid(-m)
        g = -A.T @ (b * s) / n + lam * theta
        if np.linalg.norm(g) <= tol:
            return theta
        w = s * (1.0 - s)
        H = (A * w[:, None]).T @ A / n + lam * np.eye(d)
        step = np.linalg.solve(H, g)
        if np.linalg.norm(step) <= 1e-14 * (1.0 + np.linalg.norm(theta)):   # rounding floor reached
            return theta
        t, f0 = 1.0, value(theta)
        if np.linalg.norm(g) > 1e-8:   # damped far away; full Newton steps near the solution
            while value(theta - t * step) > f0 - 0.25 * t * g @ step and t > 1e-10:
                t *= 0.5
        theta = theta - t * step
    raise ValueError(f"Newton's method did not reach tol={tol} in {max_iter} iterations (is reg > 0?)")


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


class Run(NamedTuple):
    """Result of a method: ``thetas`` ``(..., m+1, d)`` are the iterates at the recorded
    steps (the first is :math:`\\theta_0`), ``evals`` ``(m+1,)`` the number of individual
    gradient evaluations spent to reach them; ``steps`` ``(m+1,)`` the iteration counts."""

    thetas: jax.Array
    evals: np.ndarray
    steps: np.ndarray


def _check_run(name: str, thetas: jax.Array) -> jax.Array:
    if not np.isfinite(np.asarray(thetas)).all():   # on the host: no XLA compilation per shape
        raise _DivergenceError(f"{name} diverged: the iterates became infinite or NaN; use a smaller step")
    from .divergence import DEFAULT_RADIUS, check  # the one policy: a norm beyond the radius diverged too

    return check(thetas, f"{name} (use a smaller step)", DEFAULT_RADIUS,
                 chain_axis=None if np.ndim(thetas) <= 2 else 1)


def _start(problem: Problem, theta0) -> jax.Array:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a course_lib.stochastic.Problem, got {type(problem).__name__}")
    return _checks.finite_array("theta0", theta0, ndim=1, last=problem.dim)


def _records(n_records: int, record_every: int, dim: int = 1) -> tuple[int, int]:
    n_records = _checks.positive_int("n_records", n_records)
    record_every = _checks.positive_int("record_every", record_every)
    _checks.work_size(f"n_records={n_records} x record_every={record_every} steps in dimension {dim}",
                      steps=n_records * record_every, size=dim, record_bytes=8.0 * n_records * dim)
    return n_records, record_every


def _stack(theta0: jax.Array, thetas: jax.Array) -> jax.Array:
    return jnp.concatenate([theta0[None], thetas], axis=0)


_NO_STOP = -1.0   # a tolerance that no squared distance meets: run every step


def _stop_args(problem: Problem, theta0: jax.Array, stop) -> tuple[jax.Array, jax.Array]:
    """``stop`` = ``(theta_star, eps)`` or ``None`` as the traced pair (theta_star, tolerance) of the loops."""
    if stop is None:
        return jnp.zeros_like(theta0), jnp.asarray(_NO_STOP, theta0.dtype)
    if not (isinstance(stop, tuple) and len(stop) == 2):
        raise ValueError(f"stop must be a pair (theta_star, eps) or None, got {stop!r}")
    ts = _checks.finite_array("stop[0] (theta_star)", stop[0], ndim=1, last=problem.dim)
    _checks.positive("stop[1] (eps)", stop[1])
    # 0.9 eps in single precision: the first record with a float64 relative error <= eps comes no later
    return jnp.asarray(ts, theta0.dtype), jnp.asarray(0.9 * float(stop[1]), theta0.dtype)


def _reached(theta0, theta_star, tol):
    """``done(theta)``: the relative squared distance to ``theta_star`` is at most ``tol`` (never if tol < 0)."""
    e0 = jnp.sum((theta0 - theta_star) ** 2)
    return lambda th: (tol >= 0) & (jnp.sum((th - theta_star) ** 2) <= tol * e0)


def _chunks(advance, done, theta_of=lambda s: s[0], out=lambda s: s[0]):
    """Scan body over records: ``advance(state, r)`` runs record ``r``'s steps unless ``done`` at the last record
    (then the state, and so the record, is repeated: the remaining steps are skipped)."""
    def chunk(state, r):
        state = jax.lax.cond(done(theta_of(state)), lambda s, r: s, advance, state, r)
        return state, out(state)
    return chunk


# -- gradient descent ----------------------------------------------------------


def gd(problem: Problem, theta0, *, step: float, n_records: int, record_every: int = 1, stop=None) -> Run:
    r"""Gradient descent :math:`\theta_{k+1} = \theta_k - \alpha\nabla J(\theta_k)`, ``n`` evaluations per step.

    Runs ``n_records * record_every`` steps and records every ``record_every``-th iterate.
    ``stop=(theta_star, eps)`` skips the steps after the first record whose relative squared distance
    :math:`\|\theta-\theta^\star\|^2/\|\theta_0-\theta^\star\|^2` is below ``eps`` (the later records repeat it;
    the same for every method of this module that takes ``stop``).
    """
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every, problem.dim)
    dt = theta0.dtype
    # Nesterov's loop with momentum 0 is gradient descent (y = theta exactly): one compiled program for both
    thetas = _check_run("gd", _nesterov(problem, theta0, jnp.asarray(step, dt), jnp.asarray(0.0, dt), n_records,
                                        jnp.asarray(record_every), *_stop_args(problem, theta0, stop)))
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, steps * problem.n, steps)


# -- SGD -------------------------------------------------------------------------


def _epoch_indices(key, k, n, batch, batch_max, perm):
    """Without replacement: the permutation of the current epoch and the indices ``(batch_max,)`` of step ``k``.

    An epoch is ``n // batch`` steps.  The permutation is drawn (from ``fold_in(key, epoch)``) only at the
    first step of an epoch, by a ``lax.cond`` whose predicate depends on ``k`` and ``batch`` alone, so it
    stays a true branch under ``vmap`` over runs; the other steps reuse ``perm`` from the carry."""
    per_epoch = jnp.maximum(n // batch, 1)
    epoch, pos = k // per_epoch, k % per_epoch
    perm = jax.lax.cond(pos == 0, lambda: jax.random.permutation(jax.random.fold_in(key, epoch), n).astype(perm.dtype),
                        lambda: perm)
    idx = perm[(pos * batch + jnp.arange(batch_max)) % n]
    return perm, idx


def _sgd_impl(problem, theta0, key, step, batch, power, offset, noise_std, n_records, record_every, batch_max,
         replacement):
    A, b, n = problem.base.features, problem.base.targets, problem.n
    kidx, knoise = jax.random.split(key)
    w = jnp.where(jnp.arange(batch_max) < batch, 1.0 / batch, 0.0)   # weight 1/b on the first b slots, 0 after

    def body(k, state):
        th, perm = state
        if replacement:
            idx = jax.random.randint(jax.random.fold_in(kidx, k), (batch_max,), 0, n)
        else:
            perm, idx = _epoch_indices(kidx, k, n, batch, batch_max, perm)
        s = problem.dloss(A[idx] @ th, b[idx]) * w
        g = A[idx].T @ s + problem.reg_grad(th)
        # the extra noise only when asked for (a true branch: noise_std is the same for every vmapped run)
        g = jax.lax.cond(noise_std > 0,
                         lambda g: g + noise_std * jax.random.normal(jax.random.fold_in(knoise, k), th.shape, th.dtype),
                         lambda g: g, g)
        alpha = step * (offset / (offset + k)) ** power
        return th - alpha * g, perm

    def chunk(state, r):
        state = jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, state)
        return state, state[0]

    _, thetas = jax.lax.scan(chunk, (theta0, jnp.arange(n, dtype=jnp.int32)), jnp.arange(n_records))
    return _stack(theta0, thetas)


_sgd = jax.jit(_sgd_impl, static_argnames=("n_records", "batch_max", "replacement"), compiler_options=_O1)


@partial(jax.jit, static_argnames=("n_records", "batch_max", "replacement", "n_runs"), compiler_options=_O1)
def _sgd_runs(problem, theta0, key, step, batch, power, offset, noise_std, n_records, record_every, batch_max,
              replacement, n_runs):
    # the keys are split inside the compiled call: one compilation per shape, not three
    run = partial(_sgd_impl, problem, theta0, n_records=n_records, record_every=record_every, batch_max=batch_max,
                  replacement=replacement)
    return jax.vmap(lambda k: run(k, step, batch, power, offset, noise_std))(jax.random.split(key, n_runs))


def sgd(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1,
        batch: int = 1, batch_max: int | None = None, replacement: bool = True, power: float = 0.0,
        offset: float = 1.0, noise: float = 0.0, n_runs: int | None = None) -> Run:
    r"""Minibatch SGD :math:`\theta_{k+1} = \theta_k - \alpha_k\bigl(\frac1b\sum_{j\le b}\nabla J_{I_{k,j}}(\theta_k) + s\,\xi_k\bigr)`.

    * ``replacement=True``: indices i.i.d. uniform (the setting of the theory).
    * ``replacement=False`` (*random reshuffling*): an epoch is ``n // batch`` steps.  At its first step
      one random permutation :math:`\pi` of :math:`\{0,\dots,n-1\}` is drawn, and step ``j`` of the epoch
      uses the consecutive slice :math:`\pi[jb], \dots, \pi[jb+b-1]`: every example is used exactly once
      per epoch, except the ``n % batch`` examples left at the end of the permutation (dropped for that
      epoch, like ``drop_last`` in data loaders; a different set each epoch).  The permutation is
      carried by the loop and redrawn once per epoch, never per step.  Record at epoch ends with
      ``record_every = n // batch``.
    * Steps :math:`\alpha_k = \alpha\,(k_0/(k_0+k))^{p}` with ``step`` :math:`\alpha`, ``offset``
      :math:`k_0` and ``power`` :math:`p`: ``power=0`` is a constant step; ``1/2 < p <= 1`` satisfies
      Robbins--Monro's :math:`\sum\alpha_k = \infty,\ \sum\alpha_k^2 < \infty` :cite:`robbins1951`.
    * ``noise`` :math:`s`: extra gradient noise :math:`\xi_k\sim\mathcal N(0, I_d)` (adds :math:`s^2 d` to the variance).
    * ``batch`` is traced (no recompilation, also without replacement: the epoch length ``n // batch``
      is computed inside the loop) and must be ``<= batch_max`` (static, default ``batch``); ``step``,
      ``power``, ``offset``, ``noise`` and ``record_every`` are traced too; ``n_records``, ``batch_max``,
      ``replacement`` and ``n_runs`` are static.
    * ``n_runs``: that many independent runs (keys split from ``key``); ``thetas`` then has shape
      ``(n_runs, m+1, d)``.

    Counts ``batch`` evaluations per step.
    """
    _checks.prng_key("key", key, batched=True)
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every, problem.dim)
    batch = _checks.positive_int("batch", batch)
    batch_max = batch if batch_max is None else _checks.positive_int("batch_max", batch_max)
    if batch > batch_max or batch_max > problem.n:
        raise ValueError(f"batch must satisfy batch <= batch_max <= n = {problem.n}, got batch={batch}, batch_max={batch_max}")
    _checks.nonnegative("power", power)
    _checks.positive("offset", offset)
    _checks.nonnegative("noise", noise)
    dt = theta0.dtype
    args = (jnp.asarray(step, dt), jnp.asarray(batch), jnp.asarray(power, dt), jnp.asarray(offset, dt),
            jnp.asarray(noise, dt))
    run = partial(_sgd, problem, theta0, n_records=n_records, record_every=jnp.asarray(record_every), batch_max=batch_max,
                  replacement=bool(replacement))
    if n_runs is None:
        thetas = run(key, *args)
    else:
        thetas = _sgd_runs(problem, theta0, key, *args, n_records=n_records, record_every=jnp.asarray(record_every),
                           batch_max=batch_max, replacement=bool(replacement),
                           n_runs=_checks.positive_int("n_runs", n_runs))
    thetas = _check_run("sgd", thetas)
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, steps * batch, steps)


# -- SAG and SAGA -----------------------------------------------------------------


@partial(jax.jit, static_argnames=("n_records",), compiler_options=_O1)
def _sag_saga(problem, theta0, key, step, n_records, record_every, saga, theta_star, tol):
    A, b, n = problem.base.features, problem.base.targets, problem.n
    table = problem.dloss(A @ theta0, b)              # n evaluations at theta0

    def body(k, state):
        th, table, gbar = state
        i = jax.random.randint(jax.random.fold_in(key, k), (), 0, n)
        s_new = problem.dloss(A[i] @ th, b[i])
        diff = (s_new - table[i]) * A[i]
        new_gbar = gbar + diff / n
        # saga (traced: one program for both): unbiased, new - old + average of the table;
        # sag: biased, the average of the updated table
        th = jnp.where(saga, th - step * (diff + gbar + problem.reg_grad(th)),
                       th - step * (new_gbar + problem.reg_grad(th)))
        return th, table.at[i].set(s_new), new_gbar

    def advance(state, r):
        th, table, _ = state
        gbar = A.T @ table / n                            # recomputed exactly: no drift in float32
        return jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, (th, table, gbar))

    chunk = _chunks(advance, _reached(theta0, theta_star, tol))
    _, thetas = jax.lax.scan(chunk, (theta0, table, jnp.zeros_like(theta0)), jnp.arange(n_records))
    return _stack(theta0, thetas)


def _incremental(name: str, problem, theta0, key, step, n_records, record_every, saga: bool, stop=None) -> Run:
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every, problem.dim)
    thetas = _sag_saga(problem, theta0, key, jnp.asarray(step, theta0.dtype), n_records, jnp.asarray(record_every),
                       jnp.asarray(saga), *_stop_args(problem, theta0, stop))
    thetas = _check_run(name, thetas)
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, problem.n + steps, steps)


def sag(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1,
        stop=None) -> Run:
    r"""SAG :cite:`schmidt2017sag`: keep the last gradient :math:`y_i` of every term; at step ``k`` refresh
    :math:`y_{i_k} = \nabla J_{i_k}(\theta_k)` and move along their average,
    :math:`\theta_{k+1} = \theta_k - \alpha\frac1n\sum_i y_i`.  One evaluation per step (plus ``n`` to fill
    the table at :math:`\theta_0`).  Theory: :math:`\alpha = 1/(16L_{\max})`; :math:`1/L_{\max}` works in practice.
    """
    _checks.prng_key("key", key, batched=True)
    return _incremental("sag", problem, theta0, key, step, n_records, record_every, saga=False, stop=stop)


def saga(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1,
         stop=None) -> Run:
    r"""SAGA :cite:`defazio2014saga`: :math:`\theta_{k+1} = \theta_k - \alpha\bigl[\nabla J_{i_k}(\theta_k) - y_{i_k}
    + \frac1n\sum_i y_i\bigr]`, then :math:`y_{i_k} = \nabla J_{i_k}(\theta_k)`; an unbiased estimate whose
    variance vanishes at the optimum.  One evaluation per step (plus ``n`` for the table).  Step
    :math:`1/(3L_{\max})` in theory.
    """
    _checks.prng_key("key", key, batched=True)
    return _incremental("saga", problem, theta0, key, step, n_records, record_every, saga=True, stop=stop)


# -- Nesterov's accelerated gradient ---------------------------------------------------


@partial(jax.jit, static_argnames=("n_records",), compiler_options=_O1)
def _nesterov(problem, theta0, step, momentum, n_records, record_every, theta_star, tol):
    def body(k, state):
        th, prev = state
        y = th + momentum * (th - prev)
        return y - step * problem.grad(y), th

    def advance(state, r):
        return jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, state)

    chunk = _chunks(advance, _reached(theta0, theta_star, tol))
    _, thetas = jax.lax.scan(chunk, (theta0, theta0), jnp.arange(n_records))
    return _stack(theta0, thetas)


def nesterov(problem: Problem, theta0, *, step: float, momentum: float, n_records: int, record_every: int = 1,
             stop=None) -> Run:
    r"""Nesterov's accelerated gradient descent :cite:`nesterov2018lectures` for strongly convex :math:`J`:

    .. math:: y_k = \theta_k + \beta(\theta_k - \theta_{k-1}), \qquad \theta_{k+1} = y_k - \alpha\nabla J(y_k),

    with :math:`\theta_{-1} = \theta_0`; the classical choice is :math:`\alpha = 1/L`,
    :math:`\beta = (\sqrt{L/\mu}-1)/(\sqrt{L/\mu}+1)`, which converges like
    :math:`(1-\sqrt{\mu/L})^k`: :math:`n\sqrt{L/\mu}\,\log\frac1\varepsilon` evaluations (``n`` per step).
    ``step`` and ``momentum`` (in ``[0, 1)``) are traced.  Records every ``record_every``-th iterate.
    """
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    _checks.nonnegative("momentum", momentum)
    if not momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    n_records, record_every = _records(n_records, record_every, problem.dim)
    dt = theta0.dtype
    thetas = _check_run("nesterov", _nesterov(problem, theta0, jnp.asarray(step, dt), jnp.asarray(momentum, dt),
                                              n_records, jnp.asarray(record_every), *_stop_args(problem, theta0, stop)))
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, steps * problem.n, steps)


# -- SVRG ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("n_slots",), compiler_options=_O1)
def _svrg(problem, theta0, key, step, n_slots, n_epochs, inner, theta_star, tol):
    A, b, n = problem.base.features, problem.base.targets, problem.n

    def epoch(th, e):
        snap = th
        s_snap = problem.dloss(A @ snap, b)               # n evaluations
        mu_data = A.T @ s_snap / n
        ke = jax.random.fold_in(key, e)

        def body(k, th):
            i = jax.random.randint(jax.random.fold_in(ke, k), (), 0, n)
            v = (problem.dloss(A[i] @ th, b[i]) - s_snap[i]) * A[i] + mu_data + problem.reg_grad(th)
            return th - step * v                            # 2 evaluations

        return jax.lax.fori_loop(0, inner, body, th)

    done = _reached(theta0, theta_star, tol)

    def slot(th, e):   # epochs beyond n_epochs (traced) or after the target are skipped
        th = jax.lax.cond((e < n_epochs) & ~done(th), epoch, lambda th, e: th, th, e)
        return th, th

    _, thetas = jax.lax.scan(slot, theta0, jnp.arange(n_slots))
    return _stack(theta0, thetas)


def svrg(problem: Problem, theta0, key: jax.Array, *, step: float, n_epochs: int, inner: int | None = None,
         stop=None) -> Run:
    r"""SVRG :cite:`johnson2013svrg`: each epoch takes a snapshot :math:`\tilde\theta` and its full gradient,
    then ``inner`` steps :math:`\theta \leftarrow \theta - \alpha[\nabla J_i(\theta) - \nabla J_i(\tilde\theta)
    + \nabla J(\tilde\theta)]` (``inner = n`` by default; the last iterate starts the next epoch).
    Records once per epoch; costs ``n + 2 * inner`` evaluations per epoch.  The analysis needs
    ``inner`` of order :math:`\kappa` at least, so use ``inner >= max(n, kappa)`` on ill-conditioned problems.
    """
    _checks.prng_key("key", key, batched=True)
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_epochs = _checks.positive_int("n_epochs", n_epochs)
    inner = problem.n if inner is None else _checks.positive_int("inner", inner)
    _checks.work_size(f"svrg(n_epochs={n_epochs}, inner={inner})", steps=n_epochs * (inner + 1), size=problem.dim)
    # the number of epochs is traced: the loop has a power-of-two number of slots (one compilation per octave)
    n_slots = max(8, 1 << (n_epochs - 1).bit_length())
    thetas = _svrg(problem, theta0, key, jnp.asarray(step, theta0.dtype), n_slots, jnp.asarray(n_epochs),
                   jnp.asarray(inner), *_stop_args(problem, theta0, stop))
    thetas = _check_run("svrg", jnp.asarray(np.asarray(thetas)[:n_epochs + 1]))   # on the host: no compilation
    epochs = np.arange(n_epochs + 1)
    return Run(thetas, epochs * (problem.n + 2 * inner), epochs * inner)


# -- loopless Katyusha ----------------------------------------------------------------


@partial(jax.jit, static_argnames=("n_records",), compiler_options=_O1)
def _katyusha(problem, theta0, key, L, sigma, theta1, theta2, prob, n_records, record_every, theta_star, tol):
    A, b, n = problem.base.features, problem.base.targets, problem.n
    eta = theta2 / ((1.0 + theta2) * theta1)

    def snapshot(w):                                    # n evaluations: the table at w and its average
        s = problem.dloss(A @ w, b)
        return s, A.T @ s / n

    def body(k, state):
        y, z, w, s_w, g_w, ev = state
        x = theta1 * z + theta2 * w + (1.0 - theta1 - theta2) * y
        k1, k2 = jax.random.split(jax.random.fold_in(key, k))
        i = jax.random.randint(k1, (), 0, n)
        g = g_w + (problem.dloss(A[i] @ x, b[i]) - s_w[i]) * A[i] + problem.reg_grad(x)   # 2 evaluations
        z_new = (eta * sigma * x + z - (eta / L) * g) / (1.0 + eta * sigma)
        y_new = x + theta1 * (z_new - z)
        refresh = jax.random.uniform(k2) < prob
        w, s_w, g_w, ev = jax.lax.cond(refresh, lambda: (y, *snapshot(y), ev + n + 2),
                                       lambda: (w, s_w, g_w, ev + 2))
        return y_new, z_new, w, s_w, g_w, ev

    def advance(state, r):
        return jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, state)

    chunk = _chunks(advance, _reached(theta0, theta_star, tol), out=lambda s: (s[0], s[5]))
    s0, g0 = snapshot(theta0)
    init = (theta0, theta0, theta0, s0, g0, jnp.asarray(n, jnp.int32))
    _, (ys, evs) = jax.lax.scan(chunk, init, jnp.arange(n_records))
    return _stack(theta0, ys), evs


def katyusha(problem: Problem, theta0, key: jax.Array, *, n_records: int, record_every: int = 1,
             theta1: float | None = None, theta2: float = 0.5, prob: float | None = None, stop=None) -> Run:
    r"""Loopless Katyusha (L-Katyusha) :cite:`kovalev2020lkatyusha`, accelerated variance reduction.

    Three sequences :math:`y, z, w` (all :math:`\theta_0` at the start), :math:`\sigma = \mu/L_{\max}`,
    :math:`\eta = \theta_2/((1+\theta_2)\theta_1)`; at each step, with a uniform index :math:`i`,

    .. math::
        x &= \theta_1 z + \theta_2 w + (1-\theta_1-\theta_2)\,y,\qquad
        g = \nabla J(w) + \nabla J_i(x) - \nabla J_i(w),\\
        z^+ &= \frac{\eta\sigma x + z - (\eta/L_{\max}) g}{1+\eta\sigma},\qquad
        y^+ = x + \theta_1 (z^+ - z),

    and the snapshot :math:`w` becomes :math:`y` (the old one) with probability ``prob`` :math:`p`, at the
    cost of a full gradient.  Defaults are those of the analysis: :math:`p = 1/n`, :math:`\theta_2 = 1/2`,
    :math:`\theta_1 = \min(\sqrt{2\sigma n/3}, 1/2)`, for :math:`(n + \sqrt{n\kappa})\log\frac1\varepsilon`
    evaluations (the ``"accelerated"`` row of :func:`complexity`).  The iterate recorded is :math:`y`.
    Each step costs 2 evaluations, plus ``n`` at each refresh (random: ``evals`` counts the actual
    ones; 3 per step on average for :math:`p = 1/n`), plus ``n`` at the start.  ``theta1``,
    ``theta2``, ``prob`` and ``record_every`` are traced.
    """
    _checks.prng_key("key", key, batched=True)
    theta0 = _start(problem, theta0)
    n_records, record_every = _records(n_records, record_every, problem.dim)
    L, mu = problem.L_max, problem.mu
    sigma = mu / L
    theta1 = min(math.sqrt(2.0 * sigma * problem.n / 3.0), 0.5) if theta1 is None else theta1
    prob = 1.0 / problem.n if prob is None else prob
    for name, v in (("theta1", theta1), ("theta2", theta2), ("prob", prob)):
        if not 0 < v <= 1:
            raise ValueError(f"{name} must lie in (0, 1], got {v!r}")
    if theta1 + theta2 > 1:
        raise ValueError(f"theta1 + theta2 must be <= 1, got {theta1} + {theta2}")
    dt = theta0.dtype
    thetas, evs = _katyusha(problem, theta0, key, *(jnp.asarray(v, dt) for v in (L, sigma, theta1, theta2, prob)),
                            n_records, jnp.asarray(record_every), *_stop_args(problem, theta0, stop))
    thetas = _check_run("katyusha", thetas)
    return Run(thetas, np.concatenate([[problem.n], np.asarray(evs)]), np.arange(n_records + 1) * record_every)


_GRAD_CHUNK = 2048   # iterates per vmapped block in _grad_sq: bounds the (block, n) intermediate


def _grad_sq_impl(problem, thetas):
    flat = thetas.reshape(-1, thetas.shape[-1])
    if problem.base.kind == "least_squares":
        # grad = H theta - c + R'(theta) with H = A^T A / n and c = A^T b / n: a (d, d) product per
        # iterate instead of two (n, d) ones, and no (iterates, n) intermediate
        A, b = problem.base.features, problem.base.targets
        H, c = A.T @ A / problem.n, A.T @ b / problem.n
        g = flat @ H - c + problem.reg_grad(flat)   # H is symmetric; reg_grad is elementwise
        g2 = jnp.sum(g**2, axis=-1)
    else:
        g2 = jax.lax.map(lambda th: jnp.sum(problem.grad(th) ** 2), flat, batch_size=_GRAD_CHUNK)
    return g2.reshape(thetas.shape[:-1])


_grad_sq = jax.jit(_grad_sq_impl, compiler_options=_O1)


def grad_norms(problem: Problem, thetas) -> jax.Array:
    r"""Squared gradient norms :math:`\|\nabla J(\theta)\|^2` of iterates ``(..., d)``: returns ``(...)``."""
    thetas = _checks.last_axis("thetas", thetas, problem.dim)
    return (_grad_sq_impl if isinstance(thetas, jax.core.Tracer) else _grad_sq)(problem, thetas)


@partial(jax.jit, compiler_options=_O1)
def _values(problem, thetas):
    return problem.value(thetas)


def values(problem: Problem, thetas) -> jax.Array:
    """Objective values :math:`J(\theta)` of iterates ``(..., d)``: returns ``(...)``."""
    return _values(problem, _checks.last_axis("thetas", thetas, problem.dim))


def default_step(method: str, problem: Problem) -> float:
    r"""The course's step for each method: ``gd`` and ``agd`` :math:`1/L`; ``sag`` :math:`1/L_{\max}`;
    ``saga`` :math:`1/(3L_{\max})`; ``svrg`` :math:`1/(5L_{\max})`; ``sgd`` :math:`1/L_{\max}` (initial step);
    ``katyusha`` :math:`1/L_{\max}` (the scale of its gradient step)."""
    _checks.one_of("method", method, METHODS)
    if method in ("gd", "agd"):
        return 1.0 / problem.L
    return {"sag": 1.0, "saga": 1 / 3, "svrg": 1 / 5, "sgd": 1.0, "katyusha": 1.0}[method] / problem.L_max


# ---------------------------------------------------------------------------
# bounds and predictions
# ---------------------------------------------------------------------------


def descent_bound(value: float, grad_sq: float, L: float, step: float, sigma2: float) -> float:
    r"""One-step bound :math:`\mathbb E[J(\theta - \alpha\nabla J_I(\theta))] \le J(\theta) - \frac{\alpha}{2}\|\nabla J(\theta)\|^2
    + \frac{L\alpha^2}{2}\sigma^2(\theta)`, valid for :math:`\alpha \le 1/L` :cite:`pauwels2024intro`."""
    _checks.real("value", value)
    _checks.nonnegative("grad_sq", grad_sq)
    _checks.positive("L", L)
    _checks.positive("step", step)
    _checks.nonnegative("sigma2", sigma2)
    return value - 0.5 * step * grad_sq + 0.5 * L * step**2 * sigma2


def nonconvex_bound(k, gap: float, L: float, step: float, sigma2: float):
    r"""Nonconvex SGD rate :cite:`pauwels2024intro,ghadimi2013`: for constant :math:`\alpha \le 1/L`,

    .. math:: \min_{i\le k}\mathbb E\|\nabla J(\theta_i)\|^2 \le \frac1{k+1}\sum_{i=0}^{k}\mathbb E\|\nabla J(\theta_i)\|^2
              \le \frac{2(J(\theta_0) - J^\star)}{(k+1)\alpha} + L\alpha\sigma^2 ,

    with ``gap`` :math:`= J(\theta_0) - J^\star` and :math:`\sigma^2 \ge \sigma^2(\theta_i)` along the run.
    ``k`` may be an array (NumPy, returned with its shape).
    """
    _checks.positive("L", L)
    _checks.nonnegative("gap", gap)
    _checks.nonnegative("sigma2", sigma2)
    step = _checks.real_array("step", step, low=0.0, low_open=True)
    k = _checks.real_array("k", k, low=0.0)
    return 2.0 * gap / ((k + 1.0) * step) + L * step * sigma2


def optimal_constant_step(k: int, gap: float, L: float, sigma2: float) -> float:
    r"""Constant step minimising :func:`nonconvex_bound` at horizon ``k``:
    :math:`\alpha^\star = \min\bigl(1/L, \sqrt{2(J(\theta_0)-J^\star)/((k+1)L\sigma^2)}\bigr)`; the bound is then
    :math:`2\sqrt{2(J(\theta_0)-J^\star)L\sigma^2/(k+1)}` when the square root is the smaller, an
    :math:`O(1/\sqrt{k})` rate."""
    k = _checks.nonnegative_int("k", k)
    _checks.positive("L", L)
    _checks.positive("gap", gap)
    _checks.nonnegative("sigma2", sigma2)
    if sigma2 <= 0:
        return 1.0 / L
    return float(min(1.0 / L, math.sqrt(2.0 * gap / ((k + 1) * L * sigma2))))


def minibatch_variance(sigma2, n: int, batch, replacement: bool = True):
    r"""Variance :math:`\mathbb E\|g_b - \nabla J\|^2` of a minibatch gradient of size ``batch``:
    :math:`\sigma^2/b` with replacement, :math:`\frac{\sigma^2}{b}\,\frac{n-b}{n-1}` without
    (finite-population correction: zero for :math:`b = n`)."""
    n = _checks.positive_int("n", n)
    b = _checks.real_array("batch", batch, low=1.0)
    if np.any(b != np.round(b)):
        raise ValueError(f"batch must hold whole numbers (sample counts), got {batch!r}")
    sigma2 = _checks.real_array("sigma2", sigma2, low=0.0)
    if np.any(b < 1) or np.any(b > n):
        raise ValueError(f"batch must lie in [1, n = {n}], got {batch!r}")
    v = np.asarray(sigma2, dtype=float) / b
    return v if replacement else v * (n - b) / (n - 1)


def complexity(method: str, n, kappa, eps):
    r"""Bach's table :cite:`bach2025convexity`: individual gradient evaluations to reach error
    :math:`\varepsilon` on a :math:`\mu`-strongly convex finite sum with condition number :math:`\kappa`,
    up to constants: ``"gd"`` :math:`n\kappa\log\frac1\varepsilon`, ``"sgd"`` :math:`\kappa/\varepsilon`,
    ``"vr"`` (SAG, SVRG, SAGA) :math:`(n+\kappa)\log\frac1\varepsilon`, ``"accelerated"`` (accelerated
    variance reduction) :math:`(n+\sqrt{n\kappa})\log\frac1\varepsilon`; and ``"agd"``, Nesterov's
    accelerated gradient descent, :math:`n\sqrt{\kappa}\log\frac1\varepsilon` :cite:`nesterov2018lectures`."""
    _checks.one_of("method", method, ("gd", "agd", "sgd", "vr", "accelerated"))
    n = _checks.real_array("n", n, low=1.0)
    kappa = _checks.real_array("kappa", kappa, low=1.0)
    eps = _checks.real_array("eps", eps)
    if np.any(eps <= 0) or np.any(eps >= 1):
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    log = np.log(1.0 / eps)
    if method == "gd":
        return n * kappa * log
    if method == "sgd":
        return kappa / eps
    if method == "agd":
        return n * np.sqrt(kappa) * log
    if method == "vr":
        return (n + kappa) * log
    return (n + np.sqrt(n * kappa)) * log


def evals_to_reach(errors, evals, eps: float) -> float:
    """First number of evaluations at which ``errors`` (``(m,)``, relative) falls below ``eps``; ``inf`` if never."""
    e = np.asarray(_checks.finite_array("errors", errors), dtype=float)
    c = np.asarray(_checks.finite_array("evals", evals), dtype=float)
    _checks.positive("eps", eps)
    if e.shape != c.shape or e.ndim != 1:
        raise ValueError(f"errors and evals must be 1-D of the same length, got {e.shape} and {c.shape}")
    hit = np.nonzero(e <= eps)[0]
    return float(c[hit[0]]) if hit.size else math.inf


# ---------------------------------------------------------------------------
# helpers for runs, and an independent check of the minimiser
# ---------------------------------------------------------------------------


def relative_errors(run: Run, theta_star) -> np.ndarray:
    r"""Relative squared distances :math:`\|\theta_k-\theta^\star\|^2/\|\theta_0-\theta^\star\|^2` of a run (float64, ``(..., m+1)``)."""
    th = np.asarray(run.thetas, dtype=np.float64)
    ts = np.asarray(theta_star, dtype=np.float64)
    e = np.sum((th - ts) ** 2, axis=-1)
    return e / e[..., :1]


def run_method(method: str, problem: Problem, key: jax.Array, budget: float, *, n_points: int = 60,
               theta0=None, stop=None) -> Run:
    """Run ``method`` (one of ``gd, agd, sgd, sag, saga, svrg, katyusha``) from ``theta0`` (zeros by default) with its
    :func:`default_step` for about ``budget`` gradient evaluations, recording about ``n_points`` iterates.
    SGD uses the decaying step :math:`\\alpha_k = 1/(\\mu(k + k_0))` with :math:`k_0 = 2\\kappa`
    (the classical strongly convex schedule, error :math:`O(\\kappa/k)`); ``agd`` is :func:`nesterov` with
    :math:`\\alpha = 1/L` and :math:`\\beta = (\\sqrt{L/\\mu}-1)/(\\sqrt{L/\\mu}+1)`; ``katyusha`` uses
    the default parameters of :func:`katyusha` (about 3 evaluations per step).

    ``stop=(theta_star, eps)`` (not for ``sgd``): skip the steps after the first record whose relative squared
    distance to ``theta_star`` is below ``eps``; the records up to it, hence :func:`evals_to_reach` at ``eps``,
    are those of the full run, at the cost of the run up to that point only."""
    _checks.prng_key("key", key, batched=True)
    _checks.one_of("method", method, METHODS)
    _checks.positive("budget", budget)
    n = problem.n
    theta0 = jnp.zeros(problem.dim) if theta0 is None else theta0
    m = _checks.positive_int("n_points", n_points)
    if method == "gd":
        every = max(1, int(budget / n / m))
        return gd(problem, theta0, step=default_step("gd", problem), n_records=m, record_every=every, stop=stop)
    if method == "agd":
        every = max(1, int(budget / n / m))
        q = math.sqrt(problem.L / problem.mu)
        return nesterov(problem, theta0, step=default_step("agd", problem), momentum=(q - 1) / (q + 1),
                        n_records=m, record_every=every, stop=stop)
    if method == "svrg":   # inner loop of length max(n, 2 kappa), as the analysis requires
        inner = int(max(n, 2 * problem.kappa))
        return svrg(problem, theta0, key, step=default_step("svrg", problem), inner=inner,
                    n_epochs=max(1, int(budget / (n + 2 * inner))), stop=stop)
    if method == "katyusha":
        return katyusha(problem, theta0, key, n_records=m, record_every=max(1, int(budget / 3 / m)), stop=stop)
    every = max(1, int(budget / m))
    if method == "sgd":
        if stop is not None:
            raise ValueError("stop is not supported for method 'sgd' (its runs are vmapped over chains)")
        k0 = 2.0 * problem.kappa
        return sgd(problem, theta0, key, step=1.0 / (problem.mu * k0), n_records=m, record_every=every,
                   power=1.0, offset=k0)
    fn = sag if method == "sag" else saga
    return fn(problem, theta0, key, step=default_step(method, problem), n_records=m, record_every=every, stop=stop)


def sklearn_solution(problem: Problem, *, solver: str = "lbfgs", tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    r"""The minimiser of a convex :class:`Problem` computed by scikit-learn (NumPy float64, ``(d,)``), an
    independent check of :func:`reference_solution` and of the course's methods.

    The conventions are matched exactly.  Logistic: the course minimises
    :math:`\frac1n\sum_i\log(1+e^{-b_i a_i^\top\theta}) + \frac\lambda2\|\theta\|^2`, and
    ``LogisticRegression`` minimises :math:`C\sum_i\log(1+e^{-b_i a_i^\top w}) + \frac12\|w\|^2`
    (L2 penalty, ``l1_ratio=0``): dividing by :math:`Cn` shows they agree for :math:`C = 1/(n\lambda)`,
    with ``fit_intercept=False``; ``solver`` is ``"lbfgs"`` or ``"saga"``.  Least squares: ``Ridge``
    minimises :math:`\|Aw-b\|^2 + \alpha_{\rm ridge}\|w\|^2`, that is :math:`2n` times the course's
    objective for :math:`\alpha_{\rm ridge} = n\lambda` (``solver`` is ignored: Cholesky).
    Needs ``reg`` :math:`\lambda > 0` and ``ncvx = 0``.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a course_lib.stochastic.Problem, got {type(problem).__name__}")
    if float(problem.ncvx) != 0.0:
        raise ValueError("sklearn_solution needs a convex problem (ncvx = 0)")
    lam = float(problem.base.reg)
    if lam <= 0:
        raise ValueError(f"sklearn_solution needs a ridge term: reg must be > 0, got {lam}")
    _checks.one_of("solver", solver, ("lbfgs", "saga"))
    from sklearn.linear_model import LogisticRegression, Ridge   # runtime dependency, imported when used

    A = np.asarray(problem.base.features, dtype=np.float64)
    b = np.asarray(problem.base.targets, dtype=np.float64)
    n = A.shape[0]
    if problem.base.kind == "least_squares":
        model = Ridge(alpha=n * lam, fit_intercept=False, solver="cholesky").fit(A, b)
        return np.asarray(model.coef_, dtype=np.float64)
    model = LogisticRegression(C=1.0 / (n * lam), fit_intercept=False, solver=solver, tol=tol, max_iter=max_iter)
    model.fit(A, (b > 0).astype(int))          # classes 0 < 1: the coefficient is that of label +1
    return np.asarray(model.coef_[0], dtype=np.float64)


@partial(jax.jit, compiler_options=_O1)
def _mean_sq_example_grads(problem, theta):
    return jnp.mean(jnp.sum(problem.example_grads(theta) ** 2, axis=1))


def distance_floor(problem: Problem, theta_star, step, replacement: bool = True):
    r"""Upper bound on the stationary :math:`\mathbb E\|\theta-\theta^\star\|^2` of constant-step SGD (batch 1)
    on a strongly convex :class:`Problem`, with :math:`\sigma_\star^2 = \frac1n\sum_i\|\nabla J_i(\theta^\star)\|^2`:

    * with replacement, :math:`2\alpha\sigma_\star^2/\mu` for :math:`\alpha \le 1/(2L_{\max})`
      (from :math:`\mathbb E\|\theta_{k+1}-\theta^\star\|^2 \le (1-\alpha\mu)\mathbb E\|\theta_k-\theta^\star\|^2
      + 2\alpha^2\sigma_\star^2` :cite:`gower2019sgd`): linear in :math:`\alpha`;
    * without (random reshuffling, at epoch ends), :math:`\alpha^2 L_{\max} n\,\sigma_\star^2/(2\lambda)` for
      :math:`\alpha \le 1/L_{\max}`, where every :math:`J_i` is :math:`\lambda`-strongly convex (the ridge)
      :cite:`mishchenko2020rr`: quadratic in :math:`\alpha`.

    ``step`` may be an array (NumPy, returned with its shape)."""
    ts = _checks.finite_array("theta_star", theta_star, ndim=1, last=problem.dim)
    a = np.asarray(step, dtype=float)
    if np.any(a <= 0):
        raise ValueError(f"step must be positive, got {step!r}")
    s2 = float(_mean_sq_example_grads(problem, ts.astype(problem.base.features.dtype)))
    if replacement:
        return 2.0 * a * s2 / problem.mu
    lam = float(problem.base.reg)
    if lam <= 0:
        raise ValueError("the reshuffling bound needs every term strongly convex: reg must be > 0")
    return a**2 * problem.L_max * problem.n * s2 / (2.0 * lam)


from .divergence import DivergenceError as _DivergenceError  # noqa: E402  (the one divergence error)
