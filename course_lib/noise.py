r"""Zero-mean gradient-noise models :math:`Z(x;\omega)`.

SGD with noise model ``Z`` iterates
:math:`x_{t+1} = x_t - \eta_t\,[\nabla f(x_t) + Z(x_t;\omega_t)]`
(:cite:`azizian2025talk`, :cite:`pauwels2024intro`).  Every model here has
:math:`\mathbb E[Z(x;\omega)] = 0`; they differ in how the covariance depends
on :math:`x` and in their tails:

=======================  ======================================================
:func:`gaussian`         :math:`Z \sim \mathcal N(0, \sigma^2 I_d)`
:func:`power_law`        :math:`Z \sim \mathcal N(0, \sigma^2 f(x) I_d)` (state dependent)
:func:`minibatch`        :math:`Z = \nabla f_B(x) - \nabla f(x)` for a finite sum
:func:`heavy_tailed`     Student-t with ``df`` degrees of freedom, covariance :math:`\sigma^2 I_d`
:func:`state_dependent`  :math:`Z \sim \mathcal N(0, s(x)^2 I_d)` for a given scale function :math:`s`
:func:`given`            :math:`Z_t = \sigma G_t` for a given array of increments :math:`G_t` (driven runs)
=======================  ======================================================

A model is a frozen dataclass registered as a JAX pytree: its numeric
parameters (``sigma``, ``df``, the data of a finite sum) are *traced* when it
is passed to a jitted simulator, so changing them (a widget slider) does not
recompile; only its ``kind`` and ``batch_size`` are static.

:func:`sample` draws the noise for a whole batch of chains at once:
``X`` of shape ``(n, d)`` gives ``Z`` of shape ``(n, d)``.

The interface a simulator uses (:mod:`course_lib.simulate`) is two public
functions, which split :func:`sample` in its random and its deterministic half:

* :func:`draw` -- ``draw(noise, key, t, shape, dtype)``: the random draws of
  step ``t`` (which do not depend on the state; for ``given`` the stored
  increments of step ``t``, the key is not used);
* :func:`apply` -- ``apply(noise, draws, X, objective)``: the noise
  :math:`Z(X;\omega)` made from them.

``sample(noise, key, X, objective) == apply(noise, draw(noise, key, 0, X.shape, X.dtype), X, objective)``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .landscapes import FiniteSum, batch_grad

__all__ = ["NoiseModel", "KINDS", "gaussian", "power_law", "minibatch", "heavy_tailed", "state_dependent", "given",
           "sample", "draw", "apply"]

KINDS = ("gaussian", "power_law", "minibatch", "heavy_tailed", "state_dependent", "given")
"""Names of the available noise models."""


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """A zero-mean noise model; build it with :func:`gaussian`, :func:`power_law`,
    :func:`minibatch` or :func:`heavy_tailed` rather than directly."""

    sigma: jax.Array
    df: jax.Array
    problem: FiniteSum | None = None
    kind: str = dataclasses.field(metadata=dict(static=True), default="gaussian")
    batch_size: int = dataclasses.field(metadata=dict(static=True), default=1)
    increments: jax.Array | None = None
    clip: jax.Array | None = None
    params: Any = None
    scale: Callable | None = dataclasses.field(metadata=dict(static=True), default=None)


def _scalar(value: float) -> jax.Array:
    return jnp.asarray(value, dtype=jnp.result_type(float))


def gaussian(sigma: float) -> NoiseModel:
    r"""Isotropic Gaussian noise :math:`Z \sim \mathcal N(0, \sigma^2 I_d)`, ``sigma >= 0``."""
    _checks.nonnegative("sigma", sigma)
    return NoiseModel(_scalar(sigma), _scalar(jnp.inf), None, "gaussian")


def power_law(sigma: float) -> NoiseModel:
    r"""State-dependent Gaussian noise :math:`Z \sim \mathcal N(0, \sigma^2 f(x) I_d)`.

    The noise vanishes where the loss vanishes, as for interpolating models;
    requires :math:`f \ge 0`.
    """
    _checks.nonnegative("sigma", sigma)
    return NoiseModel(_scalar(sigma), _scalar(jnp.inf), None, "power_law")


def minibatch(problem: FiniteSum, batch_size: int) -> NoiseModel:
    r"""Minibatch noise of a finite sum: :math:`Z = \nabla f_B(x) - \nabla f(x)`.

    :math:`B` is drawn uniformly with replacement, ``batch_size`` indices per
    chain and step, so :math:`\nabla f(x) + Z = \nabla f_B(x)` is the usual
    minibatch gradient.  The objective passed to the simulator must be
    ``problem`` itself.
    """
    if not isinstance(problem, FiniteSum):
        raise ValueError(f"problem must be a course_lib.landscapes.FiniteSum, got {type(problem).__name__}")
    batch_size = _checks.positive_int("batch_size", batch_size)
    return NoiseModel(_scalar(0.0), _scalar(jnp.inf), problem, "minibatch", batch_size)


def heavy_tailed(sigma: float, df: float = 3.0) -> NoiseModel:
    r"""Student-t noise with ``df > 2`` degrees of freedom, rescaled to covariance :math:`\sigma^2 I_d`.

    :math:`Z = \sigma\sqrt{(\nu-2)/\nu}\;T`, :math:`T_j` i.i.d. Student-t(:math:`\nu`).
    Its tails decay polynomially, so it is not sub-Gaussian.
    """
    _checks.nonnegative("sigma", sigma)
    if not isinstance(df, jax.core.Tracer) and not _checks.in_range("df", df, 2.0, math.inf, low_open=True):
        raise ValueError(f"df must be > 2 so that the covariance is finite, got {df!r}")
    return NoiseModel(_scalar(sigma), _scalar(df), None, "heavy_tailed")


def state_dependent(scale: Callable[[jax.Array, Any], jax.Array], params: Any = None) -> NoiseModel:
    r"""Gaussian noise with a state-dependent level: :math:`Z \sim \mathcal N(0, s(x)^2 I_d)`.

    ``scale(X, params)`` maps the states ``X`` ``(n, d)`` to the levels
    :math:`s(x)` ``(n,)``; ``params`` (any pytree of arrays) is traced, so new
    values do not recompile, while ``scale`` is static: pass one hashable
    function object (a module-level function).  Example: two noise levels on the
    two sides of a barrier (:mod:`course_lib.chapters.long_run`).
    """
    if not callable(scale):
        raise ValueError(f"scale must be a callable (X (n, d), params) -> (n,), got {type(scale).__name__}")
    return NoiseModel(_scalar(0.0), _scalar(jnp.inf), None, "state_dependent", 1, None, None,
                      jax.tree_util.tree_map(jnp.asarray, params), scale)


def given(increments: jax.Array, sigma: float = 1.0, *, clip: float = float("inf")) -> NoiseModel:
    r"""Noise read from a given array: :math:`Z_t = \sigma\,G_t`, truncated to norm at most ``clip``.

    ``increments``: ``(T, n, d)`` -- row ``t`` holds :math:`G_t` for each of the
    ``n`` chains (e.g. correlated fractional Gaussian noise, or Student-t draws
    made beforehand, :mod:`course_lib.exit_times`).  A simulator run with this
    model is *driven*: step ``t`` uses row ``t`` and no random key; runs are
    limited to ``T`` steps and the ``n`` chains of ``x0``.  The truncation maps
    :math:`Z` to :math:`Z\min(1, \text{clip}/\|Z\|)` (no truncation by default).
    The increments, ``sigma`` and ``clip`` are traced.  Zero mean is the
    caller's responsibility.
    """
    if not isinstance(increments, jax.core.Tracer):
        _checks.finite_array("increments", increments, ndim=3)
    G = jnp.asarray(increments)
    if G.ndim != 3 or not jnp.issubdtype(G.dtype, jnp.floating):
        raise ValueError(f"increments must be a float array of shape (T, n, d), got {G.dtype} {tuple(G.shape)}")
    _checks.nonnegative("sigma", sigma)
    c = float("inf") if isinstance(clip, (int, float)) and clip == float("inf") else clip
    if not isinstance(c, jax.core.Tracer) and c != float("inf"):
        _checks.positive("clip", c)  # a positive number, or inf (no truncation)
    if not isinstance(c, jax.core.Tracer) and not float(c) > 0:
        raise ValueError(f"clip must be > 0, got {clip!r}")
    big = jnp.asarray(jnp.finfo(G.dtype).max, G.dtype)
    clip_arr = big if c == float("inf") else jnp.minimum(jnp.asarray(c, G.dtype), big)
    return NoiseModel(jnp.asarray(sigma, G.dtype), _scalar(jnp.inf), None, "given", 1, G, clip_arr)


# ---------------------------------------------------------------------------
# Standard normal draws, bit for bit those of jax.random.normal, but faster on CPU
# ---------------------------------------------------------------------------
#
# On CPU, JAX lowers the Threefry-2x32 hash as a *rolled* loop (to keep
# compilation fast), so every round writes its intermediate arrays to memory and
# XLA cannot fuse the hash with the uniform -> normal transform that follows.
# For the simulators the hash is most of the work of a step.  ``_normal`` below
# computes exactly what ``jax.random.normal`` computes for a Threefry key under
# ``jax_threefry_partitionable`` (the default) -- the same counters, the same
# 20 rounds, the same bits -> uniform -> sqrt(2) erfinv(u) map -- but written
# out unrolled in ``jax.numpy``, so XLA fuses it into one loop.  The draws are
# identical (benchmarks/sgd_throughput.py checks it), so results do not depend
# on which path was taken.  Any other key implementation, dtype or setting falls back to
# ``jax.random.normal``.

_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl32(x: jax.Array, d: int) -> jax.Array:
    return (x << np.uint32(d)) | (x >> np.uint32(32 - d))


def _threefry2x32(k1: jax.Array, k2: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011), as in ``jax.random``."""
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in _THREEFRY_ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = x0 ^ _rotl32(x1, r)
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def _threefry_key_data(key: jax.Array) -> jax.Array | None:
    """The ``(2,)`` uint32 data of a single Threefry key, or ``None`` if ``key`` is not one."""
    if not jax.config.jax_threefry_partitionable:
        return None
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != () or str(jax.random.key_impl(key)) != "threefry2x32":
            return None
        return jax.random.key_data(key)
    if key.shape == (2,) and key.dtype == jnp.uint32 and jax.config.jax_default_prng_impl == "threefry2x32":
        return key  # legacy raw key, jax.random.PRNGKey
    return None


