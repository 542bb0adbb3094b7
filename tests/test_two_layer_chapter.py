"""The claims of the chapter "Wide two-layer networks", checked at a small size.

Each test mirrors one comparison drawn in book/two_layer.md (measured against
predicted) with the same course_lib functions, on fewer widths, seeds or steps.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import two_layer as tl
from course_lib.chapters import two_layer as tl_ch

KEY = jax.random.PRNGKey(0)
N, D = 16, 3
X = tl.sphere_inputs(jax.random.fold_in(KEY, 1), N, D)
Y = jnp.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
K = tl.infinite_width_ntk(X)
GAMMA = float(0.9 / jnp.linalg.eigvalsh(K)[-1])


def test_gradient_is_bounded_below_by_lambda_min_of_the_gram():
    m = 64
    for s in range(5):
        th = tl.init_gaussian(jax.random.fold_in(KEY, 100 + s), m, D)
        th = tl.Params(th.eta * (0.5 + s / 2), th.W)
        g = jax.grad(tl.least_squares_loss)(th, X, Y, math.sqrt(m))
        g2 = sum(float(jnp.sum(leaf**2)) for leaf in jax.tree_util.tree_leaves(g))
        J = float(tl.least_squares_loss(th, X, Y, math.sqrt(m)))
        assert g2 / J >= 2 * float(tl.lambda_min(tl.ntk_gram(th, X, math.sqrt(m))))


def test_gram_is_singular_below_md_equals_n_and_converges_to_the_ntk():
    lam = tl.lambda_min_vs_width(jax.random.fold_in(KEY, 3), X, [2, 4, 5, 32, 2048], n_seeds=3)
    lam_inf = float(tl.lambda_min(K))
    # rank J <= m d (positive homogeneity): singular while m d < n = 16, even at
    # m = 5 where p = m (d + 1) = 20 > n
    assert np.all(np.abs(lam[:3]) < 1e-4)
    assert np.all(lam[3:] > 0)
    assert abs(lam[-1].mean() - lam_inf) < 0.15 * lam_inf
    # fluctuations shrink with the width
    assert lam[-1].std() < lam[3].std()


def test_linear_rate_is_predicted_by_lambda_min_and_bound_holds():
    p = tl.init_gaussian(jax.random.fold_in(KEY, 4), 1024, D)
    rc = tl.rate_vs_width(p, X, Y, [1024], GAMMA, n_steps=3000, window=1000)
    assert rc.violations.sum() == 0
    assert abs(rc.measured[0] - rc.from_end[0]) < 0.3 * rc.from_end[0]
    assert abs(rc.measured[0] - rc.from_start[0]) < 0.5 * rc.from_start[0]


def test_linearized_model_tracks_a_wide_network_better_than_a_narrow_one():
    """Early training (30 steps): the wide network's loss is its linearisation's, the narrow one's is not."""
    p = tl.init_gaussian(jax.random.fold_in(KEY, 4), 4096, D)
    gaps = {}
    for m in (8, 4096):
        a = math.sqrt(m)
        run = tl.train_gd(p, X, Y, a, GAMMA, 30, width=m)
        mask = (jnp.arange(4096) < m).astype(jnp.float32)
        lin = tl.linearized_losses(tl.ntk_gram(p, X, a, width=m), tl.network(p, X, a, mask) - Y, GAMMA, 30)
        gaps[m] = float(jnp.max(jnp.abs(jnp.log(run.losses / lin))))
    assert gaps[4096] < 0.05 and gaps[8] > 5 * gaps[4096], gaps


def test_lazy_training_weights_move_like_one_over_sqrt_width():
    widths = np.array([16, 256, 4096])
    lz = tl.laziness_vs_width(jax.random.fold_in(KEY, 5), X, Y, widths, n_seeds=1, step=GAMMA, n_steps=500)
    w_rel = lz.weights.mean(axis=1)
    slope = np.polyfit(np.log(widths), np.log(w_rel), 1)[0]
    assert -0.7 < slope < -0.35
    assert np.all(np.diff(lz.gram.mean(axis=1)) < 0) and lz.gram[-1, 0] < 0.02
    assert lz.loss_ratio[-1, 0] < 1e-2  # the loss still decreased


def test_mean_field_particles_find_the_teacher_and_narrow_networks_do_not():
    teacher = tl.teacher_problem()
    pm = tl.init_symmetric(jax.random.fold_in(KEY, 6), 64, scale=0.3)
    wide = tl.particle_flow(pm, teacher.X, teacher.y, width=64, alpha=1.0, dt=0.2, t_max=200.0)
    narrow = tl.particle_flow(pm, teacher.X, teacher.y, width=2, alpha=1.0, dt=0.2, t_max=200.0)
    assert float(wide.losses[-1]) < 1e-3 * float(wide.losses[0])
    assert tl.teacher_alignment(wide, teacher) > 0.6
    assert float(narrow.losses[-1]) > 0.1


def test_alpha_scaling_makes_features_lazy_while_the_risk_decreases():
    teacher = tl.teacher_problem()
    pm = tl.init_symmetric(jax.random.fold_in(KEY, 6), 64, scale=0.3)
    moves, ratios = [], []
    for a in (1.0, 30.0, 300.0):
        r = tl.particle_flow(pm, teacher.X, teacher.y, alpha=a, dt=0.2, t_max=100.0, n_records=11)
        moves.append(tl.relative_change(r.W[0], r.W[-1]))
        ratios.append(float(r.losses[-1] / r.losses[0]))
    assert moves[0] > 1.0 and moves[2] < 0.1
    # large alpha: displacement ~ 1/alpha (factor 10 in alpha, factor ~ 10 in displacement)
    assert 5.0 < moves[1] / moves[2] < 15.0
    assert all(q < 0.05 for q in ratios)


def test_width_widget_rate_from_lambda_min_at_a_wide_width_and_no_rate_when_narrow():
    """The width widget's comparison: m = 1024 follows the predicted linear rate, m = 8 stalls."""
    key_w = jax.random.fold_in(KEY, 3)
    p = tl.init_gaussian(jax.random.fold_in(key_w, 0), 2048, D)
    wide = tl_ch.width_rate(p, X, Y, 1024, GAMMA, 3000, window=1000)
    assert np.all(wide.losses <= wide.bound * (1 + 1e-4))
    assert abs(wide.measured - wide.from_end) < 0.15 * wide.from_end
    narrow = tl_ch.width_rate(p, X, Y, 8, GAMMA, 3000, window=1000)
    assert narrow.lam_start < 1e-3 and narrow.losses[-1] > 0.01 * narrow.losses[0]
