r"""Algorithmic differentiation from scratch, with operation counting.

A small educational implementation of the two modes of algorithmic
differentiation (AD) for programs written with Python arithmetic operators,
indexing ``x[i]`` and the elementwise functions of this module
(:func:`sin`, :func:`cos`, :func:`exp`, :func:`log`, :func:`tanh`,
:func:`relu`, and the reduction :func:`sum`).  Values are NumPy scalars or
1-D NumPy arrays (elementwise operations broadcast a scalar against a vector).

* **Forward mode** (:func:`jvp`, :func:`forward`): every value carries a
  tangent, a *dual number* :math:`(v, \dot v)`; one pass computes the
  Jacobian--vector product :math:`\operatorname{Jac} f(x)\, v`, left to right
  in the chain rule

  .. math:: \operatorname{Jac} f(x_0) = \operatorname{Jac} g_L(x_{L-1}) \cdots \operatorname{Jac} g_1(x_0).

* **Reverse mode** (:func:`grad`, :func:`reverse`): the evaluation records
  every elementary operation on a *tape*; one backward sweep over the tape
  propagates adjoints :math:`\bar v = \partial f / \partial v` from the output
  to the input, computing the vector--Jacobian product
  :math:`u^\top \operatorname{Jac} f(x)` right to left.  Backpropagation is
  this mode.

Both modes count the scalar operations they perform (:class:`Counts`:
multiplications, additions, divisions, other elementary functions), and the
reverse mode reports the size of its tape, so that the costs stated in
Pauwels (2024, "Algorithmic differentiation") and Griewank & Walther (2008) --
forward :math:`O(p)` passes for a gradient, reverse
:math:`\mathrm{cost}(f, \nabla f) \le 5\, \mathrm{cost}(f)` (Baur & Strassen,
1983), memory linear in the program length -- can be *counted*.

Counting convention: an operation on arrays of size :math:`n` counts
:math:`n` scalar operations.  In the backward sweep, a multiplication by the
unit seed :math:`\bar y = 1` of the output is not performed (it is free), so
the gradient of a product of :math:`p` numbers costs :math:`p - 1`
multiplications for the value and :math:`2(p - 2)` for the gradient.

The second part of the module measures JAX's own AD on a straight-line
program :math:`x_k = g_k(x_{k-1})`, :math:`k = 1, \dots, L`, in
:math:`\mathbb{R}^p`: peak temporary memory from XLA's compiled memory
analysis (:func:`compiled_memory`) and wall-clock time (:func:`time_call`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable, Sequence

import numpy as np

from . import _checks

__all__ = [
    "Counts",
    "Dual",
    "Var",
    "ForwardResult",
    "ReverseResult",
    "sin",
    "cos",
    "exp",
    "log",
    "tanh",
    "relu",
    "sum",
    "jvp",
    "forward",
    "grad",
    "reverse",
    "grad_forward",
    "product",
    "random_program",
    "jax_ops",
    "straight_line_program",
    "checkpointed_program",
    "compiled_memory",
    "time_call",
    "straight_line_curve",
    "MODES",
    "measure_ad",
    "fit_slope",
    "mlp_loss",
    "mlp_size",
    "deep_tanh_loss",
    "deep_tanh_params",
    "gradient_flop_ratio",
]

_builtin_sum = sum


# ---------------------------------------------------------------------------
# operation counts
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Counts:
    """Numbers of scalar operations: ``mul``, ``add`` (also subtraction and
    negation), ``div``, and ``other`` (``sin``, ``exp``, powers, comparisons...)."""

    mul: int = 0
    add: int = 0
    div: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        """The number of all scalar operations, ``mul + add + div + other``."""
        return self.mul + self.add + self.div + self.other

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.mul + other.mul, self.add + other.add, self.div + other.div, self.other + other.other)

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(self.mul - other.mul, self.add - other.add, self.div - other.div, self.other - other.other)

    def copy(self) -> "Counts":
        return dataclasses.replace(self)


def _size(a: Any) -> int:
    return int(np.size(a))


def _as_value(name: str, x: Any) -> np.ndarray:
    """Check that ``x`` is a finite real scalar or 1-D array and return it as float64."""
    if isinstance(x, (Dual, Var)):
        raise ValueError(f"{name} must be a NumPy array of numbers, got a {type(x).__name__} (nested AD is not supported)")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real scalar or 1-D array, got {type(x).__name__}") from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def _check_callable(name: str, f: Any) -> None:
    if not callable(f):
        raise ValueError(f"{name} must be a callable f(x) written with + - * / **, indexing and course_lib.autodiff functions, got {type(f).__name__}")


# ---------------------------------------------------------------------------
# forward mode: dual numbers
# ---------------------------------------------------------------------------


class Dual:
    r"""A dual number :math:`(v, \dot v)`: a value and its tangent, same shape.

    Arithmetic propagates tangents by the rules of calculus, e.g.
    :math:`(a, \dot a)(b, \dot b) = (ab, \dot a b + a \dot b)`.  Operation
    counts (value and tangent) are added to the shared :class:`Counts`.
    """

    __array_priority__ = 1000  # NumPy defers to our operators

    def __init__(self, value: Any, tangent: Any, counts: Counts) -> None:
        self.value = np.asarray(value, dtype=np.float64)
        self.tangent = np.asarray(tangent, dtype=np.float64)
        self.counts = counts

    # -- helpers -------------------------------------------------------------
    def _lift(self, other: Any) -> "Dual":
        if isinstance(other, Dual):
            return other
        if isinstance(other, Var):
            raise ValueError("cannot mix forward-mode (Dual) and reverse-mode (Var) values")
        v = np.asarray(other, dtype=np.float64)
        return Dual(v, np.zeros_like(v), self.counts)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"

    # -- arithmetic ----------------------------------------------------------
    def __add__(self, other: Any) -> "Dual":
        o = self._lift(other)
        v = self.value + o.value
        self.counts.add += 2 * _size(v)
        return Dual(v, self.tangent + o.tangent, self.counts)

    __radd__ = __add__

    def __sub__(self, other: Any) -> "Dual":
        o = self._lift(other)
        v = self.value - o.value
        self.counts.add += 2 * _size(v)
        return Dual(v, self.tangent - o.tangent, self.counts)

    def __rsub__(self, other: Any) -> "Dual":
        return self._lift(other).__sub__(self)

    def __neg__(self) -> "Dual":
        self.counts.add += 2 * _size(self.value)
        return Dual(-self.value, -self.tangent, self.counts)

    def __mul__(self, other: Any) -> "Dual":
        o = self._lift(other)
        v = self.value * o.value
        n = _size(v)
        self.counts.mul += 3 * n  # value, and the two products of the tangent
        self.counts.add += n
        return Dual(v, self.tangent * o.value + self.value * o.tangent, self.counts)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "Dual":
        o = self._lift(other)
        v = self.value / o.value
        n = _size(v)
        # (a/b)' = (a' - v b') / b
        self.counts.div += 2 * n
        self.counts.mul += n
        self.counts.add += n
        return Dual(v, (self.tangent - v * o.tangent) / o.value, self.counts)

    def __rtruediv__(self, other: Any) -> "Dual":
        return self._lift(other).__truediv__(self)

    def __pow__(self, k: Any) -> "Dual":
        if isinstance(k, (Dual, Var)) or np.ndim(k) != 0:
            raise ValueError(f"the exponent of ** must be a constant number, got {type(k).__name__}")
        k = float(k)
        v = self.value**k
        n = _size(v)
        self.counts.other += 2 * n  # x**k and x**(k-1)
        self.counts.mul += 2 * n
        return Dual(v, k * self.value ** (k - 1) * self.tangent, self.counts)

    def __getitem__(self, idx: Any) -> "Dual":
        return Dual(self.value[idx], self.tangent[idx], self.counts)


# ---------------------------------------------------------------------------
# reverse mode: a tape
# ---------------------------------------------------------------------------

_ONE = object()  # the unit seed of the backward sweep: multiplying by it is free


class _Tape:
    def __init__(self) -> None:
        self.nodes: list[Var] = []
        self.counts = Counts()


class Var:
    r"""A value recorded on a tape, with the local rules to pull adjoints back.

    ``parents`` is a tuple of ``(parent, rule)``; ``rule(bar, counts)`` maps
    the adjoint :math:`\bar y` of this node to the contribution
    :math:`\bar y\, \partial y / \partial \text{parent}` (shape of the parent,
    or a pair ``(index, value)`` for indexing).
    """

    __array_priority__ = 1000

    def __init__(self, value: Any, tape: Any, parents: tuple = ()) -> None:
        self.value = np.asarray(value, dtype=np.float64)
        self.tape = tape
        self.parents = parents
        tape.nodes.append(self)

    def _lift(self, other: Any) -> "Var | np.ndarray":
        if isinstance(other, Var):
            return other
        if isinstance(other, Dual):
            raise ValueError("cannot mix forward-mode (Dual) and reverse-mode (Var) values")
        return np.asarray(other, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"Var(value={self.value!r})"

    def _binary(self, other: Any, op: str, reverse: bool = False) -> "Var":
        o = self._lift(other)
        a, b = (o, self) if reverse else (self, o)
        av = a.value if isinstance(a, Var) else a
        bv = b.value if isinstance(b, Var) else b
        c = self.tape.counts
        if op == "add":
            v = av + bv
            c.add += _size(v)
            ra = lambda bar, k: bar  # noqa: E731
            rb = lambda bar, k: bar  # noqa: E731
        elif op == "sub":
            v = av - bv
            c.add += _size(v)
            ra = lambda bar, k: bar  # noqa: E731
            rb = lambda bar, k: _neg(bar, k)  # noqa: E731
        elif op == "mul":
            v = av * bv
            c.mul += _size(v)
            ra = lambda bar, k: _times(bar, bv, k)  # noqa: E731
            rb = lambda bar, k: _times(bar, av, k)  # noqa: E731
        elif op == "div":
            v = av / bv
            c.div += _size(v)
            # bar_a = bar / b ;  bar_b = -bar_a * v
            def ra(bar, k):
                return _divide(bar, bv, k)

            def rb(bar, k):
                return _neg(_times(_divide(bar, bv, k), v, k), k)
        else:  # pragma: no cover - internal
            raise AssertionError(op)
        parents = []
        if isinstance(a, Var):
            parents.append((a, _unbroadcast_rule(ra, a.value.shape)))
        if isinstance(b, Var):
            parents.append((b, _unbroadcast_rule(rb, b.value.shape)))
        return Var(v, self.tape, tuple(parents))

    def __add__(self, o: Any) -> "Var":
        return self._binary(o, "add")

    def __radd__(self, o: Any) -> "Var":
        return self._binary(o, "add", reverse=True)

    def __sub__(self, o: Any) -> "Var":
        return self._binary(o, "sub")

    def __rsub__(self, o: Any) -> "Var":
        return self._binary(o, "sub", reverse=True)

    def __mul__(self, o: Any) -> "Var":
        return self._binary(o, "mul")

    def __rmul__(self, o: Any) -> "Var":
        return self._binary(o, "mul", reverse=True)

    def __truediv__(self, o: Any) -> "Var":
        return self._binary(o, "div")

    def __rtruediv__(self, o: Any) -> "Var":
        return self._binary(o, "div", reverse=True)

    def __neg__(self) -> "Var":
        self.tape.counts.add += _size(self.value)
        return Var(-self.value, self.tape, ((self, lambda bar, k: _neg(bar, k)),))

    def __pow__(self, kexp: Any) -> "Var":
        if isinstance(kexp, (Dual, Var)) or np.ndim(kexp) != 0:
            raise ValueError(f"the exponent of ** must be a constant number, got {type(kexp).__name__}")
        kexp = float(kexp)
        x = self.value
        self.tape.counts.other += _size(x)

        def rule(bar, k):
            k.other += _size(x)  # x**(kexp-1)
            k.mul += _size(x)  # kexp * ...
            return _times(bar, kexp * x ** (kexp - 1), k)

        return Var(x**kexp, self.tape, ((self, rule),))

    def __getitem__(self, idx: Any) -> "Var":
        if not isinstance(idx, (int, np.integer)):
            raise ValueError(f"a Var can be indexed by an integer only, got {type(idx).__name__}")
        return Var(self.value[idx], self.tape, ((self, lambda bar, k, i=int(idx): ("index", i, bar)),))


# adjoint arithmetic with counting; `bar` may be the free unit seed _ONE
def _materialize(bar: Any) -> np.ndarray:
    return np.asarray(1.0) if bar is _ONE else bar


def _times(bar: Any, factor: Any, k: Counts) -> np.ndarray:
    if bar is _ONE:
        return np.asarray(factor, dtype=np.float64)
    out = bar * factor
    k.mul += _size(out)
    return out


def _divide(bar: Any, denom: Any, k: Counts) -> np.ndarray:
    out = _materialize(bar) / denom
    k.div += _size(out)
    return out


def _neg(bar: Any, k: Counts) -> np.ndarray:
    out = -_materialize(bar)
    k.add += _size(out)
    return out


def _unbroadcast_rule(rule: Callable, shape: tuple[int, ...]) -> Callable:
    def wrapped(bar, k):
        g = rule(bar, k)
        if g is _ONE:
            return g
        g = np.asarray(g, dtype=np.float64)
        if g.shape != shape:  # a scalar was broadcast against a vector
            if shape == ():
                k.add += max(g.size - 1, 0)
                return np.sum(g)
            return np.broadcast_to(g, shape).copy()
        return g

    return wrapped


# ---------------------------------------------------------------------------
# elementwise functions (work on floats/arrays, Duals and Vars)
# ---------------------------------------------------------------------------


def _elementwise(name: str, f: Callable, df_from: Callable, cost: dict[str, int]) -> Callable:
    r"""Build an elementwise primitive from ``f`` and ``df_from(x, y) = f'(x)``."""

    def prim(x: Any) -> Any:
        if isinstance(x, Dual):
            y = f(x.value)
            n = _size(y)
            x.counts.other += n
            d = df_from(x.value, y)
            for key, c in cost.items():
                setattr(x.counts, key, getattr(x.counts, key) + c * n)
            x.counts.mul += n
            return Dual(y, d * x.tangent, x.counts)
        if isinstance(x, Var):
            xv = x.value
            y = f(xv)
            x.tape.counts.other += _size(y)

            def rule(bar, k):
                d = df_from(xv, y)
                for key, c in cost.items():
                    setattr(k, key, getattr(k, key) + c * _size(y))
                return _times(bar, d, k)

            return Var(y, x.tape, ((x, rule),))
        return f(np.asarray(x, dtype=np.float64))

    prim.__name__ = name
    return prim


