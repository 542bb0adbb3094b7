r"""The ODE method: iterates of first-order methods against continuous-time dynamics.

Following "The ODE method" in :cite:`pauwels2024intro` (Ljung; Benaïm; Kushner
and Yin :cite:`benaim1999dynamics,kushner2003stochastic`) and the note on SDE
approximations in :cite:`azizian2025talk` (Li, Tai and E :cite:`li2017sde`).

A recursion :math:`\theta_{k+1} = \theta_k + \alpha_k\,(v(\theta_k) + \varepsilon_{k+1})`
with steps :math:`\alpha_k` and zero-mean noise :math:`\varepsilon_{k+1}` is
compared with the flow :math:`\dot\theta = v(\theta)` on the time axis
:math:`t_k = \sum_{i<k}\alpha_i`.  For a gradient method :math:`v = -\nabla J`.

Integrators (all ``lax.scan``, fixed-step, written here -- no ODE dependency;
this module holds the package's one Runge--Kutta 4 scheme, which every
deterministic flow of ``course_lib`` calls):

* :func:`gradient_field` -- the vector field :math:`x\mapsto-\nabla J(x)`;
* :func:`flow` -- classical Runge--Kutta 4 on a uniform grid;
  :func:`flow_at_times` -- the same flow evaluated exactly at the times
  :math:`t_k` of a step sequence (``substeps`` RK4 steps per interval);
* :func:`euler` -- the explicit Euler scheme :math:`\theta_{k+1} = \theta_k +
  \alpha_k v(\theta_k)` (gradient descent; with a selection of
  :math:`-\partial^c J` it is the subgradient method, the Euler scheme of the
  differential inclusion :math:`\dot\theta\in-\partial^c J(\theta)`);
* :func:`stochastic_approximation` -- the same with Gaussian noise, many chains
  (run by the package's one noisy-iteration engine, :mod:`course_lib.simulate`);
* :func:`heavy_ball_iterates` and :func:`heavy_ball_flow` -- Polyak's heavy ball and
  the ODE :math:`\ddot x + \delta\dot x + \nabla f(x) = 0`, related by
  :func:`heavy_ball_scaling`;
* :func:`euler_maruyama` -- the SDE :math:`dX = v(X)\,dt + \sqrt{\eta}\,\sigma\,dW`.

Measurements: :func:`flow_times`, :func:`interpolate` (the piecewise-linear
interpolated process), :func:`tracking_error`, :func:`window_errors` (flow
restarted at the iterate at the start of each window, as in Benaïm's
asymptotic pseudo-trajectories) and :func:`fit_order`.

Closed forms used as references: :func:`quadratic_sgd_moments` /
:func:`quadratic_sde_moments` (means and variances of SGD and of its SDE on
:math:`\lambda x^2/2`).

Arrays in and out are JAX arrays; points have shape ``(d,)``.  Step sizes and
noise levels are traced arguments (changing them never recompiles); array
*lengths* are static.  A run whose iterates leave the domain (not finite, or
norm beyond :data:`course_lib.divergence.DEFAULT_RADIUS`) raises
:class:`~course_lib.divergence.DivergenceError` naming the first bad step (the
package's divergence policy, :mod:`course_lib.divergence`).  Bad input raises
:class:`ValueError` naming the argument.

The chapter's studies (tracking, windows, kink, heavy ball, SDE, escape), its
nonsmooth example with an exact Filippov solution (``Kink``) and its widget live
in :mod:`course_lib.chapters.ode`; their old names here still
work, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import dataclasses
import functools
from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks, divergence, simulate
from . import noise as _noise
from ._deprecation import deprecated_aliases
from .divergence import DivergenceError

__all__ = [
    "DivergenceError",
    "gradient_field",
    "flow",
    "flow_at_times",
    "flow_times",
    "interpolate",
    "euler",
    "stochastic_approximation",
    "tracking_error",
    "window_errors",
    "fit_order",
    "heavy_ball_iterates",
    "heavy_ball_flow",
    "heavy_ball_scaling",
    "euler_maruyama",
    "quadratic_sgd_moments",
    "quadratic_sde_moments",
    "order_line",
]

_MOVED = ("tracking_study", "window_study", "heavy_ball_study", "kink_study", "sde_study", "double_well_field",
          "escape_study", "draw_tracking", "Kink", "kink_objective", "kink_subgradient", "kink_filippov_solution")
__getattr__ = deprecated_aliases(__name__, {**{name: (f"course_lib.chapters.ode:{name}", "0.2") for name in _MOVED},
                                            # renamed: optimizers.heavy_ball is the optimizer
                                            "heavy_ball": ("heavy_ball_iterates", "0.2")})

Field = Callable[[jax.Array], jax.Array]


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------


def _field(name: str, v: Any) -> Field:
    if not callable(v):
        raise ValueError(f"{name} must be a callable vector field x (d,) -> (d,), got {type(v).__name__}")
    return v


def _point(name: str, x0: Any) -> jax.Array:
    return _checks.finite_array(name, x0, ndim=1)


def _steps(steps: Any) -> jax.Array:
    a = _checks.finite_array("steps", steps, ndim=1)
    if a.shape[0] < 1 or (np.asarray(a) <= 0).any():   # NumPy: no XLA compilation per length
        raise ValueError(f"steps must be a non-empty 1-D array of positive step sizes, got shape {a.shape}")
    return a


def _finite(xs: jax.Array, what: str) -> jax.Array:
    """Raise DivergenceError if ``xs`` (time first) leaves the domain (:func:`course_lib.divergence.check`)."""
    return divergence.check(xs, what)


# ---------------------------------------------------------------------------
# gradient flows
# ---------------------------------------------------------------------------


def gradient_field(objective: Callable[[jax.Array], jax.Array]) -> Field:
    r"""The field :math:`v(x) = -\nabla J(x)` of the gradient flow of ``objective`` (``(d,) -> ()``).

    Returns a jitted function ``(d,) -> (d,)``, the same object for the same
    ``objective`` (cached), so that the integrators below compile once.
    """
    if not callable(objective):
        raise ValueError(f"objective must be a callable (d,) -> (), got {type(objective).__name__}")
    try:
        return _gradient_field(objective)
    except TypeError:  # unhashable callable: no cache
        return _gradient_field.__wrapped__(objective)


@functools.lru_cache(maxsize=128)
def _gradient_field(objective: Callable[[jax.Array], jax.Array]) -> Field:
    return jax.jit(lambda x: -jax.grad(lambda y: jnp.asarray(objective(y)).sum())(x))


def _rk4(v: Field, x: jax.Array, h: jax.Array) -> jax.Array:
    r"""One classical Runge--Kutta 4 step of :math:`\dot x = v(x)`; ``x`` of any shape (the package's one RK4)."""
    k1 = v(x)
    k2 = v(x + 0.5 * h * k1)
    k3 = v(x + 0.5 * h * k2)
    k4 = v(x + h * k3)
    return x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@partial(jax.jit, static_argnames=("field", "num_steps"))
def _flow(field, x0, t_end, num_steps):
    """RK4 path on a uniform grid, ``(ts (K+1,), xs (K+1, *x0.shape))``; ``x0`` of any shape, no checks."""
    h = t_end / num_steps

    def body(x, _):
        x_new = _rk4(field, x, h)
        return x_new, x_new

    _, xs = jax.lax.scan(body, x0, None, length=num_steps)
    return jnp.linspace(0.0, t_end, num_steps + 1), jnp.concatenate([x0[None], xs])


def flow(field: Field, x0: Any, t_end: float, num_steps: int = 1000) -> tuple[jax.Array, jax.Array]:
    r"""Solve :math:`\dot x = v(x)`, :math:`x(0) = x_0` on :math:`[0, T]` by RK4 with ``num_steps`` equal steps.

    ``field``: :math:`v`, ``(d,) -> (d,)`` (e.g. :func:`gradient_field`);
    ``x0``: ``(d,)``; ``t_end`` = :math:`T > 0`.  Global error
    :math:`O(h^4)`, :math:`h = T/\text{num\_steps}`.  Returns ``(ts, xs)`` of
    shapes ``(num_steps + 1,)`` and ``(num_steps + 1, d)``.
    """
    field = _field("field", field)
    x0 = _point("x0", x0)
    _checks.positive("t_end", t_end)
    num_steps = _checks.positive_int("num_steps", num_steps)
    ts, xs = _flow(field, x0, jnp.asarray(t_end, x0.dtype), num_steps)
    return ts, _finite(xs, "the flow")


@partial(jax.jit, static_argnames=("field", "substeps"))
def _flow_at(field, x0, steps, substeps):
    def body(x, a):
        h = a / substeps
        x = jax.lax.fori_loop(0, substeps, lambda _, y: _rk4(field, y, h), x)
        return x, x

    _, xs = jax.lax.scan(body, x0, steps)
    return jnp.concatenate([x0[None], xs])


def flow_at_times(field: Field, x0: Any, steps: Any, substeps: int = 4) -> jax.Array:
    r"""The flow :math:`\dot x = v(x)` from ``x0`` at the times :math:`t_k = \sum_{i<k}\alpha_i`, ``(K+1, d)``.

    ``steps``: :math:`(\alpha_0,\dots,\alpha_{K-1})`, shape ``(K,)``; each
    interval :math:`[t_k, t_{k+1}]` is integrated by ``substeps`` RK4 steps
    (error :math:`O(\alpha^4/\text{substeps}^4)` per unit time), so row ``k``
    is the flow at the time of iterate ``k`` -- what the iterate should be
    compared with.  ``steps`` is traced: new step sizes do not recompile.
    """
    field = _field("field", field)
    x0 = _point("x0", x0)
    steps = _steps(steps)
    substeps = _checks.positive_int("substeps", substeps)
    return _finite(_flow_at(field, x0, steps, substeps), "the flow")


def flow_times(steps: Any) -> jax.Array:
    r"""Times of the iterates on the flow's axis: :math:`t_0 = 0`, :math:`t_k = \sum_{i<k}\alpha_i`; shape ``(K+1,)``."""
    return _flow_times(_steps(steps))


@jax.jit
def _flow_times(steps):   # one compiled call (eager: two XLA kernels per new length)
    return jnp.concatenate([jnp.zeros(1, steps.dtype), jnp.cumsum(steps)])


def interpolate(ts: Any, xs: Any, t: Any) -> jax.Array:
    r"""The piecewise-linear interpolated process :math:`\bar\theta(t)` through the points ``(ts[k], xs[k])``.

    :math:`\bar\theta(t) = \theta_k + \frac{t - t_k}{t_{k+1}-t_k}(\theta_{k+1}-\theta_k)`
    for :math:`t\in[t_k, t_{k+1}]`, constant outside :math:`[t_0, t_K]`.
    ``ts``: ``(K+1,)`` increasing; ``xs``: ``(K+1, ...)``; ``t``: any shape
    ``S``.  Returns ``S + xs.shape[1:]``.
    """
    ts = _checks.finite_array("ts", ts, ndim=1)
    xs = jnp.asarray(_checks.finite_array("xs", xs), dtype=ts.dtype)
    t = _checks.finite_array("t", t)
    if xs.ndim < 1 or xs.shape[0] != ts.shape[0] or ts.shape[0] < 2:
        raise ValueError(f"xs must have a first axis of the length of ts ({ts.shape[0]} >= 2), got shape {xs.shape}")
    if (np.diff(np.asarray(ts)) <= 0).any():
        raise ValueError("ts must be strictly increasing")
    return _interpolate(ts, xs, jnp.asarray(t, dtype=ts.dtype))


@jax.jit
def _interpolate(ts, xs, t):   # one compiled call (eager: about ten XLA kernels per new shape)
    tc = jnp.clip(t, ts[0], ts[-1])
    k = jnp.clip(jnp.searchsorted(ts, tc, side="right") - 1, 0, ts.shape[0] - 2)
    w = (tc - ts[k]) / (ts[k + 1] - ts[k])
    w = w.reshape(w.shape + (1,) * (xs.ndim - 1))
    return xs[k] * (1.0 - w) + xs[k + 1] * w


# ---------------------------------------------------------------------------
# discrete schemes
# ---------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("field",))
def _euler(field, x0, steps):
    def body(x, a):
        x_new = x + a * field(x)
        return x_new, x_new

    _, xs = jax.lax.scan(body, x0, steps)
    return jnp.concatenate([x0[None], xs])


def euler(field: Field, x0: Any, steps: Any) -> jax.Array:
    r"""Explicit Euler :math:`\theta_{k+1} = \theta_k + \alpha_k v(\theta_k)`; returns all iterates, ``(K+1, d)``.

    With :math:`v=-\nabla J` this is gradient descent with steps
    :math:`\alpha_k` (the noiseless stochastic approximation); with
    :math:`v(\theta)\in-\partial^c J(\theta)` it is the subgradient method.
    Global error against the flow on :math:`[0,T]`: :math:`O(\max_k\alpha_k)`
    for a Lipschitz field.
    """
    field = _field("field", field)
    return _finite(_euler(field, _point("x0", x0), _steps(steps)), "Euler's scheme")


def _sa(field, key, x0, steps, sigma, n_chains, on_divergence="raise"):
    r"""Stochastic approximation on the engine: ``simulate.trajectories`` with ``Field(field)``.

    The engine iterates :math:`x - \alpha(-v(x) + Z)`; with :math:`Z = -\sigma\xi`
    (same law as :math:`\sigma\xi`) this is :math:`x + \alpha(v(x) + \sigma\xi)`,
    with the same draws :math:`\xi_k` = ``normal(fold_in(key, k), (n_chains, d))``.
    """
    X0 = jnp.broadcast_to(x0, (n_chains, x0.shape[0]))
    model = dataclasses.replace(_noise.gaussian(0.0), sigma=-jnp.asarray(sigma, x0.dtype))
    run = simulate.trajectories(key, simulate.Field(field), model, X0, steps, int(steps.shape[0]),
                                on_divergence=on_divergence)
    return jnp.asarray(run.xs)


def stochastic_approximation(
    key: jax.Array, field: Field, x0: Any, steps: Any, sigma: Any, n_chains: int = 1
) -> jax.Array:
    r"""Stochastic approximation :math:`\theta_{k+1} = \theta_k + \alpha_k\,(v(\theta_k) + \sigma\xi_{k+1})`.

    :math:`\xi_{k+1}\sim\mathcal N(0, I_d)`, drawn as
    ``jax.random.normal(fold_in(key, k), (n_chains, d))`` (independent of the
    past, zero mean): with :math:`v = -\nabla J` this is SGD with Gaussian
    gradient noise and steps ``steps`` (``(K,)``; constant: ``jnp.full(K, a)``;
    vanishing: ``a / (1 + jnp.arange(K))**p``).  ``sigma >= 0``, traced.
    Returns every iterate of every chain, ``(K+1, n_chains, d)``.  Runs on
    :func:`course_lib.simulate.trajectories` (with :class:`course_lib.simulate.Field`);
    raises :class:`DivergenceError` if a chain leaves the domain.
    """
    _checks.prng_key("key", key, batched=True)
    field = _field("field", field)
    x0 = _point("x0", x0)
    steps = _steps(steps)
    _checks.nonnegative("sigma", sigma)
    n_chains = _checks.positive_int("n_chains", n_chains)
    return _sa(field, key, x0, steps, jnp.asarray(sigma, x0.dtype), n_chains)


def tracking_error(iterates: Any, reference: Any, ts: Any = None, window: tuple[float, float] | None = None) -> jax.Array:
    r"""Sup-norm tracking error :math:`\max_k \|\theta_k - \theta(t_k)\|` of iterates against a reference path.

    ``iterates``: ``(K+1, d)`` or ``(K+1, n, d)`` (``n`` chains);
    ``reference``: ``(K+1, d)``, the flow at the same times (from
    :func:`flow_at_times`).  With ``window = (t0, T)`` and ``ts`` (``(K+1,)``,
    :func:`flow_times`) the max runs over :math:`t_k\in[t_0, t_0+T]` only.
    Returns a scalar, or ``(n,)`` with chains.
    """
    it = _checks.finite_array("iterates", iterates)
    ref = _checks.finite_array("reference", reference, ndim=2)
    if it.ndim not in (2, 3) or it.shape[0] != ref.shape[0] or it.shape[-1] != ref.shape[-1]:
        raise ValueError(f"iterates must have the shape of reference {ref.shape} or "
                         f"({ref.shape[0]}, n, {ref.shape[1]}), got {it.shape}")
    if window is None:
        return _tracking_error(it, ref, None, None, None)
    if ts is None:
        raise ValueError("ts (the times of the iterates) is required with window")
    ts = _checks.finite_array("ts", ts, ndim=1)
    if ts.shape[0] != it.shape[0]:
        raise ValueError(f"ts must have shape ({it.shape[0]},), got {ts.shape}")
    t0, T = window
    return _tracking_error(it, ref, ts, jnp.asarray(t0, ts.dtype), jnp.asarray(T, ts.dtype))


@jax.jit
def _tracking_error(it, ref, ts, t0, T):   # one compiled call (eager: one XLA kernel per operation and shape)
    if it.ndim == 3:
        ref = ref[:, None, :]
    err = jnp.sqrt(jnp.sum((it - ref) ** 2, axis=-1))
    if ts is not None:
        mask = (ts >= t0) & (ts <= t0 + T)
        if it.ndim == 3:
            mask = mask[:, None]
        err = jnp.where(mask, err, 0.0)
    return jnp.max(err, axis=0)


@partial(jax.jit, static_argnames=("field", "substeps"))
def _windows(field, iterates, steps, starts, horizon, substeps):
    ts = jnp.concatenate([jnp.zeros(1, steps.dtype), jnp.cumsum(steps)])
    idx = jnp.arange(steps.shape[0])

    def one(start):
        k0 = jnp.searchsorted(ts, start, side="left")
        t_a = ts[k0]
        inside = (ts >= t_a) & (ts <= t_a + horizon)
        # increments before the window are zero: the flow waits at theta_{k0}
        inc = jnp.where((idx >= k0) & (ts[1:] <= t_a + horizon), steps, 0.0)
        phi = _flow_at(field, iterates[k0], inc, substeps)
        err = jnp.sqrt(jnp.sum((iterates - phi) ** 2, axis=-1))
        return jnp.max(jnp.where(inside, err, 0.0)), steps[jnp.minimum(k0, steps.shape[0] - 1)]

    return jax.vmap(one)(starts)


def window_errors(
    field: Field, iterates: Any, steps: Any, starts: Any, horizon: float, substeps: int = 2
) -> tuple[jax.Array, jax.Array]:
    r"""Tracking errors on windows :math:`[t, t+T]`, the flow restarted at the iterate at time :math:`t`.

    For each ``start`` :math:`s`, let :math:`k_0` be the first index with
    :math:`t_{k_0}\ge s`; the flow :math:`\Phi` is started at
    :math:`\theta_{k_0}` and the error is
    :math:`\max\{\|\theta_k - \Phi_{t_k - t_{k_0}}(\theta_{k_0})\| : t_{k_0}\le t_k\le t_{k_0}+T\}`.
    Benaïm's theorem (vanishing steps, noise averaging) says it tends to 0 as
    :math:`s\to\infty` for every fixed :math:`T` :cite:`benaim1999dynamics`.
    ``iterates``: ``(K+1, d)`` (one chain); ``steps``: ``(K,)``; ``starts``:
    ``(m,)`` times; ``horizon`` = :math:`T`.  Returns ``(errors, step_at_start)``,
    both ``(m,)``.  Windows must end before :math:`t_K`.
    """
    field = _field("field", field)
    it = _checks.finite_array("iterates", iterates, ndim=2)
    steps = _steps(steps)
    if it.shape[0] != steps.shape[0] + 1:
        raise ValueError(f"iterates must have {steps.shape[0] + 1} rows (one more than steps), got {it.shape[0]}")
    starts = _checks.finite_array("starts", starts, ndim=1)
    if bool(jnp.any(starts < 0)):
        raise ValueError(f"starts must be times >= 0, got {np.asarray(starts)}")
    _checks.positive("horizon", horizon)
    total = float(jnp.sum(steps))
    if float(jnp.max(starts)) + float(horizon) > total:
        raise ValueError(f"starts + horizon must stay within the run's time span [0, {total:.4g}]")
    return _windows(field, it, steps, starts, jnp.asarray(horizon, it.dtype), _checks.positive_int("substeps", substeps))


def fit_order(h: Any, err: Any) -> float:
    r"""Least-squares slope :math:`p` of :math:`\log \text{err} = p\log h + c`: the measured order in :math:`h`."""
    h = np.asarray(_checks.real_array("h", h, low=0.0, low_open=True), dtype=float)
    e = np.asarray(_checks.real_array("err", err, low=0.0, low_open=True), dtype=float)
    if h.ndim != 1 or h.shape != e.shape or h.size < 2:
        raise ValueError(f"h and err must be 1-D of the same length >= 2, got shapes {h.shape} and {e.shape}")
    if np.any(h <= 0) or np.any(e <= 0) or not np.all(np.isfinite(e)):
        raise ValueError("h and err must be positive and finite")
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])


