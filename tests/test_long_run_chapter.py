"""The claims of the chapter "Where SGD spends its time", checked at small sizes.

Each test mirrors one comparison drawn in book/long_run.md (measured against
predicted) and calls the same course_lib functions; sizes are smaller.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from course_lib import energy as en
from course_lib import gibbs
from course_lib.chapters import long_run as lr
from course_lib import landscapes as L
from course_lib import noise, simulate

KEY = jax.random.PRNGKey(2024)
X, Y = sp.symbols("x y", real=True)


@pytest.fixture(scope="module")
def cp():
    return en.critical_points((X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2, X, Y)


@pytest.fixture(scope="module")
def connections(cp):
    return en.flow_connections(L.himmelblau, cp.points, cp.hessians)


def test_sgd_variance_scales_with_eta_unlike_langevin():
    lam, sig = 4.0, 1.0
    quad = functools.partial(L.quadratic, A=jnp.array([[lam]]))
    for eta in (0.2, 0.05):
        tr = simulate.trajectories(KEY, quad, noise.gaussian(sig), jnp.zeros((2000, 1)), eta, 400)
        var = float(np.var(tr.xs[200:]))
        assert var == pytest.approx(eta * sig**2 / (lam * (2 - eta * lam)), rel=0.1)
        assert var < 0.5 * 2 * sig**2 / (lam * (2 - eta * lam))  # far below Langevin's spread


def test_critical_points_of_himmelblau(cp):
    assert cp.kinds.count("minimum") == 4 and cp.kinds.count("saddle") == 4 and cp.kinds.count("maximum") == 1
    assert np.allclose(cp.values[:4], 0.0, atol=1e-12)


def test_actions_flow_free_reverse_attains_bound(cp):
    ev, V = np.linalg.eigh(cp.hessians[4])
    d = V[:, 0] * np.sign(V[:, 0] @ (cp.points[2] - cp.points[4]))
    down = en.gradient_flow_path(L.himmelblau, cp.points[4] + 1e-4 * d, 5e-4, 2000)
    bound = 2 * (cp.values[4] - cp.values[2])
    assert en.gaussian_action(L.himmelblau, down, 1.0, 1.0) < 1e-2
    assert en.gaussian_action(L.himmelblau, down[::-1], 1.0, 1.0) == pytest.approx(bound, rel=2e-2)
    line = np.linspace(down[-1], down[0], 1001)
    for T in (0.05, 0.2, 1.0, 5.0):
        assert en.gaussian_action(L.himmelblau, line, T, 1.0) > bound


def test_energies_of_himmelblau_graph(cp, connections):
    B = en.transition_costs(cp.values, connections, 10.0)
    E = en.energies(B)
    np.testing.assert_allclose(E - E.min(), 2 * cp.values / 100.0, atol=1e-9)
    # location-dependent noise (as in the chapter): not reversible, energies differ from 2 f / sigma^2
    sig_loc = np.array([10.0, 8.0, 12.0, 9.0, 11.0, 10.0, 7.0, 13.0, 10.0])
    B_loc = B * (10.0 / sig_loc[:, None]) ** 2
    E_loc = en.energies(B_loc)
    assert np.argmin(E_loc) == 1  # the minimum with the quietest noise (sigma = 8) wins the tie f = 0
    sub = [1, 2, 3, 4, 5]
    np.testing.assert_allclose(en.energies(B_loc[np.ix_(sub, sub)]), en.energies_brute_force(B_loc[np.ix_(sub, sub)]))
    errs = []
    for eta in (0.3, 0.03):
        pi = en.stationary_distribution(en.markov_chain(B_loc, eta))
        lp = -eta * np.log(pi)
        errs.append(np.max(np.abs((lp - lp.min()) - (E_loc - E_loc.min()))))
        assert errs[-1] <= eta * 8 * np.log(9)
    assert errs[1] < errs[0]


def test_two_well_shallow_well_wins():
    s1, s2 = 6.0, 3.0
    fr = [lr.two_well_occupation(jax.random.fold_in(KEY, i), s1, s2, eta, 1000, 12_000) for i, eta in enumerate((0.03, 0.05))]
    pr = [lr.two_well_stationary(s1, s2, eta)["right_mass"] for eta in (0.03, 0.05)]
    assert min(fr) > 0.9
    np.testing.assert_allclose(fr, pr, atol=0.015)
    p = lr.two_well_stationary(s1, s2, 0.03)
    assert p["E_right"] < p["E_left"]


def test_himmelblau_masses_follow_gibbs_and_laplace(cp):
    tau, eta = 30.0, 0.002
    sigma = float(np.sqrt(2 * tau / eta))
    x0 = jnp.tile(jnp.asarray(cp.points[:4], jnp.float32), (1000, 1))
    run = gibbs.compare_with_gibbs(KEY, L.himmelblau, sigma=sigma, step=eta, n_chains=4000, n_steps=12_000, x0=x0)
    ms = gibbs.grid_mass_near(run.occupation, run.hist.edges, cp.points[:4], 1.5)
    mg = gibbs.grid_mass_near(run.probs, run.hist.edges, cp.points[:4], 1.5)
    np.testing.assert_allclose(ms / ms.sum(), mg / mg.sum(), atol=0.03)
    assert run.tv < 0.06
    # flattest minimum (3, 2) gets the most mass, the stiffest (-3.78, -3.28) the least
    assert np.argmax(ms) == 2 and np.argmin(ms) == 0
    edges = (np.linspace(-6, 6, 481), np.linspace(-6, 6, 481))
    pg = gibbs.gibbs_density(L.himmelblau, edges, sigma=float(np.sqrt(2 * 0.3 / eta)), step=eta)
    mg = gibbs.grid_mass_near(pg, edges, cp.points[:4], 1.5)
    np.testing.assert_allclose(mg / mg.sum(), gibbs.laplace_weights(cp.values[:4], cp.hessians[:4], 1.0, 1.0), atol=2e-3)


@pytest.mark.parametrize("kind", ["gaussian", "power_law"])
def test_distance_to_gibbs_shrinks_with_eta(kind):
    tvs = []
    for eta in (0.004, 0.001):
        sigma = float(np.sqrt(2 * 30.0 / eta)) if kind == "gaussian" else float(np.sqrt(2 / (3 * eta)))
        tvs.append(gibbs.compare_with_gibbs(KEY, L.himmelblau, sigma=sigma, step=eta, noise=kind, shift=1.0,
                                         n_chains=4000, n_steps=int(2 / eta)).tv)
    assert tvs[1] < 0.5 * tvs[0]


def test_widget_figure_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = lr.draw_gibbs_comparison(0.002, 20.0, 1, n_chains=400, n_steps=300)
    assert len(fig.axes) == 2  # occupation image with Gibbs contours, bars of the masses
    plt.close(fig)
