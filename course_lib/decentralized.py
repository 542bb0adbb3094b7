r"""Decentralized SGD: gossip matrices, spectral gaps, and consensus against optimization error.

Setting.  :math:`m` agents, agent :math:`j` holding its own least-squares data
:math:`(a_{ji},y_{ji})_{i\le n_0}` and the local loss :math:`f_j(x)=\frac1{2n_0}\sum_i(a_{ji}^\top x-y_{ji})^2`;
the goal is :math:`x^\star=\arg\min\frac1m\sum_jf_j`.  Agents talk only to their neighbours in
a graph, through a *gossip matrix* :math:`W` (symmetric, doubly stochastic, :math:`W_{jk}>0`
only on edges).  Decentralized SGD (D-SGD, Lian et al. :cite:`lian2017decentralized`; the
form of Koloskova et al. :cite:`koloskova2020unified`) stacks the agents' iterates in the
rows of :math:`X_t\in\mathbb R^{m\times d}`:

.. math::

    X_{t+1}=W\big(X_t-\eta G_t\big),\qquad G_t[j]=\text{a stochastic gradient of }f_j\text{ at }X_t[j]

(one sample of agent :math:`j`'s own data).  With :math:`W=\frac1m\mathbf 1\mathbf 1^\top` this is
centralized minibatch SGD with one sample per agent (an all-reduce of the gradients).

Spectral gap.  Let :math:`\lambda=\max_{l\ge2}|\lambda_l(W)|=\|W-\tfrac1m\mathbf 1\mathbf 1^\top\|_2`.
Gossip alone contracts the *consensus error*
:math:`\Xi_t=\frac1m\sum_j\|X_t[j]-\bar x_t\|^2` by at least :math:`\lambda^2` per step (exactly,
asymptotically).  In D-SGD the local steps pull the agents apart again: with gradient
noise of variance :math:`\sigma^2` and heterogeneity :math:`\zeta^2=\frac1m\sum_j\|\nabla f_j(x^\star)\|^2`,
Koloskova et al. bound the consensus error by
:math:`O\big(\eta^2(\sigma^2/p+\zeta^2/p^2)\big)` with :math:`p=1-\lambda^2`: the
heterogeneity term grows like the inverse *square* of the gap.  Hendrikx, Bach and
Massoulié :cite:`hendrikx2019asynchronous` give accelerated, variance-reduced versions.

Exact prediction.  On least squares with gradient noise taken at :math:`x^\star` (additive,
covariance :math:`C_j` for agent :math:`j`) the recursion is linear in
:math:`e_t=\mathrm{vec}(X_t-\mathbf 1x^{\star\top})`: :math:`e_{t+1}=A e_t-\eta B(\zeta+\xi_t)`,
:math:`A=(W\otimes I)(I-\eta\,\mathrm{blockdiag}(H_j))`, :math:`B=W\otimes I`.  Its stationary mean
:math:`\bar e=-\eta(I-A)^{-1}B\zeta` and covariance :math:`\Sigma=A\Sigma A^\top+\eta^2BCB^\top`
(a discrete Lyapunov equation) give the stationary consensus and optimization errors
(:func:`stationary_errors`).  The sampled gradients' covariance in fact moves with the
iterate; this is the (first-order in :math:`\eta`) approximation.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "GRAPHS",
    "graph",
    "metropolis_weights",
    "gossip_matrix",
    "second_eigenvalue",
    "spectral_gap",
    "LocalData",
    "make_local_data",
    "optimum",
    "DSGDRun",
    "dsgd",
    "Stationary",
    "stationary_errors",
]

GRAPHS = ("ring", "path", "grid", "hypercube", "complete")


def graph(name: str, m: int):
    """A networkx graph on ``m`` nodes labelled 0..m-1: ``ring``, ``path``, ``grid`` (square, m a square),
    ``hypercube`` (m a power of 2) or ``complete``."""
    import networkx as nx

    _checks.one_of("name", name, GRAPHS)
    m = _checks.positive_int("m", m)
    if name == "ring":
        g = nx.cycle_graph(m)
    elif name == "path":
        g = nx.path_graph(m)
    elif name == "complete":
        g = nx.complete_graph(m)
    elif name == "grid":
        s = int(round(np.sqrt(m)))
        if s * s != m:
            raise ValueError(f"m must be a perfect square for a grid, got {m}")
        g = nx.grid_2d_graph(s, s)
    elif name == "hypercube":
        k = int(round(np.log2(m)))
        if 2**k != m:
            raise ValueError(f"m must be a power of 2 for a hypercube, got {m}")
        g = nx.hypercube_graph(k)
    else:
        raise ValueError(f"name must be one of {GRAPHS}, got {name!r}")
    return nx.convert_node_labels_to_integers(g, ordering="sorted")


def metropolis_weights(g) -> np.ndarray:
    """Metropolis--Hastings gossip weights :math:`W_{jk}=1/(1+\\max(d_j,d_k))` on edges, :math:`W_{jj}=1-\\sum_{k\\ne j}W_{jk}`.

    Symmetric and doubly stochastic for any undirected graph (:cite:`xiao2004fast`).
    """
    if not (hasattr(g, "number_of_nodes") and hasattr(g, "edges") and hasattr(g, "degree")):
        raise ValueError(f"g must be a networkx graph (see graph), got {type(g).__name__}")
    m = g.number_of_nodes()
    if m == 0 or set(g.nodes()) != set(range(m)):
        raise ValueError(f"g must have nodes labelled 0..m-1 (networkx.convert_node_labels_to_integers), got "
                         f"{m} nodes{'' if m == 0 else ' with other labels'}")
    if g.is_directed():
        raise ValueError("g must be an undirected graph (Metropolis weights are symmetric)")
    W = np.zeros((m, m))
    deg = dict(g.degree())
    for j, k in g.edges():
        W[j, k] = W[k, j] = 1.0 / (1.0 + max(deg[j], deg[k]))
    W[np.diag_indices(m)] = 1.0 - W.sum(1)
    return W


def gossip_matrix(name: str, m: int) -> np.ndarray:
    """The Metropolis gossip matrix (m, m) of a named graph (see :func:`graph`); ``complete`` gives :math:`\\frac1m\\mathbf 1\\mathbf 1^\\top`."""
    return metropolis_weights(graph(name, m))


def second_eigenvalue(W) -> float:
    """:math:`\\lambda=\\max_{l\\ge2}|\\lambda_l(W)|=\\|W-\\frac1m\\mathbf 1\\mathbf 1^\\top\\|_2` for a symmetric doubly stochastic W."""
    W = _checks.real_array("W", W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    if not (np.allclose(W, W.T) and np.allclose(W.sum(1), 1.0)):
        raise ValueError("W must be symmetric with rows summing to 1")
    m = W.shape[0]
    return float(np.max(np.abs(np.linalg.eigvalsh(W - np.full((m, m), 1.0 / m)))))


def spectral_gap(W) -> float:
    """:math:`1-\\lambda` with :math:`\\lambda` of :func:`second_eigenvalue`."""
    return 1.0 - second_eigenvalue(W)


class LocalData(NamedTuple):
    """Agent j's samples ``a[j]`` (m, n0, d) and targets ``y[j]`` (m, n0)."""

    a: jax.Array
    y: jax.Array


