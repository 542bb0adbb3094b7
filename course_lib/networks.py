r"""A small multilayer perceptron in plain JAX, with dropout and batch normalization, trained on digits.

The data are scikit-learn's ``load_digits`` (1797 images of 8x8 pixels, shipped
with the package: nothing is downloaded).  The network maps an image
:math:`x\in\mathbb{R}^{64}` (pixels scaled to :math:`[0, 1]`) to 10 logits:

.. math::

   h_0 = x,\qquad h_{l} = \operatorname{drop}\bigl(\operatorname{relu}(\operatorname{bn}(W_l h_{l-1} + b_l))\bigr),
   \qquad \text{logits} = W_{L} h_{L-1} + b_{L},

with the cross-entropy loss averaged over a minibatch.  ``bn`` is batch
normalization :cite:`ioffe2015batch`: in training mode each unit is
standardised with the mean and variance *of the current minibatch*, then scaled
and shifted by learned :math:`\gamma, \beta`; in evaluation mode running averages
replace the batch statistics.  ``drop`` is inverted dropout
:cite:`srivastava2014dropout`: in training mode each unit is zeroed with
probability :math:`p` and the survivors are divided by :math:`1-p`; in evaluation
mode it is the identity.

Training (:func:`train`) runs any optimizer of :mod:`course_lib.optimizers` on
shuffled minibatches (one permutation per epoch, last incomplete batch
dropped), fully inside one ``jax.lax.scan``; :func:`train_grid` runs it for all
seeds and learning rates.  With ``max_shift > 0`` every minibatch is *augmented*
(:func:`shift_images`: random translations of the 8x8 images, drawn inside the
compiled loop); :func:`augmentation_study` compares training with and without
it over seeds.

Compilation.  Everything that distinguishes the runs is traced: the optimizer
(an index into :data:`~course_lib.optimizers.OPTIMIZERS`, dispatched by
``jax.lax.switch``), its hyper-parameters, the penalties, the dropout rate,
``max_shift`` and whether batch norm is used, so all the trainings of a given
size (``n_epochs``, ``batch_size``, ``hidden``) share one compiled program;
:func:`train_grid` calls it once per (seed, learning rate).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import optimizers as _opt
from . import _checks
from ._checks import nonnegative, one_of, positive, positive_int

__all__ = [
    "Digits",
    "load_digits",
    "init_mlp",
    "apply_mlp",
    "cross_entropy",
    "accuracy",
    "History",
    "train",
    "train_grid",
    "batch_dependence",
    "shift_images",
    "AugmentationStudy",
    "augmentation_study",
]

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.9


class Digits(NamedTuple):
    """Train/test split of the digits: ``X_*`` ``(n, 64)`` in [0, 1], ``y_*`` ``(n,)`` int labels 0..9."""

    X_train: jax.Array
    y_train: jax.Array
    X_test: jax.Array
    y_test: jax.Array


def load_digits(n_test: int = 497, seed: int = 0) -> Digits:
    """scikit-learn's digits (no download), pixels divided by 16, a random split with ``n_test`` test images."""
    from sklearn.datasets import load_digits as _load

    n_test = positive_int("n_test", n_test)
    d = _load()
    n = d.data.shape[0]
    if n_test >= n:
        raise ValueError(f"n_test must be < {n}, got {n_test}")
    perm = np.random.default_rng(seed).permutation(n)
    X = (d.data / 16.0).astype(np.float32)[perm]
    y = d.target.astype(np.int32)[perm]
    return Digits(jnp.asarray(X[n_test:]), jnp.asarray(y[n_test:]), jnp.asarray(X[:n_test]), jnp.asarray(y[:n_test]))


