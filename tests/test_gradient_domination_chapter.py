"""The claims of the chapter "Favorable landscapes", checked at a small size.

Each test mirrors one comparison drawn in book/gradient_domination.md (measured
against predicted or bound) and calls the same course_lib functions; it fails
if the comparison no longer holds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import gradient_domination as gdm
from course_lib import implicit_bias as ib

KEY = jax.random.PRNGKey(6)


def f(x):
    return x**2 + 3 * jnp.sin(x) ** 2


L_F = 8.0


@pytest.fixture(scope="module")
def c_f():
    return gdm.estimate_pl_constant(f, jnp.linspace(-10.0, 10.0, 20_001))


def test_nonconvex_function_is_pl(c_f):
    """x^2 + 3 sin^2 x: f'' < 0 somewhere, yet the PL ratio stays above c > 1/16 (Karimi et al.'s safe constant)."""
    grid = jnp.linspace(-10.0, 10.0, 20_001)
    assert float(jnp.min(2 + 6 * jnp.cos(2 * grid))) < 0
    assert 1 / 16 < c_f < 0.4
    assert c_f == pytest.approx(0.351, abs=5e-3)
    # x^4 is not PL: its ratio 16 x^2 tends to 0
    assert gdm.estimate_pl_constant(lambda x: x**4, grid) < 1e-5


def test_rank_deficient_least_squares_is_pl_with_the_smallest_nonzero_eigenvalue():
    A = jax.random.normal(jax.random.fold_in(KEY, 1), (4, 8))
    b = A @ jax.random.normal(jax.random.fold_in(KEY, 3), (8,))
    eig = np.linalg.eigvalsh(np.asarray(A.T @ A, dtype=np.float64))
    pred = 2 * eig[eig > 1e-6 * eig[-1]].min()
    est = gdm.estimate_pl_constant(lambda th: 0.5 * jnp.sum((A @ th - b) ** 2), jax.random.normal(KEY, (5000, 8)))
    assert pred * (1 - 1e-3) <= est <= 1.2 * pred


def test_trap_paths_are_shorter_than_the_lojasiewicz_bound():
    g = lambda th: (th[0] ** 2 + 3 * th[1] ** 2) ** 2  # noqa: E731  |grad g| >= 4 g^(3/4)
    pts = jax.random.normal(KEY, (2000, 2))
    assert bool(jnp.all(jnp.linalg.norm(jax.vmap(jax.grad(g))(pts), axis=1) >= 4 * jax.vmap(g)(pts) ** 0.75 * (1 - 1e-4)))
    for angle in (0.2, 1.2, 2.0):
        th0 = 1.2 * jnp.array([np.cos(angle), np.sin(angle)])
        fl = gdm.gradient_flow(g, th0, 100.0, 4000)
        length = float(gdm.trajectory_length(fl.iterates)[-1])
        assert float(jnp.linalg.norm(th0 - fl.iterates[-1])) * (1 - 1e-4) <= length <= float(gdm.lojasiewicz_length_bound(g(th0), 4.0, 0.75))
        bound = gdm.lojasiewicz_flow_bound(float(g(th0)), 4.0, 0.75, np.asarray(fl.times))
        assert np.all(np.asarray(fl.values) <= bound * (1 + 1e-4))


def test_gd_worst_step_is_under_the_pl_rate(c_f):
    for a in (0.02, 0.08, 1 / L_F, 0.2, 0.24):
        run = gdm.gradient_descent(f, 4.0, a, 60)
        assert gdm.measured_rate(run.values) <= float(gdm.gd_rate(c_f, L_F, a)) + 1e-6
    # the guarantee is nearly tight for small steps (the shoulder near |x| = 2.2)
    run = gdm.gradient_descent(f, 4.0, 0.02, 200)
    assert gdm.measured_rate(run.values) >= float(gdm.gd_rate(c_f, L_F, 0.02)) - 3e-3


def test_gradient_flow_decays_faster_than_exp_minus_ct(c_f):
    fl = gdm.gradient_flow(f, 4.0, 8.0, 800)
    assert np.all(np.asarray(fl.values) <= gdm.flow_bound(c_f, fl.times, float(fl.values[0])) * (1 + 1e-5))


def test_least_squares_ratio_bound_and_guarantee_along_a_run():
    kx = jax.random.split(jax.random.fold_in(KEY, 10), 2)
    X = jax.random.normal(kx[0], (6, 3)) / jnp.sqrt(3.0)
    y = jnp.sin(3 * X[:, 0]) + X[:, 1]
    F = lambda th: gdm.tanh_model(th, X)  # noqa: E731
    J = lambda th: jnp.sum((F(th) - y) ** 2)  # noqa: E731
    theta0 = jax.random.normal(kx[1], (30 * 4,))
    lmax = float(np.linalg.eigvalsh(np.asarray(gdm.jacobian_gram(F, theta0)))[-1])
    alpha = 0.5 / lmax
    run = gdm.gradient_descent(J, theta0, alpha, 100)
    chk = gdm.least_squares_pl_check(F, y, run.iterates)
    assert bool(jnp.all(chk.lambda_min > 0))
    assert bool(jnp.all(chk.ratio >= chk.bound * (1 - 1e-4)))
    guarantee = float(run.values[0]) * np.concatenate([[1.0], np.cumprod(1 - 2 * alpha * np.asarray(chk.lambda_min[:-1]))])
    assert np.all(np.asarray(run.values) <= guarantee * (1 + 1e-4))
    # underparameterized: p = 4 < n = 6, the Gram matrix is singular
    G = gdm.jacobian_gram(F, jax.random.normal(KEY, (4,)))
    assert float(np.linalg.eigvalsh(np.asarray(G))[0]) < 1e-5 * float(np.linalg.eigvalsh(np.asarray(G))[-1])


def test_sgd_under_interpolation_stays_under_the_guarantee():
    ka = jax.random.split(jax.random.fold_in(KEY, 20), 3)
    A = jax.random.normal(ka[0], (10, 30)) / jnp.sqrt(30.0)
    b = A @ jax.random.normal(ka[1], (30,))
    lam, L = gdm.least_squares_constants(A)
    for a in (lam / (2 * L**2), lam / (8 * L**2)):
        vals = gdm.sgd_least_squares(A, b, jnp.zeros(30), a, 1000, ka[2], n_runs=100)
        mean = np.asarray(vals.mean(axis=0), dtype=np.float64)
        pred = mean[0] * gdm.sgd_interpolation_rate(lam, L, a) ** np.arange(1001)
        assert np.all(mean[1:] <= pred[1:])
        assert mean[-1] < mean[0]


def test_gd_from_zero_finds_the_minimum_norm_interpolant():
    kb = jax.random.split(jax.random.fold_in(KEY, 30), 3)
    A = jax.random.normal(kb[0], (6, 15))
    b = A @ jax.random.normal(kb[1], (15,))
    step = 1.0 / float(jnp.linalg.eigvalsh(A.T @ A)[-1])
    dagger = ib.min_norm_solution(A, b)
    assert float(jnp.linalg.norm(ib.least_squares_gd(A, b, jnp.zeros(15), step, 2000)[-1] - dagger)) < 1e-4
    th0 = jax.random.normal(kb[2], (15,))
    end = ib.least_squares_gd(A, b, th0, step, 2000)[-1]
    limit = ib.predicted_gd_limit(A, b, th0)
    assert float(jnp.linalg.norm(end - limit)) < 1e-4
    assert float(jnp.linalg.norm(end - dagger)) == pytest.approx(float(jnp.linalg.norm(limit - dagger)), rel=1e-3)
    assert float(jnp.linalg.norm(end - dagger)) > 0.5


def test_diagonal_network_interpolant_moves_from_l1_to_l2():
    pb = ib.sparse_recovery_problem(jax.random.fold_in(KEY, 40), n=20, p=40, k=3)
    l1, l2 = ib.min_l1_solution(pb.A, pb.b), ib.min_norm_solution(pb.A, pb.b)
    np.testing.assert_allclose(l1, pb.beta_true, atol=1e-3)
    d1, d2 = [], []
    for s in (1e-3, 3e-2, 3.0):
        r = ib.diagonal_network_gd(pb.A, pb.b, s, n_steps=20_000)
        assert float(r.losses[-1]) < 1e-5
        d1.append(float(jnp.linalg.norm(r.beta - l1)))
        d2.append(float(jnp.linalg.norm(r.beta - l2)))
    assert d1[0] < 0.15 < d2[0]          # small scale: sparse
    assert d2[-1] < 0.05 < d1[-1]        # large scale: minimum norm
    assert d1[0] < d1[1] < d1[2] and d2[0] > d2[1] > d2[2]


def _separable(n_far=18):
    u = jnp.array([2.0, 1.0]) / jnp.sqrt(5.0)
    v = jnp.array([-u[1], u[0]])
    cloud = jax.random.normal(jax.random.fold_in(KEY, 50), (200, 2))
    far = np.flatnonzero(np.abs(np.asarray(cloud @ u)) > 1.0)[:n_far]
    X = jnp.concatenate([cloud[far], jnp.stack([0.4 * u + v, -0.4 * u + 0.5 * v])])
    return X, jnp.sign(X @ u)


def test_logistic_gd_direction_tends_to_the_max_margin_one_like_one_over_log_t():
    X, y = _separable()
    w_hat = ib.max_margin_direction(X, y)
    assert float(np.min(np.asarray(y) * (np.asarray(X) @ w_hat))) == pytest.approx(1.0, abs=1e-4)
    L = float(jnp.linalg.eigvalsh(X.T @ X)[-1]) / (4 * X.shape[0])
    t = np.array([10, 100, 1000, 10_000, 30_000])
    run = ib.logistic_gd(X, y, jnp.zeros(2), 1.0 / L, t)
    norms = np.linalg.norm(run.thetas, axis=1)
    angle = np.arccos(np.clip(run.thetas @ w_hat / (norms * np.linalg.norm(w_hat)), -1, 1))
    assert np.all(np.diff(angle[1:]) < 0)                      # the direction keeps turning towards w_hat
    assert angle[-1] < 0.05                                    # radians
    assert angle[-1] * np.log(t[-1]) < 1.5 * angle[2] * np.log(t[2])   # O(1 / log t): product bounded
    slope = (norms[-1] - norms[-2]) / (np.log(t[-1]) - np.log(t[-2]))
    assert slope == pytest.approx(float(np.linalg.norm(w_hat)), rel=0.1)  # ||theta_t|| ~ ||w_hat|| log t
    assert float(run.losses[-1]) < 1e-3
