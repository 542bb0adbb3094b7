"""Tests of course_lib.landscapes: values, gradients, shapes, critical points, finite sums."""

from __future__ import annotations

import ast
import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from course_lib import landscapes as L

# ---------------------------------------------------------------------------
# reference formulas (sympy, float64)
# ---------------------------------------------------------------------------

X1, X2 = sp.symbols("x1 x2", real=True)
SYMBOLIC = {
    "himmelblau": (X1**2 + X2 - 11) ** 2 + (X1 + X2**2 - 7) ** 2,
    "three_humps": (
        sp.Rational(2, 13) * X1**6
        + X1**5 / 8
        - sp.Rational(91, 64) * X1**4
        - X1**3 / 2
        + sp.Rational(21, 8) * X1**2
        + sp.Rational(5, 4) * X2**2
        + X1 * X2
    ),
    "rosenbrock": (1 - X1) ** 2 + 100 * (X2 - X1**2) ** 2,
}
FUNCS = {"himmelblau": L.himmelblau, "three_humps": L.three_humps, "rosenbrock": L.rosenbrock}
POINTS = np.array([[0.0, 0.0], [1.5, -0.7], [-2.2, 3.1], [3.0, 2.0], [-0.3, -1.9], [2.5, 0.25]])


def _lambdas(expr):
    f = sp.lambdify((X1, X2), expr, "numpy")
    g = sp.lambdify((X1, X2), [sp.diff(expr, X1), sp.diff(expr, X2)], "numpy")
    H = sp.lambdify((X1, X2), sp.hessian(expr, (X1, X2)).tolist(), "numpy")
    return f, g, H


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_values_and_gradients_match_sympy(name):
    f_ref, g_ref, _ = _lambdas(SYMBOLIC[name])
    f = FUNCS[name]
    for p in POINTS:
        val = float(f(jnp.asarray(p)))
        grad = np.asarray(jax.grad(f)(jnp.asarray(p)))
        want = f_ref(*p)
        want_g = np.array(g_ref(*p), float)
        assert val == pytest.approx(want, rel=1e-5, abs=1e-4)
        np.testing.assert_allclose(grad, want_g, rtol=1e-4, atol=1e-3)


def test_hand_values():
    # f(x) written out by hand at a few points
    assert float(L.himmelblau(jnp.array([0.0, 0.0]))) == pytest.approx(170.0)
    assert float(L.himmelblau(jnp.array([1.0, 1.0]))) == pytest.approx(106.0)
    assert float(L.rosenbrock(jnp.array([1.0, 1.0]))) == 0.0
    assert float(L.rosenbrock(jnp.array([0.0, 1.0]))) == pytest.approx(101.0)
    assert float(L.rosenbrock(jnp.array([2.0, 1.0]), a=2.0, b=3.0)) == pytest.approx(27.0)
    # three humps at (1, 1): 2/13 + 1/8 - 91/64 - 1/2 + 21/8 + 5/4 + 1
    assert float(L.three_humps(jnp.array([1.0, 1.0]))) == pytest.approx(
        2 / 13 + 1 / 8 - 91 / 64 - 1 / 2 + 21 / 8 + 5 / 4 + 1, rel=1e-6
    )


def test_rosenbrock_parameters_gradient():
    a, b = 0.5, 7.0
    p = np.array([-0.4, 1.3])
    g = np.asarray(jax.grad(L.rosenbrock)(jnp.asarray(p), a, b))
    want = [-2 * (a - p[0]) - 4 * b * p[0] * (p[1] - p[0] ** 2), 2 * b * (p[1] - p[0] ** 2)]
    np.testing.assert_allclose(g, want, rtol=1e-5)
    g_min = np.asarray(jax.grad(L.rosenbrock)(jnp.array([a, a * a]), a, b))
    np.testing.assert_allclose(g_min, 0.0, atol=1e-6)


def test_quadratic_value_and_gradient():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + np.eye(4)
    c = rng.normal(size=4)
    x = rng.normal(size=4)
    f = functools.partial(L.quadratic, A=jnp.asarray(A), center=jnp.asarray(c))
    assert float(f(jnp.asarray(x))) == pytest.approx(0.5 * (x - c) @ A @ (x - c), rel=1e-5)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(jnp.asarray(x))), A @ (x - c), rtol=1e-4, atol=1e-5)
    # default center is 0
    f0 = functools.partial(L.quadratic, A=jnp.asarray(A))
    assert float(f0(jnp.asarray(x))) == pytest.approx(0.5 * x @ A @ x, rel=1e-5)


