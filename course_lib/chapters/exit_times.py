r"""The chapter "How long SGD takes" (``book/exit_times.md``): its widget.

:func:`draw_hitting_distribution` runs :func:`course_lib.exit_times.hitting_time_sweep`
(on the engine, :func:`course_lib.simulate.hitting_times`) at one step size
and draws the distribution of the hitting times against the prediction.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ..exit_times import hitting_time_sweep, three_humps_graph

__all__ = ["draw_hitting_distribution"]


def draw_hitting_distribution(step: float, *, sigma: float = 15.0, intercept: float = 0.0, n_chains: int = 256,
                              max_time: float = 6000.0, seed: int = 0):
    r"""Figure: distribution of the hitting time of the global minimum of the three humps at step ``step``.

    ``n_chains`` chains of SGD with Gaussian noise :math:`\mathcal N(0,\sigma^2 I)`
    start at the right minimum; target: the ball of radius 0.5 around the global
    minimum; runs truncated at ``max_time / step`` steps.  Histogram of
    :math:`\log_{10}\tau`, with the measured (censored) mean and the prediction
    :math:`\mathbb E\tau \approx e^{a}\,e^{J/\eta}/\eta` marked, :math:`J` from
    the transition graph and :math:`a` = ``intercept`` (the prefactor, which the
    large deviation result does not give; fitted in the chapter).
    """
    from .. import energy
    from .. import landscapes as L
    from .. import noise as noise_mod
    from .. import plotting as cplt

    _checks.positive("step", step)
    g = three_humps_graph(sigma)
    J = energy.convergence_energy(g.B, g.target, g.start)
    x0 = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (n_chains, 1))
    sw = hitting_time_sweep(jax.random.PRNGKey(seed), L.three_humps, noise_mod.gaussian(sigma), x0, [float(step)],
                            centers=L.THREE_HUMPS_MINIMA[:1], delta=0.5, max_time=max_time)
    t = sw.times[0]
    mean = sw.means()[0]
    pred = math.exp(intercept + J / float(step)) / float(step)
    fig, ax = cplt.subplots(width=7.0, height=3.8)
    hit = t[t >= 0]
    if hit.size:
        ax.hist(np.log10(np.maximum(hit, 1)), bins=30, color=cplt.OKABE_ITO[0], alpha=0.8,
                label=f"{hit.size} of {t.size} chains hit")
    ax.axvline(math.log10(mean), color="k", lw=2, label=f"measured mean {mean:.3g} steps")
    ax.axvline(math.log10(pred), color=cplt.OKABE_ITO[3], lw=2, ls="--",
               label=rf"predicted $e^{{a}}e^{{J/\eta}}/\eta$ = {pred:.3g}")
    ax.set(xlabel=r"$\log_{10}\tau$ (steps)", ylabel="number of chains",
           title=rf"$\eta$ = {float(step):.4f}, $J/\eta$ = {J / float(step):.2f}, $\sigma$ = {sigma:g}")
    ax.legend(loc="upper left", fontsize=8)
    return fig