# ---------------------------------------------------------------------------
# momentum: heavy ball and its second-order ODE
# ---------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("field", "n_steps"))
def _hb(field, x0, step, beta, n_steps, n_valid=None):
    n_valid = n_steps if n_valid is None else n_valid

    def body(carry, k):
        x, x_prev = carry
        x_new = x + step * field(x) + beta * (x - x_prev)
        x_new, x_keep = jnp.where(k < n_valid, x_new, x), jnp.where(k < n_valid, x, x_prev)
        return (x_new, x_keep), x_new

    _, xs = jax.lax.scan(body, (x0, x0), jnp.arange(n_steps))
    return jnp.concatenate([x0[None], xs])


def heavy_ball_iterates(field: Field, x0: Any, step: Any, beta: Any, n_steps: int) -> jax.Array:
    r"""Polyak's heavy ball :math:`x_{k+1} = x_k + \alpha v(x_k) + \beta(x_k - x_{k-1})`, :math:`x_{-1} = x_0`.

    With :math:`v = -\nabla f`.  ``step`` = :math:`\alpha > 0` and
    ``beta`` :math:`\in[0,1)` are traced.  Returns ``(n_steps + 1, d)``.  See
    :func:`heavy_ball_scaling` for the ODE it follows.
    """
    field = _field("field", field)
    x0 = _point("x0", x0)
    _checks.positive("step", step)
    _checks.nonnegative("beta", beta)
    if not isinstance(beta, jax.core.Tracer) and not float(beta) < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta!r}")
    n_steps = _checks.positive_int("n_steps", n_steps)
    xs = _hb(field, x0, jnp.asarray(step, x0.dtype), jnp.asarray(beta, x0.dtype), n_steps)
    return _finite(xs, "the heavy ball")


