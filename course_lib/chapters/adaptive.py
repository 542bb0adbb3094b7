r"""Set-ups of the chapter "Adaptive methods, normalization and attention".

* :func:`reddi_online` -- Reddi, Kale and Kumar's online linear problem on :math:`[-1, 1]`
  :cite:`reddi2018convergence`, where Adam converges to the worst point and AMSGrad does not;
* :func:`adagrad_nonconvex`, :func:`adagrad_bound` -- Adagrad on a smooth nonconvex problem with
  bounded stochastic gradients, against the bound of Défossez et al. :cite:`defossez2022simple`.

* :func:`train_tiny_transformer` -- a tiny transformer trained with momentum SGD and with Adam on a
  reversal task with heavy-tailed (Zipf) tokens, every step size and seed in one compiled function.

* :func:`least_squares_instance`, :func:`gd_least_squares`, :func:`decoupled_least_squares`,
  :func:`linear_rate` -- plain gradient descent against the length-direction decoupling of batch
  normalization (Kohler et al. :cite:`kohler2019exponential`) on an ill-conditioned least-squares problem.

The rank-collapse and batch-norm experiments of the chapter call :mod:`course_lib.attention` directly.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import attention as _at
from .. import optimizers as _opt
from .._checks import finite_array, nonnegative, one_of, positive, positive_int, prng_key, work_size

__all__ = [
    "ReddiRun",
    "reddi_online",
    "reddi_limit_regret",
    "adagrad_nonconvex",
    "adagrad_bound",
    "GROUPS",
    "TransformerRuns",
    "zipf_reversal_batch",
    "train_tiny_transformer",
    "tuned",
    "least_squares_instance",
    "gd_least_squares",
    "decoupled_least_squares",
    "linear_rate",
]

# ---------------------------------------------------------------------------
# 1. Reddi, Kale and Kumar's counterexample
# ---------------------------------------------------------------------------


class ReddiRun(NamedTuple):
    """``x`` ``(T,)`` the iterates :math:`x_1..x_T`, ``effective_step`` ``(T,)`` the step
    :math:`\\alpha_t/\\sqrt{v_t}` (Adam) or :math:`\\alpha_t/\\sqrt{\\hat v_t}` (AMSGrad) applied to
    :math:`m_t`, ``avg_regret`` ``(T,)`` the average regret :math:`R_t/t`."""

    x: jax.Array
    effective_step: jax.Array
    avg_regret: jax.Array


@functools.partial(jax.jit, static_argnames=("name", "n_steps", "period"))
def _reddi(name, n_steps, period, alpha, b1, b2, C, small, x0):
    o = (_opt.adam if name == "adam" else _opt.amsgrad)(1.0, b1, b2, eps=1e-12, bias_correction=False)

    def step(carry, t):
        x, st, cum_loss, cum_g = carry
        g = jnp.where(t % period == 1, C, small)
        u, st = o.update(g, st, x)
        v = st.v if name == "adam" else st.v_max
        lr = alpha / jnp.sqrt(t)
        new_x = jnp.clip(x + lr * u, -1.0, 1.0)  # projection on F = [-1, 1]
        cum_loss, cum_g = cum_loss + g * x, cum_g + g
        regret = cum_loss + jnp.abs(cum_g)  # sum_t f_t(x_t) - min_{|x|<=1} sum_t f_t(x)
        return (new_x, st, cum_loss, cum_g), (x, lr / (jnp.sqrt(v) + 1e-12), regret / t)

    x0 = jnp.asarray(x0, jnp.result_type(float))
    init = (x0, o.init(x0), jnp.zeros_like(x0), jnp.zeros_like(x0))
    _, (xs, eff, reg) = jax.lax.scan(step, init, jnp.arange(1, n_steps + 1))
    return ReddiRun(xs, eff, reg)


def reddi_online(name: str, n_steps: int, *, alpha: float = 0.5, b1: float = 0.9, b2: float = 0.99,
                 C: float = 1010.0, period: int = 101, small: float = -10.0, x0: float = 1.0) -> ReddiRun:
    r"""Adam or AMSGrad (``name`` ``"adam"`` or ``"amsgrad"``, the paper's form: no bias correction) on the
    online problem :math:`f_t(x) = C x` if :math:`t \bmod p = 1`, else :math:`s\,x`, over :math:`F = [-1, 1]`.

    Section 5 of Reddi et al. :cite:`reddi2018convergence`: :math:`C = 1010`, :math:`s = -10`, :math:`p = 101`,
    :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.99`, steps :math:`\alpha_t = \alpha/\sqrt t`, projected iterates
    :math:`x_{t+1} = \Pi_F(x_t - \alpha_t m_t/\sqrt{v_t})` (AMSGrad: :math:`\hat v_t = \max(\hat v_{t-1}, v_t)`).
    Over a period the losses sum to :math:`(C + (p-1)s)x = 10x`, minimal at :math:`x = -1`.
    ``alpha``, ``b1``, ``b2``, ``C``, ``small``, ``x0`` are traced.  Returns a :class:`ReddiRun`.
    """
    one_of("name", name, ("adam", "amsgrad"))
    n_steps = positive_int("n_steps", n_steps)
    period = positive_int("period", period)
    positive("alpha", alpha)
    for nm, v in (("b1", b1), ("b2", b2)):
        nonnegative(nm, v)
        if not isinstance(v, jax.core.Tracer) and not float(v) < 1:
            raise ValueError(f"{nm} must lie in [0, 1), got {v!r}")
    if not isinstance(x0, jax.core.Tracer) and not -1.0 <= float(x0) <= 1.0:
        raise ValueError(f"x0 must lie in F = [-1, 1], got {x0!r}")
    f = lambda v: jnp.asarray(v, jnp.result_type(float))
    return _reddi(name, n_steps, period, f(alpha), f(b1), f(b2), f(C), f(small), f(x0))


def reddi_limit_regret(C: float = 1010.0, period: int = 101, small: float = -10.0) -> float:
    r"""Average regret of the constant iterate :math:`x = +1` (where Adam ends): per period the loss is
    :math:`(C + (p-1)s)\cdot 1` against :math:`-(C + (p-1)s)` at the optimum, so :math:`2(C + (p-1)s)/p`."""
    return 2.0 * abs(C + (period - 1) * small) / period


# ---------------------------------------------------------------------------
# 2. Adagrad on a smooth nonconvex problem, against Défossez et al.'s bound
# ---------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("n_chains", "n_steps", "d"))
def _adagrad_nc(key, n_chains, n_steps, d, alpha, sigma, eps, x0):
    def chain(k):
        def step(carry, kk):
            x, v = carry
            grad = jnp.sin(x)
            g = grad + sigma * jax.random.uniform(kk, (d,), minval=-1.0, maxval=1.0)
            v = v + g * g
            return (x - alpha * g / jnp.sqrt(eps + v), v), jnp.sum(grad * grad)

        _, sq = jax.lax.scan(step, (jnp.full(d, x0), jnp.zeros(d)), jax.random.split(k, n_steps))
        return sq

    return jax.vmap(chain)(jax.random.split(key, n_chains)).mean(axis=0)


def adagrad_nonconvex(key: jax.Array, *, n_chains: int, n_steps: int, d: int = 2, alpha: float = 0.1,
                      sigma: float = 0.5, eps: float = 0.01, x0: float = 2.5) -> jax.Array:
    r"""Estimated :math:`\mathbb{E}\|\nabla F(x_n)\|^2`, ``(n_steps,)`` for :math:`n = 0..N-1`, of Adagrad on
    :math:`F(x) = \sum_{i\le d}(1 - \cos x_i)` (smooth, :math:`L = 1`, nonconvex, :math:`F_* = 0`).

    Adagrad as in Défossez et al. :cite:`defossez2022simple`: :math:`v_n = v_{n-1} + g_n^2`,
    :math:`x_n = x_{n-1} - \alpha g_n/\sqrt{\varepsilon + v_n}` from :math:`x_0 = (x_0, \dots, x_0)`, with
    :math:`g_n = \nabla F(x_{n-1}) + \sigma U_n`, :math:`U_n` uniform on :math:`[-1, 1]^d`, so
    :math:`\|g_n\|_\infty \le 1 + \sigma`.  Averaged over ``n_chains`` independent chains.
    """
    n_chains, n_steps, d = positive_int("n_chains", n_chains), positive_int("n_steps", n_steps), positive_int("d", d)
    positive("alpha", alpha)
    nonnegative("sigma", sigma)
    positive("eps", eps)
    f = lambda v: jnp.asarray(v, jnp.result_type(float))
    return _adagrad_nc(key, n_chains, n_steps, d, f(alpha), f(sigma), f(eps), f(x0))


def adagrad_bound(N: Any, *, d: int, R: float, L: float, alpha: float, eps: float, gap: float) -> np.ndarray:
    r"""Défossez et al.'s bound for Adagrad (Theorem 1 of :cite:`defossez2022simple`, no momentum):

    .. math::

       \frac1N\sum_{n<N}\mathbb{E}\|\nabla F(x_n)\|^2 \le
       \frac{2R\,(F(x_0) - F_*)}{\alpha\sqrt N} + \frac{1}{\sqrt N}\,(4dR^2 + \alpha dRL)\,
       \ln\Bigl(1 + \frac{NR^2}{\varepsilon}\Bigr),

    for :math:`F` :math:`L`-smooth and stochastic gradients with :math:`\|g\|_\infty \le R - \sqrt\varepsilon`.
    ``gap`` is :math:`F(x_0) - F_*`.  ``N`` ``(k,)``; returns ``(k,)``.
    """
    N = np.asarray(N, dtype=float)
    return (2 * R * gap / (alpha * np.sqrt(N))
            + (4 * d * R**2 + alpha * d * R * L) * np.log1p(N * R**2 / eps) / np.sqrt(N))


# ---------------------------------------------------------------------------
# 4. a tiny transformer trained with momentum SGD and with Adam
# ---------------------------------------------------------------------------

GROUPS = ("Q", "K", "V", "MLP", "embed")
"""Parameter groups of :func:`course_lib.attention.group_norms`, in the order of ``TransformerRuns.group_norms``."""


class TransformerRuns(NamedTuple):
    """Runs of :func:`train_tiny_transformer`, one per step size ``r`` and seed ``s``:
    ``loss`` ``(R, S, T)`` training loss of every step; ``group_norms`` ``(R, S, T, 5)`` gradient norm of
    every parameter group of ``GROUPS`` at every step; ``class_loss`` ``(R, S, vocab)`` mean
    cross-entropy after training on a held-out batch, per target token (NaN if the token is absent);
    ``class_count`` ``(vocab,)`` occurrences of each token as a target in that batch."""

    loss: jax.Array
    group_norms: jax.Array
    class_loss: jax.Array
    class_count: jax.Array


def zipf_reversal_batch(key: jax.Array, batch: int, seq_len: int, vocab: int, exponent: Any) -> tuple:
    r"""A batch of the reversal task with heavy-tailed tokens: inputs ``(batch, seq_len)`` with i.i.d. tokens of
    probability :math:`p_k \propto k^{-s}`, :math:`k = 1..\text{vocab}` (Zipf, exponent ``exponent`` :math:`s`,
    traced), and targets the same sequences reversed."""
    logits = -exponent * jnp.log(jnp.arange(1.0, vocab + 1))
    x = jax.random.categorical(key, logits, shape=(batch, seq_len))
    return x, x[:, ::-1]


def _xent(params, x, y):
    logp = jax.nn.log_softmax(_at.apply_transformer(params, x))
    return -jnp.take_along_axis(logp, y[..., None], -1)[..., 0]


# XLA's backend optimisation level 1 instead of the default: for this graph (a vmapped scan over the gradient of
# the transformer) it cuts the compilation from about 23 to 6 CPU seconds for about 1.2x the run time.
@functools.partial(jax.jit, static_argnames=("n_seeds", "n_steps", "shape"),
                   compiler_options={"xla_backend_optimization_level": 1})
def _train_tf(key, lrs, adaptive, n_seeds, n_steps, shape, zipf, b1, b2, eps):
    vocab, seq_len, d_model, n_layers, d_mlp, batch, n_eval = shape
    k_seeds, k_eval = jax.random.split(key)
    xe, ye = zipf_reversal_batch(k_eval, n_eval, seq_len, vocab, zipf)
    onehot = jax.nn.one_hot(ye, vocab)
    count = onehot.sum(axis=(0, 1))

    def run(k, lr, ada):
        k_init, k_data = jax.random.split(k)
        p = _at.init_transformer(k_init, vocab=vocab, seq_len=seq_len, d_model=d_model, n_layers=n_layers,
                                 d_mlp=d_mlp)
        zeros = jax.tree.map(jnp.zeros_like, p)

        def step(carry, inp):
            p, m, v = carry
            t, kk = inp
            x, y = zipf_reversal_batch(kk, batch, seq_len, vocab, zipf)
            loss, g = jax.value_and_grad(lambda q: _xent(q, x, y).mean())(p)
            m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
            v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
            # one update for both methods: Adam divides by sqrt(v_hat) + eps, momentum SGD by 1
            upd = lambda p, m, v: p - lr * (m / (1 - b1**t)) / jnp.where(ada, jnp.sqrt(v / (1 - b2**t)) + eps, 1.0)
            gn = _at.group_norms(g)
            return (jax.tree.map(upd, p, m, v), m, v), (loss, jnp.stack([gn[name] for name in GROUPS]))

        (p, _, _), (losses, gns) = jax.lax.scan(step, (p, zeros, zeros),
                                                 (jnp.arange(1, n_steps + 1), jax.random.split(k_data, n_steps)))
        per_tok = _xent(p, xe, ye)
        return losses, gns, jnp.einsum("bn,bnv->v", per_tok, onehot) / count

    runs = jax.vmap(jax.vmap(run, (0, None, None)), (None, 0, 0))
    losses, gns, cls = runs(jax.random.split(k_seeds, n_seeds), lrs, adaptive)
    return TransformerRuns(losses, gns, cls, count)


def train_tiny_transformer(key: jax.Array, learning_rates: Any, adaptive: Any, *, n_seeds: int = 3,
                           n_steps: int = 200, vocab: int = 64, seq_len: int = 8, d_model: int = 16,
                           n_layers: int = 2, d_mlp: int = 32, batch: int = 32, zipf: float = 1.2,
                           b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, n_eval: int = 512) -> TransformerRuns:
    r"""Train :func:`course_lib.attention.apply_transformer` on :func:`zipf_reversal_batch` (fresh batches every
    step, cross-entropy) with momentum SGD or Adam, for every step size and ``n_seeds`` seeds, in **one**
    compiled, vmapped function.

    Both methods share the moments :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1)g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)g_t^2` and bias corrections
    :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`; the update is
    :math:`\theta_{t+1} = \theta_t - \eta\,\hat m_t/(\sqrt{\hat v_t} + \varepsilon)` (Adam
    :cite:`kingma2015adam`) where ``adaptive`` is true and :math:`\theta_{t+1} = \theta_t - \eta\,\hat m_t`
    (heavy-ball momentum SGD in its averaged form, step :math:`\eta` applied to the average gradient) where
    it is false.  ``learning_rates`` and ``adaptive`` are ``(R,)`` arrays (traced, as are ``zipf``, ``b1``,
    ``b2``, ``eps``): every step size of both methods in one compilation.  Seed ``s`` uses the same
    initialisation and data for every run.  Returns a :class:`TransformerRuns`.
    """
    lrs = finite_array("learning_rates", learning_rates, ndim=1)
    ada = jnp.asarray(adaptive)
    if ada.shape != lrs.shape:
        raise ValueError(f"adaptive must have the shape of learning_rates {tuple(lrs.shape)}, got {tuple(ada.shape)}")
    if not np.all(np.asarray(lrs) > 0):
        raise ValueError("learning_rates must be positive")
    shape = tuple(positive_int(n, v) for n, v in (("vocab", vocab), ("seq_len", seq_len), ("d_model", d_model),
                                                  ("n_layers", n_layers), ("d_mlp", d_mlp), ("batch", batch),
                                                  ("n_eval", n_eval)))
    nonnegative("zipf", zipf)
    f = lambda v: jnp.asarray(v, jnp.result_type(float))
    return _train_tf(key, lrs, ada.astype(bool), positive_int("n_seeds", n_seeds), positive_int("n_steps", n_steps),
                     shape, f(zipf), f(b1), f(b2), f(eps))


def tuned(runs: TransformerRuns, last: int = 30) -> tuple[np.ndarray, np.ndarray]:
    r"""Final loss of every run, the mean of its last ``last`` training losses averaged over the seeds, ``(R,)``
    (non-finite runs count as :math:`+\infty`), and the same per seed ``(R, S)``."""
    per_seed = np.asarray(runs.loss)[:, :, -last:].mean(axis=-1)
    per_seed = np.where(np.isfinite(per_seed), per_seed, np.inf)
    return per_seed.mean(axis=1), per_seed



# ---------------------------------------------------------------------------
# 5. length-direction decoupling (batch normalization) on least squares
# ---------------------------------------------------------------------------


def _eigenvalues(kappa, d):
    return kappa ** (-jnp.arange(d) / (d - 1))  # from L = 1 down to mu = 1/kappa, geometrically spaced


def _draw(key, d):
    k_star, k_0 = jax.random.split(key)
    return jax.random.normal(k_star, (d,)), jax.random.normal(k_0, (d,))


def least_squares_instance(key: jax.Array, kappa: float, d: int = 32) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""The least-squares problem of :func:`gd_least_squares` and :func:`decoupled_least_squares`:
    ``(S, w_star, w0)``, shapes ``(d, d)``, ``(d,)``, ``(d,)``.

    Inputs :math:`x \sim \mathcal N(0, S)` and labels :math:`y = x^\top w_\star + \varepsilon` (noise independent
    of :math:`x`); the population loss is

    .. math::

       f(w) = \tfrac12\,\mathbb E\bigl[(x^\top w - y)^2\bigr]
            = \tfrac12 (w - w_\star)^\top S (w - w_\star) + f_\star ,
       \qquad \nabla f(w) = S(w - w_\star) = Sw - u, \quad u = \mathbb E[y\,x] = S w_\star .

    :math:`S = \mathrm{diag}(\lambda)` with eigenvalues :math:`\lambda_i = \kappa^{-i/(d-1)}`, :math:`i = 0..d-1`,
    geometrically spaced from :math:`L = 1` down to :math:`\mu = 1/\kappa` (condition number ``kappa``).
    ``w_star`` and the starting point ``w0`` are standard Gaussian; since both methods commute with rotations,
    a rotated covariance :math:`QSQ^\top` would give the same runs in distribution.  The key fixes ``w_star``
    and ``w0``; ``kappa`` only moves the eigenvalues (traced).
    """
    prng_key("key", key)
    d = positive_int("d", d)
    if d < 2:
        raise ValueError(f"d must be at least 2 (one eigenvalue per end of the spectrum), got {d}")
    _check_kappa("kappa", kappa)
    # diagonal S: both methods commute with rotations and w_star, w0 are isotropic, so a rotated S = Q diag Q^T
    # would give the same runs in distribution (and a QR costs more to compile than the whole study)
    return (jnp.diag(_eigenvalues(jnp.asarray(kappa, jnp.result_type(float)), d)), *_draw(key, d))


def _check_kappa(name, kappa):
    if isinstance(kappa, jax.core.Tracer):
        return
    k = np.asarray(finite_array(name, kappa))
    if not np.all(k >= 1):
        raise ValueError(f"{name} must be >= 1 (a condition number), got {kappa!r}")


def _subopt(lam, w, w_star):
    e = w - w_star
    return 0.5 * jnp.sum(lam * e * e)


# S is diagonal (see least_squares_instance): S @ x is lam * x.  w_star, w0 are drawn outside the compiled
# function: a PRNG draw inside it triples the compilation time, which dominates the cost of the study.
@functools.partial(jax.jit, static_argnames=("n_steps",))
def _gd_ls(w_star, w0, kappas, steps, n_steps):
    def one(kappa, gamma):
        lam = _eigenvalues(kappa, w0.shape[0])

        def step(w, _):
            return w - gamma * lam * (w - w_star), _subopt(lam, w, w_star)

        return jax.lax.scan(step, w0, None, length=n_steps)[1]

    return jax.vmap(one)(kappas, steps)


@functools.partial(jax.jit, static_argnames=("n_steps",))
def _decoupled_ls(w_star, w0, kappas, etas, n_steps):
    def one(kappa, eta):
        lam = _eigenvalues(kappa, w0.shape[0])
        u = lam * w_star  # E[y x] = S w_star
        norm_S = lambda v: jnp.sqrt(jnp.sum(lam * v * v))

        def step(v, _):
            v = v / norm_S(v)  # the length of v is irrelevant (scale invariance); keep ||v||_S = 1
            g = u @ v  # argmin_g f(g v/||v||_S), in closed form
            loss_v = lambda vv: _subopt(lam, g * vv / norm_S(vv), w_star)  # f at fixed length g, up to f_star
            s = eta / g**2  # eta ||v||_S^2 / g^2 with ||v||_S = 1
            return v - s * jax.grad(loss_v)(v), _subopt(lam, g * v, w_star)

        return jax.lax.scan(step, w0, None, length=n_steps)[1]

    return jax.vmap(one)(kappas, etas)


def _ls_args(key, kappas, steps, d, n_steps, step_name):
    prng_key("key", key)
    kap = finite_array("kappas", kappas, ndim=1)
    _check_kappa("kappas", kap)
    st = finite_array(step_name, steps, ndim=1)
    if st.shape != kap.shape:
        raise ValueError(f"{step_name} must have the shape of kappas {tuple(kap.shape)}, got {tuple(st.shape)}")
    if not np.all(np.asarray(st) > 0):
        raise ValueError(f"{step_name} must be positive")
    d, n_steps = positive_int("d", d), positive_int("n_steps", n_steps)
    if d < 2:
        raise ValueError(f"d must be at least 2, got {d}")
    work_size("n_steps x len(kappas) x d**2", steps=float(n_steps) * kap.size, size=float(d) ** 2,
              record_bytes=4.0 * n_steps * kap.size)
    return kap, st, d, n_steps


def gd_least_squares(key: jax.Array, kappas: Any, steps: Any, *, d: int = 32, n_steps: int = 4000) -> jax.Array:
    r"""Plain gradient descent :math:`w_{t+1} = w_t - \gamma\,\nabla f(w_t)` on the least-squares problem of
    :func:`least_squares_instance`, from its ``w0``, for every condition number ``kappas[k]`` with step
    ``steps[k]`` (both ``(K,)``, traced: a sweep compiles once).

    Returns the suboptimality :math:`f(w_t) - f_\star = \frac12\|w_t - w_\star\|_S^2`, ``(K, n_steps)``, for
    :math:`t = 0..n\_steps-1`.  With the best constant step :math:`\gamma = 2/(L + \mu)` every eigencomponent of
    the error shrinks by at most :math:`(\kappa - 1)/(\kappa + 1) = 1 - 2/(\kappa + 1)` per step (exactly so for
    the extreme eigenvalues), so the suboptimality by :math:`((\kappa - 1)/(\kappa + 1))^2`.
    """
    kap, st, d, n_steps = _ls_args(key, kappas, steps, d, n_steps, "steps")
    return _gd_ls(*_draw(key, d), kap, st, n_steps)


def decoupled_least_squares(key: jax.Array, kappas: Any, etas: Any, *, d: int = 32, n_steps: int = 4000) -> jax.Array:
    r"""The length-direction decoupling of batch normalization (Kohler et al. :cite:`kohler2019exponential`) on
    the least-squares problem of :func:`least_squares_instance`: :math:`w = g\,v/\|v\|_S`,
    :math:`\|v\|_S = \sqrt{v^\top S v}` (what batch norm computes for a linear unit with inputs of covariance
    :math:`S`), and at every step

    1. the length in closed form, :math:`g_t = \arg\min_g f(g\,v_t/\|v_t\|_S) = u^\top v_t/\|v_t\|_S`;
    2. a gradient step on the direction at fixed length,
       :math:`v_{t+1} = v_t - s_t\,\nabla_v f(g_t v/\|v\|_S)\big|_{v_t}`, with the step
       :math:`s_t = \eta\,\|v_t\|_S^2/g_t^2` that scales with the iterate (the gradient is orthogonal to
       :math:`v`, so :math:`\|v\|` grows and a fixed step would shrink in effect).

    Since :math:`\nabla_v f = (g_t/\|v_t\|_S)\,\nabla f(w_t)` at the optimal length, :math:`(g_t/\|v_t\|_S)\,v_{t+1}
    = w_t - \eta\nabla f(w_t)`: one step is a gradient step of size :math:`\eta` on :math:`w` followed by the best
    rescaling of the result.  Hence :math:`f(w_{t+1}) - f_\star \le \max_i(1 - \eta\lambda_i)^2\,(f(w_t) - f_\star)`,
    the bound of plain gradient descent with the same step: :math:`(1 - 1/\kappa)^2` for :math:`\eta = 1/L`,
    :math:`((\kappa-1)/(\kappa+1))^2` for :math:`\eta = 2/(L+\mu)`.  ``v`` starts at ``w0`` and is kept at
    :math:`\|v\|_S = 1` (which changes nothing, by scale invariance).

    ``kappas`` and ``etas`` ``(K,)`` are traced.  Returns :math:`f(w_t) - f_\star` with
    :math:`w_t = g_t v_t/\|v_t\|_S`, ``(K, n_steps)``.
    """
    kap, st, d, n_steps = _ls_args(key, kappas, etas, d, n_steps, "etas")
    return _decoupled_ls(*_draw(key, d), kap, st, n_steps)


def linear_rate(subopt: Any, *, high: float = 1e-2, low: float = 1e-9) -> np.ndarray:
    r"""Measured linear rate of each run: :math:`\exp` of the least-squares slope of :math:`\ln(f(w_t) - f_\star)`
    against :math:`t`, fitted from the first step where the suboptimality has fallen below ``high`` times its
    initial value to the first step where it falls below ``low`` times it (or the end of the run).

    ``subopt`` ``(K, T)`` (or ``(T,)``); returns ``(K,)`` (or a scalar array) of per-step contraction factors of
    the suboptimality, NaN where the window holds fewer than 10 steps.
    """
    x = np.asarray(finite_array("subopt", subopt), dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"subopt must have shape (T,) or (K, T), got {x.shape}")
    positive("high", high)
    positive("low", low)
    if not low < high <= 1:
        raise ValueError(f"low and high must satisfy 0 < low < high <= 1, got low={low!r}, high={high!r}")
    rows = np.atleast_2d(x)
    out = np.full(rows.shape[0], np.nan)
    for k, r in enumerate(rows):
        if not r[0] > 0:
            continue
        rel = r / r[0]
        below_high = np.nonzero(rel < high)[0]
        if below_high.size == 0:
            continue
        start = below_high[0]
        below_low = np.nonzero(rel < low)[0]
        stop = below_low[0] if below_low.size else r.size
        t = np.arange(start, stop)
        if t.size >= 10 and np.all(r[t] > 0):
            out[k] = np.exp(np.polyfit(t, np.log(r[t]), 1)[0])
    return out if x.ndim == 2 else out[0]
