"""The graded exercises of the chapter "The two pillars": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None (did you forget `return`?)",
    "q2": "q2: your function returned None",
    "q3": "q3: your function returned None",
    "q4": "q4: L_smooth is still the placeholder `...`",
}


def _wrong_cases(env):
    import jax
    import jax.numpy as jnp

    good_q1, good_q2, good_sgd = env["himmelblau_grad"], env["minibatch_grad"], env["sgd"]
    problem = env["problem"]

    def forgot_chain_rule(x):
        u, v = x[0] ** 2 + x[1] - 11.0, x[0] + x[1] ** 2 - 7.0
        return jnp.array([2.0 * u + 2.0 * v, 2.0 * u + 2.0 * v])

    def sum_not_mean(problem, x, idx):
        return good_q2(problem, x, idx) * len(idx)

    def no_reg(problem, x, idx):
        return good_q2(problem, x, idx) - problem.reg * x

    def ignores_idx(problem, x, idx):
        return jax.grad(problem)(x)

    def same_key(key, grad_fn, x0, step, n_steps, sigma):
        xs = [x0]
        for _ in range(n_steps):
            xs.append(xs[-1] - step * (grad_fn(xs[-1]) + sigma * jax.random.normal(key, x0.shape)))
        return jnp.stack(xs)

    def last_only(*args):
        return good_sgd(*args)[-1]

    A = problem.features
    L = float(jnp.linalg.eigvalsh(A.T @ A / problem.n)[-1] + problem.reg)
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(himmelblau_grad=forgot_chain_rule), "q1: your function returned [", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: jnp.zeros(3)), "q1: your function returned shape (3,), expected (2,)", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: jnp.full(2, jnp.nan)), "q1: your function returned NaN or infinite values", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError: division by zero", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: "grad"), "q1: your function returned a str", 0.0),
        ("q1", dict(himmelblau_grad=None), "q1: your function is not defined", 0.0),
        ("q1", dict(himmelblau_grad=lambda x: good_q1(x)[:, None]), "returned shape (2, 1), expected (2,)", 0.0),
        ("q2", dict(minibatch_grad=sum_not_mean), "q2: your function returned [", 0.75),  # single batches pass
        ("q2", dict(minibatch_grad=no_reg), "q2:", 1.0),  # the unregularised hidden problem passes
        ("q2", dict(minibatch_grad=ignores_idx), "q2: your function returned [", 1.5),  # unbiased, but not f_B
        ("q2", dict(minibatch_grad=lambda p, x, idx: x[idx]), "q2:", 0.0),
        ("q3", dict(sgd=same_key), "q3: your iterate x_", 1.8),
        ("q3", dict(sgd=last_only), "q3: your function returned shape (2,), expected (6, 2)", 0.0),
        ("q3", dict(sgd=lambda k, g, x0, s, n, sig: good_sgd(k, lambda x: -g(x), x0, s, n, sig)), "q3:", 0.6),  # ascent: only the shape test passes
        ("q4", dict(L_smooth=L * problem.n, eta_max=2 / (L * problem.n)), "cannot be the largest eigenvalue", 0.0),
        ("q4", dict(L_smooth=L, eta_max=1 / L), "q4: eta_max = ", 1.5),
        ("q4", dict(L_smooth="4.2"), "q4: L_smooth returned a str", 0.67),  # eta_max is right
        ("q4", dict(L_smooth=[L, L]), "q4: L_smooth should be one number, got 2 values", 0.67),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q1 = {"4.0 * x1 * u + 2.0 * v, 2.0 * u + 4.0 * x2 * v": "2.0 * u + 2.0 * v, 2.0 * u + 2.0 * v"}
RAISES_Q2 = {
    "return A.T @ residuals / idx.shape[0] + problem.reg * x": "return A.T @ residuals / 0.0 + problem.reg * x",
    "from course_lib import landscapes": "from course_lib import landscapes\nprint(undefined_name)",
}


EXERCISE = Exercise(
    "two_pillars",
    max=MAX,
    leaks=("eigvalsh(A.T", "fold_in(key, t), x.shape)\n", "4.0 * x1 * u"),
    answer_defs=r"def (himmelblau_grad|minibatch_grad|sgd)\b|L_smooth =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"landscapes": "landscapes", "noise": "noise", "simulate": "simulate", "grading": "grading"},
    hidden_min=2 * len(MAX) - 1,
    self_check=(WRONG_Q1, "q1", "q1: your function returned ["),
    batch={**WRONG_Q1, **RAISES_Q2},  # q1 forgets the chain rule, q2 divides by zero, a cell raises NameError
    batch_scores={"q1": 0, "q2": 0, "q3": 3, "q4": 2},
)


def test_q3_sgd_reproduces_the_course_simulator(solution_env):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib import landscapes, noise, simulate

    key, x0 = jax.random.key(3), jnp.array([-2.0, -2.0])
    ours = solution_env["sgd"](key, jax.jit(jax.grad(landscapes.himmelblau)), x0, 0.01, 30, 1.0)
    ref = simulate.trajectories(key, landscapes.himmelblau, noise.gaussian(1.0), x0[None], 0.01, 30).xs[:, 0]
    np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-4, atol=1e-4)
