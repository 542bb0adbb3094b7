"""The graded exercises of the chapter "Wide two-layer networks": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 2.0, "q3": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: gram returned None",
    "q2": "q2: steps_needed(0.02, 0.5, 2.0, 1e-6) returned None",
    "q3": "q3: regime is still the placeholder `...`",
}


def _wrong_cases(env):
    import math

    import jax
    import jax.numpy as jnp

    def param_gram(F, theta):  # J^T J, p x p, instead of J J^T
        J = jax.jacobian(F)(theta)
        return J.T @ J

    def diag_only(F, theta):  # forgets the cross terms
        J = jax.jacobian(F)(theta)
        return jnp.diag(jnp.sum(J**2, axis=1))

    G = env["gram"](env["F_tiny"], env["theta_tiny"])
    lam_max = float(jnp.linalg.eigvalsh(G)[-1])

    def no_square(lam, step, J0, eps):  # bound (1 - step lam)^k: twice too many steps
        return 0 if J0 <= eps else math.ceil(math.log(eps / J0) / math.log(1 - step * lam))

    def exponential(lam, step, J0, eps):  # exp(-2 step lam k) instead of (1 - step lam)^(2k)
        return 0 if J0 <= eps else math.ceil(math.log(J0 / eps) / (2 * step * lam))

    def rounded_down(lam, step, J0, eps):
        return 0 if J0 <= eps else math.floor(math.log(eps / J0) / (2 * math.log(1 - step * lam)))

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(gram=param_gram), "q1: gram returned shape (4, 4), expected (2, 2)", 1.2),
        ("q1", dict(gram=diag_only), "q1: gram returned [", 1.2),
        ("q1", dict(lam_tiny=lam_max), "q1: lam_tiny is the largest eigenvalue of G", 2.4),
        ("q1", dict(lam_tiny=-1.0), "should be positive", 1.8),
        ("q1", dict(gram=lambda F, theta: jnp.full((2, 2), jnp.nan)), "q1: gram returned NaN or infinite values", 1.2),
        ("q1", dict(gram=lambda F, theta: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 1.2),
        ("q1", dict(gram=None), "q1: your function is not defined", 1.2),
        ("q2", dict(steps_needed=no_square), "the bound has exponent 2k, not k", 1.0),
        ("q2", dict(steps_needed=exponential), "not exp(-2 step lam_min k)", 1.5),
        ("q2", dict(steps_needed=rounded_down), "is too small", 1.5),
        ("q2", dict(steps_needed=lambda *a: 722.5), "is not a whole number of steps", 1.0),
        ("q2", dict(steps_needed=lambda *a: float("nan")), "expected a finite number", 0.0),
        ("q2", dict(steps_needed=lambda *a: "722"), "returned a str", 0.0),
        ("q3", dict(relative_move=lambda W0, W1: float(jnp.linalg.norm(W1 - W0))), "is not the expected value", 1.5),
        ("q3", dict(regime={1.0: "lazy", 300.0: "rich"}), "has the two regimes swapped", 2.25),
        ("q3", dict(regime={1.0: "rich", 300.0: "rich"}), "both runs are classified 'rich'", 2.25),
        ("q3", dict(regime={"1": "rich", "300": "lazy"}), "keys 1.0 and 300.0", 1.5),
        ("q3", dict(regime={1.0: "Rich", 300.0: "lazy"}), "must be the strings 'lazy' or 'rich'", 2.25),
        ("q3", dict(regime=None), "q3: regime is not defined", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"return int(k_int)": "return int(2 * k_int)"}


EXERCISE = Exercise(
    "two_layer",
    max=MAX,
    leaks=("Jac @ Jac.T", "math.log(eps / J0)", "< 0.1 else", "eigvalsh(gram("),
    answer_defs=r"def (gram|steps_needed|relative_move)\b|regime =|lam_tiny =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"two_layer": "two_layer"},
    self_check=(WRONG_Q2, "q2", "the bound has exponent 2k, not k"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's Gram and lambda_min match course_lib; its regimes match the chapter's rule."""
    import math

    import jax.numpy as jnp
    import numpy as np
    from course_lib import two_layer as tl

    env = solution_env
    X = jnp.array([[1.0, 0.0], [0.6, 0.8], [-0.6, 0.8]])
    th = env["theta_tiny"]
    G = tl.ntk_gram(tl.Params(th[:2], th[2:].reshape(2, 2)), X, math.sqrt(2))
    np.testing.assert_allclose(env["gram"](env["F_tiny"], th), G, rtol=1e-4, atol=1e-6)
    assert env["lam_tiny"] == np.float32(tl.lambda_min(G)) or abs(env["lam_tiny"] - float(tl.lambda_min(G))) < 1e-5
    # q2 agrees with the bound of course_lib
    for lam, step, J0, eps in [(0.02, 0.5, 2.0, 1e-6), (0.3, 1.0, 5.0, 1e-3)]:
        k = env["steps_needed"](lam, step, J0, eps)
        bound = np.asarray(tl.linear_rate_bound(J0, lam, step, k + 1), dtype=float)
        assert bound[k] <= eps * (1 + 1e-5) and bound[k - 1] > eps
    moves = {a: tl.relative_change(r.W[0], r.W[-1]) for a, r in env["runs"].items()}
    assert moves[1.0] > 0.5 and moves[300.0] < 0.1