sin = _elementwise("sin", np.sin, lambda x, y: np.cos(x), {"other": 1})
sin.__doc__ = r"""Elementwise :math:`\sin`; derivative :math:`\cos x` (one more elementary call)."""
cos = _elementwise("cos", np.cos, lambda x, y: -np.sin(x), {"other": 1, "add": 1})
cos.__doc__ = r"""Elementwise :math:`\cos`; derivative :math:`-\sin x`."""
exp = _elementwise("exp", np.exp, lambda x, y: y, {})
exp.__doc__ = r"""Elementwise :math:`\exp`; derivative :math:`e^x`, reused from the evaluation (free)."""
log = _elementwise("log", np.log, lambda x, y: 1.0 / x, {"div": 1})
log.__doc__ = r"""Elementwise natural :math:`\log` (positive input); derivative :math:`1/x`."""
tanh = _elementwise("tanh", np.tanh, lambda x, y: 1.0 - y * y, {"mul": 1, "add": 1})
tanh.__doc__ = r"""Elementwise :math:`\tanh`; derivative :math:`1 - \tanh^2 x` from the stored value."""
relu = _elementwise("relu", lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(np.float64), {"other": 1})
relu.__doc__ = r"""Elementwise :math:`\max(x, 0)`; derivative :math:`\mathbb{1}[x > 0]` (0 at 0, as in JAX)."""


