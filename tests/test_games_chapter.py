"""The claims of the chapter "Games and many machines", checked at small sizes.

Each test mirrors one comparison drawn in book/games.md (measured against predicted)
with the same course_lib calls and smaller sizes; the module tests are in
tests/test_minmax.py and tests/test_decentralized.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import decentralized as dc
from course_lib import minmax as mm

KEY = jax.random.PRNGKey(2026)


def test_widget_condition_for_gda_on_the_scalar_game():
    # the chapter's "Try it": GDA on f = xy + mu/2 x^2 - mu/2 y^2 contracts iff eta (1 + mu^2) < 2 mu; EG always for eta < 1
    for eta in (0.1, 0.3, 0.6):
        for mu in (0.0, 0.1, 0.3, 0.8):
            M = np.array([[mu, 1.0], [-1.0, mu]])
            rho_gda = np.max(np.abs(np.linalg.eigvals(np.eye(2) - eta * M)))
            rho_eg = np.max(np.abs(np.linalg.eigvals(np.eye(2) - eta * M + eta**2 * M @ M)))
            assert (rho_gda < 1) == (eta * (1 + mu**2) < 2 * mu)
            assert rho_eg < 1


def test_gda_and_eg_rates_on_both_games():
    bil = mm.make_game(KEY, 8, 3, mu=0.0, spread=0.5)
    mon = mm.make_game(KEY, 8, 3, mu=0.3, spread=0.5)
    z0 = jnp.ones(6)
    g = mm.gda(bil, z0, 0.3, 300)
    assert g.dist[-1] > 10 * g.dist[0]  # spirals out
    for game, T in ((bil, 300), (mon, 40)):
        for run, fac in ((mm.gda(game, z0, 0.3, T), mm.gda_factor(game, 0.3)), (mm.extragradient(game, z0, 0.3, T), mm.eg_factor(game, 0.3))):
            assert np.all(run.dist <= run.dist[0] * fac ** np.arange(T + 1) * (1 + 1e-4) + 1e-5)  # the bound of the figure
    e = mm.extragradient(bil, z0, 0.3, 300)
    rate = (e.dist[-1] / e.dist[150]) ** (1 / 150)
    assert rate == pytest.approx(mm.eg_factor(bil, 0.3), rel=0.01)


def test_vr_eg_needs_fewer_calls_than_the_best_seg_step():
    game = mm.make_game(KEY, 10, 3, mu=0.3, spread=0.5)
    n, zs = 10, mm.saddle_point(game)
    u0 = np.r_[np.ones(6), 1.0]
    e0 = float(np.sum((np.ones(6) - zs) ** 2))
    eps = 1e-2

    def calls_to(curve, per_step, offset=0.0):
        k = np.flatnonzero(curve / e0 <= eps)
        return offset + per_step * k[0] if k.size else np.inf

    seg = [calls_to(mm.second_moment_curve(*mm.seg_linear_maps(game, float(e)), u0, zs, 3000), 2.0) for e in np.geomspace(0.003, 0.2, 8)]
    p = 1.0 / n
    tau = 0.99 * np.sqrt(p) / mm.lipschitz_mean_square(game)
    vr = mm.second_moment_curve(*mm.vr_eg_linear_maps(game, tau, p, 1 - p), np.r_[u0[:-1], u0[:-1], 1.0], zs, 1000)
    assert calls_to(vr, 2 + p * n, n) < min(seg)
    # and the floor of SEG grows with its step
    floors = [mm.second_moment_curve(*mm.seg_linear_maps(game, e), u0, zs, 1500)[-1] for e in (0.02, 0.1)]
    assert floors[0] < floors[1]


def test_dsgd_figure_claims():
    data = dc.make_local_data(jax.random.fold_in(KEY, 100), 16, 30, 4, heterogeneity=1.0, noise=0.5)
    eta, T = 0.05, 3000
    cons, opt = {}, {}
    for i, name in enumerate(dc.GRAPHS):
        W = dc.gossip_matrix(name, 16)
        r = dc.dsgd(jax.random.fold_in(KEY, 200 + i), data, W, eta, T)
        st = dc.stationary_errors(data, W, eta)
        cons[name], opt[name] = r.consensus[T // 2:].mean(), r.opt[T // 2:].mean()
        if name != "complete":
            assert cons[name] == pytest.approx(st.consensus, rel=0.2)
    # consensus error ordered like the gaps; the average's error barely depends on the graph
    order = sorted((g for g in dc.GRAPHS if g != "complete"), key=lambda g: dc.spectral_gap(dc.gossip_matrix(g, 16)))
    assert [cons[g] for g in order] == sorted((cons[g] for g in order), reverse=True)
    assert max(opt.values()) / min(opt.values()) < 2.0