def _normal(key: jax.Array, shape: tuple[int, ...], dtype, transposed: bool = False) -> jax.Array:
    """Standard normal array, identical to ``jax.random.normal(key, shape, dtype)``.

    With ``transposed=True`` (``shape`` 2-D) it returns the same numbers laid out
    as the transpose, ``jax.random.normal(key, shape, dtype).T``, computed
    directly in that layout (the counters are permuted, no transpose is done).
    """
    dtype = jnp.dtype(dtype)
    kd = _threefry_key_data(key)
    size = int(np.prod(shape, dtype=np.int64))
    if kd is None or dtype != jnp.float32 or not 0 < size < 2**32:
        z = jax.random.normal(key, shape, dtype)
        return z.T if transposed else z
    # counters: the flat index as a 64-bit number split in (high, low) words; high = 0 here.
    strides = [int(np.prod(shape[ax + 1:], dtype=np.int64)) for ax in range(len(shape))]
    if transposed:
        shape, strides = tuple(reversed(shape)), list(reversed(strides))
    low = jnp.zeros(shape, jnp.uint32)
    for ax, stride in enumerate(strides):
        low = low + jax.lax.broadcasted_iota(jnp.uint32, shape, ax) * np.uint32(stride)
    b0, b1 = _threefry2x32(kd[0], kd[1], jnp.zeros(shape, jnp.uint32), low)
    bits = b0 ^ b1
    # uniform on [nextafter(-1, 0), 1) from the 23 high bits, then the inverse error function
    one_to_two = jax.lax.bitcast_convert_type((bits >> np.uint32(9)) | np.uint32(0x3F800000), jnp.float32)
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0), dtype=np.float32)
    u = jax.lax.max(lo, (one_to_two - np.float32(1.0)) * (np.float32(1.0) - lo) + lo)
    return np.float32(np.sqrt(2.0)) * jax.lax.erf_inv(u)