# ---------------------------------------------------------------------------
# shapes and traceability
# ---------------------------------------------------------------------------

ALL = [
    L.himmelblau,
    L.three_humps,
    L.rosenbrock,
    functools.partial(L.quadratic, A=jnp.array([[2.0, 0.5], [0.5, 1.0]]), center=jnp.array([1.0, -1.0])),
]


_JIT = {}


def _jitted(f):
    """Single-point value and gradient, compiled once per landscape."""
    if id(f) not in _JIT:
        _JIT[id(f)] = (jax.jit(f), jax.jit(jax.grad(f)))
    return _JIT[id(f)]


@pytest.mark.parametrize("f", ALL, ids=["himmelblau", "three_humps", "rosenbrock", "quadratic"])
@pytest.mark.parametrize("batch", [(), (5,), (2, 1, 3)])
def test_shapes_and_transforms(f, batch):
    f1, g1 = _jitted(f)
    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.uniform(-3, 3, size=batch + (2,)))
    out = f(X)
    assert out.shape == batch
    flat = X.reshape(-1, 2)
    rowwise = np.array([float(f1(r)) for r in flat]).reshape(batch)
    np.testing.assert_allclose(np.asarray(out), rowwise, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(f)(X)), np.asarray(out), rtol=1e-6, atol=1e-5)
    if batch:
        np.testing.assert_allclose(np.asarray(jax.vmap(f)(X)), np.asarray(out), rtol=1e-6, atol=1e-5)
    # batch_grad stacks per-row gradients
    G = L.batch_grad(f)(X)
    assert G.shape == X.shape
    per_row = np.stack([np.asarray(g1(r)) for r in flat]).reshape(X.shape)
    np.testing.assert_allclose(np.asarray(G), per_row, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(L.batch_grad(f))(X)), per_row, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("f", ALL, ids=["himmelblau", "three_humps", "rosenbrock", "quadratic"])
@pytest.mark.parametrize("shape", [(3,), (4, 1), (2, 3), ()])
def test_wrong_last_axis_raises(f, shape):
    with pytest.raises(ValueError, match=r"\bx\b"):
        f(jnp.ones(shape))


def test_quadratic_non_square_A_raises():
    with pytest.raises(ValueError, match=r"\bA\b"):
        L.quadratic(jnp.ones(2), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\bA\b"):
        L.quadratic(jnp.ones(2), jnp.ones(2))
    with pytest.raises(ValueError, match=r"\bx\b"):
        L.quadratic(jnp.ones(3), jnp.eye(2))


# ---------------------------------------------------------------------------
# critical points (Newton refinement in float64)
# ---------------------------------------------------------------------------


def _newton(expr, x0, iters=50):
    _, g, H = _lambdas(expr)
    x = np.array(x0, float)
    for _ in range(iters):
        step = np.linalg.solve(np.array(H(*x), float), np.array(g(*x), float))
        x = x - step
        if np.max(np.abs(step)) < 1e-15:
            break
    return x


def _himmelblau_literals():
    """The float64 literals of HIMMELBLAU_MINIMA as written in the source."""
    tree = ast.parse(inspect.getsource(L))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "HIMMELBLAU_MINIMA" for t in node.targets):
            return np.array(ast.literal_eval(node.value.args[0]), float)
    raise AssertionError("HIMMELBLAU_MINIMA assignment not found")


def test_himmelblau_minima():
    expr = SYMBOLIC["himmelblau"]
    _, _, H = _lambdas(expr)
    M = np.asarray(L.HIMMELBLAU_MINIMA)
    assert M.shape == (4, 2)
    refined = np.array([_newton(expr, m) for m in M.astype(float)])
    # Newton from each constant converges to a distinct nearby point
    assert np.max(np.abs(refined - M)) < 1e-5
    assert len({tuple(np.round(r, 6)) for r in refined}) == 4
    for r in refined:
        assert abs(float(sp.lambdify((X1, X2), expr)(*r))) < 1e-20
        assert np.all(np.linalg.eigvalsh(np.array(H(*r), float)) > 0)  # minima
    # the stored array holds the true minimisers to float64 precision ...
    assert M.dtype == np.float64
    np.testing.assert_allclose(M, refined, rtol=0, atol=1e-12)
    # ... and the literals in the source are correct to 1e-9
    np.testing.assert_allclose(_himmelblau_literals(), refined, rtol=0, atol=1e-9)
    # value ~0 and gradient ~0 in float32 through the public function
    np.testing.assert_allclose(np.asarray(L.himmelblau(L.HIMMELBLAU_MINIMA)), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(L.batch_grad(L.himmelblau)(L.HIMMELBLAU_MINIMA)), 0.0, atol=2e-3)