def make_local_data(key: jax.Array, m: int, n0: int, d: int, heterogeneity: float = 1.0, noise: float = 0.5) -> LocalData:
    """Least squares with heterogeneous agents: :math:`y_{ji}=a_{ji}^\\top(x_0+h\\,u_j)+\\text{noise}`, Gaussian
    :math:`a_{ji}\\sim\\mathcal N(0,I/d)`, :math:`x_0,u_j\\sim\\mathcal N(0,I)`; ``heterogeneity`` is :math:`h`."""
    _checks.prng_key("key", key)
    m, n0, d = (_checks.positive_int(k, v) for k, v in (("m", m), ("n0", n0), ("d", d)))
    _checks.nonnegative("heterogeneity", heterogeneity)
    _checks.nonnegative("noise", noise)
    return LocalData(*_random_data(key, jnp.asarray(heterogeneity, jnp.float32), jnp.asarray(noise, jnp.float32), m, n0, d))


@partial(jax.jit, static_argnames=("m", "n0", "d"))
def _random_data(key, heterogeneity, noise, m, n0, d):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    a = jax.random.normal(k1, (m, n0, d)) / np.sqrt(d)
    w = jax.random.normal(k2, (d,)) + heterogeneity * jax.random.normal(k3, (m, d))
    y = jnp.einsum("jid,jd->ji", a, w) + noise * jax.random.normal(k4, (m, n0))
    return a, y


