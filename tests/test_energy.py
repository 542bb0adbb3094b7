"""Unit tests of course_lib.energy: energies, J(i), J(x), Markov chains, critical points, predictions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from course_lib import energy as en
from course_lib import gibbs
from course_lib.chapters import long_run as lr
from course_lib import landscapes as L

X, Y = sp.symbols("x y", real=True)
HIMMELBLAU_SYM = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2


def _random_costs(rng, p, p_missing=0.3):
    B = rng.uniform(0.0, 3.0, size=(p, p))
    B[rng.uniform(size=(p, p)) < p_missing] = np.inf
    # keep the graph strongly connected: a cycle 0 -> 1 -> ... -> p-1 -> 0 of finite costs
    for i in range(p):
        B[i, (i + 1) % p] = rng.uniform(0.0, 3.0)
    np.fill_diagonal(B, np.inf)
    return B


@pytest.mark.parametrize("seed", range(12))
def test_energies_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(2, 6))
    B = _random_costs(rng, p)
    np.testing.assert_allclose(en.energies(B), en.energies_brute_force(B), atol=1e-10)


def test_energies_inf_when_no_tree_points_to_a_node():
    B = np.array([[np.inf, 1.0], [np.inf, np.inf]])  # 1 cannot leave: no tree points to 0
    E = en.energies(B)
    assert math.isinf(E[0]) and E[1] == pytest.approx(1.0)
    np.testing.assert_array_equal(E, en.energies_brute_force(B))


@pytest.mark.parametrize("seed", range(6))
def test_markov_chain_tree_theorem(seed):
    """-eta log pi_i -> E_i - min E as eta -> 0, within eta log(p^(p-1))."""
    rng = np.random.default_rng(100 + seed)
    p = int(rng.integers(3, 6))
    B = _random_costs(rng, p, p_missing=0.0)
    E = en.energies(B)
    errors = []
    for eta in (0.2, 0.05, 0.01):
        pi = en.stationary_distribution(en.markov_chain(B, eta))
        lp = -eta * np.log(pi)
        err = np.max(np.abs((lp - lp.min()) - (E - E.min())))
        assert err <= eta * (p - 1) * math.log(p) + 1e-9
        errors.append(err)
    assert errors[-1] < errors[0] or errors[0] < 1e-9


def test_stationary_distribution_is_invariant():
    rng = np.random.default_rng(3)
    P = rng.uniform(size=(5, 5))
    P /= P.sum(axis=1, keepdims=True)
    pi = en.stationary_distribution(P)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_energies_unchanged_by_shortest_path_closure(seed):
    rng = np.random.default_rng(200 + seed)
    B = _random_costs(rng, 5, p_missing=0.5)
    np.testing.assert_allclose(en.energies(en.path_costs(B)), en.energies(B), atol=1e-10)


def test_relative_and_convergence_energy_by_hand():
    """0: global min (f=0), 1: bad min (f=1), 2: saddle (f=3), Gaussian sigma^2 = 2."""
    B = en.transition_costs([0.0, 1.0, 3.0], [(2, 0), (2, 1)], sigma=math.sqrt(2.0))
    np.testing.assert_allclose(B, [[np.inf, np.inf, 3.0], [np.inf, np.inf, 2.0], [0.0, 0.0, np.inf]])
    assert en.forest_weight(B, 0) == pytest.approx(2.0)
    assert en.relative_energy(B, 0, 1) == pytest.approx(2.0)
    assert en.relative_energy(B, 0, 2) == pytest.approx(0.0)
    assert en.relative_energy(B, 0, 0) == 0.0
    assert en.convergence_energy(B, 0, 1) == pytest.approx(2.0)
    assert en.convergence_energy(B, 0, 2) == pytest.approx(2.0)
    assert en.convergence_energy(B, 0, 0) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(8))
def test_relative_energy_brute_force(seed):
    """J(i) = E_0 - W({0, i}); W({0, i}) = energy of the merged node in the graph where i's edges out are cut."""
    rng = np.random.default_rng(300 + seed)
    p = int(rng.integers(3, 6))
    B = _random_costs(rng, p)
    for i in range(1, p):
        C = B.copy()
        C[i, :] = np.inf
        C[i, 0] = 0.0  # i -> 0 for free: trees to 0 in C = forests to {0, i} in B
        W = en.energies_brute_force(C)[0]
        J = en.relative_energy(B, 0, i)
        assert J == pytest.approx(en.energies(B)[0] - W, abs=1e-10)
        assert J >= -1e-12
    for s in range(p):
        Js = en.convergence_energy(B, 0, s)
        D = en.path_costs(B)
        assert Js == pytest.approx(max([0.0] + [en.relative_energy(B, 0, i) - D[s, i] for i in range(1, p)]))


