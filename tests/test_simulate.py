"""Tests of course_lib.simulate: exactness against hand loops, randomness, divergence,
occupation histograms, hitting times, compilation caching, sharding and validation."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import landscapes as L
from course_lib import noise as N
from course_lib import simulate as S

KEY = jax.random.PRNGKey(0)
CHUNK = S.CHUNK

# module-level objectives: the simulators treat a callable objective as a static
# (hashed by identity) argument, so tests reuse the same objects.
A_DIAG = np.array([1.0, 0.5])
QUAD = functools.partial(L.quadratic, A=jnp.diag(jnp.asarray(A_DIAG)))
ISO = functools.partial(L.quadratic, A=2.0 * jnp.eye(2))  # A = a I with a = 2
FLAT = functools.partial(L.quadratic, A=jnp.diag(jnp.array([1.0, 0.0])))  # x2 never moves
UNIT = functools.partial(L.quadratic, A=jnp.eye(2))


def himmelblau_grad(x):
    x1, x2 = x[..., 0], x[..., 1]
    u, v = x1**2 + x2 - 11.0, x1 + x2**2 - 7.0
    return np.stack([4 * x1 * u + 2 * v, 2 * u + 4 * x2 * v], -1)


def hand_gd(grad, x0, step, n_steps, decay=0.0):
    xs = [np.asarray(x0, np.float64)]
    for t in range(n_steps):
        xs.append(xs[-1] - step * (1.0 + t) ** (-decay) * grad(xs[-1]))
    return np.stack(xs)


@contextlib.contextmanager
def no_warnings():
    """Context in which any DivergenceWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", S.DivergenceWarning)
        yield


# ---------------------------------------------------------------------------
# (a)-(c) trajectories
# ---------------------------------------------------------------------------


