"""course_lib.minmax: the predicted factors and exact second moments against runs, at small sizes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import minmax as mm

KEY = jax.random.PRNGKey(0)


@pytest.fixture(scope="module")
def games():
    return mm.make_game(KEY, 10, 3, mu=0.0, spread=0.5), mm.make_game(KEY, 10, 3, mu=0.3, spread=0.5)


def _rate(dist, k=20):
    return float((dist[-1] / dist[-1 - k]) ** (1 / k))


def test_operator_is_the_gradient_field(games):
    g = games[1]
    M, q = mm.operator_matrix(g)
    z = np.arange(6.0) / 5
    d = 3
    f = lambda x, y: jnp.mean(jnp.einsum("i,nij,j->n", x, g.A, y)) + g.mu / 2 * x @ x - g.mu / 2 * y @ y + g.b.mean(0) @ x - g.c.mean(0) @ y
    gx, gy = jax.grad(f, argnums=(0, 1))(jnp.asarray(z[:d]), jnp.asarray(z[d:]))
    np.testing.assert_allclose(M @ z + q, np.concatenate([gx, -gy]), rtol=1e-5, atol=1e-5)
    zs = mm.saddle_point(g)
    np.testing.assert_allclose(M @ zs + q, 0.0, atol=1e-9)


def _exact(g, z0, eta, T, extra):
    M, _ = mm.operator_matrix(g)
    P = np.eye(len(M)) - eta * M + (eta * M) @ (eta * M) * extra
    e, out = np.asarray(z0, np.float64) - mm.saddle_point(g), []
    for _ in range(T + 1):
        out.append(np.linalg.norm(e))
        e = P @ e
    return np.array(out)


def test_gda_spirals_out_and_eg_converges_on_the_bilinear_game(games):
    g, eta = games[0], 0.3
    z0 = jnp.ones(6)
    r = mm.gda(g, z0, eta, 200)
    assert mm.gda_factor(g, eta) > 1.0 and r.dist[-1] > 100 * r.dist[0]
    np.testing.assert_allclose(r.dist, _exact(g, z0, eta, 200, False), rtol=1e-3)
    assert np.all(r.dist <= r.dist[0] * mm.gda_factor(g, eta) ** np.arange(201) * (1 + 1e-4))  # normal M: a bound
    assert _rate(r.dist, 100) == pytest.approx(mm.gda_factor(g, eta), rel=1e-2)
    e = mm.extragradient(g, z0, eta, 200)
    assert mm.eg_factor(g, eta) < 1.0 and e.dist[-1] < 0.01 * e.dist[0]
    np.testing.assert_allclose(e.dist, _exact(g, z0, eta, 200, True), rtol=1e-3)
    assert np.all(e.dist <= e.dist[0] * mm.eg_factor(g, eta) ** np.arange(201) * (1 + 1e-4))
    assert _rate(e.dist, 100) == pytest.approx(mm.eg_factor(g, eta), rel=1e-2)


def test_eg_factor_on_the_strongly_monotone_game(games):
    g, eta = games[1], 0.4
    e = mm.extragradient(g, jnp.ones(6), eta, 60)
    np.testing.assert_allclose(e.dist, _exact(g, jnp.ones(6), eta, 60, True), rtol=1e-3, atol=1e-5)
    assert np.all(e.dist <= e.dist[0] * mm.eg_factor(g, eta) ** np.arange(61) * (1 + 1e-4) + 1e-5)
    assert mm.eg_factor(g, eta) < mm.eg_factor(games[0], eta)


def test_seg_mean_square_matches_the_exact_recursion(games):
    g, eta = games[1], 0.1
    r = mm.stochastic_extragradient(KEY, g, jnp.ones(6), eta, 200, chains=300)
    maps, pr = mm.seg_linear_maps(g, eta)
    pred = mm.second_moment_curve(maps, pr, np.r_[np.ones(6), 1.0], mm.saddle_point(g), 200)
    meas = (r.dist.astype(np.float64) ** 2).mean(1)
    np.testing.assert_allclose(meas[[0, 10, 50, 200]], pred[[0, 10, 50, 200]], rtol=0.15)
    assert pred[-1] > 0.05 * pred[0]  # a floor: SEG with a constant step does not converge


def test_vr_eg_matches_the_exact_recursion_and_beats_seg(games):
    g = games[1]
    n = g.A.shape[0]
    r = mm.vr_extragradient(KEY, g, jnp.ones(6), 600, chains=300)
    p = 1.0 / n
    tau = 0.99 * np.sqrt(p) / mm.lipschitz_mean_square(g)
    maps, pr = mm.vr_eg_linear_maps(g, tau, p, 1 - p)
    pred = mm.second_moment_curve(maps, pr, np.r_[np.ones(12), 1.0], mm.saddle_point(g), 600)
    meas = (r.dist.astype(np.float64) ** 2).mean(1)
    assert meas[10] == pytest.approx(pred[10], rel=0.1)
    assert meas[30] == pytest.approx(pred[30], rel=0.4)
    # later the mean over chains of a product of random matrices is heavy-tailed (a few chains dominate): orders only
    assert pred[200] < meas[100] and meas[200] < pred[100]
    assert meas[-1] < 1e-6 * meas[0]
    assert r.calls[-1] == pytest.approx(n + 600 * (2 + p * n), rel=0.05)
    s = mm.stochastic_extragradient(KEY, g, jnp.ones(6), 0.1, 600, chains=50)
    assert meas[-1] < (s.dist[-1] ** 2).mean()


def test_bad_input():
    with pytest.raises(ValueError, match="n"):
        mm.make_game(KEY, 0, 3)
    with pytest.raises(ValueError, match="p"):
        mm.vr_extragradient(KEY, mm.make_game(KEY, 4, 2, mu=0.1), jnp.ones(4), 10, p=1.5)
