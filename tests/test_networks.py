"""course_lib.networks: the digits MLP with dropout and batch norm, and its training loop (small sizes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import networks as nw


@pytest.fixture(scope="module")
def data():
    return nw.load_digits()


def test_digits_split(data):
    assert data.X_train.shape == (1300, 64) and data.X_test.shape == (497, 64)
    assert float(data.X_train.min()) >= 0.0 and float(data.X_train.max()) <= 1.0
    assert set(np.unique(np.asarray(data.y_test))) == set(range(10))


def test_mlp_shapes_and_cross_entropy(data):
    params, bn = nw.init_mlp(jax.random.PRNGKey(0), (64, 32, 16, 10), batchnorm=True)
    assert [W.shape for W in params["W"]] == [(64, 32), (32, 16), (16, 10)] and len(params["gamma"]) == 2
    logits, _ = nw.apply_mlp(params, bn, data.X_train[:7])
    assert logits.shape == (7, 10)
    # cross-entropy of uniform logits is log 10
    assert float(nw.cross_entropy(jnp.zeros((5, 10)), jnp.arange(5))) == pytest.approx(np.log(10), rel=1e-6)


def test_batchnorm_couples_examples_in_training_mode_only(data):
    params, bn = nw.init_mlp(jax.random.PRNGKey(1), batchnorm=True)
    tm, ev = nw.batch_dependence(params, bn, data, jax.random.PRNGKey(2), index=5, batch_size=16, n_batches=20)
    assert tm.shape == (20, 10) and ev.shape == (10,)
    assert float(jnp.std(tm, axis=0).max()) > 1e-3  # the prediction changes with the other images of the batch
    # evaluation mode: an example's logits do not depend on its batch
    a, _ = nw.apply_mlp(params, bn, data.X_train[:16])
    b, _ = nw.apply_mlp(params, bn, data.X_train[5:16])
    np.testing.assert_allclose(a[5:], b, rtol=1e-5, atol=1e-5)
    # without batch norm, training mode (no dropout) equals evaluation mode
    params, bn = nw.init_mlp(jax.random.PRNGKey(1))
    tm, ev = nw.batch_dependence(params, bn, data, jax.random.PRNGKey(2), index=5, batch_size=16, n_batches=5)
    np.testing.assert_allclose(tm, jnp.broadcast_to(ev, tm.shape), rtol=1e-5, atol=1e-6)


def test_dropout_zeroes_units_and_keeps_the_mean(data):
    params, bn = nw.init_mlp(jax.random.PRNGKey(3), (64, 256, 10))
    X = data.X_train[:200]
    out = jnp.stack([nw.apply_mlp(params, bn, X, train=True, key=k, dropout=0.5)[0]
                     for k in jax.random.split(jax.random.PRNGKey(4), 40)])
    ev, _ = nw.apply_mlp(params, bn, X)
    assert float(jnp.abs(out[0] - ev).max()) > 0.1
    # inverted dropout: the average over masks approaches the evaluation output
    assert float(jnp.abs(out.mean(0) - ev).mean()) < 0.25 * float(jnp.abs(out[0] - ev).mean())


def test_training_learns_and_grid_matches_single_runs(data):
    key = jax.random.PRNGKey(0)
    h = nw.train("adam", data, key, learning_rate=3e-3, n_epochs=4, hidden=32)
    assert h.train_loss.shape == (5,) and h.step_loss.shape == (4 * (1300 // 64),)
    assert float(h.train_loss[-1]) < 0.3 * float(h.train_loss[0]) and float(h.test_acc[-1]) > 0.85
    assert not bool(h.diverged)
    keys = jax.random.split(jax.random.PRNGKey(5), 2)
    g = nw.train_grid("adam", data, keys, jnp.array([1e-3, 3e-3]), n_epochs=4, hidden=32)
    assert g.test_acc.shape == (2, 2, 5)
    single = nw.train("adam", data, keys[1], learning_rate=3e-3, n_epochs=4, hidden=32)
    np.testing.assert_allclose(g.train_loss[1, 1], single.train_loss, rtol=1e-4)


def test_one_program_for_every_optimizer_and_variant(data):
    """Optimizer, batch norm, dropout and augmentation are data: no new compilation after the first run."""
    key = jax.random.PRNGKey(4)
    plain = nw.train("sgd", data, key, learning_rate=0.1, n_epochs=2, hidden=16)
    before = nw._train_jit._cache_size()
    nw.train("rprop", data, key, learning_rate=0.01, n_epochs=2, hidden=16)
    bn = nw.train("adam", data, key, learning_rate=0.003, n_epochs=2, hidden=16, batchnorm=True, dropout=0.2)
    nw.train_grid("adadelta", data, jax.random.split(key, 2), jnp.array([0.3, 1.0]), n_epochs=2, hidden=16, max_shift=1)
    assert nw._train_jit._cache_size() == before
    assert set(plain.params) == {"W", "b"} and plain.bn_state == {"mean": [], "var": []}
    assert set(bn.params) == {"W", "b", "gamma", "beta"} and len(bn.bn_state["mean"]) == 1


def test_training_with_batchnorm_dropout_and_divergence(data):
    h = nw.train("heavy_ball", data, jax.random.PRNGKey(1), learning_rate=0.05, beta=0.9, n_epochs=3, hidden=32,
                 batchnorm=True, dropout=0.1)
    assert float(h.test_acc[-1]) > 0.85 and float(h.train_loss[-1]) < float(h.train_loss[0])
    bad = nw.train("sgd", data, jax.random.PRNGKey(1), learning_rate=1e30, n_epochs=2, hidden=32)
    assert bool(bad.diverged) and bool(jnp.isinf(bad.train_loss[-1]))
    assert all(bool(jnp.all(jnp.isfinite(W))) for W in bad.params["W"])


def test_input_checks(data):
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="name"):
        nw.train("lbfgs", data, key, learning_rate=0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        nw.train("sgd", data, key, learning_rate=0.0)
    with pytest.raises(ValueError, match="dropout"):
        nw.train("sgd", data, key, learning_rate=0.1, dropout=1.0)
    with pytest.raises(ValueError, match="data"):
        nw.train("sgd", (data.X_train, data.y_train), key, learning_rate=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        nw.train("sgd", data, key, learning_rate=0.1, batch_size=5000)
    with pytest.raises(ValueError, match="learning_rates"):
        nw.train_grid("sgd", data, jax.random.split(key, 2), jnp.array([0.1, -1.0]))
    with pytest.raises(ValueError, match="sizes"):
        nw.init_mlp(key, (64,))
    with pytest.raises(ValueError, match="index"):
        nw.batch_dependence(*nw.init_mlp(key, batchnorm=True), data, key, index=10_000)


def test_shift_images_moves_each_image_by_at_most_max_shift():
    X = jnp.zeros((50, 64)).at[:, 3 * 8 + 4].set(1.0)  # one lit pixel at row 3, column 4
    Y = nw.shift_images(jax.random.PRNGKey(0), X, 1)
    assert Y.shape == (50, 64) and np.allclose(np.asarray(Y.sum(axis=1)), 1.0)  # inner pixel: nothing cut off
    r, c = np.divmod(np.asarray(jnp.argmax(Y, axis=1)), 8)
    assert set(r) == {2, 3, 4} and set(c) == {3, 4, 5}  # all nine shifts occur, none larger than one pixel
    np.testing.assert_array_equal(nw.shift_images(jax.random.PRNGKey(0), X, 0), X)
    with pytest.raises(ValueError, match="max_shift"):
        nw.shift_images(jax.random.PRNGKey(0), X, 8)
    with pytest.raises(ValueError, match="X"):
        nw.shift_images(jax.random.PRNGKey(0), jnp.zeros((5, 63)), 1)


def test_augmentation_study_states_what_the_chapter_measures(data):
    # The chapter's claim (10 epochs, 4 seeds, hidden 64): one-pixel shifts shrink the gap between test and
    # training loss but raise the test loss and lower the test accuracy, for every seed.  Same claim, smaller size.
    r = nw.augmentation_study(data, jax.random.split(jax.random.PRNGKey(7), 2), n_epochs=4, hidden=32)
    assert r.test_acc_plain.shape == (2,) and r.curves_aug.shape == (2, 5)
    assert bool(jnp.all(r.test_loss_aug > r.test_loss_plain)) and bool(jnp.all(r.test_acc_aug < r.test_acc_plain))
    gap_plain, gap_aug = r.test_loss_plain - r.train_loss_plain, r.test_loss_aug - r.train_loss_aug
    assert bool(jnp.all(gap_aug < gap_plain))
    with pytest.raises(ValueError, match="max_shift"):
        nw.augmentation_study(data, jax.random.split(jax.random.PRNGKey(7), 2), max_shift=0)
