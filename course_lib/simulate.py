r"""Many independent SGD chains at once, on CPU, GPU or several devices.

All simulators iterate, for every chain independently,

.. math::
    x_{t+1} = x_t - \eta_t\,\bigl[\nabla f(x_t) + Z(x_t;\omega_t)\bigr],
    \qquad \eta_t = \eta\,(1+t)^{-\alpha},

with constant step (:math:`\alpha = 0`, the setting of :cite:`azizian2025talk`)
or a decaying one (:math:`\alpha > 0`, Robbins--Monro stochastic approximation,
:cite:`pauwels2024intro`); ``step`` may also be an array, the step of every
iteration (``eta_t = step[t] (1+t)^-alpha``; zeros allowed).  ``Z`` is any
:class:`course_lib.noise.NoiseModel` (the engine uses only its public
:func:`course_lib.noise.draw` / :func:`course_lib.noise.apply`), including
``noise.given`` increments for driven runs.  The objective is a landscape, a
:class:`~course_lib.landscapes.FiniteSum`, or a :class:`Field` :math:`v` (then
:math:`\nabla f` is replaced by :math:`-v`).

Three outputs, three functions:

* :func:`trajectories` -- every iterate of a few chains, ``(T+1, n, d)``;
* :func:`occupation_histogram` -- the occupation measure
  :math:`\frac1{nT}\sum_{t,i}\mathbb 1\{x^i_t\in\text{bin}\}` of very many chains,
  accumulated on the fly, so memory does not grow with the number of steps;
* :func:`hitting_times` -- the first :math:`t` with
  :math:`\min_j\|x_t - c_j\| \le \delta`; chains that have hit are removed from
  the batch (compaction), so they stop costing work.

How it runs.  Steps are taken in jitted ``lax.scan`` chunks of fixed length
``CHUNK``; the number of steps, the step size, the decay, the noise parameters
and the histogram window are traced arguments, so changing them (a widget
slider) never recompiles.  A chain *diverges* when an iterate is not finite or
leaves the ball of radius ``divergence_radius``; it is then frozen at its last
iterate inside, every result reports which chains diverged and when, and
``on_divergence`` applies the package's one policy (:mod:`course_lib.divergence`):
``"warn"`` (default, a :class:`DivergenceWarning` naming how many and when),
``"raise"`` (:class:`~course_lib.divergence.DivergenceError`) or ``"ignore"``.  When several devices are visible
(GPUs, or ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` on a CPU),
chains are split across them with :mod:`jax.sharding`; nothing else changes.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import _checks
from . import noise as _noise
from ._deprecation import deprecated_aliases
from .divergence import DEFAULT_RADIUS, DivergenceWarning
from .divergence import policy as _policy
from .divergence import report as _report_policy
from .landscapes import FiniteSum, batch_grad
from .noise import NoiseModel

__all__ = [
    "CHUNK",
    "DivergenceWarning",
    "Field",
    "Trajectories",
    "Histogram",
    "HittingTimes",
    "trajectories",
    "occupation_histogram",
    "hitting_times",
    "chain_sharding",
]

__getattr__ = deprecated_aliases(__name__, {
    "linearized_covariance": ("course_lib.gibbs:linearized_covariance", "0.2"),
    "mass_near": ("course_lib.gibbs:histogram_mass_near", "0.2"),
    "predicted_mass_outside": ("course_lib.gibbs:predicted_mass_outside", "0.2"),
})

CHUNK = 256
"""Number of SGD steps taken by one compiled ``lax.scan`` call."""


@dataclasses.dataclass(frozen=True)
class Field:
    r"""A vector field :math:`v` to follow instead of a gradient: pass ``Field(v)`` as the objective.

    The simulators then iterate :math:`x_{t+1} = x_t + \eta_t\,[v(x_t) - Z_t]`, the
    stochastic approximation of :math:`\dot x = v(x)` (:mod:`course_lib.ode`);
    with :math:`v = -\nabla f` this is SGD on :math:`f`.  ``v`` maps one point
    ``(d,)`` to ``(d,)`` and must be hashable (a module-level function, or one
    object reused: it is a static argument of the compiled chunks).  Noise models
    that need the objective's values (``power_law``, ``minibatch``) are not
    available with a field.
    """

    v: Callable[[jax.Array], jax.Array]


class Trajectories(NamedTuple):
    """Result of :func:`trajectories`.

    ``xs``: ``(T+1, n, d)`` iterates :math:`x_0,\\dots,x_T` (a diverged chain
    stays at its last finite iterate); ``diverged``: ``(n,)`` bool;
    ``diverged_at``: ``(n,)`` int, the step at which it diverged, ``-1`` if never.
    """

    xs: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray


class Histogram(NamedTuple):
    """Result of :func:`occupation_histogram`.

    ``counts``: ``n_bins`` int64 counts of (chain, step) pairs per bin;
    ``edges``: one array of bin edges per histogrammed coordinate;
    ``n_samples``: number of (chain, step) pairs counted, including those
    outside the window; ``diverged``: ``(n,)`` bool.
    ``density()`` divides by ``n_samples`` and the bin area.
    """

    counts: np.ndarray
    edges: tuple[np.ndarray, ...]
    n_samples: int
    diverged: np.ndarray

    def density(self) -> np.ndarray:
        """Occupation density: counts / (n_samples * bin volume)."""
        volume = np.prod([e[1] - e[0] for e in self.edges])
        return self.counts / (max(self.n_samples, 1) * volume)

    def fraction_inside(self) -> float:
        """Fraction of the counted (chain, step) pairs that fell inside the window."""
        return float(self.counts.sum() / max(self.n_samples, 1))


class HittingTimes(NamedTuple):
    """Result of :func:`hitting_times`.

    ``times``: ``(n,)`` int64 first hitting step, ``-1`` if the chain had not hit
    after ``max_steps`` or diverged; ``hit``: ``(n,)`` bool; ``diverged``: ``(n,)``
    bool; ``work``: total chain-steps computed (padding included), which shows
    the effect of compaction.
    """

    times: np.ndarray
    hit: np.ndarray
    diverged: np.ndarray
    work: int


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def chain_sharding(n_chains: int) -> NamedSharding | None:
    """Sharding that splits ``n_chains`` across all visible devices, or ``None``
    when there is one device or ``n_chains`` is not a multiple of their number."""
    devices = jax.devices()
    if len(devices) < 2 or n_chains % len(devices):
        return None
    mesh = Mesh(np.array(devices), ("chains",))
    return NamedSharding(mesh, PartitionSpec("chains", None))


def _split_objective(objective: Any) -> tuple[Callable | None, FiniteSum | None]:
    """Static (hashable callable or Field) or dynamic (pytree finite sum) objective."""
    if isinstance(objective, FiniteSum):
        return None, objective
    if isinstance(objective, Field):
        return objective, None
    if not callable(objective):
        raise ValueError(f"objective must be a callable landscape (..., d) -> (...), got {type(objective).__name__}")
    return objective, None


def _validate(
    noise: NoiseModel, x0: Any, step: Any, decay: Any, n_steps: Any, objective: Any, steps_name: str = "n_steps",
    key: Any = None, max_work: float | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Check the common arguments; return ``x0`` and the step schedule as a 1-D array.

    Also the PRNG ``key``, that ``objective`` is callable, and the work size: ``n_steps`` x chains x
    dimension over the budget (:data:`course_lib._checks.MAX_WORK`, or ``max_work``) is refused up front.
    """
    _checks.prng_key("key", key)
    if not isinstance(objective, Field):
        _checks.is_callable("objective", objective)
    if not isinstance(noise, NoiseModel):
        raise ValueError(f"noise must be a course_lib.noise.NoiseModel, got {type(noise).__name__}")
    x0 = _checks.finite_array("x0", x0, ndim=2)
    _checks.nonnegative("decay", decay)
    n_steps = _checks.positive_int(steps_name, n_steps)
    _checks.work_size(f"{steps_name}={n_steps} with {x0.shape[0]} chains in dimension {x0.shape[1]}", steps=n_steps,
                      size=x0.size, max_work=max_work,
                      how=f"pass max_work={float(n_steps) * x0.size:.1e} to run it anyway (it may take long)")
    if np.ndim(step) == 0:
        _checks.positive("step", step)
        steps = jnp.reshape(jnp.asarray(step, x0.dtype), (1,))
    else:
        steps = _checks.finite_array("step", step, ndim=1).astype(x0.dtype)
        if steps.shape[0] < n_steps or bool(jnp.any(steps < 0)):
            raise ValueError(f"step must be a positive number or a 1-D array of >= {steps_name} = {n_steps} "
                             f"non-negative step sizes, got shape {tuple(steps.shape)}")
    if noise.kind == "minibatch" and objective is not noise.problem:
        raise ValueError("objective must be the FiniteSum of the minibatch noise model (noise.problem)")
    if isinstance(objective, Field) and noise.kind in ("power_law", "minibatch"):
        raise ValueError(f"noise of kind {noise.kind!r} needs an objective, not a Field")
    if noise.kind == "given":
        T, n, d = noise.increments.shape
        if (n, d) != tuple(x0.shape) or T < n_steps:
            raise ValueError(f"the given increments have shape {(T, n, d)}; they need at least {steps_name} = "
                             f"{n_steps} rows of shape {tuple(x0.shape)} (x0)")
    return x0, steps


