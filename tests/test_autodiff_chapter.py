"""The claims of the chapter "Algorithmic differentiation", at small sizes.

Memory comes from XLA's compiled memory analysis and costs from operation
counts, never from wall-clock time (timing lives in the chapter's figures).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import ad_cost
from course_lib import autodiff as ad

L_GRID = [16, 32, 64, 128]
P_GRID = [8, 16, 32, 64]


@pytest.fixture(scope="module")
def by_L():
    return [ad_cost.measure_ad(L, 16, timing=False) for L in L_GRID]


@pytest.fixture(scope="module")
def by_p():
    return [ad_cost.measure_ad(16, p, timing=False) for p in P_GRID]


def _series(results, mode):
    return [r[mode]["memory"] for r in results]


def test_reverse_mode_memory_is_linear_in_L(by_L):
    assert ad_cost.fit_slope(L_GRID, _series(by_L, "reverse")) == pytest.approx(1.0, abs=0.1)


def test_forward_mode_and_evaluation_memory_do_not_depend_on_L(by_L):
    for mode in ("eval", "forward"):
        mem = _series(by_L, mode)
        assert max(mem) == min(mem), mode


def test_memory_exponents_in_p(by_p):
    """Table: evaluation p, forward AD p^2, reverse AD L p."""
    assert ad_cost.fit_slope(P_GRID, _series(by_p, "forward")) == pytest.approx(2.0, abs=0.15)
    assert ad_cost.fit_slope(P_GRID, _series(by_p, "reverse")) == pytest.approx(1.0, abs=0.15)
    assert ad_cost.fit_slope(P_GRID, _series(by_p, "eval")) < 1.2


def test_reversed_situation_for_a_curve():
    """c: R -> R^p: forward mode needs far less memory than reverse mode."""
    grad_case = ad_cost.measure_ad(64, 16, timing=False)
    curve = ad_cost.measure_ad(64, 16, direction="curve", timing=False)
    assert curve["forward"]["memory"] * 10 < curve["reverse"]["memory"]
    assert grad_case["reverse"]["memory"] > curve["forward"]["memory"]


def test_product_counts_p_minus_1_then_2_times_p_minus_2():
    r = ad.reverse(ad.product, np.linspace(0.9, 1.1, 6))
    assert (r.eval_counts.mul, r.backward_counts.mul) == (5, 8)
    assert r.ratio <= 5.0


def test_cheap_gradient_on_the_mlp_loss_and_forward_mode_is_p_times_dearer():
    theta = np.random.default_rng(0).normal(size=ad.mlp_size())
    r = ad.reverse(ad.mlp_loss, theta)
    _, c_fwd = ad.grad_forward(ad.mlp_loss, theta)
    assert r.ratio <= 5.0
    assert c_fwd.total / r.eval_counts.total > theta.size


def test_mlp_flop_ratio_in_xla_is_below_five():
    def loss(params, X, y):
        W1, b1, w2 = params
        return jnp.mean((jnp.tanh(X @ W1 + b1) @ w2 - y) ** 2)

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    X = jax.random.normal(k1, (64, 8))
    y = jnp.sin(X[:, 0])
    params = (jax.random.normal(k2, (8, 16)), jnp.zeros(16), jax.random.normal(k3, (16,)))
    flops = [jax.jit(fn).lower(params, X, y).compile().cost_analysis()["flops"]
             for fn in (loss, jax.value_and_grad(loss))]
    assert flops[1] / flops[0] <= 5.0


def test_checkpointing_reduces_memory_with_a_minimum_near_sqrt_L():
    L, p = 64, 16
    x = jnp.linspace(-1.0, 1.0, p)
    plain = ad_cost.compiled_memory(jax.grad(ad_cost.straight_line_program(L, p)), x)
    blocks = [1, 2, 4, 8, 16, 64]
    mem = [ad_cost.compiled_memory(jax.grad(ad_cost.checkpointed_program(L, p, b)), x) for b in blocks]
    best = int(np.argmin(mem))
    assert mem[best] * 2 < plain
    assert 2 <= blocks[best] <= 16
    # the model 4 p (L/B + 2B) bytes is a lower estimate within a factor 2
    for b, m in zip(blocks, mem):
        model = 4 * p * (L / b + 2 * b)
        assert model * 0.9 <= m <= 2 * model + 4 * p * 8, (b, m, model)


def test_custom_vjp_softplus_is_stable_and_correct():
    @jax.custom_vjp
    def softplus(x):
        return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))

    softplus.defvjp(lambda x: (softplus(x), x), lambda x, u: (u * jax.nn.sigmoid(x),))
    naive = lambda x: jnp.log(1.0 + jnp.exp(x))  # noqa: E731
    assert np.isnan(float(jax.grad(naive)(100.0)))
    assert float(jax.grad(softplus)(100.0)) == pytest.approx(1.0)
    xs = jnp.linspace(-3.0, 3.0, 7)
    np.testing.assert_allclose(jax.vmap(jax.grad(softplus))(xs), jax.vmap(jax.grad(naive))(xs), rtol=1e-5)


def test_differentiating_a_loop_with_a_conditional():
    def heron_sqrt(x):
        a = x[0]
        y = a if a.value > 1 else 1.0 + 0 * a
        for _ in range(50):
            y_new = 0.5 * (y + a / y)
            if abs(float(y_new.value - y.value)) < 1e-14:
                break
            y = y_new
        return y_new

    for a in (0.25, 2.0, 10.0):
        assert ad.grad(heron_sqrt)(np.array([a]))[0] == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