def test_sigma_zero_is_gradient_descent_himmelblau():
    x0 = np.array([[0.0, 0.0], [-1.0, 1.0], [1.0, -3.0], [4.0, 4.0]])
    n_steps = CHUNK + 44  # crosses a chunk boundary
    res = S.trajectories(KEY, L.himmelblau, N.gaussian(0.0), x0, 0.01, n_steps)
    assert res.xs.shape == (n_steps + 1, 4, 2)
    want = hand_gd(himmelblau_grad, x0, 0.01, n_steps)
    np.testing.assert_allclose(res.xs, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(res.xs[0], x0)
    assert not res.diverged.any() and np.all(res.diverged_at == -1)
    assert res.diverged.shape == (4,) and res.diverged_at.shape == (4,)


def test_sigma_zero_is_gradient_descent_quadratic_closed_form():
    x0 = np.array([[1.0, 2.0], [-3.0, 0.5]])
    step, n_steps = 0.3, 40
    res = S.trajectories(KEY, QUAD, N.gaussian(0.0), x0, step, n_steps)
    t = np.arange(n_steps + 1)[:, None, None]
    want = (1 - step * A_DIAG) ** t * x0[None]
    np.testing.assert_allclose(res.xs, want, rtol=1e-5, atol=1e-6)


def test_same_key_same_result_different_key_different():
    x0 = np.zeros((3, 2))
    args = (L.himmelblau, N.gaussian(1.0), x0, 0.005, 30)
    a = S.trajectories(jax.random.PRNGKey(1), *args)
    b = S.trajectories(jax.random.PRNGKey(1), *args)
    c = S.trajectories(jax.random.PRNGKey(2), *args)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert np.all(a.xs[1:] != c.xs[1:])
    # chains are independent: no two chains share noise
    assert np.all(a.xs[1:, 0] != a.xs[1:, 1])


def test_noise_enters_as_step_times_noise():
    """One step from x0 = 0 of the quadratic: x1 = -eta sigma xi, with xi ~ N(0, I)."""
    n = 4096
    res = S.trajectories(KEY, UNIT, N.gaussian(2.0), np.zeros((n, 2)), 0.1, 1)
    x1 = res.xs[1]
    assert abs(x1.mean()) < 5 * 0.2 / math.sqrt(2 * n)
    assert x1.std() == pytest.approx(0.2, rel=0.05)


@pytest.mark.parametrize("decay", [0.5, 1.0])
def test_decaying_step_matches_hand_loop(decay):
    x0 = np.array([[1.0, -1.0], [-2.0, 3.5]])
    n_steps = CHUNK + 20
    res = S.trajectories(KEY, L.himmelblau, N.gaussian(0.0), x0, 0.01, n_steps, decay=decay)
    want = hand_gd(himmelblau_grad, x0, 0.01, n_steps, decay=decay)
    np.testing.assert_allclose(res.xs, want, rtol=1e-4, atol=1e-4)
    # and it differs from the constant step
    const = hand_gd(himmelblau_grad, x0, 0.01, n_steps)
    assert np.abs(res.xs[20] - const[20]).max() > 1e-2


def test_decay_on_quadratic_closed_form():
    step, decay, n_steps = 0.5, 0.7, 30
    x0 = np.array([[1.0, 1.0]])
    res = S.trajectories(KEY, QUAD, N.gaussian(0.0), x0, step, n_steps, decay=decay)
    etas = step * (1.0 + np.arange(n_steps)) ** (-decay)
    want = np.cumprod(1 - etas[:, None] * A_DIAG, axis=0) * x0
    np.testing.assert_allclose(res.xs[1:, 0], want, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# (d) divergence
# ---------------------------------------------------------------------------


def _first_escape(x0, factor, radius):
    """First t with |factor^t x0| >= radius (float32 arithmetic)."""
    x = np.float32(x0)
    for t in range(1, 10_000):
        x = np.float32(x * np.float32(factor))
        if not x * x < np.float32(radius) ** 2:
            return t, x / np.float32(factor)
    raise AssertionError


def test_divergence_is_flagged_and_frozen():
    # gradient descent on |x|^2/2 with step 2.5 multiplies x by -1.5 each step
    x0 = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    radius = 100.0
    with pytest.warns(S.DivergenceWarning, match="2 of 3"):
        res = S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 60, divergence_radius=radius)
    assert np.isfinite(res.xs).all()
    np.testing.assert_array_equal(res.diverged, [True, False, True])
    k0, last0 = _first_escape(1.0, -1.5, radius)
    k2, last2 = _first_escape(2.0, -1.5, radius)
    assert (k0, k2) == (12, 10)
    np.testing.assert_array_equal(res.diverged_at, [k0, -1, k2])
    # frozen at the last iterate inside the ball
    assert np.all(res.xs[k0 - 1:, 0, 0] == res.xs[k0 - 1, 0, 0])
    assert res.xs[k0 - 1, 0, 0] == pytest.approx(last0, rel=1e-6)
    assert np.all(res.xs[k2 - 1:, 2, 1] == res.xs[k2 - 1, 2, 1])
    assert np.all(np.abs(res.xs[:k0, 0, 0]) < radius)
    assert np.all(res.xs[:, 1] == 0)


def test_overflow_to_inf_leaves_no_nan():
    x0 = np.array([[5.0, 5.0], [3.0, 2.0]])  # (3, 2) is a minimum: stays put
    with pytest.warns(S.DivergenceWarning):
        res = S.trajectories(KEY, L.himmelblau, N.gaussian(0.0), x0, 1.0, 40, divergence_radius=1e30)
    assert np.isfinite(res.xs).all()
    assert res.diverged.tolist() == [True, False]
    k = int(res.diverged_at[0])
    assert 1 <= k < 40
    assert np.all(res.xs[k - 1:, 0] == res.xs[k - 1, 0])
    np.testing.assert_allclose(res.xs[:, 1], np.tile([3.0, 2.0], (41, 1)))
    # hand loop in float64: the chain blows up (beyond float32 range for |x|^2) at step k
    x = x0[:1].copy()
    for t in range(k):
        np.testing.assert_allclose(res.xs[t, 0], x[0], rtol=1e-3)
        with np.errstate(over="ignore", invalid="ignore"):
            x = x - himmelblau_grad(x)
    assert not np.isfinite(x).all() or np.abs(x).max() > 1e19


def test_no_divergence_no_warning():
    with no_warnings():
        res = S.trajectories(KEY, UNIT, N.gaussian(0.1), np.ones((2, 2)), 0.1, 10)
    assert not res.diverged.any()


# ---------------------------------------------------------------------------
# (e) occupation histogram
# ---------------------------------------------------------------------------


def _np_counts(xs, low, high, n_bins, dims):
    low32, high32 = np.float32(low), np.float32(high)
    P = xs[..., list(dims)].reshape(-1, len(dims)).astype(np.float32)
    ij = np.floor((P - low32) / (high32 - low32) * np.float32(n_bins)).astype(np.int64)
    inside = np.all((ij >= 0) & (ij < np.asarray(n_bins)), axis=-1)
    counts = np.zeros(n_bins, np.int64)
    np.add.at(counts, tuple(ij[inside].T), 1)
    return counts, int((~inside).sum())


@pytest.mark.parametrize("burn_in", [0, 70])
def test_histogram_matches_trajectories(burn_in):
    """Same key, same iterates: the histogram is the histogram of the trajectories."""
    x0 = np.array([[0.0, 0.0], [3.0, 2.0], [-2.0, 2.5], [1.0, -1.0]])
    noise, step, n_steps = N.gaussian(3.0), 0.01, CHUNK + 50
    low, high, n_bins = [-4.0, -3.0], [4.0, 3.0], (12, 7)
    traj = S.trajectories(KEY, L.himmelblau, noise, x0, step, n_steps)
    h = S.occupation_histogram(KEY, L.himmelblau, noise, x0, step, n_steps, low=low, high=high,
                               n_bins=n_bins, burn_in=burn_in)
    assert h.counts.shape == n_bins and h.counts.dtype == np.int64
    assert h.n_samples == 4 * (n_steps - burn_in)
    want, outside = _np_counts(traj.xs[burn_in + 1:], low, high, n_bins, (0, 1))
    assert outside > 0  # the window does not hold everything: the accounting is tested
    # same float32 binning formula: exact up to (rare) rounding at a bin edge
    assert np.abs(h.counts - want).sum() <= 1
    assert abs(int(h.counts.sum()) + outside - h.n_samples) <= 1
    np.testing.assert_allclose(h.edges[0], np.linspace(-4, 4, 13), atol=1e-6)
    np.testing.assert_allclose(h.edges[1], np.linspace(-3, 3, 8), atol=1e-6)
    assert h.fraction_inside() == pytest.approx(h.counts.sum() / h.n_samples)
    assert (h.density() * np.prod([e[1] - e[0] for e in h.edges])).sum() == pytest.approx(h.fraction_inside())


def test_histogram_one_dim_and_int_n_bins():
    x0 = np.zeros((4, 3))
    f = functools.partial(L.quadratic, A=jnp.eye(3))
    h = S.occupation_histogram(KEY, f, N.gaussian(1.0), x0, 0.1, 20, low=[-1.0], high=[1.0], n_bins=5, dims=(2,))
    traj = S.trajectories(KEY, f, N.gaussian(1.0), x0, 0.1, 20)
    want, _ = _np_counts(traj.xs[1:], [-1.0], [1.0], (5,), (2,))
    assert h.counts.shape == (5,) and len(h.edges) == 1
    assert np.abs(h.counts - want).sum() <= 1
    h2 = S.occupation_histogram(KEY, f, N.gaussian(1.0), x0, 0.1, 20, low=[-1, -1], high=[1, 1], n_bins=4, dims=(2, 0))
    assert h2.counts.shape == (4, 4)
    want2, _ = _np_counts(traj.xs[1:], [-1, -1], [1, 1], (4, 4), (2, 0))
    assert np.abs(h2.counts - want2).sum() <= 1


def test_histogram_state_is_independent_of_n_steps(monkeypatch):
    """Only O(n d + prod(n_bins)) numbers cross a chunk boundary, whatever n_steps."""
    calls = []
    real = S._hist_chunk

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append([np.size(o) for o in jax.tree_util.tree_leaves(out)])
        return out

    monkeypatch.setattr(S, "_hist_chunk", spy)
    n, d, n_bins = 8, 2, (6, 5)
    shapes = []
    for n_steps in (10, CHUNK + 1, 3 * CHUNK):
        calls.clear()
        h = S.occupation_histogram(KEY, UNIT, N.gaussian(0.5), np.zeros((n, d)), 0.1, n_steps,
                                   low=[-1, -1], high=[1, 1], n_bins=n_bins)
        shapes.append(h.counts.shape)
        assert h.n_samples == n * n_steps
        assert len(calls) == math.ceil(n_steps / CHUNK)
        bound = 4 * (n * d + n + int(np.prod(n_bins)) + 8)
        assert all(sum(sizes) <= bound for sizes in calls), calls
    assert shapes == [n_bins] * 3


def test_histogram_of_linear_recursion_is_the_stationary_gaussian():
    """Quadratic a|x|^2/2 with Gaussian noise: x_{t+1} = (1 - eta a) x_t - eta sigma Z,
    whose stationary law is N(0, eta sigma^2 / (a (2 - eta a))) per coordinate."""
    a, eta, sigma = 2.0, 0.3, 1.0
    var = eta * sigma**2 / (a * (2 - eta * a))  # 0.107..., vs eta sigma^2/(2a) = 0.075 for the SDE
    sd = math.sqrt(var)
    n, n_steps, burn_in, nb = 256, 2 * CHUNK + 30, 30, 40
    h = S.occupation_histogram(KEY, ISO, N.gaussian(sigma), np.zeros((n, 2)), eta, n_steps,
                               low=[-4 * sd, -4 * sd], high=[4 * sd, 4 * sd], n_bins=(nb, nb), burn_in=burn_in)
    assert h.n_samples == n * (n_steps - burn_in)
    p2 = h.counts / h.n_samples
    edges = np.linspace(-4 * sd, 4 * sd, nb + 1)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(edges / (sd * math.sqrt(2))))
    p_bins = np.diff(cdf)
    centers = 0.5 * (edges[1:] + edges[:-1])
    h_w = edges[1] - edges[0]
    for axis in (0, 1):
        marg = p2.sum(axis=1 - axis)
        # AR(1) with rho = 0.4: effective sample size >= n T (1 - rho) / (1 + rho)
        ess = h.n_samples * 0.6 / 1.4
        assert np.max(np.abs(marg - p_bins)) < 5 * math.sqrt(0.01 / ess) + 1e-3
        v = (marg * centers**2).sum() / marg.sum() - h_w**2 / 12  # Sheppard's correction
        assert v == pytest.approx(var, rel=0.04)
    # the two coordinates are independent
    np.testing.assert_allclose(p2, np.outer(p2.sum(1), p2.sum(0)), atol=2e-3)


