"""course_lib.plotting: one style, artists returned, labelled axes, ValueError on bad input."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import landscapes, noise, simulate  # noqa: E402
from course_lib import plotting as cplt  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_import_changes_no_global_state():
    code = (
        "import matplotlib; matplotlib.use('Agg'); import matplotlib as mpl\n"
        "before = dict(mpl.rcParams)\n"
        "import course_lib.plotting as p\n"
        "assert dict(mpl.rcParams) == before, 'import changed rcParams'\n"
        "p.use_course_style()\n"
        "assert mpl.rcParams['axes.prop_cycle'].by_key()['color'][0].lower() == p.OKABE_ITO[0].lower()\n"
        "assert mpl.rcParams['axes.grid']\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_style_uses_the_colour_blind_safe_cycle_and_readable_sizes():
    cycle = cplt.COURSE_STYLE["axes.prop_cycle"].by_key()["color"]
    assert set(cycle) <= set(cplt.OKABE_ITO)
    assert "#F0E442" not in cycle  # yellow is unreadable on white
    assert cplt.COURSE_STYLE["font.size"] >= 10


def test_contour_log_levels_and_labels():
    fig, ax = plt.subplots()
    cs = cplt.contour(ax, landscapes.himmelblau, (-6, 6), (-6, 6), levels=12, n_grid=60)
    lev = np.asarray(cs.levels)
    assert lev.size == 12 and np.allclose(np.diff(np.log(lev)), np.log(lev[1] / lev[0]))  # geometric
    assert ax.get_xlabel() and ax.get_ylabel()
    fig2, ax2 = plt.subplots()
    cs2 = cplt.contour(ax2, landscapes.himmelblau, (-6, 6), (-6, 6), levels=12, log=False, n_grid=60, filled=True)
    assert np.allclose(np.diff(cs2.levels), cs2.levels[1] - cs2.levels[0])


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(xlim=(1, -1)), "xlim"),
        (dict(ylim=(0, np.inf)), "ylim"),
        (dict(levels=1), "levels"),
        (dict(n_grid=1), "n_grid"),
        (dict(f="not callable"), "f"),
    ],
)
def test_contour_rejects_bad_input(kwargs, word):
    fig, ax = plt.subplots()
    args = dict(f=landscapes.himmelblau, xlim=(-1, 1), ylim=(-1, 1))
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        cplt.contour(ax, args.pop("f"), args.pop("xlim"), args.pop("ylim"), **args)
    with pytest.raises(ValueError, match="ax"):
        cplt.contour("not an axes", landscapes.himmelblau, (-1, 1), (-1, 1))


def test_surface_needs_3d_axes():
    fig = plt.figure()
    ax3 = fig.add_subplot(projection="3d")
    surf = cplt.surface(ax3, landscapes.himmelblau, (-5, 5), (-5, 5), n_grid=20, log=True)
    assert surf is not None and ax3.get_zlabel()
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax3d"):
        cplt.surface(ax, landscapes.himmelblau, (-5, 5), (-5, 5))


def test_trajectories_one_line_per_chain_with_markers():
    xs = np.cumsum(np.random.default_rng(0).normal(size=(30, 4, 2)), axis=0)
    fig, ax = plt.subplots()
    lines = cplt.paths(ax, xs, max_chains=3, label="SGD")
    assert len(lines) == 3
    assert np.allclose(lines[1].get_xydata(), xs[:, 1, :])
    assert len(ax.lines) == 9  # path + start + end marker per chain
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert len(cplt.paths(ax, xs[:, 0, :])) == 1  # (T+1, d) for one chain
    with pytest.raises(ValueError, match="xs"):
        cplt.paths(ax, np.zeros((3, 4, 2, 1)))
    with pytest.raises(ValueError, match="dims"):
        cplt.paths(ax, xs, dims=(0, 5))


def test_histogram2d_shows_the_density_of_a_simulated_histogram():
    key = jax.random.PRNGKey(0)
    x0 = jax.random.uniform(key, (64, 2), minval=-4, maxval=4)
    hist = simulate.occupation_histogram(
        key, landscapes.himmelblau, noise.gaussian(5.0), x0, 0.005, 100, low=[-6, -6], high=[6, 6], n_bins=(30, 20)
    )
    fig, ax = plt.subplots()
    im = cplt.histogram2d(ax, hist)
    arr = np.ma.filled(im.get_array(), np.nan)
    assert arr.shape == (20, 30)  # image rows are x_2
    assert np.allclose(np.nansum(arr), hist.density().sum())
    assert im.get_extent() == [-6.0, 6.0, -6.0, 6.0]
    assert fig.colorbar(im, ax=ax, label="density") is not None
    with pytest.raises(ValueError, match="hist"):
        cplt.histogram2d(ax, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="floor"):
        cplt.histogram2d(ax, hist, floor=2.0)


def test_density_against_a_predicted_curve():
    v = np.random.default_rng(1).normal(size=5000)
    fig, ax = plt.subplots()
    out = cplt.density(ax, v, bins=40, predicted=lambda x: np.exp(-x**2 / 2) / np.sqrt(2 * np.pi), xlabel="z")
    heights = out["bars"].get_data().values
    edges = out["bars"].get_data().edges
    assert np.isclose(np.sum(heights * np.diff(edges)), 1.0)
    assert out["line"] is not None and ax.get_ylabel() == "density" and ax.get_xlabel() == "z"
    with pytest.raises(ValueError, match="values"):
        cplt.density(ax, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="predicted"):
        cplt.density(ax, v, predicted=(np.zeros(3), np.zeros(4)))


def test_measured_vs_predicted_requires_labels_and_positive_loglog_data():
    fig, ax = plt.subplots()
    out = cplt.measured_vs_predicted(ax, [1, 2, 4], [1.0, 0.5, 0.25], lambda b: 1 / b, yerr=[0.1, 0.1, 0.1],
                                     xlabel="B", ylabel="variance")
    assert out["line"] is not None and ax.get_xscale() == "log" and ax.get_ylabel() == "variance"
    with pytest.raises(ValueError, match="xlabel"):
        cplt.measured_vs_predicted(ax, [1, 2], [1, 2], xlabel="", ylabel="y")
    with pytest.raises(ValueError, match="loglog"):
        cplt.measured_vs_predicted(ax, [0, 1], [1, 2], xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="predicted"):
        cplt.measured_vs_predicted(ax, [1, 2], [1, 2], [1, 2, 3], xlabel="x", ylabel="y")


def test_subplots_validates_and_sizes():
    fig, axes = cplt.subplots(2, 3, width=9, height=2.5)
    assert axes.shape == (2, 3) and np.allclose(fig.get_size_inches(), (9, 5))
    with pytest.raises(ValueError, match="ncols"):
        cplt.subplots(1, 0)


def test_alt_text_describes_the_figure_and_travels_in_the_png():
    import io

    from PIL import Image

    fig, axes = cplt.subplots(1, 2)
    axes[0].plot([1, 2, 3], label="SGD")
    axes[0].plot([3, 2, 1], label="bound $O(1/k)$")
    axes[0].set(title="Loss", xlabel="step $k$", ylabel="$f(x_k)$", yscale="log")
    axes[0].legend()
    axes[1].set_xlabel("time (s)")
    cplt.describe(fig, "Measured loss against the bound.")
    text = cplt.alt_text(fig)
    assert text == ("Measured loss against the bound. 2 panels. Panel 1: 'Loss', x: step k, y: f(x_k) (log scale), "
                    "legend: SGD; bound O(1/k). Panel 2: x: time (s).")
    png = cplt.figure_png(fig)
    assert Image.open(io.BytesIO(png)).text["Description"] == text
    plt.close(fig)


def test_alt_text_bad_input_and_unlabelled_figure():
    fig = plt.figure()
    assert cplt.alt_text(fig) == "Figure without labels."
    with pytest.raises(ValueError, match="text"):
        cplt.describe(fig, "  ")
    with pytest.raises(ValueError, match="fig"):
        cplt.describe("not a figure", "text")
    with pytest.raises(ValueError, match="fig"):
        cplt.alt_text(None)
    plt.close(fig)


def test_course_style_registers_the_png_formatter_in_ipython(monkeypatch):
    from matplotlib.figure import Figure

    class Formatter:
        def __init__(self):
            self.registered = {}

        def for_type(self, cls, fn):
            self.registered[cls] = fn

    class Shell:
        def __init__(self):
            self.display_formatter = type("DF", (), {"formatters": {"image/png": Formatter()}})()

    shell = Shell()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    cplt.use_course_style()
    formatter = shell.display_formatter.formatters["image/png"].registered[Figure]
    fig, ax = plt.subplots()
    ax.set_xlabel("step")
    assert formatter(fig) == cplt.figure_png(fig)
    assert formatter(plt.figure()) is None  # an empty figure shows nothing, as with IPython's own formatter
    plt.close("all")
