"""The graded exercises of the chapter "Games and many machines": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: your function returned None",
    "q2": "q2: second_eigenvalue(W) on a 4-ring returned None",
    "q3": "q3: your function returned None",
}


def _wrong_cases(env):
    import jax.numpy as jnp
    import numpy as np

    def gda(M, q, z, eta):
        M, q, z = jnp.asarray(M), jnp.asarray(q), jnp.asarray(z)
        return z - eta * (M @ z + q)

    def two_steps(M, q, z, eta):
        zh = gda(M, q, z, eta)
        return gda(M, q, zh, eta)

    def signed(W):
        return float(np.sort(np.linalg.eigvalsh(np.asarray(W)))[-2])

    lam8 = 1 / 3 + 2 / 3 * np.cos(2 * np.pi / 8)
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(eg_step=gda), "plain gradient descent-ascent step", 2.25),
        ("q1", dict(eg_step=two_steps), "starts the second step from the trial point", 2.25),
        ("q1", dict(eg_factor_scalar=float(np.sqrt(1.25))), "factor of gradient descent-ascent", 2.25),
        ("q1", dict(eg_factor_scalar="0.9"), "q1: eg_factor_scalar", 2.25),
        ("q2", dict(second_eigenvalue=signed), "second largest eigenvalue", 2.25),
        ("q2", dict(second_eigenvalue=lambda W: float(np.max(np.abs(np.linalg.eigvalsh(np.asarray(W)))))), "returned 1", 2.25),
        ("q2", dict(gap_ring8=float(lam8)), "is lambda itself", 2.25),
        ("q2", dict(gap_ring8=float(1 - lam8**2)), "1 - lambda^2", 2.25),
        ("q3", dict(dsgd_round=lambda X, G, W, e: jnp.asarray(W) @ jnp.asarray(X) - e * jnp.asarray(G)), "gossips first", 1.5),
        ("q3", dict(dsgd_round=lambda X, G, W, e: jnp.asarray(X) - e * jnp.asarray(G)), "forgets the gossip", 1.5),
        ("q3", dict(consensus_after=4 * env["consensus_after"]), "sums over the agents", 1.5),
        ("q3", dict(dsgd_round=lambda X, G, W, e: jnp.asarray(X) @ jnp.asarray(W)), "q3:", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q3 = {"return jnp.asarray(W) @ (jnp.asarray(X) - eta * jnp.asarray(G))":
            "return jnp.asarray(W) @ jnp.asarray(X) - eta * jnp.asarray(G)"}


EXERCISE = Exercise(
    "games",
    max=MAX,
    leaks=("z - eta * (M @ z_half + q)", "np.linalg.eigvalsh(W - np.ones", "@ (jnp.asarray(X) - eta", "abs(1 - 0.5j"),
    answer_defs=r"def (eg_step|second_eigenvalue|dsgd_round)\b|eg_factor_scalar =|gap_ring8 =|consensus_after =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"decentralized": "decentralized"},
    self_check=(WRONG_Q3, "q3", "gossips first"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's gap and D-SGD round agree with course_lib.decentralized, its EG step with course_lib.minmax."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import pytest
    from course_lib import decentralized, minmax

    W = decentralized.gossip_matrix("ring", 8)
    assert solution_env["gap_ring8"] == pytest.approx(decentralized.spectral_gap(W), rel=1e-9)
    for name in ("path", "grid", "hypercube"):
        W = decentralized.gossip_matrix(name, 16)
        assert solution_env["second_eigenvalue"](W) == pytest.approx(decentralized.second_eigenvalue(W), abs=1e-9)
    # three EG steps by hand reproduce course_lib.minmax.extragradient
    game = minmax.make_game(jax.random.PRNGKey(0), 5, 2, mu=0.2)
    M, q = minmax.operator_matrix(game)
    z = np.ones(4)
    for _ in range(3):
        z = np.asarray(solution_env["eg_step"](M, q, z, 0.3))
    ref = minmax.extragradient(game, jnp.ones(4), 0.3, 3)
    assert np.linalg.norm(z - minmax.saddle_point(game)) == pytest.approx(ref.dist[-1], rel=1e-4)
    # one D-SGD round by hand is what course_lib.decentralized.dsgd does with a fixed gradient: X0 = 0, eta = 0 is gossip
    X = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (16, 3)))
    got = np.asarray(solution_env["dsgd_round"](X, np.zeros_like(X), W, 0.1))
    np.testing.assert_allclose(got, W @ X, atol=1e-5)
