r"""Implicit bias: which interpolant gradient descent selects.

Following the "Further questions" part of :cite:`pauwels2024intro` and the
non-convex half of :cite:`bach2025convexity`, with :cite:`woodworth2020kernel`.

For an underdetermined linear system :math:`A\theta=b` (``A`` of shape
``(n, p)``, :math:`p>n`, full row rank) there are infinitely many
interpolants; the algorithm picks one.

* **Gradient descent on least squares** stays in :math:`\theta_0+\operatorname{range}A^\top`,
  so from :math:`\theta_0` it converges to the interpolant closest to
  :math:`\theta_0`, :func:`predicted_gd_limit`; from zero that is the
  minimum-:math:`\ell_2`-norm interpolant :func:`min_norm_solution`.
  :func:`least_squares_gd` runs it.
* **Diagonal linear networks** :math:`\beta=u\odot u-v\odot v` trained by
  gradient descent from :math:`u=v=\sigma\mathbf 1` interpolate too, but the
  interpolant depends on the initialisation scale :math:`\sigma`: close to
  the minimum-:math:`\ell_1`-norm one (:func:`min_l1_solution`, sparse) for
  small :math:`\sigma`, to the minimum-:math:`\ell_2`-norm one for large
  :math:`\sigma` :cite:`woodworth2020kernel`.  :func:`diagonal_network_gd`,
  :func:`sparse_recovery_problem`, :func:`draw_diagonal_network` (the figure
  of the chapter's widget).
* **Logistic regression on separable data** has no minimiser: gradient
  descent drives :math:`\|\theta_t\|\to\infty`, and Soudry et al.
  :cite:`soudry2018implicit` show :math:`\theta_t=\hat w\log t+O(1)`, with
  :math:`\hat w` the hard-margin SVM solution: the direction converges to the
  max-margin one, at the slow rate :math:`O(1/\log t)`.
  :func:`logistic_gd` runs it, :func:`max_margin_direction` computes
  :math:`\hat w` independently (scikit-learn's linear SVM).

Bad input raises :class:`ValueError` naming the argument.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .divergence import DivergenceError

__all__ = [
    "min_norm_solution",
    "predicted_gd_limit",
    "least_squares_gd",
    "min_l1_solution",
    "SparseProblem",
    "sparse_recovery_problem",
    "DiagonalRun",
    "diagonal_network_gd",
    "draw_diagonal_network",
    "LogisticRun",
    "logistic_gd",
    "max_margin_direction",
]


def _system(A: Any, b: Any) -> tuple[jax.Array, jax.Array]:
    A = _checks.finite_array("A", A, ndim=2)
    b = _checks.finite_array("b", b, ndim=1)
    if b.shape[0] != A.shape[0]:
        raise ValueError(f"b must have shape ({A.shape[0]},) to match A {tuple(A.shape)}, got {tuple(b.shape)}")
    return A, b


def min_norm_solution(A: Any, b: Any) -> jax.Array:
    r"""The minimum-Euclidean-norm solution :math:`A^+b=\arg\min\{\|\theta\|_2 : A\theta=b\}`, shape ``(p,)``.

    For ``A`` of full row rank, :math:`A^+b=A^\top(AA^\top)^{-1}b`; otherwise the
    least-squares solution of least norm.
    """
    A, b = _system(A, b)
    return jnp.linalg.pinv(A) @ b


def predicted_gd_limit(A: Any, b: Any, theta0: Any) -> jax.Array:
    r"""Where gradient descent on :math:`\frac12\|A\theta-b\|^2` from ``theta0`` converges (stable step).

    Each gradient :math:`A^\top(A\theta-b)` lies in :math:`\operatorname{range}A^\top`,
    so the component of :math:`\theta` in :math:`\ker A` never changes: the
    limit is :math:`\theta_0-A^+(A\theta_0-b)`, the solution closest to
    :math:`\theta_0`.  Shape ``(p,)``.
    """
    A, b = _system(A, b)
    theta0 = _checks.finite_array("theta0", theta0, ndim=1)
    if theta0.shape[0] != A.shape[1]:
        raise ValueError(f"theta0 must have shape ({A.shape[1]},), got {tuple(theta0.shape)}")
    return theta0 - jnp.linalg.pinv(A) @ (A @ theta0 - b)


@partial(jax.jit, static_argnames=("n_steps",))
def _ls_gd(A, b, theta0, step, n_steps):
    def body(th, _):
        th = th - step * A.T @ (A @ th - b)
        return th, th

    _, ths = jax.lax.scan(body, theta0, None, length=n_steps)
    return jnp.concatenate([theta0[None], ths])


def least_squares_gd(A: Any, b: Any, theta0: Any, step: Any, n_steps: int) -> jax.Array:
    r"""Gradient descent :math:`\theta_{k+1}=\theta_k-\alpha A^\top(A\theta_k-b)`; iterates ``(n_steps + 1, p)``.

    Stable for :math:`0<\alpha<2/\lambda_{\max}(A^\top A)`; raises ``ValueError`` if the run diverges.
    """
    A, b = _system(A, b)
    theta0 = _checks.finite_array("theta0", theta0, ndim=1)
    if theta0.shape[0] != A.shape[1]:
        raise ValueError(f"theta0 must have shape ({A.shape[1]},), got {tuple(theta0.shape)}")
    _checks.positive("step", step)
    n_steps = _checks.positive_int("n_steps", n_steps)
    out = _ls_gd(A, b, theta0, jnp.asarray(step, A.dtype), n_steps)
    if not bool(jnp.all(jnp.isfinite(out))):
        raise DivergenceError("least_squares_gd diverged: step must be below 2 / lambda_max(A^T A)")
    return out


@partial(jax.jit, static_argnames=("n_iter",))
def _bp_admm(A, b, rho, n_iter):
    AAt_inv = jnp.linalg.inv(A @ A.T)

    def project(v):
        return v - A.T @ (AAt_inv @ (A @ v - b))

    def body(state, _):
        z, u = state
        x = project(z - u)
        w = x + u
        z = jnp.sign(w) * jnp.maximum(jnp.abs(w) - 1.0 / rho, 0.0)
        u = u + x - z
        return (z, u), None

    p = A.shape[1]
    (z, u), _ = jax.lax.scan(body, (jnp.zeros(p, A.dtype), jnp.zeros(p, A.dtype)), None, length=n_iter)
    return project(z - u)


def min_l1_solution(A: Any, b: Any, n_iter: int = 5000, rho: float = 1.0) -> jax.Array:
    r"""The minimum-:math:`\ell_1`-norm solution :math:`\arg\min\{\|\theta\|_1 : A\theta=b\}` (basis pursuit), shape ``(p,)``.

    ADMM on :math:`\min\|z\|_1` s.t. :math:`x=z`, :math:`Ax=b`
    (:cite:`boyd2011admm`, section 6.2): projection on the
    affine set, soft-thresholding at :math:`1/\rho`, dual update; the returned
    point is projected back on :math:`A\theta=b`.  ``A`` must have full row rank.
    """
    A, b = _system(A, b)
    n_iter = _checks.positive_int("n_iter", n_iter)
    _checks.positive("rho", rho)
    out = _bp_admm(A, b, jnp.asarray(rho, A.dtype), n_iter)
    if not bool(jnp.all(jnp.isfinite(out))):
        raise ValueError("min_l1_solution failed: A must have full row rank")
    return out


class SparseProblem(NamedTuple):
    """An underdetermined system: ``A`` ``(n, p)``, ``b = A @ beta_true`` ``(n,)``, sparse ``beta_true`` ``(p,)``."""

    A: jax.Array
    b: jax.Array
    beta_true: jax.Array


def sparse_recovery_problem(key: jax.Array, n: int = 20, p: int = 40, k: int = 3) -> SparseProblem:
    r"""Gaussian ``A`` ``(n, p)`` with entries :math:`\mathcal N(0,1/n)` and a ``k``-sparse :math:`\beta^\star` with entries :math:`\pm1`."""
    _checks.prng_key("key", key, batched=True)
    n, p, k = (_checks.positive_int(nm, v) for nm, v in (("n", n), ("p", p), ("k", k)))
    if not (k <= n < p):
        raise ValueError(f"need k <= n < p for an underdetermined sparse problem, got n={n}, p={p}, k={k}")
    k1, k2, k3 = jax.random.split(key, 3)
    A = jax.random.normal(k1, (n, p)) / jnp.sqrt(n)
    support = jax.random.permutation(k2, p)[:k]
    signs = jnp.where(jax.random.bernoulli(k3, 0.5, (k,)), 1.0, -1.0)
    beta = jnp.zeros(p).at[support].set(signs)
    return SparseProblem(A, A @ beta, beta)


class DiagonalRun(NamedTuple):
    """A diagonal-network run: final ``beta`` ``(p,)``, ``losses`` ``(n_records,)`` every ``n_steps // n_records`` steps, ``diverged``."""

    beta: jax.Array
    losses: jax.Array
    diverged: jax.Array


