"""course_lib.attention: rank measures, attention stacks, batch norm, the tiny transformer, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import attention as at

KEY = jax.random.PRNGKey(0)


def test_rank_measures_on_known_matrices():
    X = jnp.array([[1.0, 2.0, 3.0]] * 4)
    assert float(at.distance_to_rank_one(X)) == pytest.approx(0.0, abs=1e-7)
    assert float(at.mean_cosine(X)) == pytest.approx(1.0, abs=1e-6)
    assert float(at.stable_rank(X)) == pytest.approx(1.0, abs=1e-5)
    Z = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # rows sum to zero: no mean token
    assert float(at.distance_to_rank_one(Z)) == pytest.approx(1.0, abs=1e-6)
    D = jnp.diag(jnp.array([3.0, 2.0, 1.0]))
    assert float(at.stable_rank(D)) == pytest.approx((9 + 4 + 1) / 9, rel=1e-5)
    assert float(at.mean_cosine(jnp.eye(3))) == pytest.approx(0.0, abs=1e-7)
    batch = jnp.stack([X, Z[:, :1].repeat(3, axis=1)])
    assert at.distance_to_rank_one(batch).shape == (2,)


def test_attention_rows_are_stochastic_and_depth_masks_layers():
    d, n = 8, 5
    p = at.init_attention_stack(KEY, 6, d)
    assert p["W_Q"].shape == (6, d, d)
    X = jax.random.normal(jax.random.PRNGKey(1), (n, d))
    A = at.attention_matrix(X, p["W_Q"][0], p["W_K"][0])
    np.testing.assert_allclose(A.sum(axis=1), np.ones(n), rtol=1e-6)
    full = at.attention_stack(p, X, skip=1.0, tau=0.5)
    part = at.attention_stack(p, X, skip=1.0, tau=0.5, depth=3)
    assert full.shape == (7, n, d)
    np.testing.assert_allclose(part[3], full[3], rtol=1e-6)
    np.testing.assert_allclose(part[-1], full[3], rtol=1e-6)  # layers beyond depth are the identity
    one = X + 0.5 * at.self_attention(X, p["W_Q"][0], p["W_K"][0], p["W_V"][0])
    np.testing.assert_allclose(full[1], one, rtol=1e-5, atol=1e-6)


def test_uniform_attention_leaves_the_centred_part_unchanged():
    """With W_Q = W_K = 0 the attention is exactly uniform: the model behind uniform_attention_prediction."""
    d, n, L = 16, 6, 5
    p = at.init_attention_stack(KEY, L, d)
    p = {**p, "W_Q": jnp.zeros_like(p["W_Q"]), "W_K": jnp.zeros_like(p["W_K"])}
    X = jax.random.normal(jax.random.PRNGKey(2), (n, d))
    xs = at.attention_stack(p, X, skip=1.0, tau=1.0)
    centred = xs - xs.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(centred[-1], centred[0], rtol=1e-4, atol=1e-4)
    # the mean token is multiplied by (I + W_V) at each layer
    m = X.mean(axis=0)
    for l in range(L):
        m = m + m @ p["W_V"][l]
    np.testing.assert_allclose(xs[-1].mean(axis=0), m, rtol=1e-4, atol=1e-4)
    pred = at.uniform_attention_prediction(X, [0, 1, 2], 0.0)
    np.testing.assert_allclose(pred, float(at.distance_to_rank_one(X)) * np.ones(3), rtol=1e-5)


def test_batch_norm_standardises_columns_and_ignores_weight_scale():
    H = jax.random.normal(jax.random.PRNGKey(3), (10, 4)) * 3.0 + 1.0
    W = jax.random.normal(jax.random.PRNGKey(4), (4, 5))
    Z = at.batch_norm(H @ W)
    np.testing.assert_allclose(Z.mean(axis=0), np.zeros(5), atol=1e-5)
    np.testing.assert_allclose(Z.var(axis=0), np.ones(5), rtol=1e-3)
    np.testing.assert_allclose(at.batch_norm(H @ (7.0 * W)), Z, atol=1e-4)
    np.testing.assert_allclose(at.batch_norm(H @ W, gamma=2.0, beta=1.0), 2 * Z + 1, atol=1e-5)


def test_relu_cosine_map_fixed_point_and_values():
    assert float(at.relu_cosine_map(1.0)) == pytest.approx(1.0, abs=1e-6)
    assert float(at.relu_cosine_map(0.0)) == pytest.approx(1 / np.pi, rel=1e-6)
    r = jnp.linspace(-0.9, 0.9, 7)
    assert bool(jnp.all(at.relu_cosine_map(r) > r))  # cosines only increase: 1 is the only fixed point


def test_relu_cosines_follow_the_map_at_large_width():
    X = jax.random.normal(jax.random.PRNGKey(5), (8, 16))
    H = at.relu_representations(jax.random.PRNGKey(6), X, 6, 2048)
    assert H.shape == (6, 8, 2048)
    np.testing.assert_allclose(at.mean_cosine(H), at.relu_cosine_prediction(X, 6), atol=0.03)


def test_tiny_transformer_shapes_causality_and_group_norms():
    p = at.init_transformer(KEY, vocab=7, seq_len=5, d_model=8, n_layers=2, d_mlp=16)
    toks = jnp.array([[1, 2, 3, 4, 5], [1, 6, 0, 0, 2]])
    out = at.apply_transformer(p, toks)
    assert out.shape == (2, 5, 7)
    causal = at.apply_transformer(p, toks, causal=True)
    np.testing.assert_allclose(causal[0, :1], causal[1, :1], rtol=1e-5)  # same first token, later ones hidden
    assert not np.allclose(out[0, :1], out[1, :1])  # bidirectional: position 0 sees the rest

    def loss(q):
        return jnp.mean(at.apply_transformer(q, toks) ** 2)

    norms = at.group_norms(jax.grad(loss)(p))
    assert set(norms) == {"Q", "K", "V", "MLP", "embed"} and all(float(v) > 0 for v in norms.values())
    with pytest.raises(ValueError, match="missing"):
        at.group_norms({"W_Q": p["W_Q"]})


@pytest.mark.parametrize("call, msg", [
    (lambda: at.init_attention_stack(KEY, 0, 4), "depth"),
    (lambda: at.attention_stack(at.init_attention_stack(KEY, 2, 4), jnp.ones((3, 5))), r"X must have shape \(n, 4\)"),
    (lambda: at.attention_stack({"W_Q": jnp.ones((1, 2, 2))}, jnp.ones((3, 2))), "params"),
    (lambda: at.distance_to_rank_one(jnp.ones((1, 3))), "n >= 2"),
    (lambda: at.batch_norm(jnp.ones(4)), "H must have shape"),
    (lambda: at.relu_representations(KEY, jnp.ones((1, 3)), 2, 4), "batch of n >= 2"),
    (lambda: at.relu_representations(KEY, jnp.ones((3, 3)), 2, 0), "width"),
    (lambda: at.uniform_attention_prediction(jnp.ones((3, 2)), [1], -1.0), "tau"),
    (lambda: at.init_transformer(KEY, vocab=0, seq_len=3), "vocab"),
])
def test_bad_input_is_named(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
