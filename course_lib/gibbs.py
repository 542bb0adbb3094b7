r"""The Boltzmann--Gibbs law of constant-step SGD: predictions and their comparison with simulations.

For SGD with constant step :math:`\eta` the invariant measure gives a critical
component :math:`K_i` a mass :math:`\approx e^{-E_i/\eta}` (energies
:math:`E_i` from :mod:`course_lib.energy`, :cite:`azizian2024longrun`); for
gradient systems with Gaussian noise of size :math:`\sigma` the whole law is,
to leading order, :math:`p(x)\propto e^{-2f(x)/(\sigma^2\eta)}` (with the
power-law analogue for state-dependent noise).

* :func:`gibbs_weights`, :func:`laplace_weights` -- masses of the components;
* :func:`gibbs_density` -- cell probabilities of the law on a 2-D grid;
  :func:`grid_mass_near` -- the mass of such a grid law near given points
  (not :func:`course_lib.gibbs.histogram_mass_near`, which splits a histogram of
  the simulator among basins); :func:`sample_grid` -- points drawn from it;
* :func:`compare_with_gibbs` -- SGD on the engine
  (:func:`course_lib.simulate.occupation_histogram`) against the prediction,
  with the total variation distance;
* near one minimiser, the linearised (Gaussian) law:
  :func:`linearized_covariance`, and its comparison with a simulated
  histogram, :func:`histogram_mass_near`, :func:`predicted_mass_outside`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "gibbs_weights",
    "laplace_weights",
    "gibbs_density",
    "grid_mass_near",
    "sample_grid",
    "GibbsComparison",
    "compare_with_gibbs",
    "linearized_covariance",
    "histogram_mass_near",
    "predicted_mass_outside",
]


def gibbs_weights(E: Any, step: float) -> np.ndarray:
    r"""Boltzmann--Gibbs weights :math:`\mu(K_i) = e^{-E_i/\eta}/\sum_j e^{-E_j/\eta}`, shape ``(p,)``."""
    E = np.asarray(_checks.finite_array("E", E), dtype=float)
    _checks.positive("step", step)
    if E.ndim != 1 or np.isnan(E).any():
        raise ValueError(f"E must be a 1-D array of energies, got shape {E.shape}")
    a = -(E - E.min()) / float(step)
    w = np.exp(a)
    return w / w.sum()


def _grid_edges(edges: Any, name: str = "edges") -> tuple[np.ndarray, np.ndarray]:
    """Two increasing 1-D arrays of at least two bin edges each, as float64."""
    if edges is None or isinstance(edges, (str, bytes)) or not hasattr(edges, "__len__") or len(edges) != 2:
        raise ValueError(f"{name} must hold two arrays of bin edges (x edges, y edges), got {edges!r}"[:200])
    out = []
    for e in edges:
        e = _checks.real_array(name, e)
        if e.ndim != 1 or e.size < 2 or not np.all(np.diff(e) > 0):
            raise ValueError(f"{name} must hold two increasing 1-D arrays of at least 2 bin edges, got {e!r}"[:200])
        out.append(e)
    return out[0], out[1]


def _probs_grid(probs: Any, ex: np.ndarray, ey: np.ndarray) -> np.ndarray:
    P = _checks.real_array("probs", probs)
    if P.shape != (ex.size - 1, ey.size - 1):
        raise ValueError(f"probs must have shape {(ex.size - 1, ey.size - 1)} (one value per cell of edges), "
                         f"got {P.shape}")
    return P


def _check_hist(hist: Any) -> Any:
    if not (hasattr(hist, "edges") and hasattr(hist, "counts") and hasattr(hist, "n_samples")):
        raise ValueError(f"hist must be a course_lib.simulate.Histogram (from occupation_histogram), got "
                         f"{type(hist).__name__}")
    return hist


def laplace_weights(values: Any, hessians: Any, sigma: float, step: float, noise: str = "gaussian") -> np.ndarray:
    r"""Masses near the minima from Laplace's method on the Gibbs density, shape ``(m,)``.

    Gaussian noise: density :math:`\propto e^{-2f(x)/(\sigma^2\eta)}`, so the mass
    near a minimum :math:`K_i` is
    :math:`\propto e^{-2f(K_i)/(\sigma^2\eta)}\,\det(\nabla^2 f(K_i))^{-1/2}`.
    Power-law noise: :math:`\log f` replaces :math:`f`, so
    :math:`\propto f(K_i)^{-2/(\sigma^2\eta)}\det(\nabla^2 f(K_i)/f(K_i))^{-1/2}`.
    ``values``: ``(m,)`` :math:`f` at the minima; ``hessians``: ``(m, d, d)``.
    Normalised to sum to one over the given minima.
    """
    v = _checks.real_array("values", values)
    H = _checks.real_array("hessians", hessians)
    if v.ndim != 1 or H.shape[:1] != v.shape or H.ndim != 3 or H.shape[1] != H.shape[2]:
        raise ValueError(f"values must be (m,) and hessians (m, d, d), got {v.shape} and {H.shape}")
    _checks.positive("sigma", sigma)
    _checks.positive("step", step)
    _checks.one_of("noise", noise, ("gaussian", "power_law"))
    if np.any(np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, 1, 2))) <= 0):
        raise ValueError("hessians must be positive definite (Laplace's method at minima)")
    t = 2.0 / float(sigma) / float(sigma) / float(step)  # no overflow for a huge sigma
    if noise == "gaussian":
        log_w = -t * v - 0.5 * np.log(np.linalg.det(H))
    else:
        if (v <= 0).any():
            raise ValueError("values must be > 0 for power-law noise")
        log_w = -t * np.log(v) - 0.5 * np.log(np.linalg.det(H / v[:, None, None]))
    log_w -= log_w.max()
    w = np.exp(log_w)
    return w / w.sum()


def gibbs_density(
    f: Callable[[Any], Any],
    edges: Sequence[Any],
    sigma: float,
    step: float,
    noise: str = "gaussian",
    shift: float = 0.0,
    oversample: int = 4,
) -> np.ndarray:
    r"""The Gibbs law integrated over the cells of a 2-D grid: probabilities ``(n_x, n_y)`` summing to one.

    Evaluated at the cell centres of ``edges`` (two arrays of bin edges, as in
    :class:`course_lib.simulate.Histogram`), for the diffusion approximation
    :math:`dX = -\nabla f\,dt + \sqrt{\eta}\,\Sigma(X)^{1/2} dW` of SGD:

    * ``"gaussian"``: :math:`p(x)\propto e^{-2f(x)/(\sigma^2\eta)}`;
    * ``"power_law"``, noise :math:`\mathcal N(0, \sigma^2 g(x) I)` with
      :math:`g = f + \text{shift} > 0`: :math:`p(x)\propto g(x)^{-1-2/(\sigma^2\eta)}`
      (the :math:`-1` is the Itô correction of a state-dependent noise; the
      large-deviation energy only sees the exponent :math:`2/(\sigma^2\eta)`).

    Each cell's probability is the mean of the density at ``oversample`` x
    ``oversample`` points inside it (the density can vary within a cell).
    """
    _checks.positive("sigma", sigma)
    _checks.positive("step", step)
    _checks.one_of("noise", noise, ("gaussian", "power_law"))
    _checks.is_callable("f", f)
    _checks.real("shift", shift)
    ex, ey = _grid_edges(edges)
    s = _checks.positive_int("oversample", oversample)
    sub = (np.arange(s) + 0.5) / s
    cx = (ex[:-1, None] + sub[None] * np.diff(ex)[:, None]).ravel()
    cy = (ey[:-1, None] + sub[None] * np.diff(ey)[:, None]).ravel()
    Xc, Yc = np.meshgrid(cx, cy, indexing="ij")
    F = np.asarray(f(jnp.asarray(np.stack([Xc, Yc], -1))), dtype=float)
    if not np.all(np.isfinite(F)):
        raise ValueError("f must be finite on the grid of edges (got NaN or inf values)")
    t = 2.0 / float(sigma) / float(sigma) / float(step)
    if noise == "gaussian":
        log_p = -t * F
    else:
        g = F + float(shift)
        if (g <= 0).any():
            raise ValueError("shift must make f + shift > 0 on the grid for power-law noise")
        log_p = -(1.0 + t) * np.log(g)
    log_p -= log_p.max()
    p = np.exp(log_p).reshape(ex.size - 1, s, ey.size - 1, s).sum(axis=(1, 3))
    return p / p.sum()


def grid_mass_near(probs: Any, edges: Sequence[Any], centers: Any, radius: float) -> np.ndarray:
    r"""Mass of a 2-D grid of cell probabilities within ``radius`` of each centre, shape ``(k,)``.

    ``probs``: ``(n_x, n_y)`` (e.g. ``hist.counts / hist.n_samples`` or
    :func:`gibbs_density`); ``edges``: the two edge arrays; ``centers``: ``(k, 2)``.
    A cell counts for a centre when the cell's centre is within ``radius``.
    """
    ex, ey = _grid_edges(edges)
    P = _probs_grid(probs, ex, ey)
    C = _checks.real_array("centers", centers)
    _checks.positive("radius", radius)
    if C.ndim != 2 or C.shape[1] != 2:
        raise ValueError(f"centers must be (k, 2), got {C.shape}")
    radius = min(float(radius), 1e150)  # radius**2 below: no overflow
    cx, cy = (0.5 * (e[1:] + e[:-1]) for e in (ex, ey))
    Xc, Yc = np.meshgrid(cx, cy, indexing="ij")
    return np.array([P[(Xc - a) ** 2 + (Yc - b) ** 2 <= radius**2].sum() for a, b in C])


def sample_grid(key: jax.Array, probs: Any, edges: Sequence[Any], n: int) -> jax.Array:
    r"""``n`` points drawn from a 2-D grid law: a cell with probability ``probs``, then uniformly in it.

    ``probs``: ``(n_x, n_y)`` summing to one (e.g. :func:`gibbs_density`);
    ``edges``: the two edge arrays.  Returns ``(n, 2)`` float32.
    """
    _checks.prng_key("key", key, batched=True)
    ex, ey = _grid_edges(edges)
    P = _probs_grid(probs, ex, ey)
    n = _checks.positive_int("n", n)
    if P.ndim != 2 or (P < 0).any() or not np.isclose(P.sum(), 1.0):
        raise ValueError("probs must be a (n_x, n_y) array of probabilities summing to one")
    k1, k2 = jax.random.split(key)
    # inverse CDF (cumsum + search): O(n log cells) memory-light; categorical's Gumbel trick would
    # materialise an (n, cells) array (8000 x 6400 floats, about 1 GiB with its temporaries)
    cell = jax.random.choice(k1, P.size, shape=(n,), p=jnp.asarray(P.ravel(), jnp.float32))
    i, j = cell // P.shape[1], cell % P.shape[1]
    u = jax.random.uniform(k2, (n, 2))
    lo = jnp.stack([jnp.asarray(ex[:-1])[i], jnp.asarray(ey[:-1])[j]], -1)
    width = jnp.asarray([ex[1] - ex[0], ey[1] - ey[0]])
    return (lo + u * width).astype(jnp.float32)


class GibbsComparison(NamedTuple):
    r"""Result of :func:`compare_with_gibbs`.

    ``hist``: the :class:`course_lib.simulate.Histogram` of the iterates;
    ``probs``: ``(n_x, n_y)`` Gibbs cell probabilities (:func:`gibbs_density`);
    ``occupation``: ``(n_x, n_y)`` occupation fractions *within* the window;
    ``tv``: total variation distance :math:`\frac12\sum|\text{occupation} - \text{probs}|`.
    """

    hist: Any
    probs: np.ndarray
    occupation: np.ndarray
    tv: float


@dataclasses.dataclass(frozen=True)
class _Shifted:
    """``f + shift``, equal (and hashed) by value, so the simulators do not recompile for the same pair."""

    f: Callable
    shift: float

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f(x) + self.shift


def _shifted(f: Callable, shift: float) -> Callable:
    """``f + shift`` (``f`` itself when ``shift`` is 0)."""
    return f if shift == 0.0 else _Shifted(f, float(shift))


def compare_with_gibbs(
    key: jax.Array,
    f: Callable[[jax.Array], jax.Array],
    *,
    sigma: float,
    step: float,
    noise: str = "gaussian",
    shift: float = 0.0,
    n_chains: int = 10_000,
    n_steps: int = 2000,
    burn_in: int | None = None,
    x0: Any = None,
    low: Sequence[float] = (-6.0, -6.0),
    high: Sequence[float] = (6.0, 6.0),
    n_bins: int = 80,
) -> GibbsComparison:
    r"""Simulate SGD on a 2-D landscape and compare its occupation with the Gibbs law.

    ``noise="gaussian"``: :math:`Z\sim\mathcal N(0,\sigma^2 I)` on ``f``;
    ``noise="power_law"``: :math:`Z\sim\mathcal N(0,\sigma^2 (f + \text{shift}) I)`
    (SGD runs on ``f + shift``, which has the same gradient).  Chains start at
    ``x0`` (``(n_chains, 2)``), or, if ``None``, are drawn from the Gibbs law
    itself (:func:`sample_grid`): then the occupation can only drift away from
    the prediction, and the distance measures how far the law is from
    invariant.  ``burn_in`` defaults to ``n_steps // 4``.  Traced step and
    noise level: no recompilation across calls with the same sizes.
    """
    _checks.prng_key("key", key, batched=True)
    from . import noise as noise_mod
    from . import simulate

    _checks.one_of("noise", noise, ("gaussian", "power_law"))
    _checks.is_callable("f", f)
    _checks.positive("sigma", sigma)
    _checks.positive("step", step)
    _checks.real("shift", shift)
    _checks.positive_int("n_bins", n_bins)
    n_chains = _checks.positive_int("n_chains", n_chains)
    n_steps = _checks.positive_int("n_steps", n_steps)
    objective = f if noise == "gaussian" else _shifted(f, shift)
    model = noise_mod.gaussian(sigma) if noise == "gaussian" else noise_mod.power_law(sigma)
    edges = tuple(np.linspace(lo, hi, n_bins + 1) for lo, hi in zip(low, high))
    probs = gibbs_density(f, edges, sigma, step, noise, shift)
    k0, k1 = jax.random.split(key)
    if x0 is None:
        x0 = sample_grid(k0, probs, edges, n_chains)
    hist = simulate.occupation_histogram(
        k1, objective, model, x0, step, n_steps, low=jnp.asarray(low), high=jnp.asarray(high), n_bins=n_bins,
        burn_in=n_steps // 4 if burn_in is None else burn_in,
    )
    occ = hist.counts / max(hist.counts.sum(), 1)
    return GibbsComparison(hist, probs, occ, float(0.5 * np.abs(occ - probs).sum()))


# ---------------------------------------------------------------------------
# near a minimiser: the linearised prediction and its comparison with a histogram
# ---------------------------------------------------------------------------


def linearized_covariance(hessian: Any, step: float, sigma: float) -> np.ndarray:
    r"""Stationary covariance of SGD linearised at a minimiser, Gaussian noise.

    Near :math:`x^\star` with Hessian :math:`H`, :math:`e_t = x_t - x^\star` follows
    :math:`e_{t+1} = (I - \eta H)e_t - \eta\sigma\xi_t`, whose stationary covariance
    solves :math:`\Sigma = (I-\eta H)\Sigma(I-\eta H) + \eta^2\sigma^2 I`:

    .. math:: \Sigma = \eta\sigma^2\,(2H - \eta H^2)^{-1} \approx \tfrac{\eta\sigma^2}{2}H^{-1}.

    ``hessian``: ``(d, d)`` symmetric positive definite with :math:`\eta\lambda_{\max}(H) < 2`;
    returns ``(d, d)``.
    """
    H = np.asarray(_checks.finite_array("hessian", hessian, ndim=2), dtype=float)
    _checks.positive("step", step)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"hessian must be a square matrix, got shape {H.shape}")
    _checks.positive("step", step)
    _checks.nonnegative("sigma", sigma)
    M = 2.0 * H - float(step) * H @ H
    if np.linalg.eigvalsh(0.5 * (M + M.T)).min() <= 0:
        raise ValueError("hessian must be positive definite with step * largest eigenvalue < 2")
    return float(step) * float(sigma) ** 2 * np.linalg.inv(M)


def _bin_centres(hist: Any) -> np.ndarray:
    _check_hist(hist)
    if len(hist.edges) != 2:
        raise ValueError("hist must be a 2-D occupation histogram")
    c = [0.5 * (e[1:] + e[:-1]) for e in hist.edges]
    return np.stack(np.meshgrid(*c, indexing="ij"), axis=-1)


def histogram_mass_near(hist: Any, centers: Any, delta: float) -> tuple[float, np.ndarray]:
    r"""Split the occupation of a 2-D :class:`course_lib.simulate.Histogram` among points :math:`c_j`.

    Returns ``(outside, weights)``: the fraction of the counted (chain, step)
    pairs whose bin centre lies farther than ``delta`` from every centre
    (pairs outside the histogram window count as outside), and, for each
    centre, the fraction whose bin centre is nearest to it (``(k,)``).
    ``centers``: ``(k, 2)``.
    """
    C = _checks.finite_array("centers", centers, ndim=2, last=2)
    _checks.positive("delta", delta)
    dist = np.linalg.norm(_bin_centres(hist)[:, :, None, :] - np.asarray(C)[None, None], axis=-1)
    nearest, near = dist.argmin(-1), dist.min(-1) <= delta
    n = max(hist.n_samples, 1)
    weights = np.array([hist.counts[nearest == k].sum() / n for k in range(C.shape[0])])
    return 1.0 - hist.counts[near].sum() / n, weights


def predicted_mass_outside(
    hist: Any, centers: Any, hessians: Any, weights: Any, step: float, sigma: float, delta: float,
    *, rng: np.random.Generator, n_mc: int = 100_000,
) -> float:
    r"""Linearised prediction of :func:`histogram_mass_near`'s ``outside`` fraction.

    Each centre :math:`c_j` carries the mass ``weights[j]`` as a Gaussian cloud
    :math:`\mathcal N(c_j, \Sigma_j)` with :math:`\Sigma_j` from
    :func:`linearized_covariance`; ``n_mc`` samples of each cloud are binned
    exactly like ``hist`` and the fraction landing in bins farther than
    ``delta`` from every centre is returned.  ``hessians``: ``(k, 2, 2)``.
    """
    C = np.asarray(_checks.finite_array("centers", centers, ndim=2, last=2))
    H = _checks.real_array("hessians", hessians)
    _check_hist(hist)
    W = _checks.real_array("weights", weights, low=0.0)
    if W.shape != (C.shape[0],):
        raise ValueError(f"weights must have shape ({C.shape[0]},) (one per centre), got {W.shape}")
    _checks.positive("step", step)
    _checks.positive("sigma", sigma)
    _checks.at_most("sigma", sigma, 1e100, "its square sets a covariance")
    _checks.positive("delta", delta)
    n_mc = _checks.positive_int("n_mc", n_mc)
    _checks.work_size(f"predicted_mass_outside(n_mc={n_mc})", steps=n_mc, size=2 * C.shape[0],
                      record_bytes=16.0 * n_mc)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if H.shape != (C.shape[0], 2, 2):
        raise ValueError(f"hessians must have shape ({C.shape[0]}, 2, 2), got {H.shape}")
    centres = _bin_centres(hist)
    far = np.linalg.norm(centres[:, :, None, :] - C[None, None], axis=-1).min(-1) > delta
    lo = np.array([e[0] for e in hist.edges])
    width = np.array([e[1] - e[0] for e in hist.edges])
    shape = np.array(hist.counts.shape)
    out = 0.0
    for w, c, Hj in zip(np.asarray(weights, dtype=float), C, H):
        pts = rng.multivariate_normal(c, linearized_covariance(Hj, step, sigma), size=n_mc)
        ij = ((pts - lo) // width).astype(int)
        inside = np.all((ij >= 0) & (ij < shape), axis=-1)
        ij = np.clip(ij, 0, shape - 1)
        out += w * np.mean(~inside | far[ij[:, 0], ij[:, 1]])
    return float(out)