@partial(jax.jit, static_argnames=("n_steps", "n_records"))
def _diag(A, b, scale, lr, n_steps, n_records):
    n = A.shape[0]
    p = A.shape[1]

    def grad_beta(beta):
        return A.T @ (A @ beta - b) / n

    def body(state, _):
        u, v = state
        g = grad_beta(u * u - v * v)
        return (u - lr * 2.0 * u * g, v + lr * 2.0 * v * g), None

    def chunk(state, _):
        state, _ = jax.lax.scan(body, state, None, length=n_steps // n_records)
        u, v = state
        beta = u * u - v * v
        return state, 0.5 * jnp.mean((A @ beta - b) ** 2)

    u0 = jnp.full(p, scale, A.dtype)
    (u, v), losses = jax.lax.scan(chunk, (u0, u0), None, length=n_records)
    beta = u * u - v * v
    return beta, losses, ~jnp.all(jnp.isfinite(beta))


def diagonal_network_gd(A: Any, b: Any, init_scale: Any, n_steps: int = 20_000, step: float = 0.1,
                        n_records: int = 100) -> DiagonalRun:
    r"""Gradient descent on a diagonal linear network :math:`\beta=u\odot u-v\odot v`, from :math:`u=v=\sigma\mathbf 1`.

    Loss :math:`\mathcal L(u,v)=\frac1{2n}\|A(u\odot u-v\odot v)-b\|^2`, so
    :math:`\nabla_u\mathcal L=2u\odot g`, :math:`\nabla_v\mathcal L=-2v\odot g`
    with :math:`g=\frac1nA^\top(A\beta-b)`.  The start is :math:`\beta=0` for
    every scale :math:`\sigma` (``init_scale``, traced).  As the curvature in
    :math:`(u,v)` grows like :math:`\sigma^2`, the learning rate is
    ``step / (lambda_max(A^T A / n) * (1 + 4 sigma^2))``.  Gradient flow
    converges to :math:`\arg\min Q_\sigma(\beta)` s.t. :math:`A\beta=b`, where
    :math:`Q_\sigma` tends to a multiple of :math:`\|\beta\|_1` as
    :math:`\sigma\to0` and of :math:`\|\beta\|_2^2` as :math:`\sigma\to\infty`
    :cite:`woodworth2020kernel`.  Returns a :class:`DiagonalRun`.
    """
    A, b = _system(A, b)
    _checks.positive("init_scale", init_scale)
    _checks.at_most("init_scale", init_scale, 1e18, "init_scale**2 is computed in float32")
    _checks.positive("step", step)
    _checks.at_most("step", step, 1e6, "the learning rate is step / (lambda_max (1 + 4 init_scale**2)); "
                    "step > 2 already diverges")
    n_steps = _checks.positive_int("n_steps", n_steps)
    n_records = _checks.positive_int("n_records", n_records)
    if n_steps % n_records:
        raise ValueError(f"n_steps must be a multiple of n_records, got {n_steps} and {n_records}")
    lmax = float(np.linalg.eigvalsh(np.asarray(A.T @ A, dtype=np.float64))[-1]) / A.shape[0]
    scale = jnp.asarray(init_scale, A.dtype)
    lr = step / (lmax * (1.0 + 4.0 * scale**2))
    return DiagonalRun(*_diag(A, b, scale, lr, n_steps, n_records))


def draw_diagonal_network(problem: SparseProblem, log10_scale: float, *, n_steps: int = 20_000,
                          beta_l1: Any = None, beta_l2: Any = None) -> Any:
    r"""Figure for the widget: the interpolant found at scale :math:`\sigma=10^{\text{log10\_scale}}`.

    Left: the entries of :math:`\beta` found by the network (markers) against
    the minimum-:math:`\ell_1` and minimum-:math:`\ell_2` interpolants.  Right:
    the training loss.  ``beta_l1`` / ``beta_l2`` may be passed to avoid recomputing them.
    """
    from . import plotting as cplt

    if not isinstance(problem, SparseProblem):
        raise ValueError("problem must be a SparseProblem (from sparse_recovery_problem), got "
                         f"{type(problem).__name__}")
    _checks.real("log10_scale", log10_scale)
    _checks.in_range("log10_scale", log10_scale, -18.0, 18.0)
    A, b = problem.A, problem.b
    beta_l1 = min_l1_solution(A, b) if beta_l1 is None else beta_l1
    beta_l2 = min_norm_solution(A, b) if beta_l2 is None else beta_l2
    sigma = 10.0 ** float(log10_scale)
    run = diagonal_network_gd(A, b, sigma, n_steps=n_steps)
    beta = np.asarray(run.beta)
    d1 = float(np.linalg.norm(beta - np.asarray(beta_l1)))
    d2 = float(np.linalg.norm(beta - np.asarray(beta_l2)))
    fig, (ax1, ax2) = cplt.subplots(1, 2, width=10.5, height=3.6, gridspec_kw={"width_ratios": [2.2, 1]})
    idx = np.arange(beta.size)
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.plot(idx, np.asarray(beta_l2), "s", ms=5, mfc="none", color=cplt.OKABE_ITO[1], label=r"min $\ell_2$ interpolant")
    ax1.plot(idx, np.asarray(beta_l1), "D", ms=7, mfc="none", color=cplt.OKABE_ITO[2], label=r"min $\ell_1$ interpolant")
    ax1.plot(idx, beta, "o", ms=4, color=cplt.OKABE_ITO[0], label="diagonal network")
    ax1.set(xlabel="coordinate $i$", ylabel=r"$\beta_i$",
            title=rf"$\sigma = {sigma:.3g}$: distance to $\ell_1$ sol. {d1:.2f}, to $\ell_2$ sol. {d2:.2f}")
    ax1.legend(fontsize=8, loc="lower left")
    steps = np.arange(1, run.losses.size + 1) * (n_steps // run.losses.size)
    ax2.plot(steps, np.maximum(np.asarray(run.losses), 1e-16))
    ax2.set(yscale="log", xlabel="gradient step", ylabel="training loss",
            title="diverged" if bool(run.diverged) else "training loss")
    return fig


# ---------------------------------------------------------------------------
# logistic loss on separable data: the max-margin direction


class LogisticRun(NamedTuple):
    """Gradient descent on the logistic loss, recorded at the steps ``steps``.

    ``steps`` ``(r,)`` (ints), ``thetas`` ``(r, d)``, ``losses`` ``(r,)``, NumPy arrays.
    """

    steps: np.ndarray
    thetas: np.ndarray
    losses: np.ndarray


def _logistic_loss(theta, X, y):
    return jnp.mean(jnp.logaddexp(0.0, -y * (X @ theta)))


@jax.jit
def _logistic_gd(X, y, theta0, step, gaps):
    grad = jax.grad(_logistic_loss)

    def chunk(th, gap):
        th = jax.lax.fori_loop(0, gap, lambda _, t: t - step * grad(t, X, y), th)
        return th, (th, _logistic_loss(th, X, y))

    _, (ths, losses) = jax.lax.scan(chunk, theta0, gaps)
    return ths, losses


def _labelled(X: Any, y: Any) -> tuple[jax.Array, jax.Array]:
    X = _checks.finite_array("X", X, ndim=2)
    y = _checks.finite_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X {tuple(X.shape)}, got {tuple(y.shape)}")
    if not bool(jnp.all(jnp.abs(y) == 1.0)):
        raise ValueError("y must contain only labels -1 and +1")
    return X, y


def logistic_gd(X: Any, y: Any, theta0: Any, step: Any, record_at: Any, *, x64: bool = True) -> LogisticRun:
    r"""Gradient descent on :math:`J(\theta)=\frac1n\sum_i\log(1+e^{-y_i x_i^\top\theta})`.

    ``X`` ``(n, d)``, labels ``y`` ``(n,)`` in :math:`\{-1,+1\}`, ``theta0``
    ``(d,)``; ``record_at``: increasing step counts (at most :math:`10^7`) at
    which the iterate and the loss are recorded.  :math:`J` is
    :math:`L`-smooth with :math:`L=\lambda_{\max}(X^\top X)/(4n)`; for
    separable data and :math:`\alpha<2/L`, :math:`J(\theta_t)\to0`,
    :math:`\|\theta_t\|\to\infty` and :math:`\theta_t=\hat w\log t+O(1)`
    with :math:`\hat w` the hard-margin SVM solution (Soudry et al. 2018,
    Theorem 3; :cite:`soudry2018implicit`).

    Late updates are tiny next to :math:`\theta_t` (about :math:`10^{-6}`
    of it after :math:`10^5` steps), below float32's resolution, so by
    default the run is computed in float64 (``x64=True``, inside
    ``jax.enable_x64``); ``x64=False`` runs it in float32, where the direction
    stops converging.
    """
    if not isinstance(x64, bool):
        raise ValueError(f"x64 must be True or False, got {x64!r}")
    if x64:
        X, y, theta0 = (_checks.real_array(k, v) for k, v in (("X", X), ("y", y), ("theta0", theta0)))
        with jax.enable_x64(True):
            run = logistic_gd(X, y, theta0, step, record_at, x64=False)
            return LogisticRun(run.steps, np.asarray(run.thetas), np.asarray(run.losses))
    X, y = _labelled(X, y)
    theta0 = _checks.finite_array("theta0", theta0, ndim=1)
    if theta0.shape[0] != X.shape[1]:
        raise ValueError(f"theta0 must have shape ({X.shape[1]},), got {tuple(theta0.shape)}")
    _checks.positive("step", step)
    steps = np.asarray(record_at)
    if steps.ndim != 1 or steps.size == 0 or not np.issubdtype(steps.dtype, np.integer):
        raise ValueError(f"record_at must be a non-empty 1-d array of integers, got {record_at!r}")
    if steps[0] < 1 or np.any(np.diff(steps) <= 0) or steps[-1] > 10**7:
        raise ValueError("record_at must be strictly increasing step counts between 1 and 10**7")
    gaps = jnp.asarray(np.diff(steps, prepend=0), jnp.int32)
    ths, losses = _logistic_gd(X, y, theta0, jnp.asarray(step, X.dtype), gaps)
    if not bool(jnp.all(jnp.isfinite(ths))):
        raise DivergenceError("logistic_gd diverged: step must be below 2 / L with L = lambda_max(X^T X) / (4 n)")
    return LogisticRun(steps, np.asarray(ths), np.asarray(losses))


def max_margin_direction(X: Any, y: Any, C: float = 1e6) -> np.ndarray:
    r"""The hard-margin SVM solution :math:`\hat w=\arg\min\{\|w\|:\ y_ix_i^\top w\ge1\ \forall i\}`, shape ``(d,)``.

    Computed independently of gradient descent, by scikit-learn's linear SVM
    without intercept (hinge loss, penalty ``C`` large, so the soft margin is
    the hard one on separable data).  Raises ``ValueError`` if the data are
    not separated by the result (margin constraints violated by more than 1e-3).
    """
    X, y = _labelled(X, y)
    _checks.positive("C", C)
    from sklearn.svm import LinearSVC

    Xn, yn = np.asarray(X, np.float64), np.asarray(y, np.float64)
    svm = LinearSVC(loss="hinge", fit_intercept=False, C=float(C), tol=1e-12, max_iter=1_000_000, dual=True)
    w = svm.fit(Xn, yn).coef_.ravel()
    if np.min(yn * (Xn @ w)) < 1 - 1e-3:
        raise ValueError("max_margin_direction: the data are not linearly separable through the origin")
    return w
