r"""The chapter "The ODE method" (``book/ode.md``): its studies, toy set-ups and widget.

Each function runs one experiment of the chapter on the concept modules
(:mod:`course_lib.ode` for flows and schemes, :mod:`course_lib.simulate` for
noisy iterations) and returns the numbers the chapter plots against a
prediction; the chapter's tests (``tests/test_ode_chapter.py``) assert the same
comparisons at a small size.

* :func:`tracking_study`, :func:`window_study` -- stochastic approximation
  against the flow, on a fixed horizon and on moving windows;
* :class:`Kink`, :func:`kink_objective`, :func:`kink_subgradient`,
  :func:`kink_filippov_solution` -- a quadratic plus :math:`w|\theta_2|`, whose
  flow reaches the kink and slides along it, in closed form; :func:`kink_study`
  -- the subgradient method (:func:`course_lib.ode.euler`) against it;
* :func:`heavy_ball_study` -- the heavy ball against its second-order ODE;
* :func:`sde_study` -- SGD against its SDE on a quadratic (coupled paths);
* :func:`double_well_field`, :func:`escape_study` -- same covariance,
  different noise laws: moments agree, escape times do not;
* :func:`draw_tracking` -- the chapter's widget.
"""

from __future__ import annotations

import dataclasses
import functools
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks, simulate
from .. import noise as _noise
from ..ode import (
    Field,
    _euler,
    _field,
    _finite,
    _flow_at,
    _hb,
    _point,
    _quad_args,
    _sa,
    _steps,
    _windows,
    flow,
    gradient_field,
    heavy_ball_flow,
    heavy_ball_scaling,
    interpolate,
    quadratic_sde_moments,
    quadratic_sgd_moments,
    stochastic_approximation,
    tracking_error,
    window_errors,
)

__all__ = [
    "Kink",
    "kink_objective",
    "kink_subgradient",
    "kink_filippov_solution",
    "tracking_study",
    "window_study",
    "heavy_ball_study",
    "kink_study",
    "sde_study",
    "double_well_field",
    "escape_study",
    "draw_tracking",
]


class Kink(NamedTuple):
    r""":math:`J(\theta) = \tfrac12\theta^\top A\theta - b^\top\theta + w\,|\theta_2|` on :math:`\mathbb R^2`; ``A`` ``(2, 2)`` SPD, ``b`` ``(2,)``, ``w > 0``."""

    A: jax.Array
    b: jax.Array
    w: float


def _kink(problem: Any) -> Kink:
    if not isinstance(problem, Kink):
        raise ValueError(f"problem must be a Kink(A, b, w), got {type(problem).__name__}")
    return problem


def kink_objective(theta: Any, problem: Kink) -> jax.Array:
    r""":math:`J(\theta)` of a :class:`Kink`; ``theta`` ``(..., 2)`` -> ``(...)``."""
    A, b, w = _kink(problem)
    theta = _checks.last_axis("theta", theta, 2)
    return 0.5 * jnp.einsum("...i,ij,...j->...", theta, A, theta) - theta @ b + w * jnp.abs(theta[..., 1])


def kink_subgradient(theta: Any, problem: Kink) -> jax.Array:
    r"""The subgradient :math:`A\theta - b + w\,\operatorname{sign}(\theta_2)\,e_2\in\partial^c J(\theta)`; ``(2,)`` -> ``(2,)``.

    On the kink (:math:`\theta_2 = 0`) it picks :math:`\operatorname{sign}(0)=0`.
    The subgradient method is :func:`course_lib.ode.euler` with the field ``-kink_subgradient``.
    """
    A, b, w = _kink(problem)
    theta = _checks.last_axis("theta", theta, 2)
    return theta @ A.T - b + w * jnp.sign(theta[..., 1])[..., None] * jnp.array([0.0, 1.0], dtype=theta.dtype)


