r"""Self-attention stacks, a tiny transformer, rank collapse and batch normalization at initialisation.

Tokens are the rows of a matrix :math:`X\in\mathbb{R}^{n\times d}` (``n`` tokens of width ``d``).
One head of **self-attention** :cite:`vaswani2017attention` is

.. math::

   \operatorname{SA}(X) = A(X)\,X W_V,\qquad
   A(X) = \operatorname{softmax}_{\text{rows}}\Bigl(\frac{X W_Q (X W_K)^\top}{\sqrt d}\Bigr),

and a stack of :math:`L` layers with residual branches scaled by :math:`\tau` is
:math:`X_{l+1} = s\,X_l + \tau\,\operatorname{SA}_l(X_l)` (:func:`attention_stack`; ``skip`` :math:`s = 0`
is *pure* attention).  Weights are Gaussian with variance :math:`1/d`, so that
:math:`\mathbb{E}\|x W\|^2 = \|x\|^2`.

**Rank collapse** :cite:`dong2021attention,noci2022signal`: the rows of :math:`X_l`
become equal as :math:`l` grows.  :func:`distance_to_rank_one` measures
:math:`\|X - \mathbf 1\bar x^\top\|_F/\|X\|_F` (0 when every token is the mean token
:math:`\bar x`), :func:`stable_rank` :math:`\|X\|_F^2/\|X\|_2^2`, :func:`mean_cosine` the
average cosine between distinct rows.  If every attention matrix were uniform,
:math:`A = \tfrac1n\mathbf 1\mathbf 1^\top`, the centred part
:math:`Y = X - \mathbf 1\bar x^\top` would pass through a residual layer unchanged while
:math:`\mathbb{E}\|\bar x_{l+1}\|^2 = (1+\tau^2)\|\bar x_l\|^2`, so
:math:`\|Y_L\|_F^2/\|X_L\|_F^2 = \|Y_0\|_F^2/(\|Y_0\|_F^2 + n\|\bar x_0\|^2(1+\tau^2)^L)`
(:func:`uniform_attention_prediction`): with :math:`\tau = 1` the tokens collapse
exponentially in :math:`L`, with :math:`\tau = 1/\sqrt L` the factor stays below :math:`e`.
When the tokens are equal, :math:`A` is uniform whatever :math:`W_Q, W_K`, so the
gradients of the queries and keys vanish while those of the values do not
(:func:`stack_gradient_norms`).

**Batch normalization** :cite:`ioffe2015batch` standardises every column of a batch
of representations (:func:`batch_norm`).  In a deep ReLU network at He initialisation
the cosine between the representations of two inputs follows, at infinite width, the
arc-cosine map :math:`\rho\mapsto\kappa(\rho)` of :func:`relu_cosine_map`
:cite:`cho2009kernel`, whose fixed point is 1: the batch collapses to rank one.  With
batch normalization before each ReLU it does not :cite:`daneshmand2020batch`
(:func:`relu_representations`).  Batch norm makes a layer invariant to the scale of its
weights, :math:`\operatorname{bn}(H\,cW) = \operatorname{bn}(HW)` for :math:`c > 0`, the
length--direction decoupling studied by Kohler et al. :cite:`kohler2019exponential`.

The **tiny transformer** (:func:`init_transformer`, :func:`apply_transformer`) has token
and position embeddings, ``n_layers`` pre-norm blocks
:math:`X \leftarrow X + \operatorname{SA}(\operatorname{ln}X)`,
:math:`X \leftarrow X + \operatorname{MLP}(\operatorname{ln}X)` and a linear read-out;
:func:`group_norms` sums squared gradients by parameter group (Q, K, V, MLP, ...).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._checks import finite_array, nonnegative, positive_int

__all__ = [
    "init_attention_stack",
    "attention_matrix",
    "self_attention",
    "attention_stack",
    "stack_gradient_norms",
    "distance_to_rank_one",
    "stable_rank",
    "mean_cosine",
    "uniform_attention_prediction",
    "batch_norm",
    "relu_representations",
    "relu_cosine_map",
    "relu_cosine_prediction",
    "init_transformer",
    "apply_transformer",
    "group_norms",
]


# ---------------------------------------------------------------------------
# attention stacks
# ---------------------------------------------------------------------------


def _arr(name: str, X: Any) -> jax.Array:
    """A float array: checked (real, finite, not empty) when concrete, passed through when traced."""
    if isinstance(X, jax.core.Tracer):
        return jnp.asarray(X, dtype=jnp.result_type(float))
    return finite_array(name, X)


def _weight(name: str, W: Any, d: int) -> jax.Array:
    W = _arr(name, W)
    if W.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}) (the width of X), got shape {tuple(W.shape)}")
    return W


def _scalar_real(name: str, v: Any, *, nonneg: bool = False) -> Any:
    if isinstance(v, jax.core.Tracer):
        return v
    if nonneg:
        _checks.nonnegative(name, v)
    else:
        _checks.real(name, v)
    return _checks.at_most(name, v, 1e30, "it scales float32 activations")


def _depth(depth: Any, L: int) -> Any:
    if depth is None:
        return L
    if isinstance(depth, jax.core.Tracer):
        return depth
    if isinstance(depth, (bool, np.bool_)):
        raise ValueError(f"depth must be an integer in [0, {L}], got the bool {depth!r}")
    v = _checks.in_range("depth", depth, 0, L)
    if float(v) != int(float(v)):
        raise ValueError(f"depth must be an integer in [0, {L}] (a number of layers), got {depth!r}")
    return v


def init_attention_stack(key: jax.Array, depth: int, d: int) -> dict[str, jax.Array]:
    r"""Weights of ``depth`` single-head attention layers of width ``d``: ``{"W_Q", "W_K", "W_V"}``,
    each ``(depth, d, d)`` with i.i.d. :math:`\mathcal N(0, 1/d)` entries."""
    _checks.prng_key("key", key)
    depth = positive_int("depth", depth)
    d = positive_int("d", d)
    kq, kk, kv = jax.random.split(key, 3)
    shape = (depth, d, d)
    return {name: jax.random.normal(k, shape) / np.sqrt(d) for name, k in (("W_Q", kq), ("W_K", kk), ("W_V", kv))}


def attention_matrix(X: jax.Array, W_Q: jax.Array, W_K: jax.Array) -> jax.Array:
    r""":math:`A = \operatorname{softmax}_{\text{rows}}(X W_Q (X W_K)^\top/\sqrt d)`, ``(n, n)`` for ``X`` ``(n, d)``
    (or ``(..., n, n)`` for batched ``X``); rows sum to one."""
    X = _arr("X", X)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d), got shape {tuple(X.shape)}")
    d = X.shape[-1]
    W_Q, W_K = _weight("W_Q", W_Q, d), _weight("W_K", W_K, d)
    logits = (X @ W_Q) @ jnp.swapaxes(X @ W_K, -1, -2) / jnp.sqrt(d)
    return jax.nn.softmax(logits, axis=-1)


def self_attention(X: jax.Array, W_Q: jax.Array, W_K: jax.Array, W_V: jax.Array) -> jax.Array:
    r"""One head, :math:`\operatorname{SA}(X) = A(X)\,X W_V`; ``X`` ``(..., n, d)``, weights ``(d, d)``."""
    X = _arr("X", X)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d), got shape {tuple(X.shape)}")
    W_V = _weight("W_V", W_V, X.shape[-1])
    return attention_matrix(X, W_Q, W_K) @ (X @ W_V)


def _stack(params, X, tau, skip, depth):
    def layer(x, inp):
        l, wq, wk, wv = inp
        new = skip * x + tau * self_attention(x, wq, wk, wv)
        x = jnp.where(l < depth, new, x)
        return x, x

    L = params["W_Q"].shape[0]
    _, xs = jax.lax.scan(layer, X, (jnp.arange(L), params["W_Q"], params["W_K"], params["W_V"]))
    return jnp.concatenate([X[None], xs])


def _check_stack(params, X):
    if not isinstance(params, dict) or set(params) != {"W_Q", "W_K", "W_V"}:
        raise ValueError("params must be the dict of init_attention_stack ({'W_Q', 'W_K', 'W_V'})")
    X = _arr("X", X)
    d = params["W_Q"].shape[-1]
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}) (tokens of the stack's width), got shape {tuple(X.shape)}")
    return X


def attention_stack(params: dict, X: Any, *, tau: Any = 1.0, skip: Any = 0.0, depth: Any = None) -> jax.Array:
    r"""Every representation of the stack :math:`X_{l+1} = s X_l + \tau\operatorname{SA}_l(X_l)`, ``(L+1, n, d)``.

    ``params`` from :func:`init_attention_stack` (``L`` layers), ``X`` ``(n, d)``.
    ``skip`` :math:`s` (0: pure attention, 1: residual), ``tau`` and ``depth`` are traced:
    layers ``l >= depth`` are the identity (default: all ``L``), so a slider on any of
    them does not recompile.
    """
    X = _check_stack(params, X)
    L = params["W_Q"].shape[0]
    depth = _depth(depth, L)
    tau, skip = _scalar_real("tau", tau, nonneg=True), _scalar_real("skip", skip)
    f = lambda v: jnp.asarray(v, jnp.result_type(float))
    return _stack_jit(params, X, f(tau), f(skip), jnp.asarray(depth))


_stack_jit = jax.jit(_stack)


@jax.jit
def _grad_norms(params, X, R, tau, skip, depth):
    def loss(p):
        out = _stack(p, X, tau, skip, depth)[-1]
        return jnp.sum(R * out) / jnp.sqrt(jnp.sum(out * out))

    g = jax.grad(loss)(params)
    return jnp.stack([jnp.sqrt(jnp.sum(g[k] ** 2, axis=(1, 2))) for k in ("W_Q", "W_K", "W_V")])


def stack_gradient_norms(params: dict, X: Any, key: jax.Array, *, tau: Any = 1.0, skip: Any = 0.0,
                         depth: Any = None) -> jax.Array:
    r"""Norms of the gradients of the queries, keys and values of every layer, ``(3, L)`` (rows Q, K, V).

    The loss is a random linear read-out of the normalised output,
    :math:`\ell = \langle R, X_{\text{depth}}\rangle/\|X_{\text{depth}}\|_F` with
    :math:`R_{ij}\sim\mathcal N(0, 1)` drawn from ``key``: invariant to the output's scale,
    so stacks of different depths and residual scales compare.  Layers ``>= depth`` get 0.
    ``tau``, ``skip``, ``depth`` are traced (see :func:`attention_stack`).
    """
    X = _check_stack(params, X)
    L = params["W_Q"].shape[0]
    depth = _depth(depth, L)
    tau, skip = _scalar_real("tau", tau, nonneg=True), _scalar_real("skip", skip)
    _checks.prng_key("key", key)
    R = jax.random.normal(key, X.shape)
    f = lambda v: jnp.asarray(v, jnp.result_type(float))
    return _grad_norms(params, X, R, f(tau), f(skip), jnp.asarray(depth))


# ---------------------------------------------------------------------------
# rank measures
# ---------------------------------------------------------------------------


def _matrix(name, X):
    X = _arr(name, X)
    if X.ndim < 2 or X.shape[-2] < 2:
        raise ValueError(f"{name} must have shape (..., n, d) with n >= 2 rows (tokens), got shape {tuple(X.shape)}")
    return X


def distance_to_rank_one(X: Any) -> jax.Array:
    r"""Relative distance of the rows to their mean, :math:`\|X - \mathbf 1\bar x^\top\|_F/\|X\|_F`, with
    :math:`\bar x = \tfrac1n X^\top\mathbf 1` :cite:`dong2021attention`.

    ``X`` is ``(..., n, d)`` (``n >= 2`` tokens); returns ``(...)``, in :math:`[0, 1]`,
    0 exactly when all tokens are equal (rank collapse).
    """
    X = _matrix("X", X)
    Y = X - X.mean(axis=-2, keepdims=True)
    return jnp.sqrt(jnp.sum(Y * Y, axis=(-2, -1)) / jnp.sum(X * X, axis=(-2, -1)))


def stable_rank(X: Any) -> jax.Array:
    r"""Stable rank :math:`\|X\|_F^2/\|X\|_2^2 = \sum_i\sigma_i^2/\sigma_1^2`, between 1 and :math:`\operatorname{rank} X`.

    ``X`` is ``(..., n, d)``; returns ``(...)``.
    """
    X = _matrix("X", X)
    s = jnp.linalg.svd(X, compute_uv=False)
    return jnp.sum(s * s, axis=-1) / (s[..., 0] ** 2)


def mean_cosine(X: Any) -> jax.Array:
    r"""Average cosine similarity between distinct rows of ``X`` ``(..., n, d)``, ``(...)``; 1 at rank collapse
    (all rows positively aligned)."""
    X = _matrix("X", X)
    U = X / jnp.linalg.norm(X, axis=-1, keepdims=True)
    G = U @ jnp.swapaxes(U, -1, -2)
    n = X.shape[-2]
    return (jnp.sum(G, axis=(-2, -1)) - n) / (n * (n - 1))


def uniform_attention_prediction(X0: Any, depths: Any, tau: float) -> np.ndarray:
    r"""Predicted :func:`distance_to_rank_one` after ``depths`` residual layers if attention were uniform.

    :math:`\sqrt{\|Y_0\|_F^2/(\|Y_0\|_F^2 + n\|\bar x_0\|^2(1+\tau^2)^L)}` (module docstring):
    the centred part :math:`Y` passes unchanged, the mean token grows by :math:`1+\tau^2` in
    mean square per layer.  ``X0`` ``(n, d)``, ``depths`` ``(k,)``; returns a NumPy array ``(k,)``
    (a closed form: no compilation for new shapes, as a widget needs).
    """
    X0 = np.asarray(_matrix("X0", X0), dtype=float)
    nonnegative("tau", tau)
    L = _checks.real_array("depths", depths, low=0.0)
    if not np.all(L == np.round(L)):
        raise ValueError(f"depths must be whole numbers of layers, got {depths!r}")
    Y = X0 - X0.mean(axis=0)
    y2, m2 = float(np.sum(Y * Y)), X0.shape[0] * float(np.sum(X0.mean(axis=0) ** 2))
    return np.sqrt(y2 / (y2 + m2 * (1.0 + float(tau) ** 2) ** L))


# ---------------------------------------------------------------------------
# batch normalization in deep relu networks
# ---------------------------------------------------------------------------


def batch_norm(H: Any, gamma: Any = 1.0, beta: Any = 0.0, eps: float = 1e-5) -> jax.Array:
    r"""Batch normalization in training mode :cite:`ioffe2015batch`: every column of ``H`` ``(n, d)``
    standardised over the batch (rows), :math:`\gamma\,(h - \mu_B)/\sqrt{\sigma_B^2 + \varepsilon} + \beta`
    (:math:`\sigma_B^2` the biased variance).  ``gamma``, ``beta`` scalars or ``(d,)``."""
    H = _arr("H", H)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if not isinstance(v, jax.core.Tracer):
            v = _checks.real_array(name, v)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != H.shape[-1]):
                raise ValueError(f"{name} must be a scalar or have shape ({H.shape[-1]},), got shape {v.shape}")
            _checks.at_most(name, float(np.max(np.abs(v))), 1e30, "it scales float32 activations")
    _checks.positive("eps", eps)
    if H.ndim != 2 or H.shape[0] < 2:
        raise ValueError(f"H must have shape (n, d) with a batch of n >= 2 rows, got shape {tuple(H.shape)}")
    nonnegative("eps", eps)
    mu = H.mean(axis=0)
    var = H.var(axis=0)
    return gamma * (H - mu) / jnp.sqrt(var + eps) + beta


@functools.partial(jax.jit, static_argnames=("depth", "width"))
def _relu_reps(key, X, depth, width, bn):
    d_in = X.shape[1]
    k0, key = jax.random.split(key)
    W0 = jax.random.normal(k0, (d_in, width)) * jnp.sqrt(2.0 / d_in)
    Ws = jax.random.normal(key, (depth - 1, width, width)) * jnp.sqrt(2.0 / width)

    def act(Z):
        Zn = (Z - Z.mean(0)) / jnp.sqrt(Z.var(0) + 1e-5)
        return jax.nn.relu(jnp.where(bn, Zn, Z))

    H1 = act(X @ W0)

    def layer(H, W):
        H = act(H @ W)
        return H, H

    _, Hs = jax.lax.scan(layer, H1, Ws)
    return jnp.concatenate([H1[None], Hs])


def relu_representations(key: jax.Array, X: Any, depth: int, width: int, *, batchnorm: Any = False) -> jax.Array:
    r"""Hidden representations of a random deep ReLU network on the batch ``X`` ``(n, d_in)``: ``(depth, n, width)``.

    :math:`H_{l} = \operatorname{relu}(\operatorname{bn}(H_{l-1} W_l))` with batch norm
    (``batchnorm=True``, :func:`batch_norm` with :math:`\gamma = 1, \beta = 0`), else
    :math:`H_l = \operatorname{relu}(H_{l-1}W_l)`; :math:`H_0 = X`, He initialisation
    :math:`(W_l)_{ij}\sim\mathcal N(0, 2/\text{fan-in})`.  ``batchnorm`` is traced.
    """
    _checks.prng_key("key", key)
    depth = positive_int("depth", depth)
    width = positive_int("width", width)
    X = finite_array("X", X, ndim=2)
    if X.shape[0] < 2:
        raise ValueError(f"X must hold a batch of n >= 2 inputs, got shape {tuple(X.shape)}")
    return _relu_reps(key, X, depth, width, jnp.asarray(batchnorm, bool))


def relu_cosine_map(rho: Any) -> jax.Array:
    r"""The arc-cosine map :math:`\kappa(\rho) = \bigl(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho\bigr)/\pi`
    :cite:`cho2009kernel`: at infinite width, the cosine between two inputs' ReLU features
    :math:`\operatorname{relu}(Wx), \operatorname{relu}(Wx')` when :math:`x, x'` have cosine :math:`\rho`.
    :math:`\kappa(1) = 1` is its only fixed point in :math:`[-1, 1]`.  Elementwise."""
    if not isinstance(rho, jax.core.Tracer):  # clipping absorbs roundoff only, not a cosine of 1.5
        _checks.real_array("rho", rho, low=-1.0 - 1e-6, high=1.0 + 1e-6)
    r = jnp.clip(jnp.asarray(rho, dtype=jnp.result_type(float)), -1.0, 1.0)
    return (jnp.sqrt(1.0 - r * r) + (jnp.pi - jnp.arccos(r)) * r) / jnp.pi


def relu_cosine_prediction(X: Any, depth: int) -> jax.Array:
    r"""Predicted :func:`mean_cosine` of the plain network's layers ``1..depth``: :func:`relu_cosine_map`
    iterated on every pair of rows of ``X`` ``(n, d_in)``, then averaged over pairs.  Returns ``(depth,)``."""
    X = np.asarray(_matrix("X", X), dtype=float)
    depth = positive_int("depth", depth)
    U = X / np.linalg.norm(X, axis=-1, keepdims=True)
    G = U @ U.T
    n = X.shape[0]
    off = np.clip(G[~np.eye(n, dtype=bool)], -1.0, 1.0)
    out = []
    for _ in range(depth):  # in NumPy: a loop of small eager JAX calls would compile each of its operations
        off = np.clip((np.sqrt(1.0 - off * off) + (np.pi - np.arccos(off)) * off) / np.pi, -1.0, 1.0)
        out.append(off.mean())
    return jnp.asarray(np.array(out), dtype=jnp.result_type(float))


# ---------------------------------------------------------------------------
# a tiny transformer
# ---------------------------------------------------------------------------


def init_transformer(key: jax.Array, *, vocab: int, seq_len: int, d_model: int = 32, n_layers: int = 2,
                     d_mlp: int = 64, n_out: int | None = None) -> dict:
    r"""Parameters of :func:`apply_transformer`: a dict with ``"embed"`` ``(vocab, d)``, ``"pos"`` ``(seq_len, d)``,
    ``"W_Q"``, ``"W_K"``, ``"W_V"``, ``"W_O"`` ``(n_layers, d, d)``, ``"mlp_in"`` ``(n_layers, d, d_mlp)``,
    ``"mlp_out"`` ``(n_layers, d_mlp, d)`` and ``"readout"`` ``(d, n_out)`` (default ``n_out = vocab``).
    Gaussian entries of variance 1/fan-in; embeddings :math:`\mathcal N(0, 1)`."""
    _checks.prng_key("key", key)
    vocab, seq_len = positive_int("vocab", vocab), positive_int("seq_len", seq_len)
    d, L, m = positive_int("d_model", d_model), positive_int("n_layers", n_layers), positive_int("d_mlp", d_mlp)
    n_out = vocab if n_out is None else positive_int("n_out", n_out)
    ks = jax.random.split(key, 9)
    g = lambda k, shape, fan: jax.random.normal(k, shape) / np.sqrt(fan)
    return {
        "embed": g(ks[0], (vocab, d), 1.0), "pos": g(ks[1], (seq_len, d), 1.0),
        "W_Q": g(ks[2], (L, d, d), d), "W_K": g(ks[3], (L, d, d), d), "W_V": g(ks[4], (L, d, d), d),
        "W_O": g(ks[5], (L, d, d), d), "mlp_in": g(ks[6], (L, d, m), d), "mlp_out": g(ks[7], (L, m, d), m),
        "readout": g(ks[8], (d, n_out), d),
    }


def _ln(X):
    return (X - X.mean(-1, keepdims=True)) / jnp.sqrt(X.var(-1, keepdims=True) + 1e-5)


def apply_transformer(params: dict, tokens: jax.Array, *, causal: bool = False) -> jax.Array:
    r"""Logits ``(..., seq_len, n_out)`` of the tiny transformer on integer ``tokens`` ``(..., seq_len)``.

    :math:`X_0 = E[\text{tokens}] + P`; per block, with :math:`\operatorname{ln}` a layer norm without
    parameters, :math:`X \leftarrow X + \operatorname{SA}(\operatorname{ln}X)W_O` and
    :math:`X \leftarrow X + \operatorname{relu}(\operatorname{ln}X\,W_{\text{in}})W_{\text{out}}`;
    logits :math:`\operatorname{ln}(X)\,W_{\text{read}}`.  ``causal=True`` masks attention to later positions.
    """
    need = ("embed", "pos", "W_Q", "W_K", "W_V", "W_O", "mlp_in", "mlp_out", "readout")
    if not isinstance(params, dict) or any(k not in params for k in need):
        keys = "" if not isinstance(params, dict) else f" with keys {sorted(params)}"
        raise ValueError(f"params must be the dict of init_transformer (keys {need}), got "
                         f"{type(params).__name__}{keys}")
    vocab, seq_len = params["embed"].shape[0], params["pos"].shape[0]
    if tokens is None or isinstance(tokens, (str, bytes)):
        raise ValueError(f"tokens must be an integer array (..., {seq_len}), got {tokens!r}")
    if not isinstance(tokens, jax.core.Tracer):
        t = np.asarray(tokens)
        if t.dtype.kind not in "iu":
            raise ValueError(f"tokens must be integers in [0, {vocab}), got dtype {t.dtype}")
        if t.size and (t.min() < 0 or t.max() >= vocab):
            raise ValueError(f"tokens must be integers in [0, {vocab}) (the vocabulary), got values from "
                             f"{t.min()} to {t.max()}")
    if jnp.ndim(tokens) < 1 or jnp.shape(tokens)[-1] != seq_len:
        raise ValueError(f"tokens must have shape (..., {seq_len}) (seq_len of params), got {jnp.shape(tokens)}")
    X = params["embed"][tokens] + params["pos"]
    n, d = X.shape[-2], X.shape[-1]
    mask = jnp.tril(jnp.ones((n, n), bool)) if causal else jnp.ones((n, n), bool)

    for l in range(params["W_Q"].shape[0]):  # a few layers: unrolled (compiles faster than a scan)
        wq, wk, wv, wo, w1, w2 = (params[k][l] for k in ("W_Q", "W_K", "W_V", "W_O", "mlp_in", "mlp_out"))
        H = _ln(X)
        logits = (H @ wq) @ jnp.swapaxes(H @ wk, -1, -2) / jnp.sqrt(d)
        A = jax.nn.softmax(jnp.where(mask, logits, -1e30), axis=-1)
        X = X + (A @ (H @ wv)) @ wo
        X = X + jax.nn.relu(_ln(X) @ w1) @ w2
    return _ln(X) @ params["readout"]


def group_norms(tree: dict, groups: dict[str, tuple[str, ...]] | None = None) -> dict[str, jax.Array]:
    r"""Euclidean norm of each group of leaves of a dict ``tree`` (e.g. a gradient of :func:`apply_transformer`'s
    parameters): :math:`\bigl(\sum_{k\in\text{group}}\|t_k\|_F^2\bigr)^{1/2}`.

    Default groups: ``"Q"`` = (``W_Q``,), ``"K"``, ``"V"`` = (``W_V``, ``W_O``), ``"MLP"`` = (``mlp_in``, ``mlp_out``),
    ``"embed"`` = (``embed``, ``pos``, ``readout``).  Works inside ``jit``.
    """
    if not isinstance(tree, dict):
        raise ValueError(f"tree must be a dict of arrays (e.g. a gradient of the transformer's params), got "
                         f"{type(tree).__name__}")
    if groups is not None and (not isinstance(groups, dict) or not all(
            isinstance(ks, (tuple, list)) and all(isinstance(k, str) for k in ks) for ks in groups.values())):
        raise ValueError(f"groups must be a dict from group names to tuples of keys of tree, got {groups!r}")
    if groups is None:
        groups = {"Q": ("W_Q",), "K": ("W_K",), "V": ("W_V", "W_O"), "MLP": ("mlp_in", "mlp_out"),
                  "embed": ("embed", "pos", "readout")}
    missing = sorted({k for ks in groups.values() for k in ks} - set(tree))
    if missing:
        raise ValueError(f"tree must hold the keys of every group of groups; missing {missing}")
    return {g: jnp.sqrt(sum(jnp.sum(tree[k] ** 2) for k in ks)) for g, ks in groups.items()}
