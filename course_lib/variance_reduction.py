r"""Recursive variance reduction on nonconvex finite sums: SARAH, SPIDER, STORM (and SVRG, SGD for comparison).

The problem is a :class:`course_lib.stochastic.Problem`,
:math:`J(\theta) = \frac1n\sum_{i=1}^n J_i(\theta)`, possibly nonconvex (its ``ncvx`` term).
SAG, SAGA and SVRG (:mod:`course_lib.stochastic`) correct a stochastic gradient with a
*stored* one; the methods here keep a running estimate :math:`v_k \approx \nabla J(\theta_k)` and
update it *recursively* with differences of component gradients at two consecutive iterates,

.. math::

    v_k = v_{k-1} + \frac1b\sum_{i\in B_k}\bigl(\nabla J_i(\theta_k) - \nabla J_i(\theta_{k-1})\bigr),

whose error grows only like :math:`\sum_j L^2\|\theta_j - \theta_{j-1}\|^2/b` between two restarts
(each difference is small when the steps are small), instead of like the variance of one gradient.

* :func:`sarah` -- SARAH :cite:`nguyen2017sarah`: restart :math:`v` with a full gradient every ``q``
  steps, one component (``b = 1``) otherwise, constant step :math:`\theta_{k+1} = \theta_k - \alpha v_k`.
* :func:`spider` -- SPIDER-SFO :cite:`fang2018spider`: the same estimator with minibatches ``b``,
  restarts on the full gradient (finite sum) or on a minibatch of size ``restart_batch`` (online), and a
  *normalised* step :math:`\theta_{k+1} = \theta_k - \min(\alpha, r/\|v_k\|)\,v_k` (moves of length at most
  :math:`r`, the :math:`\varepsilon/(Ln_0)` of the paper).
* :func:`storm` -- STORM :cite:`cutkosky2019storm`: no restarts and no large batches; a momentum
  :math:`d_k = \nabla J_{i_k}(\theta_k) + (1-a)\,(d_{k-1} - \nabla J_{i_k}(\theta_{k-1}))` (the same sample
  at both points), :math:`\theta_{k+1} = \theta_k - \alpha d_k`.
* :func:`svrg` -- SVRG :cite:`johnson2013svrg` in the same loop (a snapshot and its full gradient every
  ``q`` steps), and :func:`sgd`, so that all five are compared on the same runs and the same counts.

Complexities to reach :math:`\mathbb E\|\nabla J(\hat\theta)\| \le \varepsilon` for an :math:`L`-smooth
(every :math:`J_i` :math:`L`-smooth, on average for SPIDER/STORM), bounded-below :math:`J`, gradient
variance at most :math:`\sigma^2` (:func:`complexity`): SGD :math:`O(1/\varepsilon^4)`
:cite:`ghadimi2013`; SVRG :math:`O(n + n^{2/3}/\varepsilon^2)` :cite:`reddi2016svrg`;
SARAH/SPIDER on a finite sum :math:`O(n + \sqrt n/\varepsilon^2)`; SPIDER and STORM online (no
full gradients, :math:`n` infinite) :math:`O(1/\varepsilon^3)`.  The last two need the *mean-squared*
smoothness :math:`\mathbb E\|\nabla J_i(x)-\nabla J_i(y)\|^2 \le L^2\|x-y\|^2`, which least squares
with a bounded regulariser satisfies.

Every method runs ``n_runs`` independent chains (``vmap`` over keys split from the explicit ``key``) in
one jitted ``lax.scan``; the step, momentum, restart period and radius are traced (no recompilation);
``batch``, ``n_records`` and ``n_runs`` are static.  Each returns a :class:`course_lib.stochastic.Run`
(``thetas`` ``(n_runs, m+1, d)``) whose ``evals`` count **component-gradient evaluations**: a full
gradient costs ``n``, a difference :math:`\nabla J_i(\theta_k) - \nabla J_i(\theta_{k-1})` costs 2.
"""

from __future__ import annotations

import inspect
import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from . import stochastic as st
from .stochastic import Problem, Run

__all__ = ["sarah", "spider", "storm", "svrg", "sgd", "grad_norm_curve", "evals_to_eps", "complexity",
           "Comparison", "compare", "METHODS"]

