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
* :func:`sgd` -- minibatch SGD with or without replacement, constant or
  Robbins--Monro steps :math:`\alpha_k = \alpha\,(k_0/(k_0+k))^{p}`, optional
  extra Gaussian gradient noise;
* :func:`sag` :cite:`schmidt2017sag`, :func:`saga` :cite:`defazio2014saga`,
  :func:`svrg` :cite:`johnson2013svrg` -- variance reduction.

Each returns a :class:`Run`: the iterates at recorded steps and the number of
gradient evaluations spent to reach them.  A run whose iterates are not finite
raises ``ValueError`` (step too large), never returns NaN silently.

Bounds as functions: :func:`descent_bound`, :func:`nonconvex_bound`,
:func:`optimal_constant_step`, :func:`minibatch_variance`, :func:`complexity`.
:func:`reference_solution` solves convex problems to float64 precision
(Newton's method in NumPy; the global JAX ``x64`` flag is never touched).
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
    "GradCurve",
    "sgd_grad_curve",
    "relative_errors",
    "run_method",
]

METHODS = ("gd", "sgd", "sag", "saga", "svrg")


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
    _checks.one_of("kind", kind, ("least_squares", "logistic"))
    _checks.nonnegative("ncvx", ncvx)
    _checks.nonnegative("reg", reg)
    if scales is None and not normalize:
        base = least_squares(key, n, d, noise=noise, reg=reg) if kind == "least_squares" else \
            logistic_regression(key, n, d, reg=reg)
        return Problem(base, jnp.asarray(ncvx, dtype=base.features.dtype))
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    k1, k2, k3 = jax.random.split(key, 3)
    A = jax.random.normal(k1, (n, d))
    if scales is not None:
        A = A * _checks.finite_array("scales", scales, ndim=1, last=d)
    if normalize:
        A = A / jnp.linalg.norm(A, axis=1, keepdims=True)
    x_star = jax.random.normal(k2, (d,)) / jnp.sqrt(jnp.mean(jnp.sum(A**2, axis=1)))
    p = A @ x_star
    if kind == "least_squares":
        b = p + noise * jax.random.normal(k3, (n,))
    else:
        b = jnp.where(jax.random.uniform(k3, (n,)) < jax.nn.sigmoid(2.0 * p), 1.0, -1.0)
    base = FiniteSum(A, b, jnp.asarray(reg, dtype=A.dtype), kind)
    return Problem(base, jnp.asarray(ncvx, dtype=A.dtype))


@partial(jax.jit, static_argnames=("batch", "n_draws", "replacement"))
def _minibatch_draws(problem, theta, key, batch, n_draws, replacement):
    def one(k):
        if replacement:
            idx = jax.random.randint(k, (batch,), 0, problem.n)
        else:
            idx = jax.random.choice(k, problem.n, (batch,), replace=False)
        return problem.example_grads(theta, idx).mean(0)

    return jax.vmap(one)(jax.random.split(key, n_draws))


def minibatch_gradients(problem: Problem, theta, key: jax.Array, *, batch: int, n_draws: int,
                        replacement: bool = True) -> jax.Array:
    r"""``n_draws`` independent minibatch gradients :math:`g_b(\theta) = \frac1b\sum_{j\le b}\nabla J_{I_j}(\theta)`,
    ``(n_draws, d)``: indices i.i.d. uniform (``replacement=True``) or ``b`` distinct indices (``False``)."""
    theta = _start(problem, theta)
    batch = _checks.positive_int("batch", batch)
    if batch > problem.n:
        raise ValueError(f"batch must be <= n = {problem.n}, got {batch}")
    return _minibatch_draws(problem, theta, key, batch, _checks.positive_int("n_draws", n_draws), bool(replacement))


