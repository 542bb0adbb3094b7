"""course_lib.optimizers.amsgrad: same iterates as optax.amsgrad over 100 steps; the paper's form; input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from course_lib import optimizers as opt


def _loss(params):
    W, b = params["W"], params["b"]
    x = jnp.linspace(-1.0, 1.0, 6).reshape(3, 2)
    r = jnp.tanh(x @ W) @ jnp.ones(W.shape[1]) + b.sum() - jnp.array([0.5, -0.2, 1.0])
    return jnp.sum(r**2) + 0.3 * jnp.sum(W**2 * jnp.arange(1.0, W.size + 1).reshape(W.shape)) + 0.1 * jnp.sum(b**4)


PARAMS0 = {"W": jnp.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.7]]), "b": jnp.array([0.9, -0.4])}
GRAD = jax.jit(jax.grad(_loss))


@pytest.mark.parametrize("hyper", [dict(), dict(b1=0.8, b2=0.99, eps=1e-3), dict(b1=0.0, b2=0.9)])
def test_same_iterates_as_optax_amsgrad_over_100_steps(hyper):
    ours, ref = opt.amsgrad(0.02, **hyper), optax.amsgrad(0.02, **hyper)
    p, q = PARAMS0, PARAMS0
    s, t = ours.init(p), ref.init(q)
    for _ in range(100):
        u, s = ours.update(GRAD(p), s, p)
        p = opt.apply_updates(p, u)
        w, t = ref.update(GRAD(q), t, q)
        q = optax.apply_updates(q, w)
        for k in p:
            np.testing.assert_allclose(p[k], q[k], rtol=1e-5, atol=1e-6)


def test_denominator_never_decreases_while_adams_does():
    """After one large gradient, Adam's v decays and its step grows; AMSGrad keeps the maximum."""
    grads = [jnp.array([10.0])] + [jnp.array([-0.1])] * 30
    for make, grows in ((opt.adam, True), (opt.amsgrad, False)):
        o = make(1.0, b1=0.0, b2=0.9, eps=0.0, bias_correction=False)
        s, p, steps = o.init(jnp.zeros(1)), jnp.zeros(1), []
        for g in grads:
            u, s = o.update(g, s, p)
            steps.append(float(-u[0] / g[0]))  # effective step alpha / sqrt(v)
        inc = np.diff(steps[1:])
        assert bool(np.all(inc > 0)) == grows and bool(np.all(inc <= 1e-7)) != grows


def test_paper_form_without_bias_correction():
    o = opt.amsgrad(0.1, b1=0.5, b2=0.5, eps=0.0, bias_correction=False)
    s = o.init(jnp.zeros(1))
    u, s = o.update(jnp.array([2.0]), s, None)
    # m = 0.5 * 2 = 1, v = 0.5 * 4 = 2, step -0.1 * 1 / sqrt(2)
    assert float(u[0]) == pytest.approx(-0.1 / 2**0.5, rel=1e-6)
    u, s = o.update(jnp.array([0.0]), s, None)
    # m = 0.5, v = 1 but v_max stays 2
    assert float(u[0]) == pytest.approx(-0.1 * 0.5 / 2**0.5, rel=1e-6)


@pytest.mark.parametrize("kw, msg", [(dict(learning_rate=0.0), "learning_rate"), (dict(learning_rate=0.1, b1=1.0), "b1"),
                                     (dict(learning_rate=0.1, b2=-0.1), "b2"), (dict(learning_rate=0.1, eps=-1.0), "eps")])
def test_bad_hyperparameters_are_named(kw, msg):
    with pytest.raises(ValueError, match=msg):
        opt.amsgrad(**kw)
