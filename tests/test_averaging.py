"""Unit tests of course_lib.averaging: formulas against independent computations, and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import averaging as av
from course_lib import landscapes as L


def test_running_average_is_the_mean_of_the_prefix():
    X = np.arange(12.0).reshape(4, 3)
    A = av.running_average(X)
    for k in range(4):
        np.testing.assert_allclose(A[k], X[: k + 1].mean(axis=0))
    np.testing.assert_allclose(av.running_average(X.T, axis=1), A.T)


def test_least_squares_noise_matches_definitions():
    prob = L.least_squares(jax.random.PRNGKey(0), 40, 3, noise=0.2)
    ls = av.least_squares_noise(prob)
    A, b = np.asarray(prob.features, float), np.asarray(prob.targets, float)
    np.testing.assert_allclose(ls.x_star, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-6, atol=1e-8)
    grads = A * (A @ ls.x_star - b)[:, None]  # per-example gradients at the optimum, mean zero
    np.testing.assert_allclose(grads.mean(0), 0.0, atol=1e-8)
    np.testing.assert_allclose(ls.S, grads.T @ grads / 40, rtol=1e-10)
    Sigma = np.diag([1.0, 2.0, 3.0])
    direct = np.mean([np.outer(a, a) @ Sigma @ np.outer(a, a) for a in A], axis=0)
    np.testing.assert_allclose((ls.K @ Sigma.ravel()).reshape(3, 3), direct, rtol=1e-10)


def test_stationary_covariance_solves_its_equations():
    H = np.array([[2.0, 0.3], [0.3, 1.0]])
    S = np.array([[0.5, 0.1], [0.1, 0.4]])
    g = 0.1
    Sig = av.stationary_covariance(H, S, g)
    M = np.eye(2) - g * H
    np.testing.assert_allclose(Sig, M @ Sig @ M + g * g * S, atol=1e-12)
    # first order in the step: gamma tr(S) / 4
    assert av.last_iterate_floor(H, S, 1e-4) == pytest.approx(1e-4 * np.trace(S) / 4, rel=1e-3)
    assert av.averaged_constant(H, S) == pytest.approx(0.5 * np.trace(np.linalg.inv(H) @ S))


def test_floor_and_average_against_sgd_at_small_size():
    """The chapter's comparison, small: last-iterate floor and C / k of the average, via course_lib.simulate."""
    from course_lib import noise, simulate

    prob = L.least_squares(jax.random.PRNGKey(3), 100, 3, noise=0.5)
    ls = av.least_squares_noise(prob)
    gamma, T = 0.05, 4000
    tr = simulate.trajectories(jax.random.PRNGKey(4), prob, noise.minibatch(prob, 1), jnp.asarray(np.tile(ls.x_star, (64, 1))),
                               gamma, T)
    last = av.excess_risk(tr.xs, ls.x_star, ls.H).mean(axis=1)
    avg = av.excess_risk(av.running_average(tr.xs), ls.x_star, ls.H).mean(axis=1)
    assert last[T // 2:].mean() == pytest.approx(av.last_iterate_floor(ls.H, ls.S, gamma, ls.K), rel=0.15)
    assert avg[-1] * (T + 1) == pytest.approx(av.averaged_constant(ls.H, ls.S, gamma, ls.K), rel=0.35)
    assert avg[-1] < last[T // 2:].mean() / 20


def test_escape_prediction_matches_linear_recursion_monte_carlo():
    rng = np.random.default_rng(0)
    eta, lam, s, r = 0.05, -1.0, 1e-3, 0.1
    y = np.zeros(20_000)
    k = np.zeros(20_000)
    alive = np.ones(20_000, bool)
    t = 0
    while alive.any() and t < 5000:
        y = np.where(alive, (1 + eta) * y - eta * s * rng.normal(size=y.size), y)
        t += 1
        hit = alive & (np.abs(y) >= r)
        k[hit] = t
        alive &= ~hit
    assert k.mean() == pytest.approx(float(av.predicted_escape_steps(eta, s, lam, r)), rel=0.03)


def test_strict_saddle_and_valley():
    H = np.asarray(jax.hessian(av.strict_saddle)(jnp.zeros(2)))
    assert np.linalg.eigvalsh(H).min() == pytest.approx(av.STRICT_SADDLE_LAMBDA)
    x = jnp.array([0.3, -0.2, 0.7, 0.4])
    assert av.valley_hessian_trace(x) == pytest.approx(float(jnp.trace(jax.hessian(av.widening_valley)(x))), rel=1e-5)


def test_anti_pgd_telescopes_and_pgd_does_not():
    x0 = jnp.zeros((4, 3))
    flat = lambda x: 0.0 * jnp.sum(x**2, axis=-1)  # noqa: E731  zero gradient: only perturbations move x
    key = jax.random.PRNGKey(1)
    A = av.perturbed_gd(key, flat, x0, 0.1, 0.5, 50, anti=True)
    P = av.perturbed_gd(key, flat, x0, 0.1, 0.5, 50, anti=False)
    # anti-PGD: x_k = xi_k, so every iterate has the law N(0, sigma^2); PGD: x_k = sum of k draws
    np.testing.assert_allclose(A[1:], P[1:] - P[:-1], atol=1e-5)


def test_anti_pgd_reaches_flatter_minima_than_pgd():
    """The chapter's comparison, small: end-point Hessian traces on the widening valley, and the smoothed-loss prediction."""
    x0 = jnp.tile(jnp.array([[1.0, 1.0, 1.0, 0.5]]), (16, 1))
    eta, sig, T = 0.05, 0.05, 8000
    key = jax.random.PRNGKey(2)
    pgd = av.valley_hessian_trace(av.perturbed_gd(key, av.widening_valley, x0, eta, sig, T, every=T)[-1])
    anti = av.valley_hessian_trace(av.perturbed_gd(key, av.widening_valley, x0, eta, sig, T, anti=True, every=T)[-1])
    assert np.max(anti) < np.min(pgd)

    def smoothed(x):
        return 0.5 * (x[..., -1] ** 2 + sig**2) * (jnp.sum(x[..., :-1] ** 2, axis=-1) + 3 * sig**2)

    z = av.perturbed_gd(key, smoothed, x0[:1], eta, 0.0, T, every=T)[-1]
    assert anti.mean() == pytest.approx(av.valley_hessian_trace(z)[0] + 6 * sig**2, rel=0.25)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: av.running_average(np.ones(3), axis=2), "axis"),
        (lambda: av.running_average([1.0, np.nan]), "iterates"),
        (lambda: av.least_squares_noise(L.logistic_regression(jax.random.PRNGKey(0), 10, 2)), "problem"),
        (lambda: av.last_iterate_floor(np.eye(2), np.eye(2), 2.5), "step"),
        (lambda: av.last_iterate_floor(np.eye(2), np.eye(3), 0.1), "S"),
        (lambda: av.averaged_constant(-np.eye(2), np.eye(2)), "H"),
        (lambda: av.averaged_constant(np.eye(2), np.eye(2), 0.1), "step and K"),
        (lambda: av.predicted_escape_steps(0.1, 1e-3, 1.0, 0.1), "lam"),
        (lambda: av.predicted_escape_steps(0.1, -1.0, -1.0, 0.1), "sigma"),
        (lambda: av.perturbed_gd(jax.random.PRNGKey(0), av.widening_valley, jnp.ones((2, 3)), 0.1, 0.1, 10, every=3), "n_steps"),
        (lambda: av.perturbed_gd(jax.random.PRNGKey(0), av.widening_valley, jnp.ones((2, 3)), -0.1, 0.1, 10), "step"),
        (lambda: av.valley_hessian_trace(np.ones(1)), "x"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