# Layout.  Inside the compiled chunks the state is stored transposed, ``XT`` of
# shape ``(d, n)``: one contiguous row per coordinate (structure of arrays).  The
# public functions and the objective still see ``(n, d)``: ``_sgd_step`` hands
# ``XT.T`` to the objective, and XLA turns that transpose into a choice of memory
# layout instead of a copy.  In low dimension the (n, d) layout made XLA's CPU
# code for the gradient, the divergence test and the select shuffle the two
# interleaved coordinates of every chain; with one row per coordinate the same
# loops vectorize plainly.  The noise is drawn directly in the transposed layout
# (same numbers, see ``course_lib.noise._normal``).


def _chains_last(sharding: NamedSharding | None) -> NamedSharding | None:
    """The sharding of a ``(d, n)`` array whose chains (last axis) are split as by ``sharding``."""
    return None if sharding is None else NamedSharding(sharding.mesh, PartitionSpec(None, "chains"))


def _draws(noise, key, t, XT, sharding):
    """The random draws of step ``t`` (key ``fold_in(key, t)``), i.e. the randomness
    of ``noise.sample(noise, fold_in(key, t), X, objective)``, transposed (chains
    last) like ``XT``.  The chunk loops draw those of step t + 1 during step t and
    carry them: the same numbers, but computed by a kernel of their own (see
    :func:`course_lib.noise.draw`)."""
    d, n = XT.shape
    D = _noise.draw(noise, jax.random.fold_in(key, t), t, (n, d), XT.dtype, transposed=True)
    if sharding is not None:
        D = jax.lax.with_sharding_constraint(D, _chains_last(sharding))
    return D


