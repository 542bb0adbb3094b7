"""The graded exercises of the chapter "Stochastic gradient methods": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

import pytest

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: best_step(999, 10.0, 2.0, 50.0) returned None",
    "q2": "q2: saga_step should return a pair (new_theta, new_table), got NoneType",
    "q3": "q3: cheapest(1000000.0, 1000.0, 1e-06) returned None",
    "q4": "q4: sarah_step should return a pair (new_theta, v), got NoneType",
}


def _wrong_cases(env):
    import math

    import jax.numpy as jnp

    def sgd_step(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        return theta - step * g, table.at[i].set(g)

    def new_mean(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        new = table.at[i].set(g)
        return theta - step * (g - table[i] + new.mean(0)), new

    def no_update(problem, theta, table, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        return theta - step * (g - table[i] + table.mean(0)), table

    def sarah_sgd(problem, theta, theta_prev, v_prev, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        return theta - step * g, g

    def sarah_sign(problem, theta, theta_prev, v_prev, i, step):
        g = problem.example_grads(theta, jnp.array([i]))[0]
        gp = problem.example_grads(theta_prev, jnp.array([i]))[0]
        v = g + gp - v_prev
        return theta - step * v, v

    def vr_only(n, kappa, eps):
        return "vr"

    def no_log(n, kappa, eps):
        costs = {"gd": n * kappa, "sgd": kappa / eps, "vr": n + kappa}
        return min(costs, key=costs.get)

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(best_step=lambda k, gap, L, s2: math.sqrt(2 * gap / ((k + 1) * L * s2))), "exceeds 1/L = 0.5", 2.25),
        ("q1", dict(best_step=lambda k, gap, L, s2: min(1 / L, 2 * math.sqrt(2 * gap / ((k + 1) * L * s2)))), "off by a factor 2", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: 1 / L), "returned 1/L", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: float("nan")), "is nan, expected a finite number", 1.5),
        ("q1", dict(best_step=lambda k, gap, L, s2: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 0.0),
        ("q1", dict(best_step=None), "q1: your function is not defined", 0.0),
        ("q2", dict(saga_step=sgd_step), "plain SGD step", 1.5),
        ("q2", dict(saga_step=new_mean), "use the old table", 1.5),
        ("q2", dict(saga_step=no_update), "q2: new_table", 1.5),
        ("q2", dict(saga_step=lambda p, t, tb, i, s: (jnp.zeros(4), tb)), "q2: new_theta returned shape (4,), expected (3,)", 0.0),
        ("q2", dict(saga_step=lambda p, t, tb, i, s: t), "should return a pair", 0.0),
        ("q3", dict(cheapest=vr_only), "q3: cheapest(1000000.0, 1000.0, 0.1) returned 'vr'", 1.5),
        ("q3", dict(cheapest=no_log), "not the cheapest method", 2.25),
        ("q3", dict(cheapest=lambda n, k, e: "adam"), "return one of 'gd', 'sgd', 'vr'", 1.5),
        ("q3", dict(answers=["vr", "vr", "vr"]), "is not what the table predicts", 2.25),
        ("q3", dict(answers="vr"), "q3: answers should be a list of three names", 1.5),
        ("q4", dict(sarah_step=sarah_sgd), "plain stochastic gradient", 0.0),
        ("q4", dict(sarah_step=sarah_sign), "q4: v", 0.0),
        ("q4", dict(sarah_step=None), "q4: your function is not defined", 0.0),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"g - table[i] + table.mean(axis=0)": "g"}


EXERCISE = Exercise(
    "sgd",
    max=MAX,
    leaks=("math.sqrt(2.0 * gap", "table.mean(axis=0)", "costs = {", "g - g_prev + v_prev"),
    answer_defs=r"def (best_step|saga_step|cheapest|sarah_step)\b|answers =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"stochastic": "stochastic"},
    blank_hints=("returned None", "placeholder", "NoneType"),
    self_check=(WRONG_Q2, "q2", "plain SGD step"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's step is course_lib's; its SAGA step equals one step of course_lib.stochastic.saga's recursion."""
    import numpy as np
    from course_lib import stochastic

    for args in ((99, 3.0, 2.0, 5.0), (0, 1e6, 2.0, 1e-3)):
        assert solution_env["best_step"](*args) == pytest.approx(stochastic.optimal_constant_step(*args))
    assert solution_env["answers"] == ["vr", "sgd", "vr"]
    for args in ((1e6, 1e3, 1e-6), (1e6, 1e3, 1e-1), (2, 1e6, 1e-8)):
        costs = {m: float(stochastic.complexity(m if m != "vr" else "vr", *args)) for m in ("gd", "sgd", "vr")}
        assert solution_env["cheapest"](*args) == min(costs, key=costs.get)
