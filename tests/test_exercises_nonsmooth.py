"""The graded exercises of the chapter "Nonsmoothness": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 2.0, "q2": 3.0, "q3": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None",
    "q2": "q2: my_relu (it should equal max(0, t)) returned None",
    "q3": "q3: x_stop is still the placeholder `...`",
}


def _wrong_cases(env):
    import jax
    import jax.numpy as jnp
    from course_lib import nonsmooth

    f = env["f"]

    def backprop_only(x0):  # the derivative that jax.grad returns, as a degenerate interval
        g = jax.grad(f)(x0)
        return jnp.array([g, g])

    def reversed_interval(x0):
        return env["clarke_f"](x0)[::-1]

    def sum_rule(x0):  # Clarke(|x|) + Clarke(-3 relu(x - 1)), right here, but kinks swapped
        return env["clarke_f"](1.0 - x0) if x0 in (0.0, 1.0) else env["clarke_f"](x0)

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(clarke_f=backprop_only), "q1: at the kink x0 = 0.0 you returned the single slope", 1.0),
        ("q1", dict(clarke_f=reversed_interval), "with a > b", 1.0),
        ("q1", dict(clarke_f=sum_rule), "q1: your function returned [", 1.0),
        ("q1", dict(clarke_f=lambda x0: jnp.zeros(3)), "q1: your function returned shape (3,), expected (2,)", 0.0),
        ("q1", dict(clarke_f=lambda x0: jnp.full(2, jnp.nan)), "q1: your function returned NaN or infinite values", 0.0),
        ("q1", dict(clarke_f=lambda x0: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 0.0),
        ("q1", dict(clarke_f=None), "q1: your function is not defined", 0.0),
        ("q2", dict(my_relu=nonsmooth.relu3), "jax.grad(my_relu)(0.0) = 0.5 is not the expected value", 0.75),
        ("q2", dict(my_relu=lambda t: jnp.maximum(t, 0.0)), "jax.grad(my_relu)(0.0) = 0.5", 0.75),
        ("q2", dict(my_relu=lambda t: nonsmooth.relu(t) + 0.25 * t), "it should equal max(0, t)", 0.75),
        ("q2", dict(my_relu=lambda t: "relu"), "q2: my_relu (it should equal max(0, t)) returned a str", 0.0),
        ("q2", dict(my_relu=lambda t: t[0]), "q2:", 0.0),
        ("q3", dict(x_stop=3.0), "q3: x_stop = 3 is the true minimiser of J", 1.5),
        ("q3", dict(x_stop="1"), "q3: x_stop", 1.5),
        ("q3", dict(x_stop=float("nan")), "q3: x_stop is nan, expected a finite number", 1.5),
        ("q3", dict(clarke_at_stop=jnp.zeros(2)), "contains 0, as if the stopping point were Clarke-critical", 2.25),
        ("q3", dict(clarke_at_stop=jnp.array([-2.0])), "q3: clarke_at_stop returned shape (1,), expected (2,)", 1.5),
        ("q3", dict(clarke_at_stop=jnp.array([-1.0, -1.0])), "q3: clarke_at_stop returned [", 2.25),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"return 0.75 * nonsmooth.relu(t) + 0.25 * nonsmooth.relu2(t)": "return nonsmooth.relu3(t)"}


EXERCISE = Exercise(
    "nonsmooth",
    max=MAX,
    leaks=("0.75 * nonsmooth.relu", "[-2.0, 1.0]", "x_stop = x"),
    answer_defs=r"def (clarke_f|my_relu)\b|x_stop =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"nonsmooth": "nonsmooth"},
    self_check=(WRONG_Q2, "q2", "jax.grad(my_relu)(0.0) = 0.5"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's Clarke intervals match course_lib's exact and numerical ones."""
    import numpy as np
    import sympy as sp
    from course_lib import nonsmooth

    x = sp.Symbol("x", real=True)
    expr = sp.Abs(x) - 3 * sp.Max(x - 1, 0)
    for x0 in (-1.0, 0.0, 0.5, 1.0, 2.0):
        lo, hi = nonsmooth.clarke_subdifferential_sympy(expr, x, x0)
        np.testing.assert_allclose(np.asarray(solution_env["clarke_f"](x0)), [float(lo), float(hi)])
        np.testing.assert_allclose(nonsmooth.clarke_interval(solution_env["f"], x0), [float(lo), float(hi)], atol=1e-3)
    J = solution_env["J"]
    np.testing.assert_allclose(nonsmooth.clarke_interval(J, solution_env["x_stop"]), solution_env["clarke_at_stop"], atol=1e-3)
