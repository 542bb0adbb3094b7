"""course_lib.autodiff: both modes against JAX on random programs, operation counts, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import ad_cost
from course_lib import autodiff as ad

# JAX computes in float32 here (the suite does not switch on x64 globally),
# our tape in float64: compare with a float32 tolerance.
RTOL, ATOL = 2e-4, 2e-5
N_PROGRAMS = 80


def _jax_fn(program):
    ops = ad.jax_ops()
    return lambda z: program(z, ops)


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_reverse_mode_matches_jax_grad_on_random_programs(seed):
    p = 1 + seed % 6
    program = ad.random_program(seed, p, n_ops=8 + seed % 10)
    x = np.random.default_rng(seed).normal(size=p)
    expected = np.asarray(jax.jit(jax.grad(_jax_fn(program)))(jnp.asarray(x, dtype=jnp.float32)))
    got = ad.grad(program)(x)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_forward_mode_matches_jax_jvp_on_random_programs(seed):
    p = 1 + seed % 6
    program = ad.random_program(seed, p, n_ops=8 + seed % 10)
    rng = np.random.default_rng(1000 + seed)
    x, v = rng.normal(size=p), rng.normal(size=p)
    jvp_j = jax.jit(lambda a, b: jax.jvp(_jax_fn(program), (a,), (b,)))
    val_j, tan_j = jvp_j(jnp.asarray(x, dtype=jnp.float32), jnp.asarray(v, dtype=jnp.float32))
    val, tan = ad.jvp(program, x, v)
    np.testing.assert_allclose(val, np.asarray(val_j), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(tan, np.asarray(tan_j), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", range(20))
def test_forward_gradient_equals_reverse_gradient(seed):
    p = 2 + seed % 4
    program = ad.random_program(seed, p)
    x = np.random.default_rng(seed).normal(size=p)
    g_fwd, _ = ad.grad_forward(program, x)
    np.testing.assert_allclose(g_fwd, ad.grad(program)(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_cheap_gradient_principle_on_random_programs(seed):
    """cost(f, grad f) <= 5 cost(f), in counted scalar operations (Baur-Strassen)."""
    p = 1 + seed % 6
    r = ad.reverse(ad.random_program(seed, p), np.random.default_rng(seed).normal(size=p))
    assert r.eval_counts.total > 0
    assert r.ratio <= 5.0


def test_elementwise_functions_and_vectors():
    def f(x):
        return ad.sum(ad.sin(x) * ad.cos(x) + ad.exp(x) / 3 + ad.log(x * x + 1.0) - ad.tanh(x) ** 2 + ad.relu(x))

    def fj(x):
        return jnp.sum(jnp.sin(x) * jnp.cos(x) + jnp.exp(x) / 3 + jnp.log(x * x + 1.0) - jnp.tanh(x) ** 2 + jax.nn.relu(x))

    x = np.array([-1.3, -0.2, 0.4, 2.1])
    np.testing.assert_allclose(ad.grad(f)(x), np.asarray(jax.grad(fj)(jnp.asarray(x))), rtol=RTOL, atol=ATOL)
    v = np.array([0.3, -1.0, 2.0, 0.5])
    _, t = ad.jvp(f, x, v)
    _, tj = jax.jvp(fj, (jnp.asarray(x),), (jnp.asarray(v),))
    np.testing.assert_allclose(t, np.asarray(tj), rtol=RTOL, atol=ATOL)


def test_scalar_broadcast_and_repeated_index():
    def f(x):
        s = x[0] * x[0] + x[0]          # x[0] used three times: adjoints accumulate
        return ad.sum(s * x) + ad.sum(x / (2.0 + x[1]))

    def fj(x):
        s = x[0] * x[0] + x[0]
        return jnp.sum(s * x) + jnp.sum(x / (2.0 + x[1]))

    x = np.array([0.7, 0.2, -0.5])
    np.testing.assert_allclose(ad.grad(f)(x), np.asarray(jax.grad(fj)(jnp.asarray(x))), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("p", [2, 3, 6, 11, 50])
def test_product_multiplication_counts(p):
    """Pauwels' example: p-1 multiplications for the value, (p-2) + (p-2) for the gradient."""
    x = np.linspace(0.5, 1.5, p)
    r = ad.reverse(ad.product, x)
    assert r.eval_counts.mul == p - 1
    assert r.backward_counts.mul == 2 * (p - 2)
    assert r.eval_counts.total == p - 1 and r.backward_counts.total == 2 * (p - 2)
    assert r.ratio <= 3.0
    expected = np.array([np.prod(np.delete(x, i)) for i in range(p)])
    np.testing.assert_allclose(r.grad, expected, rtol=1e-12)


def test_product_gradient_with_a_zero_factor():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_allclose(ad.grad(ad.product)(x), [0.0, 24.0, 0.0, 0.0])


