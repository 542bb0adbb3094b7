"""Unit tests of course_lib.stochastic: problems, methods, bounds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import stochastic as st

KEY = jax.random.PRNGKey(0)
SCALES = jnp.geomspace(1.0, 1e-2, 6)


@pytest.fixture(scope="module", params=["least_squares", "logistic"])
def convex(request):
    return st.make_problem(KEY, request.param, 150, 6, scales=SCALES, normalize=True, reg=0.25 / 50)


def test_problem_gradients_match_autodiff(convex):
    th = jax.random.normal(KEY, (6,))
    np.testing.assert_allclose(convex.grad(th), jax.grad(convex.value)(th), rtol=2e-4, atol=1e-6)
    G = convex.example_grads(th)
    assert G.shape == (150, 6)
    np.testing.assert_allclose(G.mean(0), convex.grad(th), rtol=2e-4, atol=1e-6)
    nc = st.make_problem(KEY, "least_squares", 50, 3, ncvx=2.0)
    np.testing.assert_allclose(nc.grad(th[:3]), jax.grad(nc.value)(th[:3]), rtol=2e-4, atol=1e-5)


def test_constants(convex):
    kind = convex.base.kind
    c = 1.0 if kind == "least_squares" else 0.25
    assert convex.L_max == pytest.approx(c + float(convex.base.reg), rel=1e-5)
    assert convex.L <= convex.L_max
    H = np.asarray(jax.hessian(convex.value)(jnp.zeros(6)), dtype=np.float64)
    eig = np.linalg.eigvalsh(H)
    assert eig[-1] <= convex.L * (1 + 1e-4) and eig[0] >= convex.mu * (1 - 1e-3)
    assert convex.kappa == pytest.approx(convex.L_max / convex.mu)
    with pytest.raises(ValueError, match="convex"):
        st.make_problem(KEY, "logistic", 20, 2, ncvx=1.0).mu


def test_reference_solution_is_stationary(convex):
    ts = st.reference_solution(convex)
    A = np.asarray(convex.base.features, np.float64)
    b = np.asarray(convex.base.targets, np.float64)
    lam = float(convex.base.reg)
    if convex.base.kind == "least_squares":
        g = A.T @ (A @ ts - b) / len(b) + lam * ts
    else:
        g = -A.T @ (b / (1 + np.exp(b * (A @ ts)))) / len(b) + lam * ts
    assert np.linalg.norm(g) < 1e-10


@pytest.mark.parametrize("method", ["sag", "saga", "svrg", "gd"])
def test_linear_methods_reach_the_float64_optimum(convex, method):
    ts = st.reference_solution(convex)
    pred = st.complexity("gd" if method == "gd" else "vr", 150, convex.L / convex.mu if method == "gd" else convex.kappa, 1e-10)
    run = st.run_method(method, convex, KEY, budget=6 * pred)
    err = st.relative_errors(run, ts)
    assert err[-1] < 1e-9, (method, err[-1])


def test_sgd_does_not_reach_the_optimum_but_decays(convex):
    ts = st.reference_solution(convex)
    run = st.run_method("sgd", convex, KEY, budget=2e5)
    err = st.relative_errors(run, ts)
    assert 1e-7 < err[-1] < 0.2


def test_evaluation_counts(convex):
    r = st.gd(convex, jnp.zeros(6), step=0.1, n_records=3, record_every=2)
    assert list(r.evals) == [0, 300, 600, 900]
    r = st.saga(convex, jnp.zeros(6), KEY, step=0.1, n_records=2, record_every=5)
    assert list(r.evals) == [150, 155, 160]
    r = st.svrg(convex, jnp.zeros(6), KEY, step=0.1, n_epochs=2, inner=10)
    assert list(r.evals) == [0, 170, 340]
    r = st.sgd(convex, jnp.zeros(6), KEY, step=0.1, n_records=2, record_every=3, batch=4)
    assert list(r.evals) == [0, 12, 24]


def test_sgd_batch_is_traced_and_without_replacement_covers_each_epoch():
    p = st.make_problem(KEY, "least_squares", 12, 2)
    # step tiny: theta moves by step * gradient; with batch = n without replacement, one step = one GD step
    th0 = jnp.ones(2)
    r = st.sgd(p, th0, KEY, step=0.01, n_records=1, batch=12, replacement=False)
    np.testing.assert_allclose(r.thetas[1], th0 - 0.01 * p.grad(th0), rtol=1e-5)
    r4 = st.sgd(p, th0, KEY, step=0.01, n_records=1, batch=4, batch_max=12, replacement=False, record_every=3)
    assert r4.thetas.shape == (2, 2)


def test_minibatch_variance_with_and_without_replacement():
    p = st.make_problem(KEY, "least_squares", 40, 3)
    th = jnp.zeros(3)
    s2 = float(p.variance(th))
    for b in (1, 10, 30, 40):
        for repl in (True, False):
            G = st.minibatch_gradients(p, th, jax.random.fold_in(KEY, b), batch=b, n_draws=20000, replacement=repl)
            msq = float(jnp.mean(jnp.sum((G - p.grad(th)) ** 2, axis=1)))
            pred = float(st.minibatch_variance(s2, 40, b, repl))
            assert msq == pytest.approx(pred, rel=0.06, abs=1e-5), (b, repl)


def test_bounds_and_optimal_step():
    assert st.descent_bound(1.0, 2.0, 1.0, 0.5, 4.0) == pytest.approx(1.0 - 0.5 + 0.5)
    k, gap, L, s2 = 99, 3.0, 2.0, 5.0
    a = st.optimal_constant_step(k, gap, L, s2)
    grid = np.geomspace(a / 10, min(a * 10, 1 / L), 2001)
    assert st.nonconvex_bound(k, gap, L, a, s2) <= st.nonconvex_bound(k, gap, L, grid, s2).min() + 1e-12
    assert st.nonconvex_bound(k, gap, L, a, s2) == pytest.approx(2 * np.sqrt(2 * gap * L * s2 / (k + 1)))
    assert st.optimal_constant_step(0, 1e6, 2.0, 1e-3) == 0.5
    assert st.complexity("vr", 100, 10, np.exp(-1)) == pytest.approx(110)
    assert st.complexity("accelerated", 100, 100, np.exp(-1)) == pytest.approx(200)
    assert st.evals_to_reach([1, 0.5, 0.1], [0, 5, 9], 0.2) == 9
    assert st.evals_to_reach([1, 0.5], [0, 5], 0.2) == np.inf


def test_bad_input_and_divergence_are_reported():
    p = st.make_problem(KEY, "least_squares", 30, 2)
    with pytest.raises(ValueError, match="theta0"):
        st.gd(p, jnp.zeros(3), step=0.1, n_records=2)
    with pytest.raises(ValueError, match="step"):
        st.gd(p, jnp.zeros(2), step=-1.0, n_records=2)
    with pytest.raises(ValueError, match="diverged"):
        st.gd(p, jnp.zeros(2), step=50.0, n_records=20, record_every=20)
    with pytest.raises(ValueError, match="batch"):
        st.sgd(p, jnp.zeros(2), KEY, step=0.1, n_records=2, batch=40)
    with pytest.raises(ValueError, match="method"):
        st.complexity("adam", 1, 1, 0.1)
    with pytest.raises(ValueError, match="eps"):
        st.complexity("gd", 1, 1, 2.0)
    with pytest.raises(ValueError, match="kind"):
        st.make_problem(KEY, "hinge", 3, 2)
