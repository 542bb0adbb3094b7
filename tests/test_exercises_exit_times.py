"""The graded exercises of the chapter "How long SGD takes": what is particular to them.

``EXERCISE`` is what tests/test_exercises.py expects of this exercise."""

from __future__ import annotations

from exercise_harness import Exercise

MAX = {"q1": 3.0, "q2": 3.0, "q3": 2.0}

# the message each question's tests give on the untouched student notebook
BLANK = {
    "q1": "q1: J_by_hand is still the placeholder `...`",
    "q2": "q2: J_pred is still the placeholder `...`",
    "q3": "q3: grows([0.0, 1.0, 0.0]) returned None",
}


def _wrong_cases(env):
    import numpy as np
    from course_lib import energy

    def only_start(B, s):  # J(start) alone, forgetting the fall into other bad minima
        return energy.relative_energy(B, 0, s) if s else 0.0

    def no_positive_part(B, s):
        D = energy.path_costs(B)
        return float(max(energy.relative_energy(B, 0, i) - D[s, i] for i in range(1, np.shape(B)[0])))

    def log_tau(steps, tau):
        return float(np.polyfit(1.0 / np.asarray(steps), np.log(np.asarray(tau)), 1)[0])

    def against_eta(steps, tau):
        return float(np.polyfit(np.asarray(steps), np.log(np.asarray(steps) * np.asarray(tau)), 1)[0])

    f = env["f"]
    from course_lib import landscapes as L

    lower_saddle = float(2 * (f(L.THREE_HUMPS_SADDLES[1]) - f(L.THREE_HUMPS_MINIMA[2])) / 15.0**2)
    good = dict(env["predict"])
    return [
        # (question, overrides, expected message fragment, maximal score allowed)
        ("q1", dict(J_by_hand=[1.0, 0.2]), "J_by_hand[1] = 0.2 is J(2) alone", 2.25),
        ("q1", dict(J_by_hand=[0.8, 1.0]), "q1: J_by_hand returned [0.8 1. ]", 2.25),
        ("q1", dict(convergence_J=only_start), "convergence_J(B, 2) = 0.2 is J(2) alone", 2.25),
        ("q1", dict(convergence_J=no_positive_part), "q1: convergence_J(B, 0) = -3 is not the expected value", 2.25),
        ("q1", dict(convergence_J=lambda B, s: float("nan")), "q1: convergence_J(B, 0) is nan, expected a finite number", 2.25),
        ("q1", dict(convergence_J=lambda B, s: np.zeros(2)), "should be one number, got 2 values", 2.25),
        ("q1", dict(convergence_J=lambda B, s: 1 / 0), "q1: your function `<lambda>` raised ZeroDivisionError", 2.25),
        ("q1", dict(convergence_J=None), "q1: your function is not defined", 2.25),
        ("q2", dict(J_pred=env["J_pred"] / 2), "half the expected value", 2.4),
        ("q2", dict(J_pred=lower_saddle), "uses the lower saddle s_r", 2.4),
        ("q2", dict(J_pred=float("nan")), "q2: J_pred is nan, expected a finite number", 2.4),
        ("q2", dict(J_pred="0.04"), "q2: J_pred", 2.4),
        ("q2", dict(estimate_J=log_tau), "you regressed log(tau) in steps", 1.5),
        ("q2", dict(estimate_J=against_eta), "you regressed against eta", 1.5),
        ("q2", dict(J_hat=env["J_hat"] * 1.1), "q2: J_hat =", 2.4),
        ("q3", dict(grows=lambda v: True), "log tau grows exactly when some local minimum is not global", 1.5),
        ("q3", dict(grows=lambda v: 1), "returned a int, expected True or False", 1.5),
        ("q3", dict(grows=lambda v: v[0] > v[-1]), "q3: grows(", 1.5),
        ("q3", dict(predict={**good, "himmelblau": True}), "predict is wrong for ['himmelblau']", 1.5),
        ("q3", dict(predict={"three_humps": True}), "predict has no entry for", 1.5),
    ]


# edits of the filled notebook, for the self-checks in a kernel and the batch grading
WRONG_Q2 = {"np.log(steps * np.asarray(mean_tau, dtype=float))": "np.log(np.asarray(mean_tau, dtype=float))"}


EXERCISE = Exercise(
    "exit_times",
    max=MAX,
    leaks=("[1.0, 0.8]", "energy.relative_energy(B, 0, i) - D", "np.polyfit(1.0 / steps", "THREE_HUMPS_SADDLES[0])) - f(",
           '"himmelblau": False', "minima.min() + 1e-9"),
    answer_defs=r"def (convergence_J|estimate_J|grows)\b|J_by_hand =|J_pred =|J_hat =|predict =",
    blank=BLANK,
    wrong_cases=_wrong_cases,
    public={"energy": "energy", "landscapes": "landscapes"},
    self_check=(WRONG_Q2, "q2", "you regressed log(tau) in steps"),
)


def test_solution_values_agree_with_course_lib(solution_env):
    """The solution's J(x), prediction and estimate agree with course_lib.energy and course_lib.exit_times."""
    import numpy as np
    import pytest
    from course_lib import energy, exit_times

    B = solution_env["B"]
    assert solution_env["J_by_hand"] == pytest.approx([energy.convergence_energy(B, 0, s) for s in (1, 2)])
    g = exit_times.three_humps_graph(15.0)
    assert solution_env["J_pred"] == pytest.approx(energy.convergence_energy(g.B, g.target, g.start), rel=1e-5)
    fit = exit_times.fit_rate(solution_env["steps"], solution_env["mean_tau"])
    assert solution_env["J_hat"] == pytest.approx(fit.slope)
    assert 0.8 < solution_env["J_hat"] / solution_env["J_pred"] < 1.1
    for name, want in solution_env["predict"].items():
        assert want == (name in ("three_humps", "two_well"))
    assert not solution_env["grows"](np.zeros(5).tolist())