@partial(jax.jit, static_argnames=("field", "num_steps"))
def _hb_flow(field, x0, delta, t_end, num_steps):
    h = t_end / num_steps

    def sys(z):
        x, v = z[0], z[1]
        return jnp.stack([v, field(x) - delta * v])

    def body(z, _):
        z = _rk4(sys, z, h)
        return z, z[0]

    z0 = jnp.stack([x0, jnp.zeros_like(x0)])
    _, xs = jax.lax.scan(body, z0, None, length=num_steps)
    return jnp.linspace(0.0, t_end, num_steps + 1), jnp.concatenate([x0[None], xs])


def heavy_ball_flow(field: Field, x0: Any, delta: Any, t_end: float, num_steps: int = 2000) -> tuple[jax.Array, jax.Array]:
    r"""Solve :math:`\ddot x + \delta\dot x = v(x)` (i.e. :math:`\ddot x + \delta\dot x + \nabla f(x) = 0`), :math:`x(0)=x_0`, :math:`\dot x(0)=0`.

    RK4 on the first-order system :math:`(\dot x, \dot u) = (u, v(x) - \delta u)`
    with ``num_steps`` equal steps on :math:`[0, T]`.  Returns ``(ts, xs)``,
    shapes ``(num_steps + 1,)`` and ``(num_steps + 1, d)``.
    """
    field = _field("field", field)
    x0 = _point("x0", x0)
    _checks.nonnegative("delta", delta)
    _checks.positive("t_end", t_end)
    num_steps = _checks.positive_int("num_steps", num_steps)
    ts, xs = _hb_flow(field, x0, jnp.asarray(delta, x0.dtype), jnp.asarray(t_end, x0.dtype), num_steps)
    return ts, _finite(xs, "the heavy-ball ODE")


