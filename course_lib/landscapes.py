r"""Loss landscapes used throughout the course.

Every landscape maps an array of parameters of shape ``(..., d)`` to losses of
shape ``(...)``; all are pure JAX functions, so ``jax.grad``, ``jax.vmap`` and
``jax.jit`` apply to them directly.  A batch of chains ``X`` of shape ``(n, d)``
has per-chain gradients ``jax.grad(lambda X: f(X).sum())(X)``; see
:func:`batch_grad`.

Two-dimensional test functions
------------------------------
* :func:`himmelblau` -- four global minima with value 0, used in the talk of
  Azizian, Iutzeler, Malick and Mertikopoulos :cite:`azizian2025talk`.
* :func:`three_humps` -- the sixth-degree "three humps" polynomial of the same
  talk: one global and two local minima of different depths.
* :func:`rosenbrock` -- the classical curved valley.
* :func:`quadratic` -- :math:`\tfrac12 (x-x^\star)^\top A (x-x^\star)`.

Finite sums
-----------
:class:`FiniteSum` holds generated data for empirical risk minimisation
:math:`f(x) = \frac1n \sum_{i=1}^n f_i(x)` (least squares or logistic
regression), the first of the "two pillars" of :cite:`pauwels2024intro`.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "Landscape",
    "himmelblau",
    "three_humps",
    "rosenbrock",
    "quadratic",
    "batch_grad",
    "HIMMELBLAU_MINIMA",
    "THREE_HUMPS_MINIMA",
    "THREE_HUMPS_SADDLES",
    "FiniteSum",
    "least_squares",
    "logistic_regression",
]

Landscape = Callable[[jax.Array], jax.Array]
"""Loss landscapes are functions from arrays ``(..., d)`` to arrays ``(...)``."""


def himmelblau(x: jax.Array) -> jax.Array:
    r"""Himmelblau's function :math:`f(x) = (x_1^2 + x_2 - 11)^2 + (x_1 + x_2^2 - 7)^2`.

    Shapes: ``x`` is ``(..., 2)``; returns ``(...)``.  Four global minima, all
    with value 0 (see :data:`HIMMELBLAU_MINIMA`), one local maximum near
    :math:`(-0.27, -0.92)` and four saddle points.
    """
    x = _checks.last_axis("x", x, 2)
    x1, x2 = x[..., 0], x[..., 1]
    return (x1**2 + x2 - 11.0) ** 2 + (x1 + x2**2 - 7.0) ** 2


HIMMELBLAU_MINIMA = np.array(
    [
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286170],
        [3.584428340330492, -1.848126526964404],
    ]
)
"""The four global minimisers of :func:`himmelblau`, shape ``(4, 2)``, float64 (Newton-refined)."""


def three_humps(x: jax.Array) -> jax.Array:
    r"""The "three humps" polynomial of :cite:`azizian2025talk`.

    .. math::
        f(x) = \tfrac{2}{13} x_1^6 + \tfrac18 x_1^5 - \tfrac{91}{64} x_1^4
               - \tfrac{24}{48} x_1^3 + \tfrac{42}{16} x_1^2
               + \tfrac54 x_2^2 + x_1 x_2 .

    Shapes: ``x`` is ``(..., 2)``; returns ``(...)``.  Three local minima
    of different depths, separated by two saddle points.
    """
    x = _checks.last_axis("x", x, 2)
    x1, x2 = x[..., 0], x[..., 1]
    return (
        2.0 * x1**6 / 13.0
        + x1**5 / 8.0
        - 91.0 * x1**4 / 64.0
        - 24.0 * x1**3 / 48.0
        + 42.0 * x1**2 / 16.0
        + 5.0 * x2**2 / 4.0
        + x1 * x2
    )


# Critical points of three_humps: df/dx2 = 0 gives x2 = -2 x1 / 5, then the roots of a quintic in x1
# (computed with sympy and refined by Newton's method in float64; checked in tests/test_landscapes.py).
_TH_X1_MINIMA = np.array([-2.5329956276450484, 0.0, 2.0783998902097991])
_TH_X1_SADDLES = np.array([-1.1164291511270398, 0.8939415552289557])
THREE_HUMPS_MINIMA = np.stack([_TH_X1_MINIMA, -0.4 * _TH_X1_MINIMA], axis=-1)
"""The three local minimisers of :func:`three_humps`, shape ``(3, 2)``, float64, from left to right:
the global one (f ≈ -7.2477), the middle one (f = 0) and the right one (f ≈ -3.2971)."""
THREE_HUMPS_SADDLES = np.stack([_TH_X1_SADDLES, -0.4 * _TH_X1_SADDLES], axis=-1)
"""The two saddle points of :func:`three_humps`, shape ``(2, 2)``, float64, from left to right."""


_F32_SQRT_MAX = _checks.FLOAT32_MAX ** 0.5


def rosenbrock(x: jax.Array, a: float = 1.0, b: float = 100.0) -> jax.Array:
    r"""Rosenbrock's valley :math:`f(x) = (a - x_1)^2 + b (x_2 - x_1^2)^2`.

    Shapes: ``x`` is ``(..., 2)``; returns ``(...)``.  Unique minimiser
    :math:`(a, a^2)`.
    """
    x = _checks.last_axis("x", x, 2)
    _checks.real("a", a)
    _checks.real("b", b)
    _checks.at_most("a", a, _F32_SQRT_MAX, "(a - x1)**2 is computed in float32")
    _checks.at_most("b", b)
    x1, x2 = x[..., 0], x[..., 1]
    return (a - x1) ** 2 + b * (x2 - x1**2) ** 2


def quadratic(x: jax.Array, A: jax.Array, center: jax.Array | None = None) -> jax.Array:
    r"""Quadratic :math:`f(x) = \tfrac12 (x - c)^\top A (x - c)`.

    Shapes: ``x`` is ``(..., d)``, ``A`` is ``(d, d)`` symmetric, ``center`` is
    ``(d,)`` (zero by default); returns ``(...)``.  Its gradient is
    :math:`A(x - c)`, its smoothness constant the largest eigenvalue of ``A``.
    Use ``functools.partial(quadratic, A=A)`` to obtain a :data:`Landscape`.
    """
    A = _checks.finite_array("A", A, ndim=2)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix of shape (d, d), got shape {tuple(A.shape)}")
    x = _checks.last_axis("x", x, A.shape[0])
    z = x if center is None else x - jnp.asarray(center)
    return 0.5 * jnp.einsum("...i,ij,...j->...", z, A, z)


def batch_grad(f: Landscape) -> Callable[[jax.Array], jax.Array]:
    """Gradient of a landscape applied row-wise: ``(..., d) -> (..., d)``.

    Because the rows of a batch do not interact, the gradient of
    ``f(X).sum()`` with respect to ``X`` stacks the per-row gradients; this
    costs one reverse pass for the whole batch.
    """
    _checks.is_callable("f", f)
    return jax.grad(lambda X: jnp.sum(f(X)))


# ---------------------------------------------------------------------------
# Finite sums
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FiniteSum:
    r"""Empirical risk :math:`f(x) = \frac1n\sum_{i=1}^n \ell(a_i^\top x, b_i) + \frac{\lambda}{2}\|x\|^2`.

    ``kind`` is ``"least_squares"`` (:math:`\ell(p, b) = \tfrac12 (p - b)^2`) or
    ``"logistic"`` (:math:`\ell(p, b) = \log(1 + e^{-b p})`, labels
    :math:`b \in \{-1, +1\}`).  Shapes: ``features`` ``(n, d)``, ``targets``
    ``(n,)``.  It is a JAX pytree, so it can be passed to jitted functions
    (the data are traced, ``kind`` is static).
    """

    features: jax.Array
    targets: jax.Array
    reg: jax.Array
    kind: str = dataclasses.field(metadata=dict(static=True), default="least_squares")

    def __post_init__(self) -> None:
        # checked when a user builds one; JAX rebuilds the pytree without __init__ (see _unflatten below), so
        # its placeholders (None, object(), axis numbers) never come here.  Traced data are not checked.
        _checks.one_of("kind", self.kind, ("least_squares", "logistic"))
        F, b, reg = self.features, self.targets, self.reg
        tracer = jax.core.Tracer
        if not isinstance(F, tracer):
            F = _checks.finite_array("features", F, ndim=2)
            if not isinstance(self.features, (np.ndarray, jax.Array)):
                object.__setattr__(self, "features", F)
        if not isinstance(b, tracer):
            b = _checks.finite_array("targets", b, ndim=1)
            if not isinstance(self.targets, (np.ndarray, jax.Array)):
                object.__setattr__(self, "targets", b)
        if not isinstance(F, tracer) and not isinstance(b, tracer) and b.shape[0] != F.shape[0]:
            raise ValueError(f"targets must have shape ({F.shape[0]},) (one per row of features), "
                             f"got shape {tuple(b.shape)}")
        if not isinstance(reg, tracer):
            _checks.nonnegative("reg", reg)

    @property
    def n(self) -> int:
        """Number of terms of the sum."""
        return self.features.shape[0]

    @property
    def dim(self) -> int:
        """Dimension d of the parameters."""
        return self.features.shape[1]

    def _terms(self, x: jax.Array, idx: jax.Array | None) -> jax.Array:
        A = self.features if idx is None else self.features[idx]
        b = self.targets if idx is None else self.targets[idx]
        # idx None: A (n, d), x (..., d) -> p (..., n)
        # idx (..., B): A (..., B, d), x (..., d) -> p (..., B)
        p = jnp.einsum("...d,nd->...n", x, A) if idx is None else jnp.einsum("...bd,...d->...b", A, x)
        if self.kind == "least_squares":
            return 0.5 * (p - b) ** 2
        return jnp.logaddexp(0.0, -b * p)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Full loss :math:`f(x)`: ``(..., d) -> (...)``."""
        x = _checks.last_axis("x", x, self.dim)
        return jnp.mean(self._terms(x, None), axis=-1) + 0.5 * self.reg * jnp.sum(x**2, axis=-1)

    def batch_loss(self, x: jax.Array, idx: jax.Array) -> jax.Array:
        r"""Minibatch loss :math:`f_B(x) = \frac1{|B|}\sum_{i\in B} f_i(x)`.

        Shapes: ``x`` ``(..., d)``, ``idx`` ``(..., B)`` integer indices; returns ``(...)``.
        Its expectation over uniform ``idx`` is :math:`f(x)`.
        """
        x = _checks.last_axis("x", x, self.dim)
        return jnp.mean(self._terms(x, idx), axis=-1) + 0.5 * self.reg * jnp.sum(x**2, axis=-1)


