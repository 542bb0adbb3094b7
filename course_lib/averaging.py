r"""Iterate averaging, escaping strict saddles, and anti-correlated perturbations.

Three small pieces used by the chapter *Saddles, averaging and the shape of noise*:

* **Polyak--Ruppert averaging** :cite:`polyak1992averaging,bach2013nonstrongly`:
  :func:`running_average` :math:`\bar x_k = \frac1{k+1}\sum_{t=0}^k x_t`, and, for
  constant-step SGD on least squares, the predicted noise floor of the last
  iterate (:func:`last_iterate_floor`) and the asymptotic :math:`C/k` rate of the
  average (:func:`averaged_constant`), from the noise covariance at the optimum
  (:func:`least_squares_noise`).
* **Escaping a strict saddle** :cite:`jin2017escape`: :func:`strict_saddle`, a
  landscape with one strict saddle and two minima, and
  :func:`predicted_escape_steps`, the number of noisy gradient steps needed to
  leave the saddle, :math:`\approx \log(1/\sigma)/(\eta|\lambda_{\min}|)`.
* **Anti-correlated perturbations** :cite:`orvieto2022anticorrelated`:
  :func:`perturbed_gd` runs perturbed GD with independent (PGD) or
  anti-correlated (anti-PGD) perturbations on many chains at once, and
  :func:`widening_valley` / :func:`valley_hessian_trace` give the landscape
  with minima of every sharpness used to compare them.

The SGD runs themselves go through :mod:`course_lib.simulate`; only
:func:`perturbed_gd` has its own loop, because an anti-correlated perturbation
needs the previous draw, which the simulators' i.i.d. noise models do not carry.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .landscapes import FiniteSum

__all__ = [
    "running_average",
    "LeastSquaresNoise",
    "least_squares_noise",
    "excess_risk",
    "stationary_covariance",
    "last_iterate_floor",
    "averaged_constant",
    "STRICT_SADDLE_LAMBDA",
    "strict_saddle",
    "predicted_escape_steps",
    "widening_valley",
    "valley_hessian_trace",
    "perturbed_gd",
]

# ---------------------------------------------------------------------------
# Polyak--Ruppert averaging on least squares
# ---------------------------------------------------------------------------


def running_average(iterates: Any, axis: int = 0) -> np.ndarray:
    r"""Polyak--Ruppert averages :math:`\bar x_k = \frac1{k+1}\sum_{t=0}^{k} x_t` along ``axis``.

    ``iterates``: e.g. ``(T+1, n, d)`` from :func:`course_lib.simulate.trajectories`;
    returns an array of the same shape (float64) whose entry ``k`` is the mean of
    entries ``0..k`` :cite:`polyak1992averaging`.
    """
    X = _checks.real_array("iterates", iterates)
    if X.ndim == 0 or not -X.ndim <= axis < X.ndim:
        raise ValueError(f"axis must index a dimension of iterates (shape {X.shape}), got {axis!r}")
    if not np.isfinite(X).all():
        raise ValueError("iterates must be finite (no NaN or inf)")
    k = np.arange(1, X.shape[axis] + 1, dtype=float)
    shape = [1] * X.ndim
    shape[axis] = -1
    return np.cumsum(X, axis=axis) / k.reshape(shape)


class LeastSquaresNoise(NamedTuple):
    r"""Result of :func:`least_squares_noise`: the minimiser ``x_star`` ``(d,)``,
    the Hessian ``H`` ``(d, d)``, the covariance ``S`` ``(d, d)`` of one sampled
    gradient at ``x_star`` and the fourth-moment operator ``K`` ``(d*d, d*d)``,
    :math:`K=\frac1n\sum_i (a_ia_i^\top)\otimes(a_ia_i^\top)`, all float64."""

    x_star: np.ndarray
    H: np.ndarray
    S: np.ndarray
    K: np.ndarray


def least_squares_noise(problem: FiniteSum) -> LeastSquaresNoise:
    r"""Minimiser, Hessian and gradient-noise covariance of a least-squares finite sum.

    For :math:`f(x)=\frac1{2n}\sum_i(a_i^\top x-b_i)^2` (no regularisation),
    :math:`H=\frac1n\sum_i a_ia_i^\top`, :math:`x^\star=H^{-1}\frac1n\sum_i a_ib_i`,
    and one uniformly sampled gradient at :math:`x^\star` is
    :math:`a_i r_i` with residual :math:`r_i=a_i^\top x^\star-b_i`, of covariance
    :math:`S=\frac1n\sum_i r_i^2\,a_ia_i^\top` (its mean is zero).  ``K`` carries the
    multiplicative part of the noise: :math:`\operatorname{vec}\,\mathbb E[aa^\top\Sigma aa^\top]=K\operatorname{vec}\Sigma`.
    """
    if not isinstance(problem, FiniteSum) or problem.kind != "least_squares":
        raise ValueError("problem must be a least-squares course_lib.landscapes.FiniteSum")
    if float(problem.reg) != 0.0:
        raise ValueError(f"problem must have reg = 0, got reg = {float(problem.reg)}")
    A = np.asarray(problem.features, dtype=float)
    b = np.asarray(problem.targets, dtype=float)
    n = A.shape[0]
    H = A.T @ A / n
    x_star = np.linalg.solve(H, A.T @ b / n)
    r = A @ x_star - b
    S = (A * r[:, None] ** 2).T @ A / n
    outer = np.einsum("ni,nj->nij", A, A).reshape(n, -1)
    K = outer.T @ outer / n
    return LeastSquaresNoise(x_star, H, S, K)


def excess_risk(x: Any, x_star: Any, H: Any) -> np.ndarray:
    r"""Excess risk of a quadratic: :math:`f(x)-f(x^\star)=\tfrac12(x-x^\star)^\top H(x-x^\star)`.

    ``x``: ``(..., d)``; returns ``(...)`` (float64).
    """
    H = _checks.real_array("H", H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square (d, d) matrix, got shape {H.shape}")
    x = _checks.last_axis("x", _checks.real_array("x", x), H.shape[0])
    x_star = _checks.last_axis("x_star", _checks.real_array("x_star", x_star), H.shape[0])
    X = np.asarray(x, dtype=float) - np.asarray(x_star, dtype=float)
    if H.ndim != 2 or H.shape != (X.shape[-1], X.shape[-1]):
        raise ValueError(f"H must have shape ({X.shape[-1]}, {X.shape[-1]}), got {H.shape}")
    return 0.5 * np.einsum("...i,ij,...j->...", X, H, X)


def _check_HS(H: Any, S: Any) -> tuple[np.ndarray, np.ndarray]:
    H = _checks.real_array("H", H)
    S = _checks.real_array("S", S)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    if S.shape != H.shape:
        raise ValueError(f"S must have the shape of H {H.shape}, got {S.shape}")
    if np.linalg.eigvalsh(0.5 * (H + H.T)).min() <= 0:
        raise ValueError("H must be positive definite")
    return H, S


def _check_K(K: Any, d: int) -> np.ndarray | None:
    if K is None:
        return None
    K = _checks.real_array("K", K)
    if K.shape != (d * d, d * d):
        raise ValueError(f"K must have shape ({d * d}, {d * d}), got {K.shape}")
    return K


def stationary_covariance(H: Any, S: Any, step: float, K: Any = None) -> np.ndarray:
    r"""Stationary covariance :math:`\Sigma` of :math:`e_k=x_k-x^\star` for constant-step SGD on a quadratic.

    Additive noise (``K=None``): :math:`e_{k+1}=(I-\gamma H)e_k-\gamma\varepsilon_k`,
    :math:`\operatorname{Cov}\varepsilon_k=S`, so
    :math:`\Sigma=(I-\gamma H)\Sigma(I-\gamma H)+\gamma^2S`.  Least squares with one
    sampled row per step (``K`` from :func:`least_squares_noise`):
    :math:`e_{k+1}=(I-\gamma a a^\top)e_k-\gamma a r`, so
    :math:`H\Sigma+\Sigma H-\gamma\,\mathbb E[aa^\top\Sigma aa^\top]=\gamma S`
    (exact; the cross term vanishes because :math:`\mathbb E[ar]=0`).
    Requires :math:`\gamma\lambda_{\max}(H)<2` (and a solution that is positive definite).
    """
    H, S = _check_HS(H, S)
    _checks.positive("step", step)
    g = float(step)
    lmax = float(np.linalg.eigvalsh(H).max())
    if g * lmax >= 2.0:
        raise ValueError(f"step must be < 2 / lambda_max(H) = {2.0 / lmax:.4g}, got {step}")
    d = H.shape[0]
    K = _check_K(K, d)
    Id = np.eye(d)
    if K is None:
        M = Id - g * H
        A = np.eye(d * d) - np.kron(M, M)
        rhs = (g * g * S).ravel()
    else:
        A = np.kron(Id, H) + np.kron(H, Id) - g * K
        rhs = (g * S).ravel()
    Sigma = np.linalg.solve(A, rhs).reshape(d, d)
    Sigma = 0.5 * (Sigma + Sigma.T)
    if np.linalg.eigvalsh(Sigma).min() < 0:
        raise ValueError(f"step = {step} is too large: the second moments of SGD diverge")
    return Sigma


def last_iterate_floor(H: Any, S: Any, step: float, K: Any = None) -> float:
    r"""Noise floor of the last iterate: :math:`\lim_k\mathbb E f(x_k)-f^\star=\tfrac12\operatorname{tr}(H\Sigma)`.

    :math:`\Sigma` from :func:`stationary_covariance`; to first order in the step,
    :math:`\tfrac12\operatorname{tr}(H\Sigma)\approx\gamma\operatorname{tr}S/4`: the last iterate of
    constant-step SGD stalls at a level proportional to :math:`\gamma` :cite:`bach2013nonstrongly`.
    """
    H, _ = _check_HS(H, S)
    return float(0.5 * np.trace(H @ stationary_covariance(H, S, step, K)))


def averaged_constant(H: Any, S: Any, step: float | None = None, K: Any = None) -> float:
    r"""The constant :math:`C` of the averaged iterate's rate :math:`\mathbb E f(\bar x_k)-f^\star\approx C/k`.

    Polyak--Juditsky: :math:`\sqrt k(\bar x_k-x^\star)\to\mathcal N(0,H^{-1}SH^{-1})`, so
    :math:`C=\tfrac12\operatorname{tr}(H\,H^{-1}SH^{-1})=\tfrac12\operatorname{tr}(H^{-1}S)`, the
    statistically optimal constant, whatever the step :cite:`polyak1992averaging,bach2013nonstrongly`.
    With ``step`` and ``K`` (least squares, one row per step), the noise seen at
    stationarity also has a multiplicative part, of covariance
    :math:`\mathbb E[(aa^\top-H)\Sigma(aa^\top-H)]`, which adds
    :math:`O(\gamma)` to :math:`S` in the formula.
    """
    H, S = _check_HS(H, S)
    if (step is None) != (K is None):
        raise ValueError("step and K must be given together (or neither)")
    if K is not None:
        d = H.shape[0]
        Sigma = stationary_covariance(H, S, step, K)
        S = S + (_check_K(K, d) @ Sigma.ravel()).reshape(d, d) - H @ Sigma @ H
    return float(0.5 * np.trace(np.linalg.solve(H, S)))


# ---------------------------------------------------------------------------
# a strict saddle
# ---------------------------------------------------------------------------

STRICT_SADDLE_LAMBDA = -1.0
r"""The negative Hessian eigenvalue :math:`\lambda_{\min}` of :func:`strict_saddle` at the origin."""


def strict_saddle(x: jax.Array) -> jax.Array:
    r"""A strict saddle between two minima: :math:`f(x)=x_1^2-\tfrac12x_2^2+\tfrac14x_2^4`.

    ``x``: ``(..., 2)``; returns ``(...)``.  At the origin :math:`\nabla^2f=\operatorname{diag}(2,-1)`,
    so :math:`\lambda_{\min}=-1` (:data:`STRICT_SADDLE_LAMBDA`) and the stable manifold
    is the axis :math:`x_2=0`; the minima are :math:`(0,\pm1)` with :math:`f=-\tfrac14`.
    """
    x = _checks.last_axis("x", x, 2)
    x1, x2 = x[..., 0], x[..., 1]
    return x1**2 - 0.5 * x2**2 + 0.25 * x2**4


def predicted_escape_steps(step: Any, sigma: Any, lam: float, radius: float) -> np.ndarray:
    r"""Mean number of noisy gradient steps to leave a strict saddle, linearised.

    Along the unstable direction, :math:`y_{k+1}=(1+\eta|\lambda|)y_k-\eta\sigma\xi_k`
    from :math:`y_0=0`, so :math:`y_k\approx(1+\eta|\lambda|)^k\,\sigma\sqrt{\eta/(2|\lambda|)}\,Z`
    for large :math:`k` with :math:`Z\sim\mathcal N(0,1)`.  Reaching :math:`|y|=r` takes

    .. math::
        k \approx \frac{\log\bigl(r\sqrt{2|\lambda|/\eta}/\sigma\bigr)-\mathbb E\log|Z|}{\log(1+\eta|\lambda|)},
        \qquad -\mathbb E\log|Z| = \tfrac12(\gamma_E+\log 2),

    i.e. :math:`\approx\log(1/\sigma)/(\eta|\lambda|)` plus a constant: the time of
    :cite:`jin2017escape` (there with a perturbation of radius :math:`\sigma`).
    ``lam``: the negative eigenvalue; ``radius``: :math:`r`, small enough for the
    linearisation.  ``step``, ``sigma``: scalars or arrays (broadcast).
    """
    eta = _checks.real_array("step", step)
    s = _checks.real_array("sigma", sigma)
    _checks.real("lam", lam)
    _checks.positive("radius", radius)
    if not (np.all(eta > 0) and np.all(np.isfinite(eta))):
        raise ValueError(f"step must be positive and finite, got {step!r}")
    if not (np.all(s > 0) and np.all(np.isfinite(s))):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    if not float(lam) < 0:
        raise ValueError(f"lam must be the negative Hessian eigenvalue of the saddle, got {lam!r}")
    _checks.positive("radius", radius)
    a = abs(float(lam))
    mean_neg_log_z = 0.5 * (np.euler_gamma + np.log(2.0))
    # logs of each factor: no overflow for a huge radius
    return (np.log(float(radius)) + 0.5 * np.log(2 * a / eta) - np.log(s) + mean_neg_log_z) / np.log1p(eta * a)


# ---------------------------------------------------------------------------
# sharp and flat minima, anti-correlated perturbations
# ---------------------------------------------------------------------------


def widening_valley(x: jax.Array) -> jax.Array:
    r"""The widening valley of :cite:`orvieto2022anticorrelated`: :math:`f(u,v)=\tfrac12v^2\|u\|^2`.

    ``x = (u, v)``: ``(..., d)`` with :math:`u=x_{:d-1}` and :math:`v=x_{d-1}`
    (``d >= 2``); returns ``(...)``.  Every point with :math:`v=0` is a global
    minimum, of sharpness :math:`\operatorname{tr}\nabla^2f=\|u\|^2`
    (:func:`valley_hessian_trace`): flat near :math:`u=0`, sharp far from it.
    """
    if not isinstance(x, jax.core.Tracer):
        x = _checks.finite_array("x", x)
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[-1] < 2:
        raise ValueError(f"x must have shape (..., d) with d >= 2, got {tuple(x.shape)}")
    u, v = x[..., :-1], x[..., -1]
    return 0.5 * v**2 * jnp.sum(u**2, axis=-1)


def valley_hessian_trace(x: Any) -> np.ndarray:
    r"""Trace of the Hessian of :func:`widening_valley`: :math:`(d-1)v^2+\|u\|^2`, shape ``(...)``."""
    X = _checks.real_array("x", x)
    if X.ndim == 0 or X.shape[-1] < 2:
        raise ValueError(f"x must have shape (..., d) with d >= 2, got {X.shape}")
    return (X.shape[-1] - 1) * X[..., -1] ** 2 + np.sum(X[..., :-1] ** 2, axis=-1)


@partial(jax.jit, static_argnames=("f", "n_steps", "every", "anti"))
def _pgd(f, key, X0, step, sigma, n_steps, every, anti):
    grad = jax.vmap(jax.grad(f))

    def one(carry, k):
        X, xi = carry
        new = sigma * jax.random.normal(jax.random.fold_in(key, k), X.shape, X.dtype)
        pert = new - xi if anti else new
        return (X - step * grad(X) + pert, new), None

    def block(carry, k0):
        carry, _ = jax.lax.scan(one, carry, k0 * every + jnp.arange(every))
        return carry, carry[0]

    xi0 = jnp.zeros_like(X0)  # xi_0 = 0: the first anti-correlated perturbation is xi_1
    _, rec = jax.lax.scan(block, (X0, xi0), jnp.arange(n_steps // every))
    return rec


def perturbed_gd(
    key: jax.Array,
    f: Callable[[jax.Array], jax.Array],
    x0: Any,
    step: float,
    sigma: float,
    n_steps: int,
    *,
    anti: bool = False,
    every: int = 1,
) -> np.ndarray:
    r"""Perturbed gradient descent on many chains, independent or anti-correlated perturbations.

    .. math::
        x_{k+1}=x_k-\eta\nabla f(x_k)+\begin{cases}\xi_{k+1} & \text{PGD},\\
        \xi_{k+1}-\xi_k & \text{anti-PGD,}\end{cases}\qquad \xi_k\sim\mathcal N(0,\sigma^2I)\ \text{i.i.d.},\ \xi_0=0.

    For anti-PGD, :math:`z_k=x_k-\xi_k` follows :math:`z_{k+1}=z_k-\eta\nabla f(z_k+\xi_k)`,
    gradient descent on the smoothed loss :math:`\mathbb E f(z+\xi)\approx f(z)+\tfrac{\sigma^2}2\operatorname{tr}\nabla^2f(z)`:
    it drifts towards flat minima :cite:`orvieto2022anticorrelated`.  Both variants
    use the same draws for the same ``key``.  ``x0``: ``(n, d)``; returns the iterates
    after every ``every`` steps, ``(n_steps // every + 1, n, d)`` (row 0 is ``x0``).
    ``step`` and ``sigma`` are traced (no recompilation when they change).
    """
    _checks.prng_key("key", key, batched=True)
    X0 = _checks.finite_array("x0", x0, ndim=2)
    _checks.positive("step", step)
    _checks.nonnegative("sigma", sigma)
    _checks.at_most("step", step)  # traced in float32
    _checks.at_most("sigma", sigma)
    n_steps = _checks.positive_int("n_steps", n_steps)
    every = _checks.positive_int("every", every)
    if n_steps % every:
        raise ValueError(f"n_steps must be a multiple of every = {every}, got {n_steps}")
    if not callable(f):
        raise ValueError(f"f must be a callable landscape (..., d) -> (...), got {type(f).__name__}")
    X0 = X0.astype(jnp.float32)
    rec = _pgd(f, key, X0, jnp.float32(step), jnp.float32(sigma), n_steps, every, bool(anti))
    out = np.concatenate([np.asarray(X0)[None], np.asarray(rec)])
    from .divergence import check

    return check(out, "perturbed_gd (reduce step or sigma)", np.inf, chain_axis=1)  # non-finite iterates only