def heavy_ball_scaling(step: float, delta: float) -> tuple[float, float]:
    r"""Time per iteration and momentum that make the heavy ball follow :math:`\ddot x + \delta\dot x + \nabla f = 0`.

    Dividing the recursion by :math:`\alpha` gives
    :math:`\frac{x_{k+1}-2x_k+x_{k-1}}{\alpha} + \frac{1-\beta}{\sqrt\alpha}\,\frac{x_k-x_{k-1}}{\sqrt\alpha} + \nabla f(x_k) = 0`:
    a central second difference with time step :math:`h=\sqrt\alpha` and a
    friction :math:`\delta = (1-\beta)/\sqrt\alpha`.  So iterate :math:`k` sits
    at time :math:`t_k = k\sqrt\alpha` and :math:`\beta = 1-\delta\sqrt\alpha`
    (not :math:`t_k = k\alpha`: the heavy ball is *not* a discretisation of
    the gradient flow).  Returns ``(h, beta)``; needs :math:`\delta\sqrt\alpha\le 1`.
    """
    _checks.positive("step", step)
    _checks.nonnegative("delta", delta)
    h = float(np.sqrt(float(step)))
    beta = 1.0 - float(delta) * h
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"delta * sqrt(step) must lie in (0, 1], got {float(delta) * h:.4g}")
    return h, beta


