r"""The course's figure style and the plots chapters share.

One style for the whole book: call :func:`use_course_style` once at the top of
a chapter.  Importing this module changes nothing global (no backend switch,
no ``rcParams`` update); only :func:`use_course_style` does.

Conventions
-----------
* Colours: the Okabe--Ito palette (:data:`OKABE_ITO`), distinguishable with
  the common colour-vision deficiencies; images use ``viridis``/``cividis``.
  Colour is never the only carrier of meaning: the colour cycle also cycles
  line styles (:data:`LINE_STYLES`), so curves differ in print and for readers
  who cannot tell two colours apart.
* Legible at every width: :func:`figure_png` raises any text smaller than
  :data:`MIN_FONT_PT`, re-lays a row of panels too wide for the book's column
  into a grid (:func:`legible`), and records the smallest text size in the PNG
  (``Course-Min-Text-Px``), from which the book keeps every text >= 11 CSS px.
* Every axis is labelled, with units where there are any (``"time (ms)"``).
  The functions below label the axes they create a meaning for (``x_1``,
  ``x_2``, ``density``) unless the axes already carry a label.
* Measured quantities are markers, predictions and bounds are lines
  (:func:`measured_vs_predicted`).
* Every figure has a text alternative for screen readers (:func:`alt_text`):
  the one given with :func:`describe`, followed by a description generated from
  the figure's titles, axis labels and legends.  In a notebook,
  :func:`use_course_style` makes figures display as PNGs carrying that text
  (PNG ``Description`` field), which the book turns into the image's ``alt``.

Every function takes a matplotlib ``Axes`` and returns the artist(s) it drew,
so a caller can add a legend or a colour bar.  Bad input raises
:class:`ValueError` naming the argument.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np

from . import _checks
from ._deprecation import deprecated_aliases

__all__ = [
    "OKABE_ITO",
    "LINE_STYLES",
    "MIN_FONT_PT",
    "MIN_TEXT_CSS_PX",
    "BOOK_COLUMN_PX",
    "COURSE_STYLE",
    "use_course_style",
    "subplots",
    "describe",
    "alt_text",
    "figure_png",
    "legible",
    "contour",
    "surface",
    "paths",
    "mark_points",
    "histogram2d",
    "density",
    "measured_vs_predicted",
]

# renamed so that no public name of the package has two meanings (simulate.trajectories runs chains) (0.2)
__getattr__ = deprecated_aliases(__name__, {"trajectories": ("paths", "0.2")})

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow (use on dark backgrounds only)
    "#000000",  # black
)
"""The Okabe--Ito colour-blind-safe palette, in the order of the course's colour cycle."""

LINE_STYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)), (0, (1, 3)))
"""Line styles cycled together with the colours (one per colour of the cycle)."""

MIN_FONT_PT = 9.5
"""Smallest font size (points) of a course figure; :func:`figure_png` raises smaller text to it."""

BOOK_COLUMN_PX = 800
"""Width (CSS px) of the book's text column at a 1366-px desktop window (sphinx-book-theme)."""

MIN_TEXT_CSS_PX = 11.0
"""Smallest text size (CSS px) a figure may show in the book."""

COURSE_STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO[:6]) + [OKABE_ITO[7]], linestyle=list(LINE_STYLES)),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
    "image.cmap": "viridis",
    "mathtext.fontset": "dejavusans",
}
"""The ``rcParams`` set by :func:`use_course_style`."""


def use_course_style() -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib's global ``rcParams``.

    Call it once at the top of a chapter or notebook; it is idempotent.
    """
    mpl.rcParams.update(COURSE_STYLE)
    _register_png_formatter()


def _register_png_formatter() -> None:
    """In IPython, display matplotlib figures with :func:`figure_png` (PNG with alt text)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython always comes with Jupyter
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    # Load the backend now (matplotlib loads it lazily, at the first figure): loading
    # the inline backend registers its own PNG formatter, which must come before ours.
    plt.close(plt.figure())

    ip.display_formatter.formatters["image/png"].for_type(Figure, _png_formatter)


def _png_formatter(fig: Any) -> bytes | None:
    """IPython's PNG formatter for figures: nothing for an empty figure (as IPython's own), else :func:`figure_png`."""
    if not fig.axes and not fig.lines:
        return None
    return figure_png(fig)


