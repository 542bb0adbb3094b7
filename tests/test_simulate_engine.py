"""Tests of the engine's generalisations: step schedules, fields, given increments, record
policy, stopping sets, and the one divergence policy."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import divergence
from course_lib import landscapes as L
from course_lib import noise as N
from course_lib import simulate as S

KEY = jax.random.PRNGKey(3)
UNIT = functools.partial(L.quadratic, A=jnp.eye(2))


def _minus_x(x):
    return -x


MINUS_X = S.Field(_minus_x)


def _right_half(X):
    return X[:, 0] >= 1.0


def test_step_array_is_a_schedule_and_matches_a_hand_loop():
    # deterministic: x_{t+1} = x_t - eta_t x_t on the unit quadratic, eta_t from an array (zeros allowed)
    steps = np.array([0.1, 0.0, 0.3, 0.2, 0.05] * 60, np.float32)
    x0 = np.array([[1.0, -2.0], [0.5, 0.5]], np.float32)
    run = S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, steps, 300)
    expect = x0 * np.cumprod(1.0 - steps.astype(np.float64))[-1]
    np.testing.assert_allclose(run.xs[-1], expect, rtol=1e-4)
    # a constant array gives exactly the constant step, decay (Robbins-Monro) composes with it
    a = S.trajectories(KEY, UNIT, N.gaussian(1.0), x0, 0.05, 300, decay=0.6)
    b = S.trajectories(KEY, UNIT, N.gaussian(1.0), x0, np.full(300, 0.05, np.float32), 300, decay=0.6)
    np.testing.assert_array_equal(a.xs, b.xs)
    with pytest.raises(ValueError, match="step"):
        S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, np.full(10, 0.1), 20)


def test_field_objective_follows_the_field():
    x0 = np.array([[2.0, -1.0]], np.float32)
    run = S.trajectories(KEY, MINUS_X, N.gaussian(0.0), x0, 0.1, 20)  # x + 0.1 * (-x)
    np.testing.assert_allclose(run.xs[-1], x0 * 0.9**20, rtol=1e-5)
    with pytest.raises(ValueError, match="Field"):
        S.trajectories(KEY, MINUS_X, N.power_law(1.0), x0, 0.1, 20)


def test_every_k_records_a_subsample_of_the_path():
    x0 = np.zeros((3, 2), np.float32)
    full = S.trajectories(KEY, UNIT, N.gaussian(1.0), x0, 0.05, 600)
    for k in (1, 7, 256, 600):
        sub = S.trajectories(KEY, UNIT, N.gaussian(1.0), x0, 0.05, 600, every=k)
        np.testing.assert_array_equal(sub.xs, full.xs[::k])


def test_given_increments_drive_the_engine_like_a_hand_loop():
    n, d, T = 4, 2, 300
    G = jax.random.normal(jax.random.PRNGKey(1), (T, n, d))
    x0 = np.ones((n, d), np.float32)
    run = S.trajectories(KEY, UNIT, N.given(G, 0.5, clip=1.0), x0, 0.1, T)
    x = x0.astype(np.float64)
    for t in range(T):
        z = 0.5 * np.asarray(G[t], np.float64)
        z = z * np.minimum(1.0, 1.0 / np.linalg.norm(z, axis=-1, keepdims=True))
        x = x - 0.1 * (x + z)
    np.testing.assert_allclose(run.xs[-1], x, rtol=1e-4, atol=1e-5)
    # the key plays no role
    again = S.trajectories(jax.random.PRNGKey(9), UNIT, N.given(G, 0.5, clip=1.0), x0, 0.1, T)
    np.testing.assert_array_equal(run.xs, again.xs)
    with pytest.raises(ValueError, match="increments"):
        S.trajectories(KEY, UNIT, N.given(G), x0, 0.1, T + 1)
    with pytest.raises(ValueError, match="given"):
        S.hitting_times(KEY, UNIT, N.given(G), x0, 0.1, centers=np.zeros((1, 2)), delta=0.1, max_steps=T)


def test_stopping_set_given_as_a_function():
    x0 = np.zeros((64, 2), np.float32)
    noise = N.gaussian(3.0)
    by_set = S.hitting_times(KEY, UNIT, noise, x0, 0.05, target=_right_half, max_steps=4000)
    assert by_set.hit.mean() > 0.9
    # the hitting step is the first iterate in the set: check on the recorded paths of the finished chains
    assert np.all(by_set.times[by_set.hit] >= 1)
    x1 = np.array([[2.0, 0.0], [0.0, 0.0]], np.float32)
    r = S.hitting_times(KEY, UNIT, N.gaussian(0.0), x1, 0.05, target=_right_half, max_steps=10)
    assert r.times.tolist() == [0, -1]
    with pytest.raises(ValueError, match="target"):
        S.hitting_times(KEY, UNIT, noise, x0, 0.05, target=_right_half, centers=np.zeros((1, 2)), delta=0.1,
                        max_steps=10)
    with pytest.raises(ValueError, match="centers"):
        S.hitting_times(KEY, UNIT, noise, x0, 0.05, max_steps=10)


def test_hitting_times_without_compaction_agree_on_deterministic_runs():
    # no noise: the hitting step of a chain does not depend on the batch it is in
    x0 = np.stack([np.linspace(0.2, 0.9, 40), np.zeros(40)], -1).astype(np.float32)
    far = functools.partial(L.quadratic, A=jnp.eye(2), center=jnp.array([3.0, 0.0]))
    a = S.hitting_times(KEY, far, N.gaussian(0.0), x0, 0.002, target=_right_half, max_steps=2000)
    b = S.hitting_times(KEY, far, N.gaussian(0.0), x0, 0.002, target=_right_half, max_steps=2000, compact=False)
    np.testing.assert_array_equal(a.times, b.times)
    assert a.hit.all() and len(set(a.times.tolist())) > 5 and b.work >= a.work


def test_one_divergence_policy_warn_raise_ignore():
    x0 = np.array([[1.0, 0.0], [1e-3, 0.0]], np.float32)
    # step 2.5 on the unit quadratic: x -> -1.5 x; chain 0 leaves the ball of radius 100 first
    with pytest.warns(S.DivergenceWarning, match=r"2 of 2 SGD chains diverged between steps \d+ and \d+"):
        run = S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, divergence_radius=100.0)
    assert run.diverged.all() and np.all(np.abs(run.xs) <= 100.0)  # frozen inside, no NaN
    with pytest.raises(divergence.DivergenceError, match="2 of 2 SGD chains"):
        S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, divergence_radius=100.0, on_divergence="raise")
    with pytest.raises(divergence.DivergenceError):
        S.occupation_histogram(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, low=[-1, -1], high=[1, 1],
                               divergence_radius=100.0, on_divergence="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 2.5, 40, divergence_radius=100.0,
                               on_divergence="ignore")
    assert quiet.diverged.all()
    with pytest.raises(ValueError, match="on_divergence"):
        S.trajectories(KEY, UNIT, N.gaussian(0.0), x0, 0.1, 4, on_divergence="nan")


def test_divergence_error_is_one_class():
    assert issubclass(divergence.DivergenceError, FloatingPointError)
    assert issubclass(divergence.DivergenceError, ValueError)  # old callers caught ValueError
    from course_lib import ode

    assert ode.DivergenceError is divergence.DivergenceError
    assert S.DivergenceWarning is divergence.DivergenceWarning
    with pytest.raises(divergence.DivergenceError, match="iterate 2"):
        divergence.check(np.array([[0.0], [1.0], [2e6]]), "a path")
    divergence.check(np.array([[0.0], [1.0]]), "a path")  # inside: returned unchanged


@pytest.mark.parametrize("old, new", [("mass_near", "histogram_mass_near"),
                                      ("linearized_covariance", "linearized_covariance"),
                                      ("predicted_mass_outside", "predicted_mass_outside")])
def test_near_minimiser_predictions_moved_to_gibbs_keep_an_alias(old, new):
    from course_lib import gibbs

    with pytest.warns(DeprecationWarning, match=f"simulate.{old} moved to course_lib.gibbs.{new}"):
        assert getattr(S, old) is getattr(gibbs, new)