def reference_solution(problem: Problem, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
    r"""High-precision minimiser of a convex :class:`Problem` (NumPy float64, ``(d,)``).

    Least squares: the normal equations :math:`(A^\top A/n + \lambda I)\theta = A^\top b/n`.
    Logistic: Newton's method with backtracking, stopped when
    :math:`\|\nabla J\| \le` ``tol``.  Raises ``ValueError`` for a nonconvex problem
    or when Newton does not converge.
    """
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
    if not bool(jnp.all(jnp.isfinite(thetas))):
        raise ValueError(f"{name} diverged: the iterates became infinite or NaN; use a smaller step")
    return thetas


def _start(problem: Problem, theta0) -> jax.Array:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a course_lib.stochastic.Problem, got {type(problem).__name__}")
    return _checks.finite_array("theta0", theta0, ndim=1, last=problem.dim)


def _records(n_records: int, record_every: int) -> tuple[int, int]:
    return _checks.positive_int("n_records", n_records), _checks.positive_int("record_every", record_every)


def _stack(theta0: jax.Array, thetas: jax.Array) -> jax.Array:
    return jnp.concatenate([theta0[None], thetas], axis=0)


# -- gradient descent ----------------------------------------------------------


@partial(jax.jit, static_argnames=("n_records",))
def _gd(problem, theta0, step, n_records, record_every):
    def body(k, th):
        return th - step * problem.grad(th)

    def chunk(th, r):
        th = jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, th)
        return th, th

    _, thetas = jax.lax.scan(chunk, theta0, jnp.arange(n_records))
    return _stack(theta0, thetas)


def gd(problem: Problem, theta0, *, step: float, n_records: int, record_every: int = 1) -> Run:
    r"""Gradient descent :math:`\theta_{k+1} = \theta_k - \alpha\nabla J(\theta_k)`, ``n`` evaluations per step.

    Runs ``n_records * record_every`` steps and records every ``record_every``-th iterate.
    """
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every)
    thetas = _check_run("gd", _gd(problem, theta0, jnp.asarray(step, theta0.dtype), n_records, jnp.asarray(record_every)))
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, steps * problem.n, steps)


# -- SGD -------------------------------------------------------------------------


def _sgd_indices(key, k, n, batch, batch_max, replacement):
    """Indices ``(batch_max,)`` and weights (1/batch on the first ``batch``, 0 after) of step ``k``."""
    j = jnp.arange(batch_max)
    w = jnp.where(j < batch, 1.0 / batch, 0.0)
    if replacement:
        idx = jax.random.randint(jax.random.fold_in(key, k), (batch_max,), 0, n)
    else:
        per_epoch = jnp.maximum(n // batch, 1)
        epoch, pos = k // per_epoch, k % per_epoch
        perm = jax.random.permutation(jax.random.fold_in(key, epoch), n)
        idx = perm[(pos * batch + j) % n]
    return idx, w


@partial(jax.jit, static_argnames=("n_records", "batch_max", "replacement"))
def _sgd(problem, theta0, key, step, batch, power, offset, noise_std, n_records, record_every, batch_max,
         replacement):
    A, b = problem.base.features, problem.base.targets
    kidx, knoise = jax.random.split(key)

    def body(k, th):
        idx, w = _sgd_indices(kidx, k, problem.n, batch, batch_max, replacement)
        s = problem.dloss(A[idx] @ th, b[idx]) * w
        g = A[idx].T @ s + problem.reg_grad(th)
        g = g + noise_std * jax.random.normal(jax.random.fold_in(knoise, k), th.shape, th.dtype)
        alpha = step * (offset / (offset + k)) ** power
        return th - alpha * g

    def chunk(th, r):
        th = jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, th)
        return th, th

    _, thetas = jax.lax.scan(chunk, theta0, jnp.arange(n_records))
    return _stack(theta0, thetas)


def sgd(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1,
        batch: int = 1, batch_max: int | None = None, replacement: bool = True, power: float = 0.0,
        offset: float = 1.0, noise: float = 0.0, n_runs: int | None = None) -> Run:
    r"""Minibatch SGD :math:`\theta_{k+1} = \theta_k - \alpha_k\bigl(\frac1b\sum_{j\le b}\nabla J_{I_{k,j}}(\theta_k) + s\,\xi_k\bigr)`.

    * ``replacement=True``: indices i.i.d. uniform; ``False``: each epoch (``n // batch`` steps)
      walks through a fresh random permutation (random reshuffling).
    * Steps :math:`\alpha_k = \alpha\,(k_0/(k_0+k))^{p}` with ``step`` :math:`\alpha`, ``offset``
      :math:`k_0` and ``power`` :math:`p`: ``power=0`` is a constant step; ``1/2 < p <= 1`` satisfies
      Robbins--Monro's :math:`\sum\alpha_k = \infty,\ \sum\alpha_k^2 < \infty` :cite:`robbins1951`.
    * ``noise`` :math:`s`: extra gradient noise :math:`\xi_k\sim\mathcal N(0, I_d)` (adds :math:`s^2 d` to the variance).
    * ``batch`` is traced (no recompilation) and must be ``<= batch_max`` (static, default ``batch``).
    * ``n_runs``: that many independent runs (keys split from ``key``); ``thetas`` then has shape
      ``(n_runs, m+1, d)``.

    Counts ``batch`` evaluations per step.
    """
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every)
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
        keys = jax.random.split(key, _checks.positive_int("n_runs", n_runs))
        thetas = jax.vmap(lambda k: run(k, *args))(keys)
    thetas = _check_run("sgd", thetas)
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, steps * batch, steps)