def _hit_time(c0: float, c: np.ndarray, lam: np.ndarray, t_max: float) -> float | None:
    """First root of y(t) = c0 + sum_i c_i exp(-lam_i t) on (0, t_max], or None (float64 bisection)."""
    y = lambda t: c0 + np.sum(c * np.exp(-lam * t))  # noqa: E731
    grid = np.linspace(0.0, t_max, 20001)
    vals = np.array([y(t) for t in grid])
    sign0 = np.sign(vals[0])
    change = np.nonzero(np.sign(vals[1:]) != sign0)[0]
    if change.size == 0:
        return None
    lo, hi = grid[change[0]], grid[change[0] + 1]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.sign(y(mid)) == sign0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def kink_filippov_solution(problem: Kink, x0: Any, ts: Any) -> jax.Array:
    r"""The exact solution of :math:`\dot\theta\in-\partial^c J(\theta)` for a :class:`Kink`, at the times ``ts``.

    Off the kink the inclusion is the linear ODE
    :math:`\dot\theta = -(A\theta - b) - w s e_2`, :math:`s = \operatorname{sign}\theta_2`,
    solved in closed form, :math:`\theta(t) = \theta^\star_s + e^{-At}(\theta_0 - \theta^\star_s)`
    with :math:`A\theta^\star_s = b - ws e_2`; the time it reaches
    :math:`\theta_2 = 0` is found by bisection in float64.  On the kink, when
    :math:`|(A\theta - b)_2|\le w`, the Filippov solution *slides*: the
    velocity is the convex combination of the two one-sided fields that is
    tangent to the line, here :math:`\dot\theta_1 = -(A_{11}\theta_1 - b_1)`,
    :math:`\theta_2 = 0`, so
    :math:`\theta_1(t) = \tfrac{b_1}{A_{11}} + e^{-A_{11}(t-\tau)}(\theta_1(\tau) - \tfrac{b_1}{A_{11}})`
    (it is also the minimal-norm element of :math:`-\partial^c J`).
    ``x0``: ``(2,)``; ``ts``: ``(m,)`` non-negative.  Returns ``(m, 2)``.
    Raises ``ValueError`` if the flow crosses the kink instead of sliding.
    """
    A, b, w = _kink(problem)
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    w = float(w)
    if A.shape != (2, 2) or b.shape != (2,) or not np.allclose(A, A.T) or np.linalg.eigvalsh(A).min() <= 0:
        raise ValueError("problem.A must be a symmetric positive definite (2, 2) matrix and problem.b of shape (2,)")
    _checks.positive("problem.w", w)
    x0 = np.asarray(_point("x0", x0), dtype=float)
    if x0.shape != (2,):
        raise ValueError(f"x0 must have shape (2,), got {x0.shape}")
    ts_j = _checks.finite_array("ts", ts, ndim=1)
    tq = np.asarray(ts_j, dtype=float)
    if np.any(tq < 0):
        raise ValueError("ts must be non-negative")
    lam, U = np.linalg.eigh(A)
    out = np.zeros((tq.size, 2))
    tau, x_hit = 0.0, x0.copy()
    if x0[1] != 0.0:
        s = np.sign(x0[1])
        star = np.linalg.solve(A, b - w * s * np.array([0.0, 1.0]))
        coef = U.T @ (x0 - star)  # theta(t) = star + U diag(exp(-lam t)) coef

        def theta(t):
            return star + U @ (np.exp(-lam * t) * coef)

        t_max = float(tq.max()) + 40.0 / lam.min()  # theta(t) is within e^-40 of star by then
        hit = _hit_time(star[1], U[1] * coef, lam, t_max)
        tau = np.inf if hit is None else hit
        before = tq < tau
        out[before] = np.array([theta(t) for t in tq[before]]).reshape(-1, 2)
        if hit is None:
            return jnp.asarray(out, dtype=ts_j.dtype)
        x_hit = np.array([theta(tau)[0], 0.0])
    x1s = b[0] / A[0, 0]
    for x1 in (x_hit[0], x1s):  # the normal component is affine in theta_1: check both ends
        if abs(A[1, 0] * x1 - b[1]) > w * (1 + 1e-12):
            raise ValueError(
                f"the flow crosses the kink at theta_1 = {x1:.4g} (|(A theta - b)_2| > w): no sliding solution"
            )
    after = tq >= tau
    out[after, 0] = x1s + np.exp(-A[0, 0] * (tq[after] - tau)) * (x_hit[0] - x1s)
    out[after, 1] = 0.0
    return jnp.asarray(out, dtype=ts_j.dtype)


