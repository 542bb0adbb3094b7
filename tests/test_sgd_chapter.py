"""The claims of the chapter "Stochastic gradient methods", checked at a small size.

Each test mirrors one comparison drawn in book/sgd.md, calling the same course_lib code.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import stochastic as st
from course_lib.chapters import sgd as sgd_ch

KEY = jax.random.PRNGKey(4)


def _nonconvex():
    p = st.make_problem(KEY, "least_squares", 200, 5, ncvx=2.0)
    theta0 = 2.0 * jnp.ones(5)
    theta_bar = st.gd(p, theta0, step=1 / p.L, n_records=1, record_every=3000).thetas[-1]
    return p, theta0, theta_bar, float(st.values(p, theta_bar))


def test_nonconvex_bound_holds_for_several_steps():
    p, theta0, _, j_star = _nonconvex()
    assert np.linalg.eigvalsh(np.asarray(jax.hessian(p.value)(jnp.ones(5))))[0] < 0   # nonconvex
    pilot = sgd_ch.sgd_grad_curve(p, theta0, KEY, step=0.01, n_steps=500, n_runs=40, j_star=j_star)
    a = st.optimal_constant_step(500, pilot.gap, p.L, pilot.sigma2)
    for step in (a / 3, a, 3 * a):
        cur = sgd_ch.sgd_grad_curve(p, theta0, KEY, step=step, n_steps=500, n_runs=40, j_star=j_star)
        assert np.all(cur.running_min <= cur.running_avg + 1e-12)
        assert np.all(cur.running_avg <= cur.bound)


def test_noise_floor_scales_with_step_and_batch():
    p, _, theta_bar, j_star = _nonconvex()
    s2 = float(p.variance(theta_bar))

    def floor(step, batch):
        cur = sgd_ch.sgd_grad_curve(p, theta_bar, KEY, step=step, batch=batch, batch_max=8, n_steps=1000,
                                n_runs=40, j_star=j_star, record_every=10)
        return float(cur.mean_sq[len(cur.mean_sq) // 2:].mean())

    steps = np.array([0.003, 0.01, 0.03])
    fa = np.array([floor(a, 1) for a in steps])
    fb = np.array([floor(0.01, b) for b in (1, 8)])
    assert abs(np.polyfit(np.log(steps), np.log(fa), 1)[0] - 1) < 0.2
    assert 5 < fb[0] / fb[1] < 12
    assert np.all(fa <= p.L * steps * s2)


def test_robbins_monro_beats_the_constant_floor():
    p, theta0, _, _ = _nonconvex()
    g = {}
    for name, power in (("const", 0.0), ("rm", 1.0)):
        run = st.sgd(p, theta0, KEY, step=0.02, power=power, offset=200.0, n_records=10, record_every=800, n_runs=10)
        g[name] = np.asarray(st.grad_norms(p, run.thetas))[:, -1]
    assert np.max(g["rm"]) < np.median(g["const"]) / 5


def test_without_replacement_has_less_variance():
    p = st.make_problem(KEY, "least_squares", 50, 4)
    th = jnp.zeros(4)
    s2 = float(p.variance(th))
    for b in (5, 40):
        G = st.minibatch_gradients(p, th, KEY, batch=b, n_draws=4000, replacement=False)
        msq = float(jnp.mean(jnp.sum((G - p.grad(th)) ** 2, axis=1)))
        pred = float(st.minibatch_variance(s2, 50, b, replacement=False))
        assert abs(msq / pred - 1) < 0.1
        assert pred < s2 / b


def test_minibatch_deviations_match_both_variance_formulas():
    # the chapter's first figure: one call measures every batch size, with and without replacement
    p = st.make_problem(KEY, "least_squares", 50, 4)
    th = jnp.zeros(4)
    s2 = float(p.variance(th))
    batches = np.array([1, 5, 25, 45])
    msq = sgd_ch.minibatch_deviations(p, th, KEY, batches, n_draws=4000)
    for repl in (True, False):
        pred = st.minibatch_variance(s2, 50, batches, replacement=repl)
        assert np.all(np.abs(msq[repl] / pred - 1) < 0.1), (repl, msq[repl] / pred)
    assert msq[True][-1] / msq[False][-1] > 5          # b = 45 of 50: far less variance without replacement
    with pytest.raises(ValueError, match="batches"):
        sgd_ch.minibatch_deviations(p, th, KEY, np.array([0, 51]), n_draws=10)


def test_complexity_table_within_a_constant_factor():
    scales = jnp.geomspace(1.0, 1e-2, 6)
    ratios = []
    for n, kappa in ((100, 30), (100, 300), (400, 30)):
        p = st.make_problem(KEY, "logistic", n, 6, scales=scales, normalize=True, reg=0.25 / (kappa - 1))
        ts = st.reference_solution(p)
        for m in ("gd", "sag", "svrg", "saga"):
            pred = st.complexity("gd", n, p.L / p.mu, 1e-6) if m == "gd" else st.complexity("vr", n, p.kappa, 1e-6)
            run = st.run_method(m, p, KEY, budget=8 * pred)
            ratios.append(st.evals_to_reach(st.relative_errors(run, ts), run.evals, 1e-6) / pred)
    ratios = np.array(ratios)
    assert np.all(np.isfinite(ratios)) and 0.1 < ratios.min() and ratios.max() < 5


def test_variance_reduction_beats_gd_and_sgd_on_least_squares():
    p = st.make_problem(KEY, "least_squares", 300, 6, scales=jnp.geomspace(1.0, 1e-2, 6), normalize=True, reg=1 / 299)
    ts = st.reference_solution(p)
    final = {m: st.relative_errors(st.run_method(m, p, KEY, budget=6e4), ts)[-1] for m in ("gd", "sgd", "saga")}
    assert final["saga"] < 1e-9 < final["gd"] and final["saga"] < final["sgd"]


def test_reshuffling_converges_to_a_lower_floor():
    p = st.make_problem(KEY, "least_squares", 50, 4, normalize=True, reg=0.1, noise=0.5)
    ts = st.reference_solution(p)
    start = jnp.asarray(ts, jnp.float32)
    steps = np.array([0.005, 0.01, 0.02])
    floors = {True: [], False: []}
    for a in steps:
        r = sgd_ch.replacement_comparison(p, ts, KEY, step=a, n_epochs=40, n_runs=20, theta0=start)
        floors[True].append(r.with_replacement[:, 20:].mean())
        floors[False].append(r.without_replacement[:, 20:].mean())
    wr, rr = np.array(floors[True]), np.array(floors[False])
    assert np.all(rr < wr / 3)                                            # reshuffling: lower floor
    assert np.all(wr <= st.distance_floor(p, ts, steps, True))            # both bounds hold
    assert np.all(rr <= st.distance_floor(p, ts, steps, False))
    assert abs(np.polyfit(np.log(steps), np.log(wr), 1)[0] - 1) < 0.2     # floor ~ alpha with replacement
    assert np.polyfit(np.log(steps), np.log(rr), 1)[0] > 1.8              # at least ~ alpha^2 without
    # from zero, the same seeds and steps: reshuffling ends closer after the same number of epochs
    r = sgd_ch.replacement_comparison(p, ts, KEY, step=0.02, n_epochs=30, n_runs=20)
    assert r.without_replacement[:, -10:].mean() < r.with_replacement[:, -10:].mean() / 3


def test_course_methods_agree_with_scikit_learn():
    p = st.make_problem(KEY, "logistic", 300, 6, scales=jnp.geomspace(1.0, 1e-2, 6), normalize=True, reg=0.25 / 99)
    sk = st.sklearn_solution(p, solver="saga")
    assert np.linalg.norm(st.reference_solution(p) - sk) < 1e-8 * np.linalg.norm(sk)
    for m in ("gd", "agd", "sag", "svrg", "saga", "katyusha"):
        kappa = p.L / p.mu if m in ("gd", "agd") else p.kappa
        pred = st.complexity({"gd": "gd", "agd": "agd", "katyusha": "accelerated"}.get(m, "vr"), p.n, kappa, 1e-10)
        theta = np.asarray(st.run_method(m, p, KEY, budget=8 * pred).thetas[-1], np.float64)
        assert np.linalg.norm(theta - sk) < 1e-4 * np.linalg.norm(sk), m


def test_nesterov_matches_the_sqrt_kappa_prediction():
    scales = jnp.geomspace(1.0, 1e-2, 6)
    ratios = []
    for kappa in (30, 300, 3000):
        p = st.make_problem(KEY, "logistic", 100, 6, scales=scales, normalize=True, reg=0.25 / (kappa - 1))
        ts = st.reference_solution(p)
        pred = st.complexity("agd", p.n, p.L / p.mu, 1e-6)
        run = st.run_method("agd", p, KEY, budget=8 * pred)
        ratios.append(st.evals_to_reach(st.relative_errors(run, ts), run.evals, 1e-6) / pred)
    ratios = np.array(ratios)
    assert np.all(np.isfinite(ratios)) and 0.25 < ratios.min() and ratios.max() < 2
    assert ratios.max() / ratios.min() < 1.5          # the sqrt(kappa) scaling, not kappa


def test_katyusha_matches_the_accelerated_row():
    scales = jnp.geomspace(1.0, 1e-2, 6)
    ratios, gains = [], []
    for kappa in (30, 3000):
        p = st.make_problem(KEY, "logistic", 100, 6, scales=scales, normalize=True, reg=0.25 / (kappa - 1))
        ts = st.reference_solution(p)
        meas = {}
        for m, row in (("katyusha", "accelerated"), ("saga", "vr")):
            pred = st.complexity(row, p.n, p.kappa, 1e-6)
            run = st.run_method(m, p, KEY, budget=8 * pred)
            meas[m] = st.evals_to_reach(st.relative_errors(run, ts), run.evals, 1e-6)
            if m == "katyusha":
                ratios.append(meas[m] / pred)
        gains.append(meas["saga"] / meas["katyusha"])
    assert np.all(np.isfinite(ratios)) and 0.25 < min(ratios) and max(ratios) < 4
    assert gains[1] > 1.0          # kappa >> n: accelerated variance reduction beats SAGA


def test_method_comparison_widget_matches_the_table_at_small_size():
    # the second widget's computation (course_lib.chapters.sgd.compare_methods), small n
    cmp = sgd_ch.compare_methods(jax.random.PRNGKey(0), 250, 300.0, epochs=60)
    assert set(cmp.curves) == {"gd", "agd", "sgd", "svrg", "saga"}
    for m in ("svrg", "saga"):  # variance reduction reaches eps within a factor 4 of (n + kappa) log(1/eps)
        ep, err = cmp.curves[m]
        reached = ep[np.argmax(err <= cmp.eps)] if (err <= cmp.eps).any() else np.inf
        assert cmp.predicted[m] / 4 <= reached <= 4 * cmp.predicted[m], (m, reached, cmp.predicted[m])
    # GD's table cost n*kappa*log(1/eps) is far beyond the budget, and it is indeed far from eps
    assert cmp.predicted["gd"] > 60 and cmp.curves["gd"][1][-1] > 1e3 * cmp.eps
    with pytest.raises(ValueError, match="kappa"):
        sgd_ch.compare_methods(jax.random.PRNGKey(0), 250, 1.0)
