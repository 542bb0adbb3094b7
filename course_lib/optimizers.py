r"""Deep-learning optimizers as small pure ``(init, update)`` pairs over pytrees.

Every optimizer follows the convention of optax :cite:`optax`: ::

    opt = adam(learning_rate=1e-3)
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)          # params + updates

``updates`` already contain the minus sign and the learning rate.  ``params``
and ``grads`` are any pytrees of float arrays (a single array, a dict of
arrays, ...).  Hyper-parameters may be JAX tracers, so an optimizer built
*inside* a jitted function with traced hyper-parameters never recompiles when
they change (see :func:`run`).

The equations, per coordinate, with gradient :math:`g_k = \nabla J(\theta_k)`
and step :math:`\alpha` (all products and divisions elementwise):

======================  =============================================================================
optimizer               update
======================  =============================================================================
:func:`sgd`             :math:`\theta_{k+1} = \theta_k - \alpha g_k`
:func:`heavy_ball`      :math:`v_{k+1} = \beta v_k + g_k,\ \theta_{k+1} = \theta_k - \alpha v_{k+1}`
:func:`nesterov`        :math:`v_{k+1} = \beta v_k + g_k,\ \theta_{k+1} = \theta_k - \alpha (g_k + \beta v_{k+1})`
:func:`adagrad`         :math:`s_{k+1} = s_k + g_k^2,\ \theta_{k+1} = \theta_k - \alpha g_k / \sqrt{s_{k+1} + \varepsilon}`
:func:`rmsprop`         :math:`s_{k+1} = \rho s_k + (1-\rho) g_k^2,\ \theta_{k+1} = \theta_k - \alpha g_k / \sqrt{s_{k+1} + \varepsilon}`
:func:`sign_descent`    :math:`\theta_{k+1} = \theta_k - \alpha \operatorname{sign}(g_k)`
:func:`rprop`           per-coordinate steps :math:`\alpha_k` grown by :math:`\eta_+` while the sign of
                        :math:`g` is kept, shrunk by :math:`\eta_-` when it flips (then no move)
:func:`adam`            :math:`m_{k+1} = \beta_1 m_k + (1-\beta_1) g_k,\ v_{k+1} = \beta_2 v_k + (1-\beta_2) g_k^2,`
                        :math:`\hat m = m_{k+1}/(1-\beta_1^{k+1}),\ \hat v = v_{k+1}/(1-\beta_2^{k+1}),`
                        :math:`\theta_{k+1} = \theta_k - \alpha \hat m / (\sqrt{\hat v} + \varepsilon)`
:func:`adamw`           Adam plus decoupled decay: :math:`\theta_{k+1} = \theta_k - \alpha\,(\hat m / (\sqrt{\hat v} + \varepsilon) + \lambda \theta_k)`
:func:`nadam`           Adam with the look-ahead moment :math:`\hat m = \beta_1 m_{k+1}/(1-\beta_1^{k+2}) + (1-\beta_1) g_k/(1-\beta_1^{k+1})`
:func:`adamax`          :math:`u_{k+1} = \max(\beta_2 u_k, |g_k| + \varepsilon),\ \theta_{k+1} = \theta_k - \alpha \hat m / u_{k+1}`
:func:`adadelta`        :math:`\Delta_k = \sqrt{r_k + \varepsilon}\, g_k / \sqrt{s_{k+1} + \varepsilon},\ r_{k+1} = \rho r_k + (1-\rho)\Delta_k^2,`
                        :math:`\theta_{k+1} = \theta_k - \alpha \Delta_k` (:math:`\alpha = 1` in Zeiler's method)
:func:`ftrl`            FTRL-Proximal: :math:`z_{k+1} = z_k + g_k - \sigma_k\theta_k,\ n_{k+1} = n_k + g_k^2,` :math:`\theta_{k+1}` the
                        soft-thresholded :math:`-z_{k+1}/((\beta+\sqrt{n_{k+1}})/\alpha+\lambda_2)` (no optax twin)
:func:`with_l2`         any optimizer fed :math:`g_k + \lambda \theta_k` (L2 penalty :math:`\tfrac\lambda2\|\theta\|^2` in the loss)
:func:`chain`           transformations composed left to right, e.g. :func:`clip_by_global_norm` or
                        :func:`add_decayed_weights` before an optimizer (``optax.chain``)
======================  =============================================================================

Conventions (checked against optax 0.2.8 over 100 steps in ``tests/test_optimizers.py``):

* momentum is the *un-damped* sum :math:`v = \beta v + g` (``optax.sgd(momentum=...)``,
  PyTorch), not the average :math:`\beta v + (1-\beta) g`; the two differ by a
  factor :math:`1-\beta` in the step;
* Adagrad and RMSprop put :math:`\varepsilon` **inside** the square root
  (optax's default; PyTorch puts it outside, optax's ``eps_in_sqrt=False``);
  Adagrad's accumulator starts at ``initial_accumulator`` (0.1 in optax);
* Adam and AdamW put :math:`\varepsilon` **outside** the square root, after
  bias correction (``eps_root = 0``);
* AdamW multiplies the decay by the learning rate, :math:`\alpha\lambda\theta`
  (optax and PyTorch; Loshchilov and Hutter :cite:`loshchilov2019decoupled` use a separate schedule);
* optax 0.2.8's ``rprop`` returns each step one call late (its first update is
  zero); :func:`rprop` applies the step computed from the current gradient,
  with the same step sizes.

References: Polyak's heavy ball and Nesterov's method :cite:`polyak1964,nesterov1983`;
Adagrad :cite:`duchi2011adaptive`, RMSprop :cite:`tieleman2012rmsprop`,
Rprop :cite:`riedmiller1993rprop`, Adam :cite:`kingma2015adam`, AdamW
:cite:`loshchilov2019decoupled`, Nadam :cite:`dozat2016nadam`, Adadelta
:cite:`zeiler2012adadelta`, FTRL-Proximal :cite:`mcmahan2013ad`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases
from ._checks import finite_array, nonnegative, one_of, positive, positive_int
from .divergence import DEFAULT_RADIUS as _DEFAULT_RADIUS
from .divergence import check as _divergence_check

__all__ = [
    "Optimizer",
    "apply_updates",
    "chain",
    "add_decayed_weights",
    "clip_by_global_norm",
    "sgd",
    "heavy_ball",
    "nesterov",
    "adagrad",
    "rmsprop",
    "sign_descent",
    "rprop",
    "adam",
    "adamw",
    "nadam",
    "adamax",
    "adadelta",
    "ftrl",
    "FtrlState",
    "with_l2",
    "OPTIMIZERS",
    "amsgrad",
    "make",
    "Run",
    "run",
    "noisy_run",
    "rotated_quadratic",
    "quadratic_problem",
    "rotation",
    "heavy_ball_rate",
    "continuous_limit",
    "heavy_ball_optimal",
    "gd_optimal",
    "convergence_rate",
    "lbfgs",
    "LbfgsState",
    "lbfgs_run",
]

# renamed: landscapes.quadratic is the quadratic with a general matrix A
__getattr__ = deprecated_aliases(__name__, {"quadratic": ("rotated_quadratic", "0.2")})

PyTree = Any


class Optimizer(NamedTuple):
    """A pair of pure functions, as in optax.

    ``init(params) -> state``; ``update(grads, state, params) -> (updates, state)``
    with ``updates`` of the structure of ``params`` (already multiplied by
    minus the learning rate).
    """

    init: Callable[[PyTree], Any]
    update: Callable[[PyTree, Any, PyTree], tuple[PyTree, Any]]


def apply_updates(params: PyTree, updates: PyTree) -> PyTree:
    """``params + updates``, leaf by leaf."""
    return jax.tree.map(lambda p, u: p + u, params, updates)


def _zeros(params: PyTree) -> PyTree:
    return jax.tree.map(jnp.zeros_like, params)


def _range01(name: str, value: Any) -> Any:
    nonnegative(name, value)
    if not isinstance(value, jax.core.Tracer) and not float(value) < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value


def sgd(learning_rate: float) -> Optimizer:
    r"""Gradient descent :math:`\theta_{k+1} = \theta_k - \alpha g_k` (``optax.sgd(lr)``)."""
    positive("learning_rate", learning_rate)

    def init(params):
        return ()

    def update(grads, state, params=None):
        return jax.tree.map(lambda g: -learning_rate * g, grads), state

    return Optimizer(init, update)


def heavy_ball(learning_rate: float, beta: float = 0.9) -> Optimizer:
    r"""Polyak's heavy ball in its *velocity* form (``optax.sgd(lr, momentum=beta)``).

    :math:`v_{k+1} = \beta v_k + g_k`, :math:`\theta_{k+1} = \theta_k - \alpha v_{k+1}`, with
    :math:`v_0 = 0`.  Eliminating :math:`v` gives Polyak's form
    :math:`\theta_{k+1} = \theta_k - \alpha g_k + \beta(\theta_k - \theta_{k-1})`, and
    :math:`v_{k+1} = \sum_{i\le k} \beta^{k-i} g_i` is a discounted sum of past gradients.
    """
    positive("learning_rate", learning_rate)
    _range01("beta", beta)

    def init(params):
        return _zeros(params)

    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: beta * v + g, state, grads)
        return jax.tree.map(lambda v: -learning_rate * v, v), v

    return Optimizer(init, update)


def nesterov(learning_rate: float, beta: float = 0.9) -> Optimizer:
    r"""Nesterov's accelerated gradient, in the form of ``optax.sgd(lr, momentum=beta, nesterov=True)``.

    :math:`v_{k+1} = \beta v_k + g_k`, :math:`\theta_{k+1} = \theta_k - \alpha(g_k + \beta v_{k+1})`.
    With :math:`y_k = \theta_k - \alpha\beta v_k` this is the textbook form
    :math:`y_{k+1} = \theta_k - \alpha g_k`, :math:`\theta_{k+1} = y_{k+1} + \beta(y_{k+1} - y_k)`
    written with the gradient at the current iterate (Sutskever et al.'s reading).
    """
    positive("learning_rate", learning_rate)
    _range01("beta", beta)

    def init(params):
        return _zeros(params)

    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: beta * v + g, state, grads)
        return jax.tree.map(lambda g, v: -learning_rate * (g + beta * v), grads, v), v

    return Optimizer(init, update)


def adagrad(learning_rate: float, initial_accumulator: float = 0.1, eps: float = 1e-7) -> Optimizer:
    r"""Adagrad :cite:`duchi2011adaptive` (``optax.adagrad``; ε inside the root).

    :math:`s_{k+1} = s_k + g_k^2` from :math:`s_0 =` ``initial_accumulator``,
    :math:`\theta_{k+1} = \theta_k - \alpha\, g_k / \sqrt{s_{k+1} + \varepsilon}`.
    With gradients of constant mean square :math:`\sigma^2` the effective step
    :math:`\alpha/\sqrt{s_k}` decays like :math:`\alpha/(\sigma\sqrt{k})`.
    """
    positive("learning_rate", learning_rate)
    nonnegative("initial_accumulator", initial_accumulator)
    nonnegative("eps", eps)

    def init(params):
        return jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator), params)

    def update(grads, state, params=None):
        s = jax.tree.map(lambda s, g: s + g * g, state, grads)
        u = jax.tree.map(lambda g, s: jnp.where(s > 0, -learning_rate * g * jax.lax.rsqrt(s + eps), 0.0), grads, s)
        return u, s

    return Optimizer(init, update)


def rmsprop(learning_rate: float, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    r"""RMSprop :cite:`tieleman2012rmsprop` (``optax.rmsprop``; ε inside the root, :math:`s_0 = 0`).

    :math:`s_{k+1} = \rho s_k + (1-\rho) g_k^2`,
    :math:`\theta_{k+1} = \theta_k - \alpha\, g_k / \sqrt{s_{k+1} + \varepsilon}`.
    The average forgets old gradients, so the effective step tends to
    :math:`\alpha/\sigma` instead of vanishing.
    """
    positive("learning_rate", learning_rate)
    _range01("decay", decay)
    nonnegative("eps", eps)

    def init(params):
        return _zeros(params)

    def update(grads, state, params=None):
        s = jax.tree.map(lambda s, g: decay * s + (1 - decay) * g * g, state, grads)
        u = jax.tree.map(lambda g, s: -learning_rate * g * jax.lax.rsqrt(s + eps), grads, s)
        return u, s

    return Optimizer(init, update)


def sign_descent(learning_rate: float) -> Optimizer:
    r"""Sign descent :math:`\theta_{k+1} = \theta_k - \alpha\operatorname{sign}(g_k)`
    (``optax.chain(optax.scale_by_sign(), optax.scale(-lr))``): RMSprop with
    :math:`\rho = 0`, :math:`\varepsilon = 0`."""
    positive("learning_rate", learning_rate)

    def init(params):
        return ()

    def update(grads, state, params=None):
        return jax.tree.map(lambda g: -learning_rate * jnp.sign(g), grads), state

    return Optimizer(init, update)


class RpropState(NamedTuple):
    step_sizes: PyTree
    prev: PyTree  # previous signed step (0 after a sign change)


def rprop(learning_rate: float, eta_minus: float = 0.5, eta_plus: float = 1.2,
          min_step: float = 1e-6, max_step: float = 50.0) -> Optimizer:
    r"""Rprop :cite:`riedmiller1993rprop` (the iRprop\ :sup:`-` variant of ``optax.rprop``).

    Each coordinate has its own step :math:`\alpha_{k,i}` (all start at
    ``learning_rate``).  If :math:`g_{k,i}` has the sign of the previous step
    it grows, :math:`\alpha_{k+1,i} = \min(\eta_+\alpha_{k,i}, \alpha_{\max})`, and
    the coordinate moves by :math:`-\alpha_{k+1,i}\operatorname{sign}(g_{k,i})`; if the
    sign flipped, :math:`\alpha_{k+1,i} = \max(\eta_-\alpha_{k,i}, \alpha_{\min})` and
    the coordinate does not move (the next comparison then counts as "same sign").
    Only signs of gradients are used.  Same step sizes as optax 0.2.8, whose
    ``rprop`` applies each step one call later (see the module docstring).
    """
    positive("learning_rate", learning_rate)
    positive("eta_minus", eta_minus)
    positive("eta_plus", eta_plus)
    positive("min_step", min_step)
    positive("max_step", max_step)

    def init(params):
        return RpropState(jax.tree.map(lambda p: jnp.full_like(p, learning_rate), params), _zeros(params))

    def update(grads, state, params=None):
        prod = jax.tree.map(lambda g, p: g * p, grads, state.prev)
        steps = jax.tree.map(
            lambda s, a: jnp.where(s == 0, a, jnp.clip(a * jnp.where(s > 0, eta_plus, eta_minus), min_step, max_step)),
            prod, state.step_sizes)
        new_prev = jax.tree.map(lambda s, g, a: jnp.where(s < 0, 0.0, a * jnp.sign(g)), prod, grads, steps)
        return jax.tree.map(lambda p: -p, new_prev), RpropState(steps, new_prev)

    return Optimizer(init, update)


class AdamState(NamedTuple):
    count: jax.Array
    m: PyTree
    v: PyTree


def _check_adam(learning_rate, b1, b2, eps, *, eps_positive=False):
    """The hyper-parameter checks shared by the Adam family."""
    positive("learning_rate", learning_rate)
    _range01("b1", b1)
    _range01("b2", b2)
    (positive if eps_positive else nonnegative)("eps", eps)


def _ema(decay, avg, x):
    """:math:`\beta a + (1-\beta) x`, leaf by leaf (Adam's moment averages)."""
    return jax.tree.map(lambda a, x: decay * a + (1 - decay) * x, avg, x)


def _moments(grads, state, b1, b2):
    """Adam's step count and moment averages after one more gradient: ``(count, m, v)``."""
    return state.count + 1, _ema(b1, state.m, grads), _ema(b2, state.v, jax.tree.map(jnp.square, grads))


def _adam_direction(grads, state, b1, b2, eps, bias_correction):
    count, m, v = _moments(grads, state, b1, b2)
    if bias_correction:
        c1, c2 = 1 - b1 ** count, 1 - b2 ** count
    else:
        c1 = c2 = 1.0
    d = jax.tree.map(lambda m, v: (m / c1) / (jnp.sqrt(v / c2) + eps), m, v)
    return d, AdamState(count, m, v)


def adam(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
         bias_correction: bool = True) -> Optimizer:
    r"""Adam :cite:`kingma2015adam` (``optax.adam``; ε outside the root, after bias correction).

    :math:`m_{k+1} = \beta_1 m_k + (1-\beta_1) g_k`,
    :math:`v_{k+1} = \beta_2 v_k + (1-\beta_2) g_k^2` (from :math:`m_0 = v_0 = 0`),
    :math:`\hat m = m_{k+1}/(1-\beta_1^{k+1})`, :math:`\hat v = v_{k+1}/(1-\beta_2^{k+1})`,
    :math:`\theta_{k+1} = \theta_k - \alpha\,\hat m/(\sqrt{\hat v} + \varepsilon)`.
    ``bias_correction=False`` drops the two divisions: the first step is then
    multiplied by :math:`(1-\beta_1)/\sqrt{1-\beta_2}` (≈ 3.2 for the defaults, too large).
    """
    _check_adam(learning_rate, b1, b2, eps)

    def init(params):
        return AdamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        d, state = _adam_direction(grads, state, b1, b2, eps, bias_correction)
        return jax.tree.map(lambda d: -learning_rate * d, d), state

    return Optimizer(init, update)


def adamw(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 1e-4) -> Optimizer:
    r"""AdamW :cite:`loshchilov2019decoupled` (``optax.adamw``): Adam plus *decoupled* weight decay.

    :math:`\theta_{k+1} = \theta_k - \alpha\,(\hat m/(\sqrt{\hat v}+\varepsilon) + \lambda\theta_k)`:
    the decay :math:`\lambda\theta_k` is added after the preconditioning, so it
    is *not* divided by :math:`\sqrt{\hat v}` -- unlike ``with_l2(adam(...), λ)``.
    """
    _check_adam(learning_rate, b1, b2, eps)
    nonnegative("weight_decay", weight_decay)

    def init(params):
        return AdamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params))

    def update(grads, state, params):
        d, state = _adam_direction(grads, state, b1, b2, eps, True)
        return jax.tree.map(lambda d, p: -learning_rate * (d + weight_decay * p), d, params), state

    return Optimizer(init, update)