def _padded(step_sizes: Any, horizon: float, dtype: Any) -> tuple[jax.Array, np.ndarray]:
    """Constant-step sequences for several step sizes, zero-padded to one length (one compilation for all).

    Row ``i`` holds ``round(horizon / a_i)`` copies of ``a_i`` then zeros (a zero step changes nothing).
    Returns ``(steps (m, K_max), counts (m,))``.
    """
    a = np.asarray(step_sizes, dtype=float)
    if a.ndim != 1 or a.size < 1 or np.any(a <= 0) or not np.all(np.isfinite(a)):
        raise ValueError(f"step_sizes must be a non-empty 1-D array of positive numbers, got {step_sizes!r}")
    _checks.positive("horizon", horizon)
    counts = np.maximum(1, np.rint(float(horizon) / a).astype(int))
    k = np.arange(counts.max())
    return jnp.asarray(np.where(k[None, :] < counts[:, None], a[:, None], 0.0), dtype=dtype), counts


def tracking_study(
    key: jax.Array, field: Field, x0: Any, horizon: float, step_sizes: Any, sigma: float, n_chains: int = 64
) -> np.ndarray:
    r"""Mean (over ``n_chains`` chains) sup tracking error on :math:`[0, T]` of constant-step SA, per step size.

    For each :math:`\alpha` in ``step_sizes``: :math:`K = \operatorname{round}(T/\alpha)`
    steps of :func:`course_lib.ode.stochastic_approximation` with noise ``sigma`` (key
    ``fold_in(key, i)`` for the ``i``-th step size), compared with
    :func:`course_lib.ode.flow_at_times`.  Prediction: order 1 in :math:`\alpha` without
    noise (Euler), order 1/2 when the noise dominates (the sum
    :math:`\sum_k\alpha\sigma\xi_k` has standard deviation :math:`\sigma\sqrt{\alpha t}`).
    Returns float64 ``(m,)``.
    """
    _checks.prng_key("key", key, batched=True)
    field = _field("field", field)
    x0 = _point("x0", x0)
    _checks.nonnegative("sigma", sigma)
    n_chains = _checks.positive_int("n_chains", n_chains)
    steps, _ = _padded(step_sizes, horizon, x0.dtype)
    out = []
    for i in range(steps.shape[0]):
        xs = _sa(field, jax.random.fold_in(key, i), x0, steps[i], jnp.asarray(sigma, x0.dtype), n_chains)
        out.append(float(np.mean(np.asarray(tracking_error(xs, _flow_at(field, x0, steps[i], 4))))))
    return np.array(out)


