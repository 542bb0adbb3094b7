r"""Gradient domination (Polyak--Łojasiewicz) and what it buys: estimators, runners, rates.

Following the "Favorable landscapes: gradient dominated functions" part of
:cite:`pauwels2024intro`, with :cite:`polyak1963gradient`,
:cite:`lojasiewicz1963propriete` and :cite:`karimi2016linear`.

A function :math:`J:\mathbb R^p\to\mathbb R` with minimum value :math:`J^\star`
is **gradient dominated** (satisfies the PL inequality) with constant
:math:`c>0` when

.. math::
    \|\nabla J(\theta)\|^2 \;\ge\; c\,\bigl(J(\theta) - J^\star\bigr) \qquad\text{for all }\theta .

Four groups of functions:

* **Estimating the constant.**  :func:`pl_ratio` evaluates
  :math:`\|\nabla J\|^2/(J-J^\star)` at a batch of points (a grid, or the iterates
  of a run); :func:`estimate_pl_constant` takes its minimum, an *upper*
  estimate of the best constant on the region the points cover.
* **Runners.**  :func:`gradient_descent` (constant step, a jitted ``lax.scan``;
  the step is a traced argument, so changing it never recompiles) and
  :func:`gradient_flow` (classical Runge--Kutta 4 for
  :math:`\dot\theta=-\nabla J(\theta)`); :func:`trajectory_length`.
* **Predicted rates** (NumPy float64, since :math:`1-\rho` may be tiny).  :func:`gd_rate` (:math:`1-c\alpha(1-L\alpha/2)` per step),
  :func:`flow_bound` (:math:`e^{-ct}`), :func:`lojasiewicz_length_bound` (the
  trap mechanism), :func:`lojasiewicz_flow_bound` (sublinear decay for an
  exponent :math:`q>1/2`), :func:`measured_rate` (the worst measured
  contraction of a run) and :func:`sgd_interpolation_rate`
  (:math:`1-\lambda\alpha+L^2\alpha^2` per step in expectation).
* **Least squares** :math:`J(\theta)=\|F(\theta)-y\|^2` for a model
  :math:`F:\mathbb R^p\to\mathbb R^n`: :func:`jacobian_gram` (the
  :math:`n\times n` matrix :math:`J_F J_F^\top`, by ``jax.jacobian``),
  :func:`least_squares_pl_check` (the ratio against
  :math:`4\lambda_{\min}(J_FJ_F^\top)` along a trajectory), the small model
  :func:`tanh_model`, and single-sample SGD on an interpolating linear least
  squares problem (:func:`sgd_least_squares`, :func:`least_squares_constants`).
* **Picture.**  :func:`draw_gd_vs_rate`, the figure of the chapter's widget.

Bad input raises :class:`ValueError` naming the argument.  A run that blows up
is frozen at its last finite point and flagged ``diverged``; it never returns
NaN silently.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "pl_ratio",
    "estimate_pl_constant",
    "GDRun",
    "gradient_descent",
    "FlowRun",
    "gradient_flow",
    "trajectory_length",
    "gd_rate",
    "flow_bound",
    "lojasiewicz_length_bound",
    "lojasiewicz_flow_bound",
    "measured_rate",
    "sgd_interpolation_rate",
    "jacobian_gram",
    "PLCheck",
    "least_squares_pl_check",
    "tanh_model",
    "least_squares_constants",
    "sgd_least_squares",
    "draw_gd_vs_rate",
]

_BLOWUP = 1e12  # a run whose value exceeds _BLOWUP * (1 + J(theta_0)) is declared diverged


def _check_callable(name: str, f: Any) -> None:
    if not callable(f):
        raise ValueError(f"{name} must be a callable, got {type(f).__name__}")


def _points(name: str, points: Any) -> jax.Array:
    arr = _checks.finite_array(name, points)
    if arr.ndim not in (1, 2) or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (k,) (scalar points) or (k, p), got shape {tuple(arr.shape)}")
    return arr


# ---------------------------------------------------------------------------
# the PL ratio
# ---------------------------------------------------------------------------


def pl_ratio(f: Callable[[Any], Any], points: Any, f_star: float = 0.0) -> jax.Array:
    r"""The ratio :math:`\|\nabla f(\theta)\|^2 / (f(\theta) - f^\star)` at each point.

    ``points`` has shape ``(k,)`` (``f`` takes a scalar) or ``(k, p)`` (``f``
    takes a vector ``(p,)``); ``f`` returns a scalar.  Returns shape ``(k,)``;
    points where :math:`f(\theta)-f^\star \le 0` (the minimisers) give ``inf``.
    """
    _check_callable("f", f)
    pts = _points("points", points)
    f_star = _checks.finite_array("f_star", f_star, ndim=0)
    return _pl_ratio(f, pts, f_star)


@partial(jax.jit, static_argnames=("f",))
def _pl_ratio(f, pts, f_star):
    vals, grads = jax.vmap(jax.value_and_grad(lambda t: jnp.asarray(f(t), dtype=pts.dtype)))(pts)
    gsq = grads**2 if pts.ndim == 1 else jnp.sum(grads**2, axis=-1)
    gap = vals - f_star
    return jnp.where(gap > 0, gsq / jnp.where(gap > 0, gap, 1.0), jnp.inf)


def estimate_pl_constant(f: Callable[[Any], Any], points: Any, f_star: float = 0.0) -> float:
    r"""Smallest :func:`pl_ratio` over ``points`` (minimisers excluded), a Python float.

    This is the best PL constant *on the sampled points*: the true constant on
    the region they cover is at most this value (it is approached as the
    sampling gets finer).  Raises ``ValueError`` if every point is a minimiser.
    """
    r = np.asarray(pl_ratio(f, points, f_star))
    finite = r[np.isfinite(r)]
    if finite.size == 0:
        raise ValueError("points must contain at least one point where f > f_star")
    return float(finite.min())


# ---------------------------------------------------------------------------
# runners
# ---------------------------------------------------------------------------


class GDRun(NamedTuple):
    """A gradient-descent run: ``iterates`` ``(K+1, ...)``, ``values`` and ``grad_sq`` ``(K+1,)``, ``diverged``."""

    iterates: jax.Array
    values: jax.Array
    grad_sq: jax.Array
    diverged: jax.Array


@partial(jax.jit, static_argnames=("f", "n_steps"))
def _gd(f, theta0, step, n_steps):
    vg = jax.value_and_grad(f)
    v0 = f(theta0)
    limit = _BLOWUP * (1.0 + jnp.abs(v0))

    def body(carry, _):
        th, bad = carry
        v, g = vg(th)
        new = th - step * g
        v_new = f(new)
        bad = bad | ~jnp.isfinite(v_new) | (v_new > limit)
        th = jnp.where(bad, th, new)
        return (th, bad), (th, jnp.sum(g**2))

    (th_end, bad), (ths, gsq) = jax.lax.scan(body, (theta0, jnp.array(False)), None, length=n_steps)
    iterates = jnp.concatenate([theta0[None], ths])
    values = jax.vmap(f)(iterates)
    g_end = jnp.sum(jax.grad(f)(th_end) ** 2)
    return iterates, values, jnp.concatenate([gsq, g_end[None]]), bad


def gradient_descent(f: Callable[[Any], Any], theta0: Any, step: Any, n_steps: int) -> GDRun:
    r"""Gradient descent :math:`\theta_{k+1}=\theta_k-\alpha\nabla f(\theta_k)`, ``n_steps`` steps.

    ``theta0`` is a scalar or an array ``(p,)``; ``step`` :math:`\alpha>0` is a
    traced argument (a new value does not recompile; ``f`` and ``n_steps`` are
    static, so keep one ``f`` object).  Returns a :class:`GDRun` with the
    iterates ``(K+1,)`` or ``(K+1, p)``, the values :math:`f(\theta_k)` and
    :math:`\|\nabla f(\theta_k)\|^2`.  If the values blow up, the iterates are
    frozen at the last safe point and ``diverged`` is ``True``.
    """
    _check_callable("f", f)
    theta0 = _checks.finite_array("theta0", theta0)
    if theta0.ndim > 1:
        raise ValueError(f"theta0 must be a scalar or a vector (p,), got shape {tuple(theta0.shape)}")
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    return GDRun(*_gd(f, theta0, jnp.asarray(step, theta0.dtype), n_steps))


class FlowRun(NamedTuple):
    """A gradient-flow solution: ``times`` ``(K+1,)``, ``iterates`` ``(K+1, ...)``, ``values`` ``(K+1,)``."""

    times: jax.Array
    iterates: jax.Array
    values: jax.Array


def _flow(f, theta0, t_final, n_steps):
    """The package's one RK4 (:func:`course_lib.ode.flow`'s integrator) on :math:`v = -\\nabla f`."""
    from . import ode

    ts, iterates = ode._flow(ode.gradient_field(f), theta0, t_final, n_steps)
    return ts, iterates, jax.vmap(f)(iterates)


def gradient_flow(f: Callable[[Any], Any], theta0: Any, t_final: Any, n_steps: int = 1000) -> FlowRun:
    r"""The gradient flow :math:`\dot\theta=-\nabla f(\theta)`, :math:`\theta(0)=\theta_0`, on :math:`[0, T]`.

    Classical Runge--Kutta 4 with ``n_steps`` equal steps :math:`h=T/\text{n\_steps}`
    (choose :math:`h` well below :math:`1/L`).  ``t_final`` is traced.  Returns a
    :class:`FlowRun`; raises ``ValueError`` if the solution is not finite
    (the step was too large for ``f``).
    """
    _check_callable("f", f)
    theta0 = _checks.finite_array("theta0", theta0)
    if theta0.ndim > 1:
        raise ValueError(f"theta0 must be a scalar or a vector (p,), got shape {tuple(theta0.shape)}")
    _checks.positive("t_final", t_final)
    n_steps = _checks.positive_int("n_steps", n_steps)
    run = FlowRun(*_flow(f, theta0, jnp.asarray(t_final, theta0.dtype), n_steps))
    if not bool(jnp.all(jnp.isfinite(run.values))):
        from .divergence import DivergenceError  # a ValueError too, as before

        raise DivergenceError("gradient_flow diverged: the Runge-Kutta step t_final / n_steps is too large for f; "
                              "increase n_steps")
    return run


def trajectory_length(iterates: Any) -> jax.Array:
    r"""Length :math:`\sum_k\|\theta_{k+1}-\theta_k\|` of a discrete path ``(K+1,)`` or ``(K+1, p)``; cumulative, shape ``(K+1,)``."""
    th = _checks.finite_array("iterates", iterates)
    if th.ndim == 1:
        th = th[:, None]
    if th.ndim != 2:
        raise ValueError(f"iterates must have shape (K+1,) or (K+1, p), got shape {tuple(th.shape)}")
    steps = jnp.linalg.norm(jnp.diff(th, axis=0), axis=-1)
    return jnp.concatenate([jnp.zeros(1, th.dtype), jnp.cumsum(steps)])


# ---------------------------------------------------------------------------
# predicted rates
# ---------------------------------------------------------------------------


def gd_rate(c: Any, L: Any, step: Any) -> np.ndarray:
    r"""Predicted contraction per step of gradient descent under PL: :math:`\rho = 1 - c\alpha(1 - L\alpha/2)`.

    If :math:`J` has an :math:`L`-Lipschitz gradient and satisfies
    :math:`\|\nabla J\|^2\ge c(J-J^\star)`, the descent lemma gives, for
    :math:`0<\alpha<2/L`,
    :math:`J(\theta_{k+1})-J^\star\le\rho\,(J(\theta_k)-J^\star)`, hence
    :math:`J(\theta_k)-J^\star\le\rho^k(J(\theta_0)-J^\star)` :cite:`polyak1963gradient`.
    For :math:`\alpha\le1/L`, :math:`\rho\le1-c\alpha/2`; at :math:`\alpha=1/L`,
    :math:`\rho=1-c/(2L)`.  Broadcasts over arrays.
    """
    c = _checks.real_array("c", c, low=0.0, low_open=True)
    L = _checks.real_array("L", L, low=0.0, low_open=True)
    step = _checks.real_array("step", step, low=0.0, low_open=True)
    return 1.0 - c * step * (1.0 - L * step / 2.0)


def flow_bound(c: Any, t: Any, J0: Any = 1.0) -> np.ndarray:
    r"""Predicted gap of the gradient flow under PL: :math:`J(\theta(t))-J^\star\le e^{-ct}(J(\theta_0)-J^\star)`.

    From :math:`\frac{d}{dt}(J-J^\star)=-\|\nabla J\|^2\le-c(J-J^\star)` and Gronwall's lemma.
    """
    c = _checks.real_array("c", c, low=0.0, low_open=True)
    t = _checks.real_array("t", t, low=0.0)
    J0 = _checks.real_array("J0", J0, low=0.0)
    return J0 * np.exp(-c * t)


def lojasiewicz_length_bound(f0: Any, c: Any, q: Any) -> np.ndarray:
    r"""The trap mechanism: length of a gradient-flow path under :math:`\|\nabla f\|\ge c\,f^{q}`, :math:`q\in(0,1)`.

    Along :math:`\dot\theta=-\nabla f(\theta)` with :math:`f\ge0`,
    :math:`\frac{d}{dt}\frac{f^{1-q}}{1-q}=-f^{-q}\|\nabla f\|\,\|\dot\theta\|\le-c\|\dot\theta\|`,
    so the length of the whole path is at most :math:`f(\theta_0)^{1-q}/(c(1-q))`
    :cite:`lojasiewicz1963propriete`.  Returns that bound.
    """
    f0 = _checks.real_array("f0", f0, low=0.0)
    c = _checks.real_array("c", c, low=0.0, low_open=True)
    q = _checks.real_array("q", q, low=0.0, high=1.0, low_open=True, high_open=True)
    return f0 ** (1.0 - q) / (c * (1.0 - q))


def lojasiewicz_flow_bound(f0: Any, c: Any, q: Any, t: Any) -> np.ndarray:
    r"""Decay of :math:`f(\theta(t))` along the gradient flow under :math:`\|\nabla f\|\ge c\,f^{q}`, :math:`q\in(1/2,1)`.

    :math:`\frac{d}{dt}f=-\|\nabla f\|^2\le-c^2f^{2q}`; integrating,
    :math:`f(\theta(t))\le\bigl(f_0^{1-2q}+c^2(2q-1)t\bigr)^{-1/(2q-1)}`: a
    power law, slower than the exponential decay of the case :math:`q=1/2`.
    """
    f0 = _checks.real_array("f0", f0, low=0.0, low_open=True)
    c = _checks.real_array("c", c, low=0.0, low_open=True)
    t = _checks.real_array("t", t, low=0.0)
    q = _checks.real_array("q", q)
    if np.any(q <= 0.5) or np.any(q >= 1):
        raise ValueError(f"q must lie in (1/2, 1) (q = 1/2 is the PL case, see flow_bound), got {q}")
    return (f0 ** (1.0 - 2.0 * q) + c**2 * (2.0 * q - 1.0) * t) ** (-1.0 / (2.0 * q - 1.0))


def measured_rate(values: Any, f_star: float = 0.0, floor: float = 1e-20) -> float:
    r"""Worst measured contraction :math:`\max_k (J_{k+1}-J^\star)/(J_k-J^\star)` of a run, a Python float.

    Steps where :math:`J_k-J^\star\le` ``floor`` (converged to rounding) are
    ignored.  ``values`` ``(K+1,)``.  Compare with :func:`gd_rate`.
    """
    v = np.asarray(_checks.finite_array("values", values, ndim=1), dtype=np.float64) - float(f_star)
    ok = v[:-1] > floor
    if not np.any(ok):
        raise ValueError("values must contain at least one step starting above floor")
    return float(np.max(v[1:][ok] / v[:-1][ok]))


def sgd_interpolation_rate(lam: Any, L: Any, step: Any) -> np.ndarray:
    r"""Predicted contraction per step of single-sample SGD under interpolation: :math:`1-\lambda\alpha+L^2\alpha^2`.

    For :math:`J=\frac1n\sum_iJ_i`, each :math:`J_i\ge0` with
    :math:`\inf J_i=0` and an :math:`L`-Lipschitz gradient (so
    :math:`\|\nabla J_i\|^2\le2LJ_i`), and :math:`\|\nabla J\|^2\ge\lambda J`:
    :math:`\mathbb E[J(\theta_{k+1})\mid\theta_k]\le(1-\lambda\alpha+L^2\alpha^2)J(\theta_k)`
    :cite:`pauwels2024intro`.  For :math:`\alpha\le\lambda/(2L^2)` the factor is at
    most :math:`1-\lambda\alpha/2`; at :math:`\alpha=\lambda/(2L^2)` it is
    :math:`1-\lambda^2/(4L^2)`.
    """
    lam = _checks.real_array("lam", lam, low=0.0, low_open=True)
    L = _checks.real_array("L", L, low=0.0, low_open=True)
    step = _checks.real_array("step", step, low=0.0, low_open=True)
    return 1.0 - lam * step + L**2 * step**2


# ---------------------------------------------------------------------------
# least squares J = ||F(theta) - y||^2
# ---------------------------------------------------------------------------


def jacobian_gram(F: Callable[[Any], Any], theta: Any) -> jax.Array:
    r"""The Gram matrix :math:`J_F(\theta)J_F(\theta)^\top=\sum_{i=1}^p\partial_iF\,\partial_iF^\top`, shape ``(n, n)``.

    ``F`` maps ``theta`` ``(p,)`` to ``(n,)``; the Jacobian ``(n, p)`` is
    computed by ``jax.jacobian``.  For a network this is the (empirical) neural
    tangent kernel on the training inputs.
    """
    _check_callable("F", F)
    theta = _checks.finite_array("theta", theta, ndim=1)
    Jf = jax.jit(jax.jacobian(F))(theta)
    if Jf.ndim != 2:
        raise ValueError(f"F must map theta (p,) to a vector (n,), got a Jacobian of shape {tuple(Jf.shape)}")
    return Jf @ Jf.T


class PLCheck(NamedTuple):
    r"""Along a trajectory ``(K,)`` each: ``loss`` :math:`J`, ``ratio`` :math:`\|\nabla J\|^2/J`, ``lambda_min`` of :math:`J_FJ_F^\top`."""

    loss: jax.Array
    ratio: jax.Array
    lambda_min: jax.Array

    @property
    def bound(self) -> jax.Array:
        r"""The predicted lower bound :math:`4\lambda_{\min}(J_FJ_F^\top)` on ``ratio``."""
        return 4.0 * self.lambda_min


def least_squares_pl_check(F: Callable[[Any], Any], y: Any, thetas: Any) -> PLCheck:
    r"""Measured :math:`\|\nabla J\|^2/J` against :math:`4\lambda_{\min}(J_FJ_F^\top)` for :math:`J=\|F(\theta)-y\|^2`.

    With :math:`r=F(\theta)-y`, :math:`\nabla J=2J_F^\top r`, so
    :math:`\|\nabla J\|^2=4\,r^\top J_FJ_F^\top r\ge4\lambda_{\min}(J_FJ_F^\top)\|r\|^2=4\lambda_{\min}J`.
    (With :math:`J=\frac12\|F-y\|^2` the constant is 2; with a mean over
    :math:`n` examples it is divided by :math:`n`.)  ``thetas`` ``(K, p)``,
    ``y`` ``(n,)``; returns a :class:`PLCheck` (vmapped over the trajectory);
    the ratio is ``inf`` where the data are interpolated exactly.
    """
    _check_callable("F", F)
    thetas = _checks.finite_array("thetas", thetas, ndim=2)
    y = _checks.finite_array("y", y, ndim=1)

    def one(th):
        r = F(th) - y
        Jf = jax.jacobian(F)(th)
        g = 2.0 * Jf.T @ r
        loss = jnp.sum(r**2)
        ratio = jnp.where(loss > 0, jnp.sum(g**2) / jnp.where(loss > 0, loss, 1.0), jnp.inf)
        return loss, ratio, jnp.linalg.eigvalsh(Jf @ Jf.T)[0]

    out = jax.jit(jax.vmap(one))(thetas)
    if out[0].shape != (thetas.shape[0],):
        raise ValueError("F must map theta (p,) to a vector of the shape of y")
    return PLCheck(*out)


def tanh_model(theta: Any, X: Any) -> jax.Array:
    r"""A small nonlinear model :math:`F(\theta)_i=\frac1{\sqrt m}\sum_{j=1}^m a_j\tanh(w_j^\top x_i)`.

    ``theta`` ``(m*(d+1),)`` holds the rows :math:`(w_j, a_j)` of an
    ``(m, d+1)`` array; ``X`` ``(n, d)``.  Returns ``(n,)``.  Traceable.
    """
    X = _checks.finite_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got shape {tuple(X.shape)}")
    d = X.shape[1]
    theta = _checks.finite_array("theta", theta)
    if theta.ndim != 1 or theta.shape[0] % (d + 1) != 0:
        raise ValueError(f"theta must be a vector of length m*(d+1) = m*{d + 1}, got shape {tuple(theta.shape)}")
    P = theta.reshape(-1, d + 1)
    W, a = P[:, :d], P[:, d]
    return jnp.tanh(X @ W.T) @ a / jnp.sqrt(P.shape[0])


def least_squares_constants(A: Any) -> tuple[float, float]:
    r"""PL constant :math:`\lambda` and per-example smoothness :math:`L` of :math:`J(\theta)=\frac1n\|A\theta-b\|^2`, :math:`b\in\operatorname{range}A`.

    :math:`J=\frac1n\sum_iJ_i` with :math:`J_i=(a_i^\top\theta-b_i)^2`:
    :math:`\nabla^2J_i=2a_ia_i^\top`, so :math:`L=2\max_i\|a_i\|^2`; and
    :math:`\|\nabla J\|^2=\frac4{n^2}r^\top AA^\top r\ge\frac4n\lambda_{\min}(AA^\top)J`,
    so :math:`\lambda=4\lambda_{\min}(AA^\top)/n` (positive when ``A`` ``(n, p)``
    has full row rank, e.g. :math:`p\ge n` generic).  Returns Python floats.
    """
    A = np.asarray(_checks.finite_array("A", A, ndim=2), dtype=np.float64)
    n = A.shape[0]
    lam = 4.0 * float(np.linalg.eigvalsh(A @ A.T)[0]) / n
    if lam <= 1e-12:
        raise ValueError("A must have full row rank (n <= p and independent rows) for J to satisfy PL")
    return lam, 2.0 * float(np.max(np.sum(A**2, axis=1)))


@partial(jax.jit, static_argnames=("n_steps", "n_runs"))
def _sgd_ls(A, b, theta0, step, key, n_steps, n_runs):
    n = A.shape[0]

    def loss(th):
        return jnp.mean((A @ th - b) ** 2)

    def one(k):
        idx = jax.random.randint(k, (n_steps,), 0, n)

        def body(th, i):
            r = A[i] @ th - b[i]
            th = th - step * 2.0 * r * A[i]
            return th, loss(th)

        _, vals = jax.lax.scan(body, theta0, idx)
        return jnp.concatenate([loss(theta0)[None], vals])

    return jax.vmap(one)(jax.random.split(key, n_runs))


def sgd_least_squares(A: Any, b: Any, theta0: Any, step: Any, n_steps: int, key: jax.Array,
                      n_runs: int = 100) -> jax.Array:
    r"""Single-sample SGD on :math:`J(\theta)=\frac1n\|A\theta-b\|^2`: :math:`\theta_{k+1}=\theta_k-\alpha\nabla J_{I_k}(\theta_k)`.

    :math:`I_k` uniform on :math:`\{1..n\}`, :math:`J_i=(a_i^\top\theta-b_i)^2`.
    ``A`` ``(n, p)``, ``b`` ``(n,)``, ``theta0`` ``(p,)``; ``step`` is traced;
    ``n_runs`` independent runs from one ``key``.  Returns the losses
    :math:`J(\theta_k)`, shape ``(n_runs, n_steps + 1)``.  Raises ``ValueError``
    if a run diverges.
    """
    _checks.prng_key("key", key, batched=True)
    A = _checks.finite_array("A", A, ndim=2)
    b = _checks.finite_array("b", b, ndim=1)
    theta0 = _checks.finite_array("theta0", theta0, ndim=1)
    if b.shape[0] != A.shape[0] or theta0.shape[0] != A.shape[1]:
        raise ValueError(f"A (n, p), b (n,) and theta0 (p,) must agree, got {A.shape}, {b.shape}, {theta0.shape}")
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    n_runs = _checks.positive_int("n_runs", n_runs)
    vals = _sgd_ls(A, b, theta0, jnp.asarray(step, A.dtype), key, n_steps, n_runs)
    if not bool(jnp.all(jnp.isfinite(vals))):
        from .divergence import DivergenceError  # a ValueError too, as before

        raise DivergenceError("sgd_least_squares diverged: reduce step (the theory needs step <= lam / (2 L^2))")
    return vals


def draw_gd_vs_rate(f: Callable[[Any], Any], c: float, L: float, x0: float, step: float, n_steps: int = 60,
                    xlim: tuple[float, float] = (-6.0, 6.0)) -> Any:
    r"""Figure for the widget: gradient descent on a scalar PL function against its predicted rate.

    Left: :math:`f(x_k)` (markers) and the guarantee
    :math:`\rho^k f(x_0)`, :math:`\rho=1-c\alpha(1-L\alpha/2)` (line; none for
    :math:`\alpha\ge2/L`).  Right: the landscape and the iterates.  ``f``
    maps scalars to scalars with :math:`\min f=0`.
    """
    import matplotlib.pyplot as plt  # noqa: F401  (backend set up by the caller)

    from . import plotting as cplt

    _checks.is_callable("f", f)
    _checks.positive("c", c)
    _checks.positive("L", L)
    _checks.real("x0", x0)
    _checks.at_most("x0", x0)
    _checks.positive("step", step)
    if not (isinstance(xlim, (tuple, list)) and len(xlim) == 2 and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
            for v in xlim) and xlim[0] < xlim[1]):
        raise ValueError(f"xlim must be a pair (low, high) of finite numbers with low < high, got {xlim!r}")
    run = gradient_descent(f, float(x0), float(step), n_steps)
    vals = np.asarray(run.values, dtype=np.float64)
    ks = np.arange(vals.size)
    fig, (ax1, ax2) = cplt.subplots(1, 2, width=10.5, height=3.6)
    ax1.semilogy(ks, np.maximum(vals, 1e-30), "o", ms=3.5, label="measured $f(x_k)$")
    if step < 2.0 / L:
        rho = float(gd_rate(c, L, step))
        ax1.semilogy(ks, vals[0] * rho**ks, "-", color=cplt.OKABE_ITO[3], label=rf"guarantee $\rho^k f(x_0)$, $\rho={rho:.4f}$")
        try:
            title = f"worst measured contraction {measured_rate(vals):.4f}"
        except ValueError:
            title = "converged to rounding at once"
    else:
        title = r"$\alpha \geq 2/L$: no guarantee" + (" (diverged)" if bool(run.diverged) else "")
    ax1.set(xlabel="iteration $k$", ylabel="$f(x_k)$", title=title, ylim=(1e-16, max(10.0, 2 * vals.max())))
    ax1.legend(fontsize=8)
    xs = np.linspace(*xlim, 600)
    ax2.plot(xs, np.asarray(jax.vmap(f)(jnp.asarray(xs))), color="0.3", lw=1.2)
    it = np.asarray(run.iterates, dtype=np.float64)
    ax2.plot(it, vals, "o-", ms=3, lw=0.8, color=cplt.OKABE_ITO[0], alpha=0.8)
    ax2.set(xlabel="$x$", ylabel="$f(x)$", xlim=xlim, title=rf"step $\alpha = {step:g}$, start $x_0 = {x0:g}$")
    return fig