def describe(fig: Any, text: str) -> Any:
    """Attach the alt text ``text`` (what the figure shows, in a sentence or two) to ``fig``; returns ``fig``.

    It is written before the generated part of :func:`alt_text`.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty description of the figure, got {text!r}")
    if not hasattr(fig, "axes") or not hasattr(fig, "savefig"):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig._course_alt = text.strip()
    return fig


def _clean(label: str) -> str:
    return " ".join(label.replace("$", "").replace("\\", "").split())


def alt_text(fig: Any) -> str:
    """Text alternative of a matplotlib figure.

    The description given with :func:`describe` (if any), then, generated from
    the figure: its title, and for each panel its title, axis labels (with
    scales when logarithmic) and legend entries.  TeX markup is stripped.
    """
    if not hasattr(fig, "axes"):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    parts = [getattr(fig, "_course_alt", "")]
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        parts.append(f"Figure titled '{_clean(suptitle.get_text())}'.")
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    if len(axes) > 1:
        parts.append(f"{len(axes)} panels.")
    for k, ax in enumerate(axes, 1):
        bits = []
        if ax.get_title():
            bits.append(f"'{_clean(ax.get_title())}'")
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            label = _clean(axis.get_label_text())
            if label:
                scale = axis.get_scale()
                bits.append(f"{name}: {label}" + (f" ({scale} scale)" if scale != "linear" else ""))
        legend = ax.get_legend()
        if legend is not None:
            entries = [_clean(t.get_text()) for t in legend.get_texts() if t.get_text()]
            if entries:
                bits.append("legend: " + "; ".join(entries))
        if bits:
            parts.append((f"Panel {k}: " if len(axes) > 1 else "Plot: ") + ", ".join(bits) + ".")
    return " ".join(p for p in parts if p) or "Figure without labels."


def _texts(fig: Any) -> list[Any]:
    """The visible, non-empty texts of ``fig`` (tick labels included: the figure is laid out first)."""
    from matplotlib.text import Text

    fig.draw_without_rendering()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _row_of_panels(fig: Any) -> list[Any] | None:
    """The axes of ``fig`` if they are a plain 1 x n row of 2-D panels (no colour bars, no 3-D), else None."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    if len(axes) < 2 or len(axes) != len(fig.axes):
        return None
    specs = [ax.get_subplotspec() for ax in axes]
    if any(sp is None or ax.name != "rectilinear" for sp, ax in zip(specs, axes)):
        return None
    grid = specs[0].get_gridspec()
    nrows, ncols = grid.get_geometry()
    if nrows != 1 or ncols != len(axes) or any(sp.get_gridspec() is not grid for sp in specs):
        return None
    if sorted(sp.colspan.start for sp in specs) != list(range(ncols)) or any(len(sp.colspan) != 1 for sp in specs):
        return None
    return sorted(axes, key=lambda ax: ax.get_subplotspec().colspan.start)


