r"""The chapter "Wide two-layer networks" (``book/two_layer.md``): its width study and its two widgets.

:func:`width_rate` trains the first ``width`` units of a network (a mask, so every
width shares one compiled loop) and compares the loss with the linear rate that
:math:`\lambda_{\min}` of the Gram matrix predicts; :func:`draw_width_rate` and
:func:`draw_rich_vs_lazy` are the draw functions of the chapter's widgets.  All
thin calls of :mod:`course_lib.two_layer`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..two_layer import (Params, _check_params, _width_mask, init_symmetric, lambda_min, linear_rate_bound,
                         log_decay_rate, ntk_gram, particle_flow,
                         predicted_rate, teacher_problem, train_gd)

__all__ = ["draw_rich_vs_lazy", "WidthRate", "width_rate", "draw_width_rate"]


def draw_rich_vs_lazy(log2_width: int, alpha: float, *, max_width: int = 256, t_max: float = 200.0,
                      seed: int = 0) -> Any:
    r"""Figure for the widget: particle paths :math:`|\eta_j|w_j` (left) and the risk (right).

    Simulates ``max_width`` units (:func:`~course_lib.two_layer.init_symmetric`, scale 0.3, on
    :func:`~course_lib.two_layer.teacher_problem`) and masks all but the first
    :math:`m = 2^{\text{log2\_width}}`, so ``m`` and ``alpha`` never change array
    shapes: moving either slider does not recompile.  Units with
    :math:`\eta_j>0` are blue, :math:`\eta_j<0` vermillion; the teacher's
    directions are dashed rays.  Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    from .. import plotting as cplt

    log2_width = int(log2_width)
    if not 2 <= 2**log2_width <= max_width:
        raise ValueError(f"log2_width must give a width 2**log2_width in [2, {max_width}], got {log2_width}")
    m = 2**log2_width
    teacher = teacher_problem()
    p0 = init_symmetric(jax.random.PRNGKey(seed), max_width, scale=0.3)
    run = particle_flow(p0, teacher.X, teacher.y, width=m, alpha=alpha, dt=0.2, t_max=t_max, n_records=101)
    eta, W = np.asarray(run.eta)[:, :m], np.asarray(run.W)[:, :m]
    P = np.abs(eta)[:, :, None] * W
    move = float(np.linalg.norm(W[-1] - W[0]) / np.linalg.norm(W[0]))
    fig, (ax1, ax2) = cplt.subplots(1, 2, width=10.0, height=4.2)
    R = 1.1 * float(np.max(np.abs(P)))
    for w in np.asarray(teacher.W):
        ax1.plot([0, 2 * R * w[0]], [0, 2 * R * w[1]], "--", color="grey", lw=1)
    for j in range(m):
        col = cplt.OKABE_ITO[0] if eta[-1, j] > 0 else cplt.OKABE_ITO[3]
        ax1.plot(P[:, j, 0], P[:, j, 1], color=col, lw=0.8, alpha=0.7)
        ax1.plot(P[-1, j, 0], P[-1, j, 1], "o", color=col, ms=3)
    ax1.set(xlim=(-R, R), ylim=(-R, R), aspect="equal", xlabel=r"$|\eta_j|\,w_{j,1}$", ylabel=r"$|\eta_j|\,w_{j,2}$",
            title=f"m = {m}, α = {alpha:g}: features moved {move:.2g}")
    ax2.plot(np.asarray(run.times), np.asarray(run.losses), color=cplt.OKABE_ITO[0])
    ax2.set(yscale="log", xlabel="time $t$", ylabel=r"risk $R(\theta_t)$",
            title=f"training risk (final {float(run.losses[-1]):.1e})")
    plt.close(fig)
    return fig


# ---------------------------------------------------------------------------
# the width widget: lambda_min of the Gram at init and the linear rate it predicts
# ---------------------------------------------------------------------------


class WidthRate(NamedTuple):
    r"""Gradient descent at one width: ``losses`` ``(n_steps+1,)``, ``bound`` ``(n_steps+1,)`` the
    bound :math:`J_0(1-\gamma\lambda_{\min}(G_0))^{2k}`, ``lam_start``/``lam_end`` :math:`\lambda_{\min}` of
    the Gram at the start and end, ``measured`` the late decay rate of :math:`\log J`, ``from_start``/``from_end``
    the rates :func:`~course_lib.two_layer.predicted_rate` gives from them, ``step_lmax`` :math:`\gamma\lambda_{\max}(G_0)`
    (the bound is guaranteed for the linearised model only if it is :math:`\le 1`)."""

    losses: np.ndarray
    bound: np.ndarray
    lam_start: float
    lam_end: float
    measured: float
    from_start: float
    from_end: float
    step_lmax: float