def _check_model(noise: Any) -> None:
    if not isinstance(noise, NoiseModel):
        raise ValueError(f"noise must be a NoiseModel (from gaussian, power_law, heavy_tailed, minibatch, given or "
                         f"state_dependent), got {type(noise).__name__}")


def sample(noise: NoiseModel, key: jax.Array, X: jax.Array, objective: Callable[[jax.Array], jax.Array]) -> jax.Array:
    """Draw :math:`Z(X;\\omega)` for a batch of chains.

    Shapes: ``X`` ``(n, d)``; returns ``(n, d)``.  ``objective`` is the landscape
    (needed by ``power_law``; for ``minibatch`` it must be the finite sum).
    Traceable: call it inside ``jit``/``scan``.
    """
    _check_model(noise)
    _checks.prng_key("key", key, batched=True)
    if not isinstance(X, jax.core.Tracer):
        X = _checks.finite_array("X", X, ndim=2)
    if noise.kind == "power_law":  # the only kind that evaluates the objective
        _checks.is_callable("objective", objective)
    return apply(noise, draw(noise, key, 0, X.shape, X.dtype), X, objective)


# ``sample`` in two halves: ``draw`` and ``apply``: the random draws, which do not depend on X, and the
# map from draws to Z(X).  The simulators draw the randomness of step t + 1
# during step t (same key, same values), so that XLA computes the draws in a
# kernel of their own instead of fusing the random-number hash into the
# gradient computation, which on CPU makes the fused loop several times slower.