METHODS = ("sgd", "svrg", "sarah", "spider", "storm")


def _batch_grad(problem: Problem, theta: jax.Array, idx: jax.Array) -> jax.Array:
    r"""Minibatch gradient :math:`\frac1b\sum_{i\in idx}\nabla J_i(\theta)`: ``(d,)``, idx ``(b,)``."""
    A, b = problem.base.features[idx], problem.base.targets[idx]
    return A.T @ problem.dloss(A @ theta, b) / idx.shape[0] + problem.reg_grad(theta)


# estimator codes of the one loop below (static)
_SARAH, _SVRG, _STORM = 0, 1, 2


# XLA's optimisation level 1: about half the compilation of the default for the same run time here
@partial(jax.jit, static_argnames=("kind", "batch", "restart_batch", "n_records", "n_runs"),
         compiler_options={"xla_backend_optimization_level": 1})
def _loop(problem, theta0, key, step, radius, momentum, offset, period, record_every, *, kind, batch, restart_batch,
          n_records, n_runs):
    n = problem.n

    def one_chain(kk):
        kk, kbig = jax.random.split(kk)

        def restart(th, k, _):
            # full gradient (restart_batch == 0) or an i.i.d. minibatch of size restart_batch (online)
            if restart_batch == 0:
                return problem.grad(th)
            return _batch_grad(problem, th, jax.random.randint(jax.random.fold_in(kbig, k), (restart_batch,), 0, n))

        def body(k, state):
            th, prev, v, snap, mu_snap = state
            idx = jax.random.randint(jax.random.fold_in(kk, k), (batch,), 0, n)
            if kind == _STORM:
                g_new = _batch_grad(problem, th, idx)
                a = jnp.minimum(momentum * (offset / (offset + k)) ** (2.0 / 3.0), 1.0)   # a_k = a (alpha_k/alpha)^2
                v = jax.lax.cond(k == 0, lambda: restart(th, k, kk),
                                 lambda: g_new + (1.0 - a) * (v - _batch_grad(problem, prev, idx)))
            elif kind == _SARAH:
                v = jax.lax.cond(k % period == 0, lambda: restart(th, k, kk),
                                 lambda: v + _batch_grad(problem, th, idx) - _batch_grad(problem, prev, idx))
            else:  # SVRG: snapshot and its full gradient every `period` steps
                snap, mu_snap = jax.lax.cond(k % period == 0, lambda: (th, restart(th, k, kk)),
                                             lambda: (snap, mu_snap))
                v = _batch_grad(problem, th, idx) - _batch_grad(problem, snap, idx) + mu_snap
            nv = jnp.linalg.norm(v)
            alpha = jnp.minimum(step, radius / jnp.maximum(nv, 1e-30))   # radius = inf: constant step
            if kind == _STORM:
                alpha = step * (offset / (offset + k)) ** (1.0 / 3.0)
            return th - alpha * v, th, v, snap, mu_snap

        def chunk(state, r):
            state = jax.lax.fori_loop(r * record_every, (r + 1) * record_every, body, state)
            return state, state[0]

        z = jnp.zeros_like(theta0)
        _, thetas = jax.lax.scan(chunk, (theta0, theta0, z, theta0, z), jnp.arange(n_records))
        return jnp.concatenate([theta0[None], thetas], axis=0)

    return jax.vmap(one_chain)(jax.random.split(key, n_runs))