def test_histogram_with_divergence_accounting():
    x0 = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.5]])
    with pytest.warns(S.DivergenceWarning):
        traj = S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, divergence_radius=100.0)
    with pytest.warns(S.DivergenceWarning):
        h = S.occupation_histogram(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, low=[-200, -200], high=[200, 200],
                                   n_bins=8, divergence_radius=100.0)
    np.testing.assert_array_equal(h.diverged, traj.diverged)
    # a chain diverging at step k contributes the iterates x_1 .. x_{k-1}
    expected = sum(40 if k < 0 else k - 1 for k in traj.diverged_at)
    assert h.n_samples == expected
    assert h.counts.sum() == expected  # the window holds the whole ball


def test_histogram_with_decay_matches_trajectories():
    x0 = np.zeros((4, 2))
    traj = S.trajectories(KEY, UNIT, N.gaussian(1.0), x0, 0.5, 40, decay=0.6)
    h = S.occupation_histogram(KEY, UNIT, N.gaussian(1.0), x0, 0.5, 40, decay=0.6, low=[-1, -1], high=[1, 1],
                               n_bins=5, burn_in=5)
    want, _ = _np_counts(traj.xs[6:], [-1, -1], [1, 1], (5, 5), (0, 1))
    assert np.abs(h.counts - want).sum() <= 1
    # the comparison is sensitive to an off-by-one in the counted window
    shifted, _ = _np_counts(traj.xs[5:-1], [-1, -1], [1, 1], (5, 5), (0, 1))
    assert np.abs(h.counts - shifted).sum() > 2
    assert h.n_samples == 4 * (40 - 5)