def window_study(
    key: jax.Array, field: Field, x0: Any, steps: Any, sigma: float, starts: Any, horizon: float, n_chains: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean window errors (:func:`course_lib.ode.window_errors`) over ``n_chains`` runs of :func:`course_lib.ode.stochastic_approximation`.

    Returns ``(errors, step_at_start)``, float64 ``(m,)`` each.
    """
    _checks.prng_key("key", key, batched=True)
    steps = _steps(steps)
    starts = _checks.finite_array("starts", starts, ndim=1)
    xs = stochastic_approximation(key, field, x0, steps, sigma, n_chains)
    window_errors(field, xs[:, 0], steps, starts[:1], horizon)  # validates the arguments
    span = float(np.sum(np.asarray(steps)))   # NumPy checks: no XLA compilation per shape
    if float(np.max(np.asarray(starts))) + float(horizon) > span:
        raise ValueError(f"starts + horizon must stay within the run's time span [0, {span:.4g}]")
    errs, a = jax.vmap(lambda x: _windows(field, x, steps, starts, jnp.asarray(horizon, xs.dtype), 2))(
        jnp.swapaxes(xs, 0, 1))
    return np.asarray(jnp.mean(errs, axis=0), dtype=float), np.asarray(a[0], dtype=float)


def heavy_ball_study(field: Field, x0: Any, delta: float, horizon: float, step_sizes: Any) -> np.ndarray:
    r"""Sup distance on :math:`[0, T]` between heavy-ball iterates (at :math:`t_k = k\sqrt\alpha`) and the ODE, per :math:`\alpha`.

    Momentum :math:`\beta = 1-\delta\sqrt\alpha` (:func:`course_lib.ode.heavy_ball_scaling`);
    the ODE is solved once by :func:`course_lib.ode.heavy_ball_flow` on a grid 8 times finer
    than the smallest :math:`\sqrt\alpha` and read at :math:`t_k` by
    :func:`course_lib.ode.interpolate`.  Prediction: order 1/2 in :math:`\alpha` (order 1 in
    the time step :math:`\sqrt\alpha`).  Returns float64 ``(m,)``.
    """
    field = _field("field", field)
    x0 = _point("x0", x0)
    a = np.asarray(step_sizes, dtype=float)
    _padded(a, horizon, x0.dtype)  # validates step_sizes and horizon
    hs = np.sqrt(a)
    counts = np.maximum(1, np.rint(float(horizon) / hs).astype(int))
    t_max = float(np.max(counts * hs))
    ts, ys = heavy_ball_flow(field, x0, delta, t_max, num_steps=int(8 * np.ceil(t_max / hs.min())))
    n_max = int(counts.max())
    out = []
    for ai, h, n in zip(a, hs, counts):
        _, beta = heavy_ball_scaling(float(ai), delta)
        xs = _finite(_hb(field, x0, jnp.asarray(ai, x0.dtype), jnp.asarray(beta, x0.dtype), n_max, n), "the heavy ball")
        ref = interpolate(ts, ys, jnp.arange(n + 1) * h)
        out.append(float(np.max(np.linalg.norm(np.asarray(xs)[: n + 1] - np.asarray(ref), axis=-1))))   # NumPy: no compile per n
    return np.array(out)


def kink_study(problem: Kink, x0: Any, horizon: float, step_sizes: Any) -> np.ndarray:
    r"""Sup distance on :math:`[0,T]` between the subgradient method and the exact sliding solution, per step size.

    The subgradient method is :func:`course_lib.ode.euler` with the field minus
    :func:`kink_subgradient`; the reference is
    :func:`kink_filippov_solution` at :math:`t_k = k\alpha`.  Prediction: order 1
    (the iterates zig-zag across the kink within :math:`O(\alpha)`).
    Returns float64 ``(m,)``.
    """
    _kink(problem)
    field = functools.partial(_kink_field, problem)
    x0 = _point("x0", x0)
    steps, _ = _padded(step_sizes, horizon, x0.dtype)
    out = []
    for row in steps:
        it = _finite(_euler(field, x0, row), "the subgradient method")
        ts = jnp.concatenate([jnp.zeros(1, row.dtype), jnp.cumsum(row)])
        out.append(float(tracking_error(it, kink_filippov_solution(problem, x0, ts))))
    return np.array(out)


def _kink_field(problem: Kink, theta: jax.Array) -> jax.Array:
    return -kink_subgradient(theta, problem)


@partial(jax.jit, static_argnames=("field", "substeps", "n_paths"))
def _coupled(field, key, x0, steps, sigma, substeps, n_paths):
    """SGD with steps ``steps`` and Euler--Maruyama (``substeps`` per SGD step) driven by the same Brownian path."""
    vf = jax.vmap(field)
    X0 = jnp.broadcast_to(x0, (n_paths, x0.shape[0]))

    def body(carry, ka):
        x, X = carry
        k, a = ka
        Z = jax.random.normal(jax.random.fold_in(key, k), (substeps,) + x.shape, x.dtype)
        dt = a / substeps
        X = jax.lax.fori_loop(0, substeps, lambda j, Y: Y + dt * vf(Y) + jnp.sqrt(a * dt) * sigma * Z[j], X)
        xi = jnp.sum(Z, axis=0) / jnp.sqrt(substeps)  # the same Brownian increment, seen by SGD
        x = x + a * (vf(x) + sigma * xi)
        return (x, X), None

    (x, X), _ = jax.lax.scan(body, (X0, X0), (jnp.arange(steps.shape[0]), steps))
    return x, X


def sde_study(
    key: jax.Array, lam: float, sigma: float, m0: float, horizon: float, etas: Any, n_paths: int = 50_000
) -> dict[str, np.ndarray]:
    r"""Means and variances at time :math:`T` of SGD and of its SDE on :math:`f(x) = \lambda x^2/2`, per :math:`\eta`.

    SGD: :math:`T/\eta` steps :math:`x_{k+1} = x_k - \eta(\lambda x_k + \sigma\xi_k)`;
    SDE :math:`dX = -\lambda X\,dt + \sqrt\eta\,\sigma\,dW`: Euler--Maruyama
    with 10 substeps per SGD step, driven by the same Brownian path
    (:math:`\xi_k` is the normalised sum of the 10 increments), so that the
    Monte Carlo estimate of the *gap* is far less noisy than either moment.
    Returns a dict of float64 ``(m,)`` arrays: ``sgd_mean``, ``sgd_var``,
    ``sde_mean``, ``sde_var`` (Monte Carlo, ``n_paths`` paths) and
    ``sgd_mean_exact``, ``sgd_var_exact``, ``sde_mean_exact``,
    ``sde_var_exact`` (:func:`course_lib.ode.quadratic_sgd_moments`, :func:`course_lib.ode.quadratic_sde_moments`).
    """
    _checks.prng_key("key", key, batched=True)
    lam, _, sigma = _quad_args(lam, 1.0, sigma)
    n_paths = _checks.positive_int("n_paths", n_paths)
    field = functools.partial(_linear_field, lam)
    x0 = jnp.array([float(m0)])
    steps, counts = _padded(etas, horizon, x0.dtype)
    names = ("sgd_mean", "sgd_var", "sde_mean", "sde_var", "sgd_mean_exact", "sgd_var_exact", "sde_mean_exact",
             "sde_var_exact")
    out: dict[str, list[float]] = {k: [] for k in names}
    for i, (eta, k) in enumerate(zip(np.asarray(etas, dtype=float), counts)):
        sgd, sde = _coupled(field, jax.random.fold_in(key, i), x0, steps[i], jnp.asarray(sigma, x0.dtype), 10, n_paths)
        _finite(jnp.stack([sgd, sde]), "the SGD / SDE simulation")
        ms, vs = quadratic_sgd_moments(lam, eta, sigma, m0, k)
        me, ve = quadratic_sde_moments(lam, eta, sigma, m0, k * eta)
        for name, val in zip(names, (jnp.mean(sgd), jnp.var(sgd), jnp.mean(sde), jnp.var(sde), ms, vs, me, ve)):
            out[name].append(float(val))
    return {k: np.array(v) for k, v in out.items()}


def double_well_field(x: jax.Array) -> jax.Array:
    r"""Minus the gradient of the double well :math:`f(x) = (x^2-1)^2/4` on :math:`[-2, 2]`, ``(1,) -> (1,)``.

    :math:`v(x) = -\operatorname{clip}(x^3 - x, -6, 6)`: the exact field on
    :math:`[-2, 2]`, continued with a bounded slope outside, so that a large
    jump of heavy-tailed noise cannot make SGD diverge.  Minima :math:`\pm1`
    (:math:`f'' = 2`), barrier :math:`\Delta f = 1/4` at the saddle 0 (:math:`f'' = -1`).
    """
    return -jnp.clip(x**3 - x, -6.0, 6.0)


def _in_other_well(X: jax.Array) -> jax.Array:
    """The stopping set of :func:`escape_study`: :math:`x \\ge 0.75`, ``(n, 1) -> (n,)``."""
    return X[:, 0] >= 0.75


_DOUBLE_WELL = simulate.Field(double_well_field)


def _escape_noise(student: bool, sigma: float, df: float) -> _noise.NoiseModel:
    """:math:`-\\sigma Z` (the engine subtracts the noise; same law as :math:`+\\sigma Z`, same draws)."""
    model = _noise.heavy_tailed(sigma, df) if student else _noise.gaussian(sigma)
    return dataclasses.replace(model, sigma=-model.sigma)


def escape_study(
    key: jax.Array, etas: Any, sigma: float = 1.0, df: float = 3.0, n_chains: int = 256, max_steps: int = 200_000,
    chunk: int | None = None, n_paths_T: int = 20_000,
) -> dict[str, np.ndarray]:
    r"""Same covariance, different noise laws: finite-horizon moments agree, escape times do not.

    SGD :math:`x_{k+1} = x_k + \eta(v(x_k) + \sigma Z_k)` on :func:`double_well_field`
    from :math:`x_0 = -1`, with :math:`Z_k` standard Gaussian or Student-t with
    ``df`` degrees of freedom rescaled to variance 1 (both have covariance
    :math:`\sigma^2`, so both have the same SDE approximation).  Per
    :math:`\eta` in ``etas``:

    * ``samples_T_gauss``, ``samples_T_student`` (``(m, n_paths_T)``): the
      iterate at time :math:`T = 1` (:math:`1/\eta` steps) of ``n_paths_T``
      chains, and ``mean_T_gauss``, ``var_T_gauss``, ``mean_T_student``,
      ``var_T_student``: their means and variances;
    * ``escape_gauss``, ``escape_student``: mean number of steps to reach
      :math:`x\ge 0.75` (the other well), over the chains that reached it within
      ``max_steps``; ``hit_gauss``, ``hit_student``: the fraction that did
      (on :func:`course_lib.simulate.hitting_times` with the stopping set
      :math:`\{x\ge 0.75\}`, one batch of chains: ``compact=False``);
    * ``kramers``: the SDE's prediction (Kramers' formula) in steps,
      :math:`\frac{1}{\eta}\,\frac{2\pi}{\sqrt{f''(-1)\,|f''(0)|}}\,e^{2\Delta f/(\eta\sigma^2)}`
      :cite:`freidlin2012`, the same for both laws.

    Returns float64 arrays, ``(m,)`` unless stated.  ``chunk`` is ignored
    (kept for old calls; the engine's chunk length is ``simulate.CHUNK``).
    """
    _checks.prng_key("key", key, batched=True)
    etas = np.asarray(etas, dtype=float)
    if etas.ndim != 1 or etas.size < 1 or np.any(etas <= 0):
        raise ValueError(f"etas must be a non-empty 1-D array of positive step sizes, got {etas!r}")
    _checks.positive("sigma", sigma)
    if not float(df) > 2:
        raise ValueError(f"df must be > 2 (finite variance), got {df!r}")
    n_chains = _checks.positive_int("n_chains", n_chains)
    max_steps = _checks.positive_int("max_steps", max_steps)
    n_paths_T = _checks.positive_int("n_paths_T", n_paths_T)
    out: dict[str, list[Any]] = {k: [] for k in ("mean_T_gauss", "var_T_gauss", "mean_T_student", "var_T_student",
                                                 "escape_gauss", "escape_student", "hit_gauss", "hit_student",
                                                 "kramers", "samples_T_gauss", "samples_T_student")}
    f32 = jnp.result_type(float)
    for i, eta in enumerate(etas):
        for law, student in (("gauss", False), ("student", True)):
            k = jax.random.fold_in(key, 2 * i + int(student))
            model = _escape_noise(student, sigma, df)
            n_T = max(1, int(round(1.0 / eta)))
            xT = simulate.trajectories(jax.random.fold_in(k, 1), _DOUBLE_WELL, model,
                                       jnp.full((n_paths_T, 1), -1.0, f32), float(eta), n_T, every=n_T,
                                       on_divergence="raise").xs[-1]
            out[f"samples_T_{law}"].append(np.asarray(xT[:, 0], dtype=float))
            out[f"mean_T_{law}"].append(float(np.mean(xT)))
            out[f"var_T_{law}"].append(float(np.var(xT)))
            r = simulate.hitting_times(k, _DOUBLE_WELL, model, jnp.full((n_chains, 1), -1.0, f32), float(eta),
                                       target=_in_other_well, max_steps=max_steps, compact=False,
                                       on_divergence="raise")
            out[f"escape_{law}"].append(float(np.mean(r.times[r.hit])) if r.hit.any() else float("nan"))
            out[f"hit_{law}"].append(float(r.hit.mean()))
        out["kramers"].append(2 * np.pi / np.sqrt(2.0) * np.exp(2 * 0.25 / (eta * sigma**2)) / eta)
    return {key_: np.array(v) for key_, v in out.items()}


def _linear_field(lam: float, x: jax.Array) -> jax.Array:
    return -lam * x


# ---------------------------------------------------------------------------
# the widget's figure
# ---------------------------------------------------------------------------

_WIDGET_T = 0.4
_WIDGET_K = 400
_WIDGET_X0 = (0.0, 0.0)
_WIDGET_CHAINS = 4


@functools.lru_cache(maxsize=None)
def _himmelblau_field() -> Field:
    """The gradient field of Himmelblau's function, built once (so the widget compiles once)."""
    from ..landscapes import himmelblau

    return gradient_field(himmelblau)


@partial(jax.jit, static_argnames=("field",))
def _widget_ref(field, step):
    """The flow at the iterates' times, the times and the mask of :math:`t_k \\le T`."""
    steps = jnp.full(_WIDGET_K, step)
    x0 = jnp.asarray(_WIDGET_X0, dtype=jnp.result_type(float))
    ref = _flow_at(field, x0, steps, 4)
    ts = jnp.concatenate([jnp.zeros(1), jnp.cumsum(steps)])
    return ts, ref, ts <= _WIDGET_T + 1e-7


def _widget_run(field, key, step, sigma):
    x0 = jnp.asarray(_WIDGET_X0, dtype=jnp.result_type(float))
    xs = _sa(field, key, x0, jnp.full(_WIDGET_K, step), sigma, _WIDGET_CHAINS, on_divergence="ignore")
    ts, ref, inside = _widget_ref(field, step)
    err = jnp.sqrt(jnp.sum((xs - ref[:, None, :]) ** 2, axis=-1))
    return ts, xs, ref, jnp.where(inside[:, None], err, 0.0), inside


def draw_tracking(step: float, sigma: float, seed: int = 0) -> Any:
    r"""Figure of the chapter's widget: SGD on Himmelblau's function drawn over the gradient flow.

    Constant step ``step`` (:math:`\le 0.0125`), Gaussian gradient noise of
    size ``sigma``, four chains from the origin up to flow time
    :math:`T = 0.4` (:math:`T/\text{step}` iterations).  Left: the flow and
    the iterates on the contour plot; right: the distance of each chain to the
    flow at the same time, :math:`\|\theta_k - \theta(t_k)\|`, with its
    maximum (the tracking error).  ``step`` and ``sigma`` are traced: moving
    the sliders never recompiles.  Returns a matplotlib Figure.
    """
    from ..landscapes import HIMMELBLAU_MINIMA, himmelblau
    from ..plotting import OKABE_ITO, contour, mark_points, subplots

    _checks.positive("step", step)
    _checks.nonnegative("sigma", sigma)
    if not 0.001 <= float(step) <= 0.0125:
        raise ValueError(f"step must lie in [0.001, 0.0125] (the widget runs {_WIDGET_K} steps up to T = {_WIDGET_T}), got {step}")
    field = _himmelblau_field()
    ts, xs, ref, err, inside = _widget_run(field, jax.random.PRNGKey(seed), jnp.asarray(step, jnp.float32),
                                           jnp.asarray(sigma, jnp.float32))
    ts, xs, ref, err, inside = (np.asarray(a) for a in (ts, xs, ref, err, inside))
    n = int(inside.sum())
    diverged = not np.all(np.isfinite(xs[:n])) or bool(np.any(np.abs(xs[:n]) > 1e5))
    fig, (a1, a2) = subplots(1, 2, width=10.5, height=4.2)
    contour(a1, himmelblau, xlim=(-1.0, 4.5), ylim=(-1.5, 4.0))
    fine = np.asarray(flow(field, jnp.asarray(_WIDGET_X0), _WIDGET_T, 400)[1])
    a1.plot(fine[:, 0], fine[:, 1], color="black", lw=2.5, label=r"gradient flow $\theta(t)$")
    for c in range(xs.shape[1]):
        a1.plot(xs[:n, c, 0], xs[:n, c, 1], ".-", ms=3, lw=0.6, color=OKABE_ITO[(c + 1) % 8], alpha=0.9,
                label="SGD iterates" if c == 0 else None)
    mark_points(a1, HIMMELBLAU_MINIMA[:1], color="white")
    a1.set(xlim=(-1.0, 4.5), ylim=(-1.5, 4.0), title=f"{n - 1} steps of size {float(step):g} up to time T = {_WIDGET_T}")
    a1.legend(loc="lower left", fontsize=8)
    for c in range(xs.shape[1]):
        a2.plot(ts[:n], err[:n, c], color=OKABE_ITO[(c + 1) % 8], lw=1.2)
    worst = float(np.max(err[:n])) if not diverged else float("nan")
    a2.axhline(worst, color="black", ls=":", lw=1)
    a2.set(xlabel="flow time $t_k$", ylabel=r"$\|\theta_k - \theta(t_k)\|$",
           title=("diverged" if diverged else f"tracking error (max over chains) = {worst:.3f}"))
    return fig
