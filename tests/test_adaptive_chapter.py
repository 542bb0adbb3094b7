"""The comparisons of the chapter "Adaptive methods, normalization and attention", at small sizes,
with the same course_lib calls."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from course_lib import attention as at
from course_lib.chapters import adaptive as ca


def test_adam_fails_on_reddis_problem_and_amsgrad_does_not():
    T = 20_000
    adam = ca.reddi_online("adam", T, alpha=0.5, b1=0.9, b2=0.99)
    ams = ca.reddi_online("amsgrad", T, alpha=0.5, b1=0.9, b2=0.99)
    assert float(adam.x[-1]) > 0.95  # the worst point of F
    assert float(ams.x[-1]) < -0.7  # heading for the optimum -1
    limit = ca.reddi_limit_regret()
    assert limit == pytest.approx(20 / 101)
    assert float(adam.avg_regret[-1]) > limit  # Adam's average regret does not go below the value at x = +1
    assert float(ams.avg_regret[-1]) < 0.8 * float(adam.avg_regret[-1])
    # why: Adam's effective step grows between the large gradients, AMSGrad's never does
    e_adam, e_ams = np.diff(np.asarray(adam.effective_step)[1000:]), np.diff(np.asarray(ams.effective_step)[1000:])
    assert np.mean(e_adam > 0) > 0.9 and np.all(e_ams <= 1e-12)


def test_defossez_bound_holds_and_average_decreases():
    d, eps, x0 = 2, 0.01, 2.5
    Ns = 2 ** np.arange(3, 13)
    for j, (alpha, sigma) in enumerate(((0.1, 0.5), (0.5, 2.0))):
        sq = np.asarray(ca.adagrad_nonconvex(jax.random.PRNGKey(j), n_chains=16, n_steps=int(Ns[-1]), d=d,
                                             alpha=alpha, sigma=sigma, eps=eps, x0=x0))
        avg = (np.cumsum(sq) / np.arange(1, sq.size + 1))[Ns - 1]
        bound = ca.adagrad_bound(Ns, d=d, R=1 + sigma + eps**0.5, L=1.0, alpha=alpha, eps=eps, gap=d * (1 - np.cos(x0)))
        assert np.all(avg < bound)
        assert avg[-1] < 0.1 * avg[0]


@pytest.fixture(scope="module")
def stack():
    X = jax.random.normal(jax.random.PRNGKey(1), (8, 32))
    return at.init_attention_stack(jax.random.PRNGKey(0), 16, 32), X


def test_rank_collapses_with_depth_without_residual_scaling_and_not_with_it(stack):
    p, X = stack
    d0 = float(at.distance_to_rank_one(X))
    pure = np.asarray(at.distance_to_rank_one(at.attention_stack(p, X, skip=0.0)))
    one = np.asarray(at.distance_to_rank_one(at.attention_stack(p, X, skip=1.0, tau=1.0)))
    scaled = np.asarray(at.distance_to_rank_one(at.attention_stack(p, X, skip=1.0, tau=1 / 4.0)))
    assert pure[6] < 1e-3 * d0
    assert one[-1] < 0.2 * d0 and np.all(np.diff(one[5:]) < 0)
    assert scaled.min() > 0.9 * d0
    pred = at.uniform_attention_prediction(X, [16], 1 / 4.0)[0]
    assert abs(scaled[-1] - pred) < 0.05


def test_query_key_gradients_vanish_with_collapse_value_gradients_do_not(stack):
    p, X = stack
    key = jax.random.PRNGKey(2)
    pure = np.asarray(at.stack_gradient_norms(p, X, key, skip=0.0))
    scaled = np.asarray(at.stack_gradient_norms(p, X, key, skip=1.0, tau=0.25))
    assert pure[:2, 8:].max() < 1e-6 * pure[2, 8:].min()
    assert pure[0, 0] > 0.05 * pure[2, 0]
    assert np.all(scaled[:2] > 0.1 * scaled[2])


def test_batch_norm_keeps_the_rank_plain_relu_collapses():
    X = jax.random.normal(jax.random.PRNGKey(3), (16, 16))
    plain = at.relu_representations(jax.random.PRNGKey(4), X, 30, 128)
    bn = at.relu_representations(jax.random.PRNGKey(4), X, 30, 128, batchnorm=True)
    assert float(at.stable_rank(plain[-1])) < 1.1
    assert float(at.stable_rank(bn).min()) > 2.0
    assert float(at.mean_cosine(bn).max()) < 0.5
    assert float(np.max(np.abs(np.asarray(at.mean_cosine(plain)) - np.asarray(at.relu_cosine_prediction(X, 30))))) < 0.08


def test_tuned_adam_beats_tuned_momentum_sgd_on_the_tiny_transformer():
    grid = 4.0 ** np.arange(-3, 1)  # 1/64 .. 1
    lrs = np.concatenate([grid, grid])
    ada = np.r_[np.zeros(grid.size), np.ones(grid.size)].astype(bool)
    runs = ca.train_tiny_transformer(jax.random.PRNGKey(0), lrs, ada, n_seeds=2, n_steps=150)
    assert runs.loss.shape == (8, 2, 150) and runs.group_norms.shape == (8, 2, 150, len(ca.GROUPS))
    final, per_seed = ca.tuned(runs)
    sgd, adam = int(np.argmin(final[:4])), 4 + int(np.argmin(final[4:]))
    # tuned on the same grid, Adam ends with a much smaller loss, for every seed
    assert final[adam] < 0.3 * final[sgd]
    assert np.all(per_seed[adam] < per_seed[sgd])
    # the gap is on the rare tokens: frequent ones are learnt by both
    cls = np.nanmean(np.asarray(runs.class_loss), axis=1)
    count = np.asarray(runs.class_count)
    rare = count < np.quantile(count, 0.25)
    assert cls[sgd, rare].mean() > 3 * cls[adam, rare].mean()
    assert cls[sgd, :4].mean() < 0.5 * cls[sgd, rare].mean()
    # disproportionate gradient norms at initialisation: queries and keys get far smaller gradients than values
    g0 = np.asarray(runs.group_norms)[0, :, 0]
    q, k, v = (g0[:, ca.GROUPS.index(n)] for n in ("Q", "K", "V"))
    assert np.all(q < 0.5 * v) and np.all(k < 0.5 * v)
    # the imbalance is not needed for the gap: with uniform tokens (zipf traced, no recompilation) it stays
    uni, _ = ca.tuned(ca.train_tiny_transformer(jax.random.PRNGKey(0), lrs, ada, n_seeds=2, n_steps=150, zipf=0.0))
    assert uni[4:].min() < 0.3 * uni[:4].min()


def test_train_tiny_transformer_rejects_bad_input():
    with pytest.raises(ValueError, match="adaptive"):
        ca.train_tiny_transformer(jax.random.PRNGKey(0), [0.1, 0.2], [True], n_steps=2)
    with pytest.raises(ValueError, match="learning_rates"):
        ca.train_tiny_transformer(jax.random.PRNGKey(0), [0.1, -0.2], [True, False], n_steps=2)


def test_decoupled_least_squares_obeys_the_bound_of_gradient_descent_and_keeps_its_order():
    key, kappa, d, T = jax.random.PRNGKey(0), 100.0, 16, 1500
    k = np.array([kappa])
    best = 2 * k / (k + 1)  # 2/(L + mu) with L = 1, mu = 1/kappa
    gd = np.asarray(ca.gd_least_squares(key, k, best, d=d, n_steps=T))
    dec = np.asarray(ca.decoupled_least_squares(key, k, [1.0], d=d, n_steps=T))  # eta = 1/L
    dec_best = np.asarray(ca.decoupled_least_squares(key, k, best, d=d, n_steps=T))  # eta = 2/(L + mu)
    assert gd.shape == dec.shape == (1, T)
    r_gd, r_dec, r_dec_best = (float(ca.linear_rate(x)[0]) for x in (gd, dec, dec_best))
    q_best, q_one = ((kappa - 1) / (kappa + 1)) ** 2, (1 - 1 / kappa) ** 2
    # plain gradient descent with its best constant step: measured rate within 2 % (in log) of the prediction
    assert abs(np.log(r_gd) / np.log(q_best) - 1) < 0.02
    # the decoupled method obeys, step by step, the bound of gradient descent with the same step
    # (above float32 round-off, 1e-8 of the initial suboptimality)
    for x, q in ((dec[0], q_one), (dec_best[0], q_best)):
        keep = x[1:] > 1e-8 * x[0]
        assert keep.sum() > 100
        assert np.all((x[1:] / x[:-1])[keep] <= q * (1 + 1e-3))
    # ... so with the step 1/L it is clearly slower than tuned plain gradient descent,
    assert np.log(r_dec) / np.log(r_gd) < 0.8
    # and with the same best step it is no slower, and at most 1.5 times as fast (the same order: no
    # acceleration in kappa on least squares)
    assert 0.98 < np.log(r_dec_best) / np.log(r_gd) < 1.5


def test_least_squares_study_rejects_bad_input():
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="kappas"):
        ca.gd_least_squares(key, [0.5], [1.0], n_steps=2)
    with pytest.raises(ValueError, match="etas"):
        ca.decoupled_least_squares(key, [10.0, 100.0], [1.0], n_steps=2)
    with pytest.raises(ValueError, match="kappa"):
        ca.least_squares_instance(key, float("nan"))
    with pytest.raises(ValueError, match="low"):
        ca.linear_rate(np.ones((2, 20)), low=0.5, high=0.1)