# ---------------------------------------------------------------------------
# (f) hitting times
# ---------------------------------------------------------------------------


def _hand_hit(r0, factor, delta, max_steps):
    x = np.float32(r0)
    for t in range(max_steps + 1):
        if x * x <= np.float32(delta) ** 2:
            return t
        x = np.float32(x * np.float32(factor))
    return -1


def test_hitting_times_sigma_zero_closed_form():
    radii = np.array([0.1, 0.29, 0.35, 1.0, 2.0, 5.0, -3.0, 0.7])
    x0 = np.stack([radii, np.zeros_like(radii)], 1)
    step, delta = 0.1, 0.3
    res = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, step, centers=[[0.0, 0.0]], delta=delta, max_steps=500)
    want = [_hand_hit(r, 1 - step, delta, 500) for r in radii]
    assert want[:2] == [0, 0] and want[3] == 12
    np.testing.assert_array_equal(res.times, want)
    assert res.hit.all() and not res.diverged.any()
    assert res.times.dtype == np.int64


def test_hitting_times_respects_max_steps():
    x0 = np.array([[1.0, 0.0]])
    common = dict(centers=[[0.0, 0.0]], delta=0.3)
    assert S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, 0.1, max_steps=12, **common).times.tolist() == [12]
    res = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, 0.1, max_steps=11, **common)
    assert res.times.tolist() == [-1] and not res.hit.any()


