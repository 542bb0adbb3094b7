r"""Set-ups of the chapter "Adaptive methods, normalization and attention".

* :func:`reddi_online` -- Reddi, Kale and Kumar's online linear problem on :math:`[-1, 1]`
  :cite:`reddi2018convergence`, where Adam converges to the worst point and AMSGrad does not;
* :func:`adagrad_nonconvex`, :func:`adagrad_bound` -- Adagrad on a smooth nonconvex problem with
  bounded stochastic gradients, against the bound of Défossez et al. :cite:`defossez2022simple`;
* :func:`sort_batch`, :func:`train_sorter` -- a tiny transformer (:mod:`course_lib.attention`)
  learning to sort short sequences, with per-group gradient norms, over seeds and step sizes;
* :func:`decoupled_least_squares` -- gradient descent on least squares, plainly and in the
  batch-norm (length--direction) parametrisation of Kohler et al. :cite:`kohler2019exponential`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import attention as _at
from .. import optimizers as _opt
from .._checks import nonnegative, one_of, positive, positive_int

__all__ = [
    "ReddiRun",
    "reddi_online",
    "reddi_limit_regret",
    "adagrad_nonconvex",
    "adagrad_bound",
    "sort_batch",
    "SorterRuns",
    "train_sorter",
    "decoupled_least_squares",
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
# 4. a tiny transformer learns to sort
# ---------------------------------------------------------------------------


def sort_batch(key: jax.Array, batch: int, seq_len: int, vocab: int) -> tuple[jax.Array, jax.Array]:
    """A batch of the sorting task: ``tokens`` ``(batch, seq_len)`` uniform in ``0..vocab-1`` and ``targets``,
    the same rows sorted (position ``i`` of the output must be the ``i``-th smallest input)."""
    x = jax.random.randint(key, (batch, seq_len), 0, vocab)
    return x, jnp.sort(x, axis=-1)


class SorterRuns(NamedTuple):
    """Arrays with leading axes ``(seeds, learning rates)``: ``loss`` ``(..., n_steps)`` training
    cross-entropy, ``grad_norms`` ``(..., n_steps, 5)`` per-group gradient norms (Q, K, V, MLP, embed;
    see :func:`course_lib.attention.group_norms`), ``test_acc`` ``(...,)`` final per-token accuracy on
    fresh sequences."""

    loss: jax.Array
    grad_norms: jax.Array
    test_acc: jax.Array


GROUPS = ("Q", "K", "V", "MLP", "embed")


@functools.partial(jax.jit, static_argnames=("name", "n_steps", "batch", "seq_len", "vocab", "d_model", "n_layers"))
def _train_sorter(name, keys, lrs, beta, n_steps, batch, seq_len, vocab, d_model, n_layers):
    def one(key, lr):
        k_init, k_data, k_test = jax.random.split(key, 3)
        params = _at.init_transformer(k_init, vocab=vocab, seq_len=seq_len, d_model=d_model,
                                      n_layers=n_layers, d_mlp=2 * d_model)
        o = _opt.heavy_ball(lr, beta) if name == "heavy_ball" else _opt.adam(lr)

        def loss_fn(p, x, y):
            logits = _at.apply_transformer(p, x)
            logp = jax.nn.log_softmax(logits)
            return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))

        def step(carry, k):
            p, st = carry
            x, y = sort_batch(k, batch, seq_len, vocab)
            val, g = jax.value_and_grad(loss_fn)(p, x, y)
            norms = _at.group_norms(g)
            u, st = o.update(g, st, p)
            p = _opt.apply_updates(p, u)
            return (p, st), (val, jnp.stack([norms[gname] for gname in GROUPS]))

        (p, _), (losses, gn) = jax.lax.scan(step, (params, o.init(params)), jax.random.split(k_data, n_steps))
        x, y = sort_batch(k_test, 512, seq_len, vocab)
        acc = jnp.mean(jnp.argmax(_at.apply_transformer(p, x), -1) == y)
        return losses, gn, acc

    f = jax.vmap(jax.vmap(one, in_axes=(None, 0)), in_axes=(0, None))
    return SorterRuns(*f(keys, lrs))


def train_sorter(name: str, keys: jax.Array, learning_rates: Any, *, n_steps: int = 300, batch: int = 32,
                 seq_len: int = 6, vocab: int = 8, d_model: int = 16, n_layers: int = 2,
                 beta: float = 0.9) -> SorterRuns:
    r"""Train the tiny transformer of :mod:`course_lib.attention` to sort (:func:`sort_batch`) with
    ``name`` = ``"adam"`` or ``"heavy_ball"`` (momentum ``beta``), one run per seed in ``keys`` ``(s, 2)``
    and step size in ``learning_rates`` ``(r,)`` (vmapped; fresh batches every step, same data and
    initialisation per seed for both optimizers).  Returns :class:`SorterRuns`."""
    one_of("name", name, ("adam", "heavy_ball"))
    lrs = jnp.asarray(learning_rates, jnp.result_type(float))
    if lrs.ndim != 1 or not bool(jnp.all(lrs > 0)):
        raise ValueError(f"learning_rates must be a 1-D array of positive steps, got {learning_rates!r}")
    return _train_sorter(name, keys, lrs, jnp.asarray(beta, jnp.result_type(float)), positive_int("n_steps", n_steps),
                         positive_int("batch", batch), positive_int("seq_len", seq_len), positive_int("vocab", vocab),
                         positive_int("d_model", d_model), positive_int("n_layers", n_layers))


# ---------------------------------------------------------------------------
# 5b. length-direction decoupling on least squares
# ---------------------------------------------------------------------------


def decoupled_least_squares(S: Any, b: Any, w0: Any, n_steps: int, *, step: float) -> tuple[jax.Array, jax.Array]:
    r"""Suboptimality of two methods on :math:`f(w) = \tfrac12 w^\top S w - b^\top w` (``S`` ``(d, d)``
    positive definite, ``b`` ``(d,)``), ``(n_steps+1,)`` each: plain gradient descent
    :math:`w \leftarrow w - \eta\nabla f(w)` with :math:`\eta` = ``step``/:math:`\lambda_{\max}(S)`, and
    the batch-norm parametrisation :math:`w = g\,u/\|u\|_S` of Kohler et al. :cite:`kohler2019exponential`:
    the length :math:`g^\star(u) = b^\top u/\|u\|_S` is solved exactly, and gradient descent runs on the
    direction, i.e. on :math:`\rho(u) = -\tfrac12 (b^\top u)^2/(u^\top S u)`, with the scale-invariant step
    :math:`\eta_u = ` ``step`` :math:`\cdot\,\|u\|_2^2/(\lambda_{\max}(S)\,|\rho(u)|)`-free form
    :math:`u \leftarrow u - \text{step}\,\frac{u^\top S u}{\lambda_{\max}(S)\,(b^\top u)^2}\,\|u\|^2\,\nabla\rho(u)`.
    Returns ``(f(w_k) - f_*, f(g^\star(u_k) u_k/\|u_k\|_S) - f_*)``.
    """
    S = jnp.asarray(S, jnp.result_type(float))
    b = jnp.asarray(b, jnp.result_type(float))
    n_steps = positive_int("n_steps", n_steps)
    positive("step", step)
    return _decoupled(S, b, jnp.asarray(w0, jnp.result_type(float)), n_steps, jnp.asarray(step, jnp.result_type(float)))


@functools.partial(jax.jit, static_argnames=("n_steps",))
def _decoupled(S, b, w0, n_steps, step):
    lmax = jnp.linalg.eigvalsh(S)[-1]
    f = lambda w: 0.5 * w @ S @ w - b @ w
    f_star = -0.5 * b @ jnp.linalg.solve(S, b)
    rho = lambda u: -0.5 * (b @ u) ** 2 / (u @ S @ u)

    def gd(w, _):
        w = w - step / lmax * (S @ w - b)
        return w, f(w) - f_star

    def dec(u, _):
        g = jax.grad(rho)(u)
        su = u @ S @ u
        u = u - step * su / (lmax * (b @ u) ** 2) * (u @ u) * g
        w = (b @ u) / (u @ S @ u) * u
        return u, f(w) - f_star

    _, e_gd = jax.lax.scan(gd, w0, None, length=n_steps)
    _, e_dec = jax.lax.scan(dec, w0, None, length=n_steps)
    w_dec0 = (b @ w0) / (w0 @ S @ w0) * w0
    return jnp.concatenate([(f(w0) - f_star)[None], e_gd]), jnp.concatenate([(f(w_dec0) - f_star)[None], e_dec])
