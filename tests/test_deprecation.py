"""A renamed public name keeps a working, warning alias."""

import types
import sys

import pytest

from course_lib._deprecation import deprecated_aliases


def test_alias_returns_new_object_and_warns():
    mod = types.ModuleType("fake_course_module")
    mod.new_name = lambda: 42
    mod.__getattr__ = deprecated_aliases("fake_course_module", {"old_name": ("new_name", "0.2")})
    sys.modules["fake_course_module"] = mod
    try:
        with pytest.warns(DeprecationWarning, match=r"renamed fake_course_module\.new_name in course_lib 0\.2"):
            assert mod.old_name() == 42
        with pytest.raises(AttributeError):
            mod.unknown_name
    finally:
        del sys.modules["fake_course_module"]


def test_bad_alias_table_raises():
    with pytest.raises(ValueError, match="aliases"):
        deprecated_aliases("m", {"a": "b"})


def test_alias_of_a_moved_name_points_to_the_new_module():
    mod = types.ModuleType("fake_old_module")
    new = types.ModuleType("fake_new_module")
    new.thing = lambda: 7
    mod.__getattr__ = deprecated_aliases("fake_old_module", {"thing": ("fake_new_module:thing", "0.2")})
    sys.modules["fake_old_module"], sys.modules["fake_new_module"] = mod, new
    try:
        with pytest.warns(DeprecationWarning, match=r"fake_old_module\.thing moved to fake_new_module\.thing"):
            assert mod.thing() == 7
    finally:
        del sys.modules["fake_old_module"], sys.modules["fake_new_module"]


RENAMED_FOR_ONE_MEANING = [
    ("course_lib.two_layer", "GDRun", "TrainRun"),
    ("course_lib.two_layer", "FlowRun", "ParticleRun"),
    ("course_lib.two_layer", "measured_rate", "log_decay_rate"),
    ("course_lib.ode", "heavy_ball", "heavy_ball_iterates"),
    ("course_lib.plotting", "trajectories", "paths"),
    ("course_lib.optimizers", "quadratic", "rotated_quadratic"),
]


@pytest.mark.parametrize("module, old, new", RENAMED_FOR_ONE_MEANING)
def test_names_renamed_to_one_meaning_keep_a_warning_alias(module, old, new):
    import importlib

    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} was renamed {module}\.{new}"):
        assert getattr(mod, old) is getattr(mod, new)
    assert old not in mod.__all__ and new in mod.__all__


def test_two_layer_relu_is_the_one_relu():
    from course_lib import nonsmooth, two_layer

    assert two_layer.relu is nonsmooth.relu


@pytest.mark.parametrize("name", ["straight_line_program", "checkpointed_program", "compiled_memory", "time_call",
                                  "straight_line_curve", "MODES", "measure_ad", "fit_slope", "deep_tanh_loss",
                                  "deep_tanh_params", "gradient_flop_ratio"])
def test_measurements_of_jax_ad_moved_to_ad_cost_keep_an_alias(name):
    from course_lib import ad_cost, autodiff

    with pytest.warns(DeprecationWarning, match=rf"course_lib\.autodiff\.{name} moved to course_lib\.ad_cost\.{name}"):
        assert getattr(autodiff, name) is getattr(ad_cost, name)
    assert name not in autodiff.__all__ and name in ad_cost.__all__


@pytest.mark.parametrize("name", ["draw_rich_vs_lazy", "WidthRate", "width_rate", "draw_width_rate"])
def test_two_layer_chapter_study_moved_to_the_chapter_layer_keeps_an_alias(name):
    from course_lib import two_layer
    from course_lib.chapters import two_layer as chapter

    with pytest.warns(DeprecationWarning, match=rf"moved to course_lib\.chapters\.two_layer\.{name}"):
        assert getattr(two_layer, name) is getattr(chapter, name)


@pytest.mark.parametrize("name", ["GradCurve", "sgd_grad_curve", "ReplacementRuns", "replacement_comparison",
                                  "MethodComparison", "compare_methods"])
def test_sgd_chapter_studies_moved_to_the_chapter_layer_keep_an_alias(name):
    from course_lib import stochastic
    from course_lib.chapters import sgd as chapter

    with pytest.warns(DeprecationWarning, match=rf"course_lib\.stochastic\.{name} moved to course_lib\.chapters\.sgd\.{name}"):
        assert getattr(stochastic, name) is getattr(chapter, name)
    assert name not in stochastic.__all__ and name in chapter.__all__