def test_hitting_times_several_centers_and_start_inside():
    x0 = np.array([[3.0, 2.0], [3.05, 2.0], [0.0, 0.0], [-2.8, 3.1]])
    res = S.hitting_times(KEY, L.himmelblau, N.gaussian(0.0), x0, 0.01, centers=L.HIMMELBLAU_MINIMA,
                          delta=0.1, max_steps=2000)
    assert res.times[0] == 0 and res.times[1] == 0 and res.times[3] == 0
    # gradient descent from the origin reaches a minimum; check the step against a hand loop
    xs = hand_gd(himmelblau_grad, x0[2:3], 0.01, 2000)[:, 0]
    d = np.min(np.linalg.norm(xs[:, None] - np.asarray(L.HIMMELBLAU_MINIMA, np.float64)[None], axis=-1), axis=1)
    assert abs(int(res.times[2]) - int(np.argmax(d <= 0.1))) <= 1
    assert res.hit.all()


def test_hitting_times_compaction_and_misses():
    # 62 chains start at distance 1 and hit within a few steps; 2 chains sit at x2 = 3
    # on a quadratic that never moves x2, so they never hit.
    n, max_steps = 64, 8 * CHUNK
    x0 = np.zeros((n, 2))
    x0[:, 0] = 1.0
    x0[[5, 40], 1] = 3.0
    res = S.hitting_times(KEY, FLAT, N.gaussian(0.0), x0, 0.2, centers=[[0.0, 0.0]], delta=0.5, max_steps=max_steps)
    miss = np.zeros(n, bool)
    miss[[5, 40]] = True
    np.testing.assert_array_equal(res.times[miss], -1)
    assert not res.hit[miss].any() and res.hit[~miss].all()
    assert np.all(res.times[~miss] == _hand_hit(1.0, 0.8, 0.5, 100))
    assert not res.diverged.any()
    # without compaction: n * max_steps chain-steps
    assert res.work >= 2 * max_steps
    assert res.work < 0.2 * n * max_steps


def test_hitting_times_with_noise_statistics():
    """sigma > 0: each chain's time matches its own trajectory is not checkable (keys differ),
    but hitting is faster with noise from the far well, and all times are in range."""
    n = 32
    x0 = np.tile([[-2.5, 1.0]], (n, 1))
    res = S.hitting_times(jax.random.PRNGKey(5), L.three_humps, N.gaussian(2.0), x0, 0.05,
                          centers=[[0.0, 0.0]], delta=0.3, max_steps=CHUNK + 100)
    assert np.all((res.times == -1) | ((res.times >= 1) & (res.times <= CHUNK + 100)))
    assert np.all(res.hit == (res.times >= 0))
    res0 = S.hitting_times(KEY, L.three_humps, N.gaussian(0.0), x0[:2], 0.05, centers=[[0.0, 0.0]], delta=0.3,
                           max_steps=CHUNK + 100)
    assert not res0.hit.any()  # deterministic descent stays in the global well
    assert res.hit.sum() > 0


def test_hitting_times_divergence():
    x0 = np.array([[1.0, 0.0], [0.0, 0.0]])
    with pytest.warns(S.DivergenceWarning):
        res = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, 2.5, centers=[[50.0, 50.0]], delta=0.1,
                              max_steps=100, divergence_radius=100.0)
    assert res.diverged.tolist() == [True, False]
    assert res.times.tolist() == [-1, -1]


def test_hitting_times_divergence_after_max_steps_is_not_reported():
    """Regression: the last chunk runs past max_steps; a chain that would diverge only
    after max_steps must not be flagged (nor warned about)."""
    x0 = np.array([[1.0, 0.0]])  # escapes the ball of radius 100 at step 12
    with no_warnings():
        res = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, 2.5, centers=[[50.0, 50.0]], delta=0.1,
                              max_steps=10, divergence_radius=100.0)
    assert not res.diverged.any() and res.times.tolist() == [-1]
    with pytest.warns(S.DivergenceWarning):
        res = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x0, 2.5, centers=[[50.0, 50.0]], delta=0.1,
                              max_steps=12, divergence_radius=100.0)
    assert res.diverged.tolist() == [True]


# ---------------------------------------------------------------------------
# (g) no recompilation
# ---------------------------------------------------------------------------


def test_trajectories_no_recompilation():
    x0 = np.zeros((4, 2))
    S.trajectories(KEY, QUAD, N.gaussian(1.0), x0, 0.1, 300)
    before = S._traj_chunk._cache_size()
    S.trajectories(KEY, QUAD, N.gaussian(0.5), x0, 0.2, 600, decay=0.5)  # more chunks
    S.trajectories(jax.random.PRNGKey(3), QUAD, N.gaussian(2.0), x0 + 1, 0.05, 100, decay=0.3)  # fewer
    S.trajectories(KEY, QUAD, N.gaussian(0.0), x0, 0.1, 257, divergence_radius=1e3)
    assert S._traj_chunk._cache_size() == before