def sum(x: Any) -> Any:  # noqa: A001 - mirrors numpy.sum
    r"""Sum of the entries of a vector, :math:`\sum_i x_i` (:math:`n - 1` additions)."""
    if isinstance(x, Dual):
        n = _size(x.value)
        x.counts.add += 2 * max(n - 1, 0)
        return Dual(np.sum(x.value), np.sum(x.tangent), x.counts)
    if isinstance(x, Var):
        shape = x.value.shape
        x.tape.counts.add += max(_size(x.value) - 1, 0)
        return Var(np.sum(x.value), x.tape, ((x, lambda bar, k: np.broadcast_to(_materialize(bar), shape).copy()),))
    return np.sum(np.asarray(x, dtype=np.float64))


# ---------------------------------------------------------------------------
# the two modes
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class ForwardResult:
    """Output of :func:`forward`: ``value`` :math:`f(x)`, ``tangent``
    :math:`\\operatorname{Jac} f(x) v`, the operations of a plain evaluation
    (``eval_counts``) and of the forward-mode pass (``counts``, value and tangent)."""

    value: np.ndarray
    tangent: np.ndarray
    eval_counts: Counts
    counts: Counts


@dataclasses.dataclass
class ReverseResult:
    """Output of :func:`reverse`: ``value`` :math:`f(x)`, ``grad`` :math:`\\nabla f(x)`,
    operations of the evaluation (``eval_counts``) and of the backward sweep
    (``backward_counts``), ``tape_size`` (number of recorded operations, input
    included) and ``stored_values`` (scalars kept on the tape for the sweep)."""

    value: float
    grad: np.ndarray
    eval_counts: Counts
    backward_counts: Counts
    tape_size: int
    stored_values: int

    @property
    def ratio(self) -> float:
        r"""Cheap-gradient ratio :math:`\mathrm{cost}(f, \nabla f) / \mathrm{cost}(f)` in operations."""
        ev = self.eval_counts.total
        return (ev + self.backward_counts.total) / ev if ev else float("nan")


