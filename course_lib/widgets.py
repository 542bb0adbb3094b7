"""Interactive figures: live sliders in Jupyter, a static figure in the book.

Every chapter uses one pattern::

    from course_lib.widgets import Slider, interactive_figure

    def draw(step, sigma):             # returns a matplotlib Figure
        ...

    interactive_figure(
        draw,
        {"step": Slider(0.001, 0.05, 0.001, 0.01, "step size η"),
         "sigma": Slider(0.0, 5.0, 0.5, 2.0, "noise σ")},
        alt="Trajectories of SGD on Himmelblau's function ...",
    )

The returned object displays as a *mime bundle* holding both

* the ipywidgets view (sliders above a figure that is redrawn when a slider is
  released) -- JupyterLab, Binder and Colab pick it; and
* an HTML ``<figure>`` with the figure(s) drawn at the default parameters (or at
  a few parameter sets given by ``static``), with alt text and a caption
  pointing to Binder -- the built book picks it (``_config.yml`` removes the
  widget view from the HTML builder's priorities), so the HTML never shows a
  dead slider.

``draw`` should call course_lib simulators whose widget-controlled values are
traced arguments, so moving a slider never recompiles JAX code.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Slider", "InteractiveFigure", "interactive_figure", "figure_to_png"]


@dataclasses.dataclass(frozen=True)
class Slider:
    """A numeric control: range ``[min, max]``, increment ``step``, default ``value``.

    ``integer=True`` gives an integer slider (e.g. a number of steps).
    """

    min: float
    max: float
    step: float
    value: float
    description: str = ""
    integer: bool = False

    def __post_init__(self) -> None:
        from . import _checks

        for name in ("min", "max", "step", "value"):
            _checks.real(name, getattr(self, name))
        _checks.positive("step", self.step)
        if not self.min < self.max:
            raise ValueError(f"Slider min must be < max, got min={self.min}, max={self.max}")
        if not self.step > 0:
            raise ValueError(f"Slider step must be > 0, got {self.step}")
        if not self.min <= self.value <= self.max:
            raise ValueError(f"Slider value must lie in [min, max] = [{self.min}, {self.max}], got {self.value}")

    def widget(self, name: str) -> Any:
        """The ipywidgets slider for this control (released-only updates)."""
        import ipywidgets as w

        cls = w.IntSlider if self.integer else w.FloatSlider
        cast = int if self.integer else float
        extra = {} if self.integer else {"readout_format": self.readout_format()}
        return cls(
            min=cast(self.min), max=cast(self.max), step=cast(self.step), value=cast(self.value),
            description=self.description or name, continuous_update=False,
            style={"description_width": "initial"}, layout=w.Layout(width="420px"), **extra,
        )

    def readout_format(self) -> str:
        """Format of the value shown next to a float slider: as many decimals as ``step`` and ``value`` need.

        (ipywidgets' default ``.2f`` would show a step of 0.003 as no change at all.)
        """
        decimals = 0
        for v in (self.step, self.value, self.min):
            text = f"{abs(float(v)):.10f}".rstrip("0")
            decimals = max(decimals, len(text.split(".")[1]) if "." in text else 0)
        return f".{min(decimals, 8)}f"


def figure_to_png(fig: Any, dpi: int = 110) -> bytes:
    """Render a matplotlib figure to PNG bytes (and close it).

    Rendered by :func:`course_lib.plotting.figure_png`: legible in the book's
    column, with alt text and the smallest text size in the PNG's metadata.
    """
    import matplotlib.pyplot as plt

    from . import _checks
    from .plotting import figure_png

    dpi = _checks.positive_int("dpi", dpi)

    png = figure_png(fig, dpi=dpi)
    plt.close(fig)
    return png


def _min_text_px(png: bytes) -> str:
    """The ``Course-Min-Text-Px`` field of a PNG written by figure_png ('' if absent)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            return str(getattr(im, "text", {}).get("Course-Min-Text-Px", ""))
    except (OSError, ValueError, ImportError):  # pragma: no cover - Pillow comes with matplotlib
        return ""


def _in_kernel() -> bool:
    """True inside a Jupyter kernel, where widgets can reach a front end."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _format_values(values: Mapping[str, Any], controls: Mapping[str, Slider]) -> str:
    parts = []
    for name, v in values.items():
        label = controls[name].description or name
        parts.append(f"{label} = {v:g}" if isinstance(v, (int, float)) else f"{label} = {v}")
    return ", ".join(parts)


class InteractiveFigure:
    """Displayable pairing of a live widget and its static rendering (see module doc)."""

    def __init__(
        self,
        draw: Callable[..., Any],
        controls: Mapping[str, Slider],
        alt: str,
        static: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not callable(draw):
            raise ValueError(f"draw must be a callable returning a matplotlib Figure, got {type(draw).__name__}")
        if not controls or not all(isinstance(c, Slider) for c in controls.values()):
            raise ValueError("controls must be a non-empty dict of name -> Slider")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError("alt must be a non-empty description of the figure (alt text)")
        self.draw = draw
        self.controls = dict(controls)
        self.alt = alt
        self.defaults = {k: c.value for k, c in self.controls.items()}
        self.static = [{**self.defaults, **dict(s)} for s in (static or [{}])]
        for s in self.static:
            unknown = set(s) - set(self.controls)
            if unknown:
                raise ValueError(f"static parameter sets may only use control names {sorted(self.controls)}, got {sorted(unknown)}")
        self._widget: Any = None
        self._static_png: list[bytes] | None = None

    # -- static rendering ---------------------------------------------------
    def static_pngs(self) -> list[bytes]:
        """PNG images of the figure at each static parameter set (computed once)."""
        if self._static_png is None:
            self._static_png = [figure_to_png(self.draw(**values)) for values in self.static]
        return self._static_png

    def static_html(self) -> str:
        """The HTML ``<figure>`` shown in the book in place of the live widget."""
        items = []
        for values, png in zip(self.static, self.static_pngs()):
            b64 = base64.b64encode(png).decode("ascii")
            caption = html.escape(_format_values(values, self.controls))
            text_px = _min_text_px(png)
            items.append(
                f'<figure class="course-static-figure" style="margin:0 0 0.5em 0">'
                f'<img src="data:image/png;base64,{b64}" alt="{html.escape(self.alt)} ({caption})" '
                + (f'data-min-text-px="{html.escape(text_px)}" ' if text_px else "")
                + f'style="max-width:100%;height:auto"/>'
                f'<figcaption style="font-size:0.9em">{caption}</figcaption></figure>'
            )
        note = (
            '<p class="course-widget-note" style="font-size:0.9em;font-style:italic">'
            "Static figure at the parameters shown. In the live notebook this figure has sliders: "
            "open this page in Binder (rocket icon at the top of the page) or run it locally to move them.</p>"
        )
        return '<div class="course-interactive">' + "".join(items) + note + "</div>"

    # -- live widget -----------------------------------------------------------
    def widget(self) -> Any:
        """The ipywidgets box: sliders above an output area redrawn on release."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as w
        from IPython.display import display

        sliders = {name: c.widget(name) for name, c in self.controls.items()}
        out = w.Output()

        def redraw(*_: Any) -> None:
            values = {name: s.value for name, s in sliders.items()}
            png = figure_to_png(self.draw(**values))
            with out:
                out.clear_output(wait=True)
                display(w.Image(value=png, format="png"))

        for s in sliders.values():
            s.observe(redraw, names="value")
        with out:
            display(w.Image(value=self.static_pngs()[0], format="png"))
        self._widget = w.VBox([*sliders.values(), out])
        self._sliders = sliders
        self._redraw = redraw
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {
            "text/plain": f"Interactive figure ({', '.join(self.controls)}); {self.alt}",
            "text/html": self.static_html(),
            # the PDF (LaTeX builder) and other non-HTML front ends show the figure itself
            "image/png": base64.b64encode(self.static_pngs()[0]).decode("ascii"),
        }
        view = self.widget()._repr_mimebundle_() if _in_kernel() else {}
        if view and "application/vnd.jupyter.widget-view+json" in view:
            bundle["application/vnd.jupyter.widget-view+json"] = view["application/vnd.jupyter.widget-view+json"]
        return bundle


def interactive_figure(
    draw: Callable[..., Any],
    controls: Mapping[str, Slider],
    *,
    alt: str,
    static: Sequence[Mapping[str, Any]] | None = None,
) -> InteractiveFigure:
    """Pair ``draw(**values) -> Figure`` with sliders (see the module docstring).

    ``controls`` maps each keyword of ``draw`` to a :class:`Slider`; ``alt`` is the
    alt text of the static figure; ``static`` optionally lists a few parameter
    sets (partial dicts, completed by the defaults) to show side by side in the
    book instead of the defaults alone.  Display the result as the last
    expression of a cell.
    """
    return InteractiveFigure(draw, controls, alt, static)
