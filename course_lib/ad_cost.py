r"""The cost of JAX's algorithmic differentiation, measured.

:mod:`course_lib.autodiff` builds the two modes of AD from scratch and *counts*
their operations; this module measures JAX's own AD on a straight-line program
:math:`x_k = g_k(x_{k-1})`, :math:`k = 1, \dots, L`, in :math:`\mathbb{R}^p`
(:func:`straight_line_program`, and :func:`checkpointed_program` with
checkpointing every ``block`` layers): peak temporary memory from XLA's
compiled memory analysis (:func:`compiled_memory`) and wall-clock time
(:func:`time_call`), for evaluation, forward mode (JVPs) and reverse mode
(VJPs) (:func:`measure_ad`), and the cost ratio of a gradient to a loss on deep
tanh networks (:func:`gradient_flop_ratio`) -- the cheap-gradient principle
:math:`\mathrm{cost}(f, \nabla f) \le 5\,\mathrm{cost}(f)` of Pauwels (2024,
"Algorithmic differentiation") and Griewank & Walther (2008), and memory linear
in the program length for reverse mode.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Sequence

import numpy as np

from . import _checks
from .autodiff import _check_callable, _positive_int

__all__ = [
    "straight_line_program",
    "checkpointed_program",
    "compiled_memory",
    "time_call",
    "straight_line_curve",
    "MODES",
    "measure_ad",
    "fit_slope",
    "deep_tanh_loss",
    "deep_tanh_params",
    "gradient_flop_ratio",
]



def _layer_params(L: int, p: int) -> tuple[Any, Any]:
    """Fixed weights ``W`` (shape ``(p, p)``, spectral scale about 1) and biases ``b`` (shape ``(L, p)``)."""
    import jax.numpy as jnp

    i = jnp.arange(p)
    W = jnp.cos(0.7 * (i[:, None] + 1) * (i[None, :] + 2)) * (1.5 / jnp.sqrt(p))
    b = 0.1 * jnp.sin(jnp.arange(L)[:, None] + i[None, :])
    return W, b


def straight_line_program(L: int, p: int) -> Callable[[Any], Any]:
    r"""The straight-line program :math:`f = \ell \circ g_L \circ \cdots \circ g_1 : \mathbb{R}^p \to \mathbb{R}`.

    :math:`g_k(x) = \tanh(W x + b_k)` with fixed :math:`W \in \mathbb{R}^{p \times p}`,
    :math:`b_k \in \mathbb{R}^p`: a dense layer, whose evaluation, JVP and VJP
    all cost about :math:`p^2` operations (one matrix--vector product), and
    :math:`\ell(x) = \sum_i x_i^2 / p`.  Written with ``jax.lax.scan`` so that
    compilation does not grow with :math:`L`.  Input ``x`` has shape ``(p,)``.
    """
    import jax
    import jax.numpy as jnp

    L = _positive_int("L", L)
    p = _positive_int("p", p)
    W, b = _layer_params(L, p)

    def f(x):
        def step(h, bk):
            return jnp.tanh(W @ h + bk), None

        h, _ = jax.lax.scan(step, x, b)
        return jnp.sum(h**2) / p

    return f


def checkpointed_program(L: int, p: int, block: int) -> Callable[[Any], Any]:
    r""":func:`straight_line_program` with ``jax.checkpoint`` every ``block`` steps.

    The :math:`L` steps are grouped into :math:`L / B` blocks of :math:`B`
    = ``block`` steps (``block`` must divide ``L``); each block is wrapped in
    ``jax.checkpoint``, so reverse mode stores only the :math:`L/B` block
    inputs and recomputes one block at a time during the sweep: memory
    :math:`O((L/B + B)\, p)` instead of :math:`O(Lp)`, for one extra evaluation.
    Same function values as :func:`straight_line_program` ``(L, p)``.
    """
    import jax
    import jax.numpy as jnp

    L = _positive_int("L", L)
    p = _positive_int("p", p)
    block = _positive_int("block", block)
    if L % block:
        raise ValueError(f"block must divide L = {L}, got {block}")
    W, b = _layer_params(L, p)
    b = b.reshape(L // block, block, p)

    def step(h, bk):
        return jnp.tanh(W @ h + bk), None

    @jax.checkpoint
    def run_block(h, bblock):
        h, _ = jax.lax.scan(step, h, bblock)
        return h

    def f(x):
        h, _ = jax.lax.scan(lambda h, bb: (run_block(h, bb), None), x, b)
        return jnp.sum(h**2) / p

    return f


def compiled_memory(fn: Callable, *args: Any) -> int:
    r"""Temporary memory (bytes) of ``jax.jit(fn)(*args)``, from XLA's compiled memory analysis.

    This is the scratch memory the compiled program needs besides its inputs
    and outputs: for reverse mode, the values stored for the backward sweep.
    Deterministic (no timing involved).
    """
    import jax

    _check_callable("fn", fn)
    compiled = jax.jit(fn).lower(*args).compile()
    analysis = compiled.memory_analysis()
    if analysis is None:  # pragma: no cover - backend without analysis
        raise RuntimeError("this JAX backend gives no compiled memory analysis")
    return int(analysis.temp_size_in_bytes)


def time_call(fn: Callable, *args: Any, repeats: int = 5, number: int = 0, jit: bool = True) -> float:
    r"""Best-of-``repeats`` wall-clock seconds of one call of ``jax.jit(fn)(*args)`` (compiled first).

    ``number`` calls are timed together (chosen automatically when 0 so that a
    batch lasts about 20 ms).  Wall-clock time is noisy on a shared machine:
    use it for figures, never in tests.  ``jit=False`` times ``fn`` as given
    (e.g. an already compiled executable).
    """
    import jax

    _check_callable("fn", fn)
    repeats = _positive_int("repeats", repeats)
    jf = jax.jit(fn) if jit else fn
    jax.block_until_ready(jf(*args))
    if number == 0:
        t0 = time.perf_counter()
        jax.block_until_ready(jf(*args))
        one = max(time.perf_counter() - t0, 1e-6)
        number = max(1, min(1000, int(0.02 / one)))
    number = _positive_int("number", number)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            out = jf(*args)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def straight_line_curve(L: int, p: int) -> Callable[[Any], Any]:
    r"""The reversed situation :math:`c : \mathbb{R} \to \mathbb{R}^p`, :math:`c(t) = g_L \circ \cdots \circ g_1(t\, \mathbf{1})`.

    Same maps :math:`g_k` as :func:`straight_line_program`; input a scalar
    ``t`` (shape ``()``), output shape ``(p,)``.  Its Jacobian is one column:
    one JVP (forward mode) gets it, reverse mode needs :math:`p` VJPs.
    """
    import jax
    import jax.numpy as jnp

    L = _positive_int("L", L)
    p = _positive_int("p", p)
    W, b = _layer_params(L, p)

    def c(t):
        def step(h, bk):
            return jnp.tanh(W @ h + bk), None

        h, _ = jax.lax.scan(step, t * jnp.ones(p), b)
        return h

    return c


MODES: tuple[str, ...] = ("eval", "forward", "reverse")
"""The three computations compared by :func:`measure_ad`."""


def measure_ad(L: int, p: int, *, direction: str = "gradient", timing: bool = True,
               repeats: int = 3) -> dict[str, dict[str, float]]:
    r"""Time and memory of evaluation, forward-mode and reverse-mode Jacobians in JAX.

    ``direction="gradient"``: :math:`f : \mathbb{R}^p \to \mathbb{R}`
    (:func:`straight_line_program`); forward mode is ``jax.jacfwd`` (:math:`p`
    JVPs, carried together: a :math:`p \times p` tangent), reverse mode
    ``jax.grad`` (one VJP, storing the :math:`L` intermediate vectors).
    ``direction="curve"``: :math:`c : \mathbb{R} \to \mathbb{R}^p`
    (:func:`straight_line_curve`), ``jax.jacfwd`` (one JVP) against
    ``jax.jacrev`` (:math:`p` VJPs).

    Returns ``{mode: {"time": seconds, "memory": bytes}}`` for ``mode`` in
    :data:`MODES`; memory is :func:`compiled_memory` (deterministic), time is
    :func:`time_call` (``nan`` when ``timing=False``).
    """
    import jax
    import jax.numpy as jnp

    L = _positive_int("L", L)
    p = _positive_int("p", p)
    if direction not in ("gradient", "curve"):
        raise ValueError(f"direction must be 'gradient' or 'curve', got {direction!r}")
    if direction == "gradient":
        f = straight_line_program(L, p)
        x = jnp.linspace(-1.0, 1.0, p)
        fns = {"eval": f, "forward": jax.jacfwd(f), "reverse": jax.grad(f)}
    else:
        f = straight_line_curve(L, p)
        x = jnp.asarray(0.3)
        fns = {"eval": f, "forward": jax.jacfwd(f), "reverse": jax.jacrev(f)}
    out = {}
    for mode, fn in fns.items():
        compiled = jax.jit(fn).lower(x).compile()  # compiled once, for memory and time
        out[mode] = {
            "memory": float(compiled.memory_analysis().temp_size_in_bytes),
            "time": time_call(compiled, x, repeats=repeats, jit=False) if timing else float("nan"),
        }
    return out


def fit_slope(x: Sequence[float], y: Sequence[float]) -> float:
    r"""Least-squares slope of :math:`\log y` against :math:`\log x` (the exponent of a power law)."""
    xv = np.log(_checks.real_array("x", x, low=0.0, low_open=True))
    yv = np.log(_checks.real_array("y", y, low=0.0, low_open=True))
    if xv.shape != yv.shape or xv.ndim != 1 or xv.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got {xv.shape} and {yv.shape}")
    if not (np.all(np.isfinite(xv)) and np.all(np.isfinite(yv))):
        raise ValueError("x and y must be positive and finite")
    return float(np.polyfit(xv, yv, 1)[0])



def deep_tanh_loss(params: Sequence[Any], X: Any, y: Any) -> Any:
    r"""Square loss of a deep tanh network (JAX): :math:`\frac1m\sum_i (w^\top h_L(x_i) - y_i)^2`.

    :math:`h_0 = x`, :math:`h_\ell = \tanh(h_{\ell-1} W_\ell)`;
    ``params = [W_1, ..., W_L, w]`` with ``W_1``: ``(d_in, width)``, ``W_l``:
    ``(width, width)``, ``w``: ``(width,)``; ``X``: ``(m, d_in)``, ``y``: ``(m,)``.
    """
    import jax.numpy as jnp

    h = X
    for W in params[:-1]:
        h = jnp.tanh(h @ W)
    return jnp.mean((h @ params[-1] - y) ** 2)


def deep_tanh_params(key: Any, depth: int, width: int = 64, d_in: int = 16) -> list[Any]:
    """Random parameters of :func:`deep_tanh_loss` with ``depth`` hidden layers (scaled normal entries)."""
    _checks.prng_key("key", key, batched=True)
    import jax

    depth = _positive_int("depth", depth)
    width = _positive_int("width", width)
    d_in = _positive_int("d_in", d_in)
    ks = jax.random.split(key, depth + 1)
    Ws = [jax.random.normal(ks[0], (d_in, width)) / 4]
    Ws += [jax.random.normal(k, (width, width)) / 8 for k in ks[1:depth]]
    return Ws + [jax.random.normal(ks[-1], (width,)) / 8]


def gradient_flop_ratio(key: Any, depths: Sequence[int], *, m: int = 256, width: int = 64, d_in: int = 16) -> np.ndarray:
    r"""cost(gradient) / cost(loss) of :func:`deep_tanh_loss`, in XLA's operation counts, for each depth.

    Reverse mode predicts a ratio near 3 for deep networks: per layer, one
    matrix product forward (:math:`2mw^2` operations) and two backward (for
    the weights and to propagate) :cite:`pauwels2024intro`.  Data: ``m``
    standard normal inputs in :math:`\mathbb{R}^{d_\mathrm{in}}`, labels
    :math:`\sin(x_1)`.  Returns an array of shape ``(len(depths),)``.
    """
    _checks.prng_key("key", key, batched=True)
    import jax
    import jax.numpy as jnp

    m = _positive_int("m", m)
    X = jax.random.normal(key, (m, _positive_int("d_in", d_in)))
    y = jnp.sin(X[:, 0])
    out = []
    for depth in depths:
        p = deep_tanh_params(key, int(depth), width, d_in)
        f = jax.jit(deep_tanh_loss).lower(p, X, y).cost_analysis()["flops"]
        g = jax.jit(jax.grad(deep_tanh_loss)).lower(p, X, y).cost_analysis()["flops"]
        out.append(g / f)
    return np.array(out)