# -- SAG and SAGA -----------------------------------------------------------------


@partial(jax.jit, static_argnames=("n_records", "saga"))
def _sag_saga(problem, theta0, key, step, n_records, record_every, saga):
    A, b, n = problem.base.features, problem.base.targets, problem.n
    table = problem.dloss(A @ theta0, b)              # n evaluations at theta0

    def body(k, state):
        th, table, gbar = state
        i = jax.random.randint(jax.random.fold_in(key, k), (), 0, n)
        s_new = problem.dloss(A[i] @ th, b[i])
        diff = (s_new - table[i]) * A[i]
        if saga:   # unbiased: new - old + average of the table
            th = th - step * (diff + gbar + problem.reg_grad(th))
            gbar = gbar + diff / n
        else:      # biased: average of the updated table
            gbar = gbar + diff / n
            th = th - step * (gbar + problem.reg_grad(th))
        return th, table.at[i].set(s_new), gbar

    def chunk(state, r):
        th, table, _ = state
        gbar = A.T @ table / n                            # recomputed exactly: no drift in float32
        state = jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, (th, table, gbar))
        return state, state[0]

    _, thetas = jax.lax.scan(chunk, (theta0, table, jnp.zeros_like(theta0)), jnp.arange(n_records))
    return _stack(theta0, thetas)


def _incremental(name: str, problem, theta0, key, step, n_records, record_every, saga: bool) -> Run:
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_records, record_every = _records(n_records, record_every)
    thetas = _sag_saga(problem, theta0, key, jnp.asarray(step, theta0.dtype), n_records, jnp.asarray(record_every), saga)
    thetas = _check_run(name, thetas)
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, problem.n + steps, steps)


def sag(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1) -> Run:
    r"""SAG :cite:`schmidt2017sag`: keep the last gradient :math:`y_i` of every term; at step ``k`` refresh
    :math:`y_{i_k} = \nabla J_{i_k}(\theta_k)` and move along their average,
    :math:`\theta_{k+1} = \theta_k - \alpha\frac1n\sum_i y_i`.  One evaluation per step (plus ``n`` to fill
    the table at :math:`\theta_0`).  Theory: :math:`\alpha = 1/(16L_{\max})`; :math:`1/L_{\max}` works in practice.
    """
    return _incremental("sag", problem, theta0, key, step, n_records, record_every, saga=False)


def saga(problem: Problem, theta0, key: jax.Array, *, step: float, n_records: int, record_every: int = 1) -> Run:
    r"""SAGA :cite:`defazio2014saga`: :math:`\theta_{k+1} = \theta_k - \alpha\bigl[\nabla J_{i_k}(\theta_k) - y_{i_k}
    + \frac1n\sum_i y_i\bigr]`, then :math:`y_{i_k} = \nabla J_{i_k}(\theta_k)`; an unbiased estimate whose
    variance vanishes at the optimum.  One evaluation per step (plus ``n`` for the table).  Step
    :math:`1/(3L_{\max})` in theory.
    """
    return _incremental("saga", problem, theta0, key, step, n_records, record_every, saga=True)


# -- SVRG ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("n_epochs",))
def _svrg(problem, theta0, key, step, n_epochs, inner):
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

        th = jax.lax.fori_loop(0, inner, body, th)
        return th, th

    _, thetas = jax.lax.scan(epoch, theta0, jnp.arange(n_epochs))
    return _stack(theta0, thetas)


