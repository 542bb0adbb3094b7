r"""How long constant-step SGD takes to reach the global minimisers.

Setting (:cite:`azizian2025global`, :cite:`azizian2025talk`): SGD
:math:`x_{t+1} = x_t - \eta[\nabla f(x_t) + Z(x_t;\omega_t)]` started at
:math:`x`, and the hitting time :math:`\tau = \min\{t : \operatorname{dist}(x_t,
\operatorname{argmin} f) \le \delta\}`.  For small :math:`\eta` and :math:`\delta`,

.. math:: \mathbb E_x[\tau] \approx \exp\bigl(J(x)/\eta\bigr),

with :math:`J(x) = \max_i [J(i) - B(x, i)]_+` computed on the transition graph
of the critical components (:func:`course_lib.energy.convergence_energy`).
:math:`J \equiv 0` exactly when every local minimum is global.

What is here
------------
* transition graphs of simple landscapes: :func:`chain_costs` (a 1-D
  alternation of minima and saddles), :func:`three_humps_graph`;
  the bound with the number of bad minima, :func:`bad_minima_bound`;
* hitting-time experiments over a grid of step sizes,
  :func:`hitting_time_sweep` (all step sizes in one batch of fixed size that
  finished chains leave and waiting ones enter, on the engine of
  :func:`course_lib.simulate.hitting_times`), the censored mean
  :func:`mean_hitting_time`, and the regression of :math:`\log(\eta\,\mathbb E\tau)`
  on :math:`1/\eta`, :func:`fit_rate`;
* noise beyond Gaussian: fractional Gaussian noise (:func:`fractional_noise`,
  Davies--Harte), SGD driven by a given noise sequence (:func:`driven_sgd`),
  the basins of the three humps (:func:`three_humps_basin`) and the exit
  experiment from the middle basin (:func:`basin_exits`);
* the chapter's widget is :func:`course_lib.chapters.exit_times.draw_hitting_distribution`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases

__all__ = [
    "CostGraph",
    "chain_costs",
    "three_humps_graph",
    "bad_minima_bound",
    "HittingSweep",
    "hitting_time_sweep",
    "mean_hitting_time",
    "RateFit",
    "fit_rate",
    "fbm_autocovariance",
    "fractional_noise",
    "student_noise",
    "driven_sgd",
    "three_humps_basin",
    "BasinExits",
    "basin_exits",
    "boxplot_rate",
]

__getattr__ = deprecated_aliases(
    __name__, {"draw_hitting_distribution": ("course_lib.chapters.exit_times:draw_hitting_distribution", "0.2")})


# ---------------------------------------------------------------------------
# transition graphs and the bound with the number of bad minima
# ---------------------------------------------------------------------------


class CostGraph(NamedTuple):
    r"""A landscape's critical components and their transition costs.

    ``points``: ``(p, d)`` (``None`` for abstract landscapes); ``values``: ``(p,)``
    :math:`f(K_i)` (for power-law noise, of the shifted loss); ``kinds``: ``p`` strings
    ``"minimum"`` / ``"saddle"``; ``B``: ``(p, p)`` costs (:func:`course_lib.energy.transition_costs`);
    ``target``: indices of the global minimisers; ``start``: index of the default start.
    """

    points: Any
    values: np.ndarray
    kinds: tuple[str, ...]
    B: np.ndarray
    target: tuple[int, ...]
    start: int


def _noise_kind(noise: str) -> str:
    return _checks.one_of("noise", noise, ("gaussian", "power_law"))


def chain_costs(values: Any, sigma: float, noise: str = "gaussian", start: int | None = None) -> CostGraph:
    r"""Transition graph of a 1-D landscape whose critical points alternate minimum, saddle, ..., minimum.

    ``values``: ``(2m + 1,)`` the critical values from left to right (even
    indices: minima, odd: the barrier tops between them, each higher than its
    two neighbours).  Every barrier top :math:`s` is joined by a flow line to
    its two neighbouring minima, so :math:`B_{s\,m} = 0` and
    :math:`B_{m\,s} = 2(f(s) - f(m))/\sigma^2` (Gaussian) or
    :math:`2(\log f(s) - \log f(m))/\sigma^2` (power law).  ``target``: the
    minima of least value (ties within ``1e-12`` are all global);
    ``start`` defaults to the highest-indexed bad minimum (or the last minimum).
    """
    from . import energy

    v = np.asarray(values, dtype=float)
    _noise_kind(noise)
    if v.ndim != 1 or v.size < 1 or v.size % 2 == 0 or not np.isfinite(v).all():
        raise ValueError("values must be a finite 1-D array of odd length (minima and saddles alternating), "
                         f"got shape {v.shape}")
    minima = np.arange(0, v.size, 2)
    for s in range(1, v.size, 2):
        if not (v[s] > v[s - 1] and v[s] > v[s + 1]):
            raise ValueError(f"values[{s}] must be higher than its two neighbouring minima (a barrier top)")
    conn = [(s, s - 1) for s in range(1, v.size, 2)] + [(s, s + 1) for s in range(1, v.size, 2)]
    B = energy.transition_costs(v, conn, sigma, noise)
    fmin = v[minima].min()
    target = tuple(int(i) for i in minima if v[i] <= fmin + 1e-12)
    bad = [int(i) for i in minima if i not in target]
    if start is None:
        start = bad[-1] if bad else int(minima[-1])
    if not isinstance(start, (int, np.integer)) or not 0 <= int(start) < v.size:
        raise ValueError(f"start must be an index in [0, {v.size}), got {start!r}")
    kinds = tuple("minimum" if i % 2 == 0 else "saddle" for i in range(v.size))
    return CostGraph(None, v, kinds, B, target, int(start))


def three_humps_graph(sigma: float, noise: str = "gaussian", shift: float = 0.0) -> CostGraph:
    r"""Transition graph of :func:`course_lib.landscapes.three_humps`.

    Components: the three minima (global, middle, right: indices 0, 1, 2) and
    the two saddles (left, right: 3, 4); the left saddle's flow lines go down to
    minima 0 and 1, the right saddle's to 1 and 2 (checked with
    :func:`course_lib.energy.flow_connections` in the tests).  ``noise="power_law"``:
    noise :math:`\mathcal N(0,\sigma^2 (f + \text{shift}) I)`, values of
    :math:`f + \text{shift}` (must be > 0).  ``target = (0,)``, ``start = 2``.
    """
    from . import energy
    from . import landscapes as L

    _noise_kind(noise)
    pts = np.concatenate([L.THREE_HUMPS_MINIMA, L.THREE_HUMPS_SADDLES])
    vals = _three_humps_exact(pts)
    if noise == "power_law":
        vals = vals + float(shift)
        if (vals <= 0).any():
            raise ValueError("shift must make f + shift > 0 at every critical point "
                             f"(f >= {vals.min() - shift:.4f}), got {shift!r}")
    conn = [(3, 0), (3, 1), (4, 1), (4, 2)]
    B = energy.transition_costs(vals, conn, sigma, noise)
    return CostGraph(pts, vals, ("minimum",) * 3 + ("saddle",) * 2, B, (0,), 2)


def _three_humps_exact(pts: np.ndarray) -> np.ndarray:
    """``three_humps`` at ``pts`` in float64 (NumPy, independent of JAX's x64 setting)."""
    x1, x2 = pts[:, 0], pts[:, 1]
    return (2 * x1**6 / 13 + x1**5 / 8 - 91 * x1**4 / 64 - 24 * x1**3 / 48 + 42 * x1**2 / 16
            + 5 * x2**2 / 4 + x1 * x2)


def bad_minima_bound(graph: CostGraph, sigma: float, noise: str = "gaussian") -> float:
    r"""Upper bound on :math:`J(x)` from the number of bad local minima :cite:`azizian2025talk`.

    .. math::
        J(x) \le \frac{2\,\#\{\text{bad minima}\}\,\bigl(\max_{\text{saddles}} g - \min_{\text{bad minima}} g\bigr)}{\sigma^2},

    with :math:`g = f` (Gaussian noise) or :math:`g = \log f` (power-law noise,
    values already shifted).  Returns ``0.0`` when every minimum is global.
    """
    _checks.positive("sigma", sigma)
    _noise_kind(noise)
    v = np.asarray(graph.values, dtype=float)
    g = np.log(v) if noise == "power_law" else v
    bad = [i for i, k in enumerate(graph.kinds) if k == "minimum" and i not in graph.target]
    saddles = [i for i, k in enumerate(graph.kinds) if k == "saddle"]
    if not bad:
        return 0.0
    return float(2 * len(bad) * (g[saddles].max() - g[bad].min()) / float(sigma) ** 2)


# ---------------------------------------------------------------------------
# hitting-time sweeps over the step size
# ---------------------------------------------------------------------------


class HittingSweep(NamedTuple):
    r"""Result of :func:`hitting_time_sweep`.

    ``steps``: ``(k,)`` step sizes :math:`\eta`; ``times``: ``(k, n)`` int64
    hitting times in steps, ``-1`` when the chain had not hit after
    ``max_steps[j]`` steps (censored) or diverged; ``max_steps``: ``(k,)`` the
    truncation of each run; ``n_diverged``: ``(k,)``; ``work``: ``(k,)``
    chain-steps computed (padding included), each chunk's cost shared among the
    chains that were in the batch; ``useful``: ``(k,)`` chain-steps of
    chains that had not yet hit (:math:`\sum_i \min(\tau_i, T_{\max})`);
    ``seconds``: ``(k,)`` the wall time of the sweep shared in proportion to ``work``
    (the step sizes run together).
    """

    steps: np.ndarray
    times: np.ndarray
    max_steps: np.ndarray
    n_diverged: np.ndarray
    work: np.ndarray
    useful: np.ndarray
    seconds: np.ndarray

    def means(self) -> np.ndarray:
        """Censored mean hitting time (in steps) of every step size, ``(k,)`` (:func:`mean_hitting_time`)."""
        return np.array([mean_hitting_time(t, m) for t, m in zip(self.times, self.max_steps)])

    def useful_fraction(self) -> float:
        """Fraction of the computed chain-steps that belonged to chains not yet finished."""
        return float(self.useful.sum() / max(self.work.sum(), 1))


def hitting_time_sweep(
    key: jax.Array,
    objective: Callable[[jax.Array], jax.Array],
    noise: Any,
    x0: Any,
    steps: Sequence[float],
    *,
    centers: Any,
    delta: float,
    max_time: float,
) -> HittingSweep:
    r"""Hitting times of ``argmin`` for every step size of ``steps``.

    For each :math:`\eta` in ``steps``, the chains start at ``x0`` (``(n, d)``)
    and stop in the target balls of radius ``delta`` around ``centers``
    (``(k, d)``), truncated at ``max_steps = ceil(max_time / eta)`` steps, i.e.
    at the same time ``max_time`` of the gradient flow (time = number of steps
    :math:`\times\,\eta`).  The chains of all step sizes run together, each with
    its own step (a traced argument), in one batch shape that the finished
    chains leave and the waiting ones enter (the engine of
    :func:`course_lib.simulate.hitting_times`, whose law each chain follows):
    one compiled program per objective and noise kind, whatever the step sizes
    and their number.  Diverged chains are counted in ``n_diverged`` (and warned
    about).  ``work`` shares each chunk's cost among the chains in it;
    ``seconds`` shares the wall time of the sweep in proportion to ``work``.
    """
    _checks.prng_key("key", key, batched=True)
    import time

    from . import simulate

    S = np.asarray(steps, dtype=float)
    if S.ndim != 1 or S.size < 1 or not np.all(np.isfinite(S)) or (S <= 0).any():
        raise ValueError(f"steps must be a non-empty 1-D array of positive step sizes, got {steps!r}")
    _checks.positive("max_time", max_time)
    maxs = np.array([int(math.ceil(float(max_time) / eta)) for eta in S])
    # the checks of hitting_times for the longest run (work budget: that of one step size, as before)
    x0, _ = simulate._validate(noise, x0, float(S.min()), 0.0, int(maxs.max()), objective, "max_steps", key=key)
    if noise.kind == "given":
        raise ValueError("noise must be a random course_lib.noise.NoiseModel, not noise.given (chains are reordered)")
    centers = _checks.finite_array("centers", centers, ndim=2, last=x0.shape[1])
    _checks.positive("delta", delta)
    n, d = x0.shape
    t0 = time.perf_counter()
    r = simulate._hitting_pool(key, objective, noise, np.tile(np.asarray(x0, np.float32), (S.size, 1)),
                               np.repeat(S, n), np.repeat(maxs, n), centers=centers, delta=float(delta))
    secs = time.perf_counter() - t0
    times = r.times.reshape(S.size, n)
    diverged = (r.div_at >= 0).reshape(S.size, n)
    for eta, dv, at in zip(S, diverged, r.div_at.reshape(S.size, n)):
        if dv.any():
            warnings.warn(f"step {eta:g}: {int(dv.sum())} of {n} SGD chains diverged (first at step {int(at[dv].min())}); "
                          "they count as not hit", simulate.DivergenceWarning, stacklevel=2)
    work = r.work.reshape(S.size, n).sum(1)
    return HittingSweep(S, times.astype(np.int64), maxs, diverged.sum(1), np.rint(work).astype(np.int64),
                        r.useful.reshape(S.size, n).sum(1), secs * work / max(work.sum(), 1.0))


def mean_hitting_time(times: Any, max_steps: int) -> float:
    r"""Mean hitting time from possibly censored samples, in steps.

    ``times``: ``(n,)`` ints, ``-1`` for a run stopped at ``max_steps`` before
    hitting.  Maximum-likelihood estimate for exponentially distributed times
    (the exit-time law of a metastable chain): total observed time divided by
    the number of hits, :math:`(\sum_{\text{hit}}\tau_i + n_{\text{cens}}T_{\max})/n_{\text{hit}}`.
    Without censoring it is the sample mean.  Returns ``inf`` if nothing hit.
    """
    t = np.asarray(times)
    if t.ndim != 1 or t.size == 0 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"times must be a non-empty 1-D integer array (-1 = censored), got {t.dtype} {t.shape}")
    max_steps = _checks.positive_int("max_steps", int(max_steps) if isinstance(max_steps, np.integer) else max_steps)
    hit = t >= 0
    if not hit.any():
        return math.inf
    return float((t[hit].sum() + (~hit).sum() * max_steps) / hit.sum())