def init_mlp(key: jax.Array, sizes: tuple[int, ...] = (64, 64, 10), batchnorm: bool = False) -> tuple[dict, dict]:
    r"""Parameters and batch-norm state of an MLP with layer widths ``sizes``.

    He initialisation :math:`W_l \sim \mathcal N(0, 2/\text{fan-in})`, zero biases,
    :math:`\gamma = 1, \beta = 0`.  Returns ``(params, bn_state)``: ``params`` has
    ``"W"``, ``"b"`` (lists, one entry per layer, ``W_l`` of shape ``(in, out)``)
    and, with ``batchnorm``, ``"gamma"``, ``"beta"`` (one per hidden layer);
    ``bn_state`` has the running ``"mean"`` and ``"var"`` (empty lists without batchnorm).
    """
    _checks.prng_key("key", key, batched=True)
    if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes):
        raise ValueError(f"sizes must be a tuple of >= 2 positive integers, got {sizes!r}")
    keys = jax.random.split(key, len(sizes) - 1)
    W = [jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
    b = [jnp.zeros(s) for s in sizes[1:]]
    params: dict = {"W": W, "b": b}
    hidden = sizes[1:-1]
    if batchnorm:
        params["gamma"] = [jnp.ones(h) for h in hidden]
        params["beta"] = [jnp.zeros(h) for h in hidden]
        state = {"mean": [jnp.zeros(h) for h in hidden], "var": [jnp.ones(h) for h in hidden]}
    else:
        state = {"mean": [], "var": []}
    return params, state


def apply_mlp(params: dict, bn_state: dict, X: jax.Array, *, train: bool = False, key: jax.Array | None = None,
              dropout: float = 0.0) -> tuple[jax.Array, dict]:
    r"""Logits ``(n, 10)`` of the batch ``X`` ``(n, 64)``, and the updated batch-norm state.

    ``train=True`` uses minibatch statistics in batch norm (and updates the
    running averages with momentum 0.9) and applies dropout with rate
    ``dropout`` using ``key``; ``train=False`` uses the running averages and no
    dropout, so the output of an example no longer depends on the others.
    """
    if key is not None:
        _checks.prng_key("key", key, batched=True)
    return _forward(params, bn_state, X, train, key, dropout, True)


def _forward(params, bn_state, X, train, key, dropout, use_bn):
    """:func:`apply_mlp`; with batch-norm parameters in ``params``, ``use_bn`` (True, or a traced bool) says
    whether the layers use them (False: exactly the network without batch norm, whose ``gamma``, ``beta`` then
    get zero gradients).  Inside the training program it is traced, so one program trains both networks."""
    has_bn = "gamma" in params
    n_layers = len(params["W"])
    means, vars_ = [], []
    h = X
    keys = jax.random.split(key, n_layers) if (train and key is not None) else [None] * n_layers
    for l in range(n_layers - 1):
        z = h @ params["W"][l] + params["b"][l]
        if has_bn:
            if train:
                mu, var = jnp.mean(z, axis=0), jnp.var(z, axis=0)
                means.append(_BN_MOMENTUM * bn_state["mean"][l] + (1 - _BN_MOMENTUM) * mu)
                vars_.append(_BN_MOMENTUM * bn_state["var"][l] + (1 - _BN_MOMENTUM) * var)
            else:
                mu, var = bn_state["mean"][l], bn_state["var"][l]
            zn = params["gamma"][l] * (z - mu) * jax.lax.rsqrt(var + _BN_EPS) + params["beta"][l]
            z = zn if use_bn is True else jnp.where(use_bn, zn, z)
        h = jax.nn.relu(z)
        if train and keys[l] is not None:
            keep = jax.random.bernoulli(keys[l], 1.0 - dropout, h.shape)
            h = jnp.where(keep, h / (1.0 - dropout), 0.0)
    logits = h @ params["W"][-1] + params["b"][-1]
    new_state = {"mean": means, "var": vars_} if (has_bn and train) else bn_state
    return logits, new_state


def _check_logits_labels(logits: Any, y: Any) -> None:
    """``logits`` ``(n, k)`` finite reals, ``y`` ``(n,)`` integer labels in ``0..k-1`` (skipped under tracing)."""
    if isinstance(logits, jax.core.Tracer) or isinstance(y, jax.core.Tracer):
        return
    z = _checks.finite_array("logits", logits, ndim=2)
    labels = np.asarray(y) if not isinstance(y, (str, bytes)) and y is not None else None
    if labels is None or labels.dtype.kind not in "iu" or labels.shape != (z.shape[0],):
        shown = y if labels is None else f"dtype {labels.dtype}, shape {labels.shape}"
        raise ValueError(f"y must be integer class labels of shape ({z.shape[0]},) (one per row of logits), got {shown}")
    if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
        raise ValueError(f"y must hold labels in 0..{z.shape[1] - 1} (logits has {z.shape[1]} columns), "
                         f"got values from {labels.min()} to {labels.max()}")


def cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    r"""Mean cross-entropy :math:`\frac1n\sum_i -\log \operatorname{softmax}(\text{logits}_i)_{y_i}`."""
    _check_logits_labels(logits, y)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Fraction of rows of ``logits`` whose argmax is the label ``y``."""
    _check_logits_labels(logits, y)
    return jnp.mean(jnp.argmax(logits, axis=1) == y)


class History(NamedTuple):
    """Result of :func:`train` (leading axes ``(seeds, learning_rates)`` for :func:`train_grid`).

    ``step_loss`` ``(n_steps,)``: minibatch loss at each step (training mode);
    ``train_loss``, ``test_loss``, ``test_acc`` ``(n_epochs+1,)``: full-set
    values in evaluation mode after each epoch (index 0: at initialisation);
    ``diverged``: the loss became NaN/inf (parameters are then frozen, losses
    reported as inf).  ``params``, ``bn_state``: final values.
    """

    step_loss: jax.Array
    train_loss: jax.Array
    test_loss: jax.Array
    test_acc: jax.Array
    diverged: jax.Array
    params: Any
    bn_state: Any


@functools.partial(jax.jit, static_argnames=("n", "n_epochs", "batch_size"))
def _batches(key, n, n_epochs, batch_size):
    """Minibatch indices ``(n_epochs, n // batch_size, batch_size)`` (one permutation per epoch) and
    one dropout key per step; compiled once, outside the optimizer's program."""
    k_perm, k_drop = jax.random.split(key)
    per_epoch = n // batch_size
    perms = jax.vmap(lambda k: jax.random.permutation(k, n)[: per_epoch * batch_size])(jax.random.split(k_perm, n_epochs))
    return perms.reshape(n_epochs, per_epoch, batch_size), jax.random.split(k_drop, n_epochs * per_epoch).reshape(
        n_epochs, per_epoch, -1)




def _shift_traced(key, X, max_shift):
    r""":func:`shift_images` with a traced ``max_shift``: the same random shifts, so the same images.

    Written with 0/1 shift matrices instead of a gather: image :math:`i` becomes :math:`A_i x_i B_i` with
    :math:`(A_i)_{r r'} = [r' = r - \delta_i]`, :math:`(B_i)_{c' c} = [c' = c - \epsilon_i]` (exact: each output
    pixel is one input pixel or 0), which compiles faster than a gather inside the training loop."""
    n = X.shape[0]
    shifts = jax.random.randint(key, (n, 2), -max_shift, max_shift + 1)
    r = jnp.arange(8)
    A = (r[None, None, :] == r[None, :, None] - shifts[:, 0, None, None]).astype(X.dtype)   # (n, 8, 8): [r, r']
    B = (r[None, :, None] == r[None, None, :] - shifts[:, 1, None, None]).astype(X.dtype)   # (n, 8, 8): [c', c]
    return jnp.einsum("nab,nbc,ncd->nad", A, X.reshape(n, 8, 8), B).reshape(n, 64)


def _train(index, data, params, bn, idx, drop_keys, learning_rate, hypers, l2_grad, l2_decay, dropout, max_shift,
           use_bn):
    """One training run.  Everything that varies between the chapter's runs is data: the optimizer (``index``
    into ``OPTIMIZERS``, dispatched by ``lax.switch``), its hyper-parameters, both penalties, the dropout rate
    (0: every unit kept, divided by 1), the augmentation's ``max_shift`` (0: skipped) and whether batch norm is
    used (``params`` always hold its parameters): one compiled program trains every variant."""
    opt = _opt.with_l2(_opt._switch(index, learning_rate, hypers), l2_grad)

    def evaluate(params, bn):
        lt, _ = _forward(params, bn, data.X_train, False, None, 0.0, use_bn)
        ls, _ = _forward(params, bn, data.X_test, False, None, 0.0, use_bn)
        return cross_entropy(lt, data.y_train), cross_entropy(ls, data.y_test), accuracy(ls, data.y_test)

    def loss_fn(params, bn, X, y, k):
        logits, new_bn = _forward(params, bn, X, True, k, dropout, use_bn)
        return cross_entropy(logits, y), new_bn

    vg = jax.value_and_grad(loss_fn, has_aux=True)

    def step(carry, inp):
        params, bn, state, bad = carry
        i, k = inp
        X = data.X_train[i]
        # the augmentation key is derived from the step's key (dropout keeps `k` itself); skipped when max_shift = 0
        X = jax.lax.cond(max_shift > 0, lambda X: _shift_traced(jax.random.fold_in(k, 1), X, max_shift),
                         lambda X: X, X)
        (value, new_bn), grads = vg(params, bn, X, data.y_train[i], k)
        updates, new_state = opt.update(grads, state, params)
        new_params = jax.tree.map(lambda p, u, q: p + u - learning_rate * l2_decay * q, params, updates, params)
        bad = bad | ~jnp.isfinite(value) | ~jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(new_params)]))
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(bad, b, a), new, old)
        return (keep(new_params, params), keep(new_bn, bn), keep(new_state, state), bad), jnp.where(bad, jnp.inf, value)

    def epoch(carry, inp):
        carry, losses = jax.lax.scan(step, carry, inp)
        params, bn, _, bad = carry
        ev = evaluate(params, bn)
        return carry, (losses, jnp.where(bad, jnp.inf, ev[0]), jnp.where(bad, jnp.inf, ev[1]), ev[2])

    carry0 = (params, bn, opt.init(params), jnp.array(False))
    (params, bn, _, bad), (losses, tr, te, acc) = jax.lax.scan(epoch, carry0, (idx, drop_keys))
    tr0, te0, acc0 = evaluate(*carry0[:2])
    cat = lambda a0, a: jnp.concatenate([jnp.reshape(a0, (1,)), a])
    return History(losses.reshape(-1), cat(tr0, tr), cat(te0, te), cat(acc0, acc), bad, params, bn)