def _evals(kind: int, steps: np.ndarray, n: int, batch: int, restart_batch: int, period: int) -> np.ndarray:
    """Component-gradient evaluations spent before step ``steps`` (NumPy, exact)."""
    big = n if restart_batch == 0 else restart_batch
    if kind == _STORM:
        return np.where(steps > 0, big + 2 * batch * (steps - 1), 0)
    restarts = -(-steps // period)                       # steps 0, q, 2q, ... before `steps`
    if kind == _SARAH:
        return restarts * big + 2 * batch * (steps - restarts)
    return restarts * big + 2 * batch * steps            # SVRG: two evaluations at every step


def _run(name, kind, problem, theta0, key, *, step, radius=math.inf, momentum=0.0, offset=1.0, period=1, batch=1,
         restart_batch=0, n_records, record_every, n_runs) -> Run:
    theta0 = st._start(problem, theta0)
    _checks.prng_key("key", key)
    _checks.positive("step", step)
    if not (isinstance(radius, (float, int)) and not isinstance(radius, bool) and radius == math.inf):
        _checks.positive("radius", radius)   # radius = inf: no normalisation
    n_records = _checks.positive_int("n_records", n_records)
    record_every = _checks.positive_int("record_every", record_every)
    n_runs = _checks.positive_int("n_runs", n_runs)
    period = _checks.positive_int("period", period)
    batch = _checks.positive_int("batch", batch)
    _checks.positive("offset", offset)
    _checks.in_range("momentum", momentum, 0.0, 1.0)
    if batch > problem.n:
        raise ValueError(f"batch must be <= n = {problem.n}, got {batch}")
    restart_batch = 0 if restart_batch is None else _checks.nonnegative_int("restart_batch", restart_batch)
    big = problem.n if restart_batch == 0 else restart_batch
    _checks.work_size(f"{name}: n_records={n_records} x record_every={record_every} steps x n_runs={n_runs} "
                      f"(batch={batch}, restart_batch={restart_batch or None}, period={period}) in dimension "
                      f"{problem.dim}", steps=n_records * record_every,
                      size=n_runs * problem.dim * (2 * batch + big / period),
                      record_bytes=4.0 * n_runs * (n_records + 1) * problem.dim)
    dt = theta0.dtype
    thetas = _loop(problem, theta0, key, jnp.asarray(step, dt), jnp.asarray(radius, dt), jnp.asarray(momentum, dt),
                   jnp.asarray(offset, dt), jnp.asarray(period), jnp.asarray(record_every), kind=kind, batch=batch,
                   restart_batch=restart_batch, n_records=n_records, n_runs=n_runs)
    thetas = st._check_run(name, thetas)
    steps = np.arange(n_records + 1) * record_every
    return Run(thetas, _evals(kind, steps, problem.n, batch, restart_batch, period), steps)


def sarah(problem: Problem, theta0, key: jax.Array, *, step: float, period: int | None = None, n_records: int,
          record_every: int = 1, n_runs: int = 1) -> Run:
    r"""SARAH :cite:`nguyen2017sarah`: at steps :math:`k \equiv 0 \bmod q` (``period``, default ``n``)
    :math:`v_k = \nabla J(\theta_k)` (``n`` evaluations); otherwise, with one uniform index :math:`i_k`,

    .. math:: v_k = \nabla J_{i_k}(\theta_k) - \nabla J_{i_k}(\theta_{k-1}) + v_{k-1}

    (2 evaluations), and :math:`\theta_{k+1} = \theta_k - \alpha v_k`.  The estimator is biased
    (:math:`\mathbb E[v_k] \ne \nabla J(\theta_k)`) but its error stays of order
    :math:`\alpha^2 L^2\sum\|v_j\|^2` within an epoch.  With :math:`\alpha = O(1/(L\sqrt q))` and
    :math:`q = n` it needs :math:`O(n + \sqrt n L\Delta/\varepsilon^2)` evaluations for
    :math:`\mathbb E\|\nabla J\|\le\varepsilon` on a nonconvex finite sum (the SARAH/SPIDER bound,
    :cite:`fang2018spider`).  ``thetas`` ``(n_runs, m+1, d)``."""
    period = problem.n if period is None else period
    return _run("sarah", _SARAH, problem, theta0, key, step=step, period=period, n_records=n_records,
                record_every=record_every, n_runs=n_runs)


def spider(problem: Problem, theta0, key: jax.Array, *, step: float, radius: float, batch: int,
           period: int, restart_batch: int | None = None, n_records: int, record_every: int = 1,
           n_runs: int = 1) -> Run:
    r"""SPIDER-SFO :cite:`fang2018spider`: every ``period`` :math:`q` steps :math:`v_k` is the full gradient
    (``restart_batch=None``, finite sum) or the average of ``restart_batch`` :math:`S_1` i.i.d. component
    gradients (online); otherwise, with ``batch`` :math:`S_2` i.i.d. indices :math:`B_k`,
    :math:`v_k = v_{k-1} + \frac1{S_2}\sum_{i\in B_k}(\nabla J_i(\theta_k) - \nabla J_i(\theta_{k-1}))`.
    The step is normalised,

    .. math:: \theta_{k+1} = \theta_k - \min\Bigl(\alpha, \frac{r}{\|v_k\|}\Bigr) v_k,

    the paper's :math:`\eta_k = \min(\varepsilon/(Ln_0\|v_k\|), 1/(2Ln_0))` with ``step``
    :math:`\alpha = 1/(2Ln_0)` and ``radius`` :math:`r = \varepsilon/(Ln_0)`.  With :math:`q = S_2 = \sqrt n`
    it costs :math:`O(n + \sqrt n\,L\Delta/\varepsilon^2)` evaluations on a finite sum; online, with
    :math:`S_1 = 2\sigma^2/\varepsilon^2` and :math:`q = S_2 = \sigma/\varepsilon`,
    :math:`O(L\Delta\sigma/\varepsilon^3 + \sigma^2/\varepsilon^2)`."""
    return _run("spider", _SARAH, problem, theta0, key, step=step, radius=radius, period=period, batch=batch,
                restart_batch=restart_batch, n_records=n_records, record_every=record_every, n_runs=n_runs)


def storm(problem: Problem, theta0, key: jax.Array, *, step: float, momentum: float, offset: float = 1.0,
          batch: int = 1, restart_batch: int | None = None, n_records: int, record_every: int = 1,
          n_runs: int = 1) -> Run:
    r"""STORM :cite:`cutkosky2019storm`: :math:`d_0` a full gradient (``restart_batch=None``) or a minibatch
    of ``restart_batch`` gradients, then, with the *same* indices :math:`B_k` at both points,

    .. math:: d_k = \nabla J_{B_k}(\theta_k) + (1-a_k)\bigl(d_{k-1} - \nabla J_{B_k}(\theta_{k-1})\bigr),
              \qquad \theta_{k+1} = \theta_k - \alpha_k d_k,

    a momentum (:math:`a = 1`: SGD) whose correction term makes the estimation error contract by
    :math:`(1-a_k)` per step, up to :math:`a_k^2\sigma^2 + L^2\alpha_{k-1}^2\|d_{k-1}\|^2`.  The paper adapts
    :math:`\alpha_k = c/(w+\sum_{j\le k}\|\nabla J_{i_j}(\theta_j)\|^2)^{1/3}` and :math:`a_{k+1} = c'\alpha_k^2`;
    here the sum of squared gradients is replaced by its growth :math:`\propto k`, so
    :math:`\alpha_k = \alpha\,(k_0/(k_0+k))^{1/3}` and :math:`a_k = \min(1, a\,(\alpha_k/\alpha)^2)` (``step``
    :math:`\alpha`, ``momentum`` :math:`a\in[0,1]`, ``offset`` :math:`k_0`), the schedule of its
    :math:`O(1/\varepsilon^3)` bound (no full gradients, no large batches).  ``2 * batch`` evaluations per step."""
    return _run("storm", _STORM, problem, theta0, key, step=step, momentum=momentum, offset=offset, batch=batch,
                restart_batch=restart_batch, n_records=n_records, record_every=record_every, n_runs=n_runs)


def svrg(problem: Problem, theta0, key: jax.Array, *, step: float, period: int | None = None, batch: int = 1,
         n_records: int, record_every: int = 1, n_runs: int = 1) -> Run:
    r"""SVRG :cite:`johnson2013svrg` in the loop of :func:`sarah`: every ``period`` steps (default ``n``) a
    snapshot :math:`\tilde\theta` and :math:`\nabla J(\tilde\theta)`; otherwise
    :math:`v_k = \nabla J_{B_k}(\theta_k) - \nabla J_{B_k}(\tilde\theta) + \nabla J(\tilde\theta)`, unbiased,
    :math:`\theta_{k+1} = \theta_k - \alpha v_k`.  Nonconvex: :math:`O(n + n^{2/3}/\varepsilon^2)` with
    :math:`\alpha \propto 1/(Ln^{2/3})` and minibatches :cite:`reddi2016svrg`.  (The snapshot's gradient is
    recomputed at each step: 2 evaluations per step, as in :func:`course_lib.stochastic.svrg`.)"""
    period = problem.n if period is None else period
    return _run("svrg", _SVRG, problem, theta0, key, step=step, period=period, batch=batch, n_records=n_records,
                record_every=record_every, n_runs=n_runs)


def sgd(problem: Problem, theta0, key: jax.Array, *, step: float, power: float = 0.5, offset: float = 1.0,
        n_records: int, record_every: int = 1, n_runs: int = 1) -> Run:
    r"""SGD with single examples and steps :math:`\alpha_k = \alpha(k_0/(k_0+k))^p` (:func:`course_lib.stochastic.sgd`);
    :math:`p = 1/2` reaches :math:`\min_k\mathbb E\|\nabla J(\theta_k)\|\le\varepsilon` in
    :math:`\tilde O(1/\varepsilon^4)` steps :cite:`ghadimi2013`.  One evaluation per step."""
    return st.sgd(problem, theta0, key, step=step, power=power, offset=offset, n_records=n_records,
                  record_every=record_every, n_runs=_checks.positive_int("n_runs", n_runs))


def grad_norm_curve(problem: Problem, run: Run) -> np.ndarray:
    r"""Running minimum over recorded :math:`i \le k` of :math:`\mathbb E\|\nabla J(\theta_i)\|` (mean over the
    runs' axis 0 when ``thetas`` is ``(n_runs, m+1, d)``): ``(m+1,)`` float64."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a course_lib.stochastic.Problem, got {type(problem).__name__}")
    if not isinstance(run, Run):
        raise ValueError(f"run must be a course_lib.stochastic.Run (the result of sarah, spider, ...), got "
                         f"{type(run).__name__}")
    g = np.sqrt(np.asarray(st.grad_norms(problem, run.thetas), dtype=np.float64))
    if g.ndim == 2:
        g = g.mean(0)
    return np.minimum.accumulate(g)


def evals_to_eps(curve, evals, eps) -> np.ndarray:
    r"""Evaluations at which ``curve`` (from :func:`grad_norm_curve`) first falls to each ``eps`` (``inf`` if never)."""
    curve = np.asarray(_checks.finite_array("curve", curve, ndim=1), dtype=np.float64)
    evals = np.asarray(_checks.finite_array("evals", evals, ndim=1), dtype=np.float64)
    if evals.shape != curve.shape:
        raise ValueError(f"evals must have the shape of curve {curve.shape}, got {evals.shape}")
    eps = _checks.real_array("eps", eps, low=0.0, low_open=True)
    return np.array([st.evals_to_reach(curve, evals, float(e)) for e in np.atleast_1d(eps)])


def complexity(method: str, n, eps):
    r"""The shape of the predicted number of evaluations for :math:`\mathbb E\|\nabla J\| \le \varepsilon` (constants
    :math:`L\Delta`, :math:`\sigma` set to 1; multiply by a constant to compare with measurements):
    ``"sgd"`` :math:`\varepsilon^{-4}`; ``"svrg"`` :math:`n + n^{2/3}\varepsilon^{-2}`; ``"sarah"``/``"spider"``
    :math:`n + \sqrt n\,\varepsilon^{-2}` (finite sum); ``"storm"``/``"online"`` :math:`\varepsilon^{-3}`."""
    _checks.one_of("method", method, METHODS + ("online",))
    n = _checks.positive_int("n", n)
    eps = _checks.real_array("eps", eps, low=0.0, low_open=True)
    if method == "sgd":
        return eps ** -4.0
    if method == "svrg":
        return n + n ** (2 / 3) * eps ** -2.0
    if method in ("sarah", "spider"):
        return n + math.sqrt(n) * eps ** -2.0
    return eps ** -3.0


class Comparison(NamedTuple):
    """Result of :func:`compare`: ``eps`` ``(E,)``; ``evals[m]`` ``(E,)`` the measured evaluations of method
    ``m`` to reach each ``eps``; ``curves[m]`` (evaluations, running min of :math:`\\mathbb E\\|\\nabla J\\|`)."""

    eps: np.ndarray
    evals: dict
    curves: dict


def compare(problem: Problem, theta0, key: jax.Array, eps, *, budget: int, n_runs: int = 16, n_points: int = 200,
            params: dict | None = None) -> Comparison:
    r"""Run SGD, SVRG, SARAH, SPIDER and STORM (``n_runs`` chains each, about ``budget`` evaluations, about
    ``n_points`` records) and read off the evaluations to reach :math:`\mathbb E\|\nabla J\|\le\varepsilon`.

    Default parameters (``L`` the smoothness constant, overridable per method through ``params``):
    SGD :math:`\alpha_k = \frac{1}{2L}(1+k)^{-1/2}`; SVRG :math:`\alpha = 1/(3Ln^{2/3})` period ``n``;
    SARAH :math:`\alpha = 1/(4L)`, period ``n``; SPIDER batch and period :math:`\sqrt n`,
    :math:`\alpha = 1/(2L)` and radius :math:`\varepsilon/L` (one run per :math:`\varepsilon`, the paper's
    protocol); STORM online (first batch :math:`\sqrt n`), :math:`\alpha = 1/(2L)`, :math:`a = 1`,
    :math:`k_0 = 20`; ``curves["spider"]`` is the run for the smallest :math:`\varepsilon`."""
    theta0 = st._start(problem, theta0)
    _checks.prng_key("key", key)
    eps = _checks.real_array("eps", eps, low=0.0, low_open=True)
    budget = _checks.positive_int("budget", budget)
    n_runs = _checks.positive_int("n_runs", n_runs)
    n_points = _checks.positive_int("n_points", n_points)
    _checks.work_size(f"compare(budget={budget}, n_runs={n_runs}) in dimension {problem.dim}",
                      steps=budget * (2 + eps.size), size=n_runs * problem.dim)
    if params is not None:
        if not isinstance(params, dict):
            raise ValueError(f"params must be a dict {{method: {{argument: value}}}}, got {type(params).__name__}")
        for m, kw in params.items():
            _checks.one_of("params key", m, METHODS)
            if not isinstance(kw, dict):
                raise ValueError(f"params[{m!r}] must be a dict of keyword arguments, got {type(kw).__name__}")
    n, L = problem.n, problem.L
    sq = max(1, int(round(math.sqrt(n))))
    defaults = {
        "sgd": dict(step=1 / (2 * L)),
        "svrg": dict(step=1 / (3 * L * n ** (1 / 3)), period=n),
        "sarah": dict(step=1 / (4 * L), period=n),
        "spider": dict(step=1 / (2 * L), batch=sq, period=sq),
        "storm": dict(step=1 / (2 * L), momentum=1.0, offset=20.0, restart_batch=sq),
    }
    per_step = {"sgd": 1.0, "svrg": 3.0, "sarah": 3.0, "spider": 2.0 * sq + n / sq, "storm": 2.0}
    fns = {"sgd": sgd, "svrg": svrg, "sarah": sarah, "spider": spider, "storm": storm}
    for m, kw in (params or {}).items():
        allowed = (set(inspect.signature(fns[m]).parameters) - {"problem", "theta0", "key", "n_records", "record_every",
                                                                 "n_runs"} - ({"radius"} if m == "spider" else set()))
        unknown = sorted(set(kw) - allowed)
        if unknown:
            raise ValueError(f"params[{m!r}] has unknown argument(s) {unknown}; {m} takes {sorted(allowed)}")
    evals, curves = {}, {}
    for i, m in enumerate(METHODS):
        kw = {**defaults[m], **(params or {}).get(m, {})}
        steps = max(1, int(budget / per_step[m]))
        every = max(1, steps // n_points)
        go = partial(fns[m], problem, theta0, jax.random.fold_in(key, i), n_records=max(1, steps // every),
                     record_every=every, n_runs=n_runs)
        if m == "spider":   # the radius is eps / L: one run per eps (traced: no recompilation)
            runs = [go(radius=float(e) / L, **kw) for e in eps]
            cs = [grad_norm_curve(problem, r) for r in runs]
            evals[m] = np.array([evals_to_eps(c, r.evals, e)[0] for c, r, e in zip(cs, runs, eps)])
            run, c = runs[-1], cs[-1]
        else:
            run = go(**kw)
            c = grad_norm_curve(problem, run)
            evals[m] = evals_to_eps(c, run.evals, eps)
        curves[m] = (np.asarray(run.evals, dtype=float), c)
    return Comparison(eps, evals, curves)