# approximate critical points of three_humps (x2 = -0.4 x1), refined below
THREE_HUMPS_MINIMA = [((-2.533, 1.013), -7.2477), ((0.0, 0.0), 0.0), ((2.078, -0.831), -3.297)]
THREE_HUMPS_SADDLES = [(-1.116, 0.4464), (0.894, -0.3576)]


def test_three_humps_critical_points():
    expr = SYMBOLIC["three_humps"]
    f, g, H = _lambdas(expr)
    # all critical points: df/dx2 = 0 gives x2 = -2 x1 / 5; then a quintic in x1
    reduced = sp.Poly(sp.diff(expr.subs(X2, -sp.Rational(2, 5) * X1), X1), X1)
    roots = sorted(float(sp.re(r)) for r in reduced.nroots(n=30) if abs(sp.im(r)) < 1e-20)
    assert len(roots) == 5
    found_min, found_saddle = [], []
    for r in roots:
        x = _newton(expr, (r, -0.4 * r))
        assert np.max(np.abs(np.array(g(*x), float))) < 1e-9
        assert x[1] == pytest.approx(-0.4 * x[0], abs=1e-12)
        eig = np.linalg.eigvalsh(np.array(H(*x), float))
        (found_min if eig.min() > 0 else found_saddle).append(x)
        if eig.min() < 0:
            assert eig.max() > 0  # a saddle, not a maximum
    assert len(found_min) == 3 and len(found_saddle) == 2
    for (approx, value), x in zip(THREE_HUMPS_MINIMA, found_min):
        np.testing.assert_allclose(x, approx, atol=1e-3)
        assert f(*x) == pytest.approx(value, abs=1e-3)
        # the float32 library function agrees, and its gradient vanishes there
        assert float(L.three_humps(jnp.asarray(x))) == pytest.approx(f(*x), abs=1e-4)
        np.testing.assert_allclose(np.asarray(jax.grad(L.three_humps)(jnp.asarray(x))), 0.0, atol=1e-3)
    for approx, x in zip(THREE_HUMPS_SADDLES, found_saddle):
        np.testing.assert_allclose(x, approx, atol=1e-3)
    # depths: global min < right min < middle min
    values = [f(*x) for x in found_min]
    assert values[0] < values[2] < values[1]
    assert values[0] == pytest.approx(-7.24767500515, abs=1e-9)
    assert values[2] == pytest.approx(-3.29712385315, abs=1e-9)


def test_three_humps_exported_constants():
    """The exported three-humps critical points are exact to 1e-9 (float64), minima then saddles."""
    expr = SYMBOLIC["three_humps"]
    _, _, H = _lambdas(expr)
    assert L.THREE_HUMPS_MINIMA.shape == (3, 2) and L.THREE_HUMPS_SADDLES.shape == (2, 2)
    for name, is_min in (("THREE_HUMPS_MINIMA", True), ("THREE_HUMPS_SADDLES", False)):
        stored = np.asarray(getattr(L, name))
        assert stored.dtype == np.float64
        for p in stored:
            np.testing.assert_allclose(p, _newton(expr, p), atol=1e-9)
            assert (np.linalg.eigvalsh(np.array(H(*p), float)).min() > 0) == is_min
    assert np.all(np.diff(L.THREE_HUMPS_MINIMA[:, 0]) > 0)


# ---------------------------------------------------------------------------
# finite sums
# ---------------------------------------------------------------------------


@pytest.fixture(params=["least_squares", "logistic"])
def problem(request):
    key = jax.random.PRNGKey(3)
    if request.param == "least_squares":
        return L.least_squares(key, 12, 3, noise=0.3, reg=0.05)
    return L.logistic_regression(key, 12, 3, reg=0.05)


def _np_terms(prob, x):
    A, b = np.asarray(prob.features, float), np.asarray(prob.targets, float)
    p = A @ x
    if prob.kind == "least_squares":
        return 0.5 * (p - b) ** 2
    return np.log1p(np.exp(-b * p))


