r"""Zero-mean gradient-noise models :math:`Z(x;\omega)`.

SGD with noise model ``Z`` iterates
:math:`x_{t+1} = x_t - \eta_t\,[\nabla f(x_t) + Z(x_t;\omega_t)]`
(:cite:`azizian2025talk`, :cite:`pauwels2024intro`).  Every model here has
:math:`\mathbb E[Z(x;\omega)] = 0`; they differ in how the covariance depends
on :math:`x` and in their tails:

=================  ==========================================================
:func:`gaussian`   :math:`Z \sim \mathcal N(0, \sigma^2 I_d)`
:func:`power_law`  :math:`Z \sim \mathcal N(0, \sigma^2 f(x) I_d)` (state dependent)
:func:`minibatch`  :math:`Z = \nabla f_B(x) - \nabla f(x)` for a finite sum
:func:`heavy_tailed` Student-t with ``df`` degrees of freedom, covariance :math:`\sigma^2 I_d`
=================  ==========================================================

A model is a frozen dataclass registered as a JAX pytree: its numeric
parameters (``sigma``, ``df``, the data of a finite sum) are *traced* when it
is passed to a jitted simulator, so changing them (a widget slider) does not
recompile; only its ``kind`` and ``batch_size`` are static.

:func:`sample` draws the noise for a whole batch of chains at once:
``X`` of shape ``(n, d)`` gives ``Z`` of shape ``(n, d)``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from . import _checks
from .landscapes import FiniteSum, batch_grad

__all__ = ["NoiseModel", "KINDS", "gaussian", "power_law", "minibatch", "heavy_tailed", "sample"]

KINDS = ("gaussian", "power_law", "minibatch", "heavy_tailed")
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
    if not isinstance(df, jax.core.Tracer) and not float(df) > 2.0:
        raise ValueError(f"df must be > 2 so that the covariance is finite, got {df!r}")
    return NoiseModel(_scalar(sigma), _scalar(df), None, "heavy_tailed")


def sample(noise: NoiseModel, key: jax.Array, X: jax.Array, objective: Callable[[jax.Array], jax.Array]) -> jax.Array:
    """Draw :math:`Z(X;\\omega)` for a batch of chains.

    Shapes: ``X`` ``(n, d)``; returns ``(n, d)``.  ``objective`` is the landscape
    (needed by ``power_law``; for ``minibatch`` it must be the finite sum).
    Traceable: call it inside ``jit``/``scan``.
    """
    if noise.kind == "gaussian":
        return noise.sigma * jax.random.normal(key, X.shape, X.dtype)
    if noise.kind == "power_law":
        scale = noise.sigma * jnp.sqrt(jnp.maximum(objective(X), 0.0))
        return scale[..., None] * jax.random.normal(key, X.shape, X.dtype)
    if noise.kind == "heavy_tailed":
        t = jax.random.t(key, noise.df, X.shape, X.dtype)
        return noise.sigma * jnp.sqrt((noise.df - 2.0) / noise.df) * t
    if noise.kind == "minibatch":
        prob = noise.problem
        idx = jax.random.randint(key, X.shape[:-1] + (noise.batch_size,), 0, prob.n)
        g_batch = jax.grad(lambda Y: jnp.sum(prob.batch_loss(Y, idx)))(X)
        return g_batch - batch_grad(prob)(X)
    raise ValueError(f"noise.kind must be one of {KINDS}, got {noise.kind!r}")