def svrg(problem: Problem, theta0, key: jax.Array, *, step: float, n_epochs: int, inner: int | None = None) -> Run:
    r"""SVRG :cite:`johnson2013svrg`: each epoch takes a snapshot :math:`\tilde\theta` and its full gradient,
    then ``inner`` steps :math:`\theta \leftarrow \theta - \alpha[\nabla J_i(\theta) - \nabla J_i(\tilde\theta)
    + \nabla J(\tilde\theta)]` (``inner = n`` by default; the last iterate starts the next epoch).
    Records once per epoch; costs ``n + 2 * inner`` evaluations per epoch.  The analysis needs
    ``inner`` of order :math:`\kappa` at least, so use ``inner >= max(n, kappa)`` on ill-conditioned problems.
    """
    theta0 = _start(problem, theta0)
    _checks.positive("step", step)
    n_epochs = _checks.positive_int("n_epochs", n_epochs)
    inner = problem.n if inner is None else _checks.positive_int("inner", inner)
    thetas = _check_run("svrg", _svrg(problem, theta0, key, jnp.asarray(step, theta0.dtype), n_epochs, jnp.asarray(inner)))
    epochs = np.arange(n_epochs + 1)
    return Run(thetas, epochs * (problem.n + 2 * inner), epochs * inner)


@jax.jit
def _grad_sq(problem, thetas):
    flat = thetas.reshape(-1, thetas.shape[-1])
    g = jax.vmap(problem.grad)(flat)
    return jnp.sum(g**2, axis=-1).reshape(thetas.shape[:-1])


def grad_norms(problem: Problem, thetas) -> jax.Array:
    r"""Squared gradient norms :math:`\|\nabla J(\theta)\|^2` of iterates ``(..., d)``: returns ``(...)``."""
    thetas = _checks.last_axis("thetas", thetas, problem.dim)
    return _grad_sq(problem, thetas)


@jax.jit
def _values(problem, thetas):
    return problem.value(thetas)


def values(problem: Problem, thetas) -> jax.Array:
    """Objective values :math:`J(\theta)` of iterates ``(..., d)``: returns ``(...)``."""
    return _values(problem, _checks.last_axis("thetas", thetas, problem.dim))


def default_step(method: str, problem: Problem) -> float:
    r"""The course's step for each method: ``gd`` :math:`1/L`; ``sag`` :math:`1/L_{\max}`;
    ``saga`` :math:`1/(3L_{\max})`; ``svrg`` :math:`1/(5L_{\max})`; ``sgd`` :math:`1/L_{\max}` (initial step)."""
    _checks.one_of("method", method, METHODS)
    if method == "gd":
        return 1.0 / problem.L
    return {"sag": 1.0, "saga": 1 / 3, "svrg": 1 / 5, "sgd": 1.0}[method] / problem.L_max


# ---------------------------------------------------------------------------
# bounds and predictions
# ---------------------------------------------------------------------------


def descent_bound(value: float, grad_sq: float, L: float, step: float, sigma2: float) -> float:
    r"""One-step bound :math:`\mathbb E[J(\theta - \alpha\nabla J_I(\theta))] \le J(\theta) - \frac{\alpha}{2}\|\nabla J(\theta)\|^2
    + \frac{L\alpha^2}{2}\sigma^2(\theta)`, valid for :math:`\alpha \le 1/L` :cite:`pauwels2024intro`."""
    _checks.positive("L", L)
    _checks.positive("step", step)
    return value - 0.5 * step * grad_sq + 0.5 * L * step**2 * sigma2


def nonconvex_bound(k, gap: float, L: float, step: float, sigma2: float):
    r"""Nonconvex SGD rate :cite:`pauwels2024intro,ghadimi2013`: for constant :math:`\alpha \le 1/L`,

    .. math:: \min_{i\le k}\mathbb E\|\nabla J(\theta_i)\|^2 \le \frac1{k+1}\sum_{i=0}^{k}\mathbb E\|\nabla J(\theta_i)\|^2
              \le \frac{2(J(\theta_0) - J^\star)}{(k+1)\alpha} + L\alpha\sigma^2 ,

    with ``gap`` :math:`= J(\theta_0) - J^\star` and :math:`\sigma^2 \ge \sigma^2(\theta_i)` along the run.
    ``k`` may be an array (NumPy, returned with its shape).
    """
    _checks.positive("L", L)
    step = np.asarray(step, dtype=float)
    if np.any(step <= 0):
        raise ValueError(f"step must be positive, got {step!r}")
    k = np.asarray(k, dtype=float)
    return 2.0 * gap / ((k + 1.0) * step) + L * step * sigma2


