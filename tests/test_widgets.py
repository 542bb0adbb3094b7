"""course_lib.widgets: live controls, static HTML rendering, no recompilation."""

from __future__ import annotations

import base64
import re

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib import landscapes, noise, simulate  # noqa: E402
from course_lib.widgets import Slider, interactive_figure  # noqa: E402


def _line(a=1.0, n=3):
    fig, ax = plt.subplots()
    ax.plot(range(n), [a * i for i in range(n)])
    ax.set_xlabel("i")
    ax.set_ylabel("a i")
    return fig


def test_static_html_has_one_png_per_parameter_set_with_alt_text():
    calls = []

    def draw(a, n):
        calls.append((a, n))
        return _line(a, n)

    w = interactive_figure(
        draw,
        {"a": Slider(0.0, 2.0, 0.1, 1.0, "slope"), "n": Slider(2, 10, 1, 3, "points", integer=True)},
        alt="A straight line",
        static=[{"a": 0.5}, {}],
    )
    html = w.static_html()
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert len(imgs) == 2
    assert all(base64.b64decode(b64)[:4] == b"\x89PNG" for b64, _ in imgs)
    assert imgs[0][1].startswith("A straight line") and "slope = 0.5" in imgs[0][1]
    assert calls == [(0.5, 3), (1.0, 3)]  # static sets completed by the defaults
    assert "Binder" in html
    w.static_html()
    assert len(calls) == 2  # rendered once, then cached
    assert plt.get_fignums() == []  # figures are closed: nothing is shown twice in a notebook


def test_outside_a_kernel_only_the_static_figure_is_offered():
    w = interactive_figure(lambda a: _line(a), {"a": Slider(0, 1, 0.1, 0.5)}, alt="line")
    bundle = w._repr_mimebundle_()
    # the static figure as HTML (the book's pages) and as a PNG (the PDF); no widget view
    assert set(bundle) == {"text/plain", "text/html", "image/png"}
    assert base64.b64decode(bundle["image/png"]) == w.static_pngs()[0]
    assert 'data-min-text-px="' in bundle["text/html"]


def test_slider_release_redraws_with_new_values():
    calls = []

    def draw(a):
        calls.append(a)
        return _line(a)

    w = interactive_figure(draw, {"a": Slider(0.0, 2.0, 0.1, 1.0)}, alt="line")
    box = w.widget()
    slider = box.children[0]
    assert slider.continuous_update is False  # redraw on release, not on every pixel
    slider.value = 1.5
    assert calls[-1] == pytest.approx(1.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(draw=None, controls={"a": Slider(0, 1, 0.1, 0.5)}, alt="x"), "draw"),
        (dict(draw=_line, controls={}, alt="x"), "controls"),
        (dict(draw=_line, controls={"a": Slider(0, 1, 0.1, 0.5)}, alt=""), "alt"),
        (dict(draw=_line, controls={"a": Slider(0, 1, 0.1, 0.5)}, alt="x", static=[{"b": 1}]), "static"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        interactive_figure(kwargs.pop("draw"), kwargs.pop("controls"), **kwargs)


def test_slider_validates_its_range():
    with pytest.raises(ValueError, match="min"):
        Slider(1, 0, 0.1, 0.5)
    with pytest.raises(ValueError, match="value"):
        Slider(0, 1, 0.1, 2.0)


def test_moving_sliders_of_a_simulation_widget_does_not_recompile():
    x0 = jnp.zeros((64, 2))

    def draw(step, sigma, n_steps):
        h = simulate.occupation_histogram(
            jax.random.key(0), landscapes.himmelblau, noise.gaussian(sigma), x0, step, n_steps,
            low=[-6, -6], high=[6, 6], n_bins=20,
        )
        fig, ax = plt.subplots()
        ax.imshow(h.counts)
        return fig

    w = interactive_figure(
        draw,
        {"step": Slider(0.001, 0.02, 0.001, 0.01), "sigma": Slider(0.5, 5, 0.5, 2.0),
         "n_steps": Slider(100, 1000, 100, 300, integer=True)},
        alt="histogram",
    )
    box = w.widget()  # draws the defaults once (compiles)
    before = simulate._hist_chunk._cache_size()
    step, sigma, n_steps = box.children[:3]
    step.value, sigma.value, n_steps.value = 0.005, 3.5, 700
    assert simulate._hist_chunk._cache_size() == before


def test_float_slider_readout_shows_every_step():
    from course_lib.widgets import Slider

    assert Slider(0.001, 0.05, 0.001, 0.01).readout_format() == ".3f"
    assert Slider(0.0, 1.0, 0.1, 0.5).readout_format() == ".1f"
    assert Slider(0.1, 3.0, 0.05, 1.0).readout_format() == ".2f"
    s = Slider(0.001, 0.05, 0.003, 0.01)
    widget = s.widget("step")
    assert widget.readout_format == ".3f"
    assert format(0.013, widget.readout_format) != format(0.01, widget.readout_format)