def nadam(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    r"""Nadam :cite:`dozat2016nadam` (``optax.nadam``): Adam with a Nesterov look-ahead on the first moment.

    Moments as in :func:`adam`; the first moment is replaced by the one the
    *next* step would use, :math:`\hat m = \beta_1 m_{k+1}/(1-\beta_1^{k+2}) + (1-\beta_1) g_k/(1-\beta_1^{k+1})`,
    and :math:`\theta_{k+1} = \theta_k - \alpha\,\hat m/(\sqrt{\hat v} + \varepsilon)`
    with :math:`\hat v = v_{k+1}/(1-\beta_2^{k+1})`.
    """
    _check_adam(learning_rate, b1, b2, eps)

    def init(params):
        return AdamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        count, m, v = _moments(grads, state, b1, b2)
        m_hat = jax.tree.map(lambda m, g: b1 * m / (1 - b1 ** (count + 1)) + (1 - b1) * g / (1 - b1**count), m, grads)
        u = jax.tree.map(lambda mh, v: -learning_rate * mh / (jnp.sqrt(v / (1 - b2**count)) + eps), m_hat, v)
        return u, AdamState(count, m, v)

    return Optimizer(init, update)


def adamax(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    r"""Adamax :cite:`kingma2015adam` (``optax.adamax``): Adam with the :math:`\ell_\infty` norm in place of the :math:`\ell_2`.

    :math:`m_{k+1} = \beta_1 m_k + (1-\beta_1) g_k`, :math:`u_{k+1} = \max(\beta_2 u_k, |g_k| + \varepsilon)`
    (from :math:`m_0=u_0=0`), :math:`\theta_{k+1} = \theta_k - \alpha\,\frac{m_{k+1}}{1-\beta_1^{k+1}}/u_{k+1}`;
    :math:`u` needs no bias correction (section 7 of Kingma and Ba).
    """
    _check_adam(learning_rate, b1, b2, eps, eps_positive=True)

    def init(params):
        return AdamState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        count, m = state.count + 1, _ema(b1, state.m, grads)
        u = jax.tree.map(lambda u, g: jnp.maximum(b2 * u, jnp.abs(g) + eps), state.v, grads)
        upd = jax.tree.map(lambda m, u: -learning_rate * (m / (1 - b1**count)) / u, m, u)
        return upd, AdamState(count, m, u)

    return Optimizer(init, update)


class AdadeltaState(NamedTuple):
    sq_grads: PyTree
    sq_updates: PyTree


def adadelta(learning_rate: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> Optimizer:
    r"""Adadelta :cite:`zeiler2012adadelta` (``optax.adadelta``): steps in the units of the parameters.

    :math:`s_{k+1} = \rho s_k + (1-\rho) g_k^2`,
    :math:`\Delta_k = \frac{\sqrt{r_k+\varepsilon}}{\sqrt{s_{k+1}+\varepsilon}}\,g_k`,
    :math:`r_{k+1} = \rho r_k + (1-\rho)\Delta_k^2` (from :math:`s_0=r_0=0`),
    :math:`\theta_{k+1} = \theta_k - \alpha\Delta_k`.  Zeiler's method has
    :math:`\alpha = 1`: the ratio of two root-mean-squares gives the step its
    units, so no learning rate is needed.
    """
    positive("learning_rate", learning_rate)
    _range01("rho", rho)
    positive("eps", eps)

    def init(params):
        return AdadeltaState(_zeros(params), _zeros(params))

    def update(grads, state, params=None):
        s = jax.tree.map(lambda s, g: (1 - rho) * g**2 + rho * s, state.sq_grads, grads)   # optax's order of operations
        delta = jax.tree.map(lambda r, s, g: jnp.sqrt(r + eps) / jnp.sqrt(s + eps) * g, state.sq_updates, s, grads)
        r = jax.tree.map(lambda r, d: (1 - rho) * d**2 + rho * r, state.sq_updates, delta)
        return jax.tree.map(lambda d: -learning_rate * d, delta), AdadeltaState(s, r)

    return Optimizer(init, update)


class FtrlState(NamedTuple):
    z: PyTree
    n: PyTree


def ftrl(learning_rate: float, beta: float = 1.0, l1: float = 0.0, l2: float = 0.0) -> Optimizer:
    r"""FTRL-Proximal :cite:`mcmahan2013ad` (Algorithm 1), per coordinate; optax has no twin.

    With :math:`n_0=z_0=0` and :math:`\sigma_k = (\sqrt{n_k+g_k^2}-\sqrt{n_k})/\alpha`:
    :math:`z_{k+1} = z_k + g_k - \sigma_k\theta_k`, :math:`n_{k+1} = n_k + g_k^2`, and
    :math:`\theta_{k+1} = 0` if :math:`|z_{k+1}|\le\lambda_1`, else
    :math:`\theta_{k+1} = -(z_{k+1}-\lambda_1\operatorname{sign}z_{k+1})/((\beta+\sqrt{n_{k+1}})/\alpha+\lambda_2)`.
    It is the closed form of "follow the regularised leader": :math:`\theta_{k+1}`
    minimises the linearised past losses :math:`\sum_{j\le k} g_j\theta` plus proximal
    terms centred at past iterates and :math:`\lambda_1\|\theta\|_1+\frac{\lambda_2}2\|\theta\|^2`;
    the :math:`\ell_1` term makes exact zeros.  The update returned is
    :math:`\theta_{k+1}-\theta_k` (it needs ``params``).
    """
    positive("learning_rate", learning_rate)
    nonnegative("beta", beta)
    nonnegative("l1", l1)
    nonnegative("l2", l2)

    def init(params):
        return FtrlState(_zeros(params), _zeros(params))

    def update(grads, state, params):
        if params is None:
            raise ValueError("ftrl's update needs params (the current iterate)")
        sigma = jax.tree.map(lambda n, g: (jnp.sqrt(n + g * g) - jnp.sqrt(n)) / learning_rate, state.n, grads)
        z = jax.tree.map(lambda z, g, s, p: z + g - s * p, state.z, grads, sigma, params)
        n = jax.tree.map(lambda n, g: n + g * g, state.n, grads)
        new = jax.tree.map(
            lambda z, n: jnp.where(jnp.abs(z) <= l1, 0.0,
                                   -(z - l1 * jnp.sign(z)) / ((beta + jnp.sqrt(n)) / learning_rate + l2)), z, n)
        return jax.tree.map(lambda w, p: w - p, new, params), FtrlState(z, n)

    return Optimizer(init, update)


def chain(*transforms: Optimizer) -> Optimizer:
    r"""The composition of gradient transformations, applied left to right (``optax.chain``).

    ``chain(t_1, ..., t_m).update(g, state, params)`` feeds :math:`g` to :math:`t_1`, its output to
    :math:`t_2`, and so on; the state is the tuple of the :math:`m` states.  The last transformation
    is usually an optimizer (which multiplies by :math:`-\alpha`); the ones before it transform the
    gradient, e.g. ``chain(clip_by_global_norm(1.0), add_decayed_weights(1e-4), adam(1e-3))``.
    """
    if not transforms:
        raise ValueError("chain needs at least one transformation in transforms, got none")
    for i, t in enumerate(transforms):
        if not isinstance(t, Optimizer):
            raise ValueError(f"transforms[{i}] must be an Optimizer (init, update), got {type(t).__name__}")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        new_state = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return Optimizer(init, update)


def add_decayed_weights(weight_decay: float) -> Optimizer:
    r"""The gradient transformation :math:`g \mapsto g + \lambda\theta` (``optax.add_decayed_weights``).

    Placed *before* an optimizer in :func:`chain`, it adds the gradient of the
    penalty :math:`\tfrac\lambda2\|\theta\|^2` (L2 regularisation, preconditioned with the
    gradient by adaptive methods); placed *after* a plain scaling it is weight decay.
    """
    nonnegative("weight_decay", weight_decay)

    def update(grads, state, params):
        if params is None:
            raise ValueError("add_decayed_weights needs params in update(grads, state, params)")
        return jax.tree.map(lambda g, p: g + weight_decay * p, grads, params), state

    return Optimizer(lambda params: (), update)


def clip_by_global_norm(max_norm: float) -> Optimizer:
    r"""The gradient transformation :math:`g \mapsto g\,\min(1, c/\|g\|)` with :math:`\|g\|` the norm of all leaves together
    (``optax.clip_by_global_norm``): gradient clipping, used before an optimizer in :func:`chain`."""
    positive("max_norm", max_norm)

    def update(grads, state, params=None):
        norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads)))
        scale = jnp.where(norm < max_norm, 1.0, max_norm / jnp.where(norm == 0, 1.0, norm))
        return jax.tree.map(lambda g: g * scale, grads), state

    return Optimizer(lambda params: (), update)