def optimal_constant_step(k: int, gap: float, L: float, sigma2: float) -> float:
    r"""Constant step minimising :func:`nonconvex_bound` at horizon ``k``:
    :math:`\alpha^\star = \min\bigl(1/L, \sqrt{2(J(\theta_0)-J^\star)/((k+1)L\sigma^2)}\bigr)`; the bound is then
    :math:`2\sqrt{2(J(\theta_0)-J^\star)L\sigma^2/(k+1)}` when the square root is the smaller, an
    :math:`O(1/\sqrt{k})` rate."""
    _checks.positive("L", L)
    _checks.positive("gap", gap)
    if sigma2 <= 0:
        return 1.0 / L
    return float(min(1.0 / L, math.sqrt(2.0 * gap / ((k + 1) * L * sigma2))))


def minibatch_variance(sigma2, n: int, batch, replacement: bool = True):
    r"""Variance :math:`\mathbb E\|g_b - \nabla J\|^2` of a minibatch gradient of size ``batch``:
    :math:`\sigma^2/b` with replacement, :math:`\frac{\sigma^2}{b}\,\frac{n-b}{n-1}` without
    (finite-population correction: zero for :math:`b = n`)."""
    b = np.asarray(batch, dtype=float)
    if np.any(b < 1) or np.any(b > n):
        raise ValueError(f"batch must lie in [1, n = {n}], got {batch!r}")
    v = np.asarray(sigma2, dtype=float) / b
    return v if replacement else v * (n - b) / (n - 1)


def complexity(method: str, n, kappa, eps):
    r"""Bach's table :cite:`bach2025convexity`: individual gradient evaluations to reach error
    :math:`\varepsilon` on a :math:`\mu`-strongly convex finite sum with condition number :math:`\kappa`,
    up to constants: ``"gd"`` :math:`n\kappa\log\frac1\varepsilon`, ``"sgd"`` :math:`\kappa/\varepsilon`,
    ``"vr"`` (SAG, SVRG, SAGA) :math:`(n+\kappa)\log\frac1\varepsilon`, ``"accelerated"``
    :math:`(n+\sqrt{n\kappa})\log\frac1\varepsilon`."""
    _checks.one_of("method", method, ("gd", "sgd", "vr", "accelerated"))
    n, kappa, eps = (np.asarray(v, dtype=float) for v in (n, kappa, eps))
    if np.any(eps <= 0) or np.any(eps >= 1):
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    log = np.log(1.0 / eps)
    if method == "gd":
        return n * kappa * log
    if method == "sgd":
        return kappa / eps
    if method == "vr":
        return (n + kappa) * log
    return (n + np.sqrt(n * kappa)) * log


def evals_to_reach(errors, evals, eps: float) -> float:
    """First number of evaluations at which ``errors`` (``(m,)``, relative) falls below ``eps``; ``inf`` if never."""
    e, c = np.asarray(errors, dtype=float), np.asarray(evals, dtype=float)
    if e.shape != c.shape or e.ndim != 1:
        raise ValueError(f"errors and evals must be 1-D of the same length, got {e.shape} and {c.shape}")
    hit = np.nonzero(e <= eps)[0]
    return float(c[hit[0]]) if hit.size else math.inf


# ---------------------------------------------------------------------------
# experiments shared by the chapter, its tests and the widget
# ---------------------------------------------------------------------------


class GradCurve(NamedTuple):
    r"""Mean squared gradient norm of SGD over many runs, against the nonconvex bound.

    ``k`` ``(m+1,)`` iteration counts; ``mean_sq`` :math:`\mathbb E\|\nabla J(\theta_k)\|^2` (average over
    runs); ``running_min`` :math:`\min_{i\le k}` of it; ``running_avg`` the average over the recorded
    :math:`i \le k`; ``bound`` :func:`nonconvex_bound` at each ``k`` with ``sigma2`` (the largest exact
    :math:`\sigma^2(\theta)/b + s^2 d` met along the runs) and ``gap`` :math:`J(\theta_0) - J^\star`.
    """

    k: np.ndarray
    mean_sq: np.ndarray
    running_min: np.ndarray
    running_avg: np.ndarray
    bound: np.ndarray
    sigma2: float
    gap: float