def _check_data(data) -> LocalData:
    if not isinstance(data, LocalData):
        raise ValueError(f"data must be a course_lib.decentralized.LocalData (see make_local_data), got "
                         f"{type(data).__name__}")
    return data


def _check_W(W, m: int) -> np.ndarray:
    """W as a finite float64 (m, m) array (any mixing matrix: D-SGD also runs with non-gossip ones)."""
    W = _checks.real_array("W", W)
    if W.shape != (m, m):
        raise ValueError(f"W must have shape ({m}, {m}) (one row and column per agent), got shape {W.shape}")
    return W


def _local_stats(data: LocalData):
    _check_data(data)
    a, y = np.asarray(data.a, np.float64), np.asarray(data.y, np.float64)
    H = np.einsum("jia,jib->jab", a, a) / a.shape[1]
    h = np.einsum("jia,ji->ja", a, y) / a.shape[1]
    return a, y, H, h


def optimum(data: LocalData) -> np.ndarray:
    """:math:`x^\\star=(\\sum_jH_j)^{-1}\\sum_jh_j`, :math:`H_j=\\frac1{n_0}\\sum_ia_{ji}a_{ji}^\\top`, :math:`h_j=\\frac1{n_0}\\sum_iy_{ji}a_{ji}`."""
    _, _, H, h = _local_stats(data)
    try:
        return np.linalg.solve(H.sum(0), h.sum(0))
    except np.linalg.LinAlgError:
        raise ValueError("data has a singular total Hessian (fewer samples than dimensions in all?): the "
                         "least-squares optimum is not unique") from None


class DSGDRun(NamedTuple):
    """Per step t = 0..T: consensus error :math:`\\Xi_t` and optimization error :math:`\\|\\bar x_t-x^\\star\\|^2` (NumPy)."""

    consensus: np.ndarray
    opt: np.ndarray


@partial(jax.jit, static_argnames=("T",))
def _dsgd(key, a, y, W, X0, xstar, eta, T):
    m, n0, _ = a.shape
    rows = jnp.arange(m)

    def errs(X):
        xbar = X.mean(0)
        return jnp.mean(jnp.sum((X - xbar) ** 2, -1)), jnp.sum((xbar - xstar) ** 2)

    def step(X, k):
        i = jax.random.randint(k, (m,), 0, n0)
        ai, yi = a[rows, i], y[rows, i]  # one own sample per agent: (m, d), (m,)
        G = jax.vmap(lambda x, s, t: s * (s @ x - t))(X, ai, yi)
        X = W @ (X - eta * G)  # local step, then one gossip round
        return X, errs(X)

    _, (c, o) = jax.lax.scan(step, X0, jax.random.split(key, T))
    c0, o0 = errs(X0)
    return jnp.concatenate([c0[None], c]), jnp.concatenate([o0[None], o])


