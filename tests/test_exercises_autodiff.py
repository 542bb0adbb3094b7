"""The graded exercises of the chapter "Algorithmic differentiation": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 2.0, "q3": 2.0, "q4": 3.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None",
    "q2": "q2: your function returned None",
    "q3": "q3: product_mults(6) returned None",
    "q4": "q4: safe_norm_fwd returned None",
}


def _wrong_cases(env):
    import jax
    import jax.numpy as jnp
    import numpy as np

    sweep = env["reverse_sweep"]

    def assign_not_accumulate(program, values, n_inputs):  # adjoint[i] = ... instead of +=
        adjoint = np.zeros(len(values))
        adjoint[-1] = 1.0
        for k in range(len(program) - 1, -1, -1):
            op, i, j = program[k]
            bar = adjoint[n_inputs + k]
            if op == "add":
                adjoint[i], adjoint[j] = bar, bar
            elif op == "mul":
                adjoint[i], adjoint[j] = bar * values[j], bar * values[i]
            elif op == "sin":
                adjoint[i] = bar * np.cos(values[i])
            else:
                adjoint[i] = bar * values[n_inputs + k]
        return adjoint[:n_inputs]

    def local_only(program, values, n_inputs):  # forgets to multiply by the adjoint of the output
        g = np.zeros(len(values))
        for k, (op, i, j) in enumerate(program):
            if op == "mul":
                g[i] += values[j]
                g[j] += values[i]
            elif op == "add":
                g[i] += 1.0
                g[j] += 1.0
            elif op == "sin":
                g[i] += np.cos(values[i])
            else:
                g[i] += values[n_inputs + k]
        return g[:n_inputs]

    def divide(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.prod(x) / x

    def bwd_without_u(res, u):
        x, n = res
        return (jnp.where(n > 0, x / jnp.where(n > 0, n, 1.0), jnp.zeros_like(x)),)

    def bwd_no_tuple(res, u):
        return env["safe_norm_bwd"](res, u)[0]

    def bwd_unsafe(res, u):
        x, n = res
        return (u * x / n,)

    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(reverse_sweep=assign_not_accumulate), "must *accumulate*", 1.5),
        ("q1", dict(reverse_sweep=local_only), "q1: your function returned [", 0.0),
        ("q1", dict(reverse_sweep=lambda p, v, n: np.zeros(n + 1)), "q1: your function returned shape (4,), expected (3,)", 0.0),
        ("q1", dict(reverse_sweep=lambda p, v, n: np.full(n, np.nan)), "q1: your function returned NaN or infinite values", 0.0),
        ("q1", dict(reverse_sweep=lambda p, v, n: v[n + 99]), "q1: your function `<lambda>` raised IndexError", 0.0),
        ("q1", dict(reverse_sweep="grad"), "q1: expected a function, got a str", 0.0),
        ("q1", dict(reverse_sweep=None), "q1: your function is not defined", 0.0),
        ("q2", dict(product_grad=divide), "q2: your function returned NaN or infinite values", 1.0),
        ("q2", dict(product_grad=lambda x: np.cumprod(x)), "q2: your function returned [", 0.0),
        ("q2", dict(product_grad=lambda x: "prod"), "q2: your function returned a str", 0.0),
        ("q2", dict(product_grad=lambda x: np.ones((len(x), 1))), "expected (4,)", 0.0),
        ("q3", dict(product_mults=lambda p: (p - 1, 2 * (p - 1))), "q3: for p = 6 you count 10 multiplications", 1.0),
        ("q3", dict(product_mults=lambda p: (p, 2 * (p - 2))), "the value ab, abc, abcd, abcde, abcdef takes 5", 1.0),
        ("q3", dict(product_mults=lambda p: 3 * p - 5), "expected a tuple (value_mults, gradient_mults)", 1.0),
        ("q3", dict(product_mults=lambda p: ("five", "eight")), "both entries must be integers", 1.0),
        ("q3", dict(ratio_limit=5), "q3: ratio_limit = 5 is not the expected value", 1.5),
        ("q3", dict(ratio_limit=float("nan")), "q3: ratio_limit is nan, expected a finite number", 1.5),
        ("q3", dict(ratio_limit="3"), "q3: ratio_limit returned a str", 1.5),
        ("q4", dict(safe_norm_bwd=bwd_without_u), "q4: safe_norm_bwd returned [0.6 0.8] at x = [3, 4] with cotangent u = 2", 1.5),
        ("q4", dict(safe_norm_bwd=bwd_no_tuple), "must return a tuple with one cotangent per input", 1.5),
        ("q4", dict(safe_norm_bwd=bwd_unsafe), "q4: jax.grad(safe_norm) returned NaN or infinite values at x = 0", 2.25),
        ("q4", dict(safe_norm_fwd=lambda x: jnp.sqrt(jnp.sum(x**2))), "must return a pair (value, residuals)", 1.5),
        ("q4", dict(safe_norm_fwd=lambda x: 1 / 0), "q4: your function `<lambda>` raised ZeroDivisionError", 0.0),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"    return prefix * suffix": "    return np.prod(x) / x"}


EXERCISE = Exercise(
    "autodiff",
    max=MAX,
    leaks=("adjoint[i] += bar", "prefix[i] = prefix", "return p - 1, 2 * (p - 2)", "ratio_limit = 3", "safe_n = jnp.where"),
    answer_defs=r"def (reverse_sweep|product_grad|product_mults|safe_norm_fwd|safe_norm_bwd)\b|ratio_limit =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"ad": "autodiff"},
    self_check=(WRONG_Q2, "q2", "q2: your function returned NaN or infinite values"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solutions agree with course_lib.autodiff: gradients on the tape, and its operation counts."""
    import numpy as np
    from course_lib import autodiff as ad

    def f(x):  # the example program of question 1, with course_lib's operations
        return ad.sin(x[0] * x[1]) + ad.exp(x[2]) * x[0]

    x = np.array(solution_env["x_example"])
    np.testing.assert_allclose(solution_env["reverse_sweep"](solution_env["example"], solution_env["values_example"], 3),
                               ad.grad(f)(x), rtol=1e-12)
    z = np.array([1.5, -0.5, 0.0, 2.0, 3.0])
    np.testing.assert_allclose(solution_env["product_grad"](z), ad.grad(ad.product)(z), rtol=1e-12)
    for p in (2, 6, 40):
        r = ad.reverse(ad.product, np.linspace(0.5, 1.5, p))
        assert tuple(solution_env["product_mults"](p)) == (r.eval_counts.mul, r.backward_counts.mul)