# ---------------------------------------------------------------------------
# the SDE approximation
# ---------------------------------------------------------------------------


def euler_maruyama(
    key: jax.Array, field: Field, x0: Any, eta: Any, sigma: Any, dt: Any, n_steps: int, n_paths: int = 1
) -> jax.Array:
    r"""Euler--Maruyama for :math:`dX = v(X)\,dt + \sqrt{\eta\Sigma}\,dW` with :math:`\Sigma = \sigma^2 I`.

    :math:`X_{j+1} = X_j + \Delta t\, v(X_j) + \sqrt{\eta\,\Delta t}\,\sigma\,\zeta_j`,
    :math:`\zeta_j\sim\mathcal N(0,I_d)`.  With :math:`v = -\nabla f` this is
    the SDE that approximates SGD with step :math:`\eta` and gradient-noise
    covariance :math:`\sigma^2 I` on the time axis :math:`t = k\eta` :cite:`li2017sde`.
    ``dt`` is the integration step (take :math:`\Delta t\ll\eta` to see the
    SDE rather than SGD again: with :math:`\Delta t = \eta` the scheme *is*
    SGD).  ``eta``, ``sigma``, ``dt`` traced.  Returns ``(n_steps + 1, n_paths, d)``.
    Runs on the engine (:func:`course_lib.simulate.trajectories` with a
    :class:`course_lib.simulate.Field` and step :math:`\Delta t`), like
    :func:`stochastic_approximation`.
    """
    _checks.prng_key("key", key, batched=True)
    field = _field("field", field)
    x0 = _point("x0", x0)
    _checks.positive("eta", eta)
    _checks.nonnegative("sigma", sigma)
    _checks.positive("dt", dt)
    n_steps = _checks.positive_int("n_steps", n_steps)
    n_paths = _checks.positive_int("n_paths", n_paths)
    # on the engine: X - dt (-v(X) + Z), Z = -sqrt(eta / dt) sigma zeta (same law as +), zeta_j = normal(fold_in(key, j))
    c = lambda v: jnp.asarray(v, x0.dtype)  # noqa: E731
    model = dataclasses.replace(_noise.gaussian(0.0), sigma=-jnp.sqrt(c(eta) / c(dt)) * c(sigma))
    X0 = jnp.broadcast_to(x0, (n_paths, x0.shape[0]))
    run = simulate.trajectories(key, simulate.Field(field), model, X0, c(dt), n_steps, on_divergence="raise")
    return jnp.asarray(run.xs)