def _setup(data, key, n_epochs, batch_size, hidden):
    """Initial parameters (always with batch norm's, see :func:`_forward`) and minibatch schedule drawn from
    ``key`` (split as init / run)."""
    k_init, k_run = jax.random.split(key)
    params, bn = init_mlp(k_init, (64, *hidden, 10), True)    # with or without batch norm: the same W, b
    idx, drop_keys = _batches(k_run, int(data.X_train.shape[0]), n_epochs, batch_size)
    return params, bn, idx, drop_keys


@jax.jit
def _train_jit(index, data, setup, learning_rate, hypers, l2_grad, l2_decay, dropout, max_shift, use_bn):
    """One run; the one compiled training program of the module (a grid calls it once per run: vmapping the
    runs would compile longer and, for this small network on one core, not run faster)."""
    return _train(index, data, *setup, learning_rate, hypers, l2_grad, l2_decay, dropout, max_shift, use_bn)


def _traced_args(name, learning_rate, hyper, l2, l2_mode, dropout, max_shift, batchnorm):
    """The traced inputs shared by :func:`train` and :func:`train_grid` (same structure for every optimizer)."""
    f = lambda v: jnp.asarray(v, jnp.float32)
    hypers = _opt._all_hypers(name, learning_rate, hyper, jnp.float32)
    l2_grad, l2_decay = (l2, 0.0) if l2_mode == "l2" else ((0.0, l2) if l2_mode == "decay" else (0.0, 0.0))
    return (jnp.asarray(_opt._NAMES.index(name), jnp.int32), hypers, f(l2_grad), f(l2_decay), f(dropout),
            jnp.asarray(max_shift, jnp.int32), jnp.asarray(bool(batchnorm)))