def with_l2(optimizer: Optimizer, l2: float) -> Optimizer:
    r"""Feed ``optimizer`` the gradient of :math:`J(\theta) + \tfrac{\lambda}{2}\|\theta\|^2`, i.e. :math:`g_k + \lambda\theta_k`:
    ``chain(add_decayed_weights(l2), optimizer)`` (optax's spelling too).

    For :func:`sgd` this equals decoupled weight decay with rate
    :math:`\alpha\lambda`; for adaptive methods the penalty's gradient is
    preconditioned too, and the two differ.
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
    return chain(add_decayed_weights(l2), optimizer)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "heavy_ball": heavy_ball,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "sign_descent": sign_descent,
    "rprop": rprop,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "adamax": adamax,
    "adadelta": adadelta,
}
"""The optimizers by name, in the order of the chapter (used by :func:`make` and the widget)."""


def make(name: str, learning_rate: float, **hyper: Any) -> Optimizer:
    """The optimizer ``OPTIMIZERS[name](learning_rate, **hyper)``; ``name`` is checked."""
    one_of("name", name, tuple(OPTIMIZERS))
    return OPTIMIZERS[name](learning_rate, **hyper)


class Run(NamedTuple):
    """Iterates ``params`` (leaves of shape ``(n_steps+1, ...)``), ``losses`` ``(n_steps+1,)``
    and ``diverged`` (True if a loss became NaN or infinite; iterates after that are frozen)."""

    params: PyTree
    losses: jax.Array
    diverged: jax.Array


def _float_defaults(name: str) -> dict[str, float]:
    """The float hyper-parameters of ``OPTIMIZERS[name]`` (all but ``learning_rate``) and their defaults."""
    import inspect

    return {k: float(p.default) for k, p in inspect.signature(OPTIMIZERS[name]).parameters.items()
            if k != "learning_rate" and isinstance(p.default, float)}


_HYPER_DEFAULTS = {n: _float_defaults(n) for n in OPTIMIZERS}
_NAMES = tuple(OPTIMIZERS)


def _all_hypers(name: str, learning_rate: Any, hyper: dict, dtype: Any) -> dict:
    """Check ``OPTIMIZERS[name](learning_rate, **hyper)`` on concrete values (a ``ValueError`` naming a bad or
    unknown hyper-parameter), then return the hyper-parameters of *every* optimizer of :data:`OPTIMIZERS`
    (defaults, with ``hyper`` for ``name``) as arrays of ``dtype``: one pytree structure whatever ``name``."""
    unknown = sorted(set(hyper) - set(_HYPER_DEFAULTS[name]))
    if unknown:
        raise ValueError(f"hyper must hold hyper-parameters of {name} ({', '.join(_HYPER_DEFAULTS[name]) or 'none'}), "
                         f"got {', '.join(unknown)}")
    if not any(isinstance(v, jax.core.Tracer) for v in (learning_rate, *hyper.values())):
        OPTIMIZERS[name](learning_rate, **hyper)          # the factory's own checks, on concrete values
    f = lambda v: jnp.asarray(v, dtype)
    return {n: {k: f(hyper.get(k, v) if n == name else v) for k, v in d.items()} for n, d in _HYPER_DEFAULTS.items()}


def _switch(index: Any, learning_rate: Any, hypers: dict) -> Optimizer:
    r"""Every optimizer of :data:`OPTIMIZERS` in one: ``index`` (an integer, may be traced) picks which one updates.

    ``hypers`` maps each name to its hyper-parameters (from :func:`_all_hypers`).  The state is the tuple of the
    states of all the optimizers; ``update`` runs ``jax.lax.switch(index, ...)``, so only the chosen optimizer's
    arithmetic is executed and only its state changes.  Its iterates are those of ``OPTIMIZERS[names[index]]``;
    the point is compilation: one program serves every optimizer (the choice is data, not code).
    """
    from jax.flatten_util import ravel_pytree

    opts = [OPTIMIZERS[n](learning_rate, **hypers[n]) for n in _NAMES]

    def init(params):
        flat, _ = ravel_pytree(params)
        return tuple(o.init(flat) for o in opts)

    def branch(i):
        def f(grads, state, params):
            u, s = opts[i].update(grads, state[i], params)
            return u, state[:i] + (s,) + state[i + 1:]
        return f

    def update(grads, state, params=None):
        # on one flat vector (every optimizer here acts coordinatewise): few, large kernels per branch
        g, unravel = ravel_pytree(grads)
        p = g if params is None else ravel_pytree(params)[0]
        u, state = jax.lax.switch(index, [branch(i) for i in range(len(opts))], g, state, p)
        return unravel(u), state

    return Optimizer(init, update)


@functools.partial(jax.jit, static_argnames=("loss", "n_steps"))
def _run(index, loss, params0, n_steps, learning_rate, hypers, l2_grad, l2_decay, args):
    # the optimizer (an index into OPTIMIZERS) and both penalties are traced, so every optimizer, L2 and decay
    # share one compiled program per (loss, n_steps, shapes)
    opt = with_l2(_switch(index, learning_rate, hypers), l2_grad)
    vg = jax.value_and_grad(lambda p: loss(p, *args))

    def step(carry, _):
        params, state, bad = carry
        value, grads = vg(params)
        updates, new_state = opt.update(grads, state, params)
        new_params = jax.tree.map(lambda p, u: p + u - learning_rate * l2_decay * p, params, updates)
        leaves = jax.tree.leaves(new_params)
        bad = bad | ~jnp.isfinite(value) | ~jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in leaves]))
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(bad, b, a), new, old)
        return (keep(new_params, params), keep(new_state, state), bad), (keep(new_params, params), value)

    (last, _, bad), (ps, vals) = jax.lax.scan(step, (params0, opt.init(params0), jnp.array(False)), None, length=n_steps)
    params = jax.tree.map(lambda p0, p: jnp.concatenate([p0[None], p]), params0, ps)
    final = loss(last, *args)
    losses = jnp.concatenate([vals, final[None]])
    losses = jnp.where(jnp.cumsum(~jnp.isfinite(losses)) > 0, jnp.inf, losses)
    return Run(params, losses, bad | ~jnp.isfinite(final))


def run(name: str, loss: Callable[..., jax.Array], params0: PyTree, n_steps: int, *,
        learning_rate: float, l2: float = 0.0, l2_mode: str = "none", args: tuple = (), **hyper: Any) -> Run:
    r"""Run optimizer ``name`` for ``n_steps`` deterministic steps on ``loss(params, *args)`` from ``params0``.

    Compiled once per ``(loss, n_steps)`` and shapes, for *all* the optimizers together: the choice of
    optimizer (an index into :data:`OPTIMIZERS`, dispatched by ``jax.lax.switch``), ``learning_rate``, ``l2``,
    the values in ``hyper`` (float hyper-parameters of ``name``, e.g. ``beta=0.9``; the others keep their
    defaults) and the arrays in ``args`` (e.g. the curvatures and angle of :func:`rotated_quadratic`) are
    traced, so changing them (a slider, another optimizer, another problem of the same family) does not
    recompile.  ``l2_mode`` is ``"none"``,
    ``"l2"`` (add :math:`\tfrac{l_2}2\|\theta\|^2` to the loss, see :func:`with_l2`) or
    ``"decay"`` (after each step, :math:`\theta \leftarrow \theta - \alpha\, l_2\, \theta_k`:
    decoupled weight decay for any optimizer).  Returns a :class:`Run`; a run
    whose loss overflows has ``diverged = True`` and ``losses = inf`` from there on.
    """
    one_of("name", name, tuple(OPTIMIZERS))
    one_of("l2_mode", l2_mode, ("none", "l2", "decay"))
    n_steps = positive_int("n_steps", n_steps)
    positive("learning_rate", learning_rate)
    nonnegative("l2", l2)
    if not callable(loss):
        raise ValueError(f"loss must be a callable params -> scalar, got {type(loss).__name__}")
    params0 = jax.tree.map(lambda p: finite_array("params0", p), params0)
    dtype = jnp.result_type(float)
    hypers = _all_hypers(name, learning_rate, hyper, dtype)
    args = tuple(jnp.asarray(a, dtype=dtype) for a in args)
    f = lambda v: jnp.asarray(v, dtype)
    l2_grad, l2_decay = (l2, 0.0) if l2_mode == "l2" else ((0.0, l2) if l2_mode == "decay" else (0.0, 0.0))
    return _run(jnp.asarray(_NAMES.index(name), jnp.int32), loss, params0, n_steps, f(learning_rate), hypers,
                f(l2_grad), f(l2_decay), args)


def rotated_quadratic(theta: jax.Array, weights: jax.Array, angle: Any = 0.0, center: Any = 0.0) -> jax.Array:
    r""":math:`J(\theta) = \tfrac12\sum_i w_i \bigl(R(\theta - c)\bigr)_i^2`, :math:`R` = :func:`rotation` (``angle``).

    A diagonal quadratic turned by a rotation, parametrised for sliders; the general
    :math:`\frac12 (x-c)^\top A (x-c)` is :func:`course_lib.landscapes.quadratic`.

    Pure and traceable in every argument (pass ``(weights, angle, center)`` as
    ``args`` of :func:`run` to change the problem without recompiling).
    ``theta`` is ``(..., d)``, ``d >= 2``, ``weights`` and ``center`` are ``(d,)`` (``center`` may be
    a scalar); returns ``(...)``.
    """
    R = rotation(angle, theta.shape[-1])
    z = (theta - center) @ R.T
    return 0.5 * jnp.sum(weights * z * z, axis=-1)


def quadratic_problem(weights: Any, angle: float = 0.0, center: Any = None) -> Callable[[jax.Array], jax.Array]:
    r"""The quadratic :math:`J(\theta) = \tfrac12\sum_i w_i \bigl(R(\theta - c)\bigr)_i^2` on :math:`\mathbb{R}^d`, :math:`d \ge 2`.

    ``weights`` ``(d,)`` are the curvatures :math:`w_i > 0` (condition number
    :math:`\max w/\min w`); ``angle`` rotates the first two coordinates by
    :math:`R` = :func:`rotation` (``angle``), so the Hessian is :math:`R^\top \operatorname{diag}(w) R`;
    ``center`` ``(d,)`` is the minimiser :math:`c` (default 0).
    Returns ``J`` mapping ``(d,)`` to a scalar.
    """
    w = finite_array("weights", weights, ndim=1)
    _checks.real("angle", angle)
    if not bool(jnp.all(w > 0)):
        raise ValueError("weights must be positive curvatures")
    R = rotation(angle, w.shape[0])
    c = jnp.zeros_like(w) if center is None else finite_array("center", center, ndim=1, last=w.shape[0])

    def J(theta):
        z = R @ (theta - c)
        return 0.5 * jnp.sum(w * z * z)

    return J


def rotation(angle: float, d: int = 2) -> jax.Array:
    """The ``(d, d)`` rotation by ``angle`` (radians) in the plane of the first two coordinates."""
    d = positive_int("d", d)
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    _checks.real("angle", angle)
    angle = jnp.asarray(angle, jnp.result_type(float))
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.eye(d).at[:2, :2].set(jnp.array([[c, -s], [s, c]]))


def gd_optimal(mu: float, L: float) -> tuple[float, float]:
    r"""Best constant step of gradient descent on a quadratic with Hessian spectrum in :math:`[\mu, L]`:
    :math:`\alpha^\star = 2/(L+\mu)`, rate :math:`(\kappa-1)/(\kappa+1)`, :math:`\kappa = L/\mu`."""
    positive("mu", mu)
    positive("L", L)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    k = L / mu
    return 2.0 / (L + mu), (k - 1) / (k + 1)


def heavy_ball_optimal(mu: float, L: float) -> tuple[float, float, float]:
    r"""Polyak's tuning of the heavy ball on a quadratic with Hessian spectrum in :math:`[\mu, L]` :cite:`polyak1964`.

    Returns ``(learning_rate, beta, rate)`` with :math:`\alpha^\star = 4/(\sqrt L+\sqrt\mu)^2`,
    :math:`\beta^\star = \bigl((\sqrt\kappa-1)/(\sqrt\kappa+1)\bigr)^2` and the
    asymptotic rate :math:`\sqrt{\beta^\star} = (\sqrt\kappa-1)/(\sqrt\kappa+1)`
    per step (error :math:`\approx C\,\text{rate}^k`).  ``learning_rate`` is the
    step of :func:`heavy_ball` (velocity form), whose Polyak form has the same :math:`\alpha, \beta`.
    """
    positive("mu", mu)
    positive("L", L)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    sk = (L / mu) ** 0.5
    q = (sk - 1) / (sk + 1)
    return 4.0 / (L ** 0.5 + mu ** 0.5) ** 2, q * q, q


def convergence_rate(errors: Any, start: int | None = None) -> float:
    r"""Measured linear rate: the geometric mean of :math:`e_{k+1}/e_k` over the second half
    (or from ``start``) of a positive sequence ``errors`` ``(n,)`` -- :math:`(e_{n-1}/e_s)^{1/(n-1-s)}`.
    Entries at or below 1e-30 (underflow) are dropped from the end first."""
    e = np.asarray(finite_array("errors", errors), dtype=np.float32)   # reductions in NumPy: eager jnp compiles XLA kernels for every new length
    if e.ndim != 1 or e.shape[0] < 3:
        raise ValueError(f"errors must be a 1-D array of length >= 3, got shape {tuple(e.shape)}")
    good = int(np.sum(np.cumprod(e > 1e-30)))
    if good < 3:
        raise ValueError("errors must be positive for at least 3 entries")
    e = e[:good]
    s = good // 2 if start is None else int(start)
    if not 0 <= s < good - 1:
        raise ValueError(f"start must lie in [0, {good - 1}), got {start!r}")
    return float((e[-1] / e[s]) ** (1.0 / (good - 1 - s)))


def heavy_ball_rate(learning_rate: float, beta: float, eigenvalues: Any) -> float:
    r"""Predicted linear rate of the heavy ball on a quadratic with Hessian eigenvalues ``eigenvalues`` ``(m,)``.

    On the eigendirection of :math:`\lambda` the Polyak form
    :math:`e_{k+1} = (1+\beta-\alpha\lambda)e_k - \beta e_{k-1}` has the companion matrix
    :math:`\begin{pmatrix}1+\beta-\alpha\lambda & -\beta\\ 1 & 0\end{pmatrix}`; the rate is the
    largest spectral radius over the eigenvalues (:math:`\beta = 0`: gradient descent,
    :math:`\max|1-\alpha\lambda|`).
    """
    positive("learning_rate", learning_rate)
    _range01("beta", beta)
    lam = np.asarray(finite_array("eigenvalues", eigenvalues, ndim=1))   # NumPy below: no XLA compilation per call
    a = np.float32(1.0 + beta - learning_rate * lam)
    disc = (a * a - 4.0 * beta).astype(np.complex64)
    r = np.maximum(np.abs((a + np.sqrt(disc)) / 2), np.abs((a - np.sqrt(disc)) / 2))
    return float(np.max(r))


@functools.partial(jax.jit, static_argnames=("loss", "n_steps"))
def _noisy(index, loss, params0, key, sigma, n_steps, learning_rate, hypers, args):
    opt = _switch(index, learning_rate, hypers)       # the optimizer is data: one program for all of them
    g_fn = jax.grad(lambda p: loss(p, *args))

    def step(carry, k):
        p, s = carry
        g = g_fn(p) + sigma * jax.random.normal(k, p.shape)
        u, s = opt.update(g, s, p)
        return (p + u, s), (p + u, u, g)

    _, (ps, us, gs) = jax.lax.scan(step, (params0, opt.init(params0)), jax.random.split(key, n_steps))
    return jnp.concatenate([params0[None], ps]), us, gs


def noisy_run(name: str, loss: Callable[[jax.Array], jax.Array], params0: Any, key: jax.Array, *, sigma: float,
              n_steps: int, learning_rate: float, args: tuple = (), **hyper: Any) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Run optimizer ``name`` with stochastic gradients :math:`\nabla J(\theta_k) + \sigma\xi_k`, :math:`\xi_k\sim\mathcal N(0, I)`,
    where :math:`J` = ``loss(params, *args)``.

    ``params0`` is one array ``(d,)``.  Returns ``(params, updates, grads)`` of
    shapes ``(n_steps+1, d)``, ``(n_steps, d)``, ``(n_steps, d)``; for a
    diagonal preconditioner the effective step of coordinate :math:`i` is
    ``-updates / grads``.  The optimizer (dispatched by ``jax.lax.switch``), ``sigma``, ``learning_rate``,
    ``hyper`` and ``args`` are traced: compiled once per ``(loss, n_steps)`` and shapes.
    """
    _checks.prng_key("key", key, batched=True)
    _checks.is_callable("loss", loss)
    one_of("name", name, tuple(OPTIMIZERS))
    n_steps = positive_int("n_steps", n_steps)
    nonnegative("sigma", sigma)
    positive("learning_rate", learning_rate)
    p0 = finite_array("params0", params0, ndim=1)
    dtype = jnp.result_type(float)
    f = lambda v: jnp.asarray(v, dtype)
    out = _noisy(jnp.asarray(_NAMES.index(name), jnp.int32), loss, p0, key, f(sigma), n_steps, f(learning_rate),
                 _all_hypers(name, learning_rate, hyper, dtype), tuple(f(a) for a in args))
    if not np.isfinite(np.asarray(out[0])).all():   # on the host: no XLA compilation per shape
        raise _DivergenceError("the run diverged (non-finite iterates); lower learning_rate")
    return out