class RateFit(NamedTuple):
    r"""Result of :func:`fit_rate`: :math:`\log(\eta\,\mathbb E\tau) \approx \text{intercept} + \text{slope}/\eta`."""

    slope: float
    intercept: float


def fit_rate(steps: Any, mean_times: Any) -> RateFit:
    r"""Least-squares line of :math:`\log(\eta\,\bar\tau)` against :math:`1/\eta`.

    ``steps``, ``mean_times``: ``(k,)``, ``k >= 2``, mean hitting times in steps.
    :math:`\eta\bar\tau` is the hitting time in the time of the gradient flow;
    Kramers' formula makes its prefactor independent of :math:`\eta`, so the
    slope estimates :math:`J(x)` of :math:`\mathbb E_x[\tau]\approx e^{J(x)/\eta}`.
    """
    S = np.asarray(steps, dtype=float)
    T = np.asarray(mean_times, dtype=float)
    if S.shape != T.shape or S.ndim != 1 or S.size < 2:
        raise ValueError(f"steps and mean_times must be 1-D of the same length >= 2, got {S.shape} and {T.shape}")
    if not (np.isfinite(T).all() and (T > 0).all() and (S > 0).all()):
        raise ValueError("steps and mean_times must be positive and finite (a step size with no hit gives inf)")
    slope, intercept = np.polyfit(1.0 / S, np.log(S * T), 1)
    return RateFit(float(slope), float(intercept))


