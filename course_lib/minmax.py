r"""Convex--concave finite-sum games: gradient descent--ascent, extragradient and its stochastic variants.

The game.  For :math:`x, y\in\mathbb R^d` and :math:`n` components,

.. math::

    f(x,y)=\frac1n\sum_{i=1}^n\Big[x^\top A_i y+\frac\mu2\|x\|^2-\frac\mu2\|y\|^2+b_i^\top x-c_i^\top y\Big],

convex in :math:`x` and concave in :math:`y` (strongly so when :math:`\mu>0`). Its
*operator* :math:`F(z)=(\nabla_x f,-\nabla_y f)` at :math:`z=(x,y)` is affine,

.. math::

    F(z)=Mz+q,\qquad M=\begin{pmatrix}\mu I&A\\-A^\top&\mu I\end{pmatrix},\qquad q=\begin{pmatrix}b\\c\end{pmatrix},

with :math:`A,b,c` the means of the components; :math:`F_i(z)=M_iz+q_i` is one component,
and the saddle point is :math:`z^\star=-M^{-1}q`. :math:`M` is *normal* (a multiple of
the identity plus a skew-symmetric matrix), with eigenvalues :math:`\mu\pm i\sigma_j`
(:math:`\sigma_j` the singular values of :math:`A`), so a linear method
:math:`z_{k+1}-z^\star=P(\eta M)(z_k-z^\star)` contracts (or expands) exactly by
:math:`\max_j|P(\eta(\mu\pm i\sigma_j))|` per step:

* simultaneous gradient descent--ascent (GDA), :math:`z_{k+1}=z_k-\eta F(z_k)`:
  :math:`P(\lambda)=1-\lambda`, factor :math:`\sqrt{(1-\eta\mu)^2+\eta^2\sigma_j^2}`, larger than
  one on the bilinear game (:math:`\mu=0`): the iterates spiral out;
* extragradient (EG) :cite:`korpelevich1976extragradient`,
  :math:`z_{k+1/2}=z_k-\eta F(z_k)`, :math:`z_{k+1}=z_k-\eta F(z_{k+1/2})`:
  :math:`P(\lambda)=1-\lambda+\lambda^2`, factor below one whenever :math:`0<\eta\|M\|<1` and
  :math:`M` is invertible (even when :math:`\mu=0`).

Stochastic versions draw one component per step.  *Stochastic extragradient* (SEG, the
same component in both half-steps, as analysed by Mishchenko et al.
:cite:`mishchenko2020revisiting`) with a constant step stalls at a noise floor.  The
*loopless variance-reduced extragradient* of Alacaoglu and Malitsky
:cite:`alacaoglu2022stochastic` (their Algorithm 1) keeps a reference point
:math:`w_k` and its full operator :math:`F(w_k)`,

.. math::

    \bar z_k=\alpha z_k+(1-\alpha)w_k,\quad
    z_{k+1/2}=\bar z_k-\tau F(w_k),\quad
    z_{k+1}=\bar z_k-\tau\big[F(w_k)+F_{i_k}(z_{k+1/2})-F_{i_k}(w_k)\big],

and sets :math:`w_{k+1}=z_{k+1}` with probability :math:`p` (paying :math:`n` component calls),
else :math:`w_{k+1}=w_k`; with :math:`\alpha=1-p` and :math:`\tau=\gamma\sqrt p/L`,
:math:`\gamma<1`, :math:`L^2=\lambda_{\max}(\frac1n\sum_iM_i^\top M_i)`, it converges
linearly on strongly monotone problems, with no floor.

All stochastic iterations here are *affine in the state with random coefficients*, so
the mean of :math:`u_ku_k^\top` (:math:`u_k` the state with a trailing 1) follows a
deterministic linear recursion: :func:`second_moment_curve` computes the *exact*
expected squared distance :math:`\mathbb E\|z_k-z^\star\|^2` against which the simulations are
measured.  Calls to a component :math:`F_i` are counted: GDA 1 per step (n for the full
operator), EG 2n, SEG 2, VR-EG 2 plus :math:`n` for each refresh of the reference point.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "Game",
    "GameRun",
    "make_game",
    "operator_matrix",
    "saddle_point",
    "lipschitz_mean_square",
    "gda_factor",
    "eg_factor",
    "gda",
    "extragradient",
    "stochastic_extragradient",
    "vr_extragradient",
    "seg_linear_maps",
    "vr_eg_linear_maps",
    "second_moment_curve",
]


class Game(NamedTuple):
    """A finite-sum convex--concave game: ``A`` (n, d, d), ``b`` and ``c`` (n, d), strong-convexity ``mu``."""

    A: jax.Array
    b: jax.Array
    c: jax.Array
    mu: float


def make_game(key: jax.Array, n: int, d: int, mu: float = 0.0, spread: float = 1.0) -> Game:
    """A random game: :math:`A_i=I+\\text{spread}\\cdot G_i/\\sqrt d` with Gaussian :math:`G_i`, and Gaussian :math:`b_i,c_i`.

    The identity keeps the mean :math:`A` well conditioned (all :math:`\\sigma_j` near 1), so
    EG on the bilinear game (``mu = 0``) converges at a visible rate.
    """
    _checks.prng_key("key", key)
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    _checks.nonnegative("mu", mu)
    _checks.nonnegative("spread", spread)
    A, b, c = _random_game(key, jnp.asarray(spread, jnp.float32), n, d)
    return Game(A, b, c, float(mu))


@partial(jax.jit, static_argnames=("n", "d"))
def _random_game(key, spread, n, d):
    k1, k2, k3 = jax.random.split(key, 3)
    A = jnp.eye(d) + spread * jax.random.normal(k1, (n, d, d)) / np.sqrt(d)
    return A, jax.random.normal(k2, (n, d)), jax.random.normal(k3, (n, d))


def _check_game(game) -> Game:
    """A named error unless ``game`` is a :class:`Game` (as made by :func:`make_game`)."""
    if not isinstance(game, Game):
        raise ValueError(f"game must be a course_lib.minmax.Game (see make_game), got {type(game).__name__}")
    return game


def _check_z0(game: Game, z0) -> jax.Array:
    """``z0`` as a finite float array of shape (2d,) for the game's dimension d."""
    return _checks.finite_array("z0", z0, ndim=1, last=2 * game.A.shape[-1])