def continuous_limit(method: str, h: float, T: float, *, delta: float = 1.0, lam: float = 1.0,
                     x0: float = 1.0, max_steps: int = 10**6) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Discrete iterates against their ODE on :math:`f(x) = \lambda x^2/2`, at times :math:`t_k = k h \le T`.

    ``method="gd"``: gradient descent with step :math:`\alpha = h` versus the gradient flow
    :math:`\dot x + \nabla f(x) = 0`, :math:`x(t) = x_0 e^{-\lambda t}`.
    ``method="heavy_ball"``: Polyak's form with :math:`\alpha = h^2`, :math:`\beta = 1 - \delta h`
    (from rest, :math:`x_{-1} = x_0`), versus :math:`\ddot x + \delta\dot x + \nabla f(x) = 0`,
    :math:`\dot x(0) = 0` (needs :math:`\delta^2 < 4\lambda`): divide the Polyak form by :math:`h^2`
    to see the finite differences of :math:`\ddot x` and :math:`\dot x`.
    Returns ``(t, iterates, ode)``, each ``(K+1,)``.  A run of more than ``max_steps`` steps
    (:math:`K = T/h`) is refused up front (raise ``max_steps`` to ask for it); iterates that
    blow up raise :class:`~course_lib.divergence.DivergenceError` (reduce ``h``).
    """
    one_of("method", method, ("gd", "heavy_ball"))
    positive("h", h)
    positive("T", T)
    positive("lam", lam)
    positive("delta", delta)
    _checks.real("x0", x0)
    max_steps = _checks.positive_int("max_steps", max_steps)
    if float(T) / float(h) > max_steps:
        raise ValueError(f"h={h} and T={T} mean T/h = {float(T) / float(h):.3g} steps, more than max_steps="
                         f"{max_steps}; use a larger h or a smaller T, or pass max_steps={float(T) / float(h):.3g} "
                         "to run it anyway")
    K = int(T / h)
    if K < 1:
        raise ValueError(f"h must be <= T, got h={h}, T={T}")
    t = jnp.asarray(np.arange(K + 1) * h)
    if method == "gd":
        k = np.arange(K + 1)
        xs = _divergence_check(x0 * (1.0 - h * lam) ** k, "continuous_limit (h * lam > 2: reduce h)",
                               _DEFAULT_RADIUS * max(1.0, abs(float(x0))))
        return t, jnp.asarray(xs), jnp.asarray(x0 * np.exp(-lam * k * h))
    positive("delta", delta)
    if not delta**2 < 4 * lam:
        raise ValueError(f"delta must satisfy delta^2 < 4 lam (under-damped), got delta={delta}, lam={lam}")
    alpha, beta = h * h, 1.0 - delta * h
    xs = np.empty(K + 1)
    xs[0] = x_prev = x0
    for k in range(K):  # a scalar recursion: NumPy is faster than compiling a scan per h
        xs[k + 1] = xs[k] - alpha * lam * xs[k] + beta * (xs[k] - x_prev)
        x_prev = xs[k]
    _divergence_check(xs, "continuous_limit (reduce h)", _DEFAULT_RADIUS * max(1.0, abs(float(x0))))
    w = (lam - delta**2 / 4) ** 0.5
    tn = np.asarray(t)
    ode = x0 * np.exp(-delta * tn / 2) * (np.cos(w * tn) + delta / (2 * w) * np.sin(w * tn))
    return t, jnp.asarray(xs), jnp.asarray(ode)


class AmsgradState(NamedTuple):
    count: jax.Array
    m: PyTree
    v: PyTree
    v_max: PyTree


def amsgrad(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
            bias_correction: bool = True) -> Optimizer:
    r"""AMSGrad :cite:`reddi2018convergence` (``optax.amsgrad``): Adam whose denominator never decreases.

    With Adam's averages :math:`m_{k+1}, v_{k+1}` (see :func:`adam`) and their bias-corrected
    :math:`\hat m, \hat v`, keep the running maximum :math:`\hat v^{\max}_{k+1} = \max(\hat v^{\max}_k, \hat v)`
    (from :math:`\hat v^{\max}_0 = 0`) and step
    :math:`\theta_{k+1} = \theta_k - \alpha\,\hat m/(\sqrt{\hat v^{\max}_{k+1}} + \varepsilon)`.
    The effective step :math:`\alpha/\sqrt{\hat v^{\max}}` of every coordinate is then non-increasing,
    which is what Reddi, Kale and Kumar's convergence proof needs and Adam lacks.
    ``bias_correction=False`` is the paper's form (maximum of the raw :math:`v`, no division of :math:`m`).
    Not in :data:`OPTIMIZERS` (added after the optimizers chapter; build it directly).
    """
    _check_adam(learning_rate, b1, b2, eps)

    def init(params):
        return AmsgradState(jnp.zeros((), jnp.int32), _zeros(params), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        count, m, v = _moments(grads, state, b1, b2)
        c1, c2 = (1 - b1 ** count, 1 - b2 ** count) if bias_correction else (1.0, 1.0)
        v_max = jax.tree.map(lambda a, v: jnp.maximum(a, v / c2), state.v_max, v)
        u = jax.tree.map(lambda m, a: -learning_rate * (m / c1) / (jnp.sqrt(a) + eps), m, v_max)
        return u, AmsgradState(count, m, v, v_max)

    return Optimizer(init, update)


# -- L-BFGS (added with the recursive variance-reduction part; appended, not in OPTIMIZERS) --------------


class LbfgsState(NamedTuple):
    """State of :func:`lbfgs`: step ``count``; last ``params`` and ``grads`` (flattened, ``(p,)``); the memory of
    differences ``s_mem``, ``y_mem`` ``(m, p)`` and weights ``rho`` ``(m,)``; the line search's state."""

    count: jax.Array
    params: jax.Array
    grads: jax.Array
    s_mem: jax.Array
    y_mem: jax.Array
    rho: jax.Array
    linesearch: Any