# ---------------------------------------------------------------------------
# noise beyond Gaussian: fractional Gaussian noise, Student-t, driven SGD
# ---------------------------------------------------------------------------


def fbm_autocovariance(hurst: float, n: int) -> np.ndarray:
    r"""Autocovariance :math:`\gamma(k) = \tfrac12(|k+1|^{2H} - 2|k|^{2H} + |k-1|^{2H})`, :math:`k = 0..n-1`.

    The increments :math:`G_t = B_H(t+1) - B_H(t)` of a fractional Brownian motion
    with Hurst index :math:`H\in(0,1)` (fractional Gaussian noise) have unit
    variance and this covariance: positive for :math:`H > 1/2` (persistent),
    negative for :math:`H < 1/2`, zero for :math:`H = 1/2` (white noise).
    """
    _checks.in_range("hurst", hurst, 0.0, 1.0, low_open=True, high_open=True)
    n = _checks.positive_int("n", n)
    _checks.work_size(f"fbm_autocovariance(n={n})", steps=n, record_bytes=8.0 * n)
    k = np.arange(n, dtype=float)
    h2 = 2.0 * float(hurst)
    return 0.5 * (np.abs(k + 1) ** h2 - 2 * np.abs(k) ** h2 + np.abs(k - 1) ** h2)


