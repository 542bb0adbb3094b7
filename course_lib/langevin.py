r"""Mean-field Langevin dynamics: noisy particle gradient descent on an entropy-regularised objective.

Bach's tutorial :cite:`bach2025convexity` (the mean-field part) and
Chizat :cite:`chizat2022meanfield`, Nitanda, Wu and Suzuki
:cite:`nitanda2022convex`.

A two-layer network :math:`h_\mu(x)=\int\Psi_u(x)\,d\mu(u)` with
:math:`\mu=\frac1m\sum_j\delta_{u_j}` (see :mod:`course_lib.two_layer`, mean-field
scaling :math:`\alpha=1`) is trained on the **free energy**

.. math::

   G_\tau(\mu) = R(h_\mu) + \frac\lambda2\int\|u\|^2d\mu(u) - \tau\,H(\mu),
   \qquad H(\mu) = -\int\mu\log\mu,

whose entropy term makes the problem strictly convex in :math:`\mu`.  Its
Wasserstein gradient flow is the **mean-field Langevin dynamics**; on
:math:`m` particles, with :math:`\Phi(\theta)=mR(\theta)+\frac\lambda2\|\theta\|^2`,

.. math::

   du_j = -\nabla_{u_j}\Phi\,dt + \sqrt{2\tau}\,dB_j,

discretised by Euler--Maruyama with step :math:`\delta t`.  That is constant-step
SGD on :math:`\Phi` with Gaussian gradient noise of standard deviation
:math:`\sigma=\sqrt{2\tau/\delta t}`, so :func:`mean_field_langevin` runs it with
the course's engine :func:`course_lib.simulate.trajectories`.  Its stationary
law (as :math:`\delta t\to0`) is the Gibbs measure :math:`\propto e^{-\Phi/\tau}`
on :math:`\mathbb R^{md'}`, which satisfies Stein's identity
:math:`\mathbb E\|\nabla\Phi\|^2=\tau\,\mathbb E[\Delta\Phi]` (:func:`stein_sides`).
:func:`knn_entropy` estimates :math:`H` from the particles
(Kozachenko--Leonenko), and :func:`free_energy` assembles :math:`G_\tau`.

Bad input raises :class:`ValueError` naming the argument.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, gammaln

from . import _checks, noise, simulate
from .divergence import DivergenceError
from . import two_layer as tl

__all__ = ["LangevinRun", "mean_field_langevin", "knn_entropy", "free_energy", "stein_sides"]


class LangevinRun(NamedTuple):
    """Particles recorded every ``every`` steps: ``eta`` ``(T, m)``, ``W`` ``(T, m, d)``, ``times`` ``(T,)`` (flow time)."""

    times: np.ndarray
    eta: np.ndarray
    W: np.ndarray


def _potential(m: int, d: int, X: jax.Array, y: jax.Array, lam: float):
    def phi(theta):   # Phi = m R + lam/2 |theta|^2 for one flattened parameter vector (m (d + 1),)
        p = tl.Params(theta[:m], theta[m:].reshape(m, d))
        return m * 0.5 * jnp.mean((tl.network(p, X, 1.0) - y) ** 2) + 0.5 * lam * jnp.sum(theta**2)

    return phi


def mean_field_langevin(key: jax.Array, params: tl.Params, X: Any, y: Any, *, tau: float, lam: float,
                        dt: float, n_steps: int, every: int = 100) -> LangevinRun:
    r"""Euler--Maruyama for :math:`du_j=-\nabla_{u_j}(mR+\frac\lambda2\|\theta\|^2)dt+\sqrt{2\tau}dB_j`.

    ``params``: the :math:`m` particles (``eta`` ``(m,)``, ``W`` ``(m, d)``) at
    time 0; ``X`` ``(n, d)``, ``y`` ``(n,)``; temperature ``tau`` :math:`\ge0`,
    weight decay ``lam`` :math:`\ge0`, step ``dt`` and ``n_steps`` steps, recorded
    every ``every`` steps (the start included).  Runs through
    :func:`course_lib.simulate.trajectories` (SGD with Gaussian noise
    :math:`\sigma=\sqrt{2\tau/\delta t}`); a diverging run raises
    :class:`course_lib.divergence.DivergenceError`.
    """
    _checks.prng_key("key", key, batched=True)
    params = tl._check_params(params)
    m, d = params.W.shape
    X = tl._check_inputs(X, d)
    y = _checks.finite_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) like the rows of X, got {tuple(y.shape)}")
    _checks.nonnegative("tau", tau)
    _checks.nonnegative("lam", lam)
    _checks.positive("dt", dt)
    _checks.at_most("tau", 2 * float(tau) / float(dt), why="the noise level sqrt(2 tau / dt) must be finite in float32")
    n_steps = _checks.positive_int("n_steps", n_steps)
    every = _checks.positive_int("every", every)
    if n_steps * m * (d + 1) > 5 * 10**8:
        raise ValueError(f"n_steps * m * (d + 1) = {n_steps * m * (d + 1):.1e} numbers would be recorded; "
                         "keep it below 5e8 (fewer steps or particles)")
    phi = _potential(m, d, X, y, float(lam))
    batched = lambda T: jax.vmap(phi)(T.reshape(-1, m * (d + 1))).reshape(T.shape[:-1])  # noqa: E731
    theta0 = jnp.concatenate([params.eta, params.W.ravel()])[None]
    run = simulate.trajectories(key, batched, noise.gaussian(math.sqrt(2 * float(tau) / float(dt))),
                                theta0, float(dt), n_steps)
    if bool(run.diverged[0]):
        raise DivergenceError(f"mean_field_langevin diverged at step {int(run.diverged_at[0])}: use a smaller dt")
    th = run.xs[::every, 0]
    return LangevinRun(np.arange(th.shape[0]) * every * float(dt), th[:, :m], th[:, m:].reshape(-1, m, d))


def knn_entropy(points: Any, k: int = 3) -> float:
    r"""Kozachenko--Leonenko estimate of the differential entropy :math:`H=-\int\mu\log\mu` from samples.

    ``points`` ``(m, D)``: :math:`\hat H=\psi(m)-\psi(k)+\log V_D+\frac Dm\sum_j\log\varepsilon_j`,
    with :math:`\varepsilon_j` the distance from point :math:`j` to its
    ``k``-th nearest neighbour and :math:`V_D` the volume of the unit ball of
    :math:`\mathbb R^D` (Kozachenko and Leonenko :cite:`kozachenko1987sample`; consistent as
    :math:`m\to\infty`, biased at small :math:`m`).
    """
    P = np.asarray(_checks.finite_array("points", points, ndim=2), np.float64)
    m, D = P.shape
    k = _checks.positive_int("k", k)
    if m <= k:
        raise ValueError(f"points must have more than k = {k} rows, got {m}")
    if m > 20_000:
        raise ValueError(f"points has {m} rows; the pairwise distances need m^2 memory, keep m <= 20000")
    sq = np.sum(P**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * P @ P.T, 0.0)   # (m, m), no (m, m, D) intermediate
    np.fill_diagonal(d2, np.inf)
    eps = np.sqrt(np.partition(d2, k - 1, axis=1)[:, k - 1])
    if np.any(eps == 0):
        raise ValueError("points has repeated rows: the entropy estimate is -inf")
    log_vd = D / 2 * math.log(math.pi) - float(gammaln(D / 2 + 1.0))
    return float(digamma(float(m)) - digamma(float(k))) + log_vd + D * float(np.mean(np.log(eps)))


def _particles(eta: Any, W: Any) -> tuple[jax.Array, jax.Array]:
    eta = _checks.finite_array("eta", eta, ndim=1)
    W = _checks.finite_array("W", W, ndim=2)
    if W.shape[0] != eta.shape[0]:
        raise ValueError(f"W must have {eta.shape[0]} rows like eta, got shape {tuple(W.shape)}")
    return eta, W


def free_energy(eta: Any, W: Any, X: Any, y: Any, *, tau: float, lam: float) -> tuple[float, float, float]:
    r"""The free energy :math:`G_\tau=R+\frac\lambda2\int\|u\|^2d\mu-\tau\hat H` of one set of particles.

    Returns ``(G, R, H)``: the free energy, the risk :math:`R=\frac1{2n}\sum_i(h(x_i)-y_i)^2`
    and the entropy estimate of :func:`knn_entropy` on the points :math:`u_j=(\eta_j,w_j)`.
    """
    eta, W = _particles(eta, W)
    X = tl._check_inputs(X, W.shape[1])
    y = _checks.finite_array("y", y, ndim=1)
    _checks.nonnegative("tau", tau)
    _checks.nonnegative("lam", lam)
    U = np.concatenate([np.asarray(eta)[:, None], np.asarray(W)], axis=1)
    R = float(0.5 * jnp.mean((tl.network(tl.Params(eta, W), X, 1.0) - y) ** 2))
    H = knn_entropy(U)
    G = R + 0.5 * lam * float(np.mean(np.sum(U**2, axis=1))) - tau * H
    if not math.isfinite(G):
        raise ValueError(f"the free energy overflowed (tau={tau!r}, lam={lam!r}); use smaller tau or lam")
    return G, R, H


@jax.jit
def _stein(eta, W, X, y, lam):
    m, d = W.shape[1:]

    def one(e, w):                                   # one particle system: e (m,), w (m, d)
        phi = lambda th: _potential(m, d, X, y, lam)(th)  # noqa: E731
        g = jax.grad(phi)(jnp.concatenate([e, w.ravel()]))
        # relu units are linear in eta and piecewise linear in w, so only the Gauss-Newton part
        # of the Hessian of m R is left on its diagonal: (1 / (m n)) sum_ij |grad_u Psi_{u_j}(x_i)|^2
        pre = X @ w.T                                # (n, m)
        act = (pre > 0).astype(X.dtype)
        gn = jnp.sum(jnp.maximum(pre, 0.0) ** 2) + jnp.sum((act * e) ** 2 * jnp.sum(X**2, axis=1)[:, None])
        return jnp.sum(g**2), lam * m * (d + 1) + gn / (m * X.shape[0])

    return jax.vmap(one)(eta, W)


def stein_sides(eta: Any, W: Any, X: Any, y: Any, *, lam: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The two sides of Stein's identity for the particle Gibbs measure :math:`\propto e^{-\Phi/\tau}`.

    ``eta`` ``(T, m)`` and ``W`` ``(T, m, d)``: :math:`T` recorded particle
    systems (e.g. a :class:`LangevinRun`'s).  Returns the arrays
    :math:`\|\nabla\Phi(\theta_t)\|^2` and :math:`\Delta\Phi(\theta_t)`, shape ``(T,)``,
    with :math:`\Phi=mR+\frac\lambda2\|\theta\|^2`.  Averaged over the
    stationary law the first equals :math:`\tau` times the second
    (integration by parts against :math:`e^{-\Phi/\tau}`).  The Laplacian is
    computed in closed form: relu units are linear in :math:`\eta_j` and
    piecewise linear in :math:`w_j`, so
    :math:`\Delta\Phi=\lambda m(d+1)+\frac1{mn}\sum_{i,j}\|\nabla_u\Psi_{u_j}(x_i)\|^2`
    almost everywhere (checked against ``jax.hessian`` in the tests).
    """
    eta = _checks.finite_array("eta", eta, ndim=2)
    W = _checks.finite_array("W", W, ndim=3)
    if W.shape[:2] != eta.shape:
        raise ValueError(f"W must have shape {tuple(eta.shape)} + (d,) like eta, got {tuple(W.shape)}")
    T, m, d = W.shape
    X = tl._check_inputs(X, d)
    y = _checks.finite_array("y", y, ndim=1)
    _checks.nonnegative("lam", lam)
    g2, lap = _stein(eta, W, X, y, jnp.float32(lam))
    return np.asarray(g2), np.asarray(lap)
