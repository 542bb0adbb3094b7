r"""Nonsmooth functions: Clarke subgradients, backprop artifacts, conservative fields.

Following the "Nonsmoothness" part of :cite:`pauwels2024intro`, with
:cite:`clarke1983`, :cite:`bolte2021conservative` and :cite:`davis2020stochastic`.

Five groups of functions:

* **Clarke subdifferential in one dimension.**  For a locally Lipschitz
  :math:`f:\mathbb R\to\mathbb R`, Rademacher's theorem gives a derivative
  almost everywhere, and

  .. math::
      \partial^c f(x) = \operatorname{conv}\{\lim_k f'(y_k) : y_k \to x,\ f \text{ differentiable at } y_k\}.

  For a piecewise :math:`C^1` function this is the interval between the two
  one-sided limits of :math:`f'` at :math:`x`.
  :func:`clarke_subdifferential_sympy` computes it exactly for a sympy
  expression (``Abs``, ``Max``, ``Min``, ``Piecewise`` allowed);
  :func:`clarke_interval` approximates it numerically for a JAX function, as the
  hull of derivatives at points of a small punctured neighbourhood.
* **Three formulas for relu and their artifacts.**  :func:`relu`,
  :func:`relu2` (:math:`t\mapsto\operatorname{relu}(-t)+t`), :func:`relu3`
  (their average) and :func:`relu_mixture` are one function, but
  ``jax.grad`` returns 0, 1, 1/2 and :math:`1-w` at 0.  :func:`zero`,
  :func:`scaled_zero` and :func:`identity` turn this into artifacts: a
  derivative :math:`s` for the zero function and a derivative 0 for the
  identity.
* **Conservative fields.**  A set-valued field :math:`D` is conservative for
  :math:`f` when, along every absolutely continuous curve :math:`\gamma`,
  :math:`\frac{d}{dt} f(\gamma(t)) = \langle v, \dot\gamma(t)\rangle` for all
  :math:`v\in D(\gamma(t))` and almost every :math:`t`
  :cite:`bolte2021conservative`.  :func:`chain_rule_residuals` and
  :func:`path_integral_gap` check this identity numerically.
* **First-order methods.**  :func:`subgradient_method` (any oracle, any step
  sequence), the lasso problem (:func:`lasso_problem`, :func:`lasso_objective`,
  :func:`lasso_subgradient`, :func:`lasso_solution`), the classical bound
  :func:`subgradient_bound`, and gradient descent on a Huber-smoothed surrogate
  (:func:`smoothed_lasso_descent`).
* **Pictures.**  :func:`sawtooth` (a Lipschitz function uniformly close to 0
  whose Clarke subdifferential is :math:`[-1,1]`) and
  :func:`draw_formula_comparison` (the figure of the chapter's widget).

Scalar functions take and return JAX scalars or arrays (elementwise).  Bad
input raises :class:`ValueError` naming the argument.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks

__all__ = [
    "relu",
    "relu2",
    "relu3",
    "relu_mixture",
    "zero",
    "scaled_zero",
    "identity",
    "FORMULAS",
    "formula",
    "backprop_derivative",
    "clarke_subdifferential_sympy",
    "clarke_interval",
    "interval_add",
    "contains",
    "sawtooth",
    "chain_rule_residuals",
    "path_integral_gap",
    "backprop_oracle",
    "SubgradientRun",
    "subgradient_method",
    "Lasso",
    "lasso_problem",
    "lasso_objective",
    "lasso_subgradient",
    "lasso_solution",
    "subgradient_bound",
    "smoothed_lasso_descent",
    "draw_formula_comparison",
]

# ---------------------------------------------------------------------------
# relu variants and artifact functions
# ---------------------------------------------------------------------------


def _input(name: str, t: Any) -> jax.Array:
    """A float array; concrete input is checked (real, finite, not empty), traced input passes through."""
    if isinstance(t, jax.core.Tracer):
        return jnp.asarray(t, dtype=jnp.result_type(float))
    return _checks.finite_array(name, t)


def relu(t: Any) -> jax.Array:
    r"""The rectified linear unit :math:`\operatorname{relu}(t) = \max(0, t)`, elementwise.

    Written as ``where(t > 0, t, 0)``, so backprop at 0 returns 0 (the convention
    of TensorFlow, PyTorch and ``jax.nn.relu``).  Shape in = shape out.
    """
    t = _input("t", t)
    return jnp.where(t > 0, t, 0.0)


def relu2(t: Any) -> jax.Array:
    r""":math:`\operatorname{relu}_2(t) = \operatorname{relu}(-t) + t`: the same function as :func:`relu`.

    Backprop at 0 returns :math:`-\operatorname{relu}'(0) + 1 = 1` :cite:`pauwels2024intro`.
    """
    t = _input("t", t)
    return relu(-t) + t


def relu3(t: Any) -> jax.Array:
    r""":math:`\operatorname{relu}_3 = (\operatorname{relu} + \operatorname{relu}_2)/2`: again relu; backprop at 0 returns 1/2."""
    t = _input("t", t)
    return 0.5 * (relu(t) + relu2(t))


def relu_mixture(t: Any, weight: Any) -> jax.Array:
    r""":math:`w\,\operatorname{relu}(t) + (1-w)\,\operatorname{relu}_2(t)`: relu for every real :math:`w`.

    Backprop at 0 returns :math:`1 - w`; any real number is reachable.
    ``weight`` is a scalar.
    """
    t = _input("t", t)
    _checks.real("weight", weight)
    _checks.at_most("weight", weight, 1e30, "the formula is evaluated in float32")
    return weight * relu(t) + (1.0 - weight) * relu2(t)


def zero(x: Any) -> jax.Array:
    r""":math:`\operatorname{zero}(x) = \operatorname{relu}_2(x) - \operatorname{relu}(x) = 0`, whose backprop at 0 is 1."""
    x = _input("x", x)
    return relu2(x) - relu(x)


def scaled_zero(x: Any, s: Any) -> jax.Array:
    r""":math:`s\cdot\operatorname{zero}(x) = 0`, whose backprop at 0 is :math:`s` (any real number)."""
    x = _input("x", x)
    _checks.real("s", s)
    _checks.at_most("s", s, 1e30, "the formula is evaluated in float32")
    return s * zero(x)


def identity(x: Any) -> jax.Array:
    r""":math:`\operatorname{identity}(x) = x - \operatorname{zero}(x) = x`, whose backprop at 0 is 0 (a spurious critical point)."""
    x = _input("x", x)
    return x - zero(x)


FORMULAS: tuple[str, ...] = ("relu", "relu2", "relu3", "mixture")
"""Names of the four formulas for relu, in the order used by :func:`formula` (and the widget)."""


def formula(index: int, weight: float = 0.25) -> tuple[str, Callable[[Any], jax.Array]]:
    r"""The ``index``-th formula for relu (see :data:`FORMULAS`) as ``(label, t -> value)``.

    Index 3 is :func:`relu_mixture` with the given ``weight`` :math:`w`.
    """
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(FORMULAS):
        raise ValueError(f"index must be an integer in 0..{len(FORMULAS) - 1} (one of {FORMULAS}), got {index!r}")
    weight = float(_checks.finite_array("weight", weight, ndim=0))
    index = int(index)
    if index == 0:
        return r"$\mathrm{relu}(t)$", relu
    if index == 1:
        return r"$\mathrm{relu}_2(t) = \mathrm{relu}(-t) + t$", relu2
    if index == 2:
        return r"$\mathrm{relu}_3 = (\mathrm{relu} + \mathrm{relu}_2)/2$", relu3
    other = 1.0 - weight
    sign = "+" if other >= 0 else "-"
    label = rf"${weight:g}\,\mathrm{{relu}} {sign} {abs(other):g}\,\mathrm{{relu}}_2$"
    return label, lambda t: relu_mixture(t, weight)


def backprop_derivative(f: Callable[[Any], Any], x: Any) -> jax.Array:
    """What reverse-mode AD returns for a scalar function ``f`` at each point of ``x`` (``jax.grad``, vectorised).

    ``x`` has any shape; the result has the same shape.
    """
    if not callable(f):
        raise ValueError(f"f must be a callable R -> R, got {type(f).__name__}")
    x = _checks.finite_array("x", x)
    g = jax.vmap(jax.grad(lambda t: jnp.asarray(f(t), dtype=x.dtype)))
    return g(x.reshape(-1)).reshape(x.shape)


# ---------------------------------------------------------------------------
# Clarke subdifferential in one dimension
# ---------------------------------------------------------------------------


def _side_piece(dexpr: Any, x: Any, x0: Any, side: int) -> Any:
    """The branch of the Piecewise ``dexpr`` active just to the ``side`` (+1/-1) of ``x0``."""
    import sympy as sp

    if not isinstance(dexpr, sp.Piecewise):
        return dexpr
    chosen = None
    for k in (12, 15, 18):  # the same branch must be active at x0 ± 10^-k for three scales
        pt = x0 + side * sp.Rational(1, 10**k)
        for expr, cond in dexpr.args:
            val = cond.subs(x, pt) if hasattr(cond, "subs") else cond
            val = sp.simplify(val)
            if val == sp.true:
                if chosen is not None and chosen is not expr and sp.simplify(chosen - expr) != 0:
                    raise ValueError(f"f has breakpoints accumulating at x0={x0}; cannot find a one-sided piece")
                chosen = expr
                break
        else:
            raise ValueError(f"could not decide which piece of f is active near x0={x0}")
    return chosen


def clarke_subdifferential_sympy(expr: Any, x: Any, x0: Any) -> tuple[Any, Any]:
    r"""Exact Clarke subdifferential :math:`[a, b]` of a piecewise-smooth :math:`f:\mathbb R\to\mathbb R` at ``x0``.

    ``expr`` is a sympy expression in the real symbol ``x`` built from smooth
    functions and ``Abs``, ``Max``, ``Min``, ``Piecewise``; ``x0`` a number.
    With :math:`d_\pm = \lim_{y\to x_0^\pm} f'(y)` (Rademacher + closure),
    :math:`\partial^c f(x_0) = [\min(d_-,d_+), \max(d_-,d_+)]` :cite:`clarke1983`.
    Assumes the breakpoints of ``f`` do not accumulate within :math:`10^{-12}`
    of ``x0``.  Returns ``(a, b)`` as sympy numbers.
    """
    import sympy as sp

    if not isinstance(x, sp.Symbol):
        raise ValueError(f"x must be a sympy Symbol, got {type(x).__name__}")
    if x0 is None or isinstance(x0, (bool, complex, str, bytes)):
        raise ValueError(f"x0 must be a finite real number, got {x0!r}")
    try:
        expr = sp.sympify(expr)
        x0 = sp.nsimplify(sp.sympify(x0))
    except (sp.SympifyError, TypeError) as err:
        raise ValueError(f"expr and x0 must be a sympy expression and a number, got {expr!r}, {x0!r}") from err
    if not x0.is_real or not x0.is_finite:
        raise ValueError(f"x0 must be a finite real number, got {x0!r}")
    if expr.free_symbols - {x}:
        raise ValueError(f"expr must depend on x only, got free symbols {sorted(map(str, expr.free_symbols))}")
    pw = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    dpw = sp.piecewise_fold(sp.diff(pw, x))
    sides = []
    for side in (-1, 1):
        piece = _side_piece(dpw, x, x0, side)
        sides.append(sp.simplify(sp.limit(piece, x, x0, "+" if side > 0 else "-")))
    lo, hi = sp.Min(*sides), sp.Max(*sides)
    return sp.nsimplify(lo) if lo.is_number else lo, sp.nsimplify(hi) if hi.is_number else hi


def clarke_interval(f: Callable[[Any], Any], x0: Any, radius: float = 1e-4, num: int = 16) -> jax.Array:
    r"""Numerical Clarke subdifferential of a Lipschitz :math:`f:\mathbb R\to\mathbb R` at ``x0``: ``[a, b]``, shape ``(2,)``.

    The hull of backprop derivatives at the ``2*num`` points
    :math:`x_0 \pm \text{radius}\cdot k/\text{num}`, :math:`k = 1..\text{num}`
    (points where a piecewise-smooth program is differentiable and backprop is
    exact).  As the radius shrinks this tends to
    :math:`\partial^c f(x_0)` for piecewise :math:`C^1` functions; for a
    finite radius it is Goldstein's :math:`\varepsilon`-subdifferential.
    """
    x0 = _checks.finite_array("x0", x0, ndim=0)
    _checks.positive("radius", radius)
    if not isinstance(x0, jax.core.Tracer) and not isinstance(radius, jax.core.Tracer):
        _checks.at_most("radius", abs(float(x0)) + float(radius), why="x0 +/- radius must be finite in float32")
    num = _checks.positive_int("num", num)
    k = jnp.arange(1, num + 1, dtype=x0.dtype) / num
    pts = jnp.concatenate([x0 - radius * k, x0 + radius * k])
    d = backprop_derivative(f, pts)
    return jnp.stack([jnp.min(d), jnp.max(d)])


def interval_add(a: Any, b: Any) -> jax.Array:
    r"""Minkowski sum of intervals :math:`[a_0,a_1] + [b_0,b_1] = [a_0+b_0, a_1+b_1]`; shapes ``(2,)``."""
    a = _checks.finite_array("a", a, ndim=1, last=2)
    b = _checks.finite_array("b", b, ndim=1, last=2)
    return a + b


def contains(interval: Any, v: Any, tol: float = 1e-6) -> bool:
    """Whether the number ``v`` lies in ``interval = [lo, hi]`` (shape ``(2,)``) up to ``tol``."""
    interval = _checks.finite_array("interval", interval, ndim=1, last=2)
    v = float(_checks.finite_array("v", v, ndim=0))
    _checks.nonnegative("tol", tol)
    return bool(interval[0] - tol <= v <= interval[1] + tol)


def sawtooth(x: Any, width: float) -> jax.Array:
    r"""A 1-Lipschitz sawtooth of period ``width``: :math:`w\,|x/w - \operatorname{round}(x/w)|`.

    Its sup norm is :math:`w/2\to 0`, yet its derivative is :math:`\pm 1`
    almost everywhere, so its Clarke subdifferential on any ball of radius
    :math:`> w` is :math:`[-1, 1]` -- the mechanism behind the Borwein--Moors
    theorem on typical Lipschitz functions :cite:`borwein1997essentially`.
    """
    _checks.positive("width", width)
    _checks.at_most("width", width)
    if not isinstance(x, jax.core.Tracer):
        x = _checks.finite_array("x", x)
    u = jnp.asarray(x, dtype=jnp.result_type(float)) / width
    return width * jnp.abs(u - jnp.round(u))


# ---------------------------------------------------------------------------
# conservative fields: the chain rule along curves
# ---------------------------------------------------------------------------


def _curve_and_velocity(curve: Callable[[Any], Any], ts: jax.Array) -> tuple[jax.Array, jax.Array]:
    def one(t):
        return jax.jvp(lambda s: jnp.atleast_1d(jnp.asarray(curve(s), dtype=ts.dtype)), (t,), (jnp.ones_like(t),))

    return jax.vmap(one)(ts)


def chain_rule_residuals(
    f: Callable[[Any], Any],
    field: Callable[[Any], Any],
    curve: Callable[[Any], Any],
    ts: Any,
    h: float = 1e-3,
) -> jax.Array:
    r"""Residuals :math:`\frac{d}{dt}f(\gamma(t)) - \langle D(\gamma(t)), \dot\gamma(t)\rangle` at each ``t`` of ``ts``.

    ``f``: :math:`\mathbb R^p\to\mathbb R` on arrays of shape ``(p,)``;
    ``field``: :math:`\mathbb R^p\to\mathbb R^p` (one selection :math:`v\in D(x)`,
    e.g. ``jax.grad(f)`` = what backprop returns); ``curve``: :math:`t\mapsto
    \gamma(t)\in\mathbb R^p`, smooth; ``ts`` shape ``(n,)``.  The derivative of
    :math:`f\circ\gamma` is a central difference with step ``h`` (it sees the
    function, not the formula); :math:`\dot\gamma` is exact (``jax.jvp``).
    For a conservative field the residuals vanish for almost every ``t``
    :cite:`bolte2021conservative`.  Returns shape ``(n,)``.
    """
    for name, fn in (("f", f), ("field", field), ("curve", curve)):
        if not callable(fn):
            raise ValueError(f"{name} must be a callable, got {type(fn).__name__}")
    ts = _checks.finite_array("ts", ts, ndim=1)
    _checks.positive("h", h)
    _checks.at_most("h", h, 1e30, "t +/- h is computed in float32")
    fg = jax.vmap(lambda t: jnp.asarray(f(jnp.atleast_1d(jnp.asarray(curve(t), dtype=ts.dtype))), dtype=ts.dtype))
    dfdt = (fg(ts + h) - fg(ts - h)) / (2 * h)
    pts, vel = _curve_and_velocity(curve, ts)
    v = jax.vmap(lambda p: jnp.atleast_1d(jnp.asarray(field(p), dtype=ts.dtype)))(pts)
    if v.shape != vel.shape:
        raise ValueError(f"field must return a vector of the curve's dimension {vel.shape[1:]}, got {v.shape[1:]}")
    return dfdt - jnp.sum(v * vel, axis=-1)


def path_integral_gap(
    f: Callable[[Any], Any],
    field: Callable[[Any], Any],
    curve: Callable[[Any], Any],
    num: int = 1000,
) -> jax.Array:
    r"""The gap :math:`f(\gamma(1)) - f(\gamma(0)) - \int_0^1 \langle D(\gamma(t)), \dot\gamma(t)\rangle\,dt`.

    The integral is the midpoint rule with ``num`` cells.  Zero (up to
    quadrature error) for every curve when ``field`` is conservative for ``f``;
    a curve with a non-zero gap proves the field is not.  Scalar.
    """
    for name, fn in (("f", f), ("field", field), ("curve", curve)):
        _checks.is_callable(name, fn)
    num = _checks.positive_int("num", num)
    _checks.work_size(f"path_integral_gap(num={num})", steps=num)
    ts = (jnp.arange(num, dtype=jnp.result_type(float)) + 0.5) / num
    pts, vel = _curve_and_velocity(curve, ts)
    v = jax.vmap(lambda p: jnp.atleast_1d(jnp.asarray(field(p), dtype=ts.dtype)))(pts)
    if v.shape != vel.shape:
        raise ValueError(f"field must return a vector of the curve's dimension {vel.shape[1:]}, got {v.shape[1:]}")
    integral = jnp.mean(jnp.sum(v * vel, axis=-1))
    ends = [jnp.atleast_1d(jnp.asarray(curve(jnp.asarray(s, dtype=ts.dtype)), dtype=ts.dtype)) for s in (0.0, 1.0)]
    return jnp.asarray(f(ends[1]) - f(ends[0]), dtype=ts.dtype) - integral


# ---------------------------------------------------------------------------
# first-order methods
# ---------------------------------------------------------------------------


def backprop_oracle(f: Callable[[Any], Any]) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """The oracle ``w -> (f(w), jax.grad(f)(w))``: value and what backprop returns."""
    if not callable(f):
        raise ValueError(f"f must be a callable, got {type(f).__name__}")
    return jax.value_and_grad(f)


class SubgradientRun(NamedTuple):
    """Output of :func:`subgradient_method`: iterates ``(K+1, *w.shape)``, values ``(K+1,)``, ``grad_norms`` ``(K,)``."""

    iterates: jax.Array
    values: jax.Array
    grad_norms: jax.Array


def subgradient_method(
    oracle: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
    w0: Any,
    steps: Any,
) -> SubgradientRun:
    r"""Run :math:`w_{k+1} = w_k - \alpha_k g_k`, :math:`(F(w_k), g_k) = \text{oracle}(w_k)`.

    ``w0`` shape ``(p,)`` or scalar; ``steps`` shape ``(K,)`` (constant steps:
    ``jnp.full(K, alpha)``; vanishing ones: ``c / jnp.sqrt(1 + jnp.arange(K))``).
    Returns ``(iterates, values, grad_norms)`` of shapes ``(K+1, *w0.shape)``,
    ``(K+1,)`` (value at each iterate) and ``(K,)`` (:math:`\|g_k\|`).
    """
    if not callable(oracle):
        raise ValueError(f"oracle must be a callable w -> (value, subgradient), got {type(oracle).__name__}")
    w0 = _checks.finite_array("w0", w0)
    steps = _checks.finite_array("steps", steps, ndim=1)
    if steps.shape[0] < 1 or (not _checks._is_tracer(steps) and (np.asarray(steps) < 0).any()):
        raise ValueError(f"steps must be a non-empty array of non-negative step sizes, got shape {steps.shape}")
    iterates, values, norms = _subgradient_scan(oracle, w0, steps)
    if not _checks._is_tracer(iterates):  # the one divergence policy: a single path raises
        from .divergence import DEFAULT_RADIUS, check

        check(iterates, "subgradient_method (reduce the steps)", DEFAULT_RADIUS * (1.0 + float(np.max(np.abs(np.asarray(w0))))))
        check(values, "subgradient_method's values (reduce the steps)", float("inf"))
    return SubgradientRun(iterates, values, norms)


@functools.partial(jax.jit, static_argnames=("oracle",))
def _subgradient_scan(oracle, w0, steps):
    # compiled once per oracle and shapes (an eager scan compiled again at every call)
    def body(w, a):
        val, g = oracle(w)
        g = jnp.asarray(g, dtype=w.dtype).reshape(w.shape)
        return w - a * g, (w, jnp.asarray(val, dtype=w.dtype), jnp.sqrt(jnp.sum(g**2)))

    w_last, (ws, vals, norms) = jax.lax.scan(body, w0, steps)
    v_last, _ = oracle(w_last)
    iterates = jnp.concatenate([ws, w_last[None]])
    values = jnp.concatenate([vals, jnp.asarray(v_last, dtype=w0.dtype)[None]])
    return iterates, values, norms


class Lasso(NamedTuple):
    r"""The problem :math:`\min_w F(w) = \frac1{2n}\|Xw-y\|^2 + \lambda\|w\|_1`; ``X`` ``(n, p)``, ``y`` ``(n,)``."""

    X: jax.Array
    y: jax.Array
    lam: float


def lasso_problem(n: int = 40, p: int = 20, lam: float = 0.1, sparsity: int = 4, noise: float = 0.1, seed: int = 0) -> Lasso:
    """A random ℓ1-regularised regression: Gaussian design, ``sparsity``-sparse truth, Gaussian noise."""
    n, p, sparsity = (_checks.positive_int(k, v) for k, v in (("n", n), ("p", p), ("sparsity", sparsity)))
    _checks.positive("lam", lam)
    _checks.nonnegative("noise", noise)
    if sparsity > p:
        raise ValueError(f"sparsity must be at most p={p}, got {sparsity}")
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    X = jax.random.normal(k1, (n, p))
    w_true = jnp.zeros(p).at[:sparsity].set(jax.random.normal(k2, (sparsity,)) + 1.0)
    y = X @ w_true + noise * jax.random.normal(k3, (n,))
    return Lasso(X, y, float(lam))


def _check_problem(problem: Any) -> Lasso:
    if not isinstance(problem, Lasso):
        raise ValueError(f"problem must be a Lasso (from lasso_problem), got {type(problem).__name__}")
    return problem


def _lasso_point(w: Any, p: int) -> jax.Array:
    if isinstance(w, jax.core.Tracer):
        return w
    return _checks.finite_array("w", w, last=p)


def lasso_objective(w: Any, problem: Lasso) -> jax.Array:
    r""":math:`F(w) = \frac1{2n}\|Xw - y\|^2 + \lambda\|w\|_1`; ``w`` shape ``(p,)``; scalar."""
    X, y, lam = _check_problem(problem)
    w = _lasso_point(w, X.shape[1])
    r = X @ w - y
    return 0.5 * jnp.mean(r**2) + lam * jnp.sum(jnp.abs(w))


def lasso_subgradient(w: Any, problem: Lasso) -> jax.Array:
    r"""A subgradient :math:`\frac1n X^\top(Xw-y) + \lambda\,\operatorname{sign}(w) \in \partial F(w)`; shape ``(p,)``."""
    X, y, lam = _check_problem(problem)
    w = _lasso_point(w, X.shape[1])
    return X.T @ (X @ w - y) / X.shape[0] + lam * jnp.sign(w)


def _smooth_constant(X: jax.Array) -> jax.Array:
    return jnp.linalg.norm(X, ord=2) ** 2 / X.shape[0]


def lasso_solution(problem: Lasso, num_steps: int = 3000) -> tuple[jax.Array, jax.Array]:
    r"""A minimiser :math:`w^\star` and :math:`F^\star` by FISTA (accelerated proximal gradient), ``num_steps`` steps."""
    X, y, lam = _check_problem(problem)
    num_steps = _checks.positive_int("num_steps", num_steps)
    L = _smooth_constant(X)

    def prox_step(z):
        g = X.T @ (X @ z - y) / X.shape[0]
        u = z - g / L
        return jnp.sign(u) * jnp.maximum(jnp.abs(u) - lam / L, 0.0)

    def body(carry, _):
        w, z, t = carry
        w_new = prox_step(z)
        t_new = 0.5 * (1 + jnp.sqrt(1 + 4 * t**2))
        return (w_new, w_new + (t - 1) / t_new * (w_new - w), t_new), None

    w0 = jnp.zeros(X.shape[1])
    (w, _, _), _ = jax.lax.scan(body, (w0, w0, jnp.asarray(1.0)), None, length=num_steps)
    return w, lasso_objective(w, problem)


def subgradient_bound(dist0: Any, grad_norms: Any, steps: Any) -> jax.Array:
    r"""The bound :math:`\min_{i\le k} F(w_i) - F^\star \le \dfrac{\|w_0-w^\star\|^2 + \sum_{i<k}\alpha_i^2\|g_i\|^2}{2\sum_{i<k}\alpha_i}`.

    Valid for convex :math:`F` (:cite:`nesterov2018lectures`, Section 3.2.3).
    ``dist0`` = :math:`\|w_0-w^\star\|`; ``grad_norms`` and ``steps`` shape
    ``(K,)``.  Returns the bound for :math:`k = 1..K`, shape ``(K,)``.  With
    :math:`\|g_i\|\le G` and :math:`\alpha_i = c/\sqrt{i+1}` it is
    :math:`O(\log k/\sqrt k)`; with a constant step :math:`\alpha` it tends to
    :math:`\alpha G^2/2`.
    """
    _checks.nonnegative("dist0", dist0)
    g = _checks.finite_array("grad_norms", grad_norms, ndim=1)
    a = _checks.finite_array("steps", steps, ndim=1)
    if g.shape != a.shape:
        raise ValueError(f"grad_norms and steps must have the same shape, got {g.shape} and {a.shape}")
    return (dist0**2 + jnp.cumsum(a**2 * g**2)) / (2 * jnp.cumsum(a))


def smoothed_lasso_descent(problem: Lasso, w0: Any, mu: float, num_steps: int) -> tuple[jax.Array, jax.Array]:
    r"""Gradient descent on the smooth surrogate :math:`F_\mu` (Huber-smoothed :math:`|\cdot|`).

    :math:`h_\mu(u) = u^2/(2\mu)` if :math:`|u|\le\mu`, else :math:`|u|-\mu/2`,
    so :math:`F_\mu\le F\le F_\mu + \lambda p\mu/2` and :math:`\nabla F_\mu` is
    :math:`(L + \lambda/\mu)`-Lipschitz; step :math:`1/(L+\lambda/\mu)`.
    Returns ``(iterates (K+1, p), F(iterates) (K+1,))`` -- the values are those
    of the *true* objective :math:`F`.
    """
    X, y, lam = _check_problem(problem)
    _checks.positive("mu", mu)
    num_steps = _checks.positive_int("num_steps", num_steps)
    w0 = _checks.finite_array("w0", w0, ndim=1, last=X.shape[1])
    step = 1.0 / (_smooth_constant(X) + lam / mu)

    def body(w, _):
        g = X.T @ (X @ w - y) / X.shape[0] + lam * jnp.clip(w / mu, -1.0, 1.0)
        return w - step * g, w

    w_last, ws = jax.lax.scan(body, w0, None, length=num_steps)
    ws = jnp.concatenate([ws, w_last[None]])
    return ws, jax.vmap(lambda w: lasso_objective(w, problem))(ws)


# ---------------------------------------------------------------------------
# the widget's figure
# ---------------------------------------------------------------------------


def draw_formula_comparison(formula_index: int, x0: float, weight: float = 0.25) -> Any:
    r"""Figure: a formula for relu near ``x0`` (left); its Clarke subdifferential and backprop (right).

    Left: the function (the same for every formula) and the point.  Right: the
    derivative returned by backprop on :math:`[-1, 1]`, the Clarke
    subdifferential at ``x0`` (exact: :math:`[0,1]` at 0) as a vertical
    segment, and backprop at ``x0`` as a marker.  Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    from .plotting import OKABE_ITO

    if isinstance(formula_index, (bool, np.bool_)) or not isinstance(formula_index, (int, np.integer)) or not (
            0 <= formula_index < len(FORMULAS)):
        raise ValueError(f"formula_index must be an integer in 0..{len(FORMULAS) - 1} (one of {FORMULAS}), "
                         f"got {formula_index!r}")
    label, f = formula(int(formula_index), weight)
    x0 = float(_checks.finite_array("x0", x0, ndim=0))
    ts = np.linspace(-1.0, 1.0, 401)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
    a1.plot(ts, np.asarray(f(jnp.asarray(ts))), color=OKABE_ITO[0], label=label)
    a1.plot([x0], [float(f(x0))], "o", color=OKABE_ITO[3], zorder=3)
    a1.set(xlabel="t", ylabel="value", title="the function (identical for all formulas)")
    a1.legend(loc="upper left")
    d = np.asarray(backprop_derivative(f, ts[ts != 0]))
    a2.plot(ts[ts != 0], d, ".", ms=2.5, color=OKABE_ITO[0], label="backprop at $t \\neq 0$")
    import sympy as sp

    xs = sp.Symbol("x", real=True)
    lo, hi = clarke_subdifferential_sympy(sp.Max(xs, 0), xs, sp.nsimplify(x0))
    a2.plot([x0, x0], [float(lo), float(hi)], color=OKABE_ITO[2], lw=6, alpha=0.6, solid_capstyle="butt",
            label=f"Clarke $\\partial^c$ at {x0:g}: [{float(lo):g}, {float(hi):g}]")
    b = float(backprop_derivative(f, x0))
    a2.plot([x0], [b], "D", color=OKABE_ITO[3], ms=9, zorder=4, label=f"backprop at {x0:g}: {b:g}")
    a2.set(xlabel="t", ylabel="derivative", ylim=(min(-0.25, b - 0.25), max(1.25, b + 0.25)),
           title="Clarke subdifferential vs backprop")
    a2.legend(loc="upper left", fontsize=8.5)
    return fig