def _drift(objective):
    """``X (n, d) -> (n, d)``: the gradient of a landscape, or minus a :class:`Field`."""
    if isinstance(objective, Field):
        v = jax.vmap(objective.v)
        return lambda X: -v(X)
    return batch_grad(objective)


def _eta(step, t, decay):
    """The step of iteration ``t``: ``step[min(t, L-1)] * (1 + t)^-decay`` (``step`` of shape ``(L,)``)."""
    step = jnp.atleast_1d(step)  # a scalar step is a schedule of length 1
    base = step[0] if step.shape[0] == 1 else step[jnp.minimum(t, step.shape[0] - 1)]
    return base * (1.0 + t) ** (-decay)


def _sgd_step(objective, draws, XT, t, step, decay, noise):
    """One SGD step of every chain, on the transposed state ``XT`` (d, n)."""
    eta = _eta(step, t, decay)
    X = XT.T  # the objective and the noise model see (n, d)
    G = _drift(objective)(X)
    Z = _noise.apply(noise, draws.T, X, objective)
    return XT - eta * (G + Z).T


def _alive(XT, radius):
    """Per chain: is the iterate finite and inside the ball?  ``XT`` is ``(d, n)``.

    A NaN or infinite coordinate makes the sum NaN or inf, so the comparison is
    False: no separate isfinite pass is needed.
    """
    d = XT.shape[0]
    if d > 4:
        return jnp.sum(XT * XT, axis=0) < radius * radius
    r2 = XT[0] * XT[0]  # low dimension: row by row, the same sum
    for j in range(1, d):
        r2 = r2 + XT[j] * XT[j]
    return r2 < radius * radius


def _advance(objective, draws, XT, t, alive, div_at, step, decay, noise, radius, sharding, valid=True):
    """One SGD step of the live chains (``XT``: (d, n)).  When ``valid`` is False
    (padding steps at the end of the last chunk) nothing changes."""
    if sharding is not None:
        XT = jax.lax.with_sharding_constraint(XT, _chains_last(sharding))
    valid = jnp.asarray(valid)  # a Python bool would make ~valid the int -2
    # The step runs inside a cond (skipped on padding steps), which makes XLA
    # store X_new, one contiguous row per coordinate, instead of fusing the
    # gradient computation into each of its consumers below (divergence test,
    # selects), where the backward pass of ``x[..., j]`` would be materialised
    # in the interleaved (n, d) layout.  Same numbers, about 10% faster on CPU.
    X_new = jax.lax.cond(valid, lambda: _sgd_step(objective, draws, XT, t, step, decay, noise), lambda: XT)
    ok = _alive(X_new, radius)
    live = alive & valid
    XT = jnp.where((live & ok)[None, :], X_new, XT)
    div_at = jnp.where(live & ~ok, t + 1, div_at)
    return XT, alive & (ok | ~valid), div_at


# ---------------------------------------------------------------------------
# compiled chunks
# ---------------------------------------------------------------------------
#
# Each chunk takes and returns the state as (n, d) and transposes it once on
# entry and once on exit (once per CHUNK steps).


@partial(jax.jit, static_argnames=("f_static", "sharding"))
def _traj_chunk(f_static, f_dyn, noise, key, X, t0, alive, div_at, n_valid, step, decay, radius, sharding=None):
    objective = f_static if f_static is not None else f_dyn

    def body(carry, k):
        XT, alive, div_at, D = carry
        t = t0 + k
        D_next = _draws(noise, key, t + 1, XT, sharding)
        XT, alive, div_at = _advance(
            objective, D, XT, t, alive, div_at, step, decay, noise, radius, sharding, k < n_valid
        )
        return (XT, alive, div_at, D_next), XT

    init = (X.T, alive, div_at, _draws(noise, key, t0, X.T, sharding))
    (XT, alive, div_at, _), xts = jax.lax.scan(body, init, jnp.arange(CHUNK))
    return XT.T, alive, div_at, jnp.swapaxes(xts, 1, 2)


