"""Tests of course_lib.noise: zero mean, stated covariance, tails, validation, tracing.

Statistical checks use fixed keys and tolerances of several standard errors,
the standard errors being estimated from the samples themselves.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import landscapes as L
from course_lib import noise as N

N_SAMPLES = 100_000
NSE = 5.0  # tolerance in standard errors


def _check_mean_cov(Z, cov, nse=NSE):
    """Mean 0 and covariance ``cov`` within ``nse`` standard errors (entrywise)."""
    Z = np.asarray(Z, np.float64)
    n, d = Z.shape
    mean = Z.mean(0)
    se_mean = Z.std(0) / math.sqrt(n)
    assert np.all(np.abs(mean) <= nse * se_mean + 1e-12), (mean, se_mean)
    prods = Z[:, :, None] * Z[:, None, :]  # E[Z Z^T] = cov since the mean is 0
    emp = prods.mean(0)
    se = prods.std(0) / math.sqrt(n)
    assert np.all(np.abs(emp - cov) <= nse * se + 1e-12), (emp, cov, se)


def _draw(model, x, objective=L.himmelblau, n=N_SAMPLES, seed=0):
    """n independent draws of Z(x) at the single point x (one row per draw)."""
    X = jnp.tile(jnp.asarray(x, jnp.float32), (n, 1))
    return np.asarray(N.sample(model, jax.random.PRNGKey(seed), X, objective))


@pytest.mark.parametrize("sigma", [0.3, 2.0])
def test_gaussian_mean_and_covariance(sigma):
    Z = _draw(N.gaussian(sigma), np.zeros(3), objective=lambda X: jnp.sum(X**2, -1))
    assert Z.shape == (N_SAMPLES, 3)
    _check_mean_cov(Z, sigma**2 * np.eye(3))


def test_gaussian_sigma_zero_is_exactly_zero():
    Z = _draw(N.gaussian(0.0), np.ones(2), n=100)
    assert np.all(Z == 0)


@pytest.mark.parametrize("x", [[0.0, 0.0], [1.0, 1.0], [2.5, -1.0]])
def test_power_law_covariance_scales_with_f(x):
    sigma = 0.4
    fx = float(L.himmelblau(jnp.asarray(x)))
    Z = _draw(N.power_law(sigma), x)
    _check_mean_cov(Z, sigma**2 * fx * np.eye(2))


def test_power_law_vanishes_at_minimum_and_is_state_dependent():
    X = jnp.concatenate([L.HIMMELBLAU_MINIMA[:1], jnp.array([[0.0, 0.0]])])
    Z = np.asarray(N.sample(N.power_law(1.0), jax.random.PRNGKey(0), jnp.repeat(X, 2000, 0), L.himmelblau))
    assert np.all(Z[:2000] == 0)  # f(3, 2) = 0 exactly
    assert Z[2000:].std() == pytest.approx(math.sqrt(170.0), rel=0.05)


@pytest.mark.parametrize("df", [4.5, 10.0])
def test_heavy_tailed_covariance(df):
    # df > 4 so that the sample covariance has a finite variance (a valid standard error)
    sigma = 0.7
    Z = _draw(N.heavy_tailed(sigma, df), np.zeros(2), n=200_000)
    _check_mean_cov(Z, sigma**2 * np.eye(2), nse=6.0)


def test_heavy_tailed_df3_has_student_t_tails():
    """df = 3: covariance sigma^2 I is only just finite; check the law itself through
    P(|T| > 3), T = Z / (sigma sqrt((df-2)/df)), against the closed-form t_3 CDF."""
    sigma, df = 1.5, 3.0
    Z = _draw(N.heavy_tailed(sigma, df), np.zeros(2), n=200_000)
    T = Z / (sigma * math.sqrt((df - 2) / df))
    t = 3.0
    cdf = 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi
    p = 2 * (1 - cdf)  # ~0.0577; a Gaussian of the same variance gives ~0.0036
    emp = float(np.mean(np.abs(T) > t))
    assert abs(emp - p) < NSE * math.sqrt(p * (1 - p) / T.size)
    assert abs(np.mean(Z)) < 0.05
    # far heavier tails than a Gaussian of the same variance
    gauss_tail = float(np.mean(np.abs(_draw(N.gaussian(sigma), np.zeros(2), n=200_000)) > 4 * sigma))
    assert float(np.mean(np.abs(Z) > 4 * sigma)) > 5 * gauss_tail


def _per_sample_grads(prob, x):
    A, b = np.asarray(prob.features, np.float64), np.asarray(prob.targets, np.float64)
    reg = float(prob.reg)
    if prob.kind == "least_squares":
        return A * (A @ x - b)[:, None] + reg * x
    s = 1.0 / (1.0 + np.exp(b * (A @ x)))
    return -(b * s)[:, None] * A + reg * x


@pytest.mark.parametrize("kind", ["least_squares", "logistic"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_minibatch_mean_and_covariance(kind, batch_size):
    key = jax.random.PRNGKey(11)
    n = 20
    prob = L.least_squares(key, n, 3, noise=0.5, reg=0.1) if kind == "least_squares" else L.logistic_regression(key, n, 3, reg=0.1)
    x = np.array([0.4, -0.8, 1.1])
    Z = _draw(N.minibatch(prob, batch_size), x, objective=prob, n=60_000)
    g = _per_sample_grads(prob, x)
    C = np.cov(g.T, bias=True)  # per-sample gradient covariance (1/n normalisation)
    # with replacement: Cov Z = C / B (without replacement it would be C/B * (n-B)/(n-1))
    _check_mean_cov(Z, C / batch_size)


def test_minibatch_is_the_minibatch_gradient():
    """grad f + Z is exactly the gradient of one of the minibatch losses."""
    prob = L.least_squares(jax.random.PRNGKey(2), 5, 2)
    x = np.array([0.3, -0.2])
    Z = _draw(N.minibatch(prob, 1), x, objective=prob, n=500)
    g_full = np.asarray(jax.grad(prob)(jnp.asarray(x)))
    G = _per_sample_grads(prob, x)
    for z in Z:
        dist = np.abs(G - (g_full + z)).max(1)
        assert dist.min() < 1e-4
    # every one of the 5 terms is drawn (uniform indices)
    which = [int(np.argmin(np.abs(G - (g_full + z)).max(1))) for z in Z]
    counts = np.bincount(which, minlength=5)
    assert counts.min() > 60


def test_shapes_and_dtype():
    X = jnp.zeros((7, 3))
    f = lambda X: jnp.sum(X**2, -1)  # noqa: E731
    prob = L.least_squares(jax.random.PRNGKey(0), 9, 3)
    for model, obj in [(N.gaussian(1.0), f), (N.power_law(1.0), f), (N.heavy_tailed(1.0), f), (N.minibatch(prob, 3), prob)]:
        Z = N.sample(model, jax.random.PRNGKey(1), X, obj)
        assert Z.shape == (7, 3) and Z.dtype == X.dtype
        Z2 = N.sample(model, jax.random.PRNGKey(1), X, obj)
        np.testing.assert_array_equal(np.asarray(Z), np.asarray(Z2))


def test_kinds_constant():
    assert set(N.KINDS) == {"gaussian", "power_law", "minibatch", "heavy_tailed", "state_dependent", "given"}
    prob = L.least_squares(jax.random.PRNGKey(0), 4, 2)
    built = {N.gaussian(1.0).kind, N.power_law(1.0).kind, N.heavy_tailed(1.0).kind, N.minibatch(prob, 1).kind,
             N.given(jnp.zeros((3, 4, 2))).kind, N.state_dependent(_half_norm).kind}
    assert built == set(N.KINDS)


def _half_norm(X, params=None):
    return 0.5 * jnp.sqrt(jnp.sum(X**2, -1))


def _scaled(X, params):
    return params[0] + params[1] * X[:, 0]


def test_state_dependent_noise_has_the_given_level():
    x = np.array([3.0, 4.0])  # s(x) = 1 + 0.5 * 3 = 2.5
    Z = _draw(N.state_dependent(_scaled, jnp.array([1.0, 0.5])), x)
    _check_mean_cov(Z, 2.5**2 * np.eye(2))
    assert N.state_dependent(_half_norm).scale is _half_norm
    with pytest.raises(ValueError, match="scale"):
        N.state_dependent(3.0)


def test_sample_is_draw_then_apply():
    X = jnp.ones((5, 2), jnp.float32)
    f = lambda X: jnp.sum(X**2, -1)  # noqa: E731
    for model in (N.gaussian(2.0), N.power_law(1.0), N.heavy_tailed(1.0)):
        key = jax.random.PRNGKey(4)
        D = N.draw(model, key, 0, X.shape, X.dtype)
        np.testing.assert_array_equal(np.asarray(N.apply(model, D, X, f)), np.asarray(N.sample(model, key, X, f)))
        DT = N.draw(model, key, 0, X.shape, X.dtype, transposed=True)
        np.testing.assert_array_equal(np.asarray(DT), np.asarray(D).T)


def test_given_increments_are_read_by_step_scaled_and_clipped():
    G = jnp.arange(3 * 2 * 2, dtype=jnp.float32).reshape(3, 2, 2)
    model = N.given(G, 0.5, clip=2.0)
    X = jnp.zeros((2, 2))
    for t in range(3):
        D = N.draw(model, jax.random.PRNGKey(0), t, X.shape, X.dtype)
        np.testing.assert_array_equal(np.asarray(D), np.asarray(G[t]))
        Z = np.asarray(N.apply(model, D, X, None))
        raw = 0.5 * np.asarray(G[t])
        nrm = np.linalg.norm(raw, axis=-1, keepdims=True)
        np.testing.assert_allclose(Z, raw * np.minimum(1.0, 2.0 / np.maximum(nrm, 1e-30)), rtol=1e-6)
    assert np.all(np.linalg.norm(np.asarray(N.apply(model, G[2], X, None)), axis=-1) <= 2.0 + 1e-5)
    with pytest.raises(ValueError, match="increments"):
        N.given(jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="clip"):
        N.given(G, clip=0.0)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [N.gaussian, N.power_law, N.heavy_tailed])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "one", None])
def test_bad_sigma(make, bad):
    with pytest.raises(ValueError, match="sigma"):
        make(bad)


@pytest.mark.parametrize("df", [2.0, 1.0, 0.0, -3.0, float("nan")])
def test_bad_df(df):
    with pytest.raises(ValueError, match="df"):
        N.heavy_tailed(1.0, df)


def test_bad_minibatch_arguments():
    prob = L.least_squares(jax.random.PRNGKey(0), 4, 2)
    with pytest.raises(ValueError, match="problem"):
        N.minibatch(L.himmelblau, 2)
    with pytest.raises(ValueError, match="problem"):
        N.minibatch(None, 2)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size"):
            N.minibatch(prob, bad)


def test_unknown_kind_raises():
    model = N.NoiseModel(jnp.asarray(1.0), jnp.asarray(jnp.inf), None, "laplace")
    with pytest.raises(ValueError, match="kind"):
        N.sample(model, jax.random.PRNGKey(0), jnp.zeros((2, 2)), L.himmelblau)


# ---------------------------------------------------------------------------
# parameters are traced
# ---------------------------------------------------------------------------


def test_parameters_are_traced_no_recompile():
    @jax.jit
    def draw(model, key, X):
        return N.sample(model, key, X, L.himmelblau)

    key, X = jax.random.PRNGKey(0), jnp.ones((4, 2))
    z1 = draw(N.gaussian(0.5), key, X)
    assert draw._cache_size() == 1
    z2 = draw(N.gaussian(1.5), key, X)
    z3 = draw(N.gaussian(0), key, X)
    assert draw._cache_size() == 1
    np.testing.assert_allclose(np.asarray(z2), 3 * np.asarray(z1), rtol=1e-6)
    assert np.all(np.asarray(z3) == 0)
    # the parameters are leaves of the pytree, kind is static
    assert len(jax.tree_util.tree_leaves(N.gaussian(1.0))) == 2
    draw(N.heavy_tailed(1.0, 3.0), key, X)
    n = draw._cache_size()
    draw(N.heavy_tailed(2.0, 7.0), key, X)
    draw(N.power_law(1.0), key, X)
    m = draw._cache_size()
    draw(N.power_law(3.0), key, X)
    assert draw._cache_size() == m == n + 1


def test_minibatch_problem_is_traced():
    @jax.jit
    def draw(model, key, X):
        return N.sample(model, key, X, model.problem)

    key, X = jax.random.PRNGKey(0), jnp.ones((4, 3))
    p1 = L.least_squares(jax.random.PRNGKey(1), 10, 3)
    p2 = L.least_squares(jax.random.PRNGKey(2), 10, 3, noise=1.0, reg=0.5)
    z1 = draw(N.minibatch(p1, 2), key, X)
    z2 = draw(N.minibatch(p2, 2), key, X)
    assert draw._cache_size() == 1
    assert not np.allclose(np.asarray(z1), np.asarray(z2))
    draw(N.minibatch(p1, 3), key, X)  # batch_size is static: one more compilation
    assert draw._cache_size() == 2


@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (1000, 2), (4, 5, 2)])
def test_fast_normal_sampler_is_bitwise_jax_random_normal(shape):
    """The unrolled Threefry sampler the simulators use draws exactly jax.random.normal's numbers."""
    from course_lib.noise import _normal

    for seed in (0, 1, 12345):
        key = jax.random.key(seed)
        for k in (key, jax.random.fold_in(key, 17)):
            np.testing.assert_array_equal(
                np.asarray(jax.jit(lambda kk: _normal(kk, shape, jnp.float32))(k)),
                np.asarray(jax.random.normal(k, shape, jnp.float32)),
            )
