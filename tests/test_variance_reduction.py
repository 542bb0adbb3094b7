"""SARAH, SPIDER, STORM (course_lib.variance_reduction): exact special cases, evaluation counts, and the
comparison of the SGD chapter at a small size."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import stochastic as st
from course_lib import variance_reduction as vr


@pytest.fixture(scope="module")
def ncv():
    return st.make_problem(jax.random.PRNGKey(4), "least_squares", 200, 5, ncvx=2.0)


def test_full_gradient_restarts_every_step_is_gradient_descent(ncv):
    """period = 1: every estimate is the full gradient, so SARAH and SVRG are GD with the same step."""
    theta0, step = 2.0 * jnp.ones(ncv.dim), 0.5 / ncv.L
    gd = st.gd(ncv, theta0, step=step, n_records=5, record_every=3)
    for fn in (vr.sarah, vr.svrg):
        run = fn(ncv, theta0, jax.random.PRNGKey(0), step=step, period=1, n_records=5, record_every=3)
        np.testing.assert_allclose(run.thetas[0], gd.thetas, rtol=1e-5, atol=1e-6)
        # SARAH: n per step; SVRG also evaluates its (here vanishing) correction: n + 2 per step
        np.testing.assert_array_equal(run.evals, gd.evals + (0 if fn is vr.sarah else 2 * gd.steps))


def test_sarah_step_matches_its_formula(ncv):
    """Two SARAH steps by hand: v1 = v0 + grad_i(theta1) - grad_i(theta0) with the index the loop drew."""
    theta0, step, key = 2.0 * jnp.ones(ncv.dim), 0.3 / ncv.L, jax.random.PRNGKey(1)
    run = vr.sarah(ncv, theta0, key, step=step, n_records=2)
    th1 = theta0 - step * ncv.grad(theta0)
    np.testing.assert_allclose(run.thetas[0, 1], th1, rtol=1e-5)
    kk, _ = jax.random.split(jax.random.split(key, 1)[0])
    i = jax.random.randint(jax.random.fold_in(kk, 1), (1,), 0, ncv.n)
    g = ncv.example_grads
    v1 = ncv.grad(theta0) + (g(th1, i) - g(theta0, i))[0]
    np.testing.assert_allclose(run.thetas[0, 2], th1 - step * v1, rtol=1e-5)
    np.testing.assert_array_equal(run.evals, [0, ncv.n, ncv.n + 2])


def test_storm_with_full_momentum_is_sgd_and_spider_radius_bounds_moves(ncv):
    theta0 = 2.0 * jnp.ones(ncv.dim)
    # a = 1: d_k = grad_{i_k}(theta_k), plain SGD with step alpha (offset huge: constant step)
    key, step = jax.random.PRNGKey(2), 0.1 / ncv.L
    run = vr.storm(ncv, theta0, key, step=step, momentum=1.0, offset=1e9, n_records=6)
    kk, _ = jax.random.split(jax.random.split(key, 1)[0])
    th = theta0 - step * ncv.grad(theta0)               # d_0: the full gradient
    for k in range(1, 6):
        i = jax.random.randint(jax.random.fold_in(kk, k), (1,), 0, ncv.n)
        th = th - step * ncv.example_grads(th, i)[0]
        np.testing.assert_allclose(run.thetas[0, k + 1], th, rtol=1e-4, atol=1e-6)
    # SPIDER's normalised step: no move longer than the radius
    r = 1e-2
    sp = vr.spider(ncv, theta0, jax.random.PRNGKey(3), step=1.0 / ncv.L, radius=r, batch=4, period=4, n_records=30)
    moves = np.linalg.norm(np.diff(np.asarray(sp.thetas[0]), axis=0), axis=1)
    assert moves.max() <= r * (1 + 1e-4)
    assert sp.evals[-1] == 8 * ncv.n + 22 * 2 * 4    # 8 restarts (steps 0, 4, ..., 28), 22 difference steps


def test_bad_arguments_raise(ncv):
    with pytest.raises(ValueError, match="momentum"):
        vr.storm(ncv, jnp.zeros(ncv.dim), jax.random.PRNGKey(0), step=0.1, momentum=2.0, n_records=2)
    with pytest.raises(ValueError, match="batch"):
        vr.spider(ncv, jnp.zeros(ncv.dim), jax.random.PRNGKey(0), step=0.1, radius=1.0, batch=10**6, period=2,
                  n_records=2)
    with pytest.raises(ValueError, match="method"):
        vr.complexity("adam", 10, 0.1)


def test_recursive_methods_beat_sgd_and_stay_under_their_predicted_growth(ncv):
    """The chapter's comparison at a small size: SARAH and SVRG reach every eps and need fewer component
    gradients than SGD at the smallest (SGD: more than the budget, or more than they need); SPIDER's
    normalised step pays its predicted sqrt(n)/eps^2 (measured/predicted within a factor 4 where it
    reaches eps); every measured count grows from the largest eps on no faster than its prediction."""
    theta0 = 2.0 * jnp.ones(ncv.dim)
    eps = np.geomspace(1.0, 0.04, 4)
    cmp = vr.compare(ncv, theta0, jax.random.PRNGKey(5), eps, budget=20_000, n_runs=4, n_points=100)
    for m in ("sarah", "svrg"):
        assert np.all(np.isfinite(cmp.evals[m])), m
        assert cmp.evals[m][-1] < cmp.evals["sgd"][-1], m
    assert np.all(np.isfinite(cmp.evals["spider"][:3]))
    for m in vr.METHODS:
        ev = cmp.evals[m]
        ok = np.isfinite(ev)
        assert ok[0], m
        ratio = ev[ok] / vr.complexity(m, ncv.n, eps)[ok]
        assert ratio[-1] <= 2.0 * ratio[0], (m, ev)
        if m == "spider":
            assert ratio.max() / ratio.min() < 4.0, ev
