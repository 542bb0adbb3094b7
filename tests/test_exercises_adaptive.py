"""The graded exercises of the chapter "Adaptive methods, normalization and attention": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None",
    "q2": "q2: rank_one_distance([[1, 2], [3, 0], [2, 1]]) returned None",
    "q3": "q3: bn returned None",
}


def _wrong_cases(env):
    import jax.numpy as jnp

    def adam_only(theta, m, v, v_max, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_hat = v / (1 - b2**k)
        return theta - lr * (m / (1 - b1**k)) / (jnp.sqrt(v_hat) + eps), m, v, v_hat

    def raw_maximum(theta, m, v, v_max, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_max = jnp.maximum(v_max, v)
        return theta - lr * (m / (1 - b1**k)) / (jnp.sqrt(v_max / (1 - b2**k)) + eps), m, v, v_max

    def three_items(theta, m, v, v_max, g, k, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        return env["amsgrad_step"](theta, m, v, v_max, g, k, lr, b1, b2, eps)[:3]

    def not_centred(X):
        return jnp.linalg.norm(X) / jnp.linalg.norm(X)

    def row_means(X):
        return jnp.linalg.norm(X - X.mean(axis=1, keepdims=True)) / jnp.linalg.norm(X)

    def squared(X):
        return (jnp.linalg.norm(X - X.mean(axis=0)) / jnp.linalg.norm(X)) ** 2

    def nuclear(X):
        s = jnp.linalg.svd(X, compute_uv=False)
        return s.sum() / s[0]

    def layer_norm(H, eps=1e-5):
        return (H - H.mean(axis=1, keepdims=True)) / jnp.sqrt(H.var(axis=1, keepdims=True) + eps)

    def unbiased(H, eps=1e-5):
        return (H - H.mean(axis=0)) / jnp.sqrt(H.var(axis=0, ddof=1) + eps)

    def not_centred_bn(H, eps=1e-5):
        return H / jnp.sqrt(H.var(axis=0) + eps)

    d = env["distances"]
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(amsgrad_step=adam_only), "your step is Adam's", 0.0),
        ("q1", dict(amsgrad_step=raw_maximum), "q1: new_theta", 2.25),
        ("q1", dict(amsgrad_step=three_items), "got tuple of length 3", 0.0),
        ("q1", dict(amsgrad_step=lambda *a, **k: (jnp.full(3, jnp.nan),) * 4), "NaN", 0.0),
        ("q1", dict(amsgrad_step=lambda *a, **k: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 0.0),
        ("q1", dict(amsgrad_step=None), "q1: your function is not defined", 0.0),
        ("q2", dict(rank_one_distance=not_centred), "subtract the mean token", 1.5),
        ("q2", dict(rank_one_distance=row_means), "X.mean(axis=0)", 1.5),
        ("q2", dict(rank_one_distance=squared), "is the squared ratio", 1.5),
        ("q2", dict(stable_rank=nuclear), "uses the singular values, not their squares", 1.5),
        ("q2", dict(stable_rank=lambda X: "2"), "q2: stable_rank", 1.5),
        ("q2", dict(distances=d[:5]), "q2: distances returned shape (5,), expected (9,)", 1.5),
        ("q2", dict(distances=[1.0] * 9), "q2: distances", 2.25),
        ("q2", dict(distances=...), "q2: distances is still the placeholder", 2.25),
        ("q3", dict(bn=layer_norm), "that is layer normalization", 1.5),
        ("q3", dict(bn=unbiased), "biased variance (divide by n)", 1.5),
        ("q3", dict(bn=not_centred_bn), "q3: bn", 1.5),
        ("q3", dict(bn=lambda H, eps=1e-5: H[:1]), "q3: bn returned shape (1, 2), expected (4, 2)", 1.5),
        ("q3", dict(scale_gap=0.9), "q3: scale_gap = 0.9 is not small", 1.5),
        ("q3", dict(scale_gap=float("nan")), "q3: scale_gap is nan, expected a finite number", 1.5),
        ("q3", dict(scale_gap="tiny"), "q3: scale_gap", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q3 = {"var = H.var(axis=0)": "var = H.var(axis=0, ddof=1)"}


EXERCISE = Exercise(
    "adaptive",
    max=MAX,
    leaks=("jnp.maximum(v_max", "X.mean(axis=0)", "H.var(axis=0)", "s[0] ** 2"),
    answer_defs=r"def amsgrad_step\b|def rank_one_distance\b|def bn\b|scale_gap =|distances =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"optimizers": "optimizers", "at": "attention"},
    self_check=(WRONG_Q3, "q3", "biased variance (divide by n)"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's AMSGrad steps, rank measures and batch norm match course_lib's."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib import attention, optimizers

    ref = optimizers.amsgrad(0.05, 0.8, 0.99, 1e-6)
    theta = jnp.array([0.3, -1.0])
    state, mine = ref.init(theta), theta
    m = v = vm = jnp.zeros(2)
    for k in range(1, 30):
        g = jnp.array([jnp.sin(k), 2.0 * jnp.cos(3 * k)]) * (10.0 if k == 3 else 1.0)
        u, state = ref.update(g, state, theta)
        theta = theta + u
        mine, m, v, vm = solution_env["amsgrad_step"](mine, m, v, vm, g, k, 0.05, 0.8, 0.99, 1e-6)
        np.testing.assert_allclose(mine, theta, rtol=1e-5, atol=1e-6)
    X = jax.random.normal(jax.random.PRNGKey(9), (6, 4))
    assert abs(float(solution_env["rank_one_distance"](X)) - float(attention.distance_to_rank_one(X))) < 1e-6
    assert abs(float(solution_env["stable_rank"](X)) - float(attention.stable_rank(X))) < 1e-5
    np.testing.assert_allclose(solution_env["bn"](X), attention.batch_norm(X), atol=1e-5)
    assert solution_env["distances"][-1] < 1e-2 * solution_env["distances"][0]
    assert solution_env["scale_gap"] < 1e-3