def draw(noise: NoiseModel, key: jax.Array, t: jax.Array | int, shape: tuple[int, ...], dtype,
         transposed: bool = False) -> jax.Array:
    """The random draws of step ``t`` for a state of shape ``shape`` ``(n, d)`` (leading axis = chains).

    ``key`` is the key of the step (the simulators use ``fold_in(key, t)``);
    ``given`` ignores it and returns row ``t`` of its increments (the last row
    past the end).  ``transposed=True`` (the simulators, which store the
    chains along the last axis) gives the same numbers transposed, chains last.
    Traceable; ``t`` may be traced.
    """
    _check_model(noise)
    _checks.prng_key("key", key, batched=True)
    if (not isinstance(shape, (tuple, list)) or not shape
            or any(isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1 for n in shape)):
        raise ValueError(f"shape must be a tuple of positive integers (n, d), got {shape!r}")
    if not isinstance(t, jax.core.Tracer):
        _checks.nonnegative_int("t", t)
    if noise.kind == "given":
        G = noise.increments
        if G.shape[1:] != tuple(shape):
            raise ValueError(f"the given increments have shape (T, {G.shape[1]}, {G.shape[2]}); the state has "
                             f"shape {tuple(shape)}")
        D = jax.lax.dynamic_index_in_dim(G, jnp.minimum(t, G.shape[0] - 1), keepdims=False).astype(dtype)
        return D.T if transposed else D
    if noise.kind in ("gaussian", "power_law", "state_dependent"):
        return _normal(key, shape, dtype, transposed)
    if noise.kind == "heavy_tailed":
        D = jax.random.t(key, noise.df, shape, dtype)
    elif noise.kind == "minibatch":
        D = jax.random.randint(key, shape[:-1] + (noise.batch_size,), 0, noise.problem.n)
    else:
        raise ValueError(f"noise.kind must be one of {KINDS}, got {noise.kind!r}")
    return D.T if transposed else D


def apply(noise: NoiseModel, draws: jax.Array, X: jax.Array, objective: Callable[[jax.Array], jax.Array]) -> jax.Array:
    r"""The noise :math:`Z(X;\omega)` ``(n, d)`` of the state ``X`` ``(n, d)`` from the draws of :func:`draw`.

    ``objective`` is the landscape (used by ``power_law`` and ``minibatch``
    only).  Traceable.
    """
    _check_model(noise)
    if noise.kind == "power_law":  # the only kind that evaluates the objective
        _checks.is_callable("objective", objective)
    if not isinstance(X, jax.core.Tracer):
        X = _checks.finite_array("X", X, ndim=2)
    if not isinstance(draws, jax.core.Tracer):
        if draws is None or isinstance(draws, (str, bytes)):
            raise ValueError(f"draws must be the array returned by draw(), got {draws!r}")
        if noise.kind != "minibatch":
            draws = _checks.finite_array("draws", draws)
    if noise.kind != "minibatch" and jnp.shape(draws) != jnp.shape(X):
        raise ValueError(f"draws must have the shape of X {jnp.shape(X)} (from draw(noise, key, t, X.shape, ...)), "
                         f"got {jnp.shape(draws)}")
    if noise.kind == "given":
        Z = noise.sigma * draws
        nrm = jnp.sqrt(jnp.sum(Z * Z, axis=-1, keepdims=True))
        return Z * jnp.minimum(1.0, noise.clip / jnp.maximum(nrm, 1e-30))
    if noise.kind == "gaussian":
        return noise.sigma * draws
    if noise.kind == "state_dependent":
        return noise.scale(X, noise.params)[..., None] * draws
    if noise.kind == "power_law":
        scale = noise.sigma * jnp.sqrt(jnp.maximum(objective(X), 0.0))
        return scale[..., None] * draws
    if noise.kind == "heavy_tailed":
        return noise.sigma * jnp.sqrt((noise.df - 2.0) / noise.df) * draws
    if noise.kind == "minibatch":
        prob = noise.problem
        g_batch = jax.grad(lambda Y: jnp.sum(prob.batch_loss(Y, draws)))(X)
        return g_batch - batch_grad(prob)(X)
    raise ValueError(f"noise.kind must be one of {KINDS}, got {noise.kind!r}")