def test_convergence_energy_zero_iff_no_bad_minimum():
    # one minimum (index 0) and a saddle: nothing traps SGD
    B = en.transition_costs([0.0, 2.0], [(1, 0)], sigma=1.0)
    assert en.convergence_energy(B, 0, 1) == 0.0
    # two minima, the target is the deeper one: positive
    B = en.transition_costs([0.0, 0.5, 2.0], [(2, 0), (2, 1)], sigma=1.0)
    assert en.convergence_energy(B, 0, 1) == pytest.approx(3.0)


def test_bad_inputs_raise_readable_errors():
    with pytest.raises(ValueError, match="B must be a square"):
        en.energies(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        en.energies([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="NaN"):
        en.energies([[0.0, np.nan], [1.0, 0.0]])
    with pytest.raises(ValueError, match="target"):
        en.relative_energy(np.ones((3, 3)), 5, 1)
    with pytest.raises(ValueError, match="step"):
        en.markov_chain(np.ones((3, 3)), 0.0)
    with pytest.raises(ValueError, match="noise"):
        en.transition_costs([0.0, 1.0], [(1, 0)], 1.0, noise="cauchy")
    with pytest.raises(ValueError, match="values must be > 0"):
        en.transition_costs([0.0, 1.0], [(1, 0)], 1.0, noise="power_law")


def test_himmelblau_critical_points_and_energies():
    cp = en.critical_points(HIMMELBLAU_SYM, X, Y)
    assert cp.kinds == ("minimum",) * 4 + ("saddle",) * 4 + ("maximum",)
    d = np.linalg.norm(cp.points[:4, None] - L.HIMMELBLAU_MINIMA[None], axis=-1).min(axis=1)
    assert d.max() < 1e-10
    assert cp.exact[:4].count(True) == 1  # (3, 2) is rational, the others are not
    g = jax.vmap(jax.grad(L.himmelblau))(jnp.asarray(cp.points, jnp.float32))
    assert float(jnp.max(jnp.abs(g))) < 1e-2
    con = en.flow_connections(L.himmelblau, cp.points, cp.hessians)
    saddles = {s: sorted(k for j, k in con if j == s) for s in range(4, 8)}
    assert all(len(v) == 2 and all(k < 4 for k in v) for v in saddles.values()), saddles
    assert {k for j, k in con if j == 8} == set(range(8))  # the maximum flows down to everything
    sigma = 7.0
    E = en.energies(en.transition_costs(cp.values, con, sigma))
    np.testing.assert_allclose(E - E.min(), 2 * (cp.values - cp.values.min()) / sigma**2, atol=1e-9)
    Ep = en.energies(en.transition_costs(cp.values + 1.0, con, sigma, noise="power_law"))
    np.testing.assert_allclose(Ep - Ep.min(), 2 * np.log1p(cp.values) / sigma**2, atol=1e-9)


def test_three_humps_critical_points():
    th = (sp.Rational(2, 13) * X**6 + X**5 / 8 - sp.Rational(91, 64) * X**4 - X**3 / 2
          + sp.Rational(21, 8) * X**2 + sp.Rational(5, 4) * Y**2 + X * Y)
    cp = en.critical_points(th, X, Y)
    mins = cp.points[[k == "minimum" for k in cp.kinds]]
    sads = cp.points[[k == "saddle" for k in cp.kinds]]
    assert len(mins) == 3 and len(sads) == 2
    np.testing.assert_allclose(mins[np.argsort(mins[:, 0])], L.THREE_HUMPS_MINIMA, atol=1e-10)
    np.testing.assert_allclose(sads[np.argsort(sads[:, 0])], L.THREE_HUMPS_SADDLES, atol=1e-10)


def test_gradient_flow_costs_zero_and_reversed_flow_attains_the_bound():
    f = L.himmelblau
    cp = en.critical_points(HIMMELBLAU_SYM, X, Y)
    s, m = cp.points[4], cp.points[2]  # saddle (3.39, 0.07) and minimum (3, 2)
    ev, V = np.linalg.eigh(cp.hessians[4])
    x0 = s + 1e-4 * V[:, 0] * np.sign(V[:, 0] @ (m - s))
    n, dt = 4000, 2.5e-4
    path = [x0]
    for _ in range(n):
        path.append(path[-1] - dt * np.asarray(jax.grad(f)(jnp.asarray(path[-1]))))
    path = np.array(path)
    assert np.linalg.norm(path[-1] - m) < 1e-2
    sigma = 2.0
    assert en.gaussian_action(f, path, n * dt, sigma) < 1e-3
    up = en.gaussian_action(f, path[::-1], n * dt, sigma)
    bound = 2 * (float(f(jnp.asarray(path[0]))) - float(f(jnp.asarray(path[-1])))) / sigma**2
    assert up == pytest.approx(bound, rel=2e-2)
    line = np.linspace(path[-1], path[0], n + 1)
    assert en.gaussian_action(f, line, n * dt, sigma) > bound


def test_predictions_are_normalised_and_laplace_matches_quadrature():
    np.testing.assert_allclose(gibbs.gibbs_weights([0.0, 1.0], 0.5), [1 / (1 + math.exp(-2)), math.exp(-2) / (1 + math.exp(-2))])
    cp = en.critical_points(HIMMELBLAU_SYM, X, Y)
    w = gibbs.laplace_weights(cp.values[:4], cp.hessians[:4], sigma=1.0, step=0.1)
    assert w.sum() == pytest.approx(1.0)
    edges = (np.linspace(-6, 6, 601), np.linspace(-6, 6, 601))
    p = gibbs.gibbs_density(L.himmelblau, edges, sigma=1.0, step=0.1)
    m = gibbs.grid_mass_near(p, edges, cp.points[:4], 0.8)
    np.testing.assert_allclose(m / m.sum(), w, rtol=2e-2)
    pp = gibbs.gibbs_density(L.himmelblau, edges, sigma=1.0, step=0.5, noise="power_law", shift=1.0)
    assert pp.sum() == pytest.approx(1.0)


def test_two_well_energy_minimiser_is_not_the_global_minimum():
    """sigma1 = 6 (left, global well), sigma2 = 3 (right): the right well has the lower energy and wins."""
    pred = lr.two_well_stationary(sigma1=6.0, sigma2=3.0, step=0.04)
    assert pred["E_right"] < pred["E_left"] and pred["right_mass"] > 0.9
    xl, y, xr = lr.two_well_critical()
    assert float(lr.two_well(xl)) < float(lr.two_well(xr))  # left is the global minimum
    frac = lr.two_well_occupation(jax.random.PRNGKey(0), 6.0, 3.0, 0.04, n_chains=512, n_steps=6000)
    assert frac > 0.9
    assert frac == pytest.approx(pred["right_mass"], abs=0.02)


@pytest.mark.parametrize("old, new", [("mass_near", "course_lib.gibbs.grid_mass_near"),
                                      ("gibbs_density", "course_lib.gibbs.gibbs_density"),
                                      ("compare_with_gibbs", "course_lib.gibbs.compare_with_gibbs"),
                                      ("two_well_occupation", "course_lib.chapters.long_run.two_well_occupation"),
                                      ("draw_gibbs_comparison", "course_lib.chapters.long_run.draw_gibbs_comparison")])
def test_moved_names_keep_a_deprecated_alias(old, new):
    import importlib

    module, _, name = new.rpartition(".")
    with pytest.warns(DeprecationWarning, match=f"energy.{old} moved to {new}"):
        assert getattr(en, old) is getattr(importlib.import_module(module), name)


def test_two_well_stationary_takes_the_tilt():
    a = lr.two_well_stationary(6.0, 3.0, 0.04)
    assert a == lr.two_well_stationary(6.0, 3.0, 0.04, tilt=0.25)
    b = lr.two_well_stationary(6.0, 3.0, 0.04, tilt=0.5)  # a deeper left well keeps more mass on the left
    assert b["right_mass"] < a["right_mass"] and b["E_right"] > a["E_right"]
