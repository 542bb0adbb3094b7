"""The claims of the chapter "How long SGD takes", checked at small sizes.

Each test mirrors one comparison drawn in book/exit_times.md (measured against
predicted) and calls the same course_lib functions; sizes are smaller.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import energy as en
from course_lib import exit_times as et
from course_lib.chapters import exit_times as et_ch
from course_lib import landscapes as L
from course_lib import noise, simulate

KEY = jax.random.PRNGKey(2025)
X_RIGHT = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (64, 1))
TARGET = L.THREE_HUMPS_MINIMA[:1]


def test_J_is_highest_saddle_minus_lowest_bad_minimum():
    g = et.three_humps_graph(15.0)
    J = en.convergence_energy(g.B, g.target, g.start)
    assert J == pytest.approx(2 * (g.values[3] - g.values[2]) / 15.0**2, abs=1e-12)
    assert en.convergence_energy(g.B, g.target, 1) < J   # from the middle: cheaper, but not free


def test_bound_and_zero_iff_all_global_on_random_landscapes():
    rng = np.random.default_rng(0)
    for trial in range(40):
        m = int(rng.integers(2, 6))
        minima = np.full(m, 0.5) if trial % 5 == 0 else rng.uniform(0, 2, m)
        vals = np.empty(2 * m - 1)
        vals[0::2] = minima
        vals[1::2] = np.maximum(minima[:-1], minima[1:]) + rng.uniform(0.1, 2.0, m - 1)
        gr = et.chain_costs(vals, 1.0)
        Jmax = max(en.relative_energy(gr.B, gr.target, i) for i in range(0, vals.size, 2))
        assert Jmax == pytest.approx(max(en.convergence_energy(gr.B, gr.target, s) for s in range(0, vals.size, 2)))
        assert Jmax <= et.bad_minima_bound(gr, 1.0) + 1e-12
        assert (Jmax == 0.0) == (len(gr.target) == m)


@pytest.mark.parametrize("kind", ["gaussian", "power_law"])
def test_fitted_rate_matches_J(kind):
    sigma, shift = (15.0, 0.0) if kind == "gaussian" else (6.0, 8.0)
    g = et.three_humps_graph(sigma, kind, shift)
    J = en.convergence_energy(g.B, g.target, g.start)
    f = L.three_humps if kind == "gaussian" else (lambda x: L.three_humps(x) + 8.0)
    model = noise.gaussian(sigma) if kind == "gaussian" else noise.power_law(sigma)
    steps = J / np.array([3.0, 4.0, 5.0, 6.0])
    sw = et.hitting_time_sweep(KEY, f, model, X_RIGHT, steps, centers=TARGET, delta=0.5, max_time=5000.0)
    assert (sw.n_diverged == 0).all()
    fit = et.fit_rate(sw.steps, sw.means())
    assert fit.slope == pytest.approx(J, rel=0.25)
    # the chains of all step sizes share one batch (finished chains leave, waiting ones enter): the batch runs
    # for fewer steps than the step sizes would one after the other, each until its longest chain has hit
    longest = [int(m) if (t < 0).any() else int(t.max()) for t, m in zip(sw.times, sw.max_steps)]
    assert sw.work.sum() / simulate.POOL_SLOTS < 0.9 * sum(longest)
    assert (sw.useful <= sw.work).all()


def test_no_bad_minima_flat_flow_time():
    x_max = jnp.tile(jnp.asarray([[-0.270845, -0.923039]], jnp.float32), (64, 1))
    g = et.three_humps_graph(15.0)  # J of the three humps sets the scale of the comparison
    J = en.convergence_energy(g.B, g.target, g.start)
    steps = J / np.array([2.5, 4.5, 6.5])
    sw = et.hitting_time_sweep(KEY, L.himmelblau, noise.gaussian(15.0), x_max, steps,
                               centers=L.HIMMELBLAU_MINIMA, delta=0.5, max_time=100.0)
    assert (sw.times >= 0).all()
    assert abs(et.fit_rate(sw.steps, sw.means()).slope) < 0.15 * J
    flow = sw.steps * sw.means()
    assert flow.max() / flow.min() < 1.5


def test_noise_structure_changes_exits():
    n, T = 200, 3000
    x_mid = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[1:2], jnp.float32), (n, 1))
    k = jax.random.fold_in(KEY, 4)
    draws = {"gauss": jax.random.normal(k, (T, n, 2)), "t": et.student_noise(k, 3.0, T, (n, 2)),
             "h3": et.fractional_noise(k, 0.3, T, (n, 2)), "h7": et.fractional_noise(k, 0.7, T, (n, 2))}
    split = {name: et.basin_exits(et.driven_sgd(L.three_humps, x_mid, G, 0.01, 6.4, clip=100.0)).split()
             for name, G in draws.items()}
    # Gaussian: the lower saddle (right) wins by far; heavy tails send more chains over the higher one
    assert split["gauss"][1] > 5 * split["gauss"][0]
    assert split["t"][0] > 2 * max(split["gauss"][0], 1 / n)
    # anti-persistent noise hardly escapes, persistent noise always does
    assert split["h3"][2] > split["gauss"][2] and split["h3"][2] > 0.9
    assert split["h7"][2] == 0.0 and split["h7"][0] > split["gauss"][0]


def test_widget_draws_a_figure():
    import matplotlib.pyplot as plt

    fig = et_ch.draw_hitting_distribution(0.016, n_chains=32)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 2
    plt.close(fig)