def _check_shift(max_shift):
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or not 0 <= max_shift <= 7:
        raise ValueError(f"max_shift must be an integer number of pixels in [0, 7], got {max_shift!r}")
    return int(max_shift)


def _check(name, data, n_epochs, batch_size, hidden, dropout, l2, l2_mode):
    one_of("name", name, tuple(_opt.OPTIMIZERS))
    one_of("l2_mode", l2_mode, ("none", "l2", "decay"))
    if not isinstance(data, Digits):
        raise ValueError(f"data must be a Digits split (see load_digits), got {type(data).__name__}")
    n_epochs = positive_int("n_epochs", n_epochs)
    batch_size = positive_int("batch_size", batch_size)
    if batch_size > data.X_train.shape[0]:
        raise ValueError(f"batch_size must be <= the number of training images {data.X_train.shape[0]}, got {batch_size}")
    hidden = tuple(positive_int("hidden", h) for h in (hidden if isinstance(hidden, (tuple, list)) else (hidden,)))
    nonnegative("dropout", dropout)
    if not isinstance(dropout, jax.core.Tracer) and not float(dropout) < 1:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    nonnegative("l2", l2)
    return n_epochs, batch_size, hidden


def train(name: str, data: Digits, key: jax.Array, *, learning_rate: float, n_epochs: int = 10,
          batch_size: int = 64, hidden: int | tuple[int, ...] = 64, batchnorm: bool = False, dropout: float = 0.0,
          l2: float = 0.0, l2_mode: str = "none", max_shift: int = 0, **hyper: Any) -> History:
    r"""Train an MLP ``64 -> hidden -> 10`` on ``data`` with optimizer ``name`` for ``n_epochs`` epochs.

    ``key`` draws the initialisation, the shuffles and the dropout masks.
    ``learning_rate``, ``dropout``, ``l2`` and ``hyper`` (other optimizer
    hyper-parameters, e.g. ``beta=0.9``) are traced; ``l2_mode`` is as in
    :func:`course_lib.optimizers.run` (``"l2"``: add :math:`\tfrac{l_2}{2}\|\theta\|^2` to
    the loss; ``"decay"``: decoupled weight decay).  ``max_shift > 0`` augments
    every minibatch with :func:`shift_images` (a fresh random shift of each
    image at each step; evaluation uses the original images).  Returns a :class:`History`.
    """
    _checks.prng_key("key", key, batched=True)
    n_epochs, batch_size, hidden = _check(name, data, n_epochs, batch_size, hidden, dropout, l2, l2_mode)
    max_shift = _check_shift(max_shift)
    positive("learning_rate", learning_rate)
    # one run is a grid of one seed and one step: the same compiled program as train_grid
    g = train_grid(name, data, np.asarray(key)[None], np.array([learning_rate], np.float32), n_epochs=n_epochs,
                   batch_size=batch_size, hidden=hidden, batchnorm=batchnorm, dropout=dropout, l2=l2, l2_mode=l2_mode,
                   max_shift=max_shift, **hyper)
    return jax.tree.map(lambda a: jax.device_put(np.asarray(a)[0, 0]), g)


