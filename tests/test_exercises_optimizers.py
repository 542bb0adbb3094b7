"""The graded exercises of the chapter "Deep-learning optimizers": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None",
    "q2": "q2: gap_sgd is still the placeholder `...`",
    "q3": "q3: alpha_star is still the placeholder `...`",
    "q4": "q4: your function returned None",
}


def _wrong_cases(env):
    import jax.numpy as jnp

    def no_correction(theta, m, v, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        return theta - lr * m / (jnp.sqrt(v) + eps), m, v

    def eps_inside(theta, m, v, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        return theta - lr * (m / (1 - b1**k)) / jnp.sqrt(v / (1 - b2**k) + eps), m, v

    def off_by_one(theta, m, v, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        return theta - lr * (m / (1 - b1 ** (k + 1))) / (jnp.sqrt(v / (1 - b2 ** (k + 1))) + eps), m, v

    def only_theta(theta, m, v, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        return theta - lr * jnp.sign(g)

    def adamax_l2(theta, m, u, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):   # Adam's root mean square
        m = b1 * m + (1 - b1) * g
        u = jnp.sqrt(b2 * u**2 + (1 - b2) * g**2) + eps
        return theta - lr * (m / (1 - b1**k)) / u, m, u

    def adamax_no_correction(theta, m, u, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        u = jnp.maximum(b2 * u, jnp.abs(g) + eps)
        return theta - lr * m / u, m, u

    ridge = env["ridge"]
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(adam_step=no_correction), "(the bias correction)", 0.0),
        ("q1", dict(adam_step=off_by_one), "q1: new_theta", 0.0),
        ("q1", dict(adam_step=eps_inside), "q1: new_theta", 2.25),
        ("q1", dict(adam_step=only_theta), "q1: adam_step should return a tuple (new_theta, new_m, new_v), got Array", 0.0),
        ("q1", dict(adam_step=lambda *a, **k: (jnp.full(3, jnp.nan), None, None)), "NaN", 0.0),
        ("q1", dict(adam_step=lambda *a, **k: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 0.0),
        ("q1", dict(adam_step=None), "q1: your function is not defined", 0.0),
        ("q2", dict(gap_sgd=0.0, gap_adam=0.0), "q2: gap_adam = 0 is (almost) zero", 1.5),
        ("q2", dict(gap_sgd=env["gap_adam"], gap_adam=env["gap_sgd"]), "q2: gap_sgd =", 1.5),
        ("q2", dict(gap_adam=float("nan")), "q2: gap_adam is nan, expected a finite number", 1.5),
        ("q2", dict(gap_adam="0.8"), "q2: gap_adam", 1.5),
        ("q2", dict(ridge=jnp.array([2.0, -1.0, 3.0])), "q2: ridge equals c", 2.25),
        ("q2", dict(ridge=ridge[:2]), "q2: ridge returned shape (2,), expected (3,)", 0.75),
        ("q2", dict(ridge=ridge * 1.01), "q2: ridge", 2.25),
        ("q3", dict(alpha_star=2 / 50.5), "gradient descent's best step", 2.25),
        ("q3", dict(beta_star=9 / 11), "is the rate; beta_star is its square", 2.25),
        ("q3", dict(alpha_star=float("inf")), "q3: alpha_star is inf, expected a finite number", 2.25),
        ("q3", dict(measured_rate=1.3), "q3: rates per step lie in (0, 1)", 1.5),
        ("q3", dict(measured_rate=env["gd_rate"]), "q3: measured_rate = 0.98", 2.25),
        ("q3", dict(gd_rate=None), "q3: gd_rate", 1.5),
        ("q4", dict(adamax_step=adamax_l2), "q4: new_u", 0.0),
        ("q4", dict(adamax_step=adamax_no_correction), "q4: new_theta", 0.7),   # its u is right
        ("q4", dict(adamax_step=None), "q4: your function is not defined", 0.0),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q3 = {"beta_star = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2": "beta_star = (kappa**0.5 - 1) / (kappa**0.5 + 1)"}


EXERCISE = Exercise(
    "optimizers",
    max=MAX,
    leaks=("m / (1 - b1**k)", "w * c / (w + lam)", "4 / (L**0.5 + mu**0.5)", "jnp.maximum(b2 * u"),
    answer_defs=r"def adam_step\b|gap_sgd =|alpha_star =|def adamax_step\b",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"optimizers": "optimizers"},
    self_check=(WRONG_Q3, "q3", "is the rate; beta_star is its square"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's Adam steps, ridge point and heavy-ball tuning match course_lib's."""
    import jax.numpy as jnp
    import numpy as np
    from course_lib import optimizers

    ref = optimizers.adam(0.05, 0.8, 0.99, 1e-6)
    theta = jnp.array([0.3, -1.0])
    state, m, v, mine = ref.init(theta), jnp.zeros(2), jnp.zeros(2), theta
    for k in range(1, 30):
        g = jnp.array([jnp.sin(k), 2.0 * jnp.cos(3 * k)])
        u, state = ref.update(g, state, theta)
        theta = theta + u
        mine, m, v = solution_env["adam_step"](mine, m, v, g, k, 0.05, 0.8, 0.99, 1e-6)
        np.testing.assert_allclose(mine, theta, rtol=1e-5, atol=1e-6)
    lr, beta, rate = optimizers.heavy_ball_optimal(0.5, 50.0)
    assert solution_env["alpha_star"] == np.float64(lr) or abs(solution_env["alpha_star"] - lr) < 1e-9
    assert abs(solution_env["beta_star"] - beta) < 1e-9
    assert abs(solution_env["measured_rate"] - rate) < 0.03
    assert solution_env["gap_sgd"] < 1e-4 < 1e-2 < solution_env["gap_adam"]
