"""The graded exercises of the chapter "Where SGD spends its time": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: E_by_hand is still the placeholder `...`",
    "q2": "q2: your function returned None",
    "q3": "q3: ratio_02 is still the placeholder `...`",
}


def _wrong_cases(env):
    import jax.numpy as jnp
    import numpy as np

    f, x_l, y, x_r = env["f"], env["x_l"], env["y"], env["x_r"]

    def greedy(B):  # every node picks its cheapest edge, cycles or not
        B = np.asarray(B, dtype=float)
        return jnp.array([sum(min(B[j, k] for k in range(3) if k != j) for j in range(3) if j != i) for i in range(3)])

    def out_trees(B):  # trees pointing away from i
        return env["energy_3"](np.asarray(B).T)

    def swapped(s1, s2):
        return jnp.array([2 * (f(y) - f(x_r)) / s1**2, 2 * (f(y) - f(x_l)) / s2**2])

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(E_by_hand=[4.0, 4.0, 2.0]), "q1: E_by_hand returned [4. 4. 2.]", 2.25),
        ("q1", dict(energy_3=lambda B: env["energy_3"](B) - 2.0), "differ from the expected ones by the same constant", 2.25),
        ("q1", dict(energy_3=greedy), "q1: your function returned [", 2.25),
        ("q1", dict(energy_3=out_trees), "q1: your function returned [", 2.25),
        ("q1", dict(energy_3=lambda B: jnp.zeros(4)), "q1: your function returned shape (4,), expected (3,)", 2.25),
        ("q1", dict(energy_3=lambda B: jnp.full(3, jnp.nan)), "q1: your function returned NaN or infinite values", 2.25),
        ("q1", dict(energy_3=lambda B: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 2.25),
        ("q1", dict(energy_3=None), "q1: your function is not defined", 2.25),
        ("q2", dict(two_well_energies=swapped), "the energy of a minimum is the cost of the edge pointing TO it", 1.5),
        ("q2", dict(two_well_energies=lambda a, b: env["two_well_energies"](a, b) / 2), "half the expected ones", 1.5),
        ("q2", dict(dominant=lambda a, b: "left"), "dominant(6.0, 3.0) returned 'left'", 1.5),
        ("q2", dict(dominant=lambda a, b: 0), "expected the string 'left' or 'right'", 1.5),
        ("q2", dict(two_well_energies=lambda a, b: "E"), "q2: your function returned a str", 1.5),
        ("q3", dict(ratio_02=1.0), "the Hessian prefactor", 1.34),
        ("q3", dict(ratio_02=1 / env["ratio_02"]), "upside down", 1.34),
        ("q3", dict(ratio_02=env["ratio_02"] ** 2), "square root", 1.34),
        ("q3", dict(ratio_02=float("nan")), "q3: ratio_02 is nan, expected a finite number", 1.34),
        ("q3", dict(ratio_02="2.1"), "q3: ratio_02", 1.34),
        ("q3", dict(laplace_ratio=lambda i, j: env["laplace_ratio"](j, i)), "laplace_ratio(0, 1)", 1.34),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {'return "left" if E_left < E_right else "right"': 'return "left"'}


EXERCISE = Exercise(
    "long_run",
    max=MAX,
    leaks=("[5.0, 4.0, 2.0]", "min(trees)", "jnp.linalg.det", "E_left < E_right"),
    answer_defs=r"def (energy_3|two_well_energies|dominant|laplace_ratio)\b|ratio_02 =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"energy": "energy", "landscapes": "landscapes", "long_run": "chapters.long_run"},
    self_check=(WRONG_Q2, "q2", "dominant(6.0, 3.0) returned 'left'"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's energies and Laplace ratios match course_lib.energy."""
    import numpy as np
    from course_lib import energy, gibbs, landscapes
    from course_lib.chapters import long_run

    B = solution_env["B"]
    np.testing.assert_allclose(np.asarray(solution_env["energy_3"](B)), energy.energies(B))
    cpH = np.array([np.asarray(__import__("jax").hessian(landscapes.himmelblau)(k)) for k in landscapes.HIMMELBLAU_MINIMA])
    w = gibbs.laplace_weights(np.zeros(4), cpH, 1.0, 1.0)
    assert solution_env["ratio_02"] == __import__("pytest").approx(w[0] / w[2], rel=1e-4)
    pred = long_run.two_well_stationary(6.0, 3.0, 0.03)
    np.testing.assert_allclose(np.asarray(solution_env["two_well_energies"](6.0, 3.0)), [pred["E_left"], pred["E_right"]], rtol=1e-5)
