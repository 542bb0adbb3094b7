"""The comparisons of the chapter "Deep-learning optimizers", asserted at small sizes with the same course_lib calls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import networks as nw
from course_lib import optimizers as opt


def _rate(run):
    return opt.convergence_rate(jnp.linalg.norm(run.params, axis=1))


def test_momentum_rates_measured_vs_predicted():
    mu, L = 1.0, 100.0
    w3 = jnp.array([mu, 10.0, L])
    lr_gd, rate_gd = opt.gd_optimal(mu, L)
    lr_hb, beta_hb, rate_hb = opt.heavy_ball_optimal(mu, L)
    gd = _rate(opt.run("sgd", opt.rotated_quadratic, jnp.ones(3), 300, learning_rate=lr_gd, args=(w3,)))
    hb = _rate(opt.run("heavy_ball", opt.rotated_quadratic, jnp.ones(3), 300, learning_rate=lr_hb, beta=beta_hb, args=(w3,)))
    nest = _rate(opt.run("nesterov", opt.rotated_quadratic, jnp.ones(3), 300, learning_rate=1 / L, beta=9 / 11, args=(w3,)))
    assert gd == pytest.approx(rate_gd, abs=2e-3)
    assert hb == pytest.approx(rate_hb, abs=0.02) and hb < gd
    assert nest == pytest.approx(1 - (mu / L) ** 0.5, abs=0.01)
    # the sweep at alpha = 1/L: measured within 0.01 of the companion-matrix rate
    for b in (0.0, 0.4, 0.8, 0.9):
        r = _rate(opt.run("heavy_ball", opt.rotated_quadratic, jnp.ones(3), 300, learning_rate=1 / L, beta=b, args=(w3,)))
        assert abs(r - opt.heavy_ball_rate(1 / L, b, w3)) < 0.01


def test_conditioning_gd_steps_grow_with_kappa_adam_steps_do_not():
    x0 = jnp.array([1.0, 1.0])

    def steps_to(losses, tol=1e-4):
        hit = np.nonzero(np.asarray(losses) <= tol * float(losses[0]))[0]
        return int(hit[0])

    adam_steps = []
    for kap in (10.0, 100.0, 1000.0):
        wk = jnp.array([1.0, kap])
        gd = steps_to(opt.run("sgd", opt.rotated_quadratic, x0, 3000, learning_rate=2 / (1 + kap), args=(wk,)).losses)
        pred = np.log(1e4) / (2 * np.log((kap + 1) / (kap - 1)))
        assert abs(gd - pred) <= 0.02 * pred + 1
        adam_steps.append(steps_to(opt.run("adam", opt.rotated_quadratic, x0, 300, learning_rate=0.01, args=(wk,)).losses))
    assert max(adam_steps) - min(adam_steps) <= 2


def test_weight_decay_vs_l2_claims():
    w, c, lam = jnp.array([1.0, 10.0, 100.0]), jnp.array([3.0, -0.5, 2.5]), 0.5
    ridge = w * c / (w + lam)
    runs = {}
    for name, kw in (("sgd", dict(learning_rate=0.005)), ("heavy_ball", dict(learning_rate=0.002, beta=0.9)),
                     ("adam", dict(learning_rate=0.01))):
        for mode in ("l2", "decay"):
            runs[name, mode] = opt.run(name, opt.rotated_quadratic, jnp.zeros(3), 3000, l2=lam, l2_mode=mode,
                                       args=(w, 0.0, c), **kw).params
    assert float(jnp.abs(runs["sgd", "l2"] - runs["sgd", "decay"]).max()) < 1e-4
    for name in ("sgd", "heavy_ball", "adam"):
        assert float(jnp.abs(runs[name, "l2"][-1] - ridge).max()) < 1e-4
    weaker = w * c / (w + lam * (1 - 0.9))
    assert float(jnp.abs(runs["heavy_ball", "decay"][-1] - weaker).max()) < 1e-4
    adamw = runs["adam", "decay"][-1]
    assert float(jnp.abs(adamw - ridge).max()) > 0.5 and float(jnp.abs(adamw).max()) < 1 / lam


@pytest.fixture(scope="module")
def data():
    return nw.load_digits()


def test_network_trains_and_batchnorm_couples_examples(data):
    key = jax.random.PRNGKey(0)
    h = nw.train("adam", data, key, learning_rate=0.003, n_epochs=4)
    assert float(h.test_acc[-1]) > 0.9
    h_bn = nw.train("adam", data, key, learning_rate=0.003, n_epochs=4, batchnorm=True, dropout=0.2)
    assert float(h_bn.test_acc[-1]) > 0.9
    tm, ev = nw.batch_dependence(h_bn.params, h_bn.bn_state, data, jax.random.PRNGKey(3), batch_size=32, n_batches=50)
    label = int(data.y_train[0])
    assert float(tm[:, label].max() - tm[:, label].min()) > 0.02


def test_tuning_changes_the_ranking(data):
    """At default steps the heavy ball is clearly ahead of Adam; tuned, the two are within a few percent."""
    seeds = jax.random.split(jax.random.PRNGKey(11), 2)
    hb = nw.train_grid("heavy_ball", data, seeds, jnp.array([0.01, 0.1, 0.3]), n_epochs=4, beta=0.9)
    ad = nw.train_grid("adam", data, seeds, jnp.array([1e-3, 1e-2, 3e-2]), n_epochs=4)
    hb_final, ad_final = np.asarray(hb.test_loss[:, :, -1]).mean(0), np.asarray(ad.test_loss[:, :, -1]).mean(0)
    assert ad_final[0] > 1.2 * hb_final[0]                             # defaults: heavy ball clearly ahead
    assert abs(hb_final.min() - ad_final.min()) < 0.1 * ad_final.min()  # tuned: a tie
    assert hb_final.min() < 0.5 * hb_final[0] and ad_final.min() < 0.5 * ad_final[0]
