r"""Energies of critical components and the Boltzmann--Gibbs law of constant-step SGD.

Setting (:cite:`azizian2024longrun`, :cite:`azizian2025talk`): SGD with a constant
step :math:`\eta`, :math:`x_{t+1} = x_t - \eta[\nabla f(x_t) + Z(x_t;\omega_t)]`, on a
landscape whose critical set splits into components :math:`K_1,\dots,K_p`.
A large deviation principle gives the cost :math:`B_{ij}` of a transition from
:math:`K_i` to :math:`K_j` (the least action of a path joining them); SGD then
behaves like a Markov chain on :math:`\{1,\dots,p\}` with transition
probabilities :math:`\approx e^{-B_{ij}/\eta}`, and its invariant measure gives
:math:`K_i` a mass :math:`\approx e^{-E_i/\eta}` with the *energy*

.. math::
    E_i = \min_{T \in \mathcal T(i)} \sum_{(j\to k)\in T} B_{jk},

the least weight of a spanning tree whose edges all point towards :math:`i`
(Freidlin--Wentzell :cite:`freidlin2012`).

What is here
------------
* graph algorithms on a ``(p, p)`` cost array ``B`` (``np.inf`` = no direct
  transition; the diagonal is ignored): :func:`energies` (minimum spanning
  arborescences, Edmonds' algorithm in ``networkx``),
  :func:`energies_brute_force` (enumeration, for checks), :func:`forest_weight`,
  :func:`relative_energy` :math:`J(i)`, :func:`convergence_energy`
  :math:`J(x)`, :func:`path_costs`, :func:`transition_graph`;
* the finite Markov chain with transitions :math:`e^{-B_{ij}/\eta}` and its exact
  stationary law (:func:`markov_chain`, :func:`stationary_distribution`), whose
  :math:`-\eta\log` tends to the energies (Markov chain tree theorem);
* landscapes: :func:`critical_points` (sympy, then Newton in float64, Hessian
  classification), :func:`flow_connections` (which critical points a gradient
  flow line joins), :func:`transition_costs` (closed forms for gradient
  systems with Gaussian or power-law noise), :func:`gaussian_action`;

The predictions these energies make (Gibbs weights and densities, the
comparison with a simulation) are in :mod:`course_lib.gibbs`; the two-well
example with two noise levels and the chapter's widget in
:mod:`course_lib.chapters.long_run`.  Their old names here (and ``mass_near``,
now :func:`course_lib.gibbs.grid_mass_near`) still work, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases

__all__ = [
    "check_costs",
    "transition_graph",
    "energies",
    "energies_brute_force",
    "forest_weight",
    "relative_energy",
    "convergence_energy",
    "path_costs",
    "markov_chain",
    "stationary_distribution",
    "CriticalPoints",
    "critical_points",
    "flow_connections",
    "transition_costs",
    "gaussian_action",
    "gradient_flow_path",
]

_TO_GIBBS = ("gibbs_weights", "laplace_weights", "gibbs_density", "grid_mass_near", "sample_grid", "GibbsComparison",
             "compare_with_gibbs")
_MOVED = ("two_well", "two_well_noise", "two_well_critical", "two_well_occupation", "two_well_stationary",
          "draw_gibbs_comparison", "NOISE_MODELS")
__getattr__ = deprecated_aliases(
    __name__,
    {
        "mass_near": ("course_lib.gibbs:grid_mass_near", "0.2"),
        **{n: (f"course_lib.gibbs:{n}", "0.2") for n in _TO_GIBBS},
        **{n: (f"course_lib.chapters.long_run:{n}", "0.2") for n in _MOVED},
    },
)


# ---------------------------------------------------------------------------
# transition graphs and energies
# ---------------------------------------------------------------------------


def check_costs(B: Any, name: str = "B") -> np.ndarray:
    """Validate a cost matrix: a square ``(p, p)`` float array with entries in ``[0, inf]``.

    Returns a float64 copy whose diagonal is set to ``inf`` (a component does
    not transition to itself).  Raises :class:`ValueError` naming ``name``.
    """
    kind = np.asarray(B).dtype.kind if B is not None and not isinstance(B, (str, bytes)) else "O"
    if kind in "cb":
        raise ValueError(f"{name} must be a real array of transition costs, got dtype {np.asarray(B).dtype}")
    try:
        arr = np.array(B, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a square array of transition costs, got {type(B).__name__}") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a square (p, p) array of costs, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN (use np.inf where there is no transition)")
    off = ~np.eye(arr.shape[0], dtype=bool)
    if (arr[off] < 0).any():
        raise ValueError(f"{name} must have non-negative costs (a large deviation cost is >= 0)")
    np.fill_diagonal(arr, np.inf)
    return arr


def transition_graph(B: Any):
    r"""The transition graph: a ``networkx.DiGraph`` on ``0..p-1`` with an edge
    :math:`i\to j` of attribute ``weight`` :math:`= B_{ij}` for every finite off-diagonal cost."""
    import networkx as nx

    B = check_costs(B)
    G = nx.DiGraph()
    G.add_nodes_from(range(B.shape[0]))
    for i, j in zip(*np.nonzero(np.isfinite(B))):
        G.add_edge(int(i), int(j), weight=float(B[i, j]))
    return G


def _roots(roots: Any, p: int, name: str = "roots") -> tuple[int, ...]:
    if isinstance(roots, (int, np.integer)) and not isinstance(roots, bool):
        roots = (roots,)
    if isinstance(roots, (str, bytes)) or roots is None or isinstance(roots, (bool, np.bool_, float, complex)):
        raise ValueError(f"{name} must be a component index or a sequence of indices, got {roots!r}")
    try:
        out = tuple(sorted({_checks.nonnegative_int(name, r) for r in roots}))
    except TypeError:
        raise ValueError(f"{name} must be a component index or a sequence of indices, got {roots!r}") from None
    if not out or any(r < 0 or r >= p for r in out):
        raise ValueError(f"{name} must be non-empty indices in [0, {p}), got {roots!r}")
    return out


def forest_weight(B: Any, roots: Any) -> float:
    r"""Least weight :math:`W(R)` of a spanning forest *pointing to* the root set :math:`R`.

    Such a forest gives every node outside ``roots`` exactly one outgoing edge
    and has no cycle, so that following the edges from any node leads to a root.
    Its weight is the sum of :math:`B_{jk}` over its edges.  :math:`W(\{i\}) = E_i`.
    Computed by Edmonds' algorithm (``networkx.minimum_spanning_arborescence``)
    on the reversed graph with a virtual super-root joined to every root at cost 0.
    Returns ``inf`` when no such forest exists.  ``B``: ``(p, p)``.
    """
    import networkx as nx

    B = check_costs(B)
    p = B.shape[0]
    R = _roots(roots, p)
    if len(R) == p:
        return 0.0
    G = nx.DiGraph()
    G.add_nodes_from(range(p + 1))
    for j, k in zip(*np.nonzero(np.isfinite(B))):
        if j not in R:  # roots keep no outgoing edge; reversed: edge k -> j
            G.add_edge(int(k), int(j), weight=float(B[j, k]))
    for r in R:
        G.add_edge(p, r, weight=0.0)
    try:
        T = nx.minimum_spanning_arborescence(G, attr="weight", preserve_attrs=True)
    except nx.NetworkXException:
        return math.inf
    return float(sum(d["weight"] for _, _, d in T.edges(data=True)))


def energies(B: Any) -> np.ndarray:
    r"""Energies :math:`E_i = \min_{T\in\mathcal T(i)} \sum_{(j\to k)\in T} B_{jk}`, shape ``(p,)``.

    ``B`` is a ``(p, p)`` array of transition costs (``np.inf`` where there is
    no direct transition; the diagonal is ignored).  :math:`\mathcal T(i)` is
    the set of spanning trees of the transition graph in which every edge points
    towards :math:`i` (in-arborescences rooted at :math:`i`)
    :cite:`freidlin2012,azizian2024longrun`.  Only differences
    :math:`E_i - E_j` matter for the invariant measure; the values returned are
    the tree weights themselves (``inf`` if no tree points to :math:`i`).
    """
    B = check_costs(B)
    return np.array([forest_weight(B, i) for i in range(B.shape[0])])


def energies_brute_force(B: Any) -> np.ndarray:
    r"""Same as :func:`energies`, by enumerating all :math:`p^{p-1}` successor maps (``p <= 7``).

    For every root :math:`i`, every node :math:`j\ne i` picks a successor; a
    choice is a tree pointing to :math:`i` iff following successors from any
    node reaches :math:`i`.  Exponential cost: only for checks on small graphs.
    """
    B = check_costs(B)
    p = B.shape[0]
    if p > 7:
        raise ValueError(f"B must have at most 7 components for the brute force, got p = {p}")
    E = np.full(p, np.inf)
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for succ in itertools.product(range(p), repeat=p - 1):
            nxt = dict(zip(others, succ))
            if any(j == k for j, k in nxt.items()):
                continue
            w = sum(B[j, k] for j, k in nxt.items())
            if not w < E[i]:
                continue
            ok = True
            for j in others:
                seen, node = 0, j
                while node != i and seen <= p:
                    node, seen = nxt[node], seen + 1
                if node != i:
                    ok = False
                    break
            if ok:
                E[i] = w
    return E


def relative_energy(B: Any, target: Any, i: int) -> float:
    r"""Energy of the target relative to component ``i``: :math:`J(i) = E_0 - W(\{0, i\})`.

    :math:`E_0 = W(\{0\})` is the least weight of a spanning tree pointing to the
    target (``target``: one index, or several indices treated as one root set,
    e.g. all global minimisers) and :math:`W(\{0, i\})` the least weight of a
    forest pointing to the target and to :math:`i` -- a tree to the target with
    the edge leaving :math:`i` removed :cite:`azizian2025global`.  ``J(i) >= 0``;
    it is ``0`` when ``i`` is in the target.  ``B``: ``(p, p)``.
    """
    B = check_costs(B)
    R = _roots(target, B.shape[0], "target")
    i = _roots(i, B.shape[0], "i")
    if len(i) != 1:
        raise ValueError(f"i must be one component index, got {i}")
    if i[0] in R:
        return 0.0
    E0 = forest_weight(B, R)
    return float(E0 - forest_weight(B, R + i))


def path_costs(B: Any) -> np.ndarray:
    r"""Least cost :math:`B(j, k)` of a chain of transitions from :math:`j` to :math:`k`, shape ``(p, p)``.

    Floyd--Warshall on the costs ``B`` (the shortest-path closure); the
    diagonal is ``0`` (staying put is free).
    """
    D = check_costs(B)
    np.fill_diagonal(D, 0.0)
    for k in range(D.shape[0]):
        D = np.minimum(D, D[:, k : k + 1] + D[k : k + 1, :])
    return D


def convergence_energy(B: Any, target: Any, start: int) -> float:
    r"""Energy :math:`J(x) = \max_i\,[J(i) - B(x, i)]_+` of SGD started at :math:`x \in K_{\text{start}}`.

    :math:`J(i)` is :func:`relative_energy` and :math:`B(x, i)` the least cost of
    a chain of transitions from ``start`` to :math:`i` (:func:`path_costs`).  The
    expected time for SGD started at :math:`x` to reach the target is
    :math:`\approx e^{J(x)/\eta}` :cite:`azizian2025global`.  ``B``: ``(p, p)``.
    """
    B = check_costs(B)
    p = B.shape[0]
    R = _roots(target, p, "target")
    s = _roots(start, p, "start")
    if len(s) != 1:
        raise ValueError(f"start must be one component index, got {start!r}")
    D = path_costs(B)
    best = 0.0
    for i in range(p):
        if i in R:
            continue
        best = max(best, relative_energy(B, R, i) - D[s[0], i])
    return float(best)


# ---------------------------------------------------------------------------
# the finite Markov chain with exponentially small transitions
# ---------------------------------------------------------------------------


def markov_chain(B: Any, step: float) -> np.ndarray:
    r"""Transition matrix :math:`P_{ij} = e^{-B_{ij}/\eta}/p` (:math:`i\ne j`), :math:`P_{ii} = 1 - \sum_{j\ne i} P_{ij}`.

    ``B``: ``(p, p)`` costs, ``step``: :math:`\eta > 0`.  Returns ``(p, p)`` float64.
    """
    B = check_costs(B)
    _checks.positive("step", step)
    p = B.shape[0]
    P = np.exp(-B / float(step)) / p
    np.fill_diagonal(P, 0.0)
    np.fill_diagonal(P, 1.0 - P.sum(axis=1))
    return P


def stationary_distribution(P: Any) -> np.ndarray:
    r"""Stationary law :math:`\pi = \pi P` of an irreducible transition matrix, shape ``(p,)``.

    Grassmann--Taksar--Heyman elimination: only sums of non-negative numbers,
    so it stays accurate when transition probabilities are as small as
    :math:`10^{-100}` (a linear solve is not).  ``P``: ``(p, p)`` row-stochastic.
    """
    _checks.finite_array("P", P, ndim=2)  # named errors only: the float32 copy would lose tiny probabilities
    A = np.array(P, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"P must be a square transition matrix, got shape {A.shape}")
    if (A < 0).any() or not np.allclose(A.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("P must be row-stochastic (non-negative rows summing to 1)")
    n = A.shape[0]
    for k in range(n - 1, 0, -1):
        s = A[k, :k].sum()
        if s <= 0:
            raise ValueError("P must be irreducible (a state cannot reach the others)")
        A[:k, k] /= s
        A[:k, :k] += np.outer(A[:k, k], A[k, :k])
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(1, n):
        pi[k] = pi[:k] @ A[:k, k]
    return pi / pi.sum()


# ---------------------------------------------------------------------------
# critical points of a landscape, flow connections, transition costs
# ---------------------------------------------------------------------------


class CriticalPoints(NamedTuple):
    """Result of :func:`critical_points`.

    ``points``: ``(p, 2)`` float64; ``values``: ``(p,)`` :math:`f(K_i)`;
    ``kinds``: ``p`` strings ``"minimum"``, ``"saddle"`` or ``"maximum"``;
    ``hessians``: ``(p, 2, 2)``; ``exact``: ``p`` bools, True when sympy found
    the point in closed form (rational coordinates).
    Sorted by kind (minima, saddles, maxima), then by :math:`f`, then :math:`x_1`.
    """

    points: np.ndarray
    values: np.ndarray
    kinds: tuple[str, ...]
    hessians: np.ndarray
    exact: tuple[bool, ...]


def critical_points(expr: Any, x: Any, y: Any, *, newton_steps: int = 8) -> CriticalPoints:
    r"""All real critical points of a polynomial :math:`f(x, y)` (a sympy expression).

    Method: the resultant of :math:`\partial_x f` and :math:`\partial_y f` in
    :math:`y` is a polynomial in :math:`x` whose real roots contain the
    abscissae of the critical points; sympy isolates them exactly (``real_roots``),
    rational roots stay exact, the others are evaluated to 30 digits; for each,
    the real roots in :math:`y` of the gcd of the two partial derivatives give
    the ordinates.  Every point is then refined by ``newton_steps`` Newton steps
    in float64 and classified by the signs of the Hessian eigenvalues.
    """
    import sympy as sp

    if not isinstance(expr, sp.Expr):
        raise ValueError(f"expr must be a sympy expression in x and y, got {type(expr).__name__}")
    for name, sym in (("x", x), ("y", y)):
        if not isinstance(sym, sp.Symbol):
            raise ValueError(f"{name} must be a sympy Symbol, got {sym!r}")
    newton_steps = _checks.nonnegative_int("newton_steps", newton_steps)
    fx, fy = sp.diff(expr, x), sp.diff(expr, y)
    try:
        res = sp.Poly(sp.resultant(fx, fy, y), x)
    except sp.PolynomialError:
        raise ValueError("expr must be a polynomial in x and y") from None
    grad = sp.lambdify((x, y), [fx, fy], "numpy")
    hess = sp.lambdify((x, y), sp.hessian(expr, (x, y)).tolist(), "numpy")
    fval = sp.lambdify((x, y), expr, "numpy")
    found: list[tuple[np.ndarray, bool]] = []
    for xr in sorted(set(sp.real_roots(res)), key=lambda r: float(r)):
        x_exact = xr.is_Rational
        x0 = xr if x_exact else sp.Float(xr.evalf(30), 30)
        gx = sp.Poly(sp.nsimplify(fx.subs(x, x0)) if x_exact else fx.subs(x, x0), y)
        gy = sp.Poly(sp.nsimplify(fy.subs(x, x0)) if x_exact else fy.subs(x, x0), y)
        if x_exact:
            g = sp.gcd(gx, gy)
            ys = [(r, r.is_Rational) for r in set(sp.real_roots(g))] if g.degree() > 0 else []
        else:
            ys = []
            for r in sp.Poly(gx, y).nroots(n=30):
                if abs(sp.im(r)) < 1e-12 and abs(complex(gy.eval(sp.re(r)))) < 1e-6 * (1 + abs(complex(r)) ** 4):
                    ys.append((sp.re(r), False))
        for yr, y_exact in ys:
            found.append((np.array([float(x0), float(yr)]), bool(x_exact and y_exact)))
    pts, exact = [], []
    for p0, ex in found:
        p = p0.copy()
        if not ex:
            for _ in range(newton_steps):
                H = np.array(hess(*p), dtype=float)
                p = p - np.linalg.solve(H, np.array(grad(*p), dtype=float))
        if not any(np.allclose(p, q, atol=1e-8) for q in pts):
            pts.append(p)
            exact.append(ex)
    rows = []
    for p, ex in zip(pts, exact):
        H = np.array(hess(*p), dtype=float)
        ev = np.linalg.eigvalsh(H)
        kind = "minimum" if ev.min() > 0 else ("maximum" if ev.max() < 0 else "saddle")
        rows.append((p, float(fval(*p)), kind, H, ex))
    order = {"minimum": 0, "saddle": 1, "maximum": 2}
    rows.sort(key=lambda r: (order[r[2]], round(r[1], 9), r[0][0]))
    return CriticalPoints(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), tuple(r[2] for r in rows),
        np.array([r[3] for r in rows]), tuple(r[4] for r in rows),
    )


@partial(jax.jit, static_argnames=("f", "n_steps"))
def _flow(f, X0, sign, dt, n_steps):
    """``n_steps`` Euler steps of the normalised flow :math:`\\dot x = \\mp\\nabla f/\\max(1, \\|\\nabla f\\|)`."""
    g = jax.vmap(jax.grad(f))

    def body(X, _):
        G = g(X)
        nrm = jnp.maximum(1.0, jnp.linalg.norm(G, axis=-1, keepdims=True))
        return X - sign * dt * G / nrm, None

    X, _ = jax.lax.scan(body, X0, None, length=n_steps)
    return X


def flow_connections(
    f: Callable[[jax.Array], jax.Array],
    points: Any,
    hessians: Any,
    *,
    n_dirs: int = 24,
    eps: float = 1e-3,
    dt: float = 2e-3,
    n_steps: int = 20_000,
    tol: float = 1e-2,
) -> list[tuple[int, int]]:
    r"""Pairs ``(j, k)`` such that a gradient-flow line runs from critical point ``j`` down to ``k``.

    For each critical point, ``n_dirs`` starting points at distance ``eps`` in
    its unstable eigenspace are followed *down* the flow, and ``n_dirs`` in its
    stable eigenspace *up* the flow (a normalised Euler scheme, ``n_steps`` steps
    of length ``dt``); an end point within ``tol`` of another critical point
    records a connection.  ``f``: ``(..., d) -> (...)``; ``points``: ``(p, d)``;
    ``hessians``: ``(p, d, d)``.  Returns sorted unique pairs (higher, lower).
    """
    _checks.is_callable("f", f)
    P = np.asarray(_checks.finite_array("points", points, ndim=2), dtype=float)
    H = np.asarray(_checks.finite_array("hessians", hessians, ndim=3), dtype=float)
    n_dirs = _checks.positive_int("n_dirs", n_dirs)
    n_steps = _checks.positive_int("n_steps", n_steps)
    for name, v in (("eps", eps), ("dt", dt), ("tol", tol)):
        _checks.positive(name, v)
    _checks.work_size(f"flow_connections(n_steps={n_steps}, n_dirs={n_dirs}) over {P.shape[0]} points",
                      steps=n_steps, size=2 * n_dirs * P.size)
    if P.ndim != 2 or H.shape != (P.shape[0], P.shape[1], P.shape[1]):
        raise ValueError(f"points must be (p, d) and hessians (p, d, d), got {P.shape} and {H.shape}")
    rng = np.random.default_rng(0)
    pairs = set()
    for j, (p, h) in enumerate(zip(P, H)):
        ev, V = np.linalg.eigh(h)
        for sign, mask in ((1.0, ev < 0), (-1.0, ev > 0)):
            if not mask.any():
                continue
            basis = V[:, mask]
            if basis.shape[1] == 1:
                c = np.linspace(-1.0, 1.0, 2)[:, None]
            else:
                c = rng.normal(size=(n_dirs, basis.shape[1]))
                if basis.shape[1] == 2:
                    a = np.linspace(0, 2 * np.pi, n_dirs, endpoint=False)
                    c = np.stack([np.cos(a), np.sin(a)], -1)
            c = c / np.linalg.norm(c, axis=1, keepdims=True)
            X0 = jnp.asarray(p + eps * c @ basis.T, dtype=jnp.float32)
            X = np.asarray(_flow(f, X0, sign, dt, n_steps), dtype=float)
            d = np.linalg.norm(X[:, None, :] - P[None], axis=-1)
            for row in d:
                k = int(np.argmin(row))
                if row[k] < tol and k != j:
                    pairs.add((j, k) if sign > 0 else (k, j))
    return sorted(pairs)


def transition_costs(
    values: Any, connections: Sequence[tuple[int, int]], sigma: float, noise: str = "gaussian"
) -> np.ndarray:
    r"""Transition costs of a gradient system, closed form along gradient-flow connections.

    For each connection ``(j, k)`` (a flow line from :math:`K_j` down to
    :math:`K_k`, see :func:`flow_connections`): :math:`B_{jk} = 0` (follow the
    flow) and, against the flow,

    * ``noise="gaussian"`` (:math:`Z\sim\mathcal N(0,\sigma^2 I)`):
      :math:`B_{kj} = 2(f(K_j) - f(K_k))/\sigma^2`;
    * ``noise="power_law"`` (:math:`Z\sim\mathcal N(0,\sigma^2 f(x) I)`, :math:`f > 0`):
      :math:`B_{kj} = 2(\log f(K_j) - \log f(K_k))/\sigma^2`.

    Both are exact: the action of any path from :math:`K_k` to :math:`K_j` is at
    least this (expand :math:`\|\dot\gamma+\nabla f\|^2 = \|\dot\gamma-\nabla f\|^2 + 4\langle\dot\gamma,\nabla f\rangle`),
    with equality along the time-reversed flow line.  Other pairs get
    ``np.inf``: such a transition passes through intermediate components, and
    the energies are unchanged (a tree using a chained transition can be
    rebuilt from direct ones).  ``values``: ``(p,)``; returns ``(p, p)``.
    """
    _checks.finite_array("values", values, ndim=1)
    v = np.asarray(values, dtype=float)
    _checks.positive("sigma", sigma)
    _checks.one_of("noise", noise, ("gaussian", "power_law"))
    if noise == "power_law":
        if (v <= 0).any():
            raise ValueError("values must be > 0 for power-law noise (the energy involves log f)")
        v = np.log(v)
    p = v.size
    B = np.full((p, p), np.inf)
    if isinstance(connections, (str, bytes)) or not hasattr(connections, "__iter__"):
        raise ValueError(f"connections must be a sequence of (j, k) index pairs, got {connections!r}")
    s = float(sigma)
    for pair in connections:
        try:
            j, k = pair
            j, k = _checks.nonnegative_int("connections", j), _checks.nonnegative_int("connections", k)
        except (TypeError, ValueError):
            raise ValueError(f"connections must be pairs of distinct indices in [0, {p}), got {pair!r}") from None
        if not (j < p and k < p) or j == k:
            raise ValueError(f"connections must be pairs of distinct indices in [0, {p}), got {(j, k)}")
        B[j, k] = 0.0
        B[k, j] = 2.0 * max(v[j] - v[k], 0.0) / s / s  # no overflow for a huge sigma
    return B


def gradient_flow_path(f: Callable[[jax.Array], jax.Array], x0: Any, dt: float, n_steps: int) -> np.ndarray:
    r"""Euler path of the gradient flow :math:`\dot\gamma = -\nabla f(\gamma)` from ``x0``: ``(n_steps + 1, d)`` float64."""
    _checks.is_callable("f", f)
    x = np.asarray(_checks.finite_array("x0", x0), dtype=float)
    _checks.positive("dt", dt)
    n_steps = _checks.positive_int("n_steps", n_steps)
    _checks.work_size(f"gradient_flow_path(n_steps={n_steps}) runs a Python loop", steps=n_steps, size=1,
                      max_work=_checks.MAX_PYTHON_STEPS, how="integrate with course_lib.ode.flow (compiled)")
    g = jax.jit(jax.grad(f))
    out = [x]
    for _ in range(n_steps):
        x = x - float(dt) * np.asarray(g(jnp.asarray(x)), dtype=float)
        out.append(x)
        if not np.all(np.isfinite(x)):
            break
    from .divergence import check

    return check(np.array(out), "gradient_flow_path (reduce dt)")


def gaussian_action(f: Callable[[jax.Array], jax.Array], path: Any, duration: float, sigma: float) -> float:
    r"""Action :math:`S_T[\gamma] = \frac{1}{2\sigma^2}\int_0^T \|\dot\gamma_t + \nabla f(\gamma_t)\|^2\,dt` of a sampled path.

    ``path``: ``(m, d)`` points :math:`\gamma(t_k)` at equally spaced times on
    :math:`[0, T]`, ``T = duration``; finite differences for :math:`\dot\gamma`,
    midpoint rule for the integral.  The Gaussian-noise Lagrangian is
    :math:`L(x, v) = \|v + \nabla f(x)\|^2/(2\sigma^2)` :cite:`azizian2024longrun`.
    """
    _checks.is_callable("f", f)
    P = _checks.finite_array("path", path, ndim=2)
    _checks.positive("duration", duration)
    _checks.positive("sigma", sigma)
    if P.shape[0] < 2:
        raise ValueError(f"path must have at least 2 points (m, d), got shape {tuple(P.shape)}")
    dt = float(duration) / (P.shape[0] - 1)
    P = np.asarray(P, dtype=float)
    mid = 0.5 * (P[1:] + P[:-1])
    vel = (P[1:] - P[:-1]) / dt
    g = np.asarray(jax.vmap(jax.grad(f))(jnp.asarray(mid)), dtype=float)
    s = float(sigma)
    with np.errstate(over="ignore"):
        out = float(np.sum(np.sum((vel + g) ** 2, axis=-1)) * dt / 2.0 / s / s)
    if not math.isfinite(out):
        raise ValueError(f"gaussian_action overflowed (duration={duration!r}, sigma={sigma!r}, path of shape "
                         f"{tuple(P.shape)}); use a shorter duration or a larger sigma")
    return out