def train_grid(name: str, data: Digits, keys: jax.Array, learning_rates: Any, *, n_epochs: int = 10,
               batch_size: int = 64, hidden: int | tuple[int, ...] = 64, batchnorm: bool = False,
               dropout: float = 0.0, l2: float = 0.0, l2_mode: str = "none", max_shift: int = 0,
               **hyper: Any) -> History:
    """:func:`train` for every seed in ``keys`` ``(s, 2)`` and learning rate in ``learning_rates`` ``(r,)``.

    Every field of the returned :class:`History` has leading axes ``(s, r)``.
    """
    _checks.prng_key("keys", keys, batched=True)
    n_epochs, batch_size, hidden = _check(name, data, n_epochs, batch_size, hidden, dropout, l2, l2_mode)
    max_shift = _check_shift(max_shift)
    try:
        lrs = np.asarray(learning_rates, np.float32)      # on the host: no XLA program per shape
    except (TypeError, ValueError):
        raise ValueError(f"learning_rates must be a 1-D array of positive numbers, got {learning_rates!r}") from None
    if lrs.ndim != 1 or not (lrs > 0).all():
        raise ValueError(f"learning_rates must be a 1-D array of positive numbers, got {learning_rates!r}")
    keys = jnp.asarray(keys)
    if keys.ndim != 2:
        raise ValueError(f"keys must be a stack of PRNG keys of shape (s, 2), got shape {keys.shape}")
    traced = _traced_args(name, float(lrs[0]), hyper, l2, l2_mode, dropout, max_shift, batchnorm)
    s, r = keys.shape[0], lrs.shape[0]
    setups = [_setup(data, k, n_epochs, batch_size, hidden) for k in np.asarray(keys)]
    out = [_train_jit(traced[0], data, setups[i], jax.device_put(lrs[j]), *traced[1:])
           for i in range(s) for j in range(r)]                  # seed-major, like the result's axes
    grid = lambda *xs: jax.device_put(np.stack([np.asarray(x) for x in xs]).reshape((s, r) + np.shape(xs[0])))
    h = jax.tree.map(grid, *out)
    if not batchnorm:   # the plain network: drop the (unused, unchanged) batch-norm parameters and state
        h = h._replace(params={"W": h.params["W"], "b": h.params["b"]}, bn_state={"mean": [], "var": []})
    return h


