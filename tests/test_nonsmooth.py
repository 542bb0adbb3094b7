"""Unit tests of course_lib.nonsmooth: relu formulas, Clarke subdifferentials, conservative fields, methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from course_lib import nonsmooth as ns

X = sp.Symbol("x", real=True)
GRID = jnp.linspace(-3.0, 3.0, 601)


# ---------------------------------------------------------------------------
# relu formulas and artifacts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("f", [ns.relu, ns.relu2, ns.relu3, lambda t: ns.relu_mixture(t, -1.7)])
def test_relu_formulas_are_one_function(f):
    np.testing.assert_allclose(f(GRID), np.maximum(np.asarray(GRID), 0.0), atol=1e-6)
    assert f(jnp.zeros((2, 3))).shape == (2, 3)


@pytest.mark.parametrize(
    "f, want",
    [(ns.relu, 0.0), (ns.relu2, 1.0), (ns.relu3, 0.5), (lambda t: ns.relu_mixture(t, 0.25), 0.75),
     (lambda t: ns.relu_mixture(t, 3.0), -2.0), (ns.zero, 1.0), (lambda t: ns.scaled_zero(t, -4.5), -4.5),
     (ns.identity, 0.0)],
)
def test_backprop_at_zero(f, want):
    assert float(jax.grad(f)(0.0)) == pytest.approx(want)


def test_artifact_functions_are_zero_and_identity_and_exact_elsewhere():
    np.testing.assert_allclose(ns.zero(GRID), 0.0, atol=1e-6)
    np.testing.assert_allclose(ns.scaled_zero(GRID, 3.0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ns.identity(GRID), GRID, atol=1e-6)
    away = GRID[jnp.abs(GRID) > 1e-3]
    np.testing.assert_allclose(ns.backprop_derivative(ns.identity, away), 1.0)
    np.testing.assert_allclose(ns.backprop_derivative(ns.zero, away), 0.0)


def test_formula_and_its_validation():
    for i in range(4):
        label, f = ns.formula(i, 0.4)
        assert isinstance(label, str) and label.startswith("$")
        np.testing.assert_allclose(f(GRID), np.maximum(np.asarray(GRID), 0.0), atol=1e-6)
    assert float(jax.grad(ns.formula(3, 0.4)[1])(0.0)) == pytest.approx(0.6)
    assert "- 0.5" in ns.formula(3, 1.5)[0]
    for bad in (4, -1, 1.0, True, "relu"):
        with pytest.raises(ValueError, match="index"):
            ns.formula(bad)
    with pytest.raises(ValueError, match="weight"):
        ns.formula(3, float("nan"))


def test_backprop_derivative_shapes_and_errors():
    assert ns.backprop_derivative(ns.relu, jnp.ones((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match="f must be a callable"):
        ns.backprop_derivative(3.0, 0.0)
    with pytest.raises(ValueError, match="x must contain only finite"):
        ns.backprop_derivative(ns.relu, jnp.array([0.0, jnp.nan]))


# ---------------------------------------------------------------------------
# Clarke subdifferential
# ---------------------------------------------------------------------------

CASES = [
    # (sympy expr, jax function, point, exact interval)
    (sp.Abs(X), jnp.abs, 0.0, (-1, 1)),
    (sp.Abs(X), jnp.abs, 0.7, (1, 1)),
    (sp.Abs(X), jnp.abs, -2.0, (-1, -1)),
    (sp.Max(X, X**2), lambda t: jnp.maximum(t, t**2), 1.0, (1, 2)),
    (sp.Max(X, X**2), lambda t: jnp.maximum(t, t**2), 0.0, (0, 1)),
    (2 * sp.Abs(X) - sp.Max(X, 0), lambda t: 2 * jnp.abs(t) - ns.relu(t), 0.0, (-2, 1)),
    (sp.Abs(X**3 - X), lambda t: jnp.abs(t**3 - t), 1.0, (-2, 2)),
    (sp.Abs(X**3 - X), lambda t: jnp.abs(t**3 - t), -1.0, (-2, 2)),
    (sp.Min(X, 0) + sp.sin(X), lambda t: jnp.minimum(t, 0.0) + jnp.sin(t), 0.0, (1, 2)),
    (sp.Max(X, 0) ** 2, lambda t: ns.relu(t) ** 2, 0.0, (0, 0)),
    (-sp.Abs(X), lambda t: -jnp.abs(t), 0.0, (-1, 1)),
    (sp.Abs(X) - 3 * sp.Max(X - 1, 0), lambda t: jnp.abs(t) - 3 * ns.relu(t - 1), 1.0, (-2, 1)),
]


@pytest.mark.parametrize("expr, f, x0, want", CASES)
def test_clarke_exact_and_numerical(expr, f, x0, want):
    lo, hi = ns.clarke_subdifferential_sympy(expr, X, x0)
    assert (lo, hi) == (sp.Integer(want[0]), sp.Integer(want[1]))
    np.testing.assert_allclose(ns.clarke_interval(f, x0), np.array(want, float), atol=2e-3)


def test_clarke_sympy_is_exact_with_irrational_points():
    lo, hi = ns.clarke_subdifferential_sympy(sp.Max(X**2, 2), X, sp.sqrt(2))
    assert lo == 0 and sp.simplify(hi - 2 * sp.sqrt(2)) == 0


def test_clarke_validation():
    with pytest.raises(ValueError, match="x must be a sympy Symbol"):
        ns.clarke_subdifferential_sympy(sp.Abs(X), "x", 0)
    with pytest.raises(ValueError, match="x0 must be a finite real"):
        ns.clarke_subdifferential_sympy(sp.Abs(X), X, sp.oo)
    y = sp.Symbol("y")
    with pytest.raises(ValueError, match="depend on x only"):
        ns.clarke_subdifferential_sympy(sp.Abs(X) + y, X, 0)
    with pytest.raises(ValueError, match="radius"):
        ns.clarke_interval(jnp.abs, 0.0, radius=0.0)
    with pytest.raises(ValueError, match="num"):
        ns.clarke_interval(jnp.abs, 0.0, num=0)
    with pytest.raises(ValueError, match="x0"):
        ns.clarke_interval(jnp.abs, jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="x0"):
        ns.clarke_interval(jnp.abs, float("nan"))


def test_sum_rule_is_only_an_inclusion():
    lhs = ns.clarke_subdifferential_sympy(sp.Abs(X) - sp.Abs(X), X, 0)
    a = [float(c) for c in ns.clarke_subdifferential_sympy(sp.Abs(X), X, 0)]
    b = [float(c) for c in ns.clarke_subdifferential_sympy(-sp.Abs(X), X, 0)]
    assert lhs == (0, 0)
    np.testing.assert_allclose(ns.interval_add(jnp.array(a), jnp.array(b)), [-2.0, 2.0])
    with pytest.raises(ValueError, match="a must have last axis of size 2"):
        ns.interval_add(jnp.zeros(3), jnp.zeros(2))


def test_contains():
    assert ns.contains(jnp.array([-1.0, 1.0]), 0.0)
    assert not ns.contains(jnp.array([-1.0, -1.0]), 0.0)
    with pytest.raises(ValueError, match="v"):
        ns.contains(jnp.array([-1.0, 1.0]), float("nan"))


def test_sawtooth_is_small_but_has_full_subdifferential():
    for w in (1e-1, 1e-2, 1e-3):
        xs = jnp.linspace(0.0, 1.0, 20_001)
        assert float(jnp.max(ns.sawtooth(xs, w))) == pytest.approx(w / 2, rel=1e-2)
    np.testing.assert_allclose(ns.clarke_interval(lambda t: ns.sawtooth(t, 1e-3), 0.37, radius=1e-2, num=64), [-1.0, 1.0])
    d = ns.backprop_derivative(lambda t: ns.sawtooth(t, 0.1), jnp.linspace(0.013, 0.987, 50))
    np.testing.assert_allclose(jnp.abs(d), 1.0)
    with pytest.raises(ValueError, match="width"):
        ns.sawtooth(0.0, -1.0)


# ---------------------------------------------------------------------------
# conservative fields
# ---------------------------------------------------------------------------


def _J2(p):
    return p[1] + ns.zero(p[0])


def test_chain_rule_residuals_vanish_for_smooth_functions_and_backprop():
    f = lambda p: jnp.sum(jnp.sin(p) * p)  # noqa: E731
    curve = lambda t: jnp.array([t, t**2, jnp.cos(t)])  # noqa: E731
    res = ns.chain_rule_residuals(f, jax.grad(f), curve, jnp.linspace(0.0, 1.0, 21), h=1e-2)
    assert res.shape == (21,) and float(jnp.max(jnp.abs(res))) < 1e-3
    res = ns.chain_rule_residuals(_J2, jax.grad(_J2), lambda t: jnp.array([0.0, t]), jnp.linspace(0, 1, 11))
    assert float(jnp.max(jnp.abs(res))) < 1e-4


def test_path_integral_gap_separates_conservative_fields():
    bad = lambda p: jnp.array([0.0, 1.0 + jnp.where(p[0] == 0.0, 1.0, 0.0)])  # noqa: E731
    on_line = lambda t: jnp.array([0.0, t])  # noqa: E731
    across = lambda t: jnp.array([t - 0.5, 2 * t])  # noqa: E731
    assert abs(float(ns.path_integral_gap(_J2, jax.grad(_J2), on_line))) < 1e-5
    assert abs(float(ns.path_integral_gap(_J2, jax.grad(_J2), across))) < 1e-5
    assert float(ns.path_integral_gap(_J2, bad, on_line)) == pytest.approx(-1.0, abs=1e-5)
    # a rotation field is not a gradient: a non-zero gap around the circle
    rot = lambda p: jnp.array([-p[1], p[0]])  # noqa: E731
    circle = lambda t: jnp.array([jnp.cos(2 * jnp.pi * t), jnp.sin(2 * jnp.pi * t)])  # noqa: E731
    assert float(ns.path_integral_gap(lambda p: 0.0 * p[0], rot, circle)) == pytest.approx(-2 * np.pi, rel=1e-3)


def test_conservative_field_validation():
    with pytest.raises(ValueError, match="field must return a vector"):
        ns.path_integral_gap(_J2, lambda p: jnp.zeros(3), lambda t: jnp.array([0.0, t]), num=10)
    with pytest.raises(ValueError, match="curve must be a callable"):
        ns.chain_rule_residuals(_J2, jax.grad(_J2), None, jnp.zeros(3))
    with pytest.raises(ValueError, match="ts must have 1"):
        ns.chain_rule_residuals(_J2, jax.grad(_J2), lambda t: jnp.array([0.0, t]), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="num"):
        ns.path_integral_gap(_J2, jax.grad(_J2), lambda t: jnp.array([0.0, t]), num=0)


# ---------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------


def test_subgradient_method_shapes_and_validation():
    run = ns.subgradient_method(ns.backprop_oracle(lambda w: jnp.sum(jnp.abs(w))), jnp.ones(3), jnp.full(5, 0.1))
    assert run.iterates.shape == (6, 3) and run.values.shape == (6,) and run.grad_norms.shape == (5,)
    np.testing.assert_allclose(run.iterates[-1], 0.5, atol=1e-6)
    np.testing.assert_allclose(run.values[-1], 1.5, atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        ns.subgradient_method(ns.backprop_oracle(jnp.abs), 0.0, jnp.array([-0.1]))
    with pytest.raises(ValueError, match="steps"):
        ns.subgradient_method(ns.backprop_oracle(jnp.abs), 0.0, jnp.zeros(0))
    with pytest.raises(ValueError, match="oracle"):
        ns.subgradient_method(None, 0.0, jnp.ones(2))
    with pytest.raises(ValueError, match="w0"):
        ns.subgradient_method(ns.backprop_oracle(jnp.abs), float("inf"), jnp.ones(2))


@pytest.fixture(scope="module")
def lasso():
    problem = ns.lasso_problem(n=30, p=10, lam=0.1, seed=1)
    return problem, *ns.lasso_solution(problem, 2000)


def test_lasso_solution_satisfies_fermat(lasso):
    problem, w, F = lasso
    g = problem.X.T @ (problem.X @ w - problem.y) / problem.X.shape[0]
    on = jnp.abs(w) > 1e-6
    # 0 ∈ ∂F(w*): g = -lam sign(w) on the support, |g| <= lam off it
    np.testing.assert_allclose(g[on], -problem.lam * jnp.sign(w[on]), atol=1e-4)
    assert bool(jnp.all(jnp.abs(g[~on]) <= problem.lam + 1e-4))
    assert float(F) == pytest.approx(float(ns.lasso_objective(w, problem)))


def test_subgradient_bound_holds_and_constant_step_plateaus(lasso):
    problem, w_star, F_star = lasso
    oracle = lambda w: (ns.lasso_objective(w, problem), ns.lasso_subgradient(w, problem))  # noqa: E731
    w0 = jnp.zeros(10)
    R = float(jnp.linalg.norm(w0 - w_star))
    K = 1500
    for steps in (0.3 / jnp.sqrt(1.0 + jnp.arange(K)), jnp.full(K, 0.02)):
        run = ns.subgradient_method(oracle, w0, steps)
        best = np.minimum.accumulate(np.asarray(run.values[:-1]) - float(F_star))
        bound = np.asarray(ns.subgradient_bound(R, run.grad_norms, steps))
        assert np.all(best <= bound + 1e-5)
    # constant step: stalls, at a level below alpha * mean |g|^2 / 2
    plateau = 0.02 * float(jnp.mean(run.grad_norms[K // 2:] ** 2)) / 2
    assert best[-1] <= plateau and best[-1] > 1e-6


def test_smoothed_descent_is_within_its_bias(lasso):
    problem, _, F_star = lasso
    mu = 1e-2
    ws, Fs = ns.smoothed_lasso_descent(problem, jnp.zeros(10), mu, 1500)
    assert ws.shape == (1501, 10) and Fs.shape == (1501,)
    assert float(Fs[-1] - F_star) <= problem.lam * 10 * mu / 2 + 1e-4
    with pytest.raises(ValueError, match="mu"):
        ns.smoothed_lasso_descent(problem, jnp.zeros(10), 0.0, 10)
    with pytest.raises(ValueError, match="w0"):
        ns.smoothed_lasso_descent(problem, jnp.zeros(3), 0.1, 10)
    with pytest.raises(ValueError, match="problem"):
        ns.lasso_objective(jnp.zeros(3), (1, 2, 3))


def test_subgradient_bound_validation():
    with pytest.raises(ValueError, match="same shape"):
        ns.subgradient_bound(1.0, jnp.ones(3), jnp.ones(4))
    with pytest.raises(ValueError, match="dist0"):
        ns.subgradient_bound(-1.0, jnp.ones(3), jnp.ones(3))
    np.testing.assert_allclose(ns.subgradient_bound(1.0, jnp.ones(2), jnp.ones(2)), [1.0, 0.75])


def test_lasso_problem_validation():
    with pytest.raises(ValueError, match="sparsity"):
        ns.lasso_problem(p=3, sparsity=4)
    with pytest.raises(ValueError, match="lam"):
        ns.lasso_problem(lam=0.0)


def test_widget_figure():
    import matplotlib.pyplot as plt

    for idx in range(4):
        fig = ns.draw_formula_comparison(idx, 0.0, 1.5)
        assert len(fig.axes) == 2
        legend = " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
        assert "[0, 1]" in legend
        want = {0: "0", 1: "1", 2: "0.5", 3: "-0.5"}[idx]
        assert f"backprop at 0: {want}" in legend
        plt.close(fig)
    fig = ns.draw_formula_comparison(2, 0.4)
    assert "[1, 1]" in " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
    plt.close(fig)