def test_forward_mode_gradient_costs_p_jvps():
    theta = np.random.default_rng(0).normal(size=ad.mlp_size())
    r = ad.reverse(ad.mlp_loss, theta)
    g, counts = ad.grad_forward(ad.mlp_loss, theta)
    np.testing.assert_allclose(g, r.grad, rtol=1e-10)
    one = ad.forward(ad.mlp_loss, theta, np.eye(theta.size)[0])
    assert counts.total == theta.size * one.counts.total
    assert counts.total > theta.size * r.eval_counts.total      # at least p evaluations
    assert r.ratio <= 5.0                                       # reverse: a constant


def test_mlp_loss_matches_jax():
    theta = np.random.default_rng(3).normal(size=ad.mlp_size())
    expected = jax.grad(lambda t: ad.mlp_loss(t, ad.jax_ops()))(jnp.asarray(theta, dtype=jnp.float32))
    np.testing.assert_allclose(ad.grad(ad.mlp_loss)(theta), np.asarray(expected), rtol=RTOL, atol=ATOL)


def test_tape_grows_linearly_with_program_length():
    def program(L):
        def f(x):
            h = x[0]
            for _ in range(L):
                h = ad.tanh(h * x[1] + 0.1)
            return h
        return f

    sizes = [ad.reverse(program(L), np.array([0.3, 0.8])).stored_values for L in (10, 20, 40)]
    assert sizes[2] - sizes[1] == 2 * (sizes[1] - sizes[0])  # the same number of values per step


def test_control_flow_is_differentiated_through_the_executed_branch():
    def f(x):
        y = x[0]
        for _ in range(3):
            if y.value > 1.0:
                y = y * 0.5
            else:
                y = y * y + 1.0
        return y

    # x = 3: y -> 1.5 -> 0.75 -> 1.5625; derivative 0.5 * 0.5 * 2 * 0.75 = 0.375
    np.testing.assert_allclose(ad.grad(f)(np.array([3.0])), [0.375])


def test_scalar_input_and_constant_output():
    val, tan = ad.jvp(lambda x: x * x * x, 2.0, 1.0)
    assert val == pytest.approx(8.0) and tan == pytest.approx(12.0)
    np.testing.assert_allclose(ad.grad(lambda x: 3.0)(np.array([1.0, 2.0])), [0.0, 0.0])
    np.testing.assert_allclose(ad.grad(lambda x: x[1] * 0.0 + 1.0)(np.array([1.0, 2.0])), [0.0, 0.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ad.grad(ad.product)(np.ones((2, 2))), "x must be a scalar or a 1-D array"),
        (lambda: ad.grad(ad.product)(np.array([1.0, np.nan])), "x must contain only finite"),
        (lambda: ad.grad(ad.product)("abc"), "x must be a real scalar or 1-D array"),
        (lambda: ad.grad(lambda x: x * 2.0)(np.ones(3)), "f must return a scalar"),
        (lambda: ad.grad(3), "f must be a callable"),
        (lambda: ad.jvp(ad.product, np.ones(3), np.ones(2)), "v must have the shape of x"),
        (lambda: ad.grad(lambda x: x[0] ** x[1])(np.ones(2)), "exponent of \\*\\* must be a constant"),
        (lambda: ad.random_program(0, 0), "p must be a positive integer"),
        (lambda: ad_cost.straight_line_program(0, 3), "L must be a positive integer"),
        (lambda: ad_cost.checkpointed_program(10, 3, 3), "block must divide L"),
        (lambda: ad_cost.measure_ad(4, 4, direction="sideways"), "direction must be"),
        (lambda: ad_cost.fit_slope([1.0], [1.0]), "1-D of the same length"),
        (lambda: ad.mlp_loss(np.ones(3)), "theta must have size"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- measuring JAX's AD (memory only: deterministic) -------------------------------


def test_checkpointed_program_computes_the_same_function():
    x = jnp.linspace(-1.0, 1.0, 8)
    f = ad_cost.straight_line_program(16, 8)
    for block in (1, 4, 16):
        g = ad_cost.checkpointed_program(16, 8, block)
        np.testing.assert_allclose(float(g(x)), float(f(x)), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(jax.grad(g)(x)), np.asarray(jax.grad(f)(x)), rtol=1e-5, atol=1e-7)


def test_compiled_memory_is_deterministic():
    f = ad_cost.straight_line_program(32, 8)
    x = jnp.ones(8)
    assert ad_cost.compiled_memory(jax.grad(f), x) == ad_cost.compiled_memory(jax.grad(f), x) > 0


def test_fit_slope_recovers_a_power_law():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert ad_cost.fit_slope(x, 3 * x**1.5) == pytest.approx(1.5)