def test_histogram_no_recompilation():
    x0 = np.zeros((4, 2))
    kw = dict(low=[-1, -1], high=[1, 1], n_bins=(5, 6))
    S.occupation_histogram(KEY, QUAD, N.gaussian(1.0), x0, 0.1, 300, **kw)
    before = S._hist_chunk._cache_size()
    S.occupation_histogram(KEY, QUAD, N.gaussian(0.3), x0, 0.2, 600, burn_in=100, decay=0.5, **kw)
    S.occupation_histogram(KEY, QUAD, N.gaussian(2.0), x0, 0.05, 50, burn_in=7, decay=1.0,
                           low=[-2, -3], high=[2, 1], n_bins=(5, 6))
    assert S._hist_chunk._cache_size() == before


def test_hitting_times_no_recompilation():
    x0 = np.tile([[1.0, 3.0]], (4, 1))  # never hits (x2 frozen by FLAT): the batch size stays 4
    kw = dict(centers=[[0.0, 0.0]])
    S.hitting_times(KEY, FLAT, N.gaussian(0.0), x0, 0.1, delta=0.5, max_steps=300, **kw)
    before = S._hit_chunk._cache_size()
    S.hitting_times(KEY, FLAT, N.gaussian(0.0), x0, 0.3, delta=0.2, max_steps=600, decay=0.5, **kw)
    S.hitting_times(KEY, FLAT, N.gaussian(0.0), x0, 0.05, delta=1.0, max_steps=20, centers=[[1.0, 1.0]])
    assert S._hit_chunk._cache_size() == before


def test_finite_sum_objective_is_traced_no_recompilation():
    p1 = L.least_squares(jax.random.PRNGKey(1), 16, 2)
    p2 = L.least_squares(jax.random.PRNGKey(2), 16, 2, reg=0.3)
    x0 = np.zeros((4, 2))
    S.trajectories(KEY, p1, N.minibatch(p1, 2), x0, 0.1, 10)
    before = S._traj_chunk._cache_size()
    r2 = S.trajectories(KEY, p2, N.minibatch(p2, 2), x0, 0.2, 20)
    assert S._traj_chunk._cache_size() == before
    assert r2.xs.shape == (21, 4, 2)


# ---------------------------------------------------------------------------
# (h) sharding across two (virtual) devices
# ---------------------------------------------------------------------------

SHARD_SCRIPT = textwrap.dedent(
    """
    import inspect, json, sys
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding
    from course_lib import landscapes as L, noise as N, simulate as S

    assert len(jax.devices()) == {n_dev}, jax.devices()
    info = {{"devices": len(jax.devices()),
             "named": isinstance(S.chain_sharding(8), NamedSharding),
             "odd_is_none": S.chain_sharding(7) is None}}
    seen = {{}}

    def spy(name, fn):
        sig = inspect.signature(fn)
        def wrapped(*args, **kwargs):
            arrs = [sig.bind(*args, **kwargs).arguments["X"]]  # the chains' iterates
            seen.setdefault(name, []).append(
                [[len(a.sharding.device_set), bool(a.sharding.is_fully_replicated)] for a in arrs]
                + [[-1, isinstance(kwargs.get("sharding"), NamedSharding)]])
            return fn(*args, **kwargs)
        return wrapped

    for name in ("_traj_chunk", "_hist_chunk", "_hit_chunk"):
        setattr(S, name, spy(name, getattr(S, name)))

    key = jax.random.PRNGKey(0)
    x0 = np.tile([[-2.5, 1.0], [2.0, -0.8]], (4, 1))
    tr = S.trajectories(key, L.three_humps, N.gaussian(1.5), x0, 0.02, 300)
    h = S.occupation_histogram(key, L.three_humps, N.gaussian(1.5), x0, 0.02, 300,
                               low=[-3, -2], high=[3, 2], n_bins=(12, 8), burn_in=10)
    ht = S.hitting_times(key, L.three_humps, N.gaussian(1.5), 0.8 * x0, 0.02,
                         centers=[[-2.533, 1.013], [2.078, -0.831]], delta=0.004, max_steps=600)
    prob = L.least_squares(jax.random.PRNGKey(1), 10, 2)
    mb = S.trajectories(key, prob, N.minibatch(prob, 3), np.zeros((8, 2)), 0.1, 20)
    np.savez(sys.argv[1], xs=tr.xs, counts=h.counts, n_samples=h.n_samples, times=ht.times, mb=mb.xs)
    info["seen"] = seen
    print(json.dumps(info))
    """
)