def _check_steps(T, chains: int = 1, d: int = 1) -> int:
    T = _checks.positive_int("T", T)
    _checks.work_size(f"T={T} steps x chains={chains} in dimension {2 * d}", steps=T, size=chains * 2 * d,
                      record_bytes=8.0 * (T + 1) * chains)
    return T


def _finite(what: str, out, arg: str):
    """``out`` if all finite, else a named error: the step ``arg`` was too large for the arithmetic."""
    if not np.all(np.isfinite(np.asarray(out))):
        from .divergence import DivergenceError

        raise DivergenceError(f"{what} overflowed (infinite or NaN values); use a smaller {arg}")
    return out


def _check_p(p) -> float:
    return _checks.in_range("p", p, 0.0, 1.0, low_open=True)


def operator_matrix(game: Game, i: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(M, q)`` of :math:`F(z)=Mz+q` (the mean, or component ``i``), as float64 NumPy arrays."""
    _check_game(game)
    if i is not None:
        i = _checks.nonnegative_int("i", i)
        if i >= game.A.shape[0]:
            raise ValueError(f"i must be a component index in 0..{game.A.shape[0] - 1}, got {i}")
    A = np.asarray(game.A, np.float64)
    b, c = np.asarray(game.b, np.float64), np.asarray(game.c, np.float64)
    Ai, bi, ci = (A.mean(0), b.mean(0), c.mean(0)) if i is None else (A[i], b[i], c[i])
    d = Ai.shape[0]
    M = np.block([[game.mu * np.eye(d), Ai], [-Ai.T, game.mu * np.eye(d)]])
    return M, np.concatenate([bi, ci])


def saddle_point(game: Game) -> np.ndarray:
    """:math:`z^\\star=-M^{-1}q`, shape (2d,)."""
    _check_game(game)
    M, q = operator_matrix(game)
    return -np.linalg.solve(M, q)


def lipschitz_mean_square(game: Game) -> float:
    """:math:`L` with :math:`\\frac1n\\sum_i\\|F_i(u)-F_i(v)\\|^2\\le L^2\\|u-v\\|^2`: :math:`L^2=\\lambda_{\\max}(\\frac1n\\sum_iM_i^\\top M_i)`."""
    n = _check_game(game).A.shape[0]
    S = sum(M.T @ M for M, _ in (operator_matrix(game, i) for i in range(n))) / n
    return float(np.sqrt(np.linalg.eigvalsh(S)[-1]))


def _spectrum(game: Game) -> np.ndarray:
    _check_game(game)
    return np.linalg.eigvals(operator_matrix(game)[0])


def gda_factor(game: Game, eta: float) -> float:
    """GDA's per-step factor :math:`\\max_j|1-\\eta\\lambda_j(M)|=\\max_j\\sqrt{(1-\\eta\\mu)^2+\\eta^2\\sigma_j^2}`."""
    _checks.positive("eta", eta)
    return float(_finite("gda_factor", np.max(np.abs(1 - eta * _spectrum(game))), "eta"))


def eg_factor(game: Game, eta: float) -> float:
    """EG's per-step factor :math:`\\max_j|1-\\eta\\lambda_j+\\eta^2\\lambda_j^2|` (exact: :math:`M` is normal)."""
    _checks.positive("eta", eta)
    lam = eta * _spectrum(game)
    return float(_finite("eg_factor", np.max(np.abs(1 - lam + lam**2)), "eta"))


def _F(game: Game, z: jax.Array, i: jax.Array | None = None) -> jax.Array:
    """The operator (mean, or component i) at z of shape (2d,)."""
    d = game.A.shape[-1]
    A, b, c = (game.A.mean(0), game.b.mean(0), game.c.mean(0)) if i is None else (game.A[i], game.b[i], game.c[i])
    x, y = z[:d], z[d:]
    return jnp.concatenate([A @ y + game.mu * x + b, -A.T @ x + game.mu * y + c])


class GameRun(NamedTuple):
    """Distances :math:`\\|z_k-z^\\star\\|` (T+1,) or (T+1, chains), and component calls (T+1,) (mean over chains); NumPy."""

    dist: np.ndarray
    calls: np.ndarray


@partial(jax.jit, static_argnames=("T", "extra"))
def _deterministic(game: Game, z0: jax.Array, zstar: jax.Array, eta: jax.Array, T: int, extra: bool) -> jax.Array:
    def step(z, _):
        g = _F(game, z - eta * _F(game, z)) if extra else _F(game, z)
        z = z - eta * g
        return z, jnp.linalg.norm(z - zstar)

    _, d = jax.lax.scan(step, z0, None, length=T)
    return jnp.concatenate([jnp.linalg.norm(z0 - zstar)[None], d])


def gda(game: Game, z0: jax.Array, eta: float, T: int) -> GameRun:
    """Simultaneous gradient descent--ascent :math:`z_{k+1}=z_k-\\eta F(z_k)`, T steps (n calls each)."""
    z0 = _check_z0(_check_game(game), z0)
    _checks.positive("eta", eta)
    T = _check_steps(T, d=game.A.shape[-1])
    d = _deterministic(game, z0, jnp.asarray(saddle_point(game), z0.dtype), jnp.asarray(eta, z0.dtype), T, False)
    return GameRun(_finite("gda", np.asarray(d), "eta"), np.arange(T + 1) * game.A.shape[0])


def extragradient(game: Game, z0: jax.Array, eta: float, T: int) -> GameRun:
    """Extragradient (Korpelevich): :math:`z_{k+1}=z_k-\\eta F(z_k-\\eta F(z_k))`, T steps (2n calls each)."""
    z0 = _check_z0(_check_game(game), z0)
    _checks.positive("eta", eta)
    T = _check_steps(T, d=game.A.shape[-1])
    d = _deterministic(game, z0, jnp.asarray(saddle_point(game), z0.dtype), jnp.asarray(eta, z0.dtype), T, True)
    return GameRun(_finite("extragradient", np.asarray(d), "eta"), np.arange(T + 1) * 2 * game.A.shape[0])


@partial(jax.jit, static_argnames=("T", "chains"))
def _seg(key, game, z0, zstar, eta, T, chains):
    n = game.A.shape[0]

    def one(k):
        def step(z, kk):
            i = jax.random.randint(kk, (), 0, n)
            z = z - eta * _F(game, z - eta * _F(game, z, i), i)
            return z, jnp.linalg.norm(z - zstar)

        _, d = jax.lax.scan(step, z0, jax.random.split(k, T))
        return d

    d = jax.vmap(one)(jax.random.split(key, chains)).T
    return jnp.concatenate([jnp.full((1, chains), jnp.linalg.norm(z0 - zstar)), d])


def stochastic_extragradient(key: jax.Array, game: Game, z0: jax.Array, eta: float, T: int, chains: int = 1) -> GameRun:
    """Same-sample SEG: :math:`z_{k+1}=z_k-\\eta F_i(z_k-\\eta F_i(z_k))`, :math:`i` uniform; ``chains`` independent runs (2 calls per step)."""
    _checks.prng_key("key", key)
    z0 = _check_z0(_check_game(game), z0)
    _checks.positive("eta", eta)
    chains = _checks.positive_int("chains", chains)
    T = _check_steps(T, chains, game.A.shape[-1])
    d = _seg(key, game, z0, jnp.asarray(saddle_point(game), z0.dtype), jnp.asarray(eta, z0.dtype), T, chains)
    return GameRun(_finite("stochastic_extragradient", np.asarray(d), "eta"), 2.0 * np.arange(T + 1))


@partial(jax.jit, static_argnames=("T", "chains"))
def _vr(key, game, z0, zstar, tau, p, alpha, T, chains):
    n = game.A.shape[0]

    def one(k):
        def step(carry, kk):
            z, w, Fw, calls = carry
            ki, kc = jax.random.split(kk)
            i = jax.random.randint(ki, (), 0, n)
            zbar = alpha * z + (1 - alpha) * w
            zh = zbar - tau * Fw
            z = zbar - tau * (Fw + _F(game, zh, i) - _F(game, w, i))
            refresh = jax.random.bernoulli(kc, p)
            w = jnp.where(refresh, z, w)
            Fw = jnp.where(refresh, _F(game, z), Fw)
            calls = calls + 2 + n * refresh
            return (z, w, Fw, calls), (jnp.linalg.norm(z - zstar), calls)

        _, (d, c) = jax.lax.scan(step, (z0, z0, _F(game, z0), jnp.asarray(n, jnp.float32)), jax.random.split(k, T))
        return d, c

    d, c = jax.vmap(one)(jax.random.split(key, chains))
    d = jnp.concatenate([jnp.full((1, chains), jnp.linalg.norm(z0 - zstar)), d.T])
    return d, jnp.concatenate([jnp.array([n], jnp.float32), c.mean(0)])


def vr_extragradient(
    key: jax.Array, game: Game, z0: jax.Array, T: int, p: float | None = None, tau: float | None = None,
    alpha: float | None = None, chains: int = 1,
) -> GameRun:
    """Loopless variance-reduced extragradient (Alacaoglu & Malitsky 2022, Alg. 1); see the module docstring.

    Defaults: :math:`p=1/n`, :math:`\\alpha=1-p`, :math:`\\tau=0.99\\sqrt p/L` (their step).  The run starts
    with :math:`w_0=z_0` (n calls for :math:`F(w_0)`); ``calls`` is the mean over chains.
    """
    _checks.prng_key("key", key)
    z0 = _check_z0(_check_game(game), z0)
    chains = _checks.positive_int("chains", chains)
    T = _check_steps(T, chains, game.A.shape[-1])
    n = game.A.shape[0]
    p = 1.0 / n if p is None else _check_p(p)
    alpha = 1.0 - p if alpha is None else _checks.in_range("alpha", alpha, 0.0, 1.0)
    tau = 0.99 * np.sqrt(p) / lipschitz_mean_square(game) if tau is None else _checks.positive("tau", tau)
    dt = z0.dtype
    d, c = _vr(key, game, z0, jnp.asarray(saddle_point(game), dt), jnp.asarray(tau, dt),
               jnp.asarray(p, dt), jnp.asarray(alpha, dt), T, chains)
    return GameRun(_finite("vr_extragradient", np.asarray(d), "tau"), np.asarray(c))


# ---------------------------------------------------------------------------
# exact second moments of the stochastic methods
# ---------------------------------------------------------------------------


def _aff(M: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The affine map z -> M z + q as a matrix acting on (z, 1)."""
    m = M.shape[0]
    out = np.zeros((m + 1, m + 1))
    out[:m, :m], out[:m, m], out[m, m] = M, q, 1.0
    return out


def seg_linear_maps(game: Game, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """SEG's random affine step as matrices ``G_i`` on :math:`u=(z,1)` with their probabilities: ((n, 2d+1, 2d+1), (n,))."""
    n = _check_game(game).A.shape[0]
    _checks.positive("eta", eta)
    maps = []
    for i in range(n):
        M, q = operator_matrix(game, i)
        I = np.eye(M.shape[0])
        half = _aff(I - eta * M, -eta * q)  # u -> (z - eta F_i(z), 1)
        top = np.hstack([I, np.zeros((M.shape[0], 1))]) - eta * np.hstack([M, q[:, None]]) @ half
        maps.append(np.vstack([top, half[-1:]]))
    return _finite("seg_linear_maps", np.stack(maps), "eta"), np.full(n, 1.0 / n)


def vr_eg_linear_maps(game: Game, tau: float, p: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """VR-EG's step on :math:`u=(z,w,1)` (refresh or not, component i): ((2n, 4d+1, 4d+1), (2n,))."""
    n = _check_game(game).A.shape[0]
    _checks.positive("tau", tau)
    _check_p(p)
    _checks.in_range("alpha", alpha, 0.0, 1.0)
    Mbar, qbar = operator_matrix(game)
    m = Mbar.shape[0]
    I = np.eye(m)
    maps, probs = [], []
    for i in range(n):
        Mi, _ = operator_matrix(game, i)
        # zbar = a z + (1-a) w ; zh = zbar - tau (Mbar w + qbar)
        # z+ = zbar - tau [Mbar w + qbar + Mi zh - Mi w]   (the q_i cancel)
        Zb = np.hstack([alpha * I, (1 - alpha) * I, np.zeros((m, 1))])
        Fw = np.hstack([np.zeros((m, m)), Mbar, qbar[:, None]])
        Zh = Zb - tau * Fw
        Wm = np.hstack([np.zeros((m, m)), I, np.zeros((m, 1))])
        Zp = Zb - tau * (Fw + Mi @ Zh - Mi @ Wm)
        last = np.zeros((1, 2 * m + 1))
        last[0, -1] = 1.0
        for refresh, pr in ((True, p), (False, 1 - p)):
            maps.append(np.vstack([Zp, Zp if refresh else Wm, last]))
            probs.append(pr / n)
    return _finite("vr_eg_linear_maps", np.stack(maps), "tau"), np.array(probs)


def second_moment_curve(maps: np.ndarray, probs: np.ndarray, u0: np.ndarray, zstar: np.ndarray, T: int) -> np.ndarray:
    """Exact :math:`\\mathbb E\\|z_k-z^\\star\\|^2`, k = 0..T, for :math:`u_{k+1}=G u_k` with :math:`G=G_j` w.p. ``probs[j]``.

    :math:`S_{k+1}=\\sum_jp_jG_jS_kG_j^\\top` with :math:`S_k=\\mathbb E[u_ku_k^\\top]`; :math:`z` is the first
    ``len(zstar)`` coordinates of :math:`u` and the last one is the constant 1.
    """
    maps = np.asarray(_checks.finite_array("maps", maps, ndim=3), np.float64)
    k, s, s2 = maps.shape
    if s != s2:
        raise ValueError(f"maps must be a stack of square matrices (k, s, s), got shape {maps.shape}")
    probs = _checks.real_array("probs", probs, low=0.0)
    if probs.shape != (k,):
        raise ValueError(f"probs must have shape ({k},), one probability per map, got shape {probs.shape}")
    if not abs(probs.sum() - 1.0) <= 1e-6:
        raise ValueError(f"probs must sum to 1, got a sum of {probs.sum():g}")
    u0 = np.asarray(_checks.finite_array("u0", u0, ndim=1, last=s), np.float64)
    if u0[-1] != 1.0:
        raise ValueError(f"u0 must end with the constant 1 (u = (z, 1) or (z, w, 1)), got a last entry of {u0[-1]:g}")
    zstar = np.asarray(_checks.finite_array("zstar", zstar, ndim=1), np.float64)
    if zstar.shape[0] >= s:
        raise ValueError(f"zstar must be shorter than u0 (it is compared with the first coordinates of u), got "
                         f"shape {zstar.shape} for u0 of shape {u0.shape}")
    T = _checks.positive_int("T", T)
    _checks.work_size(f"T={T} steps of {k} maps of size {s}", steps=T, size=k * s**3, max_work=_checks.MAX_WORK,
                      how="use a smaller T")
    m = len(zstar)
    S = np.outer(u0, u0)
    out = np.empty(T + 1)
    P = np.zeros((m, len(u0)))
    P[:, :m], P[:, -1] = np.eye(m), -zstar  # e = z - z*
    for k in range(T + 1):
        out[k] = np.trace(P @ S @ P.T)
        S = np.tensordot(probs, maps @ S @ maps.transpose(0, 2, 1), axes=1)
    return out
