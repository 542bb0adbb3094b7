"""The claims of the chapter "Nonsmoothness", checked at a small size.

Each test mirrors one comparison drawn in book/nonsmooth.md (measured against
predicted or exact) and fails if the comparison no longer holds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from course_lib import nonsmooth as ns

KEY = jax.random.PRNGKey(7)
X = sp.Symbol("x", real=True)


def test_backprop_depends_on_the_formula():
    """relu, relu2, relu3: one function, backprop 0, 1, 1/2; zero -> s; identity -> 0."""
    got = [float(jax.grad(f)(0.0)) for f in (ns.relu, ns.relu2, ns.relu3, ns.zero, ns.identity)]
    assert got == [0.0, 1.0, 0.5, 1.0, 0.0]
    for s in (-2.0, 0.3, 7.0):
        assert float(jax.grad(lambda t: ns.scaled_zero(t, s))(0.0)) == pytest.approx(s)
    # the first three lie in the Clarke subdifferential of relu at 0, the artifacts do not
    lo, hi = (float(c) for c in ns.clarke_subdifferential_sympy(sp.Max(X, 0), X, 0))
    assert all(lo <= g <= hi for g in got[:3])
    assert not ns.contains(ns.clarke_interval(lambda t: 0.0 * t, 0.0), got[3])
    assert not ns.contains(ns.clarke_interval(lambda t: t, 0.0), got[4])


def test_fermat_rule_at_kink_minimisers():
    for f in (lambda t: jnp.abs(t - 0.3) + 0.5 * t, lambda t: ns.relu(t) + ns.relu(-2 * t - 1),
              lambda t: jnp.maximum(t**2, 1 - t)):
        grid = jnp.linspace(-2.0, 2.0, 40_001)
        xmin = float(grid[jnp.argmin(f(grid))])
        assert ns.contains(ns.clarke_interval(f, xmin, radius=1e-3), 0.0)


def test_sum_rule_fails_for_abs_minus_abs():
    assert ns.clarke_subdifferential_sympy(sp.Abs(X) - sp.Abs(X), X, 0) == (0, 0)
    rhs = ns.interval_add(jnp.array([-1.0, 1.0]), jnp.array([-1.0, 1.0]))
    assert float(rhs[1] - rhs[0]) == 4.0


def test_gradient_method_stops_only_at_the_spurious_point():
    J = lambda x: 0.5 * (ns.identity(x) - 1.0) ** 2  # noqa: E731
    oracle = ns.backprop_oracle(J)
    steps = jnp.full(40, 0.3)
    assert float(ns.subgradient_method(oracle, 0.0, steps).iterates[-1]) == 0.0
    np.testing.assert_allclose(ns.clarke_interval(J, 0.0), [-1.0, -1.0], atol=1e-3)
    x0 = jax.random.normal(KEY, (200,))
    final = jax.vmap(lambda x: ns.subgradient_method(oracle, x, steps).iterates[-1])(x0)
    assert bool(jnp.all(jnp.abs(final - 1.0) < 1e-3))


def test_sampled_subgradients_do_not_average_to_a_subgradient():
    assert ns.contains(ns.clarke_interval(jnp.abs, 0.0), 1.0)
    assert ns.contains(ns.clarke_interval(lambda t: -jnp.abs(t), 0.0), 1.0)
    assert not ns.contains(ns.clarke_interval(lambda t: 0.5 * (jnp.abs(t) - jnp.abs(t)), 0.0), 1.0)


def test_sawtooth_sup_norm_vanishes_while_subdifferential_stays_full():
    probe = jnp.linspace(0.0, 1.0, 20_001)
    for w in (1e-2, 1e-3):
        assert float(jnp.max(ns.sawtooth(probe, w))) == pytest.approx(w / 2, rel=2e-2)
        iv = ns.clarke_interval(lambda t: ns.sawtooth(t, w), 0.51, radius=2e-2, num=64)
        assert float(iv[1] - iv[0]) == pytest.approx(2.0)


def test_chain_rule_fails_only_within_h_of_a_kink():
    """A relu-network loss along a curve: fraction of bad t <= (number of kinks) * 2h."""
    k = jax.random.split(KEY, 4)
    Xd = jax.random.normal(k[0], (8, 2))
    y = jnp.sin(2 * Xd[:, 0])
    m = 4
    theta0 = jax.random.normal(k[1], (4 * m,))
    u, v = jax.random.normal(k[2], (2, 4 * m))

    def preact(th):
        return Xd @ th[: 2 * m].reshape(m, 2).T + th[2 * m: 3 * m]

    def loss(th):
        return 0.5 * jnp.mean((ns.relu(preact(th)) @ th[3 * m:] - y) ** 2)

    gamma = lambda t: theta0 + t * u + 0.3 * jnp.sin(2 * jnp.pi * t) * v  # noqa: E731
    ts = jnp.linspace(0.0, 1.0, 4001)
    signs = jnp.sign(jax.vmap(lambda t: preact(gamma(t)))(ts))
    kinks = int(jnp.sum(signs[1:] != signs[:-1]))
    assert kinks > 0
    for h in (3e-3, 1e-3):
        res = ns.chain_rule_residuals(loss, jax.grad(loss), gamma, ts, h=h)
        assert float(jnp.mean(jnp.abs(res) > 1e-2)) <= kinks * 2 * h + 2 / ts.size


def test_backprop_is_conservative_the_other_field_is_not():
    J2 = lambda p: p[1] + ns.zero(p[0])  # noqa: E731
    bad = lambda p: jnp.array([0.0, 1.0 + jnp.where(p[0] == 0.0, 1.0, 0.0)])  # noqa: E731
    curves = [lambda t: jnp.array([0.0, t]), lambda t: jnp.array([t - 0.5, t]),
              lambda t: jnp.array([0.25 * jnp.sin(8 * t), t])]
    for c in curves:
        assert abs(float(ns.path_integral_gap(J2, jax.grad(J2), c, num=200))) < 1e-5
    assert float(ns.path_integral_gap(J2, bad, curves[0], num=200)) == pytest.approx(-1.0)
    # backprop is not a Clarke subgradient on the kink line, yet conservative
    np.testing.assert_allclose(jax.grad(J2)(jnp.zeros(2)), [1.0, 1.0])


def test_subgradient_methods_on_the_lasso():
    """Measured best gaps under the bound; constant step plateaus; smoothing biased by at most lam p mu / 2."""
    problem = ns.lasso_problem(n=40, p=20, lam=0.1, seed=0)
    w_star, F_star = ns.lasso_solution(problem, 2000)
    oracle = lambda w: (ns.lasso_objective(w, problem), ns.lasso_subgradient(w, problem))  # noqa: E731
    w0 = jnp.zeros(20)
    R = float(jnp.linalg.norm(w0 - w_star))
    K = 1000
    G0 = float(jnp.linalg.norm(ns.lasso_subgradient(w0, problem)))
    vanishing = (R / G0) / jnp.sqrt(1.0 + jnp.arange(K))
    bests = {}
    for name, steps in (("vanishing", vanishing), ("constant", jnp.full(K, 0.02))):
        run = ns.subgradient_method(oracle, w0, steps)
        best = np.minimum.accumulate(np.asarray(run.values[:-1]) - float(F_star))
        assert np.all(best <= np.asarray(ns.subgradient_bound(R, run.grad_norms, steps)) + 1e-5), name
        bests[name] = (best, run)
    best_c, run_c = bests["constant"]
    assert best_c[-1] <= 0.02 * float(jnp.mean(run_c.grad_norms[K // 2:] ** 2)) / 2
    best_v, _ = bests["vanishing"]
    assert best_v[-1] < best_v[99] < best_v[9]  # keeps decreasing
    for mu in (1e-2, 1e-3):
        _, Fs = ns.smoothed_lasso_descent(problem, w0, mu, 2000)
        assert 0.0 <= float(Fs[-1] - F_star) + 1e-5 and float(Fs[-1] - F_star) <= problem.lam * 20 * mu / 2 + 1e-4
