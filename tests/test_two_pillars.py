"""The claims of the chapter "The two pillars", checked at a small size.

Each test mirrors one comparison drawn in book/two_pillars.md (measured against
predicted) with fewer samples, and fails if the comparison no longer holds.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import gibbs, landscapes, noise, simulate
from course_lib.ad_cost import deep_tanh_loss, deep_tanh_params, gradient_flop_ratio

KEY = jax.random.PRNGKey(7)


def _sigma2(problem, x):
    """Exact per-example gradient variance sigma^2(x) of a least-squares FiniteSum."""
    G = problem.features * (problem.features @ x - problem.targets)[:, None]
    return float(jnp.mean(jnp.sum((G - G.mean(0)) ** 2, axis=1)))


@pytest.fixture(scope="module")
def ls_problem():
    return landscapes.least_squares(KEY, 500, 5, noise=0.5)


def test_sigma2_matches_the_gradient_of_the_finite_sum(ls_problem):
    x = jnp.full(5, 0.3)
    G = ls_problem.features * (ls_problem.features @ x - ls_problem.targets)[:, None]
    assert np.allclose(G.mean(0), landscapes.batch_grad(ls_problem)(x), atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 8, 64])
def test_minibatch_variance_is_sigma2_over_B(ls_problem, batch_size):
    x = jnp.zeros(5)
    s2 = _sigma2(ls_problem, x)
    M = 4000
    Z = noise.sample(noise.minibatch(ls_problem, batch_size), jax.random.fold_in(KEY, batch_size),
                     jnp.tile(x, (M, 1)), ls_problem)
    msq = float(jnp.mean(jnp.sum(Z**2, axis=1)))
    assert abs(msq * batch_size / s2 - 1) < 0.1, (msq, s2 / batch_size)


def test_minibatch_gradient_is_unbiased(ls_problem):
    x = jnp.zeros(5)
    s2 = _sigma2(ls_problem, x)
    M = 20_000
    Z = noise.sample(noise.minibatch(ls_problem, 1), jax.random.fold_in(KEY, 99), jnp.tile(x, (M, 1)), ls_problem)
    z = float(jnp.linalg.norm(Z.mean(0))) / np.sqrt(s2 / M)   # E[z^2] = 1 when unbiased
    assert z < 4.0
    # and a deliberately biased estimate is detected by the same statistic
    assert float(jnp.linalg.norm(Z.mean(0) + 0.1)) / np.sqrt(s2 / M) > 4.0


def test_full_gradient_cost_grows_linearly_with_n_minibatch_does_not():
    d, B = 16, 32
    full = jax.jit(jax.grad(lambda x, p: p(x)))
    mini = jax.jit(lambda x, p, k: jax.grad(p.batch_loss)(x, jax.random.randint(k, (B,), 0, p.n)))
    x = jnp.zeros(d)
    flops_full, flops_mini = [], []
    for n in (2**10, 2**12, 2**14):
        p = landscapes.least_squares(KEY, n, d)
        flops_full.append(full.lower(x, p).cost_analysis()["flops"])
        flops_mini.append(mini.lower(x, p, KEY).cost_analysis()["flops"])
    assert np.allclose(np.diff(np.log(flops_full)) / np.log(4), 1.0, atol=0.02)
    assert len(set(flops_mini)) == 1

    # wall clock, loosely: at n = 2^17 the full gradient is clearly slower
    p = landscapes.least_squares(KEY, 2**17, d)

    def best(fn, *a):
        fn(*a).block_until_ready()
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn(*a).block_until_ready()
            ts.append(time.perf_counter() - t0)
        return min(ts)

    assert best(full, x, p) > 3 * best(mini, x, p, KEY)


def test_gradient_of_a_composition_costs_about_three_losses():
    # the chapter's computation (course_lib.ad_cost.gradient_flop_ratio) at a smaller size
    ratios = gradient_flop_ratio(KEY, (1, 4, 8), m=128, width=32, d_in=8)
    assert all(1.5 < r < 3.3 for r in ratios), ratios
    assert abs(ratios[-1] - 3.0) < 0.15, ratios


def test_chain_rule_by_hand_matches_jax_grad():
    X = jax.random.normal(KEY, (64, 8))
    y = jnp.cos(X[:, 1])
    p = deep_tanh_params(KEY, 1, width=32, d_in=8)
    h = jnp.tanh(X @ p[0])
    r = 2 * (h @ p[1] - y) / len(y)
    grad_W = X.T @ ((r[:, None] * p[1][None, :]) * (1 - h**2))
    assert np.allclose(grad_W, jax.grad(deep_tanh_loss)(p, X, y)[0], atol=1e-5)


def test_occupation_histogram_counts_the_trajectories():
    x0 = jax.random.uniform(KEY, (40, 2), minval=-5, maxval=5)
    model = noise.gaussian(10.0)
    T, burn = 300, 100
    box = dict(low=[-6.0, -6.0], high=[6.0, 6.0], n_bins=24)
    paths = simulate.trajectories(KEY, landscapes.himmelblau, model, x0, 0.005, T)
    hist = simulate.occupation_histogram(KEY, landscapes.himmelblau, model, x0, 0.005, T, burn_in=burn, **box)
    pts = paths.xs[burn + 1:].reshape(-1, 2)
    direct, _, _ = np.histogram2d(pts[:, 0], pts[:, 1], bins=24, range=[[-6, 6], [-6, 6]])
    assert hist.n_samples == 40 * (T - burn)
    assert np.abs(hist.counts - direct).sum() <= 4  # identical up to rare float ties at bin edges
    assert np.isclose(hist.density().sum() * (12 / 24) ** 2, hist.fraction_inside())


def _outside_fraction(eta, sigma, delta, n_chains=2000, n_steps=600):
    """The chapter's comparison at a small size: measured vs linearised prediction."""
    minima = landscapes.HIMMELBLAU_MINIMA
    x0 = jax.random.uniform(jax.random.fold_in(KEY, 1), (n_chains, 2), minval=-5, maxval=5)
    h = simulate.occupation_histogram(KEY, landscapes.himmelblau, noise.gaussian(sigma), x0, eta, n_steps,
                                      burn_in=n_steps // 2, low=[-6.0, -6.0], high=[6.0, 6.0], n_bins=150)
    hessians = np.stack([jax.hessian(landscapes.himmelblau)(jnp.asarray(m)) for m in minima])
    measured, weights = gibbs.histogram_mass_near(h, minima, delta)
    predicted = gibbs.predicted_mass_outside(h, minima, hessians, weights, eta, sigma, delta,
                                                rng=np.random.default_rng(0), n_mc=50_000)
    return measured, predicted


def test_linearized_covariance_solves_the_stationary_equation():
    H = np.array([[3.0, 1.0], [1.0, 2.0]])
    eta, sigma = 0.1, 0.7
    S = gibbs.linearized_covariance(H, eta, sigma)
    A = np.eye(2) - eta * H
    np.testing.assert_allclose(S, A @ S @ A + eta**2 * sigma**2 * np.eye(2), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="positive definite"):
        gibbs.linearized_covariance(H, 1.0, sigma)  # eta * lambda_max > 2


def test_mass_near_splits_a_histogram_exactly():
    x0 = np.array([[3.0, 2.0]] * 3 + [[-2.8, 3.1]])
    h = simulate.occupation_histogram(KEY, landscapes.himmelblau, noise.gaussian(0.0), x0, 1e-3, 10,
                                      low=[-6, -6], high=[6, 6], n_bins=60)
    outside, weights = gibbs.histogram_mass_near(h, landscapes.HIMMELBLAU_MINIMA, 0.3)
    assert outside == pytest.approx(0.0)
    np.testing.assert_allclose(weights, [0.75, 0.25, 0.0, 0.0])


def test_occupation_concentrates_near_the_minima_as_the_step_shrinks():
    small = _outside_fraction(0.002, 20.0, 0.3)
    large = _outside_fraction(0.008, 20.0, 0.3)
    assert small[0] < large[0] / 5, (small, large)       # concentration as eta decreases
    for measured, predicted in (small, large):           # the linearised prediction
        assert 0.7 < measured / predicted < 1.6, (measured, predicted)