def _quad_args(lam: Any, eta: Any, sigma: Any) -> tuple[float, float, float]:
    _checks.positive("lam", lam)
    _checks.positive("eta", eta)
    _checks.nonnegative("sigma", sigma)
    return float(lam), float(eta), float(sigma)


def quadratic_sgd_moments(lam: float, eta: float, sigma: float, m0: float, k: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact mean and variance of SGD on :math:`f(x)=\lambda x^2/2` with noise :math:`\sigma\xi`, after ``k`` steps.

    :math:`x_{k+1} = (1-\eta\lambda)x_k - \eta\sigma\xi_k`, :math:`x_0 = m_0`, gives
    :math:`\mathbb E x_k = (1-\eta\lambda)^k m_0` and
    :math:`\operatorname{Var} x_k = \eta^2\sigma^2\,\frac{1-(1-\eta\lambda)^{2k}}{1-(1-\eta\lambda)^2}`.
    ``k``: integer array of any shape; returns two float64 arrays of that shape.
    """
    lam, eta, sigma = _quad_args(lam, eta, sigma)
    _checks.real("m0", m0)
    k = _checks.real_array("k", k, low=0.0)
    if not np.all(k == np.round(k)):
        raise ValueError(f"k must hold whole numbers of steps, got {k}")
    r = 1.0 - eta * lam
    if abs(r) >= 1:
        raise ValueError(f"eta * lam must lie in (0, 2) for SGD to be stable, got {eta * lam:.4g}")
    return r**k * float(m0), eta**2 * sigma**2 * (1.0 - r ** (2 * k)) / (1.0 - r**2)


def quadratic_sde_moments(lam: float, eta: float, sigma: float, m0: float, t: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact mean and variance of :math:`dX = -\lambda X\,dt + \sqrt\eta\,\sigma\,dW`, :math:`X_0 = m_0`, at times ``t``.

    An Ornstein--Uhlenbeck process: :math:`\mathbb E X_t = e^{-\lambda t}m_0`,
    :math:`\operatorname{Var}X_t = \frac{\eta\sigma^2}{2\lambda}(1-e^{-2\lambda t})`.
    At :math:`t = k\eta` both moments differ from :func:`quadratic_sgd_moments`
    by :math:`O(\eta)` (relative), uniformly on a finite horizon.
    """
    lam, eta, sigma = _quad_args(lam, eta, sigma)
    _checks.real("m0", m0)
    t = _checks.real_array("t", t, low=0.0)
    return np.exp(-lam * t) * float(m0), eta * sigma**2 / 2 / lam * (1.0 - np.exp(-2 * (lam * t)))


# ---------------------------------------------------------------------------
# measured against predicted orders
# ---------------------------------------------------------------------------


def order_line(h: Any, err: Any, order: float) -> np.ndarray:
    r"""The power law :math:`c\,h^{p}` with the predicted order :math:`p` = ``order`` closest to ``err`` in log scale.

    :math:`\log c` is the mean of :math:`\log\text{err} - p\log h`, so the line
    shows the predicted *slope* without favouring one measurement.  Returns ``(m,)``.
    """
    h = _checks.real_array("h", h)
    e = _checks.real_array("err", err)
    _checks.real("order", order)
    _checks.at_most("order", order, 1e3, "h**order must stay a finite float")
    fit_order(h, e)  # validates
    c = np.exp(np.mean(np.log(e) - order * np.log(h)))
    return c * h**order