def test_finite_sum_basics(problem):
    assert problem.n == 12 and problem.dim == 3
    assert problem.features.shape == (12, 3) and problem.targets.shape == (12,)
    if problem.kind == "logistic":
        assert set(np.unique(np.asarray(problem.targets))) <= {-1.0, 1.0}
    x = np.array([0.3, -1.2, 0.7])
    reg = float(problem.reg)
    want = _np_terms(problem, x).mean() + 0.5 * reg * x @ x
    assert float(problem(jnp.asarray(x))) == pytest.approx(want, rel=1e-5)
    # batch_loss over all indices equals the full loss; over one index its term
    idx_all = jnp.arange(problem.n)
    assert float(problem.batch_loss(jnp.asarray(x), idx_all)) == pytest.approx(float(problem(jnp.asarray(x))), rel=1e-6)
    terms = _np_terms(problem, x)
    for i in (0, 5, 11):
        got = float(problem.batch_loss(jnp.asarray(x), jnp.array([i])))
        assert got == pytest.approx(terms[i] + 0.5 * reg * x @ x, rel=1e-5)
    # repeated indices are counted with multiplicity (sampling with replacement)
    got = float(problem.batch_loss(jnp.asarray(x), jnp.array([2, 2, 7])))
    assert got == pytest.approx((2 * terms[2] + terms[7]) / 3 + 0.5 * reg * x @ x, rel=1e-5)


def test_finite_sum_batched_shapes(problem):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 4, 3))
    out = problem(jnp.asarray(X))
    assert out.shape == (5, 4)
    want = np.array([[_np_terms(problem, x).mean() + 0.5 * float(problem.reg) * x @ x for x in row] for row in X])
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5)
    idx = rng.integers(0, problem.n, size=(5, 4, 6))
    bl = problem.batch_loss(jnp.asarray(X), jnp.asarray(idx))
    assert bl.shape == (5, 4)
    want_b = np.array(
        [[_np_terms(problem, X[i, j])[idx[i, j]].mean() + 0.5 * float(problem.reg) * X[i, j] @ X[i, j]
          for j in range(4)] for i in range(5)]
    )
    np.testing.assert_allclose(np.asarray(bl), want_b, rtol=1e-5)
    # traceable: it is a pytree, usable under jit with a static kind
    np.testing.assert_allclose(np.asarray(jax.jit(lambda p, x: p(x))(problem, jnp.asarray(X))), want, rtol=1e-5)
    leaves, treedef = jax.tree_util.tree_flatten(problem)
    assert len(leaves) == 3
    assert jax.tree_util.tree_unflatten(treedef, leaves).kind == problem.kind


def test_finite_sum_gradient_formulas(problem):
    A, b = np.asarray(problem.features, float), np.asarray(problem.targets, float)
    reg, n = float(problem.reg), problem.n
    for x in (np.zeros(3), np.array([0.5, -0.25, 1.5])):
        g = np.asarray(jax.grad(problem)(jnp.asarray(x)))
        if problem.kind == "least_squares":
            want = A.T @ (A @ x - b) / n + reg * x
        else:
            s = 1.0 / (1.0 + np.exp(b * (A @ x)))  # sigmoid(-b a^T x)
            want = -(A.T @ (b * s)) / n + reg * x
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-6)


def test_generators_validate():
    key = jax.random.PRNGKey(0)
    for bad_n in (0, -3, 2.5):
        with pytest.raises(ValueError, match=r"\bn\b"):
            L.least_squares(key, bad_n, 2)
        with pytest.raises(ValueError, match=r"\bn\b"):
            L.logistic_regression(key, bad_n, 2)
    with pytest.raises(ValueError, match=r"\bd\b"):
        L.least_squares(key, 5, 0)
    with pytest.raises(ValueError, match="noise"):
        L.least_squares(key, 5, 2, noise=-0.1)
    with pytest.raises(ValueError, match="reg"):
        L.least_squares(key, 5, 2, reg=-1.0)
    with pytest.raises(ValueError, match="reg"):
        L.logistic_regression(key, 5, 2, reg=float("nan"))
    prob = L.least_squares(key, 5, 2)
    with pytest.raises(ValueError, match=r"\bx\b"):
        prob(jnp.ones(3))
    with pytest.raises(ValueError, match=r"\bx\b"):
        prob.batch_loss(jnp.ones((4, 3)), jnp.zeros((4, 2), int))


def test_least_squares_generator_is_deterministic_and_consistent():
    p1 = L.least_squares(jax.random.PRNGKey(7), 50, 4, noise=0.0)
    p2 = L.least_squares(jax.random.PRNGKey(7), 50, 4, noise=0.0)
    np.testing.assert_array_equal(np.asarray(p1.features), np.asarray(p2.features))
    # noise=0: b = A x* exactly, so the minimum of f is 0
    A, b = np.asarray(p1.features, float), np.asarray(p1.targets, float)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    assert float(p1(jnp.asarray(x_star))) == pytest.approx(0.0, abs=1e-8)
