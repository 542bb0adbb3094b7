"""Unit tests of course_lib.exit_times: cost graphs, bounds, hitting-time sweeps, fits, correlated noise."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import energy as en
from course_lib import exit_times as et
from course_lib import landscapes as L
from course_lib import noise

KEY = jax.random.PRNGKey(7)


# ---------------------------------------------------------------------------
# graphs and bounds
# ---------------------------------------------------------------------------


def test_three_humps_graph_connections_match_the_flow():
    g = et.three_humps_graph(1.0)
    H = np.array([np.asarray(jax.hessian(L.three_humps)(jnp.asarray(p, jnp.float32))) for p in g.points])
    conn = en.flow_connections(L.three_humps, g.points, H, n_steps=6000, dt=5e-3)
    assert sorted(conn) == [(3, 0), (3, 1), (4, 1), (4, 2)]
    assert g.kinds == ("minimum",) * 3 + ("saddle",) * 2 and g.target == (0,) and g.start == 2
    np.testing.assert_allclose(g.values[:3], [-7.2477, 0.0, -3.2971], atol=1e-4)


@pytest.mark.parametrize("noise_kind, shift", [("gaussian", 0.0), ("power_law", 8.0)])
def test_three_humps_J_is_highest_saddle_minus_lowest_bad_minimum(noise_kind, shift):
    sigma = 2.0
    g = et.three_humps_graph(sigma, noise_kind, shift)
    v = np.log(g.values) if noise_kind == "power_law" else g.values
    J = en.convergence_energy(g.B, g.target, g.start)
    assert J == pytest.approx(2 * (v[3] - v[2]) / sigma**2, rel=1e-12)
    # the bound with two bad minima holds, and is twice J here
    assert et.bad_minima_bound(g, sigma, noise_kind) == pytest.approx(2 * J)
    # from the middle minimum SGD first falls into the right well (lower saddle), whose climb is then
    # discounted by the cost B(middle, right) of getting there
    assert en.convergence_energy(g.B, g.target, 1) == pytest.approx(2 * (v[3] - v[2] - (v[4] - v[1])) / sigma**2)


def test_power_law_shift_must_make_values_positive():
    with pytest.raises(ValueError, match="shift"):
        et.three_humps_graph(1.0, "power_law", 2.0)


@pytest.mark.parametrize("seed", range(25))
def test_bound_and_zero_iff_all_minima_global_on_random_chains(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 5))
    minima = rng.uniform(0.0, 2.0, m)
    if seed % 5 == 0:
        minima[:] = 0.5  # all minima global
    saddles = np.maximum(minima[:-1], minima[1:]) + rng.uniform(0.1, 2.0, m - 1)
    vals = np.empty(2 * m - 1)
    vals[0::2], vals[1::2] = minima, saddles
    g = et.chain_costs(vals, 1.5)
    bound = et.bad_minima_bound(g, 1.5)
    Js = [en.convergence_energy(g.B, g.target, s) for s in range(0, vals.size, 2)]
    assert max(Js) <= bound + 1e-12
    all_global = len(g.target) == m
    assert (max(Js) == 0.0) == all_global


def test_chain_costs_rejects_bad_input():
    with pytest.raises(ValueError, match="values"):
        et.chain_costs([0.0, 1.0], 1.0)
    with pytest.raises(ValueError, match=r"values\[1\]"):
        et.chain_costs([0.0, -1.0, 0.5], 1.0)
    with pytest.raises(ValueError, match="sigma"):
        et.chain_costs([0.0, 1.0, 0.5], -1.0)
    with pytest.raises(ValueError, match="noise"):
        et.chain_costs([0.0, 1.0, 0.5], 1.0, "cauchy")


# ---------------------------------------------------------------------------
# hitting times and fits
# ---------------------------------------------------------------------------


def test_mean_hitting_time_censored_mle():
    assert et.mean_hitting_time(np.array([1, 2, 3]), 10) == pytest.approx(2.0)
    assert et.mean_hitting_time(np.array([1, 3, -1, -1]), 10) == pytest.approx((1 + 3 + 20) / 2)
    assert math.isinf(et.mean_hitting_time(np.array([-1, -1]), 5))
    # exponential samples censored at their median: the MLE recovers the mean
    rng = np.random.default_rng(0)
    t = rng.exponential(1000.0, 20000).astype(np.int64)
    m = int(np.median(t))
    assert et.mean_hitting_time(np.where(t <= m, t, -1), m) == pytest.approx(1000.0, rel=0.05)
    with pytest.raises(ValueError, match="times"):
        et.mean_hitting_time(np.array([1.5, 2.0]), 5)


def test_fit_rate_recovers_slope():
    steps = np.array([0.1, 0.05, 0.025])
    fit = et.fit_rate(steps, np.exp(0.3 + 0.2 / steps) / steps)
    assert fit.slope == pytest.approx(0.2) and fit.intercept == pytest.approx(0.3)
    with pytest.raises(ValueError, match="mean_times"):
        et.fit_rate(steps, np.array([1.0, np.inf, 2.0]))


def test_sweep_reports_truncation_and_useful_work():
    x0 = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (64, 1))
    sw = et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(15.0), x0, [0.012, 0.008],
                               centers=L.THREE_HUMPS_MINIMA[:1], delta=0.5, max_time=60.0)
    assert sw.times.shape == (2, 64) and sw.max_steps.tolist() == [5000, 7500]
    assert (sw.n_diverged == 0).all()
    assert (sw.times < 0).any()                      # some chains truncated at the small step
    assert (sw.useful <= sw.work).all() and 0.3 < sw.useful_fraction() <= 1.0
    assert np.isfinite(sw.means()).all()
    with pytest.raises(ValueError, match="steps"):
        et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(1.0), x0, [0.1, -1.0],
                              centers=L.THREE_HUMPS_MINIMA[:1], delta=0.5, max_time=1.0)


def test_sweep_compiles_one_program_whatever_the_steps():
    from course_lib import simulate

    x0 = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (24, 1))
    kw = dict(centers=L.THREE_HUMPS_MINIMA[:1], delta=0.5, max_time=10.0)
    et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(15.0), x0, [0.012], **kw)
    before = simulate._pool_chunk._cache_size()
    et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(12.0), x0[:10], [0.01, 0.014, 0.016], **kw)
    et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(15.0), x0, np.linspace(0.008, 0.017, 7), **kw)
    assert simulate._pool_chunk._cache_size() == before


def test_pooled_sweep_has_the_law_of_hitting_times():
    from course_lib import simulate

    x0 = jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (256, 1))
    kw = dict(centers=L.THREE_HUMPS_MINIMA[:1], delta=0.5)
    sw = et.hitting_time_sweep(KEY, L.three_humps, noise.gaussian(15.0), x0, [0.014, 0.012], max_time=2000.0, **kw)
    for j, eta in enumerate(sw.steps):
        r = simulate.hitting_times(jax.random.fold_in(KEY, j), L.three_humps, noise.gaussian(15.0), x0, float(eta),
                                   max_steps=int(sw.max_steps[j]), compact=False, **kw)
        assert r.hit.all() and (sw.times[j] >= 0).all()
        assert sw.means()[j] == pytest.approx(r.times.mean(), rel=0.25)


# ---------------------------------------------------------------------------
# correlated and heavy-tailed noise
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("hurst", [0.3, 0.5, 0.75])
def test_fractional_noise_has_fgn_covariance(hurst):
    G = np.asarray(et.fractional_noise(KEY, hurst, 64, (4000,)))
    assert G.shape == (64, 4000)
    emp = np.array([np.mean(G[: 64 - k] * G[k:]) for k in range(4)])
    np.testing.assert_allclose(emp, et.fbm_autocovariance(hurst, 4), atol=0.03)
    # the sum of n increments has variance n^(2H)
    assert np.var(G.sum(0)) == pytest.approx(64 ** (2 * hurst), rel=0.08)


def test_fbm_autocovariance_signs():
    assert et.fbm_autocovariance(0.5, 5).tolist() == pytest.approx([1, 0, 0, 0, 0])
    assert (et.fbm_autocovariance(0.7, 5)[1:] > 0).all() and (et.fbm_autocovariance(0.3, 5)[1:] < 0).all()
    with pytest.raises(ValueError, match="hurst"):
        et.fbm_autocovariance(1.0, 3)


def test_student_noise_unit_variance():
    T = np.asarray(et.student_noise(KEY, 5.0, 200, (1000,)))
    assert np.var(T) == pytest.approx(1.0, rel=0.1)
    with pytest.raises(ValueError, match="df"):
        et.student_noise(KEY, 2.0, 3, (2,))


def test_driven_sgd_matches_a_loop_and_clips():
    x0 = jnp.asarray(L.THREE_HUMPS_MINIMA[1:2], jnp.float32).repeat(3, 0)
    D = jax.random.normal(KEY, (5, 3, 2))
    xs = et.driven_sgd(L.three_humps, x0, D, 0.01, 2.0, clip=1.5)
    g = jax.vmap(jax.grad(L.three_humps))
    x = x0
    for t in range(5):
        Z = 2.0 * D[t]
        Z = Z * jnp.minimum(1.0, 1.5 / jnp.linalg.norm(Z, axis=-1, keepdims=True))
        x = x - 0.01 * (g(x) + Z)
    np.testing.assert_allclose(np.asarray(xs[-1]), np.asarray(x), atol=1e-5)
    with pytest.raises(ValueError, match="draws"):
        et.driven_sgd(L.three_humps, x0, D[:, :2], 0.01, 1.0)
    with pytest.raises(FloatingPointError, match="diverged"):
        et.driven_sgd(L.three_humps, x0, jnp.full((50, 3, 2), 1.0), 0.5, 100.0)


def test_basins_and_exits():
    b = np.asarray(et.three_humps_basin(jnp.asarray(np.concatenate([L.THREE_HUMPS_MINIMA]))))
    assert b.tolist() == [0, 1, 2]
    xs = np.zeros((3, 2, 2))
    xs[1, 0, 0] = 2.0   # chain 0 leaves to the right at step 2, comes back
    out = et.basin_exits(xs)
    assert out.first.tolist() == [2, -1] and out.exit_time.tolist() == [2, -1] and out.final.tolist() == [1, 1]
    assert out.split() == (0.0, 0.5, 0.5)


def test_widget_moved_to_the_chapter_layer_keeps_an_alias():
    from course_lib.chapters import exit_times as et_ch

    with pytest.warns(DeprecationWarning, match="moved to course_lib.chapters.exit_times.draw_hitting_distribution"):
        assert et.draw_hitting_distribution is et_ch.draw_hitting_distribution
