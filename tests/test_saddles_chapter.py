"""The claims of the chapter "Saddles, averaging and the shape of noise", checked at small sizes.

Each test mirrors one comparison drawn in book/saddles.md (measured against
predicted) with the same course_lib calls and smaller sizes.  The averaging and
anti-PGD comparisons are in tests/test_averaging.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import averaging as av
from course_lib import energy as en
from course_lib import landscapes as L
from course_lib import gibbs, noise, simulate

KEY = jax.random.PRNGKey(2026)


def test_saddle_mass_falls_with_the_energy_slope():
    sp = pytest.importorskip("sympy")
    x_, y_ = sp.symbols("x y", real=True)
    cp = en.critical_points((x_**2 + y_ - 11) ** 2 + (x_ + y_**2 - 7) ** 2, x_, y_)
    connections = en.flow_connections(L.himmelblau, cp.points, cp.hessians)
    sigma, delta = 33.0, 0.08
    E = en.energies(en.transition_costs(cp.values, connections, sigma))
    saddles = [i for i, k in enumerate(cp.kinds) if k == "saddle"]
    i_s = min(saddles, key=lambda i: cp.values[i])
    neigh = [j for (i, j) in connections if i == i_s and cp.kinds[j] == "minimum"]
    assert len(neigh) == 2
    dE = float(E[i_s] - min(E[j] for j in neigh))
    assert dE == pytest.approx(2 * cp.values[i_s] / sigma**2, rel=1e-6)  # one climb from f = 0
    centres = np.vstack([cp.points[i_s][None], cp.points[neigh]])
    x0 = jnp.tile(jnp.asarray(cp.points[neigh], jnp.float32), (750, 1))
    etas = np.array([0.005, 0.0075, 0.011])
    logr = []
    for i, eta in enumerate(etas):
        h = simulate.occupation_histogram(jax.random.fold_in(KEY, i), L.himmelblau, noise.gaussian(sigma), x0, float(eta), 2000,
                                          low=jnp.array([2.3, -2.8]), high=jnp.array([4.3, 2.8]), n_bins=(40, 112), burn_in=400)
        m = gibbs.grid_mass_near(h.counts / h.n_samples, h.edges, centres, delta)
        assert m[0] > 0
        logr.append(np.log(m[0] / m[1:].sum()))
    slope = -np.polyfit(1 / etas, logr, 1)[0]
    assert slope == pytest.approx(dE, rel=0.2)


def test_escape_time_grows_like_log_one_over_sigma():
    eta, r = 0.05, 0.1
    minima = np.array([[0.0, 1.0], [0.0, -1.0]])
    x0 = jnp.tile(jnp.array([[1.0, 0.0]]), (128, 1))
    sigmas = np.array([1e-4, 1e-2, 1.0])
    means = []
    for i, s in enumerate(sigmas):
        ht = simulate.hitting_times(jax.random.fold_in(KEY, i), av.strict_saddle, noise.gaussian(float(s)), x0, eta,
                                    centers=minima, delta=0.5, max_steps=3000)
        assert ht.hit.all()
        means.append(ht.times.mean())
    det = simulate.hitting_times(KEY, av.strict_saddle, noise.gaussian(0.0), jnp.array([[0.0, r]]), eta,
                                 centers=minima, delta=0.5, max_steps=3000).times[0]
    pred = av.predicted_escape_steps(eta, sigmas, av.STRICT_SADDLE_LAMBDA, r) + det
    np.testing.assert_allclose(means, pred, rtol=0.08)
    slope = -np.polyfit(np.log(sigmas), means, 1)[0]
    assert slope == pytest.approx(1 / np.log1p(eta), rel=0.1)


def test_gradient_descent_on_the_stable_manifold_never_escapes():
    gd = simulate.trajectories(KEY, av.strict_saddle, noise.gaussian(0.0), jnp.array([[1.0, 0.0], [1.0, 1e-6]]), 0.05, 600)
    assert float(np.abs(gd.xs[-1, 0, 1])) == 0.0 and float(np.abs(gd.xs[-1, 0, 0])) < 1e-20
    k_cross = int(np.argmax(np.abs(gd.xs[:, 1, 1]) >= 0.5))
    assert k_cross == pytest.approx(np.log(0.5 / 1e-6) / np.log1p(0.05), rel=0.1)