def _flatten_with_keys(fs: FiniteSum):
    GetAttrKey = jax.tree_util.GetAttrKey
    return ((GetAttrKey("features"), fs.features), (GetAttrKey("targets"), fs.targets),
            (GetAttrKey("reg"), fs.reg)), fs.kind


def _unflatten(kind: str, leaves) -> FiniteSum:
    # no __init__, hence no validation: JAX rebuilds pytrees with tracers and placeholders as leaves
    fs = object.__new__(FiniteSum)
    for name, value in zip(("features", "targets", "reg"), leaves):
        object.__setattr__(fs, name, value)
    object.__setattr__(fs, "kind", kind)
    return fs


jax.tree_util.register_pytree_with_keys(
    FiniteSum, _flatten_with_keys, _unflatten, lambda fs: ((fs.features, fs.targets, fs.reg), fs.kind))


def least_squares(key: jax.Array, n: int, d: int, noise: float = 0.1, reg: float = 0.0) -> FiniteSum:
    r"""Generated least-squares problem :math:`b = A x^\star + \varepsilon`.

    Rows :math:`a_i \sim \mathcal N(0, I_d)`, :math:`x^\star \sim \mathcal N(0, I_d/d)`,
    :math:`\varepsilon_i \sim \mathcal N(0, \text{noise}^2)`.
    """
    _checks.prng_key("key", key, batched=True)
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    _checks.nonnegative("noise", noise)
    _checks.nonnegative("reg", reg)
    A, b = _least_squares_data(key, jnp.asarray(noise, jnp.float32), n, d)
    return FiniteSum(A, b, jnp.asarray(reg, dtype=A.dtype), "least_squares")


