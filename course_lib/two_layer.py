r"""Wide two-layer relu networks: the NTK Gram matrix, lazy training and mean-field particles.

The network with ``m`` hidden units, output weights :math:`\eta\in\mathbb{R}^m` and
input weights :math:`W\in\mathbb{R}^{m\times d}` (rows :math:`w_j`) is

.. math::

    h_\theta(x) = \frac{\alpha}{m}\sum_{j=1}^m \eta_j\,\max(w_j^\top x, 0),
    \qquad \theta = (\eta, W)\in\mathbb{R}^{p},\ p = m(d+1).

Two scalings of the same formula :cite:`bach2025convexity`:

* **mean field**, :math:`\alpha = 1`: :math:`h` is the integral of one neuron
  :math:`\Psi(w_j)` against the empirical measure :math:`\frac1m\sum_j\delta_{(\eta_j, w_j)}`;
* **lazy / NTK**, :math:`\alpha\to\infty` (:math:`\alpha=\sqrt m` is the usual
  "NTK parametrisation" :math:`\frac{1}{\sqrt m}\sum_j\eta_j\sigma(w_j^\top x)`).

On ``n`` inputs :math:`X\in\mathbb{R}^{n\times d}`, :math:`F(\theta) = (h_\theta(x_i))_i\in\mathbb{R}^n`
and the least-squares loss :math:`J(\theta)=\frac12\|F(\theta)-y\|^2` satisfies
:math:`\|\nabla J\|^2 = r^\top J_F J_F^\top r\ge 2\lambda_{\min}(J_F J_F^\top)\,J`
with :math:`r = F(\theta)-y` :cite:`pauwels2024intro`.  This module computes

* the Gram (neural tangent kernel) matrix :math:`J_F J_F^\top` in closed form
  (:func:`ntk_gram`), for any differentiable ``F`` (:func:`gram_from_jacobian`),
  and its infinite-width limit (:func:`infinite_width_ntk`);
* gradient descent on :math:`J` (:func:`train_gd`) and the prediction of its
  loss by the linearised model (:func:`linearized_losses`, :func:`linear_rate_bound`);
* the mean-field particle gradient flow of Chizat and Bach, with the
  :math:`\alpha/m` scaling of Chizat, Oyallon and Bach (:func:`particle_flow`);
  widths are *masks* on a fixed array of ``max_width`` neurons, so width and
  :math:`\alpha` are traced and changing them never recompiles.

Every simulator is a jitted ``lax.scan``; a run whose loss becomes non-finite
raises ``FloatingPointError`` (step too large), never returns NaN silently.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases
from .nonsmooth import relu

__all__ = [
    "Params",
    "relu",
    "network",
    "init_gaussian",
    "init_symmetric",
    "sphere_inputs",
    "ntk_gram",
    "gram_from_jacobian",
    "lambda_min",
    "infinite_width_ntk",
    "lambda_min_vs_width",
    "least_squares_loss",
    "TrainRun",
    "train_gd",
    "linearized_losses",
    "linear_rate_bound",
    "predicted_rate",
    "log_decay_rate",
    "RateCheck",
    "rate_vs_width",
    "relative_change",
    "Laziness",
    "laziness_vs_width",
    "Teacher",
    "teacher_problem",
    "ParticleRun",
    "particle_flow",
    "particle_positions",
    "teacher_alignment",
]

# renamed so that no public name of the package has two meanings (0.2)
__getattr__ = deprecated_aliases(__name__, {
    "GDRun": ("TrainRun", "0.2"), "FlowRun": ("ParticleRun", "0.2"), "measured_rate": ("log_decay_rate", "0.2"),
    # the chapter's study and widgets moved to the chapter layer
    **{name: (f"course_lib.chapters.two_layer:{name}", "0.2")
       for name in ("draw_rich_vs_lazy", "WidthRate", "width_rate", "draw_width_rate")}})


class Params(NamedTuple):
    """Parameters of a two-layer network: ``eta`` ``(m,)`` output weights, ``W`` ``(m, d)`` input weights."""

    eta: jax.Array
    W: jax.Array


def _check_params(params: Any) -> Params:
    if not isinstance(params, Params):
        raise ValueError(f"params must be a two_layer.Params(eta, W), got {type(params).__name__}")
    eta, W = jnp.asarray(params.eta), jnp.asarray(params.W)
    if eta.ndim != 1 or W.ndim != 2 or W.shape[0] != eta.shape[0]:
        raise ValueError(f"params must have eta of shape (m,) and W of shape (m, d), got {eta.shape} and {W.shape}")
    return Params(eta, W)


def _check_inputs(X: Any, d: int | None = None) -> jax.Array:
    X = _checks.finite_array("X", X, ndim=2)
    if d is not None and X.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}) to match W, got {tuple(X.shape)}")
    return X


def _widths(widths: Any) -> list[int]:
    if widths is None or isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise ValueError(f"widths must be a non-empty sequence of positive integers, got {widths!r}")
    out = [_checks.positive_int("widths", m) for m in widths]
    if not out:
        raise ValueError("widths must be a non-empty sequence of positive integers, got an empty one")
    return out


def _check_mask(mask: Any, m: int) -> Any:
    if mask is None:
        return None
    if isinstance(mask, jax.core.Tracer):
        if mask.shape != (m,):
            raise ValueError(f"mask must have shape ({m},) (one 0/1 entry per unit), got {mask.shape}")
        return mask
    arr = _checks.finite_array("mask", mask, ndim=1)
    if arr.shape != (m,):
        raise ValueError(f"mask must have shape ({m},) (one 0/1 entry per unit), got {tuple(arr.shape)}")
    if not bool(np.any(np.asarray(arr))):
        raise ValueError("mask must keep at least one unit (all zeros)")
    return arr


def network(params: Params, X: Any, alpha: Any = 1.0, mask: Any = None) -> jax.Array:
    r"""Outputs :math:`h_\theta(x_i) = \frac{\alpha}{m}\sum_j \eta_j\,\mathrm{relu}(w_j^\top x_i)`, shape ``(n,)``.

    ``X`` is ``(n, d)``.  With ``mask`` (``(m,)`` of 0/1), only the units with
    mask 1 count and ``m`` is their number (a narrower network inside a fixed array).
    """
    eta, W = _check_params(params)
    X = _check_inputs(X, W.shape[1])
    _checks.positive("alpha", alpha)
    _checks.at_most("alpha", alpha)
    mask = _check_mask(mask, eta.shape[0])
    if mask is None:
        mask = jnp.ones_like(eta)
    m = jnp.sum(mask)
    return (alpha / m) * (relu(X @ W.T) @ (eta * mask))


def init_gaussian(key: jax.Array, m: int, d: int) -> Params:
    r"""NTK initialisation: :math:`w_j\sim\mathcal N(0, I_d)`, :math:`\eta_j=\pm1` (fair signs)."""
    _checks.prng_key("key", key, batched=True)
    m, d = _checks.positive_int("m", m), _checks.positive_int("d", d)
    k1, k2 = jax.random.split(key)
    return Params(jax.random.rademacher(k1, (m,), dtype=jnp.float32), jax.random.normal(k2, (m, d)))


def init_symmetric(key: jax.Array, m: int, scale: float = 1.0) -> Params:
    r"""Mean-field initialisation in the plane (``d = 2``) with :math:`h_{\theta_0} = 0`.

    Units come in pairs ``(2i, 2i+1)`` with the same :math:`w` (uniform direction on
    the circle, norm ``scale``) and opposite :math:`\eta = \pm` ``scale``: every even
    prefix of the units is itself a network with zero output, so narrower networks
    are masks of a wide one.  ``m`` must be even.
    """
    _checks.prng_key("key", key, batched=True)
    m = _checks.positive_int("m", m)
    if m % 2:
        raise ValueError(f"m must be even (units come in +/- pairs), got {m}")
    _checks.positive("scale", scale)
    _checks.at_most("scale", scale)
    phi = jax.random.uniform(key, (m // 2,), minval=0.0, maxval=2 * math.pi)
    w = scale * jnp.stack([jnp.cos(phi), jnp.sin(phi)], axis=1)
    W = jnp.repeat(w, 2, axis=0)
    eta = scale * jnp.tile(jnp.array([1.0, -1.0]), m // 2)
    return Params(eta, W)


def sphere_inputs(key: jax.Array, n: int, d: int) -> jax.Array:
    """``n`` inputs drawn uniformly on the unit sphere of :math:`\\mathbb{R}^d`, shape ``(n, d)``."""
    _checks.prng_key("key", key, batched=True)
    n, d = _checks.positive_int("n", n), _checks.positive_int("d", d)
    Z = jax.random.normal(key, (n, d))
    return Z / jnp.linalg.norm(Z, axis=1, keepdims=True)


# ---------------------------------------------------------------------------
# the Gram (NTK) matrix
# ---------------------------------------------------------------------------


@jax.jit
def _gram(eta, W, X, alpha, mask):
    m = jnp.sum(mask)
    pre = X @ W.T
    Phi = relu(pre) * mask
    D = (pre > 0) * eta * mask
    return (alpha / m) ** 2 * (Phi @ Phi.T + (D @ D.T) * (X @ X.T))


def ntk_gram(params: Params, X: Any, alpha: Any = 1.0, width: int | None = None) -> jax.Array:
    r"""The Gram matrix :math:`J_F J_F^\top\in\mathbb{R}^{n\times n}` of :func:`network`, in closed form.

    With :math:`\Phi_{ij}=\mathrm{relu}(w_j^\top x_i)` and
    :math:`D_{ij}=\eta_j\mathbb{1}[w_j^\top x_i>0]` (derivatives in :math:`\eta` and in
    :math:`w_j`),

    .. math:: J_FJ_F^\top = \frac{\alpha^2}{m^2}\bigl(\Phi\Phi^\top + (DD^\top)\odot(XX^\top)\bigr).

    For :math:`\alpha=\sqrt m` this is the empirical NTK :cite:`jacot2018ntk`.
    Same matrix as :func:`gram_from_jacobian` applied to :func:`network`.
    ``width`` keeps only the first units (traced: no recompilation).
    """
    eta, W = _check_params(params)
    X = _check_inputs(X, W.shape[1])
    _checks.positive("alpha", alpha)
    _checks.at_most("alpha", alpha, 1e18, "alpha**2 is computed in float32")
    return _gram(eta, W, X, jnp.float32(alpha), _width_mask(eta.shape[0], width))


def gram_from_jacobian(F: Any, theta: Any) -> jax.Array:
    r""":math:`J_F(\theta)J_F(\theta)^\top` for any differentiable ``F``: :math:`\mathbb{R}^p\to\mathbb{R}^n`.

    ``theta`` is a ``(p,)`` array or any pytree; the Jacobian is taken by
    ``jax.jacrev``.  Returns ``(n, n)``.
    """
    if not callable(F):
        raise ValueError(f"F must be a function from parameters to an (n,) array, got {type(F).__name__}")
    if isinstance(theta, (np.ndarray, jax.Array, list, float, int)) or theta is None or isinstance(theta, str):
        theta = _checks.finite_array("theta", theta)
    else:  # a pytree of arrays
        for leaf in jax.tree_util.tree_leaves(theta):
            _checks.finite_array("theta", leaf)
    Jac = jax.jacrev(F)(theta)
    leaves = jax.tree_util.tree_leaves(Jac)
    n = jnp.shape(F(theta))[0]
    blocks = [jnp.reshape(leaf, (n, -1)) for leaf in leaves]
    return sum(B @ B.T for B in blocks)


def lambda_min(G: Any) -> jax.Array:
    """Smallest eigenvalue of a symmetric ``(n, n)`` matrix (``eigvalsh``)."""
    G = _checks.finite_array("G", G, ndim=2)
    if G.shape[0] != G.shape[1]:
        raise ValueError(f"G must be square, got shape {tuple(G.shape)}")
    return jnp.linalg.eigvalsh(G)[0]


def infinite_width_ntk(X: Any) -> jax.Array:
    r"""The limit of :func:`ntk_gram` at :math:`\alpha=\sqrt m` when :math:`m\to\infty` (Gaussian :math:`w`, :math:`\eta=\pm1`).

    By the law of large numbers the Gram tends to
    :math:`K(x,x') = \mathbb{E}[\mathrm{relu}(w^\top x)\mathrm{relu}(w^\top x')] +
    x^\top x'\,\mathbb{P}(w^\top x>0, w^\top x'>0)`; with the angle :math:`\phi` between
    :math:`x` and :math:`x'` (arc-cosine kernels of Cho and Saul)

    .. math:: K(x,x') = \frac{\|x\|\|x'\|}{2\pi}\bigl(\sin\phi + (\pi-\phi)\cos\phi\bigr)
              + x^\top x'\,\frac{\pi-\phi}{2\pi}.

    ``X`` is ``(n, d)``; returns ``(n, n)``.
    """
    X = _check_inputs(X)
    norms = jnp.linalg.norm(X, axis=1)
    dots = X @ X.T
    cos = jnp.clip(dots / jnp.outer(norms, norms), -1.0, 1.0)
    phi = jnp.arccos(cos)
    k1 = jnp.outer(norms, norms) / (2 * jnp.pi) * (jnp.sin(phi) + (jnp.pi - phi) * cos)
    k0 = dots * (jnp.pi - phi) / (2 * jnp.pi)
    return k1 + k0


def lambda_min_vs_width(key: jax.Array, X: Any, widths: Any, n_seeds: int) -> np.ndarray:
    r""":math:`\lambda_{\min}` of the NTK Gram (:math:`\alpha=\sqrt m`, :func:`init_gaussian`) at initialisation.

    For each seed one network of ``max(widths)`` units is drawn; the width-``m``
    network is its first ``m`` units (a mask, so one compiled function serves
    every width).  Returns a NumPy array ``(len(widths), n_seeds)``.
    """
    _checks.prng_key("key", key, batched=True)
    X = _check_inputs(X)
    n_seeds = _checks.positive_int("n_seeds", n_seeds)
    widths = _widths(widths)
    M = max(widths)
    out = np.zeros((len(widths), n_seeds))
    for s in range(n_seeds):
        p = init_gaussian(jax.random.fold_in(key, s), M, X.shape[1])
        for i, m in enumerate(widths):
            out[i, s] = float(jnp.linalg.eigvalsh(_gram(p.eta, p.W, X, jnp.float32(math.sqrt(m)), _width_mask(M, m)))[0])
    return out


# ---------------------------------------------------------------------------
# gradient descent on the least-squares loss, and its linearised prediction
# ---------------------------------------------------------------------------


def least_squares_loss(params: Params, X: Any, y: Any, alpha: Any = 1.0, mask: Any = None) -> jax.Array:
    r""":math:`J(\theta) = \frac12\|F(\theta)-y\|^2` with :math:`F(\theta)=` :func:`network` on ``X`` (``mask`` as there)."""
    out = network(params, X, alpha, mask)
    if not isinstance(y, jax.core.Tracer):
        y = _checks.finite_array("y", y, ndim=1)
    if y.shape != out.shape:
        raise ValueError(f"y must have shape {tuple(out.shape)} (one target per row of X), got {tuple(y.shape)}")
    return 0.5 * jnp.sum((out - y) ** 2)


class TrainRun(NamedTuple):
    """A gradient-descent run: ``losses`` ``(n_steps+1,)``, ``params`` the final parameters."""

    losses: jax.Array
    params: Params


@partial(jax.jit, static_argnames=("n_steps",))
def _gd_scan(params, X, y, alpha, mask, step, n_steps):
    grad = jax.value_and_grad(least_squares_loss)

    def body(p, _):
        value, g = grad(p, X, y, alpha, mask)
        return jax.tree_util.tree_map(lambda a, b: a - step * b, p, g), value

    final, values = jax.lax.scan(body, params, None, length=n_steps)
    return jnp.append(values, least_squares_loss(final, X, y, alpha, mask)), final


def _width_mask(M: int, width: Any) -> jax.Array:
    if width is None:
        width = M
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or not 1 <= width <= M:
        raise ValueError(f"width must be an integer in [1, {M}] (the number of units in params), got {width!r}")
    return (jnp.arange(M) < width).astype(jnp.float32)


def train_gd(params: Params, X: Any, y: Any, alpha: float, step: float, n_steps: int,
             width: int | None = None) -> TrainRun:
    r"""Gradient descent :math:`\theta_{k+1}=\theta_k-\gamma\nabla J(\theta_k)` on :func:`least_squares_loss`.

    Only the first ``width`` units of ``params`` take part (default: all; the
    others get zero gradient and stay put).  ``alpha``, ``step`` (:math:`\gamma`)
    and ``width`` are traced (changing them does not recompile).  Raises
    ``FloatingPointError`` if the loss becomes non-finite.
    """
    params = _check_params(params)
    X = _check_inputs(X, params.W.shape[1])
    y = _checks.finite_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) like the rows of X, got {tuple(y.shape)}")
    _checks.positive("alpha", alpha)
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    mask = _width_mask(params.eta.shape[0], width)
    losses, final = _gd_scan(params, X, y, jnp.float32(alpha), mask, jnp.float32(step), n_steps)
    if not bool(jnp.all(jnp.isfinite(losses))):
        k = int(jnp.argmin(jnp.isfinite(losses)))
        raise _DivergenceError(f"train_gd diverged at step {k}: the loss is not finite; use a smaller step")
    return TrainRun(losses, final)


def linearized_losses(G: Any, r0: Any, step: float, n_steps: int) -> jax.Array:
    r"""Loss of gradient descent on the model linearised at :math:`\theta_0`, shape ``(n_steps+1,)``.

    With :math:`F(\theta)\approx F(\theta_0)+J_F(\theta-\theta_0)`, the residual obeys
    :math:`r_{k+1} = (I-\gamma G)\,r_k` with :math:`G = J_FJ_F^\top`, so
    :math:`J_k = \frac12\|(I-\gamma G)^k r_0\|^2`, computed in the eigenbasis of ``G``.
    """
    G = _checks.finite_array("G", G, ndim=2)
    r0 = _checks.finite_array("r0", r0, ndim=1)
    if G.shape != (r0.shape[0], r0.shape[0]):
        raise ValueError(f"G must have shape ({r0.shape[0]}, {r0.shape[0]}) to match r0, got {tuple(G.shape)}")
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    lam, U = jnp.linalg.eigh(G)
    c = U.T @ r0
    _checks.work_size(f"linearized_losses(n_steps={n_steps}) with {r0.shape[0]} residuals", steps=n_steps + 1,
                      size=r0.shape[0], record_bytes=8.0 * (n_steps + 1) * r0.shape[0])
    k = jnp.arange(n_steps + 1)[:, None]
    losses = 0.5 * jnp.sum(c**2 * (1 - step * lam) ** (2 * k), axis=1)
    from .divergence import DEFAULT_RADIUS, check

    check(jnp.sqrt(2.0 * losses), f"linearized_losses (step > 2/lambda_max(G) = {2.0 / float(lam[-1]):.3g}?)",
          DEFAULT_RADIUS * (1.0 + float(jnp.linalg.norm(r0))))
    return losses


def linear_rate_bound(J0: float, lam_min: float, step: float, n_steps: int) -> jax.Array:
    r"""The linear-rate bound :math:`J_k\le J_0(1-\gamma\lambda_{\min})^{2k}`, shape ``(n_steps+1,)``.

    It holds for the linearised model when :math:`0<\gamma\le 1/\lambda_{\max}(G)`
    (every factor :math:`|1-\gamma\lambda_i|\le 1-\gamma\lambda_{\min}`), i.e. the
    PL argument with constant :math:`2\lambda_{\min}` in discrete time.
    """
    _checks.nonnegative("J0", J0)
    _checks.nonnegative("lam_min", lam_min)
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    if not any(isinstance(v, jax.core.Tracer) for v in (step, lam_min)) and float(step) * float(lam_min) > 1:
        raise ValueError(f"step * lam_min must be at most 1 (the bound needs step <= 1 / lambda_max <= 1 / lam_min), "
                         f"got step={step!r}, lam_min={lam_min!r}")
    k = jnp.arange(n_steps + 1)
    return J0 * (1 - step * lam_min) ** (2 * k)


def predicted_rate(lam_min: float, step: float) -> float:
    r"""Decay rate of :math:`\log J` per step predicted by :math:`\lambda_{\min}`: :math:`-2\log(1-\gamma\lambda_{\min})`.

    Needs :math:`0\le\gamma\lambda_{\min}<1`.
    """
    _checks.nonnegative("lam_min", lam_min)
    _checks.positive("step", step)
    if not float(step) * float(lam_min) < 1:
        raise ValueError(f"step * lam_min must be < 1, got {float(step) * float(lam_min)!r}")
    return -2.0 * math.log1p(-float(step) * float(lam_min))


def log_decay_rate(losses: Any, window: int) -> float:
    r"""Measured decay rate of :math:`\log J` per step over the last ``window`` steps of ``losses`` ``(T+1,)``."""
    v = np.asarray(_checks.finite_array("losses", losses), dtype=float)
    window = _checks.positive_int("window", window)
    if v.ndim != 1 or v.size <= window or np.any(v[-window - 1:] <= 0) or not np.all(np.isfinite(v)):
        raise ValueError(f"losses must be a finite positive 1-D array longer than window={window}")
    return float((math.log(v[-window - 1]) - math.log(v[-1])) / window)


class RateCheck(NamedTuple):
    r"""Per width: ``measured`` late decay rate of :math:`\log J`, the rates predicted from
    :math:`\lambda_{\min}` of the Gram at the start (``from_start``) and at the end (``from_end``),
    and ``violations``, the number of steps where :math:`J_k` exceeds the bound with :math:`\lambda_{\min}(G_0)`."""

    measured: np.ndarray
    from_start: np.ndarray
    from_end: np.ndarray
    violations: np.ndarray


def rate_vs_width(params: Params, X: Any, y: Any, widths: Any, step: float, n_steps: int, window: int) -> RateCheck:
    r"""Train the first ``m`` units of ``params`` (NTK scaling :math:`\alpha=\sqrt m`) for each width and
    compare the measured linear rate with :func:`predicted_rate` (see :class:`RateCheck`)."""
    params = _check_params(params)
    widths = _widths(widths)
    if max(widths) > params.eta.shape[0]:
        raise ValueError(f"widths must be at most the number of units in params ({params.eta.shape[0]}), "
                         f"got {max(widths)}")
    out = np.zeros((4, len(widths)))
    for i, m in enumerate(widths):
        a = math.sqrt(m)
        run = train_gd(params, X, y, a, step, n_steps, width=m)
        # a singular Gram's smallest eigenvalue can come out as -1e-8: clip the roundoff
        lam0 = max(float(lambda_min(ntk_gram(params, X, a, width=m))), 0.0)
        lam1 = max(float(lambda_min(ntk_gram(run.params, X, a, width=m))), 0.0)
        bound = np.asarray(linear_rate_bound(float(run.losses[0]), lam0, step, n_steps))
        out[:, i] = (log_decay_rate(run.losses, window), predicted_rate(lam0, step), predicted_rate(lam1, step),
                     int(np.sum(np.asarray(run.losses) > bound * (1 + 1e-4))))
    return RateCheck(out[0], out[1], out[2], out[3].astype(int))


def relative_change(before: Any, after: Any) -> float:
    r""":math:`\|\theta_1-\theta_0\|/\|\theta_0\|` for two arrays or pytrees of the same structure."""
    a = [_checks.finite_array("before", u) for u in jax.tree_util.tree_leaves(before)]
    b = [_checks.finite_array("after", v) for v in jax.tree_util.tree_leaves(after)]
    if not a:
        raise ValueError("before must hold at least one array")
    if len(a) != len(b) or any(jnp.shape(u) != jnp.shape(v) for u, v in zip(a, b)):
        raise ValueError("before and after must have the same structure and shapes")
    num = math.sqrt(sum(float(jnp.sum((jnp.asarray(v) - jnp.asarray(u)) ** 2)) for u, v in zip(a, b)))
    den = math.sqrt(sum(float(jnp.sum(jnp.asarray(u) ** 2)) for u in a))
    if den == 0:
        raise ValueError("before must be non-zero (the change is relative to it)")
    return num / den


class Laziness(NamedTuple):
    """Per width (rows) and seed (columns): relative weight change, relative Gram change, final/initial loss."""

    weights: np.ndarray
    gram: np.ndarray
    loss_ratio: np.ndarray


def laziness_vs_width(key: jax.Array, X: Any, y: Any, widths: Any, n_seeds: int, step: float, n_steps: int) -> Laziness:
    r"""Train NTK-parametrised networks (:math:`\alpha=\sqrt m`) of each width; measure how lazy they are.

    For each width and seed: :math:`\|\theta_T-\theta_0\|/\|\theta_0\|`,
    :math:`\|G_T-G_0\|_F/\|G_0\|_F` (Gram at the end vs start) and :math:`J_T/J_0`.
    Lazy training predicts that the first two tend to zero, at least like
    :math:`m^{-1/2}`.  Widths are masks of one network of ``max(widths)`` units
    per seed (one compilation).
    """
    _checks.prng_key("key", key, batched=True)
    X = _check_inputs(X)
    n_seeds = _checks.positive_int("n_seeds", n_seeds)
    widths = _widths(widths)
    M = max(widths)
    shape = (len(widths), n_seeds)
    w_rel, g_rel, ratio = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for s in range(n_seeds):
        p0 = init_gaussian(jax.random.fold_in(key, s), M, X.shape[1])
        for i, m in enumerate(widths):
            a = math.sqrt(m)
            run = train_gd(p0, X, y, a, step, n_steps, width=m)
            G0, G1 = ntk_gram(p0, X, a, width=m), ntk_gram(run.params, X, a, width=m)
            first = lambda p: Params(p.eta[:m], p.W[:m])  # noqa: E731
            w_rel[i, s] = relative_change(first(p0), first(run.params))
            g_rel[i, s] = float(jnp.linalg.norm(G1 - G0) / jnp.linalg.norm(G0))
            ratio[i, s] = float(run.losses[-1] / run.losses[0])
    return Laziness(w_rel, g_rel, ratio)


# ---------------------------------------------------------------------------
# mean-field particles: the 2-D relu teacher
# ---------------------------------------------------------------------------


class Teacher(NamedTuple):
    """A planted problem: inputs ``X`` ``(n, 2)`` rows :math:`(s_i, 1)`, targets ``y`` ``(n,)``,
    teacher directions ``W`` ``(k, 2)`` (unit rows) and output weights ``eta`` ``(k,)``."""

    X: jax.Array
    y: jax.Array
    W: jax.Array
    eta: jax.Array


def teacher_problem(n: int = 64, angles_deg: Any = (-45.0, 20.0, 150.0, 210.0), weights: Any = None) -> Teacher:
    r"""The planted relu teacher in two dimensions (after Chizat and Bach :cite:`chizat2018global`).

    Inputs :math:`x_i=(s_i, 1)` with ``n`` points :math:`s_i` evenly spaced in
    :math:`[-2, 2]` (the constant coordinate plays the role of a bias), so a
    neuron :math:`w\in\mathbb{R}^2` is a hinge of :math:`s` and a particle is a
    point of the plane.  Targets :math:`y_i=\sum_k a_k\,\mathrm{relu}(w_k^{\star\top}x_i)`
    with unit directions at ``angles_deg`` and weights ``weights`` (default all 1).
    """
    n = _checks.positive_int("n", n)
    ang = np.deg2rad(np.asarray(angles_deg, dtype=float))
    if ang.ndim != 1 or ang.size < 1:
        raise ValueError(f"angles_deg must be a non-empty 1-D sequence of angles, got {angles_deg!r}")
    a = np.ones_like(ang) if weights is None else np.asarray(weights, dtype=float)
    if a.shape != ang.shape:
        raise ValueError(f"weights must have one entry per angle ({ang.size}), got shape {a.shape}")
    s = jnp.linspace(-2.0, 2.0, n)
    X = jnp.stack([s, jnp.ones_like(s)], axis=1)
    Wt = jnp.asarray(np.stack([np.cos(ang), np.sin(ang)], axis=1), dtype=jnp.float32)
    eta = jnp.asarray(a, dtype=jnp.float32)
    y = relu(X @ Wt.T) @ eta
    return Teacher(X, y, Wt, eta)


class ParticleRun(NamedTuple):
    """A particle run: ``eta`` ``(T, M)`` and ``W`` ``(T, M, 2)`` at the recorded times ``times`` ``(T,)``,
    ``losses`` ``(T,)`` (risk :math:`R`), ``mask`` ``(M,)`` the active units."""

    times: jax.Array
    eta: jax.Array
    W: jax.Array
    losses: jax.Array
    mask: jax.Array


def _risk(params, X, y, alpha, mask):
    return 0.5 * jnp.mean((network(params, X, alpha, mask) - y) ** 2)


@partial(jax.jit, static_argnames=("n_records", "every"))
def _flow_scan(params, X, y, alpha, mask, dt, n_records, every):
    m = jnp.sum(mask)
    grad = jax.grad(_risk)

    def step(p, _):
        g = grad(p, X, y, alpha, mask)
        # time-rescaled gradient flow  d theta_j / dt = -(m / alpha^2) dR/d theta_j
        return jax.tree_util.tree_map(lambda a, b: a - dt * (m / alpha**2) * b, p, g), None

    def record(p, _):
        p, _ = jax.lax.scan(step, p, None, length=every)
        return p, (p, _risk(p, X, y, alpha, mask))

    _, (path, losses) = jax.lax.scan(record, params, None, length=n_records)
    return path, losses


def particle_flow(params: Params, X: Any, y: Any, *, width: int | None = None, alpha: float = 1.0,
                  dt: float = 0.05, t_max: float = 20.0, n_records: int = 100,
                  max_work: float | None = None) -> ParticleRun:
    r"""Gradient flow of the particles :math:`(\eta_j, w_j)` (explicit Euler, step ``dt``) up to ``t_max``.

    Risk :math:`R(\theta)=\frac1{2n}\sum_i(h_\theta(x_i)-y_i)^2` with
    :math:`h_\theta=\frac{\alpha}{m}\sum_j\eta_j\,\mathrm{relu}(w_j^\top x)`, and the flow
    :math:`\dot\theta_j = -\frac{m}{\alpha^2}\nabla_{\theta_j}R`: for :math:`\alpha=1` the
    mean-field flow :math:`\dot W=-m\nabla F_m(W)` of Chizat and Bach :cite:`chizat2018global`,
    whose velocities do not depend on ``m``; for large :math:`\alpha`, the lazy
    regime of Chizat, Oyallon and Bach :cite:`chizat2019lazy` (the factor
    :math:`1/\alpha^2` keeps the function-space time scale fixed).

    Only the first ``width`` units of ``params`` are used (default: all); the
    others are masked.  ``width`` and ``alpha`` are traced, so a slider on them
    does not recompile.  Records ``n_records`` states, evenly spaced in time
    (the initial state first).  Raises ``FloatingPointError`` if the run diverges.
    A run longer than the work budget (``t_max / dt`` steps x particles x samples over
    ``course_lib._checks.MAX_WORK``) is refused up front; ``max_work`` raises the budget.
    """
    params = _check_params(params)
    M = params.eta.shape[0]
    X = _check_inputs(X, params.W.shape[1])
    y = _checks.finite_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) like the rows of X, got {tuple(y.shape)}")
    mask = _width_mask(M, width)
    _checks.positive("alpha", alpha)
    _checks.positive("dt", dt)
    _checks.positive("t_max", t_max)
    n_records = _checks.positive_int("n_records", n_records)
    if n_records < 2:
        raise ValueError(f"n_records must be >= 2 (start and end), got {n_records}")
    _checks.work_size(f"particle_flow(dt={dt}, t_max={t_max})", steps=float(t_max) / float(dt),
                      size=params.W.size * X.shape[0], max_work=max_work,
                      how=f"pass max_work={float(t_max) / float(dt) * params.W.size * X.shape[0]:.1e} to run it anyway")
    every = max(1, int(round(t_max / dt / (n_records - 1))))
    path, losses = _flow_scan(params, X, y, jnp.float32(alpha), mask, jnp.float32(dt), n_records - 1, every)
    eta = jnp.concatenate([params.eta[None], path.eta])
    W = jnp.concatenate([params.W[None], path.W])
    losses = jnp.concatenate([_risk(params, X, y, jnp.float32(alpha), mask)[None], losses])
    if not bool(jnp.all(jnp.isfinite(losses))):
        k = int(jnp.argmin(jnp.isfinite(losses)))
        raise _DivergenceError(f"particle_flow diverged before record {k}: use a smaller dt")
    times = jnp.arange(n_records) * every * dt
    return ParticleRun(times, eta, W, losses, mask)


def particle_positions(run: ParticleRun) -> jax.Array:
    r"""The points :math:`|\eta_j|\,w_j` of the active units at each record, shape ``(T, width, 2)``.

    For relu, :math:`(\eta, w)` and :math:`(\eta/c, cw)` give the same neuron;
    :math:`|\eta|w` is invariant: its direction is the hinge, its norm the weight.
    """
    if not isinstance(run, ParticleRun):
        raise ValueError(f"run must be a ParticleRun (from particle_flow), got {type(run).__name__}")
    width = int(jnp.sum(run.mask))
    return jnp.abs(run.eta[:, :width, None]) * run.W[:, :width]


def teacher_alignment(run: ParticleRun, teacher: Teacher, max_angle_deg: float = 10.0) -> float:
    r"""Fraction of the total output weight :math:`\sum_j|\eta_jw_j|` (at the last record)
    carried by units within ``max_angle_deg`` of a teacher direction.

    Near 1: the particles have gathered on the teacher's neurons.
    """
    _checks.positive("max_angle_deg", max_angle_deg)
    if not isinstance(teacher, Teacher):
        raise ValueError(f"teacher must be a Teacher (from teacher_problem), got {type(teacher).__name__}")
    P = particle_positions(run)[-1]
    mass = jnp.linalg.norm(P, axis=1)
    dirs = run.W[-1, : P.shape[0]]
    dirs = dirs / jnp.maximum(jnp.linalg.norm(dirs, axis=1, keepdims=True), 1e-12)
    cos = jnp.max(dirs @ teacher.W.T, axis=1)
    near = cos >= math.cos(math.radians(max_angle_deg))
    return float(jnp.sum(mass * near) / jnp.sum(mass))


from .divergence import DivergenceError as _DivergenceError  # noqa: E402  (the one divergence error)
