"""Unit tests of course_lib.two_layer: network, Gram matrices, simulators, rates, input checks."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import two_layer as tl
from course_lib.chapters import two_layer as tl_ch

KEY = jax.random.PRNGKey(0)
X = tl.sphere_inputs(jax.random.fold_in(KEY, 1), 6, 3)
Y = jnp.sin(3 * X[:, 0])


def test_network_matches_the_formula_and_masks_are_narrower_networks():
    p = tl.init_gaussian(KEY, 8, 3)
    want = (2.0 / 8) * np.maximum(np.asarray(X) @ np.asarray(p.W).T, 0) @ np.asarray(p.eta)
    np.testing.assert_allclose(tl.network(p, X, 2.0), want, rtol=1e-5, atol=1e-6)
    mask = (jnp.arange(8) < 3).astype(jnp.float32)
    narrow = tl.Params(p.eta[:3], p.W[:3])
    np.testing.assert_allclose(tl.network(p, X, 2.0, mask), tl.network(narrow, X, 2.0), rtol=1e-5, atol=1e-6)


def test_closed_form_gram_equals_jacobian_gram_and_is_psd():
    p = tl.init_gaussian(KEY, 5, 3)
    for alpha in (1.0, math.sqrt(5)):
        G = tl.ntk_gram(p, X, alpha)
        G_jac = tl.gram_from_jacobian(lambda th: tl.network(th, X, alpha), p)
        np.testing.assert_allclose(G, G_jac, rtol=1e-4, atol=1e-6)
        assert G.shape == (6, 6) and float(tl.lambda_min(G)) >= -1e-5
    # width mask: the Gram of the first 3 units
    narrow = tl.Params(p.eta[:3], p.W[:3])
    np.testing.assert_allclose(tl.ntk_gram(p, X, 2.0, width=3), tl.ntk_gram(narrow, X, 2.0), rtol=1e-5, atol=1e-6)


def test_gram_from_jacobian_on_a_linear_map():
    A = jnp.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(tl.gram_from_jacobian(lambda th: A @ th, jnp.ones(4)), A @ A.T, rtol=1e-6)


def test_gradient_norm_bound_by_lambda_min():
    """||grad J||^2 >= 2 lambda_min(G) J at random points."""
    for s in range(5):
        p = tl.init_gaussian(jax.random.fold_in(KEY, s), 16, 3)
        g = jax.grad(tl.least_squares_loss)(p, X, Y, 4.0)
        g2 = sum(float(jnp.sum(leaf**2)) for leaf in jax.tree_util.tree_leaves(g))
        J = float(tl.least_squares_loss(p, X, Y, 4.0))
        assert g2 >= 2 * float(tl.lambda_min(tl.ntk_gram(p, X, 4.0))) * J * (1 - 1e-4)


def test_infinite_width_kernel_is_the_limit_of_the_gram():
    K = tl.infinite_width_ntk(X)
    np.testing.assert_allclose(K, K.T, rtol=1e-6)
    # diagonal: |x|^2 (1/2 + 1/2) = 1 on the sphere
    np.testing.assert_allclose(jnp.diag(K), 1.0, rtol=1e-5)
    m = 20000
    p = tl.init_gaussian(KEY, m, 3)
    G = tl.ntk_gram(p, X, math.sqrt(m))
    assert float(jnp.max(jnp.abs(G - K))) < 0.05


def test_lambda_min_vs_width_is_zero_below_p_equals_n():
    lam = tl.lambda_min_vs_width(KEY, X, [1, 64], n_seeds=2)
    assert lam.shape == (2, 2)
    assert np.all(np.abs(lam[0]) < 1e-5)  # p = 4 < n = 6
    assert np.all(lam[1] > 1e-3)


def test_train_gd_decreases_and_linearized_prediction_and_bound():
    p = tl.init_gaussian(KEY, 512, 3)
    a = math.sqrt(512)
    G0 = tl.ntk_gram(p, X, a)
    step = 0.9 / float(jnp.linalg.eigvalsh(G0)[-1])
    run = tl.train_gd(p, X, Y, a, step, 200)
    assert run.losses.shape == (201,)
    assert float(run.losses[-1]) < 0.1 * float(run.losses[0])
    r0 = tl.network(p, X, a) - Y
    lin = tl.linearized_losses(G0, r0, step, 200)
    assert float(lin[0]) == pytest.approx(float(run.losses[0]), rel=1e-5)
    bound = tl.linear_rate_bound(float(run.losses[0]), float(tl.lambda_min(G0)), step, 200)
    assert bool(jnp.all(lin <= bound * (1 + 1e-4)))
    assert bool(jnp.all(run.losses <= bound * (1 + 1e-3)))


def test_train_gd_reports_divergence():
    p = tl.init_gaussian(KEY, 16, 3)
    with pytest.raises(FloatingPointError, match="smaller step"):
        tl.train_gd(p, X, Y, 4.0, 1e6, 50)


def test_rates():
    assert tl.predicted_rate(0.1, 1.0) == pytest.approx(-2 * math.log(0.9))
    losses = 3.0 * 0.9 ** np.arange(50)
    assert tl.log_decay_rate(losses, 10) == pytest.approx(-math.log(0.9))
    with pytest.raises(ValueError, match="step"):
        tl.predicted_rate(2.0, 1.0)
    with pytest.raises(ValueError, match="window"):
        tl.log_decay_rate(losses, 0)


def test_relative_change():
    a = tl.Params(jnp.ones(2), jnp.ones((2, 2)))
    b = tl.Params(jnp.ones(2), jnp.ones((2, 2)) + jnp.array([[1.0, 0.0], [0.0, 0.0]]))
    assert tl.relative_change(a, b) == pytest.approx(1 / math.sqrt(6))
    with pytest.raises(ValueError, match="same structure"):
        tl.relative_change(a, jnp.ones(3))
    with pytest.raises(ValueError, match="non-zero"):
        tl.relative_change(jnp.zeros(2), jnp.ones(2))


def test_symmetric_init_has_zero_output_at_every_even_width():
    p = tl.init_symmetric(KEY, 16, scale=0.5)
    t = tl.teacher_problem(n=20)
    for w in (2, 4, 16):
        mask = (jnp.arange(16) < w).astype(jnp.float32)
        np.testing.assert_allclose(tl.network(p, t.X, 1.0, mask), 0.0, atol=1e-6)
    np.testing.assert_allclose(jnp.linalg.norm(p.W, axis=1), 0.5, rtol=1e-5)


def test_teacher_problem():
    t = tl.teacher_problem(n=10)
    assert t.X.shape == (10, 2) and t.y.shape == (10,)
    np.testing.assert_allclose(t.X[:, 1], 1.0)
    np.testing.assert_allclose(jnp.linalg.norm(t.W, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="weights"):
        tl.teacher_problem(weights=[1.0])


def test_particle_flow_width_and_alpha_do_not_recompile():
    t = tl.teacher_problem(n=16)
    p = tl.init_symmetric(KEY, 16, scale=0.3)
    tl.particle_flow(p, t.X, t.y, width=16, alpha=1.0, dt=0.1, t_max=2.0, n_records=5)
    size = tl._flow_scan._cache_size()
    for w, a in ((4, 1.0), (8, 10.0), (2, 3.0)):
        run = tl.particle_flow(p, t.X, t.y, width=w, alpha=a, dt=0.1, t_max=2.0, n_records=5)
        assert run.W.shape == (5, 16, 2) and run.losses.shape == (5,) and run.times.shape == (5,)
        assert tl.particle_positions(run).shape == (5, w, 2)
        # masked units do not move
        np.testing.assert_array_equal(run.W[-1, w:], p.W[w:])
    assert tl._flow_scan._cache_size() == size


def test_particle_flow_mean_field_speed_is_width_independent():
    """alpha = 1: duplicating every unit (same measure) gives the same trajectory of the predictor."""
    t = tl.teacher_problem(n=16)
    p = tl.init_symmetric(KEY, 8, scale=0.5)
    p2 = tl.Params(jnp.repeat(p.eta, 2), jnp.repeat(p.W, 2, axis=0))
    r1 = tl.particle_flow(p, t.X, t.y, dt=0.1, t_max=3.0, n_records=4)
    r2 = tl.particle_flow(p2, t.X, t.y, dt=0.1, t_max=3.0, n_records=4)
    np.testing.assert_allclose(r1.losses, r2.losses, rtol=1e-4)


def test_particle_flow_reports_divergence_and_bad_input():
    t = tl.teacher_problem(n=16)
    p = tl.init_symmetric(KEY, 8, scale=1.0)
    with pytest.raises(FloatingPointError, match="smaller dt"):
        tl.particle_flow(p, t.X, t.y * 1e3, dt=50.0, t_max=5000.0, n_records=3)
    with pytest.raises(ValueError, match="width"):
        tl.particle_flow(p, t.X, t.y, width=9)
    with pytest.raises(ValueError, match="alpha"):
        tl.particle_flow(p, t.X, t.y, alpha=-1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        tl.particle_flow(p, t.X, t.y[:3])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tl.init_gaussian(KEY, 0, 3), "m must be a positive integer"),
        (lambda: tl.init_symmetric(KEY, 3), "m must be even"),
        (lambda: tl.ntk_gram((jnp.ones(3), jnp.ones((3, 2))), X), "Params"),
        (lambda: tl.ntk_gram(tl.init_gaussian(KEY, 3, 2), X), r"X must have shape \(n, 2\)"),
        (lambda: tl.lambda_min(jnp.ones((2, 3))), "square"),
        (lambda: tl.lambda_min(jnp.array([[jnp.nan]])), "finite"),
        (lambda: tl.linearized_losses(jnp.eye(3), jnp.ones(2), 0.1, 5), "G must have shape"),
        (lambda: tl.train_gd(tl.init_gaussian(KEY, 3, 3), X, Y[:2], 1.0, 0.1, 5), "y must have shape"),
        (lambda: tl.train_gd(tl.init_gaussian(KEY, 3, 3), X, Y, 1.0, 0.1, 5, width=4), "width"),
        (lambda: tl.gram_from_jacobian("F", jnp.ones(2)), "F must be a function"),
        (lambda: tl_ch.draw_rich_vs_lazy(9, 1.0), "log2_width"),
    ],
)
def test_bad_input_raises_readable_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_draw_rich_vs_lazy_returns_a_figure():
    import matplotlib

    fig = tl_ch.draw_rich_vs_lazy(2, 10.0, max_width=8, t_max=4.0)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2


def test_width_rate_predicts_the_late_rate_and_the_width_does_not_recompile():
    K = tl.infinite_width_ntk(X)
    step = float(0.9 / jnp.linalg.eigvalsh(K)[-1])
    p = tl.init_gaussian(KEY, 512, 3)
    tl_ch.width_rate(p, X, Y, 512, step, 200, 100)
    size = tl._gd_scan._cache_size()
    for m in (8, 64):
        wr = tl_ch.width_rate(p, X, Y, m, step, 200, 100)
        assert wr.losses.shape == wr.bound.shape == (201,)
        lam0 = float(tl.lambda_min(tl.ntk_gram(p, X, math.sqrt(m), width=m)))
        assert wr.from_start == pytest.approx(tl.predicted_rate(max(lam0, 0.0), step))
    assert tl._gd_scan._cache_size() == size
    wide = tl_ch.width_rate(p, X, Y, 512, step, 200, 100)
    assert wide.step_lmax <= 1 and np.all(wide.losses <= wide.bound * (1 + 1e-4))
    assert abs(wide.measured - wide.from_end) < 0.15 * wide.from_end
    with pytest.raises(ValueError, match="width"):
        tl_ch.width_rate(p, X, Y, 1024, step, 200, 100)


def test_draw_width_rate_returns_a_figure():
    import matplotlib

    widths = [2, 4, 8]
    p = tl.init_gaussian(KEY, 8, 3)
    lam = tl.lambda_min_vs_width(KEY, X, widths, n_seeds=2)
    K = tl.infinite_width_ntk(X)
    fig = tl_ch.draw_width_rate(3, p, X, Y, widths, lam, float(tl.lambda_min(K)), 0.1, n_steps=20, window=10)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="lam_table"):
        tl_ch.draw_width_rate(3, p, X, Y, widths, lam[:2], 0.1, 0.1, n_steps=20, window=10)
    with pytest.raises(ValueError, match="log2_width"):
        tl_ch.draw_width_rate(4, p, X, Y, widths, lam, 0.1, 0.1, n_steps=20, window=10)
