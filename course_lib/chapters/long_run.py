r"""The chapter "The long run of constant-step SGD" (``book/long_run.md``): its toy set-up and widget.

* the tilted double well with two noise levels, where the minimiser of the
  energy is not the minimiser of :math:`f`: :func:`two_well`,
  :func:`two_well_noise`, :func:`two_well_critical`, the simulation
  :func:`two_well_occupation` (on the engine, :mod:`course_lib.simulate`) and its
  prediction :func:`two_well_stationary`;
* the widget :func:`draw_gibbs_comparison` (SGD on Himmelblau's function against
  the Gibbs law, :func:`course_lib.gibbs.compare_with_gibbs`).
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks, simulate
from .. import noise as _noise
from ..divergence import DivergenceWarning
from ..gibbs import compare_with_gibbs, grid_mass_near

__all__ = [
    "two_well",
    "two_well_noise",
    "two_well_critical",
    "two_well_occupation",
    "two_well_stationary",
    "NOISE_MODELS",
    "draw_gibbs_comparison",
]


# ---------------------------------------------------------------------------
# the two-well example: energy minimiser != minimiser of f
# ---------------------------------------------------------------------------


def two_well(x: Any, tilt: float = 0.25) -> Any:
    r"""Tilted double well :math:`f(x) = (x^2 - 1)^2 + \text{tilt}\cdot x` on :math:`\mathbb R`.

    With ``tilt > 0`` the left minimum (near :math:`-1`) is the global one, the
    right one (near :math:`+1`) is shallower; the barrier top is near :math:`0`.
    """
    return (x**2 - 1.0) ** 2 + tilt * x


def two_well_noise(x: Any, sigma1: Any, sigma2: Any, width: float = 0.05, tilt: float = 0.25) -> Any:
    r"""Noise level :math:`s(x)`: :math:`\sigma_1` left of the barrier, :math:`\sigma_2` right of it
    (a smooth switch of ``width`` around the barrier top :math:`y` of :func:`two_well` with this ``tilt``)."""
    y = two_well_critical(tilt)[1]
    w = 0.5 * (1.0 + jnp.tanh((x - y) / width))
    return (1.0 - w) * sigma1 + w * sigma2


def two_well_critical(tilt: float = 0.25) -> np.ndarray:
    """The three critical points of :func:`two_well`, shape ``(3,)``: left minimum, barrier top, right minimum."""
    return np.sort(np.real(np.roots([4.0, 0.0, -4.0, tilt])))


def _two_well_1d(x: jax.Array) -> jax.Array:
    """:func:`two_well` on states ``(..., 1)`` (the engine's layout)."""
    return two_well(x[..., 0])


def _two_well_scale(X: jax.Array, params: jax.Array) -> jax.Array:
    """:math:`s(x)` of :func:`two_well_noise` for states ``(n, 1)``; ``params = (sigma1, sigma2)``."""
    return two_well_noise(X[:, 0], params[0], params[1])


def two_well_occupation(
    key: jax.Array, sigma1: float, sigma2: float, step: float, n_chains: int = 2000, n_steps: int = 4000
) -> float:
    r"""Fraction of time that 1-D SGD on :func:`two_well` spends right of the barrier.

    Runs ``n_chains`` chains of :math:`x_{t+1} = x_t - \eta[f'(x_t) + s(x_t)\xi_t]`,
    :math:`\xi_t\sim\mathcal N(0,1)`, :math:`s` = :func:`two_well_noise`, for
    ``n_steps`` steps, all starting at the *global* minimum (left); the first
    quarter of the steps is discarded (burn-in).  ``sigma1``, ``sigma2``, ``step`` are traced
    (no recompilation).  Runs on the engine (:func:`course_lib.simulate.occupation_histogram`
    with :func:`course_lib.noise.state_dependent` noise, one bin right of the barrier);
    raises :class:`~course_lib.divergence.DivergenceError` if a chain diverges.
    """
    _checks.prng_key("key", key, batched=True)
    n_chains = _checks.positive_int("n_chains", n_chains)
    n_steps = _checks.positive_int("n_steps", n_steps)
    for name, v in (("sigma1", sigma1), ("sigma2", sigma2), ("step", step)):
        _checks.positive(name, v)
    xl, y, xr = two_well_critical()
    noise = _noise.state_dependent(_two_well_scale, jnp.asarray([sigma1, sigma2], jnp.float32))
    x = jnp.full((n_chains, 1), xl, jnp.float32)
    burn = n_steps // 4
    k1, k2 = jax.random.split(key)
    if burn > 0:  # the burn-in, then the counted steps from where it ended (keys k1, k2 as before)
        x = simulate.trajectories(k1, _two_well_1d, noise, x, float(step), burn, every=burn,
                                  on_divergence="raise").xs[-1]
    hist = simulate.occupation_histogram(k2, _two_well_1d, noise, x, float(step), n_steps - burn, low=[float(y)],
                                         high=[simulate.DEFAULT_RADIUS], n_bins=1, dims=(0,), on_divergence="raise")
    return float(hist.counts.sum() / (n_chains * (n_steps - burn)))


def two_well_stationary(
    sigma1: float, sigma2: float, step: float, n_grid: int = 20_001, tilt: float = 0.25
) -> dict[str, float]:
    r"""Predictions for :func:`two_well_occupation`.

    Returns ``{"right_mass": ..., "E_left": ..., "E_right": ...}``: the mass
    right of the barrier under the stationary law of the diffusion
    :math:`dX = -f'(X)dt + \sqrt{\eta}\,s(X)\,dW`,
    :math:`p(x)\propto s(x)^{-2}\exp(-\int^x 2f'(u)/(\eta s(u)^2)\,du)` (quadrature on
    :math:`[-2.5, 2.5]`), and the energies :math:`E_{\text{left}} = 2(f(y)-f(x_r))/\sigma_2^2`,
    :math:`E_{\text{right}} = 2(f(y)-f(x_l))/\sigma_1^2` of the two minima, for
    :func:`two_well` with the given ``tilt`` (and :func:`two_well_noise` switching at its barrier).
    """
    for name, v in (("sigma1", sigma1), ("sigma2", sigma2), ("step", step)):
        _checks.positive(name, v)
    xl, y, xr = two_well_critical(tilt)
    x = np.linspace(-2.5, 2.5, n_grid)
    s = np.asarray(two_well_noise(jnp.asarray(x), sigma1, sigma2, tilt=tilt), dtype=float)
    dfdx = 4 * x**3 - 4 * x + float(tilt)
    integrand = 2.0 * dfdx / (float(step) * s**2)
    phi = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(x))])
    log_p = -phi - 2.0 * np.log(s)
    p = np.exp(log_p - log_p.max())
    f = lambda u: float(two_well(u, tilt))  # noqa: E731
    return {
        "right_mass": float(p[x > y].sum() / p.sum()),
        "E_left": 2.0 * (f(y) - f(xr)) / float(sigma2) ** 2,
        "E_right": 2.0 * (f(y) - f(xl)) / float(sigma1) ** 2,
    }


