"""Unit tests of course_lib.ode: integrators against closed forms, shapes, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import ode, simulate
from course_lib.chapters import ode as ode_ch

LINEAR = ode.gradient_field(lambda x: 0.5 * jnp.sum(jnp.array([1.0, 3.0]) * x**2))  # v(x) = -(x1, 3 x2)
X0 = jnp.array([1.0, -2.0])


def exact_linear(t):
    t = np.asarray(t, dtype=float)
    return np.stack([np.exp(-t), -2.0 * np.exp(-3.0 * t)], axis=-1)


def test_flow_matches_the_exponential():
    ts, xs = ode.flow(LINEAR, X0, 2.0, num_steps=200)
    assert ts.shape == (201,) and xs.shape == (201, 2)
    np.testing.assert_allclose(xs, exact_linear(ts), atol=1e-5)


def test_flow_at_times_follows_any_step_sequence():
    steps = 0.1 / (1.0 + jnp.arange(30)) ** 0.5
    xs = ode.flow_at_times(LINEAR, X0, steps)
    np.testing.assert_allclose(xs, exact_linear(ode.flow_times(steps)), atol=1e-5)


def test_flow_times_and_interpolation():
    steps = jnp.array([0.5, 0.25, 0.25])
    ts = ode.flow_times(steps)
    np.testing.assert_allclose(ts, [0.0, 0.5, 0.75, 1.0])
    xs = jnp.array([[0.0, 0.0], [1.0, 2.0], [1.0, 0.0], [3.0, 0.0]])
    got = ode.interpolate(ts, xs, jnp.array([0.25, 0.5, 0.875, 2.0, -1.0]))
    np.testing.assert_allclose(got, [[0.5, 1.0], [1.0, 2.0], [2.0, 0.0], [3.0, 0.0], [0.0, 0.0]], atol=1e-6)


def test_euler_is_gradient_descent_with_first_order_error():
    steps = jnp.full(5, 0.1)
    xs = ode.euler(LINEAR, X0, steps)
    k = np.arange(6)[:, None]
    np.testing.assert_allclose(xs, np.asarray(X0) * np.array([0.9, 0.7]) ** k, rtol=1e-5)
    errs = []
    for a in (0.02, 0.01, 0.005):
        st = jnp.full(int(round(1 / a)), a)
        errs.append(float(ode.tracking_error(ode.euler(LINEAR, X0, st), ode.flow_at_times(LINEAR, X0, st))))
    assert ode.fit_order([0.02, 0.01, 0.005], errs) == pytest.approx(1.0, abs=0.1)


def test_stochastic_approximation_shapes_key_and_noise_free_limit():
    steps = jnp.full(20, 0.05)
    xs = ode.stochastic_approximation(jax.random.PRNGKey(0), LINEAR, X0, steps, 1.0, n_chains=3)
    assert xs.shape == (21, 3, 2)
    again = ode.stochastic_approximation(jax.random.PRNGKey(0), LINEAR, X0, steps, 1.0, n_chains=3)
    np.testing.assert_array_equal(xs, again)
    quiet = ode.stochastic_approximation(jax.random.PRNGKey(0), LINEAR, X0, steps, 0.0, n_chains=2)
    np.testing.assert_allclose(quiet[:, 0], ode.euler(LINEAR, X0, steps), atol=1e-6)


def test_tracking_error_window_and_chains():
    ref = jnp.zeros((4, 2))
    it = jnp.array([[[0.0, 0.0]], [[3.0, 4.0]], [[0.0, 1.0]], [[0.0, 2.0]]])  # one chain
    assert ode.tracking_error(it, ref).shape == (1,)
    assert float(ode.tracking_error(it[:, 0], ref)) == pytest.approx(5.0)
    ts = jnp.array([0.0, 1.0, 2.0, 3.0])
    assert float(ode.tracking_error(it[:, 0], ref, ts, window=(1.5, 2.0))) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="ts"):
        ode.tracking_error(it[:, 0], ref, window=(0.0, 1.0))


def test_window_errors_vanish_without_noise_and_flow_restart():
    steps = jnp.full(200, 0.01)
    it = ode.flow_at_times(LINEAR, X0, steps)  # the flow itself: zero error on every window
    err, a = ode.window_errors(LINEAR, it, steps, jnp.array([0.0, 0.5, 1.0]), 0.5)
    assert err.shape == (3,) and float(jnp.max(err)) < 1e-5
    np.testing.assert_allclose(a, 0.01)
    with pytest.raises(ValueError, match="time span"):
        ode.window_errors(LINEAR, it, steps, jnp.array([1.8]), 0.5)


def test_heavy_ball_follows_the_second_order_ode():
    h, beta = ode.heavy_ball_scaling(0.0004, 1.0)
    assert h == pytest.approx(0.02) and beta == pytest.approx(0.98)
    xs = ode.heavy_ball_iterates(LINEAR, X0, 0.0004, beta, 200)
    _, ys = ode.heavy_ball_flow(LINEAR, X0, 1.0, 200 * h, num_steps=800)
    assert float(jnp.max(jnp.linalg.norm(xs - ys[::4], axis=1))) < 0.05
    with pytest.raises(ValueError, match="beta"):
        ode.heavy_ball_iterates(LINEAR, X0, 0.01, 1.0, 10)


def test_kink_solution_solves_the_inclusion():
    P = ode_ch.Kink(jnp.array([[1.0, 0.5], [0.5, 1.0]]), jnp.array([1.0, 0.3]), 1.0)
    ts = jnp.linspace(0.0, 4.0, 4001)
    sol = np.asarray(ode_ch.kink_filippov_solution(P, jnp.array([-1.0, 1.5]), ts), dtype=float)
    vel = np.gradient(sol, np.asarray(ts), axis=0)
    on = sol[:, 1] == 0.0
    assert on.any() and (~on).any()
    # off the kink: the velocity is minus the gradient; on it: tangent, and minus a Clarke subgradient
    g = np.asarray(ode_ch.kink_subgradient(jnp.asarray(sol), P))
    interior = ~on & (np.abs(sol[:, 1]) > 1e-2)
    np.testing.assert_allclose(vel[interior][1:-1], -g[interior][1:-1], atol=2e-3)
    slide = np.nonzero(on)[0][2:-2]
    A, b = np.asarray(P.A), np.asarray(P.b)
    smooth = sol[slide] @ A.T - b
    np.testing.assert_allclose(vel[slide, 0], -smooth[:, 0], atol=2e-3)
    assert np.all(np.abs(smooth[:, 1]) <= P.w)  # 0 in the y-part of the subdifferential: sliding


def test_kink_crossing_is_refused():
    P = ode_ch.Kink(jnp.eye(2), jnp.array([0.0, -3.0]), 1.0)  # pushes through the kink
    with pytest.raises(ValueError, match="crosses"):
        ode_ch.kink_filippov_solution(P, jnp.array([0.0, 1.0]), jnp.array([0.0, 5.0]))


def test_euler_maruyama_matches_the_ou_moments():
    xs = ode.euler_maruyama(jax.random.PRNGKey(3), lambda x: -x, jnp.array([2.0]), 0.1, 1.0, 0.01, 100, 4000)
    assert xs.shape == (101, 4000, 1)
    m, v = ode.quadratic_sde_moments(1.0, 0.1, 1.0, 2.0, 1.0)
    assert float(jnp.mean(xs[-1])) == pytest.approx(float(m), abs=0.02)
    assert float(jnp.var(xs[-1])) == pytest.approx(float(v), rel=0.08)


def test_quadratic_moments_agree_to_first_order():
    gaps = []
    for eta in (0.1, 0.05, 0.025):
        k = int(round(1.0 / eta))
        ms, vs = ode.quadratic_sgd_moments(1.0, eta, 1.0, 2.0, k)
        me, ve = ode.quadratic_sde_moments(1.0, eta, 1.0, 2.0, 1.0)
        gaps.append(abs(float(ms - me)))
    assert ode.fit_order([0.1, 0.05, 0.025], gaps) == pytest.approx(1.0, abs=0.1)


def test_divergence_is_reported():
    with pytest.raises(ode.DivergenceError, match="iterate"):
        ode.euler(lambda x: x**3, jnp.array([10.0]), jnp.full(50, 1.0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ode.flow(3.0, X0, 1.0), "field"),
        (lambda: ode.flow(LINEAR, jnp.ones((2, 2)), 1.0), "x0"),
        (lambda: ode.flow(LINEAR, X0, -1.0), "t_end"),
        (lambda: ode.euler(LINEAR, X0, jnp.array([0.1, -0.1])), "steps"),
        (lambda: ode.stochastic_approximation(jax.random.PRNGKey(0), LINEAR, X0, jnp.ones(3), -1.0), "sigma"),
        (lambda: ode.interpolate(jnp.array([0.0, 1.0]), jnp.zeros((3, 2)), 0.5), "xs"),
        (lambda: ode.fit_order([1.0], [1.0]), "h and err"),
        (lambda: ode_ch.kink_filippov_solution("no", X0, jnp.zeros(1)), "problem"),
        (lambda: ode.heavy_ball_scaling(0.01, 20.0), "delta"),
        (lambda: ode_ch.draw_tracking(0.5, 1.0), "step"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_widget_figure_does_not_recompile():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = ode_ch.draw_tracking(0.005, 5.0)
    plt.close(fig)
    before = ode_ch._widget_ref._cache_size(), simulate._traj_chunk._cache_size()
    plt.close(ode_ch.draw_tracking(0.01, 12.0))
    plt.close(ode_ch.draw_tracking(0.0025, 0.0))
    assert (ode_ch._widget_ref._cache_size(), simulate._traj_chunk._cache_size()) == before


def test_stochastic_approximation_runs_on_the_engine_with_the_old_draws():
    # theta_{k+1} = theta_k + a_k (v(theta_k) + sigma xi_k), xi_k = normal(fold_in(key, k), (n, d)): a hand loop
    key, steps, sigma = jax.random.PRNGKey(5), 0.05 / (1.0 + jnp.arange(300)) ** 0.6, 2.0
    xs = ode.stochastic_approximation(key, LINEAR, X0, steps, sigma, n_chains=3)
    x = jnp.broadcast_to(X0, (3, 2))
    for k in range(300):
        x = x + steps[k] * (jax.vmap(LINEAR)(x) + sigma * jax.random.normal(jax.random.fold_in(key, k), (3, 2)))
    np.testing.assert_allclose(np.asarray(xs[-1]), np.asarray(x), rtol=1e-5, atol=1e-6)


def test_divergent_chains_raise_the_one_divergence_error():
    from course_lib.divergence import DivergenceError

    assert ode.DivergenceError is DivergenceError and issubclass(DivergenceError, FloatingPointError)
    with pytest.raises(DivergenceError, match="1 of 1 SGD chains diverged at step"):
        ode.stochastic_approximation(jax.random.PRNGKey(0), lambda x: x**3, jnp.array([10.0]), jnp.full(50, 1.0), 0.0)
    with pytest.raises(DivergenceError, match="iterate"):  # beyond the radius, before any overflow
        ode.euler(lambda x: 10.0 * x, jnp.array([1.0]), jnp.full(8, 1.0))


@pytest.mark.parametrize("name", ["tracking_study", "window_study", "heavy_ball_study", "kink_study", "sde_study",
                                  "double_well_field", "escape_study", "draw_tracking"])
def test_moved_chapter_studies_keep_a_deprecated_alias(name):
    with pytest.warns(DeprecationWarning, match=f"moved to course_lib.chapters.ode.{name}"):
        assert getattr(ode, name) is getattr(ode_ch, name)