def _run_sharded(tmp_path, n_dev):
    script = tmp_path / "shard.py"
    script.write_text(SHARD_SCRIPT.format(n_dev=n_dev))
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_dev}"
    env["JAX_PLATFORMS"] = "cpu"
    out = tmp_path / f"out{n_dev}.npz"
    proc = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


def test_sharding_two_devices_matches_one(tmp_path):
    info2, r2 = _run_sharded(tmp_path, 2)
    assert info2["devices"] == 2 and info2["named"] and info2["odd_is_none"]
    for name in ("_traj_chunk", "_hist_chunk", "_hit_chunk"):
        calls = info2["seen"][name]
        assert calls
        for call in calls:
            chains = [c for c in call if c[0] != -1]
            assert chains and all(c == [2, False] for c in chains), (name, call)  # split over 2 devices
            assert call[-1] == [-1, True]  # a NamedSharding was passed to the chunk
    # the same experiment on a single device (the default code path: no sharding)
    info1, r1 = _run_sharded(tmp_path, 1)
    assert info1["devices"] == 1 and not info1["named"]
    assert all(call[-1] == [-1, False] for calls in info1["seen"].values() for call in calls)
    # the random streams do not depend on the sharding (threefry is partitionable) and
    # chains do not interact, so the results are bitwise identical
    for name in ("xs", "mb", "counts", "times"):
        np.testing.assert_array_equal(r2[name], r1[name])
    assert int(r2["n_samples"]) == int(r1["n_samples"]) == 8 * 290
    times = r1["times"]
    hit = times >= 0
    assert 0 < hit.sum() < 8 and len(set(times[hit])) > 1, times  # compaction happened


# ---------------------------------------------------------------------------
# (i) validation
# ---------------------------------------------------------------------------

GOOD = dict(key=KEY, objective=UNIT, noise=N.gaussian(1.0), x0=np.zeros((2, 2)), step=0.1)


def _traj(**kw):
    a = {**GOOD, "n_steps": 5, **kw}
    return S.trajectories(a.pop("key"), a.pop("objective"), a.pop("noise"), a.pop("x0"), a.pop("step"),
                          a.pop("n_steps"), **a)


def _hist(**kw):
    a = {**GOOD, "n_steps": 5, "low": [-1, -1], "high": [1, 1], **kw}
    return S.occupation_histogram(a.pop("key"), a.pop("objective"), a.pop("noise"), a.pop("x0"), a.pop("step"),
                                  a.pop("n_steps"), **a)


def _hit(**kw):
    a = {**GOOD, "centers": [[0.0, 0.0]], "delta": 0.1, "max_steps": 5, **kw}
    return S.hitting_times(a.pop("key"), a.pop("objective"), a.pop("noise"), a.pop("x0"), a.pop("step"), **a)


COMMON_BAD = [
    ("step", dict(step=0.0)),
    ("step", dict(step=-0.1)),
    ("step", dict(step=float("nan"))),
    ("step", dict(step=float("inf"))),
    ("decay", dict(decay=-0.5)),
    ("x0", dict(x0=np.array([[0.0, np.nan]]))),
    ("x0", dict(x0=np.array([[0.0, np.inf]]))),
    ("x0", dict(x0=np.zeros(2))),
    ("x0", dict(x0=np.zeros((1, 2, 2)))),
    ("noise", dict(noise="gaussian")),
    ("noise", dict(noise=None)),
    ("noise", dict(noise=0.5)),
    ("objective", dict(objective=3.0)),
    ("divergence_radius", dict(divergence_radius=0.0)),
]


@pytest.mark.parametrize("name,kw", COMMON_BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(COMMON_BAD)])
@pytest.mark.parametrize("run", [_traj, _hist, _hit], ids=["traj", "hist", "hit"])
def test_common_validation(run, name, kw):
    with pytest.raises(ValueError, match=name):
        run(**kw)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_step_counts(bad):
    with pytest.raises(ValueError, match="n_steps"):
        _traj(n_steps=bad)
    with pytest.raises(ValueError, match="n_steps"):
        _hist(n_steps=bad)
    with pytest.raises(ValueError, match="max_steps"):
        _hit(max_steps=bad)