def batch_dependence(params: dict, bn_state: dict, data: Digits, key: jax.Array, *, index: int = 0,
                     batch_size: int = 32, n_batches: int = 50) -> tuple[jax.Array, jax.Array]:
    r"""Predicted class probabilities of training image ``index`` inside ``n_batches`` random minibatches.

    Returns ``(train_mode, eval_mode)``: ``(n_batches, 10)`` probabilities
    computed in training mode (batch norm with the minibatch's statistics; no
    dropout), where they change with the *other* images of the batch, and
    ``(10,)`` in evaluation mode.  Without batch norm every row equals the
    evaluation-mode output: the loss is then a sum of one term per example.
    """
    _checks.prng_key("key", key, batched=True)
    positive_int("batch_size", batch_size)
    positive_int("n_batches", n_batches)
    n = data.X_train.shape[0]
    if not 0 <= index < n:
        raise ValueError(f"index must lie in [0, {n}), got {index!r}")
    return _batch_dependence(params, bn_state, data.X_train, key, index, batch_size, n_batches)


@functools.partial(jax.jit, static_argnames=("batch_size", "n_batches"))
def _batch_dependence(params, bn_state, X_train, key, index, batch_size, n_batches):
    n = X_train.shape[0]

    def one(k):
        # batch-mates: batch_size - 1 distinct images other than `index`
        idx = jax.random.choice(k, n - 1, (batch_size - 1,), replace=False)
        idx = jnp.where(idx >= index, idx + 1, idx)
        X = jnp.concatenate([X_train[index][None], X_train[idx]])
        logits, _ = apply_mlp(params, bn_state, X, train=True)
        return jax.nn.softmax(logits[0])

    train_mode = jax.vmap(one)(jax.random.split(key, n_batches))
    ev, _ = apply_mlp(params, bn_state, X_train[index][None])
    return train_mode, jax.nn.softmax(ev[0])