def width_rate(params: Params, X: Any, y: Any, width: int, step: float, n_steps: int, window: int) -> WidthRate:
    r"""Train the first ``width`` units of ``params`` (NTK scaling :math:`\alpha=\sqrt m`) by :func:`~course_lib.two_layer.train_gd`
    and compare the loss with the linear rate predicted by :math:`\lambda_{\min}(J_FJ_F^\top)`.

    ``params`` holds a fixed number of units; the width is a mask (traced), so
    calling this for every width compiles the gradient-descent loop once.  The
    measured rate is :func:`~course_lib.two_layer.log_decay_rate` over the last ``window`` steps; the
    predictions are :math:`-2\log(1-\gamma\lambda_{\min})` with the Gram at the
    start and at the end of training (see :class:`WidthRate`).
    """
    params = _check_params(params)
    _width_mask(params.eta.shape[0], width)
    a = math.sqrt(width)
    run = train_gd(params, X, y, a, step, n_steps, width=width)
    ev0 = np.asarray(jnp.linalg.eigvalsh(ntk_gram(params, X, a, width=width)))
    lam0 = max(float(ev0[0]), 0.0)
    lam1 = max(float(lambda_min(ntk_gram(run.params, X, a, width=width))), 0.0)
    losses = np.asarray(run.losses, dtype=float)
    bound = np.asarray(linear_rate_bound(float(losses[0]), lam0, step, n_steps), dtype=float)
    return WidthRate(losses, bound, lam0, lam1, log_decay_rate(losses, window), predicted_rate(lam0, step),
                     predicted_rate(lam1, step), float(step) * float(ev0[-1]))


def draw_width_rate(log2_width: int, params: Params, X: Any, y: Any, widths: Any, lam_table: Any, lam_inf: float,
                    step: float, n_steps: int = 3000, window: int = 1000) -> Any:
    r"""Figure for the width widget: :math:`\lambda_{\min}` of the Gram at init against the width (left)
    and gradient descent at width :math:`m=2^{\text{log2\_width}}` with the predicted linear rate (right).

    ``lam_table`` ``(len(widths), n_seeds)`` is :func:`~course_lib.two_layer.lambda_min_vs_width` (computed once by the
    caller; its seed-0 network should be ``params``, whose first ``m`` units are trained
    by :func:`width_rate`).  ``lam_inf`` is :math:`\lambda_{\min}` of :func:`~course_lib.two_layer.infinite_width_ntk`.
    The width is a mask on ``params``: moving the slider never recompiles.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    from .. import plotting as cplt

    params = _check_params(params)
    widths = np.asarray(widths)
    lam_table = np.asarray(lam_table, dtype=float)
    if lam_table.ndim != 2 or lam_table.shape[0] != widths.size:
        raise ValueError(f"lam_table must have shape (len(widths), n_seeds) = ({widths.size}, s), got {lam_table.shape}")
    m = 2 ** int(log2_width)
    if not 1 <= m <= params.eta.shape[0]:
        raise ValueError(f"log2_width must give a width in [1, {params.eta.shape[0]}], got 2**{int(log2_width)}")
    wr = width_rate(params, X, y, m, step, n_steps, window)
    fig, (ax1, ax2) = cplt.subplots(1, 2, width=11.0, height=4.0)
    floor = 1e-5
    shown = np.maximum(lam_table, floor)
    for s in range(shown.shape[1]):
        ax1.plot(widths, shown[:, s], "o", ms=4, color=cplt.OKABE_ITO[0], alpha=0.5,
                 label=f"{shown.shape[1]} seeds (below {floor:.0e}: drawn at {floor:.0e})" if s == 0 else None)
    ax1.axhline(lam_inf, color=cplt.OKABE_ITO[3], lw=2, label=r"$\lambda_{\min}(K)$, $m=\infty$")
    ax1.axvline(m, color="grey", lw=1)
    ax1.plot([m], [max(wr.lam_start, floor)], "*", ms=14, color=cplt.OKABE_ITO[2], label="this network (seed 0)")
    ax1.set(xscale="log", yscale="log", xlabel="width $m$", ylabel=r"$\lambda_{\min}(J_FJ_F^\top)$ at init",
            title=f"m = {m}: λ_min = {wr.lam_start:.2g}")
    ax1.legend(fontsize=8)
    ks = np.arange(wr.losses.size)
    ax2.plot(ks, wr.losses, color=cplt.OKABE_ITO[0], lw=2, label="measured loss")
    ax2.plot(ks, wr.bound, "--", color=cplt.OKABE_ITO[3], lw=2, label=r"bound $(1-\gamma\lambda_{\min}(G_0))^{2k}J_0$")
    k0 = ks[-window - 1]
    ax2.plot(ks[k0:], wr.losses[k0] * np.exp(-wr.from_end * (ks[k0:] - k0)), ":", color=cplt.OKABE_ITO[4], lw=2,
             label=r"slope from $\lambda_{\min}(G_T)$")
    lo = max(float(wr.losses.min()), 1e-12)
    ax2.set(yscale="log", ylim=(lo / 3, 3 * float(wr.losses[0])), xlabel="step $k$", ylabel=r"$J(\theta_k)$",
            title=f"decay of log J per step: measured {wr.measured:.2g}\npredicted {wr.from_start:.2g} from $G_0$, "
                  f"{wr.from_end:.2g} from $G_T$")
    if wr.step_lmax > 1:
        ax2.text(0.02, 0.03, "γλ_max(G_0) > 1: bound not guaranteed", transform=ax2.transAxes, fontsize=8)
    ax2.legend(fontsize=8, loc="upper right")
    plt.close(fig)
    return fig