def fractional_noise(key: jax.Array, hurst: float, n_steps: int, shape: tuple[int, ...]) -> jax.Array:
    r"""Independent fractional Gaussian noise sequences, shape ``(n_steps, *shape)`` float32.

    Davies--Harte circulant embedding: the covariance :math:`\gamma(0..N)` of
    :func:`fbm_autocovariance` is embedded in a circulant matrix of size
    :math:`2N`, whose eigenvalues :math:`\lambda` (an FFT) are non-negative for
    fractional Gaussian noise; then
    :math:`\operatorname{Re}\,\mathrm{FFT}(\sqrt{\lambda/2N}\,(A + iB))_{0..N-1}`
    with :math:`A, B` i.i.d. standard normal has exactly the covariance
    :math:`\gamma`.  Every entry of ``shape`` (e.g. ``(n_chains, d)``) gets its own sequence.
    """
    _checks.prng_key("key", key, batched=True)
    _checks.in_range("hurst", hurst, 0.0, 1.0, low_open=True, high_open=True)
    n_steps = _checks.positive_int("n_steps", n_steps)
    shape = tuple(_checks.positive_int("shape", s) for s in shape)
    _checks.work_size(f"fractional_noise(n_steps={n_steps}, shape={shape})", steps=n_steps,
                      size=float(np.prod(shape)), record_bytes=4.0 * n_steps * float(np.prod(shape)))
    gam = fbm_autocovariance(hurst, n_steps + 1)
    c = np.concatenate([gam, gam[-2:0:-1]])  # first row of the circulant, length 2N
    lam = np.fft.fft(c).real
    if lam.min() < -1e-8 * lam.max():
        raise ValueError(f"circulant embedding failed for hurst={hurst!r} (negative eigenvalue)")
    scale = np.sqrt(np.maximum(lam, 0.0) / c.size)
    m = int(np.prod(shape)) if shape else 1
    Z = _normals(key, 2 * c.size * m).reshape(2, c.size, m)
    W = np.empty((c.size, m), np.complex64)
    W.real = scale.astype(np.float32)[:, None] * Z[0]
    W.imag = scale.astype(np.float32)[:, None] * Z[1]
    # the FFT in NumPy: the same sum, and no compiled program per length and Hurst index
    W = np.fft.fft(W, axis=0)
    return jnp.asarray(np.ascontiguousarray(W[:n_steps].real).reshape((n_steps,) + shape))