# run once per problem: XLA's optimisation level 0 compiles the random generators about 4x faster
@partial(jax.jit, static_argnames=("n", "d"), compiler_options={"xla_backend_optimization_level": 0})
def _least_squares_data(key, noise, n, d):   # one compiled call instead of one per eager operation
    k1, k2, k3 = jax.random.split(key, 3)
    A = jax.random.normal(k1, (n, d))
    x_star = jax.random.normal(k2, (d,)) / jnp.sqrt(d)
    return A, A @ x_star + noise * jax.random.normal(k3, (n,))


def logistic_regression(key: jax.Array, n: int, d: int, reg: float = 0.0) -> FiniteSum:
    r"""Generated logistic regression: labels :math:`b_i = \pm 1` drawn with
    :math:`P(b_i = 1) = 1/(1 + e^{-a_i^\top x^\star})`, :math:`a_i \sim \mathcal N(0, I_d)`.
    """
    _checks.prng_key("key", key, batched=True)
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    _checks.nonnegative("reg", reg)
    A, b = _logistic_data(key, n, d)
    return FiniteSum(A, b, jnp.asarray(reg, dtype=A.dtype), "logistic")


@partial(jax.jit, static_argnames=("n", "d"))
def _logistic_data(key, n, d):   # one compiled call instead of one per eager operation
    k1, k2, k3 = jax.random.split(key, 3)
    A = jax.random.normal(k1, (n, d))
    x_star = 2.0 * jax.random.normal(k2, (d,)) / jnp.sqrt(d)
    prob = jax.nn.sigmoid(A @ x_star)
    return A, jnp.where(jax.random.uniform(k3, (n,)) < prob, 1.0, -1.0)
