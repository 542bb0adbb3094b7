"""The graded exercises of the chapter "Saddles, averaging and the shape of noise": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: stall_1e6 is still the placeholder `...`",
    "q2": "q2: floor_first_order(S_ex, 0.05) returned None",
    "q3": "q3: your function returned None",
}


def _wrong_cases(env):
    import jax.numpy as jnp
    import numpy as np

    xis = np.array([[0.3, -0.1], [-0.2, 0.4], [0.5, 0.0], [0.1, -0.3]])
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(stall_1e6=float(np.log(0.5e6) / 0.05)), "uses the approximation", 2.25),
        ("q1", dict(stall_1e6=float(np.log(2e-6) / np.log(1.05))), "stall_1e6 is negative", 2.25),
        ("q1", dict(stall_steps=lambda y0, s, l, r: float(np.log(r / y0) / (s * abs(l)))), "uses the approximation", 2.25),
        ("q1", dict(stall_steps=lambda y0, s, l, r: float(np.log(r / y0))), "stall_steps(1e-3, 0.1, -1.0, 0.1)", 2.25),
        ("q1", dict(stall_1e6=float("nan")), "q1: stall_1e6 is nan, expected a finite number", 2.25),
        ("q1", dict(stall_1e6="269"), "q1: stall_1e6", 2.25),
        ("q1", dict(stall_steps=lambda y0, s, l, r: 1 / 0), "raised ZeroDivisionError", 2.25),
        ("q2", dict(floor_first_order=lambda S, g: float(g * np.trace(S) / 2)), "twice the expected value", 2.5),
        ("q2", dict(averaged_C=lambda H, S: float(0.5 * np.trace(np.asarray(H) @ np.asarray(S)))), "uses H S", 2.4),
        ("q2", dict(averaged_C=lambda H, S: float(np.trace(np.linalg.solve(H, S)))), "twice the expected value", 2.4),
        ("q2", dict(k_equal=1.0), "q2: k_equal", 2.4),
        ("q2", dict(averaged_C=lambda H, S: None), "returned None", 2.4),
        ("q3", dict(anti_pgd_step=lambda x, g, s, xn, xo: jnp.asarray(x) - s * jnp.asarray(g) + jnp.asarray(xn)), "plain PGD", 1.5),
        ("q3", dict(anti_pgd_step=lambda x, g, s, xn, xo: jnp.asarray(x) - s * jnp.asarray(g) - jnp.asarray(xn) + jnp.asarray(xo)),
         "sign of the increment is reversed", 1.5),
        ("q3", dict(sum_of_perturbations=jnp.asarray(xis.sum(0))), "telescope", 1.5),
        ("q3", dict(sum_of_perturbations=jnp.zeros(3)), "q3: sum_of_perturbations", 1.5),
        ("q3", dict(anti_pgd_step=lambda x, g, s, xn, xo: jnp.zeros(5)), "q3: your function returned shape (5,)", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q3 = {"+ jnp.asarray(xi_new) - jnp.asarray(xi_old)": "+ jnp.asarray(xi_new)"}


EXERCISE = Exercise(
    "saddles",
    max=MAX,
    leaks=("np.log1p(step * abs(lam))", "np.linalg.solve(np.asarray(H)", "xis[-1]", "step * np.trace(np.asarray(S)) / 4.0"),
    answer_defs=r"def (stall_steps|floor_first_order|averaged_C|anti_pgd_step)\b|stall_1e6 =|k_equal =|sum_of_perturbations =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"averaging": "averaging"},
    self_check=(WRONG_Q3, "q3", "plain PGD"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's constant and anti-PGD step agree with course_lib.averaging (its formula and its simulator)."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import pytest
    from course_lib import averaging, landscapes

    ls = averaging.least_squares_noise(landscapes.least_squares(jax.random.PRNGKey(0), 50, 3, noise=0.3))
    assert solution_env["averaged_C"](ls.H, ls.S) == pytest.approx(averaging.averaged_constant(ls.H, ls.S), rel=1e-6)
    floor = averaging.last_iterate_floor(ls.H, ls.S, 1e-3)
    assert solution_env["floor_first_order"](ls.S, 1e-3) == pytest.approx(floor, rel=1e-2)  # first order in the step
    # three anti-PGD steps by hand reproduce averaging.perturbed_gd with the same draws
    key, x0 = jax.random.PRNGKey(5), jnp.array([[1.0, 1.0, 0.5]])
    ref = averaging.perturbed_gd(key, averaging.widening_valley, x0, 0.1, 0.2, 3, anti=True)
    xi = [np.zeros(3)] + [np.asarray(0.2 * jax.random.normal(jax.random.fold_in(key, k), (1, 3)))[0] for k in range(3)]
    x = np.asarray(x0[0])
    for k in range(3):
        g = np.asarray(jax.grad(averaging.widening_valley)(jnp.asarray(x)))
        x = np.asarray(solution_env["anti_pgd_step"](x, g, 0.1, xi[k + 1], xi[k]))
    np.testing.assert_allclose(x, ref[-1, 0], atol=1e-5)