def _two_loop(g, s_mem, y_mem, rho, gamma, newest):
    r"""Nocedal and Wright's two-loop recursion: :math:`H g` for the L-BFGS inverse-Hessian approximation
    built from the pairs :math:`(s_j, y_j)` (slot ``newest`` the most recent, going back cyclically) on
    :math:`H_0 = \gamma I`.  Empty slots have :math:`\rho_j = 0` and do nothing."""
    m = rho.shape[0]
    order = (newest - jnp.arange(m)) % m                   # newest first

    def back(q, j):
        a = rho[j] * jnp.vdot(s_mem[j], q)
        return q - a * y_mem[j], a

    q, alphas = jax.lax.scan(back, g, order)
    r = gamma * q

    def forward(r, ja):
        j, a = ja
        b = rho[j] * jnp.vdot(y_mem[j], r)
        return r + (a - b) * s_mem[j], None

    r, _ = jax.lax.scan(forward, r, (order[::-1], alphas[::-1]))   # oldest first
    return r


def lbfgs(learning_rate: float | None = None, memory_size: int = 10, scale_init_precond: bool = True,
          max_linesearch_steps: int | None = 20) -> Optimizer:
    r"""L-BFGS :cite:`liu1989lbfgs` with optax's zoom line search; the twin of ``optax.lbfgs`` (same arguments).

    With :math:`s_j = \theta_{j+1}-\theta_j`, :math:`y_j = g_{j+1}-g_j`, :math:`\rho_j = 1/\langle s_j, y_j\rangle`
    for the last :math:`m` (``memory_size``) steps, the inverse-Hessian approximation is
    :math:`H_k = V_{k-1}^\top H_{k-1} V_{k-1} + \rho_{k-1}s_{k-1}s_{k-1}^\top` with
    :math:`V_j = I - \rho_j y_j s_j^\top`, unrolled :math:`m` times from :math:`H^0_k = \gamma_k I`,
    :math:`\gamma_k = \langle s_{k-1}, y_{k-1}\rangle/\|y_{k-1}\|^2` (``scale_init_precond``; at the first step
    :math:`\gamma_0 = \min(1, 1/\|g_0\|)`, optax's choice), and applied to :math:`g_k` by the two-loop
    recursion (Nocedal and Wright, Algorithm 7.4) in :math:`O(mp)` operations.  The step is
    :math:`\theta_{k+1} = \theta_k - \eta_k H_k g_k` with :math:`\eta_k` from ``optax.scale_by_zoom_linesearch``
    (strong Wolfe conditions, initial guess 1; the line search is optax's own code, reused, not reimplemented),
    or :math:`\eta_k` = ``learning_rate`` and no line search when ``max_linesearch_steps`` is None.

    ``update(grads, state, params, *, value, grad, value_fn)`` needs, for the line search, the loss ``value`` and
    gradient ``grad`` at ``params`` and the loss function ``value_fn`` (optax's ``GradientTransformationExtraArgs``
    convention; ``grad`` is ``grads``); ``params`` is any pytree (flattened internally).  On a quadratic in
    dimension :math:`d` with exact line searches and :math:`m \ge d`, L-BFGS coincides with conjugate gradients
    and stops in at most :math:`d` steps.  Not in :data:`OPTIMIZERS` (it needs the loss, not only the gradient).
    """
    import optax
    from jax.flatten_util import ravel_pytree

    memory_size = positive_int("memory_size", memory_size)
    if not isinstance(scale_init_precond, (bool, np.bool_)):
        raise ValueError(f"scale_init_precond must be True or False, got {scale_init_precond!r}")
    lr = -1.0 if learning_rate is None else -positive("learning_rate", learning_rate)
    ls = None if max_linesearch_steps is None else optax.scale_by_zoom_linesearch(
        max_linesearch_steps=positive_int("max_linesearch_steps", max_linesearch_steps), initial_guess_strategy="one")

    def init(params):
        flat, _ = ravel_pytree(params)
        z = jnp.zeros((memory_size, flat.shape[0]), flat.dtype)
        return LbfgsState(jnp.zeros((), jnp.int32), jnp.zeros_like(flat), jnp.zeros_like(flat), z, z,
                          jnp.zeros(memory_size, flat.dtype), None if ls is None else ls.init(params))

    def update(grads, state, params, *, value=None, grad=None, value_fn=None):
        g, unravel = ravel_pytree(grads)
        x, _ = ravel_pytree(params)
        first = state.count == 0
        newest = (state.count - 1) % memory_size          # slot of the pair (s_{k-1}, y_{k-1})
        s, y = x - state.params, g - state.grads
        sy = jnp.vdot(s, y)
        rho = jnp.where(first | (sy == 0.0), 0.0, 1.0 / jnp.where(sy == 0.0, 1.0, sy))
        s, y = jnp.where(first, 0.0, s), jnp.where(first, 0.0, y)
        s_mem, y_mem, rhos = state.s_mem.at[newest].set(s), state.y_mem.at[newest].set(y), state.rho.at[newest].set(rho)
        if scale_init_precond:
            yy = jnp.vdot(y, y)
            gamma = jnp.where(yy > 0.0, sy / jnp.where(yy > 0.0, yy, 1.0), 1.0)
            gamma = jnp.where(first, jnp.minimum(1.0, 1.0 / jnp.linalg.norm(g)), gamma)
        else:
            gamma = 1.0
        direction = unravel(lr * _two_loop(g, s_mem, y_mem, rhos, gamma, newest))
        ls_state = state.linesearch
        if ls is not None:
            if value is None or value_fn is None:
                raise ValueError("lbfgs with a line search needs update(..., value=loss(params), grad=grads, value_fn=loss)")
            direction, ls_state = ls.update(direction, ls_state, params, value=value,
                                            grad=grads if grad is None else grad, value_fn=value_fn)
        return direction, LbfgsState(state.count + 1, x, g, s_mem, y_mem, rhos, ls_state)

    return Optimizer(init, update)