HIST_BAD = [
    ("dims", dict(dims=(2,))),
    ("dims", dict(dims=(-1, 0))),
    ("dims", dict(dims=())),
    ("dims", dict(dims=0)),
    ("n_bins", dict(n_bins=0)),
    ("n_bins", dict(n_bins=(10,))),
    ("n_bins", dict(n_bins=(10, 0))),
    ("n_bins", dict(n_bins=2.5)),
    ("n_bins", dict(n_bins=(10, 2.5))),
    ("n_bins", dict(n_bins="many")),
    ("burn_in", dict(burn_in=-1)),
    ("burn_in", dict(burn_in=5)),
    ("burn_in", dict(burn_in=1.5)),
    ("burn_in", dict(burn_in=True)),
    ("high", dict(high=[1, -1])),
    ("low", dict(low=[-1])),
    ("low", dict(low=[np.nan, 0.0])),
]


@pytest.mark.parametrize("name,kw", HIST_BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HIST_BAD)])
def test_histogram_validation(name, kw):
    with pytest.raises(ValueError, match=name):
        _hist(**kw)


@pytest.mark.parametrize(
    "name,kw",
    [("centers", dict(centers=[[0.0, 0.0, 0.0]])), ("centers", dict(centers=[0.0, 0.0])),
     ("centers", dict(centers=[[np.nan, 0.0]])), ("delta", dict(delta=0.0)), ("delta", dict(delta=-1.0))],
)
def test_hitting_validation(name, kw):
    with pytest.raises(ValueError, match=name):
        _hit(**kw)


def test_minibatch_noise_requires_its_problem():
    p = L.least_squares(jax.random.PRNGKey(0), 8, 2)
    p_copy = L.FiniteSum(p.features, p.targets, p.reg, p.kind)
    for obj in (UNIT, p_copy):
        for run in (_traj, _hist, _hit):
            with pytest.raises(ValueError, match="objective"):
                run(objective=obj, noise=N.minibatch(p, 2))


# ---------------------------------------------------------------------------
# (j) finite sums with minibatch noise
# ---------------------------------------------------------------------------


def test_minibatch_single_term_is_gradient_descent():
    """n = 1: the minibatch gradient is the full gradient, so SGD is gradient descent."""
    p = L.least_squares(jax.random.PRNGKey(4), 1, 2, reg=0.1)
    A, b, reg = np.asarray(p.features, float), np.asarray(p.targets, float), float(p.reg)
    x0 = np.array([[1.0, -1.0], [0.5, 2.0]])
    res = S.trajectories(KEY, p, N.minibatch(p, 3), x0, 0.1, 30)
    want = hand_gd(lambda x: (x @ A.T - b) @ A + reg * x, x0, 0.1, 30)
    np.testing.assert_allclose(res.xs, want, rtol=1e-4, atol=1e-5)


def test_minibatch_step_is_unbiased():
    """E[x_1] = x_0 - eta grad f(x_0) over many chains, with the right spread."""
    p = L.least_squares(jax.random.PRNGKey(6), 16, 2, noise=1.0)
    n, eta, B = 4096, 0.1, 2
    x0 = np.tile([[1.0, -0.5]], (n, 1))
    res = S.trajectories(KEY, p, N.minibatch(p, B), x0, eta, 1)
    x1 = res.xs[1]
    g = np.asarray(jax.grad(p)(jnp.asarray(x0[0])))
    A, b = np.asarray(p.features, float), np.asarray(p.targets, float)
    per = A * (A @ x0[0] - b)[:, None]
    sd = eta * np.sqrt(per.var(0) / B)
    np.testing.assert_array_less(np.abs(x1.mean(0) - (x0[0] - eta * g)), 5 * sd / math.sqrt(n))
    np.testing.assert_allclose(x1.std(0), sd, rtol=0.06)


def test_minibatch_histogram_and_hitting_times_run():
    p = L.least_squares(jax.random.PRNGKey(7), 16, 2, reg=0.1)
    noise = N.minibatch(p, 2)
    x0 = np.zeros((4, 2))
    h = S.occupation_histogram(KEY, p, noise, x0, 0.2, 50, low=[-3, -3], high=[3, 3], n_bins=6)
    assert h.n_samples == 200 and h.counts.sum() == 200
    A, b = np.asarray(p.features, float), np.asarray(p.targets, float)
    x_star = np.linalg.solve(A.T @ A / 16 + 0.1 * np.eye(2), A.T @ b / 16)
    ht = S.hitting_times(KEY, p, noise, x0, 0.2, centers=x_star[None], delta=0.3, max_steps=300)
    assert ht.hit.all() and np.all(ht.times >= 1)
