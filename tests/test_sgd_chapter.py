"""The claims of the chapter "Stochastic gradient methods", checked at a small size.

Each test mirrors one comparison drawn in book/sgd.md, calling the same course_lib code.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import stochastic as st

KEY = jax.random.PRNGKey(4)


def _nonconvex():
    p = st.make_problem(KEY, "least_squares", 200, 5, ncvx=2.0)
    theta0 = 2.0 * jnp.ones(5)
    theta_bar = st.gd(p, theta0, step=1 / p.L, n_records=1, record_every=3000).thetas[-1]
    return p, theta0, theta_bar, float(st.values(p, theta_bar))


def test_nonconvex_bound_holds_for_several_steps():
    p, theta0, _, j_star = _nonconvex()
    assert np.linalg.eigvalsh(np.asarray(jax.hessian(p.value)(jnp.ones(5))))[0] < 0   # nonconvex
    pilot = st.sgd_grad_curve(p, theta0, KEY, step=0.01, n_steps=500, n_runs=40, j_star=j_star)
    a = st.optimal_constant_step(500, pilot.gap, p.L, pilot.sigma2)
    for step in (a / 3, a, 3 * a):
        cur = st.sgd_grad_curve(p, theta0, KEY, step=step, n_steps=500, n_runs=40, j_star=j_star)
        assert np.all(cur.running_min <= cur.running_avg + 1e-12)
        assert np.all(cur.running_avg <= cur.bound)


def test_noise_floor_scales_with_step_and_batch():
    p, _, theta_bar, j_star = _nonconvex()
    s2 = float(p.variance(theta_bar))

    def floor(step, batch):
        cur = st.sgd_grad_curve(p, theta_bar, KEY, step=step, batch=batch, batch_max=8, n_steps=1000,
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