def sgd_grad_curve(problem: Problem, theta0, key: jax.Array, *, step: float, n_steps: int, n_runs: int,
                   j_star: float, batch: int = 1, batch_max: int | None = None, noise: float = 0.0,
                   record_every: int = 1) -> GradCurve:
    """Run ``n_runs`` SGD chains (constant ``step``, minibatch ``batch``, extra noise ``noise``) and return
    their :class:`GradCurve`.  ``j_star`` is :math:`J^\\star` (or a lower estimate).  Every argument but
    ``n_steps``, ``n_runs``, ``batch_max`` and ``record_every`` is traced: no recompilation."""
    n_steps = _checks.positive_int("n_steps", n_steps)
    record_every = _checks.positive_int("record_every", record_every)
    if n_steps % record_every:
        raise ValueError(f"n_steps must be a multiple of record_every, got {n_steps} and {record_every}")
    run = sgd(problem, theta0, key, step=step, n_records=n_steps // record_every, record_every=record_every,
              batch=batch, batch_max=batch_max, noise=noise, n_runs=n_runs)
    g2 = np.asarray(grad_norms(problem, run.thetas), dtype=np.float64).mean(0)
    sub = run.thetas[:, :: max(1, run.thetas.shape[1] // 20)].reshape(-1, problem.dim)
    var = float(jnp.max(jax.vmap(problem.variance)(sub)))
    sigma2 = var / batch + noise**2 * problem.dim
    gap = float(problem.value(jnp.asarray(theta0))) - float(j_star)
    k = run.steps.astype(float)
    avg = np.cumsum(g2) / np.arange(1, len(g2) + 1)
    return GradCurve(k, g2, np.minimum.accumulate(g2), avg, nonconvex_bound(k, gap, problem.L, step, sigma2),
                     sigma2, gap)


def relative_errors(run: Run, theta_star) -> np.ndarray:
    r"""Relative squared distances :math:`\|\theta_k-\theta^\star\|^2/\|\theta_0-\theta^\star\|^2` of a run (float64, ``(..., m+1)``)."""
    th = np.asarray(run.thetas, dtype=np.float64)
    ts = np.asarray(theta_star, dtype=np.float64)
    e = np.sum((th - ts) ** 2, axis=-1)
    return e / e[..., :1]


def run_method(method: str, problem: Problem, key: jax.Array, budget: float, *, n_points: int = 60,
               theta0=None) -> Run:
    """Run ``method`` (one of ``gd, sgd, sag, saga, svrg``) from ``theta0`` (zeros by default) with its
    :func:`default_step` for about ``budget`` gradient evaluations, recording about ``n_points`` iterates.
    SGD uses the decaying step :math:`\\alpha_k = 1/(\\mu(k + k_0))` with :math:`k_0 = 2\\kappa`
    (the classical strongly convex schedule, error :math:`O(\\kappa/k)`)."""
    _checks.one_of("method", method, METHODS)
    n = problem.n
    theta0 = jnp.zeros(problem.dim) if theta0 is None else theta0
    m = _checks.positive_int("n_points", n_points)
    if method == "gd":
        every = max(1, int(budget / n / m))
        return gd(problem, theta0, step=default_step("gd", problem), n_records=m, record_every=every)
    if method == "svrg":   # inner loop of length max(n, 2 kappa), as the analysis requires
        inner = int(max(n, 2 * problem.kappa))
        return svrg(problem, theta0, key, step=default_step("svrg", problem), inner=inner,
                    n_epochs=max(1, int(budget / (n + 2 * inner))))
    every = max(1, int(budget / m))
    if method == "sgd":
        k0 = 2.0 * problem.kappa
        return sgd(problem, theta0, key, step=1.0 / (problem.mu * k0), n_records=m, record_every=every,
                   power=1.0, offset=k0)
    fn = sag if method == "sag" else saga
    return fn(problem, theta0, key, step=default_step(method, problem), n_records=m, record_every=every)