_BLOCK = 1 << 18
"""Normal draws are made in blocks of this many numbers: one compiled program for every size and law."""


def _normals(key: jax.Array, count: int) -> np.ndarray:
    """``count`` i.i.d. standard normal float32 numbers: block ``i`` from ``fold_in(key, i)``.

    One compiled program of fixed shape ``(_BLOCK,)`` serves every length, Hurst
    index and number of degrees of freedom, instead of one program per shape.
    """
    blocks = [np.asarray(jax.random.normal(jax.random.fold_in(key, i), (_BLOCK,)))
              for i in range(-(-int(count) // _BLOCK))]
    return np.concatenate(blocks)[:count]


def student_noise(key: jax.Array, df: float, n_steps: int, shape: tuple[int, ...]) -> jax.Array:
    r"""Student-t draws with ``df > 2`` degrees of freedom rescaled to unit variance, ``(n_steps, *shape)``.

    :math:`T\sqrt{(\nu-2)/\nu}`, the law of the draws of :func:`course_lib.noise.heavy_tailed`
    with :math:`\sigma = 1`, as a sequence for :func:`driven_sgd`.  For an integer
    :math:`\nu \le 10`, :math:`T = Z_0/\sqrt{(Z_1^2+\dots+Z_\nu^2)/\nu}` with i.i.d. standard
    normal :math:`Z_k` (exact, and much faster on CPU than ``jax.random.t``'s gamma sampler).
    """
    _checks.prng_key("key", key, batched=True)
    if not _checks.in_range("df", df, 2.0, 1e6, low_open=True) > 2.0:
        raise ValueError(f"df must be > 2 so that the variance is finite, got {df!r}")
    n_steps = _checks.positive_int("n_steps", n_steps)
    shape = tuple(_checks.positive_int("shape", s) for s in shape)
    _checks.work_size(f"student_noise(n_steps={n_steps}, shape={shape})", steps=n_steps,
                      size=float(np.prod(shape)), record_bytes=4.0 * n_steps * float(np.prod(shape)))
    nu = float(df)
    if nu.is_integer() and nu <= 10:
        size = n_steps * int(np.prod(shape))
        Z = _normals(key, (int(nu) + 1) * size).reshape(int(nu) + 1, size)
        T = Z[0] / np.sqrt(np.mean(Z[1:] ** 2, axis=0))
        return jnp.asarray((T * math.sqrt((nu - 2.0) / nu)).astype(np.float32).reshape((n_steps,) + shape))
    T = jax.random.t(key, nu, (n_steps,) + shape)
    return (T * math.sqrt((float(df) - 2.0) / float(df))).astype(jnp.float32)


def driven_sgd(
    objective: Callable[[jax.Array], jax.Array], x0: Any, draws: Any, step: float, sigma: float, *, clip: float = np.inf
) -> jax.Array:
    r"""SGD driven by a given noise sequence: :math:`x_{t+1} = x_t - \eta(\nabla f(x_t) + \sigma G_t)`.

    ``x0``: ``(n, d)``; ``draws``: ``(T, n, d)`` unit-variance draws :math:`G_t`
    (e.g. :func:`fractional_noise`, correlated in :math:`t`, or
    :func:`student_noise`); the noise vector :math:`\sigma G_t` of each chain is
    truncated to norm at most ``clip``.  Returns the iterates
    :math:`x_1..x_T`, ``(T, n, d)``.  ``step``, ``sigma`` and ``clip`` are traced.
    A thin call of the engine, :func:`course_lib.simulate.trajectories` with
    :func:`course_lib.noise.given` increments; raises
    :class:`~course_lib.divergence.DivergenceError` (a ``FloatingPointError``)
    if a chain leaves the domain.
    """
    from . import noise, simulate

    x0 = _checks.finite_array("x0", x0, ndim=2).astype(jnp.float32)
    D = jnp.asarray(draws)
    if D.ndim != 3 or D.shape[1:] != x0.shape:
        raise ValueError(f"draws must have shape (T, {x0.shape[0]}, {x0.shape[1]}), got {tuple(D.shape)}")
    _checks.positive("step", step)
    _checks.nonnegative("sigma", sigma)
    _checks.positive("clip", clip if np.isfinite(clip) else 1.0)
    model = noise.given(D.astype(jnp.float32), float(sigma), clip=float(clip))
    run = simulate.trajectories(jax.random.PRNGKey(0), objective, model, x0, float(step), D.shape[0],
                                on_divergence="raise")
    return jnp.asarray(run.xs[1:])


def three_humps_basin(X: Any) -> jax.Array:
    r"""Basin of attraction of :func:`course_lib.landscapes.three_humps` for points ``(..., 2)``: 0, 1 or 2.

    0: the global minimum (left of the left saddle's abscissa), 1: the middle
    minimum, 2: the right minimum; the boundaries are the vertical lines through
    the two saddles (an approximation of the true separatrices, which cross the
    valley :math:`x_2 = -0.4x_1` at the saddles).
    """
    from . import landscapes as L

    X = _checks.last_axis("X", X, 2)
    a, b = L.THREE_HUMPS_SADDLES[:, 0]
    return (X[..., 0] > a).astype(jnp.int32) + (X[..., 0] > b).astype(jnp.int32)


class BasinExits(NamedTuple):
    r"""Result of :func:`basin_exits`.

    ``first``: ``(n,)`` the basin each chain entered when it first left the middle
    basin (0 or 2), ``-1`` if it never left; ``exit_time``: ``(n,)`` that step,
    ``-1`` if never; ``final``: ``(n,)`` basin after the last step;
    ``occupation``: ``(3,)`` fraction of (chain, step) pairs in each basin.
    """

    first: np.ndarray
    exit_time: np.ndarray
    final: np.ndarray
    occupation: np.ndarray

    def split(self) -> tuple[float, float, float]:
        """Fractions of chains that first left to the left (global) basin, to the right one, or never left."""
        n = self.first.size
        return (float((self.first == 0).sum() / n), float((self.first == 2).sum() / n),
                float((self.first < 0).sum() / n))


def basin_exits(xs: Any) -> BasinExits:
    r"""Where chains started in the middle basin of the three humps went: from iterates ``(T, n, 2)``."""
    xs = np.asarray(xs)
    if xs.ndim != 3 or xs.shape[-1] != 2:
        raise ValueError(f"xs must have shape (T, n, 2), got {tuple(xs.shape)}")
    from . import landscapes as L

    a, c = L.THREE_HUMPS_SADDLES[:, 0]
    x1 = np.asarray(xs[..., 0])
    b = (x1 > a).astype(np.int32) + (x1 > c).astype(np.int32)  # three_humps_basin, in NumPy (nothing to compile)
    left = b != 1
    ever = left.any(axis=0)
    t_exit = np.where(ever, left.argmax(axis=0), -1)
    first = np.where(ever, b[np.maximum(t_exit, 0), np.arange(b.shape[1])], -1)
    occ = np.array([(b == k).mean() for k in range(3)])
    return BasinExits(first, np.where(ever, t_exit + 1, -1), b[-1], occ)


# ---------------------------------------------------------------------------
# the chapter's widget
# ---------------------------------------------------------------------------


def boxplot_rate(
    ax: Any, sweep: HittingSweep, J: float, *, title: str = "", predicted_label: str | None = None
) -> RateFit:
    r"""Box plots of :math:`\eta\tau` (log scale) against :math:`1/\eta`, with the predicted and fitted lines.

    One box per step size (hits only; the censored runs enter the mean, drawn as a
    diamond: :func:`mean_hitting_time` times :math:`\eta`).  Predicted line:
    :math:`\log(\eta\,\mathbb E\tau) = a + J/\eta`, slope ``J`` given, :math:`a` by least
    squares; fitted line: :func:`fit_rate`.  Returns the fit.
    """
    from . import plotting as cplt

    inv = 1.0 / sweep.steps
    means = sweep.means()
    fit = fit_rate(sweep.steps, means)
    data = [sweep.steps[j] * sweep.times[j][sweep.times[j] >= 0] for j in range(inv.size)]
    width = 0.6 * float(np.min(np.diff(np.sort(inv)))) if inv.size > 1 else 1.0
    ax.boxplot(data, positions=inv, widths=width, manage_ticks=False, showfliers=False,
               medianprops={"color": cplt.OKABE_ITO[0]})
    ax.plot(inv, sweep.steps * means, "D", color="k", ms=5, label=r"mean $\eta\,\bar\tau$ (censored MLE)")
    a = float(np.mean(np.log(sweep.steps * means) - J * inv))
    u = np.linspace(inv.min(), inv.max(), 50)
    ax.plot(u, np.exp(a + J * u), "--", color=cplt.OKABE_ITO[3], lw=2,
            label=predicted_label or f"predicted slope $J$ = {J:.4f}")
    ax.plot(u, np.exp(fit.intercept + fit.slope * u), ":", color=cplt.OKABE_ITO[2], lw=2,
            label=f"fitted slope {fit.slope:.4f}")
    ax.set_yscale("log")
    ax.set(xlabel=r"$1/\eta$", ylabel=r"hitting time $\eta\tau$ (flow time)", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return fit