def legible(fig: Any, column_px: float = BOOK_COLUMN_PX) -> Any:
    """Make ``fig`` legible in the book's column (in place); returns ``fig``.

    1. Text smaller than :data:`MIN_FONT_PT` is raised to it.
    2. A row of ``n`` panels whose width ``w`` (inches) would shrink its smallest
       text ``s`` (points) below :data:`MIN_TEXT_CSS_PX` in a column of
       ``column_px`` CSS px -- shown size ``s / 72 * column_px / w`` -- is re-laid
       as a grid of ``c`` columns (``ceil(n / c)`` rows), with ``c`` the largest
       count that fits, the panels keeping their size.  Figures of another
       shape (colour bars, 3-D axes) are left as they are; the book then lets
       them scroll rather than shrink.
    """
    _check_fig(fig)
    if column_px != BOOK_COLUMN_PX:
        _checks.positive("column_px", column_px)
    if not hasattr(fig, "axes"):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not (isinstance(column_px, (int, float)) and column_px > 0):
        raise ValueError(f"column_px must be a positive width in CSS px, got {column_px!r}")
    texts = _texts(fig)
    for t in texts:
        if t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
    smallest = min((t.get_fontsize() for t in texts), default=MIN_FONT_PT)
    width, height = fig.get_size_inches()
    max_width = smallest / 72 * column_px / MIN_TEXT_CSS_PX  # inches
    row = _row_of_panels(fig)
    if row is not None and width > max_width:
        n = len(row)
        panel = width / n
        cols = max(1, min(n - 1, int(max_width // panel)))
        rows = math.ceil(n / cols)
        grid = fig.add_gridspec(rows, cols)
        for k, ax in enumerate(row):
            ax.set_subplotspec(grid[k // cols, k % cols])
        fig.set_size_inches(panel * cols, height * rows)
        if fig.get_layout_engine() is None:
            fig.set_layout_engine("constrained")
    return fig


def _values(name: str, v: Any, *, allow_nan: bool = False) -> np.ndarray:
    """A float64 array of real numbers (NaN/inf allowed with ``allow_nan``: a missing point), named errors."""
    if not allow_nan:
        return _checks.real_array(name, v)
    if v is None or isinstance(v, (str, bytes, bool)):
        raise ValueError(f"{name} must be an array of numbers, got {v!r}")
    a = np.asarray(v)
    if a.dtype.kind not in "iuf" or a.size == 0:
        raise ValueError(f"{name} must be a non-empty array of real numbers, got dtype {a.dtype} and shape {a.shape}")
    return a.astype(float)


def _check_fig(fig: Any) -> Any:
    if not (hasattr(fig, "savefig") and hasattr(fig, "axes")):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return fig


def figure_png(fig: Any, dpi: int | None = None) -> bytes:
    """PNG bytes of ``fig`` (tight bounding box), made :func:`legible` first.

    The PNG's ``Description`` field holds :func:`alt_text` of the figure and
    ``Course-Min-Text-Px`` the size of its smallest text in image pixels (the
    book derives each figure's smallest display width from it).  ``dpi``
    defaults to the figure's own, as in Jupyter's inline display.
    """
    import io

    _check_fig(fig)
    if dpi is not None:
        dpi = _checks.positive_int("dpi", dpi)
    legible(fig)
    dpi = dpi or fig.dpi
    smallest = min((t.get_fontsize() for t in _texts(fig)), default=MIN_FONT_PT)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Description": alt_text(fig), "Course-Min-Text-Px": f"{smallest * dpi / 72:.2f}"})
    return buf.getvalue()


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 4.0, **kwargs: Any):
    """``plt.subplots`` with the course's figure size: ``width`` x ``height`` inches per panel row.

    ``width`` is the width of the whole figure, ``height`` that of one row.
    Returns ``(fig, axes)`` like :func:`matplotlib.pyplot.subplots`.
    """
    import matplotlib.pyplot as plt

    for name, v in (("nrows", nrows), ("ncols", ncols)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    _checks.positive("width", width)
    _checks.positive("height", height)
    for name, v in (("width", width), ("height", height)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number of inches, got {v!r}")
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), **kwargs)


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_ax(name: str, ax: Any, three_d: bool = False) -> None:
    needed = "plot_surface" if three_d else "plot"
    if not hasattr(ax, needed):
        kind = "a 3-D matplotlib Axes (projection='3d')" if three_d else "a matplotlib Axes"
        raise ValueError(f"{name} must be {kind}, got {type(ax).__name__}")


def _check_interval(name: str, lim: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in lim)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {lim!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must satisfy low < high (finite), got {lim!r}")
    return lo, hi


def _label_if_empty(ax: Any, xlabel: str | None, ylabel: str | None) -> None:
    if xlabel is not None and not ax.get_xlabel():
        ax.set_xlabel(xlabel)
    if ylabel is not None and not ax.get_ylabel():
        ax.set_ylabel(ylabel)


def _grid(f: Callable[[Any], Any], xlim: tuple[float, float], ylim: tuple[float, float], n_grid: int):
    if isinstance(n_grid, bool) or not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise ValueError(f"n_grid must be an integer >= 2, got {n_grid!r}")
    if not callable(f):
        raise ValueError(f"f must be a callable mapping points (..., 2) to values (...), got {type(f).__name__}")
    x = np.linspace(*xlim, n_grid)
    y = np.linspace(*ylim, n_grid)
    X, Y = np.meshgrid(x, y)
    Z = np.asarray(f(np.stack([X, Y], axis=-1)), dtype=float)
    if Z.shape != X.shape:
        raise ValueError(f"f must map an array (m, m, 2) to (m, m); got output shape {Z.shape}")
    return X, Y, Z


def _log_levels(Z: np.ndarray, levels: int, floor: float | None) -> np.ndarray:
    finite = Z[np.isfinite(Z)]
    top = float(finite.max())
    if top <= 0:
        raise ValueError("log=True needs a function with positive values; use log=False")
    lo = float(finite[finite > 0].min()) if floor is None else float(floor)
    lo = max(lo, top * 1e-6)
    return np.geomspace(lo, top, levels)


# ---------------------------------------------------------------------------
# landscapes
# ---------------------------------------------------------------------------


def contour(
    ax: Any,
    f: Callable[[Any], Any],
    xlim: Sequence[float],
    ylim: Sequence[float],
    *,
    levels: int | Sequence[float] = 20,
    log: bool = True,
    floor: float | None = 0.1,
    n_grid: int = 200,
    filled: bool = False,
    cmap: str = "Greys_r",
    linewidths: float = 0.7,
) -> Any:
    r"""Contour lines (or filled contours) of a 2-D landscape ``f`` on ``xlim`` x ``ylim``.

    ``f`` maps an array of points ``(..., 2)`` to values ``(...)`` (every
    :mod:`course_lib.landscapes` function does).  With ``log=True`` and an
    integer ``levels``, the levels are geometrically spaced between ``floor``
    and the maximum on the window, which suits landscapes like Himmelblau's
    whose values span several orders of magnitude.  Axes are labelled
    :math:`x_1`, :math:`x_2` (if empty) and get an equal aspect ratio.
    Returns the ``QuadContourSet``.
    """
    _check_ax("ax", ax)
    xlim, ylim = _check_interval("xlim", xlim), _check_interval("ylim", ylim)
    X, Y, Z = _grid(f, xlim, ylim, n_grid)
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        if levels < 2:
            raise ValueError(f"levels must be >= 2 or a sequence of values, got {levels!r}")
        lev = _log_levels(Z, int(levels), floor) if log else np.linspace(np.nanmin(Z), np.nanmax(Z), int(levels))
    else:
        lev = np.asarray(levels, dtype=float)
        if lev.ndim != 1 or lev.size < 1 or not np.all(np.diff(lev) > 0):
            raise ValueError("levels must be an int or an increasing sequence of values")
    norm = mcolors.LogNorm(lev[0], lev[-1]) if log and lev[0] > 0 else None
    if filled:
        cs = ax.contourf(X, Y, Z, levels=lev, cmap=cmap, norm=norm)
    else:
        cs = ax.contour(X, Y, Z, levels=lev, cmap=cmap, norm=norm, linewidths=linewidths)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    _label_if_empty(ax, r"$x_1$", r"$x_2$")
    return cs


def surface(
    ax3d: Any,
    f: Callable[[Any], Any],
    xlim: Sequence[float],
    ylim: Sequence[float],
    *,
    n_grid: int = 80,
    log: bool = False,
    cmap: str = "viridis",
    alpha: float = 0.9,
) -> Any:
    r"""Surface plot of a 2-D landscape ``f`` (points ``(..., 2)`` to values ``(...)``).

    ``ax3d`` must be a 3-D axes (``fig.add_subplot(projection="3d")``).  With
    ``log=True`` the height is :math:`\log_{10}(1 + f)`.  Axes are labelled
    :math:`x_1`, :math:`x_2` and :math:`f(x)` (or :math:`\log_{10}(1+f(x))`).
    Returns the ``Poly3DCollection``.
    """
    _check_ax("ax3d", ax3d, three_d=True)
    _checks.in_range("alpha", alpha, 0.0, 1.0)
    xlim, ylim = _check_interval("xlim", xlim), _check_interval("ylim", ylim)
    X, Y, Z = _grid(f, xlim, ylim, n_grid)
    if log:
        if np.nanmin(Z) <= -1:
            raise ValueError("log=True needs f > -1 on the window")
        Z = np.log10(1.0 + Z)
    surf = ax3d.plot_surface(X, Y, Z, cmap=cmap, alpha=alpha, linewidth=0, antialiased=True, rstride=1, cstride=1)
    ax3d.set_xlabel(r"$x_1$")
    ax3d.set_ylabel(r"$x_2$")
    ax3d.set_zlabel(r"$\log_{10}(1+f(x))$" if log else r"$f(x)$")
    return surf


# ---------------------------------------------------------------------------
# chains
# ---------------------------------------------------------------------------


def paths(
    ax: Any,
    xs: Any,
    *,
    dims: tuple[int, int] = (0, 1),
    max_chains: int | None = None,
    colors: Sequence[str] | None = None,
    linewidth: float = 1.0,
    alpha: float = 0.85,
    label: str | None = None,
) -> list[Any]:
    r"""Paths of a few SGD chains in the plane, with a circle at the start and a star at the end.

    ``xs`` has shape ``(T+1, n, d)`` (as in :class:`course_lib.simulate.Trajectories`)
    or ``(T+1, d)`` for one chain, ``d >= 2``; coordinates ``dims`` are drawn.
    At most ``max_chains`` chains are drawn (all by default), coloured in turn
    from ``colors`` (Okabe--Ito by default).  ``label`` names the first path in
    a legend.  Returns the list of path ``Line2D`` objects, one per chain.
    """
    _check_ax("ax", ax)
    arr = _checks.real_array("xs", xs)
    _checks.positive("linewidth", linewidth)
    _checks.in_range("alpha", alpha, 0.0, 1.0)
    if max_chains is not None:
        _checks.positive_int("max_chains", max_chains)
    if not isinstance(dims, (tuple, list)) or len(dims) != 2:
        raise ValueError(f"dims must be a pair of coordinate indices, got {dims!r}")
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[0] < 1:
        raise ValueError(f"xs must have shape (T+1, n, d) or (T+1, d), got shape {np.shape(xs)}")
    d = arr.shape[2]
    if len(dims) != 2 or not all(0 <= i < d for i in dims):
        raise ValueError(f"dims must be two coordinate indices in [0, {d}), got {dims!r}")
    n = arr.shape[1] if max_chains is None else min(arr.shape[1], int(max_chains))
    if n < 1:
        raise ValueError(f"max_chains must be >= 1, got {max_chains!r}")
    palette = list(colors) if colors is not None else [c for c in OKABE_ITO if c != "#F0E442"]
    if not palette:
        raise ValueError("colors must be a non-empty sequence of colours")
    lines = []
    i, j = dims
    for k in range(n):
        c = palette[k % len(palette)]
        (line,) = ax.plot(arr[:, k, i], arr[:, k, j], color=c, lw=linewidth, alpha=alpha,
                          label=label if k == 0 else None)
        ax.plot(arr[0, k, i], arr[0, k, j], "o", color=c, ms=5, mec="white", mew=0.8)
        ax.plot(arr[-1, k, i], arr[-1, k, j], "*", color=c, ms=11, mec="black", mew=0.6)
        lines.append(line)
    _label_if_empty(ax, rf"$x_{i + 1}$", rf"$x_{j + 1}$")
    return lines


def mark_points(ax: Any, points: Any, *, marker: str = "x", color: str = "white", size: float = 8.0,
                label: str | None = None) -> Any:
    """Mark points (e.g. minimisers), shape ``(k, 2)``, with crosses.  Returns the ``Line2D``."""
    _check_ax("ax", ax)
    P = _checks.real_array("points", points)
    _checks.positive("size", size)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"points must have shape (k, 2), got shape {np.shape(points)}")
    (line,) = ax.plot(P[:, 0], P[:, 1], ls="none", marker=marker, color=color, ms=size, mew=2, label=label)
    return line


# ---------------------------------------------------------------------------
# occupation measures and densities
# ---------------------------------------------------------------------------


def histogram2d(
    ax: Any,
    hist: Any,
    *,
    log: bool = True,
    floor: float = 1e-4,
    cmap: str = "viridis",
) -> Any:
    r"""An occupation :class:`course_lib.simulate.Histogram` over two coordinates, as an image.

    ``hist.counts`` has shape ``(n_x, n_y)`` and ``hist.edges`` holds the two
    edge arrays ``(n_x + 1,)`` and ``(n_y + 1,)``.  The image shows the density
    (``hist.density()``: fraction of the counted iterates per unit area), on a
    logarithmic colour scale from ``floor`` times its maximum when ``log=True``
    (empty bins are left blank).  Returns the ``AxesImage``; add a colour bar
    with ``fig.colorbar(im, ax=ax, label="occupation density")``.
    """
    _check_ax("ax", ax)
    _checks.positive("floor", floor)
    counts = getattr(hist, "counts", None)
    edges = getattr(hist, "edges", None)
    if counts is None or edges is None or np.ndim(counts) != 2 or len(edges) != 2:
        raise ValueError("hist must be a 2-D course_lib.simulate.Histogram (counts (n_x, n_y), two edge arrays)")
    counts = np.asarray(counts)
    ex, ey = (np.asarray(e, dtype=float) for e in edges)
    if ex.shape != (counts.shape[0] + 1,) or ey.shape != (counts.shape[1] + 1,):
        raise ValueError(f"hist.edges must have sizes {counts.shape[0] + 1} and {counts.shape[1] + 1}")
    if not 0 < floor < 1:
        raise ValueError(f"floor must lie in (0, 1), got {floor!r}")
    dens = np.asarray(hist.density(), dtype=float) if hasattr(hist, "density") else counts.astype(float)
    top = float(dens.max())
    if log and top > 0:
        norm = mcolors.LogNorm(vmin=top * floor, vmax=top)
        dens = np.where(dens > 0, dens, np.nan)
    else:
        norm = None
    im = ax.imshow(dens.T, origin="lower", extent=(ex[0], ex[-1], ey[0], ey[-1]), cmap=cmap, norm=norm,
                   interpolation="nearest", aspect="equal")
    ax.set_facecolor("white")
    ax.grid(False)
    _label_if_empty(ax, r"$x_1$", r"$x_2$")
    return im


def density(
    ax: Any,
    values: Any,
    *,
    bins: int | Sequence[float] = 50,
    range: tuple[float, float] | None = None,  # noqa: A002 (numpy's name)
    predicted: Callable[[np.ndarray], Any] | tuple[Any, Any] | None = None,
    label: str = "measured",
    predicted_label: str = "predicted",
    xlabel: str | None = None,
) -> dict[str, Any]:
    r"""A 1-D empirical density (histogram normalised to integrate to one) against a predicted curve.

    ``values`` is a 1-D array of samples ``(m,)``, or a 1-D
    :class:`course_lib.simulate.Histogram` (``counts`` ``(k,)``, one edge array
    ``(k+1,)``).  ``predicted`` is a density ``p(x)`` (a callable, evaluated on a
    fine grid) or a pair of arrays ``(x, p)``.  Returns
    ``{"bars": ..., "line": ... or None}``; the y axis is labelled "density".
    """
    _check_ax("ax", ax)
    if isinstance(bins, (int, np.integer, float, bool, np.bool_)) or bins is None or isinstance(bins, str):
        _checks.positive_int("bins", bins)
    else:
        _checks.real_array("bins", bins)
    if not (hasattr(values, "counts") and hasattr(values, "edges")):
        _checks.real_array("values", values)
    if hasattr(values, "counts") and hasattr(values, "edges"):
        counts = np.asarray(values.counts, dtype=float)
        if counts.ndim != 1:
            raise ValueError(f"values: a Histogram must be 1-D here, got counts of shape {counts.shape}")
        edges = np.asarray(values.edges[0], dtype=float)
        widths = np.diff(edges)
        total = counts.sum()
        if total <= 0:
            raise ValueError("values: the histogram is empty")
        heights = counts / (total * widths)
        bars = ax.stairs(heights, edges, fill=True, alpha=0.5, color=OKABE_ITO[0], label=label)
        lo, hi = edges[0], edges[-1]
    else:
        v = np.asarray(values, dtype=float)
        if v.ndim != 1 or v.size < 2:
            raise ValueError(f"values must be a 1-D array of at least 2 samples, got shape {v.shape}")
        v = v[np.isfinite(v)]
        if v.size < 2:
            raise ValueError("values must contain at least 2 finite samples")
        heights, edges = np.histogram(v, bins=bins, range=range, density=True)
        bars = ax.stairs(heights, edges, fill=True, alpha=0.5, color=OKABE_ITO[0], label=label)
        lo, hi = edges[0], edges[-1]
    line = None
    if predicted is not None:
        if callable(predicted):
            x = np.linspace(lo, hi, 400)
            p = np.asarray(predicted(x), dtype=float)
        else:
            try:
                x, p = (np.asarray(a, dtype=float) for a in predicted)
            except (TypeError, ValueError):
                raise ValueError("predicted must be a callable p(x) or a pair of arrays (x, p)") from None
        if x.shape != p.shape or x.ndim != 1:
            raise ValueError(f"predicted: x and p must be 1-D of the same length, got {x.shape} and {p.shape}")
        (line,) = ax.plot(x, p, color=OKABE_ITO[3], lw=2, label=predicted_label)
    _label_if_empty(ax, xlabel, "density")
    return {"bars": bars, "line": line}


def measured_vs_predicted(
    ax: Any,
    x: Any,
    measured: Any,
    predicted: Any | None = None,
    *,
    yerr: Any | None = None,
    x_pred: Any | None = None,
    xlabel: str,
    ylabel: str,
    label: str = "measured",
    predicted_label: str = "predicted",
    loglog: bool = True,
    color: str = OKABE_ITO[0],
    line_color: str = OKABE_ITO[3],
) -> dict[str, Any]:
    r"""Measured values as markers (optional error bars) against a prediction or bound as a line.

    ``x`` and ``measured`` have shape ``(k,)``; ``predicted`` is ``(k,)`` (at
    ``x``), or ``(m,)`` at ``x_pred``, or a callable evaluated on a fine grid.
    ``yerr`` (``(k,)``) draws error bars.  Log-log axes by default, the natural
    scale for rates (a power law is a straight line).  ``xlabel`` and
    ``ylabel`` are required: every course figure labels its axes.
    Returns ``{"points": ..., "line": ... or None}``.
    """
    _check_ax("ax", ax)
    xv = _values("x", x)
    mv = _values("measured", measured, allow_nan=True)  # NaN: a point not measured (e.g. a diverged run)
    if predicted is not None and not callable(predicted):
        pv = _values("predicted", predicted, allow_nan=True)
        if x_pred is None and pv.shape != xv.shape:
            raise ValueError(f"predicted must have the shape of x {xv.shape} (or pass x_pred), got {pv.shape}")
    if xv.ndim != 1 or xv.shape != mv.shape or xv.size < 1:
        raise ValueError(f"x and measured must be 1-D arrays of the same length, got {xv.shape} and {mv.shape}")
    if not (isinstance(xlabel, str) and xlabel and isinstance(ylabel, str) and ylabel):
        raise ValueError("xlabel and ylabel must be non-empty strings")
    if loglog and (np.any(xv <= 0) or np.any(mv[np.isfinite(mv)] <= 0)):
        raise ValueError("loglog=True needs positive x and measured values")
    if yerr is not None:
        ev = np.asarray(yerr, dtype=float)
        if ev.shape != mv.shape:
            raise ValueError(f"yerr must have the shape of measured {mv.shape}, got {ev.shape}")
        points = ax.errorbar(xv, mv, yerr=ev, fmt="o", color=color, capsize=3, label=label, zorder=3)
    else:
        (points,) = ax.plot(xv, mv, "o", color=color, label=label, zorder=3)
    line = None
    if predicted is not None:
        if callable(predicted):
            xp = np.geomspace(xv.min(), xv.max(), 200) if loglog else np.linspace(xv.min(), xv.max(), 200)
            pv = np.asarray(predicted(xp), dtype=float)
        else:
            xp = xv if x_pred is None else np.asarray(x_pred, dtype=float)
            pv = np.asarray(predicted, dtype=float)
        if xp.shape != pv.shape:
            raise ValueError(f"predicted must have the shape of its x values {xp.shape}, got {pv.shape}")
        (line,) = ax.plot(xp, pv, "-", color=line_color, lw=2, label=predicted_label, zorder=2)
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return {"points": points, "line": line}
