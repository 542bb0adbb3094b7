"""Unit tests of course_lib.stochastic: problems, methods, bounds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import stochastic as st
from course_lib.chapters import sgd as sgd_ch

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
            G = st.minibatch_gradients(p, th, jax.random.fold_in(KEY, b), batch=b, batch_max=40, n_draws=20000,
                                       replacement=repl)
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
    with pytest.raises(ValueError, match="batch_max"):
        st.minibatch_gradients(p, jnp.zeros(2), KEY, batch=5, batch_max=4, n_draws=3)
    with pytest.raises(ValueError, match="method"):
        st.complexity("adam", 1, 1, 0.1)
    with pytest.raises(ValueError, match="eps"):
        st.complexity("gd", 1, 1, 2.0)
    with pytest.raises(ValueError, match="kind"):
        st.make_problem(KEY, "hinge", 3, 2)


def _identity_problem(n):
    """J_i(theta) = (theta_i - b_i)^2 / 2: a step of size b on a batch of b indices sets exactly those coordinates."""
    from course_lib.landscapes import FiniteSum

    return st.Problem(FiniteSum(jnp.eye(n), jnp.arange(1.0, n + 1), jnp.asarray(0.0), "least_squares"), jnp.asarray(0.0))


def test_without_replacement_walks_one_permutation_per_epoch():
    n = 12
    p = _identity_problem(n)
    target = np.arange(1.0, n + 1)
    for batch in (1, 3, 4):   # n // batch steps visit every index exactly once: theta = b after each epoch
        r = st.sgd(p, jnp.zeros(n), KEY, step=float(batch), batch=batch, batch_max=5, replacement=False,
                   n_records=2, record_every=n // batch, n_runs=3)
        np.testing.assert_allclose(r.thetas[:, 1:], np.broadcast_to(target, (3, 2, n)), rtol=1e-6)
    # batch 5: 2 steps per epoch, 10 distinct indices, the 2 left over are dropped for that epoch
    r = st.sgd(p, jnp.zeros(n), KEY, step=5.0, batch=5, replacement=False, n_records=1, record_every=2)
    assert int(np.sum(np.isclose(np.asarray(r.thetas[1]), target))) == 10
    # within an epoch no index repeats: after k < n // batch steps, exactly k * batch coordinates are set
    r = st.sgd(p, jnp.zeros(n), KEY, step=1.0, replacement=False, n_records=n, record_every=1)
    set_counts = [int(np.sum(np.isclose(np.asarray(t), target))) for t in r.thetas]
    assert set_counts == list(range(n + 1))
    # with replacement, one epoch of 12 draws almost surely misses an index
    r = st.sgd(p, jnp.zeros(n), KEY, step=1.0, replacement=True, n_records=1, record_every=n)
    assert int(np.sum(np.isclose(np.asarray(r.thetas[1]), target))) < n


def test_nesterov_is_faster_than_gd_and_counts_evaluations(convex):
    ts = st.reference_solution(convex)
    r = st.nesterov(convex, jnp.zeros(6), step=0.1, momentum=0.5, n_records=3, record_every=2)
    assert list(r.evals) == [0, 300, 600, 900]
    budget = 200 * convex.n
    e_agd = st.relative_errors(st.run_method("agd", convex, KEY, budget=budget), ts)[-1]
    e_gd = st.relative_errors(st.run_method("gd", convex, KEY, budget=budget), ts)[-1]
    assert e_agd < e_gd / 100
    assert st.complexity("agd", 100, 16.0, np.exp(-1)) == pytest.approx(400)
    assert st.default_step("agd", convex) == pytest.approx(1 / convex.L)
    with pytest.raises(ValueError, match="momentum"):
        st.nesterov(convex, jnp.zeros(6), step=0.1, momentum=1.0, n_records=2)


@pytest.mark.parametrize("solver", ["lbfgs", "saga"])
def test_sklearn_solution_matches_the_reference(convex, solver):
    ts = st.reference_solution(convex)
    sk = st.sklearn_solution(convex, solver=solver)
    tol = 1e-5 if (solver == "lbfgs" and convex.base.kind == "logistic") else 1e-9
    assert np.linalg.norm(sk - ts) <= tol * np.linalg.norm(ts)


def test_sklearn_solution_bad_input():
    with pytest.raises(ValueError, match="reg"):
        st.sklearn_solution(st.make_problem(KEY, "logistic", 20, 2))
    with pytest.raises(ValueError, match="convex"):
        st.sklearn_solution(st.make_problem(KEY, "logistic", 20, 2, reg=0.1, ncvx=1.0))
    with pytest.raises(ValueError, match="solver"):
        st.sklearn_solution(st.make_problem(KEY, "logistic", 20, 2, reg=0.1), solver="newton")
    with pytest.raises(ValueError, match="problem"):
        st.sklearn_solution("not a problem")


def test_replacement_comparison_and_floor_bounds():
    p = st.make_problem(KEY, "least_squares", 40, 3, normalize=True, reg=0.1)
    ts = st.reference_solution(p)
    r = sgd_ch.replacement_comparison(p, ts, KEY, step=0.05, n_epochs=5, n_runs=4)
    assert r.epochs.tolist() == list(range(6))
    assert r.with_replacement.shape == r.without_replacement.shape == (4, 6)
    np.testing.assert_allclose(r.with_replacement[:, 0], np.sum(ts**2))
    a = np.array([0.01, 0.02])
    np.testing.assert_allclose(st.distance_floor(p, ts, a, True)[1] / st.distance_floor(p, ts, a, True)[0], 2)
    np.testing.assert_allclose(st.distance_floor(p, ts, a, False)[1] / st.distance_floor(p, ts, a, False)[0], 4)
    with pytest.raises(ValueError, match="step"):
        st.distance_floor(p, ts, -1.0)
    with pytest.raises(ValueError, match="reg"):
        q = st.make_problem(KEY, "least_squares", 40, 3)
        st.distance_floor(q, st.reference_solution(q), 0.1, replacement=False)
    with pytest.raises(ValueError, match="batch"):
        sgd_ch.replacement_comparison(p, ts, KEY, step=0.05, n_epochs=2, n_runs=2, batch=50)


def test_katyusha_reaches_the_optimum_and_counts_refreshes(convex):
    ts = st.reference_solution(convex)
    pred = st.complexity("accelerated", convex.n, convex.kappa, 1e-10)
    run = st.run_method("katyusha", convex, KEY, budget=6 * pred)
    assert st.relative_errors(run, ts)[-1] < 1e-9
    ev = np.diff(run.evals)
    steps = np.diff(run.steps)
    # 2 evaluations per step plus n per refresh (probability 1/n): between 2 and about 3 per step
    assert np.all((ev - 2 * steps) % convex.n == 0)
    assert 2.5 < ev.sum() / steps.sum() < 3.5
    with pytest.raises(ValueError, match="theta1"):
        st.katyusha(convex, jnp.zeros(6), KEY, n_records=2, theta1=0.8)
    with pytest.raises(ValueError, match="prob"):
        st.katyusha(convex, jnp.zeros(6), KEY, n_records=2, prob=0.0)