# ---------------------------------------------------------------------------
# the chapter's widget
# ---------------------------------------------------------------------------

NOISE_MODELS = ("gaussian", "power_law")


def draw_gibbs_comparison(step: float, sigma: float, noise_index: int, *, n_chains: int = 8000, n_steps: int = 3000):
    r"""Figure: SGD on Himmelblau's function against the Gibbs prediction.

    ``noise_index`` picks the model in ``("gaussian", "power_law")`` (power law:
    :math:`\mathcal N(0, \sigma^2 (f + 1) I)`).  Chains start in equal numbers at
    the four minima and run ``n_steps`` steps.  Left: occupation density of the
    iterates (log colour scale) with the contour lines of the predicted density;
    right: mass within distance 1 of each minimum, simulated (bars) and
    predicted by the Gibbs law (diamonds).  Returns the matplotlib Figure.
    """
    from .. import landscapes as L
    from .. import plotting as cplt

    kind = NOISE_MODELS[int(noise_index)]
    shift = 1.0 if kind == "power_law" else 0.0
    minima = L.HIMMELBLAU_MINIMA
    x0 = jnp.tile(jnp.asarray(minima, jnp.float32), (n_chains // 4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        cmp = compare_with_gibbs(jax.random.PRNGKey(0), L.himmelblau, sigma=sigma, step=step, noise=kind, shift=shift,
                                 n_chains=n_chains // 4 * 4, n_steps=n_steps, x0=x0, n_bins=60)
    edges = cmp.hist.edges
    ms = grid_mass_near(cmp.occupation, edges, minima, 1.0)
    mp = grid_mass_near(cmp.probs, edges, minima, 1.0)
    fig, (ax1, ax2) = cplt.subplots(1, 2, width=10.0, height=4.2, gridspec_kw={"width_ratios": [1.25, 1]})
    cplt.histogram2d(ax1, cmp.hist)
    cx, cy = (0.5 * (e[1:] + e[:-1]) for e in edges)
    levels = np.geomspace(max(cmp.probs.max() * 1e-3, 1e-300), cmp.probs.max(), 6)
    ax1.contour(cx, cy, cmp.probs.T, levels=levels, colors="white", linewidths=0.8)
    cplt.mark_points(ax1, minima, color="#D55E00", size=6)
    ax1.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
            title=f"{kind.replace('_', '-')} noise: iterates (colour), Gibbs (lines)")
    idx = np.arange(4)
    ax2.bar(idx, ms, width=0.6, label="simulated", color="#0072B2")
    ax2.plot(idx, mp / max(mp.sum(), 1e-300) * ms.sum() if ms.sum() > 0 else mp, "D", color="#D55E00", ms=8,
             label="Gibbs prediction")
    ax2.set_xticks(idx, [f"({a:.1f}, {b:.1f})" for a, b in minima], rotation=20)
    n_div = int(cmp.hist.diverged.sum())
    ax2.set(xlabel="minimum", ylabel="mass within distance 1",
            title=f"TV distance {cmp.tv:.3f}" + (f", {n_div} chains diverged" if n_div else ""))
    ax2.set_ylim(0, 1.3 * max(float(ms.max()), float(mp.max() / max(mp.sum(), 1e-300) * ms.sum()), 1e-3))
    ax2.legend(loc="upper center", ncol=2)
    return fig