@functools.partial(jax.jit, static_argnames=("loss", "n_steps", "memory_size", "max_linesearch_steps"))
def _lbfgs_run(loss, params0, args, n_steps, memory_size, max_linesearch_steps):
    opt = lbfgs(memory_size=memory_size, max_linesearch_steps=max_linesearch_steps)
    f = lambda p: loss(p, *args)
    vg = jax.value_and_grad(f)

    def step(carry, _):
        params, state = carry
        value, grads = vg(params)
        updates, state = opt.update(grads, state, params, value=value, grad=grads, value_fn=f)
        params = apply_updates(params, updates)
        return (params, state), (params, value)

    (last, _), (ps, vals) = jax.lax.scan(step, (params0, opt.init(params0)), None, length=n_steps)
    params = jax.tree.map(lambda p0, p: jnp.concatenate([p0[None], p]), params0, ps)
    losses = jnp.concatenate([vals, f(last)[None]])
    return Run(params, losses, ~jnp.all(jnp.isfinite(losses)))


def lbfgs_run(loss: Callable[..., jax.Array], params0: PyTree, n_steps: int, *, memory_size: int = 10,
              max_linesearch_steps: int = 20, args: tuple = ()) -> Run:
    """Run :func:`lbfgs` (with its line search) for ``n_steps`` steps on ``loss(params, *args)`` from ``params0``
    in one jitted ``lax.scan``; returns a :class:`Run` (iterates, losses, ``diverged``).  Compiled once per
    ``(loss, n_steps, memory_size, max_linesearch_steps)``: the arrays in ``args`` (e.g. the curvatures of
    :func:`rotated_quadratic`) are traced.  One gradient per step plus the line search's evaluations."""
    n_steps = positive_int("n_steps", n_steps)
    if not callable(loss):
        raise ValueError(f"loss must be a callable params -> scalar, got {type(loss).__name__}")
    if not jax.tree.leaves(params0):
        raise ValueError(f"params0 must be an array or a pytree of arrays, got {params0!r}")
    params0 = jax.tree.map(lambda p: finite_array("params0", p), params0)
    if not isinstance(args, (tuple, list)):
        raise ValueError(f"args must be a tuple of arrays (extra arguments of loss), got {type(args).__name__}")
    args = tuple(finite_array(f"args[{i}]", a, allow_empty=True) for i, a in enumerate(args))
    memory_size = positive_int("memory_size", memory_size)
    max_linesearch_steps = positive_int("max_linesearch_steps", max_linesearch_steps)
    size = sum(int(np.size(p)) for p in jax.tree.leaves(params0))
    _checks.work_size(f"lbfgs_run(n_steps={n_steps}, memory_size={memory_size}, max_linesearch_steps="
                      f"{max_linesearch_steps}) in dimension {size}", steps=n_steps * (1 + max_linesearch_steps),
                      size=size * memory_size, record_bytes=4.0 * size * (n_steps + 2 * memory_size))
    return _lbfgs_run(loss, params0, args, n_steps, memory_size, max_linesearch_steps)


from .divergence import DivergenceError as _DivergenceError  # noqa: E402  (the one divergence error)
