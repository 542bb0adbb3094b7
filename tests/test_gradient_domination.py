"""Unit tests of course_lib.gradient_domination: estimators, runners, rates, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import gradient_domination as gdm

KEY = jax.random.PRNGKey(0)


def quad(th):
    return 0.5 * jnp.sum(jnp.array([1.0, 4.0]) * th**2)


def test_pl_ratio_of_a_quadratic_is_bounded_by_twice_the_eigenvalues():
    # f = sum h_i x_i^2 / 2: |grad|^2 / f = 2 sum h_i^2 x_i^2 / sum h_i x_i^2 in [2 min h, 2 max h]
    pts = jax.random.normal(KEY, (500, 2))
    r = gdm.pl_ratio(quad, pts)
    assert r.shape == (500,)
    assert float(r.min()) >= 2.0 - 1e-4 and float(r.max()) <= 8.0 + 1e-4
    assert gdm.estimate_pl_constant(quad, pts) == pytest.approx(float(r.min()))


def test_pl_ratio_scalar_points_and_minimisers():
    f = lambda x: x**2  # noqa: E731
    r = gdm.pl_ratio(f, jnp.array([0.0, 1.0, -2.0]))
    assert np.isinf(float(r[0])) and float(r[1]) == pytest.approx(4.0) and float(r[2]) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="at least one point"):
        gdm.estimate_pl_constant(f, jnp.zeros(3))


def test_gradient_descent_matches_a_manual_loop_and_does_not_recompile():
    run = gdm.gradient_descent(quad, jnp.array([1.0, 1.0]), 0.1, 5)
    th = jnp.array([1.0, 1.0])
    for _ in range(5):
        th = th - 0.1 * jax.grad(quad)(th)
    np.testing.assert_allclose(run.iterates[-1], th, rtol=1e-6)
    assert run.iterates.shape == (6, 2) and run.values.shape == (6,) and run.grad_sq.shape == (6,)
    assert not bool(run.diverged)
    before = gdm._gd._cache_size()
    gdm.gradient_descent(quad, jnp.array([1.0, 1.0]), 0.2, 5)
    assert gdm._gd._cache_size() == before


def test_gradient_descent_reports_divergence_without_nan():
    run = gdm.gradient_descent(quad, jnp.array([1.0, 1.0]), 1.0, 200)  # step > 2 / L = 0.5
    assert bool(run.diverged)
    assert bool(jnp.all(jnp.isfinite(run.values)))


def test_gd_and_flow_obey_the_pl_predictions_on_a_quadratic():
    c, L = 2.0, 4.0  # PL constant 2 * mu = 2, smoothness 4
    for step in (0.05, 0.25, 0.4):
        run = gdm.gradient_descent(quad, jnp.array([1.0, -1.0]), step, 50)
        bound = run.values[0] * gdm.gd_rate(c, L, step) ** jnp.arange(51)
        assert bool(jnp.all(run.values <= bound * (1 + 1e-5) + 1e-30))
    fl = gdm.gradient_flow(quad, jnp.array([1.0, -1.0]), 3.0, 300)
    assert bool(jnp.all(fl.values <= gdm.flow_bound(c, fl.times, fl.values[0]) * (1 + 1e-5)))
    # one coordinate decays exactly like exp(-t) in value (rate 2 * 1 / 2 ... value x^2/2 -> exp(-2t))
    fl1 = gdm.gradient_flow(lambda th: 0.5 * th**2, 1.0, 2.0, 200)
    np.testing.assert_allclose(fl1.values[-1], 0.5 * np.exp(-4.0), rtol=1e-5)


def test_rate_formulas():
    assert float(gdm.gd_rate(1.0, 2.0, 0.5)) == pytest.approx(1 - 0.5 * 0.5)
    assert float(gdm.sgd_interpolation_rate(1.0, 2.0, 1.0 / 8.0)) == pytest.approx(1 - 1.0 / 16.0)
    assert float(gdm.lojasiewicz_length_bound(16.0, 4.0, 0.75)) == pytest.approx(2.0)
    assert float(gdm.flow_bound(2.0, 1.0, 3.0)) == pytest.approx(3 * np.exp(-2.0))


def test_trajectory_length():
    pts = jnp.array([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]])
    np.testing.assert_allclose(gdm.trajectory_length(pts), [0.0, 5.0, 6.0])
    np.testing.assert_allclose(gdm.trajectory_length(jnp.array([0.0, 2.0, 1.0])), [0.0, 2.0, 3.0])


def test_jacobian_gram_of_a_linear_map_is_a_a_transpose():
    A = jax.random.normal(KEY, (3, 7))
    G = gdm.jacobian_gram(lambda th: A @ th, jnp.ones(7))
    np.testing.assert_allclose(G, A @ A.T, rtol=1e-5, atol=1e-5)


def test_least_squares_ratio_is_at_least_four_lambda_min():
    k1, k2 = jax.random.split(KEY)
    X = jax.random.normal(k1, (5, 3))
    F = lambda th: gdm.tanh_model(th, X)  # noqa: E731
    thetas = jax.random.normal(k2, (8, 20 * 4))
    chk = gdm.least_squares_pl_check(F, jnp.ones(5), thetas)
    assert chk.ratio.shape == (8,) and bool(jnp.all(chk.lambda_min > 0))
    assert bool(jnp.all(chk.ratio >= chk.bound * (1 - 1e-4)))
    # linear case: the bound is attained when the residual is the bottom eigenvector
    A = jax.random.normal(k1, (3, 6))
    w, V = np.linalg.eigh(np.asarray(A @ A.T))
    th = np.linalg.pinv(np.asarray(A)) @ V[:, 0]  # A th = v_min, residual v_min for y = 0
    chk = gdm.least_squares_pl_check(lambda t: A @ t, jnp.zeros(3), jnp.asarray(th)[None])
    np.testing.assert_allclose(chk.ratio, 4 * w[0], rtol=1e-3)


def test_tanh_model_shapes_and_errors():
    X = jnp.ones((4, 2))
    assert gdm.tanh_model(jnp.zeros(9), X).shape == (4,)
    with pytest.raises(ValueError, match="theta must be a vector of length"):
        gdm.tanh_model(jnp.zeros(8), X)


def test_sgd_under_interpolation_beats_its_rate():
    A = jax.random.normal(KEY, (8, 20)) / jnp.sqrt(20.0)
    b = A @ jax.random.normal(jax.random.PRNGKey(1), (20,))
    lam, L = gdm.least_squares_constants(A)
    step = lam / (2 * L**2)
    vals = gdm.sgd_least_squares(A, b, jnp.zeros(20), step, 400, jax.random.PRNGKey(2), n_runs=100)
    assert vals.shape == (100, 401)
    pred = float(vals[0, 0]) * float(gdm.sgd_interpolation_rate(lam, L, step)) ** np.arange(401)
    assert np.all(np.asarray(vals.mean(0)) <= pred * 1.05)
    assert float(gdm.sgd_interpolation_rate(lam, L, step)) <= 1 - lam * step / 2 + 1e-12


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gdm.gradient_descent(quad, jnp.ones(2), -0.1, 5), "step must be a positive"),
        (lambda: gdm.gradient_descent(quad, jnp.ones(2), 0.1, 0), "n_steps must be a positive integer"),
        (lambda: gdm.gradient_descent("f", jnp.ones(2), 0.1, 5), "f must be a callable"),
        (lambda: gdm.gradient_descent(quad, jnp.array([jnp.nan, 1.0]), 0.1, 5), "theta0 must contain only finite"),
        (lambda: gdm.pl_ratio(quad, jnp.ones((2, 2, 2))), "points must have shape"),
        (lambda: gdm.gradient_flow(quad, jnp.ones(2), 100.0, 10), "gradient_flow diverged"),
        (lambda: gdm.least_squares_constants(jnp.ones((3, 5))), "full row rank"),
        (lambda: gdm.lojasiewicz_flow_bound(1.0, 1.0, 0.5, 1.0), "q must lie in"),
        (lambda: gdm.measured_rate(jnp.zeros(4)), "at least one step"),
        (lambda: gdm.jacobian_gram(lambda th: jnp.sum(th), jnp.ones(3)), "F must map theta"),
        (lambda: gdm.sgd_least_squares(jnp.ones((3, 5)), jnp.ones(2), jnp.zeros(5), 0.1, 5, KEY), "must agree"),
    ],
)
def test_bad_input_raises_readable_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_widget_figure_does_not_recompile_when_sliders_move():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = lambda x: x**2 + 3 * jnp.sin(x) ** 2  # noqa: E731
    plt.close(gdm.draw_gd_vs_rate(f, 0.35, 8.0, 4.0, 0.1, n_steps=20))
    before = gdm._gd._cache_size()
    for x0, step in ((2.0, 0.05), (-3.0, 0.27)):
        fig = gdm.draw_gd_vs_rate(f, 0.35, 8.0, x0, step, n_steps=20)
        assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
        plt.close(fig)
    assert gdm._gd._cache_size() == before
