"""The graded exercises of the chapter "Favorable landscapes": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: pl_ratio_f returned None",
    "q2": "q2: predicted_rate(0.5, 8.0, 0.1) returned None",
    "q3": "q3: theta_from_zero is still the placeholder `...`",
}


def _wrong_cases(env):
    import math

    import jax
    import jax.numpy as jnp

    f = env["f"]
    fprime = jax.vmap(jax.grad(f))

    def floor_steps(c, L, eps):
        rho = 1 - c / (2 * L)
        return int(math.floor(math.log(eps) / math.log(rho)))

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(pl_ratio_f=lambda x: jnp.abs(fprime(x)) / f(x)), "q1: pl_ratio_f returned [", 1.5),
        ("q1", dict(pl_ratio_f=lambda x: fprime(x) ** 2 / (2 * f(x))), "q1: pl_ratio_f returned [", 1.5),
        ("q1", dict(pl_ratio_f=lambda x: jnp.min(fprime(x) ** 2 / f(x))), "q1: pl_ratio_f returned shape (), expected (4,)", 1.5),
        ("q1", dict(pl_ratio_f=lambda x: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 1.5),
        ("q1", dict(pl_ratio_f=None), "q1: your function is not defined", 1.5),
        ("q1", dict(c_hat=float(jnp.max(env["pl_ratio_f"](env["grid"])))), "is larger than the PL ratio at x =", 1.5),
        ("q1", dict(c_hat=1 / 16), "c_hat (the best constant on the grid) = 0.0625 is not the expected value", 1.5),
        ("q1", dict(c_hat=0.0), "q1: c_hat = 0; a PL constant must be positive", 1.5),
        ("q1", dict(c_hat=float("nan")), "q1: c_hat is nan, expected a finite number", 1.5),
        ("q1", dict(c_hat="1.01"), "q1: c_hat returned a str", 1.5),
        ("q1", dict(c_hat=jnp.ones(3)), "q1: c_hat should be one number, got 3 values", 1.5),
        ("q2", dict(predicted_rate=lambda c, L, a: 1 - c * a), "you left out the factor (1 - L alpha / 2)", 1.5),
        ("q2", dict(predicted_rate=lambda c, L, a: 1 - c * a / 2), "predicted_rate(0.5, 8.0, 0.1) = 0.975 is not the expected value", 2.25),
        ("q2", dict(steps_needed=floor_steps), "round up, not down", 1.5),
        ("q2", dict(steps_needed=lambda c, L, eps: 436.0), "q2: steps_needed should return a Python int, got a float", 1.5),
        ("q2", dict(steps_needed=lambda c, L, eps: "436"), "q2: steps_needed should return a Python int, got a str", 1.5),
        ("q2", dict(predicted_rate=lambda c, L, a: math.log(-1.0)), "raised ValueError: math domain error", 0.75),
        ("q3", dict(theta_from_zero=env["theta_from_start"]),
         "q3: theta_from_zero (it interpolates, but is it the minimum-norm solution?) differs", 1.5),
        ("q3", dict(theta_from_start=env["theta_from_zero"]), "gradient descent from theta_start keeps", 1.5),
        ("q3", dict(theta_from_zero=jnp.zeros(10)), "q3: theta_from_zero does not solve A theta = b", 2.25),
        ("q3", dict(theta_from_zero=jnp.zeros(9)), "q3: theta_from_zero returned shape (9,), expected (10,)", 1.5),
        ("q3", dict(theta_from_start=jnp.full(10, jnp.nan)), "q3: theta_from_start returned NaN or infinite values", 1.5),
        ("q3", dict(theta_from_start=None), "q3:", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"return 1.0 - c * alpha * (1.0 - L * alpha / 2.0)": "return 1.0 - c * alpha"}


EXERCISE = Exercise(
    "gradient_domination",
    max=MAX,
    leaks=("jax.vmap(jax.grad(f))(x) ** 2 / f(x)", "math.ceil", "least_squares_gd(A, b, jnp.zeros(10)", "(1.0 - L * alpha / 2.0)"),
    answer_defs=r"def (pl_ratio_f|predicted_rate|steps_needed)\b|c_hat =|theta_from_zero =|theta_from_start =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"gradient_domination": "gradient_domination", "implicit_bias": "implicit_bias"},
    self_check=(WRONG_Q2, "q2", "you left out the factor (1 - L alpha / 2)"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's constant, rate and interpolants match course_lib's estimators and formulas."""
    import jax.numpy as jnp
    import numpy as np
    from course_lib import gradient_domination, implicit_bias

    env = solution_env
    c = gradient_domination.estimate_pl_constant(env["f"], env["grid"])
    assert env["c_hat"] == np.float32(c) or abs(env["c_hat"] - c) < 1e-6 * c
    for args in ((0.5, 8.0, 0.1), (1.0, 6.0, 1 / 6)):
        assert env["predicted_rate"](*args) == float(gradient_domination.gd_rate(*args)) or abs(
            env["predicted_rate"](*args) - float(gradient_domination.gd_rate(*args))) < 1e-12
    A, b = env["A"], env["b"]
    np.testing.assert_allclose(env["theta_from_zero"], implicit_bias.min_norm_solution(A, b), atol=1e-4)
    np.testing.assert_allclose(env["theta_from_start"], implicit_bias.predicted_gd_limit(A, b, env["theta_start"]), atol=1e-4)
    # the two limits differ exactly by the kernel part of theta_start
    kernel_part = env["theta_start"] - jnp.linalg.pinv(A) @ (A @ env["theta_start"])
    np.testing.assert_allclose(env["theta_from_start"] - env["theta_from_zero"], kernel_part, atol=1e-4)
