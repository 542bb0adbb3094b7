"""The graded exercises of the chapter "The ODE method": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 2.0, "q2": 3.0, "q3": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: flow_times returned None",
    "q2": "q2: tracking_errors returned None",
    "q3": "q3: sliding_solution returned None",
}


def _wrong_cases(env):
    import jax.numpy as jnp

    lams, theta0, T = env["lams"], env["theta0"], env["T"]
    A, b = env["A"], env["b"]

    def times_index(steps):  # iterate k placed at k * alpha_0
        steps = jnp.asarray(steps)
        return jnp.arange(steps.shape[0] + 1) * steps[0]

    def times_current_step(steps):  # iterate k placed at k * alpha_k
        steps = jnp.asarray(steps)
        return jnp.concatenate([jnp.zeros(1), jnp.arange(1, steps.shape[0] + 1) * steps])

    def nearest_iterate(steps, iterates, t):  # no interpolation
        ts = env["flow_times"](steps)
        return jnp.asarray(iterates)[jnp.argmin(jnp.abs(ts - t))]

    def errors_at_index_time(alphas):  # compares iterate k with the flow at time k
        out = []
        for a in alphas.tolist():
            theta, worst = theta0, 0.0
            for k in range(1, int(round(T / a)) + 1):
                theta = theta - a * lams * theta
                worst = max(worst, float(jnp.linalg.norm(theta - jnp.exp(-lams * k) * theta0)))
            out.append(worst)
        return jnp.array(out)

    def errors_final_only(alphas):  # error at the last iterate only
        out = []
        for a in alphas.tolist():
            K = int(round(T / a))
            out.append(float(jnp.linalg.norm((1 - a * lams) ** K * theta0 - jnp.exp(-lams * K * a) * theta0)))
        return jnp.array(out)

    def smooth_flow(x1, t):  # ignores the kink: the flow of the smooth part leaves the line
        star = jnp.linalg.solve(A, b)
        lam, U = jnp.linalg.eigh(A)
        return star + U @ (jnp.exp(-lam * t) * (U.T @ (jnp.array([x1, 0.0]) - star)))

    def wrong_rate(x1, t):
        target = b[0] / A[0, 0]
        return jnp.array([target + jnp.exp(-t) * (x1 - target), 0.0])

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(flow_times=lambda s: jnp.cumsum(jnp.asarray(s))), "q1: flow_times returned shape (4,), expected (5,)", 1.6),
        ("q1", dict(flow_times=times_index), "q1: flow_times returned [", 1.6),
        ("q1", dict(flow_times=times_current_step), "q1: flow_times returned [", 1.6),
        ("q1", dict(theta_bar=nearest_iterate), "q1: theta_bar returned [", 1.6),
        ("q1", dict(flow_times=lambda s: jnp.full(len(s) + 1, jnp.nan)), "q1: flow_times returned NaN or infinite values", 1.6),
        ("q1", dict(flow_times=lambda s: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 1.6),
        ("q1", dict(theta_bar=None), "q1: your function is not defined", 1.6),
        ("q2", dict(tracking_errors=errors_at_index_time), "q2: tracking_errors returned [", 1.5),
        ("q2", dict(tracking_errors=errors_final_only), "q2: tracking_errors returned [", 1.5),
        ("q2", dict(tracking_errors=lambda a: jnp.zeros((len(a), 2))), "q2: tracking_errors returned shape (2, 2), expected (2,)", 1.5),
        ("q2", dict(order=0.5), "order of the *noise* part", 1.5),
        ("q2", dict(order="1"), "q2: order returned a str", 1.5),
        ("q2", dict(order=float("nan")), "q2: order is nan, expected a finite number", 1.5),
        ("q2", dict(order=2.0), "far from the order of Euler's scheme", 1.5),
        ("q3", dict(sliding_solution=smooth_flow), "a sliding solution stays on the kink", 1.2),
        ("q3", dict(sliding_solution=wrong_rate), "q3: sliding_solution returned [", 1.2),
        ("q3", dict(sliding_solution=lambda x1, t: jnp.array([x1, 0.0, 0.0])), "q3: sliding_solution returned shape (3,), expected (2,)", 1.2),
        ("q3", dict(x1_limit=float(jnp.linalg.solve(A, b)[0])), "q3: x1_limit = 0.514286 is not the expected value", 2.4),
        ("q3", dict(x1_limit=...), "q3: x1_limit is still the placeholder `...`", 2.4),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q3 = {"theta1 = target + jnp.exp(-A[0, 0] * t) * (x1 - target)": "theta1 = target + jnp.exp(-t) * (x1 - target)"}


EXERCISE = Exercise(
    "ode",
    max=MAX,
    leaks=("jnp.cumsum(steps)])", "target + jnp.exp", "x1_limit = float", "jnp.log(errors_q2)"),
    answer_defs=r"def (flow_times|theta_bar|tracking_errors|sliding_solution)\b|order =|x1_limit =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"ode": "ode", "ode_ch": "chapters.ode"},
    self_check=(WRONG_Q3, "q3", "q3: sliding_solution returned ["),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's answers match course_lib.ode's flow times, interpolation, Euler errors and sliding solution."""
    import jax.numpy as jnp
    import numpy as np
    from course_lib import ode
    from course_lib.chapters import ode as ode_ch

    env = solution_env
    steps = 0.2 / (1.0 + jnp.arange(20.0))
    np.testing.assert_allclose(env["flow_times"](steps), ode.flow_times(steps), rtol=1e-6)
    its = jnp.cumsum(jnp.ones((21, 2)), axis=0) ** 2
    np.testing.assert_allclose(env["theta_bar"](steps, its, 0.3), ode.interpolate(ode.flow_times(steps), its, 0.3), rtol=1e-5)
    assert abs(env["order"] - 1.0) < 0.1
    sol = ode_ch.kink_filippov_solution(env["kink"], jnp.array([2.0, 0.0]), jnp.array([0.0, 1.0, 5.0]))
    np.testing.assert_allclose(np.stack([env["sliding_solution"](2.0, t) for t in (0.0, 1.0, 5.0)]), sol, atol=1e-6)
    assert env["x1_limit"] == float(env["b"][0] / env["A"][0, 0])