def _plain_counts(f: Callable, x: np.ndarray) -> Counts:
    """Operations of one evaluation, counted with a tape whose sweep is never run."""
    tape = _Tape()
    f(Var(x, tape))
    return tape.counts


def forward(f: Callable, x: Any, v: Any) -> ForwardResult:
    r"""Forward mode: :math:`f(x)` and :math:`\operatorname{Jac} f(x)\, v` in one pass, with counts.

    ``x`` and ``v`` are scalars or 1-D arrays of the same shape; ``f(x)`` may be
    a scalar or a 1-D array.  Cost: a constant times the cost of ``f``.
    """
    _check_callable("f", f)
    xv = _as_value("x", x)
    vv = _as_value("v", v)
    if vv.shape != xv.shape:
        raise ValueError(f"v must have the shape of x {xv.shape}, got {vv.shape}")
    counts = Counts()
    out = f(Dual(xv, vv, counts))
    if isinstance(out, Dual):
        value, tangent = out.value, out.tangent
    else:  # f does not depend on x
        value = np.asarray(out, dtype=np.float64)
        tangent = np.zeros_like(value)
    return ForwardResult(value, tangent, _plain_counts(f, xv), counts)


def jvp(f: Callable, x: Any, v: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Jacobian--vector product by forward mode: returns ``(f(x), Jac f(x) @ v)``.

    Like ``jax.jvp(f, (x,), (v,))`` for a single argument: ``x`` and ``v`` are
    scalars or 1-D arrays of the same shape.
    """
    r = forward(f, x, v)
    return r.value, r.tangent


def reverse(f: Callable, x: Any) -> ReverseResult:
    r"""Reverse mode: evaluate ``f`` on a tape, then sweep it backwards.

    The sweep visits the tape in reverse order and, for each node
    :math:`y = g(u_1, \dots, u_m)` with adjoint :math:`\bar y`, adds
    :math:`\bar y\, \partial g / \partial u_i` to :math:`\bar u_i`
    (Griewank & Walther, 2008, ch. 3).  ``f(x)`` must be a scalar.
    """
    _check_callable("f", f)
    xv = _as_value("x", x)
    tape = _Tape()
    x_var = Var(xv, tape)
    out = f(x_var)
    eval_counts = tape.counts.copy()
    if not isinstance(out, Var):
        out_v = np.asarray(out, dtype=np.float64)
        if out_v.ndim != 0:
            raise ValueError(f"f must return a scalar, got shape {out_v.shape}")
        return ReverseResult(float(out_v), np.zeros_like(xv), eval_counts, Counts(), len(tape.nodes), _builtin_sum(_size(n.value) for n in tape.nodes))
    if out.value.ndim != 0:
        raise ValueError(f"f must return a scalar, got shape {out.value.shape}")
    k = Counts()
    adj: dict[int, Any] = {id(out): _ONE}
    touched: dict[int, set[int]] = {}
    for node in reversed(tape.nodes):
        bar = adj.pop(id(node), None)
        if bar is None:
            if node is x_var:
                adj[id(node)] = np.zeros_like(xv)
            continue
        if node is x_var:
            adj[id(node)] = bar
            continue
        for parent, rule in node.parents:
            contrib = rule(bar, k)
            pid = id(parent)
            if isinstance(contrib, tuple):  # ("index", i, value): scatter into one entry
                _, i, val = contrib
                i = i % parent.value.size
                if pid not in adj:
                    adj[pid] = np.zeros_like(parent.value)
                    touched[pid] = set()
                seen = touched.get(pid)
                if seen is None or i in seen:  # dense adjoint, or entry already written
                    k.add += 1
                    adj[pid][i] += _materialize(val)
                else:
                    seen.add(i)
                    adj[pid][i] = _materialize(val)
                continue
            if pid in adj:
                k.add += _size(_materialize(contrib))
                adj[pid] = _materialize(adj[pid]) + _materialize(contrib)
            else:
                adj[pid] = contrib
            touched[pid] = None  # from now on every entry may be non-zero
    g = adj.get(id(x_var), np.zeros_like(xv))
    g = np.array(np.broadcast_to(_materialize(g), xv.shape), dtype=np.float64)
    stored = _builtin_sum(_size(n.value) for n in tape.nodes)
    return ReverseResult(float(out.value), g, eval_counts, k, len(tape.nodes), stored)


def grad(f: Callable) -> Callable[[Any], np.ndarray]:
    r"""Reverse-mode gradient: ``grad(f)(x)`` is :math:`\nabla f(x)`, same shape as ``x``.

    ``f`` maps a 1-D NumPy array (or a scalar) to a scalar and is written with
    arithmetic operators, indexing ``x[i]`` and this module's functions; Python
    loops and conditionals are allowed (the tape records the branch taken).
    """
    _check_callable("f", f)

    def grad_f(x: Any) -> np.ndarray:
        return reverse(f, x).grad

    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return grad_f


def grad_forward(f: Callable, x: Any) -> tuple[np.ndarray, Counts]:
    r"""Gradient by forward mode: :math:`p` JVPs along the basis vectors :math:`e_1, \dots, e_p`.

    Returns the gradient (shape ``(p,)``) and the total operation count, about
    :math:`p` times a JVP: the reason forward mode is not used for training.
    """
    xv = _as_value("x", x)
    if xv.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {xv.shape}")
    total = Counts()
    g = np.zeros_like(xv)
    for i in range(xv.size):
        e = np.zeros_like(xv)
        e[i] = 1.0
        r = forward(f, xv, e)
        if np.ndim(r.tangent) != 0:
            raise ValueError(f"f must return a scalar, got shape {np.shape(r.tangent)}")
        g[i] = r.tangent
        total = total + r.counts
    return g, total


# ---------------------------------------------------------------------------
# example programs
# ---------------------------------------------------------------------------


def product(x: Any) -> Any:
    r"""The product :math:`x_1 x_2 \cdots x_p` of the entries, left to right (:math:`p - 1` multiplications)."""
    y = x[0]
    for i in range(1, len(x)):
        y = y * x[i]
    return y


_UNARY = ("sin", "cos", "exp", "tanh", "relu", "log", "neg", "square")
_BINARY = ("add", "sub", "mul", "div")


def random_program(seed: int, p: int, n_ops: int = 12) -> Callable[[Any], Any]:
    r"""A random straight-line program :math:`\mathbb{R}^p \to \mathbb{R}` (for tests).

    It reads scalars ``x[i]`` and vector slices of ``x``, applies ``n_ops``
    random unary (sin, cos, exp, tanh, relu, log of a positive quantity,
    negation, square) and binary (sum, difference, product, division by a
    positive quantity) operations
    and sums the results.  ``program(x)`` runs on NumPy arrays and on
    :class:`Dual`/:class:`Var` values; ``program(x, ops=jax_ops())`` runs the
    same program with ``jax.numpy``, so that it can be differentiated by JAX.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be a positive integer, got {p!r}")
    rng = np.random.default_rng(seed)
    plan = []
    n_regs = 1  # register 0 is x itself (a vector)
    for _ in range(n_ops):
        if rng.random() < 0.3:
            plan.append(("index", int(rng.integers(p))))
        elif rng.random() < 0.5:
            plan.append((str(rng.choice(_UNARY)), int(rng.integers(n_regs))))
        else:
            plan.append((str(rng.choice(_BINARY)), int(rng.integers(n_regs)), int(rng.integers(n_regs)), float(rng.uniform(-1.5, 1.5))))
        n_regs += 1

    def program(x: Any, ops: Any = None) -> Any:
        m = ops if ops is not None else _OPS
        regs = [x]
        for step in plan:
            kind = step[0]
            if kind == "index":
                regs.append(x[step[1]])
            elif kind in _UNARY:
                a = regs[step[1]]
                if kind == "log":
                    regs.append(m.log(1.5 + m.sin(a)))  # argument in [0.5, 2.5]
                elif kind == "neg":
                    regs.append(-a)
                elif kind == "square":
                    regs.append(a * a)
                elif kind == "exp":
                    regs.append(m.exp(m.tanh(a)))  # bounded
                else:
                    regs.append(getattr(m, kind)(a))
            else:
                a, b, c = regs[step[1]], regs[step[2]], step[3]
                if kind == "add":
                    regs.append(a + c * b)
                elif kind == "sub":
                    regs.append(c - a - b)
                elif kind == "mul":
                    regs.append(a * b * c)
                else:
                    regs.append(a / (1.25 + m.sin(b)))  # denominator in [0.25, 2.25]
        return m.sum(regs[-1]) + m.sum(regs[len(regs) // 2]) * 0.5

    program.__name__ = f"random_program_{seed}"
    return program


class _Ops:
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    exp = staticmethod(exp)
    log = staticmethod(log)
    tanh = staticmethod(tanh)
    relu = staticmethod(relu)
    sum = staticmethod(sum)


_OPS = _Ops()


def jax_ops() -> Any:
    """The namespace of elementwise functions used by :func:`random_program`, in ``jax.numpy``."""
    import types

    import jax
    import jax.numpy as jnp

    return types.SimpleNamespace(sin=jnp.sin, cos=jnp.cos, exp=jnp.exp, log=jnp.log, tanh=jnp.tanh,
                                 relu=jax.nn.relu, sum=jnp.sum)


# ---------------------------------------------------------------------------
# measuring JAX's AD on a straight-line program
# ---------------------------------------------------------------------------


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


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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


def mlp_loss(theta: Any, ops: Any = None, *, d: int = 2, h: int = 3) -> Any:
    r"""Squared loss of a one-hidden-layer network on a fixed toy data set, written with scalars.

    :math:`J(\theta) = \frac1n \sum_{i=1}^n \big(w_2^\top \tanh(W_1 z_i + b_1) + b_2 - y_i\big)^2`
    with :math:`n = 4` fixed points :math:`z_i \in \mathbb{R}^d`, labels :math:`y_i`,
    and ``theta`` the flat vector :math:`(W_1, b_1, w_2, b_2)` of size
    :math:`p = hd + 2h + 1` (:func:`mlp_size`).  Uses only indexing, arithmetic and
    ``tanh``, so it runs with NumPy, :class:`Dual`, :class:`Var`, or JAX
    (``ops=jax_ops()``).
    """
    m = ops if ops is not None else _OPS
    d = _positive_int("d", d)
    h = _positive_int("h", h)
    if len(theta) != mlp_size(d, h):
        raise ValueError(f"theta must have size h*d + 2*h + 1 = {mlp_size(d, h)}, got {len(theta)}")
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4, d))
    y = np.sin(Z.sum(axis=1))
    total = 0.0
    for zi, yi in zip(Z, y):
        out = theta[h * d + 2 * h]  # b2
        for j in range(h):
            pre = theta[h * d + j]  # b1_j
            for k in range(d):
                pre = pre + theta[j * d + k] * float(zi[k])
            out = out + theta[h * d + h + j] * m.tanh(pre)
        r = out - float(yi)
        total = total + r * r
    return total / 4.0


def mlp_size(d: int = 2, h: int = 3) -> int:
    """Number of parameters :math:`p = hd + 2h + 1` of :func:`mlp_loss`."""
    return _positive_int("h", h) * _positive_int("d", d) + 2 * h + 1


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