@partial(jax.jit, static_argnames=("f_static", "n_bins", "dims", "sharding"))
def _hist_chunk(
    f_static, f_dyn, noise, key, X, t0, alive, div_at, n_valid, burn_in, step, decay, radius,
    low, high, n_bins, dims, sharding=None,
):
    """``CHUNK`` steps; returns the state and the ``prod(n_bins)`` counts of the chunk.

    The counts are accumulated in one row per device (``(n_shards, total + 1)``,
    the last column collecting the pairs outside the window), so that every
    device scatters its own chains into its own row and the steps need no
    communication; the rows are summed once at the end of the chunk.
    """
    objective = f_static if f_static is not None else f_dyn
    total = int(np.prod(n_bins))
    strides = [int(np.prod(n_bins[i + 1:])) for i in range(len(n_bins))]
    n_shards = 1 if sharding is None else sharding.mesh.size
    n = X.shape[0]

    def body(carry, k):
        XT, alive, div_at, counts, D = carry
        t = t0 + k
        D_next = _draws(noise, key, t + 1, XT, sharding)
        valid = k < n_valid
        XT, alive, div_at = _advance(objective, D, XT, t, alive, div_at, step, decay, noise, radius, sharding, valid)
        # the iterate x_{t+1} is counted when t + 1 > burn_in
        inside = alive & valid & (t + 1 > burn_in)
        flat = jnp.zeros(n, jnp.int32)
        for i, dim in enumerate(dims):
            q = jnp.floor((XT[dim] - low[i]) / (high[i] - low[i]) * n_bins[i]).astype(jnp.int32)
            inside = inside & (q >= 0) & (q < n_bins[i])
            flat = flat + q * strides[i]
        flat = jnp.where(inside, flat, total).reshape(n_shards, n // n_shards)
        counts = jax.vmap(lambda c, f: c.at[f].add(1, mode="promise_in_bounds"))(counts, flat)
        if sharding is not None:
            counts = jax.lax.with_sharding_constraint(counts, sharding)
        return (XT, alive, div_at, counts, D_next), None

    counts = jnp.zeros((n_shards, total + 1), jnp.int32)
    init = (X.T, alive, div_at, counts, _draws(noise, key, t0, X.T, sharding))
    (XT, alive, div_at, counts, _), _ = jax.lax.scan(body, init, jnp.arange(CHUNK))
    return XT.T, alive, div_at, jnp.sum(counts[:, :total], axis=0)


def _n_counted(div_at: np.ndarray, t0: int, n_valid: int, burn_in: int) -> int:
    """Number of (chain, step) pairs of the chunk ``t0 < s <= t0 + n_valid`` with
    ``s > burn_in`` and the chain alive after step ``s``, from the divergence
    steps at the end of the chunk (a chain with ``div_at = s_d >= 0`` is alive
    exactly after the steps ``s < s_d``)."""
    first = max(t0, burn_in) + 1
    last = np.where(div_at < 0, t0 + n_valid, np.minimum(div_at.astype(np.int64) - 1, t0 + n_valid))
    return int(np.maximum(last - first + 1, 0).sum())


@partial(jax.jit, static_argnames=("f_static", "sharding", "target"))
def _hit_chunk(f_static, f_dyn, noise, key, X, t0, active, times, div_at, step, decay, radius, centers, delta,
               sharding=None, target=None):
    objective = f_static if f_static is not None else f_dyn

    def in_target(XT):
        if target is not None:
            return target(XT.T)
        # XT (d, n), centers (k, d): squared distances (k, n)
        d2 = jnp.sum((XT[None, :, :] - centers[:, :, None]) ** 2, axis=1)
        return jnp.min(d2, axis=0) <= delta * delta

    def body(carry, k):
        XT, active, times, div_at, D = carry
        t = t0 + k
        D_next = _draws(noise, key, t + 1, XT, sharding)
        Xn, still, div_at = _advance(objective, D, XT, t, active, div_at, step, decay, noise, radius, sharding)
        XT = jnp.where(active[None, :], Xn, XT)
        hit_now = still & in_target(XT)
        times = jnp.where(hit_now, t + 1, times)
        return (XT, still & ~hit_now, times, div_at, D_next), None

    init = (X.T, active, times, div_at, _draws(noise, key, t0, X.T, sharding))
    (XT, active, times, div_at, _), _ = jax.lax.scan(body, init, jnp.arange(CHUNK))
    return XT.T, active, times, div_at


@partial(jax.jit, static_argnames=("f_static", "sharding"))
def _pool_chunk(f_static, f_dyn, noise, key, c, X, tc, active, step, decay, radius, centers, delta, sharding=None):
    """``CHUNK`` steps of a pool of chains at different stages (:func:`_hitting_pool`).

    ``X``: ``(n, d)``; ``tc``: ``(n,)`` int32, the steps each chain has already
    taken; ``step``: ``(n,)`` the step size of each chain (traced: one compiled
    program per pool size, objective and noise kind, whatever the step sizes).
    The draws of chunk ``c`` come from ``fold_in(key, c)``, step ``k`` of the
    chunk from ``fold_in(fold_in(key, c), k)``, so every (chunk, slot, step) has
    its own numbers.  Returns the state, ``active``, and the hitting and
    divergence steps (counted from each chain's own start, ``-1`` if none).
    """
    objective = f_static if f_static is not None else f_dyn
    key = jax.random.fold_in(key, c)
    eta = step[None, :]  # a schedule of length 1 whose entry is a row: one step size per chain (``_eta``)
    n = X.shape[0]

    def body(carry, k):
        XT, active, times, div_at, D = carry
        t = tc + k
        D_next = _draws(noise, key, k + 1, XT, sharding)
        Xn, still, div_at = _advance(objective, D, XT, t, active, div_at, eta, decay, noise, radius, sharding)
        XT = jnp.where(active[None, :], Xn, XT)
        d2 = jnp.sum((XT[None, :, :] - centers[:, :, None]) ** 2, axis=1)
        hit_now = still & (jnp.min(d2, axis=0) <= delta * delta)
        times = jnp.where(hit_now, t + 1, times)
        return (XT, still & ~hit_now, times, div_at, D_next), None

    none = jnp.full(n, -1, jnp.int32)
    init = (X.T, active, none, none, _draws(noise, key, 0, X.T, sharding))
    (XT, active, times, div_at, _), _ = jax.lax.scan(body, init, jnp.arange(CHUNK))
    return XT.T, active, times, div_at


# ---------------------------------------------------------------------------
# public simulators
# ---------------------------------------------------------------------------


def _report(diverged: np.ndarray, div_at: Any = None, on_divergence: str = "warn") -> None:
    _report_policy(diverged, div_at, what="SGD chains", on_divergence=on_divergence, stacklevel=4)


def _progress(total: int, progress: bool | None, desc: str):
    if progress is None:  # automatic: in live Jupyter, for runs of more than a few chunks
        from .progress import show_progress

        progress = total > 4 * CHUNK and show_progress()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step")


def _place(X: Any, sharding: NamedSharding | None) -> jax.Array:
    """``X`` on the device(s).  ``device_put`` of a NumPy array compiles nothing (``jnp.asarray`` compiles a
    small staging program per shape, which a run over many batch sizes pays many times)."""
    return jax.device_put(X) if sharding is None else jax.device_put(X, sharding)


def trajectories(
    key: jax.Array,
    objective: Callable[[jax.Array], jax.Array],
    noise: NoiseModel,
    x0: jax.Array,
    step: float,
    n_steps: int,
    *,
    decay: float = 0.0,
    divergence_radius: float = DEFAULT_RADIUS,
    every: int = 1,
    on_divergence: str = "warn",
    max_work: float | None = None,
) -> Trajectories:
    r"""Run SGD from ``x0`` (shape ``(n, d)``, one row per chain) for ``n_steps``
    steps and return every iterate, shape ``(n_steps + 1, n, d)``.

    ``key`` is a JAX PRNG key; the same key gives the same trajectories.
    ``step`` is :math:`\eta > 0` or an array of steps ``(>= n_steps,)``,
    ``decay`` is :math:`\alpha \ge 0` in :math:`\eta_t = \eta_t^0(1+t)^{-\alpha}`.
    ``every = k`` records only :math:`x_0, x_k, x_{2k}, \dots` (shape
    ``(n_steps // k + 1, n, d)``; ``every = n_steps`` keeps the first and last
    iterates).  Memory grows with ``n * n_steps / every``: use
    :func:`occupation_histogram` for many chains.
    """
    x0, step = _validate(noise, x0, step, decay, n_steps, objective, key=key, max_work=max_work)
    _checks.positive("divergence_radius", divergence_radius)
    every = _checks.positive_int("every", every)
    _checks.work_size(f"trajectories(n_steps={n_steps}, every={every}) records {n_steps // every + 1} iterates of "
                      f"{x0.shape[0]} chains", steps=n_steps, size=x0.size, max_work=max_work,
                      record_bytes=(n_steps // every + 1) * x0.size * x0.dtype.itemsize,
                      how="raise every=, or use occupation_histogram, or pass a larger max_work=")
    _policy(on_divergence)
    f_static, f_dyn = _split_objective(objective)
    n = x0.shape[0]
    sharding = chain_sharding(n)
    X = _place(x0, sharding)
    alive = _alive(X.T, divergence_radius)
    div_at = jnp.where(alive, -1, 0).astype(jnp.int32)
    pieces = [np.asarray(x0)[None]]
    for t0 in range(0, n_steps, CHUNK):
        X, alive, div_at, xs = _traj_chunk(
            f_static, f_dyn, noise, key, X, t0, alive, div_at, min(CHUNK, n_steps - t0),
            step, decay, divergence_radius, sharding=sharding,
        )
        # rows of this chunk are the iterates t0 + 1 .. t0 + n_valid; keep those with index % every == 0
        first = (-(t0 + 1)) % every
        pieces.append(np.asarray(xs)[first: min(CHUNK, n_steps - t0): every])   # sliced on the host: no compilation
    diverged = ~np.asarray(alive)
    _report(diverged, np.asarray(div_at), on_divergence)
    return Trajectories(np.concatenate(pieces), diverged, np.asarray(div_at))


def occupation_histogram(
    key: jax.Array,
    objective: Callable[[jax.Array], jax.Array],
    noise: NoiseModel,
    x0: jax.Array,
    step: float,
    n_steps: int,
    *,
    low: Any,
    high: Any,
    n_bins: tuple[int, ...] | int = 100,
    dims: tuple[int, ...] = (0, 1),
    burn_in: int = 0,
    decay: float = 0.0,
    divergence_radius: float = DEFAULT_RADIUS,
    progress: bool | None = None,
    on_divergence: str = "warn",
    max_work: float | None = None,
) -> Histogram:
    r"""Occupation histogram of SGD over ``dims`` in the box ``[low, high]``.

    Counts every pair (chain :math:`i`, step :math:`t`) with
    ``burn_in < t <= n_steps`` and :math:`x^i_t` in a bin: the empirical
    version of the mean occupation measure
    :math:`\mathbb E[\frac1T\sum_t \mathbb 1\{x_t\in\mathcal B\}]` whose limits are the
    invariant measures of SGD :cite:`azizian2025talk`.  Memory is
    ``O(n * d + prod(n_bins))`` whatever ``n_steps``.  ``x0``: ``(n, d)``;
    ``low``, ``high``: ``(len(dims),)``; ``n_bins``: one int per dim (or one int).
    ``progress``: a progress bar over the steps; ``None`` (default) shows one
    for long runs in live Jupyter only (:mod:`course_lib.progress`).
    """
    x0, step = _validate(noise, x0, step, decay, n_steps, objective, key=key, max_work=max_work)
    _checks.positive("divergence_radius", divergence_radius)
    _policy(on_divergence)
    if np.ndim(dims) != 1 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in dims):
        raise ValueError(f"dims must be a tuple of coordinate indices, got {dims!r}")
    dims = tuple(int(i) for i in dims)
    if not dims or any(i < 0 or i >= x0.shape[1] for i in dims):
        raise ValueError(f"dims must index coordinates of x0 (0..{x0.shape[1] - 1}), got {dims}")
    n_bins = (n_bins,) * len(dims) if np.ndim(n_bins) == 0 else tuple(n_bins)
    if len(n_bins) != len(dims):
        raise ValueError(f"n_bins must have one entry per dim ({len(dims)}), got {n_bins}")
    n_bins = tuple(_checks.positive_int("n_bins", b) for b in n_bins)
    low = _checks.finite_array("low", low, ndim=1)
    high = _checks.finite_array("high", high, ndim=1)
    if low.shape != (len(dims),) or high.shape != (len(dims),) or not bool(jnp.all(high > low)):
        raise ValueError(f"low and high must have shape ({len(dims)},) with high > low")
    if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or not 0 <= burn_in < n_steps:
        raise ValueError(f"burn_in must be an integer in [0, n_steps), got {burn_in!r}")
    f_static, f_dyn = _split_objective(objective)
    n = x0.shape[0]
    sharding = chain_sharding(n)
    X = _place(x0, sharding)
    alive = _alive(X.T, divergence_radius)
    div_at = jnp.where(alive, -1, 0).astype(jnp.int32)
    total = np.zeros(int(np.prod(n_bins)), np.int64)
    n_samples = 0
    bar = _progress(n_steps, progress, "SGD histogram")
    pending = None  # the previous chunk's outputs, read while the next chunk runs

    def collect(counts, div_at, t0, n_valid):
        nonlocal total, n_samples
        total += np.asarray(counts, np.int64)
        n_samples += _n_counted(np.asarray(div_at), t0, n_valid, burn_in)
        if bar is not None:
            bar.update(n_valid)

    for t0 in range(0, n_steps, CHUNK):
        n_valid = min(CHUNK, n_steps - t0)
        X, alive, div_at, counts = _hist_chunk(
            f_static, f_dyn, noise, key, X, t0, alive, div_at, n_valid, burn_in,
            step, decay, divergence_radius, low, high, n_bins=n_bins, dims=dims, sharding=sharding,
        )
        if pending is not None:
            collect(*pending)
        pending = (counts, div_at, t0, n_valid)
    collect(*pending)
    if bar is not None:
        bar.close()
    low_np, high_np = np.asarray(low), np.asarray(high)
    edges = tuple(np.linspace(low_np[i], high_np[i], n_bins[i] + 1) for i in range(len(dims)))
    diverged = ~np.asarray(alive)
    _report(diverged, np.asarray(div_at), on_divergence)
    return Histogram(total.reshape(n_bins), edges, n_samples, diverged)


def _bucket(n: int, multiple: int) -> int:
    """Batch size for ``n`` live chains: four sizes per octave, so few shapes get compiled.

    The smallest multiple of ``g = 2**ceil(log2 n) / 8`` that is ``>= n`` (``g``
    at least 2 and at least ``multiple``, the number of devices): sizes
    ``2^k * {1.25, 1.5, 1.75, 2}``, and since ``g < n / 4`` a batch is more than
    80% full (powers of two alone left batches about 72%
    full on average, ``benchmarks/hitting_times.py``).  The sizes do not depend
    on ``multiple`` when it is 1 or 2, so sharded and unsharded runs draw the
    same numbers.
    """
    n = max(int(n), 1)
    g = max(1 << max(0, math.ceil(math.log2(n)) - 3), 2, multiple)
    return -(-n // g) * g


def hitting_times(
    key: jax.Array,
    objective: Callable[[jax.Array], jax.Array],
    noise: NoiseModel,
    x0: jax.Array,
    step: float,
    *,
    centers: Any = None,
    delta: float | None = None,
    max_steps: int,
    target: Callable[[jax.Array], jax.Array] | None = None,
    compact: bool = True,
    decay: float = 0.0,
    divergence_radius: float = DEFAULT_RADIUS,
    progress: bool | None = None,
    on_divergence: str = "warn",
    max_work: float | None = None,
) -> HittingTimes:
    r"""First hitting times :math:`\tau = \min\{t : \min_j \|x_t - c_j\| \le \delta\}` of a stopping set.

    ``centers``: ``(k, d)`` points :math:`c_j` (e.g. the global minimisers);
    ``delta``: the margin :math:`\delta > 0`.  Or, instead of both, ``target``:
    any set, given by a hashable function ``X (n, d) -> (n,) bool`` (e.g.
    ``lambda X: X[:, 0] >= 0.75``; keep one function object, it is a static
    argument of the compiled chunk).  Chains run for at most
    ``max_steps``.  After every chunk of ``CHUNK`` steps, chains that have hit
    (or diverged) are dropped and the rest are packed into a batch of one of
    four sizes per octave, ``2^k * {1.25, 1.5, 1.75, 2}`` (``_bucket``: a
    batch is more than 80% full and few shapes are compiled), so finished
    chains no longer cost work.  ``compact=False`` keeps every chain in its
    place in one batch until all have finished (one compiled shape: cheaper for
    a few hundred chains on a tiny problem, where compilation dominates).
    The draws of chunk ``c`` come from
    ``fold_in(key, c)``, so they depend on the batch a chain lands in: the law
    of the hitting times, not the chain-by-chain numbers, is what is kept
    across batch sizes.  Not available with ``noise.given`` increments (chains
    are reordered).
    ``x0``: ``(n, d)``; a chain that starts in the target has :math:`\tau = 0`.
    ``progress``: a progress bar over the steps; ``None`` (default) shows one
    for long runs in live Jupyter only (:mod:`course_lib.progress`).
    """
    x0, step = _validate(noise, x0, step, decay, max_steps, objective, "max_steps", key=key, max_work=max_work)
    _checks.positive("divergence_radius", divergence_radius)
    _policy(on_divergence)
    if noise.kind == "given":
        raise ValueError("hitting_times reorders the chains (compaction): use a random noise model, not noise.given")
    if target is None:
        if centers is None or delta is None:
            raise ValueError("give either centers and delta (a union of balls) or target (a set X -> bool)")
        centers = _checks.finite_array("centers", centers, ndim=2, last=x0.shape[1])
        _checks.positive("delta", delta)
    elif not callable(target) or centers is not None or delta is not None:
        raise ValueError("target must be a callable X (n, d) -> (n,) bool, given without centers and delta")
    else:
        centers, delta = jnp.zeros((1, x0.shape[1]), x0.dtype), 0.0
    f_static, f_dyn = _split_objective(objective)
    n, d = x0.shape
    times = np.full(n, -1, np.int64)
    div_at = np.full(n, -1, np.int64)
    X0 = np.asarray(x0)
    if target is None:
        start_in = ((X0[:, None, :] - np.asarray(centers)[None]) ** 2).sum(-1).min(-1) <= float(delta) ** 2
    else:
        start_in = np.asarray(target(jnp.asarray(X0)), bool).reshape(n)
    times[start_in] = 0
    active_idx = np.flatnonzero(times < 0)
    X_active = X0[active_idx]
    work = 0
    multiple = max(len(jax.devices()), 1)
    bar = _progress(max_steps, progress, "SGD hitting times")
    X_all = X0.copy()  # compact=False: every chain keeps its row
    for t0 in range(0, max_steps, CHUNK):
        m = active_idx.size
        if m == 0:
            break
        if not compact:
            running = np.zeros(n, bool)
            running[active_idx] = True
            X_all[active_idx] = X_active
            active_idx, X_active, m = np.arange(n), X_all, n
        size = _bucket(m, multiple)
        Xp = np.zeros((size, d), X_active.dtype)
        Xp[:m] = X_active
        active = np.zeros(size, bool)
        active[:m] = True if compact else running
        sharding = chain_sharding(size)
        Xj, act, tim, dat = _hit_chunk(
            f_static, f_dyn, noise, jax.random.fold_in(key, t0 // CHUNK), _place(Xp, sharding),
            t0, active, np.full(size, -1, np.int32), np.full(size, -1, np.int32), step, decay, divergence_radius,
            centers, delta, sharding=sharding, target=target,
        )
        work += size * CHUNK
        tim, dat, act = np.asarray(tim)[:m], np.asarray(dat)[:m], np.asarray(act)[:m]
        if not compact:  # finished chains keep their results
            tim, dat, act = np.where(running, tim, -1), np.where(running, dat, -1), act & running
        # a chain that hits after step max_steps does not count
        tim = np.where((tim >= 0) & (tim <= max_steps), tim, -1)
        dat = np.where(dat <= max_steps, dat, -1)  # nor does a divergence after max_steps
        times[active_idx] = np.where(tim >= 0, tim, times[active_idx])
        div_at[active_idx] = np.where(dat >= 0, dat, div_at[active_idx])
        keep = act & (tim < 0)
        active_idx, X_active = active_idx[keep], np.asarray(Xj)[:m][keep]
        if bar is not None:
            bar.update(min(CHUNK, max_steps - t0))
    if bar is not None:
        bar.close()
    diverged = div_at >= 0
    _report(diverged, div_at, on_divergence)
    return HittingTimes(times, times >= 0, diverged, work)


class _Pool(NamedTuple):
    """Result of :func:`_hitting_pool`: per chain ``times`` (``-1``: not hit by its ``max_steps``, or
    diverged), ``div_at`` (``-1``: did not diverge), ``work`` (float, its share of the computed
    chain-steps, padding included) and ``useful`` (int, steps it needed: ``min(tau, max_steps)``)."""

    times: np.ndarray
    div_at: np.ndarray
    work: np.ndarray
    useful: np.ndarray


POOL_SLOTS = 128
"""Batch size of :func:`_hitting_pool`: one compiled program per objective and noise kind."""


def _hitting_pool(
    key: jax.Array, objective: Any, noise: NoiseModel, x0: np.ndarray, step: np.ndarray, max_steps: np.ndarray, *,
    centers: Any, delta: float, slots: int = POOL_SLOTS, decay: float = 0.0,
    divergence_radius: float = DEFAULT_RADIUS,
) -> _Pool:
    r"""Hitting times of many chains with their own step sizes and truncations, in one batch shape.

    The work of :func:`hitting_times` for ``N`` chains that may differ in step
    size ``step[i]`` and truncation ``max_steps[i]`` (``x0``: ``(N, d)``; the
    arguments are checked by the caller).  The chains wait in a queue, longest
    truncation first; a batch of ``slots`` chains runs in chunks of ``CHUNK``
    steps, and after every chunk the chains that have hit, diverged or reached
    their ``max_steps`` leave it and the next ones in the queue take their
    places.  So the batch stays full while the queue lasts, the batch shape
    never changes (one compilation for a whole sweep, and none for the next
    sweep with the same objective and noise kind), and the long runs of the
    smallest steps overlap with everything else instead of forming one tail
    per step size.  Each chain's law is that of :func:`hitting_times`; the
    numbers are not the same (they depend on the slot and chunk a chain runs in).
    """
    f_static, f_dyn = _split_objective(objective)
    X0 = np.asarray(x0, np.float32)
    N, d = X0.shape
    step = np.asarray(step, np.float32).reshape(N)
    max_steps = np.asarray(max_steps, np.int64).reshape(N)
    centers = jnp.asarray(centers, jnp.float32)
    C = np.asarray(centers)
    times = np.full(N, -1, np.int64)
    div_at = np.full(N, -1, np.int64)
    work = np.zeros(N)
    start_in = ((X0[:, None, :] - C[None]) ** 2).sum(-1).min(-1) <= float(delta) ** 2
    times[start_in] = 0
    queue = [int(i) for i in np.argsort(-max_steps, kind="stable") if not start_in[i]]
    multiple = max(len(jax.devices()), 1)
    slots = -(-int(slots) // multiple) * multiple
    sharding = chain_sharding(slots)
    owner = np.full(slots, -1, np.int64)  # the chain in each slot, -1 = empty
    X = np.zeros((slots, d), np.float32)
    tc = np.zeros(slots, np.int32)
    eta = np.ones(slots, np.float32)
    head, c = 0, 0
    while True:
        free = np.flatnonzero(owner < 0)
        take = queue[head: head + free.size]
        head += len(take)
        if take:
            fill = free[: len(take)]
            owner[fill] = take
            X[fill] = X0[take]
            tc[fill] = 0
            eta[fill] = step[take]
        live = owner >= 0
        if not live.any():
            break
        Xj, act, tim, dat = _pool_chunk(
            f_static, f_dyn, noise, key, c, _place(X, sharding), tc, live, eta, decay, divergence_radius,
            centers, delta, sharding=sharding,
        )
        c += 1
        ids = owner[live]
        work[ids] += slots * CHUNK / ids.size  # the chunk's cost, padding included, shared by its chains
        X = np.array(Xj)
        tim, dat, act = np.asarray(tim)[live], np.asarray(dat)[live], np.asarray(act)[live]
        m = max_steps[ids]
        hit = (tim >= 0) & (tim <= m)  # a hit (or a divergence) after max_steps does not count
        times[ids[hit]] = tim[hit]
        div = (dat >= 0) & (dat <= m)
        div_at[ids[div]] = dat[div]
        tc[live] += CHUNK
        done = hit | div | ~act | (tc[live] >= m)
        owner[np.flatnonzero(live)[done]] = -1
    useful = np.where(times >= 0, times, np.where(div_at >= 0, 0, max_steps))  # as HittingSweep counts it
    return _Pool(times, div_at, work, useful)