@functools.partial(jax.jit, static_argnames=("max_shift",))
def _shift_images(key, X, max_shift):
    n = X.shape[0]
    shifts = jax.random.randint(key, (n, 2), -max_shift, max_shift + 1)
    padded = jnp.pad(X.reshape(n, 8, 8), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    # output pixel (r, c) reads input pixel (r - dy, c - dx), i.e. padded[r - dy + s, c - dx + s]
    crop = lambda img, d: jax.lax.dynamic_slice(img, (max_shift - d[0], max_shift - d[1]), (8, 8))
    return jax.vmap(crop)(padded, shifts).reshape(n, 64)


def shift_images(key: jax.Array, X: jax.Array, max_shift: int = 1) -> jax.Array:
    r"""Translate each 8x8 image of ``X`` ``(n, 64)`` by its own random shift; returns ``(n, 64)``.

    Image :math:`i` gets a shift :math:`(\delta_i, \epsilon_i)` drawn uniformly and
    independently in :math:`\{-s,\dots,s\}^2` (:math:`s` = ``max_shift``) from
    ``key``, and :math:`x'_i[r, c] = x_i[r-\delta_i, c-\epsilon_i]`, with zeros for
    pixels shifted in from outside the frame (the digits' border is blank, so a
    one-pixel shift rarely cuts ink).  This is data augmentation
    :cite:`pauwels2024intro`: the training set becomes the
    :math:`(2s+1)^2`-times larger set of shifted images, sampled afresh at
    every step.  ``max_shift = 0`` returns ``X`` unchanged.
    """
    _checks.prng_key("key", key, batched=True)
    max_shift = _check_shift(max_shift)
    X = _checks.finite_array("X", X)
    if X.ndim != 2 or X.shape[1] != 64:
        raise ValueError(f"X must be a batch of flattened 8x8 images of shape (n, 64), got shape {X.shape}")
    if max_shift == 0:
        return X
    return _shift_images(key, X, max_shift)


class AugmentationStudy(NamedTuple):
    """Result of :func:`augmentation_study`: final values ``(s,)`` per seed, and curves ``(s, n_epochs+1)``.

    ``*_plain``: trained on the original images; ``*_aug``: on randomly shifted ones.
    """

    test_acc_plain: jax.Array
    test_acc_aug: jax.Array
    test_loss_plain: jax.Array
    test_loss_aug: jax.Array
    train_loss_plain: jax.Array
    train_loss_aug: jax.Array
    curves_plain: jax.Array
    curves_aug: jax.Array


def augmentation_study(data: Digits, keys: jax.Array, *, name: str = "adam", learning_rate: float = 3e-3,
                       n_epochs: int = 10, max_shift: int = 1, hidden: int | tuple[int, ...] = 64,
                       batch_size: int = 64, **hyper: Any) -> AugmentationStudy:
    r"""Train the same MLP with and without shift augmentation, for every seed in ``keys`` ``(s, 2)``.

    Both arms use the same seed for the initialisation and the shuffles
    (common random numbers, so the difference per seed is the effect of the
    augmentation); the augmented arm replaces each minibatch :math:`X_B` by
    ``shift_images(k, X_B, max_shift)`` with a fresh key :math:`k` at every
    step.  Returns an :class:`AugmentationStudy` with the final test accuracy,
    test and training cross-entropy (on the unshifted images) ``(s,)``, and
    the test-loss curves ``(s, n_epochs+1)``.
    """
    _checks.prng_key("keys", keys, batched=True)
    if _check_shift(max_shift) == 0:
        raise ValueError("max_shift must be >= 1 to compare with the unaugmented run, got 0")
    kw = dict(n_epochs=n_epochs, hidden=hidden, batch_size=batch_size, **hyper)
    lr = np.array([learning_rate], np.float32)
    positive("learning_rate", learning_rate)
    plain = train_grid(name, data, keys, lr, **kw)
    aug = train_grid(name, data, keys, lr, max_shift=max_shift, **kw)
    last = lambda a: jax.device_put(np.asarray(a)[:, 0, -1])      # slices on the host: no XLA program per shape
    curve = lambda a: jax.device_put(np.asarray(a)[:, 0])
    return AugmentationStudy(last(plain.test_acc), last(aug.test_acc), last(plain.test_loss), last(aug.test_loss),
                             last(plain.train_loss), last(aug.train_loss), curve(plain.test_loss), curve(aug.test_loss))
