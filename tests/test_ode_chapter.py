"""The claims of the chapter "The ODE method", checked at a small size.

Each test mirrors one comparison drawn in book/ode.md (measured against
predicted or exact) by calling the same course_lib.ode functions, and fails if
the comparison no longer holds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import landscapes as L
from course_lib import gibbs, ode, simulate
from course_lib.chapters import ode as ode_ch

KEY = jax.random.PRNGKey(8)
FIELD = ode.gradient_field(L.himmelblau)
X0 = jnp.zeros(2)


def test_tracking_error_orders_euler_one_noise_half():
    alphas = np.array([0.01, 0.005, 0.0025])
    euler = ode_ch.tracking_study(KEY, FIELD, X0, 0.4, alphas, sigma=0.0, n_chains=1)
    noisy = ode_ch.tracking_study(KEY, FIELD, X0, 0.4, alphas, sigma=40.0, n_chains=32)
    assert ode.fit_order(alphas, euler) == pytest.approx(1.0, abs=0.1)
    assert 0.35 <= ode.fit_order(alphas, noisy) <= 0.85
    assert np.all(noisy > euler)


def test_window_errors_shrink_with_vanishing_steps():
    K = 8000
    steps = 0.01 / (1.0 + jnp.arange(K) / 500.0) ** 0.6
    starts = jnp.array([0.0, 2.0, 8.0, 16.0])
    err, a = ode_ch.window_study(KEY, FIELD, X0, steps, sigma=20.0, starts=starts, horizon=1.0, n_chains=8)
    assert np.all(np.diff(a) < 0)
    assert err[-1] < 0.6 * err[0]
    assert 0.25 <= ode.fit_order(a, err) <= 1.0


def test_constant_step_plateau_matches_linearised_covariance():
    K = 6000
    x_star = jnp.asarray(L.HIMMELBLAU_MINIMA[0])
    H = np.asarray(jax.hessian(L.himmelblau)(x_star))
    const = ode.stochastic_approximation(KEY, FIELD, X0, jnp.full(K, 0.01), 10.0, n_chains=16)
    msd = float(jnp.mean(jnp.sum((const[K // 2:] - x_star) ** 2, axis=-1)))
    pred = float(np.trace(gibbs.linearized_covariance(H, 0.01, 10.0)))
    assert msd == pytest.approx(pred, rel=0.25)
    vanishing = 0.01 / (1.0 + jnp.arange(K) / 500.0) ** 0.6
    vanish = ode.stochastic_approximation(KEY, FIELD, X0, vanishing, 10.0, n_chains=16)
    assert float(jnp.mean(jnp.sum((vanish[-1] - x_star) ** 2, axis=-1))) < 0.5 * pred


def test_lyapunov_identity_along_the_flow():
    ts, xs = ode.flow(FIELD, X0, 0.4, num_steps=800)
    lhs = float(L.himmelblau(xs[-1]) - L.himmelblau(xs[0]))
    rhs = -float(jnp.trapezoid(jnp.sum(jax.vmap(FIELD)(xs) ** 2, axis=1), ts))
    assert lhs == pytest.approx(rhs, rel=1e-3)
    assert np.all(np.diff(np.asarray(L.himmelblau(xs))) <= 1e-4)


def test_subgradient_iterates_track_the_sliding_solution():
    kink = ode_ch.Kink(jnp.array([[1.0, 0.5], [0.5, 1.0]]), jnp.array([1.0, 0.3]), 1.0)
    y0 = jnp.array([-1.0, 1.5])
    exact = ode_ch.kink_filippov_solution(kink, y0, jnp.linspace(0.0, 4.0, 401))
    on = np.asarray(exact[:, 1]) == 0.0
    first = int(np.argmax(on))
    assert 0 < first and on[first:].all()  # reaches the kink, then stays on it
    assert float(exact[-1, 0]) == pytest.approx(1.0, abs=0.05)  # slides towards b1 / A11 = 1
    alphas = np.array([0.04, 0.02, 0.01])
    err = ode_ch.kink_study(kink, y0, 4.0, alphas)
    assert ode.fit_order(alphas, err) == pytest.approx(1.0, abs=0.15)


def test_heavy_ball_follows_its_ode_with_order_one_half():
    f = lambda x: 0.5 * (x[0] ** 2 + 4 * x[1] ** 2) + 0.25 * x[0] ** 4  # noqa: E731
    alphas = np.array([0.01, 0.0025, 0.000625])
    err = ode_ch.heavy_ball_study(ode.gradient_field(f), jnp.array([1.5, 1.0]), 1.0, 8.0, alphas)
    assert ode.fit_order(alphas, err) == pytest.approx(0.5, abs=0.08)
    assert err[-1] < 0.05


def test_sde_weak_error_is_first_order_on_a_finite_horizon():
    etas = np.array([0.2, 0.1, 0.05])
    s = ode_ch.sde_study(KEY, 1.0, 1.0, 4.0, 1.0, etas, n_paths=20_000)
    gap = np.abs(s["sgd_mean_exact"] - s["sde_mean_exact"])
    assert ode.fit_order(etas, gap) == pytest.approx(1.0, abs=0.1)
    rel = np.abs(s["sgd_var_exact"] / s["sde_var_exact"] - 1.0)
    assert ode.fit_order(etas, rel) == pytest.approx(1.0, abs=0.1)
    # Monte Carlo agrees with the closed forms; the coupled gap is within 25% of the exact one
    np.testing.assert_allclose(s["sgd_mean"], s["sgd_mean_exact"], atol=0.01)
    np.testing.assert_allclose(np.abs(s["sgd_mean"] - s["sde_mean"]), gap, rtol=0.25)


def test_widget_static_rendering():
    from course_lib.widgets import Slider, interactive_figure

    fig = interactive_figure(
        ode_ch.draw_tracking,
        {"step": Slider(0.001, 0.0125, 0.0005, 0.005, "step size α"), "sigma": Slider(0.0, 40.0, 2.0, 10.0, "noise σ")},
        alt="SGD over the gradient flow",
        static=[{"step": 0.01}],
    )
    html = fig.static_html()
    assert html.count("<img") == 1 and "step size α = 0.01" in html


def test_same_covariance_same_finite_horizon_different_escape_times():
    r = ode_ch.escape_study(KEY, np.array([0.125]), n_chains=128, max_steps=50_000, n_paths_T=4000)
    assert r["hit_gauss"][0] == 1.0 and r["hit_student"][0] == 1.0
    assert abs(r["mean_T_gauss"][0] - r["mean_T_student"][0]) < 0.03  # finite horizon: the laws agree
    assert r["escape_gauss"][0] == pytest.approx(r["kramers"][0], rel=0.3)  # Gaussian SGD follows the SDE
    assert r["escape_student"][0] < 0.75 * r["escape_gauss"][0]  # heavy tails escape faster