def dsgd(key: jax.Array, data: LocalData, W, eta: float, T: int, X0=None) -> DSGDRun:
    """T rounds of :math:`X\\leftarrow W(X-\\eta G)` with one own sample per agent (vmap over agents, one scan).

    ``W`` (m, m) and ``eta`` are traced: every graph with the same m and every step share one
    compilation; ``eta = 0`` is pure gossip; ``W = ones/m`` is centralized SGD (all-reduce).
    ``X0`` (m, d) defaults to zeros.
    """
    _checks.prng_key("key", key)
    m, _, d = _check_data(data).a.shape
    W = jnp.asarray(_check_W(W, m), data.a.dtype)
    _checks.nonnegative("eta", eta)
    T = _checks.positive_int("T", T)
    _checks.work_size(f"T={T} rounds x {m} agents in dimension {d}", steps=T, size=m * (m + 2) * d,
                      record_bytes=16.0 * (T + 1))
    if X0 is None:
        X0 = jnp.zeros((m, d), data.a.dtype)
    else:
        X0 = _checks.finite_array("X0", X0, ndim=2)
        if X0.shape != (m, d):
            raise ValueError(f"X0 must have shape ({m}, {d}) (one row per agent), got shape {tuple(X0.shape)}")
        X0 = X0.astype(data.a.dtype)
    c, o = _dsgd(key, data.a, data.y, W, X0, jnp.asarray(optimum(data), data.a.dtype), jnp.asarray(eta, data.a.dtype), T)
    c, o = np.asarray(c), np.asarray(o)
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(o))):
        from .divergence import DivergenceError

        raise DivergenceError("dsgd diverged: the errors became infinite or NaN; use a smaller eta")
    return DSGDRun(c, o)


class Stationary(NamedTuple):
    """Predicted stationary errors: consensus (heterogeneity part, noise part) and optimization (total)."""

    consensus_het: float
    consensus_noise: float
    opt: float

    @property
    def consensus(self) -> float:
        return self.consensus_het + self.consensus_noise


def stationary_errors(data: LocalData, W, eta: float) -> Stationary:
    """Stationary :math:`\\mathbb E\\,\\Xi` and :math:`\\mathbb E\\|\\bar x-x^\\star\\|^2` of D-SGD from the linear model (module docstring).

    :math:`C_j` is the covariance of one sampled gradient of agent j at :math:`x^\\star`.
    """
    from scipy.linalg import solve_discrete_lyapunov

    a, y, H, h = _local_stats(data)
    m, _, d = a.shape
    W = _check_W(W, m)
    _checks.positive("eta", eta)
    xs = optimum(data)
    zeta = np.einsum("jab,b->ja", H, xs) - h  # grad f_j(x*), (m, d)
    g = a * (np.einsum("jia,a->ji", a, xs) - y)[..., None]  # sampled gradients at x*, (m, n0, d)
    C = np.einsum("jia,jib->jab", g, g) / a.shape[1] - np.einsum("ja,jb->jab", zeta, zeta)
    I = np.eye(d)
    B = np.kron(W, I)
    Hb = np.zeros((m * d, m * d))
    Cb = np.zeros((m * d, m * d))
    for j in range(m):
        Hb[j * d:(j + 1) * d, j * d:(j + 1) * d] = H[j]
        Cb[j * d:(j + 1) * d, j * d:(j + 1) * d] = C[j]
    A = B @ (np.eye(m * d) - eta * Hb)
    radius = float(np.max(np.abs(np.linalg.eigvals(A))))
    if not radius < 1.0:
        raise ValueError(f"eta={eta!r} (with this W) gives an unstable linear recursion (spectral radius {radius:.4g} "
                         ">= 1): there is no stationary distribution; use a smaller eta, or a W with a spectral gap")
    ebar = -eta * np.linalg.solve(np.eye(m * d) - A, B @ zeta.ravel())
    Sigma = solve_discrete_lyapunov(A, eta**2 * B @ Cb @ B.T)
    Pp = np.kron(np.eye(m) - np.full((m, m), 1.0 / m), I)
    Pa = np.kron(np.full((1, m), 1.0 / m), I)
    return Stationary(
        float(np.sum((Pp @ ebar) ** 2) / m),
        float(np.trace(Pp @ Sigma @ Pp.T) / m),
        float(np.sum((Pa @ ebar) ** 2) + np.trace(Pa @ Sigma @ Pa.T)),
    )
