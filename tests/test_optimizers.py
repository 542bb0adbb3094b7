"""course_lib.optimizers: same iterates as optax over 100 steps, conventions, helpers, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from course_lib import optimizers as opt

N_STEPS = 100


def _loss(params):
    """A non-separable, non-quadratic loss on a pytree (dict of a matrix and a vector)."""
    W, b = params["W"], params["b"]
    x = jnp.linspace(-1.0, 1.0, 6).reshape(3, 2)
    r = jnp.tanh(x @ W) @ jnp.ones(W.shape[1]) + b.sum() - jnp.array([0.5, -0.2, 1.0])
    return jnp.sum(r**2) + 0.3 * jnp.sum(W**2 * jnp.arange(1.0, W.size + 1).reshape(W.shape)) + 0.1 * jnp.sum(b**4)


PARAMS0 = {"W": jnp.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.7]]), "b": jnp.array([0.9, -0.4])}

CASES = {
    "sgd": (opt.sgd(0.05), optax.sgd(0.05)),
    "heavy_ball": (opt.heavy_ball(0.02, 0.9), optax.sgd(0.02, momentum=0.9)),
    "nesterov": (opt.nesterov(0.02, 0.8), optax.sgd(0.02, momentum=0.8, nesterov=True)),
    "adagrad": (opt.adagrad(0.3), optax.adagrad(0.3)),
    "adagrad_eps": (opt.adagrad(0.3, initial_accumulator=0.0, eps=1e-3),
                    optax.adagrad(0.3, initial_accumulator_value=0.0, eps=1e-3)),
    "rmsprop": (opt.rmsprop(0.003, decay=0.95, eps=1e-6), optax.rmsprop(0.003, decay=0.95, eps=1e-6)),
    "sign_descent": (opt.sign_descent(0.01), optax.chain(optax.scale_by_sign(), optax.scale(-0.01))),
    "adam": (opt.adam(0.02), optax.adam(0.02)),
    "adam_eps": (opt.adam(0.02, b1=0.8, b2=0.99, eps=1e-3), optax.adam(0.02, b1=0.8, b2=0.99, eps=1e-3)),
    "adamw": (opt.adamw(0.02, weight_decay=0.1), optax.adamw(0.02, weight_decay=0.1)),
    "nadam": (opt.nadam(0.02), optax.nadam(0.02)),
    "nadam_eps": (opt.nadam(0.02, b1=0.8, b2=0.99, eps=1e-3), optax.nadam(0.02, b1=0.8, b2=0.99, eps=1e-3)),
    "adamax": (opt.adamax(0.02), optax.adamax(0.02)),
    "adamax_eps": (opt.adamax(0.02, b1=0.8, b2=0.99, eps=1e-3), optax.adamax(0.02, b1=0.8, b2=0.99, eps=1e-3)),
    "adadelta": (opt.adadelta(1.0), optax.adadelta(1.0)),
    "adadelta_lr": (opt.adadelta(0.5, rho=0.8, eps=1e-4), optax.adadelta(0.5, rho=0.8, eps=1e-4)),
    "adam_l2": (opt.with_l2(opt.adam(0.02), 0.1),
                optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.02))),
    "heavy_ball_l2": (opt.with_l2(opt.heavy_ball(0.02, 0.9), 0.1),
                      optax.chain(optax.add_decayed_weights(0.1), optax.sgd(0.02, momentum=0.9))),
    "clip_decay_adam": (opt.chain(opt.clip_by_global_norm(0.5), opt.add_decayed_weights(0.1), opt.adam(0.02)),
                        optax.chain(optax.clip_by_global_norm(0.5), optax.add_decayed_weights(0.1), optax.adam(0.02))),
}


_GRAD = jax.jit(jax.grad(_loss))


def _iterates(o, params, update_fn, init_fn, apply):
    state = init_fn(params)
    out = [params]
    for _ in range(N_STEPS):
        g = _GRAD(params)
        u, state = update_fn(g, state, params)
        params = apply(params, u)
        out.append(params)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_same_iterates_as_optax_over_100_steps(case):
    """In float64, so that rounding differences (which oscillating coordinates amplify in float32) stay tiny."""
    with jax.enable_x64(True):
        ours, ref = CASES[case]
        p0 = jax.tree.map(lambda p: jnp.asarray(p, jnp.float64), PARAMS0)
        a = _iterates(None, p0, jax.jit(ours.update), ours.init, opt.apply_updates)
        b = _iterates(None, p0, jax.jit(ref.update), ref.init, optax.apply_updates)
    assert a[-1]["W"].dtype == jnp.float64
    for k, (pa, pb) in enumerate(zip(a, b)):
        for leaf in ("W", "b"):
            np.testing.assert_allclose(pa[leaf], pb[leaf], rtol=1e-8, atol=1e-10, err_msg=f"{case}, step {k}, {leaf}")
    # and the run actually moved
    assert float(jnp.abs(a[-1]["W"] - PARAMS0["W"]).max()) > 1e-2


def test_rprop_same_step_sizes_as_optax_which_applies_them_one_call_late():
    """optax 0.2.8's rprop returns the step of the previous call; fed the same gradients, the states agree."""
    ours, ref = opt.rprop(0.01), optax.rprop(0.01)
    params = PARAMS0
    s_ours, s_ref = ours.init(params), ref.init(params)
    prev_update = jax.tree.map(jnp.zeros_like, params)
    flips = 0
    for _ in range(N_STEPS):
        g = jax.grad(_loss)(params)
        u, s_ours = ours.update(g, s_ours, params)
        u_ref, s_ref = ref.update(g, s_ref, params)
        for leaf in ("W", "b"):
            np.testing.assert_allclose(s_ours.step_sizes[leaf], s_ref[0].step_sizes[leaf], rtol=1e-6)
            np.testing.assert_allclose(s_ours.prev[leaf], s_ref[0].prev_updates[leaf], rtol=1e-6)
            # optax's update now: the previous step, unless the sign just flipped (then 0)
            lag = jnp.where(u[leaf] == 0.0, 0.0, prev_update[leaf])
            np.testing.assert_allclose(u_ref[leaf], lag, rtol=1e-6, atol=1e-12)
        flips += int(sum(jnp.sum(x == 0) for x in jax.tree.leaves(u)))
        prev_update = u
        params = opt.apply_updates(params, u)
    assert flips > 0  # the sign-flip branch was exercised
    assert _loss(params) < 0.5 * _loss(PARAMS0)


def test_heavy_ball_velocity_form_equals_polyak_form():
    J = opt.quadratic_problem(jnp.array([1.0, 30.0]), angle=0.4)
    lr, beta = 0.03, 0.7
    r = opt.run("heavy_ball", J, jnp.array([1.0, 1.0]), 60, learning_rate=lr, beta=beta)
    prev = x = jnp.array([1.0, 1.0])
    for k in range(60):
        x, prev = x - lr * jax.grad(J)(x) + beta * (x - prev), x
        np.testing.assert_allclose(r.params[k + 1], x, rtol=1e-5, atol=1e-6)


def test_adam_bias_correction_first_step_is_a_sign_step():
    g = {"w": jnp.array([2.0, -0.5])}
    p = {"w": jnp.zeros(2)}
    for b1, b2 in ((0.9, 0.999), (0.5, 0.9)):
        u1, _ = opt.adam(0.1, b1, b2, eps=0.0).update(g, opt.adam(0.1, b1, b2).init(p), p)
        u0, _ = opt.adam(0.1, b1, b2, eps=0.0, bias_correction=False).update(g, opt.adam(0.1).init(p), p)
        np.testing.assert_allclose(u1["w"], -0.1 * jnp.sign(g["w"]), rtol=1e-5)  # first Adam step = sign step
        np.testing.assert_allclose(u0["w"] / u1["w"], (1 - b1) / np.sqrt(1 - b2), rtol=1e-5)


def test_l2_equals_weight_decay_for_sgd_not_for_adam():
    J = opt.quadratic_problem(jnp.array([1.0, 50.0]))
    x0 = jnp.array([1.0, -1.0])
    kw = dict(learning_rate=0.01, l2=0.5)
    a = opt.run("sgd", J, x0, 200, l2_mode="l2", **kw).params
    b = opt.run("sgd", J, x0, 200, l2_mode="decay", **kw).params
    assert float(jnp.abs(a - b).max()) < 1e-6
    a = opt.run("adam", J, x0, 200, l2_mode="l2", **kw).params
    b = opt.run("adam", J, x0, 200, l2_mode="decay", **kw).params
    assert float(jnp.abs(a - b).max()) > 1e-2
    # run(adam, decay) is AdamW
    c = opt.run("adamw", J, x0, 200, learning_rate=0.01, weight_decay=0.5).params
    np.testing.assert_allclose(b, c, rtol=1e-5, atol=1e-6)


def test_heavy_ball_optimal_rate_is_measured():
    mu, L = 1.0, 100.0
    lr, beta, rate = opt.heavy_ball_optimal(mu, L)
    assert lr == pytest.approx(4 / 121) and beta == pytest.approx((9 / 11) ** 2) and rate == pytest.approx(9 / 11)
    J = opt.quadratic_problem(jnp.array([mu, 10.0, L]))
    r = opt.run("heavy_ball", J, jnp.ones(3), 150, learning_rate=lr, beta=beta)
    err = jnp.linalg.norm(r.params, axis=1)
    measured = opt.convergence_rate(err)
    assert abs(measured - rate) < 0.03
    lr_gd, rate_gd = opt.gd_optimal(mu, L)
    r = opt.run("sgd", J, jnp.ones(3), 150, learning_rate=lr_gd)
    assert abs(opt.convergence_rate(jnp.linalg.norm(r.params, axis=1)) - rate_gd) < 0.01
    assert measured < rate_gd


def test_gd_is_rotation_equivariant_adam_is_not():
    w = jnp.array([1.0, 100.0])
    R = opt.rotation(0.6)
    x0 = jnp.array([1.0, 0.5])
    for name, kw, equivariant in (("sgd", dict(learning_rate=0.015), True), ("heavy_ball", dict(learning_rate=0.01, beta=0.5), True),
                                  ("adam", dict(learning_rate=0.05), False), ("sign_descent", dict(learning_rate=0.05), False)):
        a = opt.run(name, opt.quadratic_problem(w), x0, 50, **kw).params
        b = opt.run(name, opt.quadratic_problem(w, angle=0.6), R.T @ x0, 50, **kw).params
        gap = float(jnp.abs(b @ R.T - a).max())
        assert (gap < 1e-5) == equivariant, (name, gap)


def test_run_reports_divergence_and_does_not_recompile_on_new_step():
    J = opt.quadratic_problem(jnp.array([1.0, 10.0]))
    r = opt.run("sgd", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.5)
    assert bool(r.diverged) and bool(jnp.isinf(r.losses[-1])) and bool(jnp.all(jnp.isfinite(r.params)))
    ok = opt.run("sgd", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.05)
    assert not bool(ok.diverged) and float(ok.losses[-1]) < 1e-6
    before = opt._run._cache_size()
    opt.run("sgd", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.07)
    # the optimizer is data too (lax.switch): another optimizer, other hyper-parameters, same program
    adam = opt.run("adam", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.05, b1=0.8)
    opt.run("heavy_ball", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.05, beta=0.5, l2=0.1, l2_mode="decay")
    assert opt._run._cache_size() == before
    # ... and it runs the chosen optimizer: the same iterates as the optimizer built directly
    o = opt.adam(0.05, b1=0.8)
    p, s = jnp.array([1.0, 1.0]), o.init(jnp.array([1.0, 1.0]))
    for _ in range(300):
        u, s = o.update(jax.grad(J)(p), s, p)
        p = opt.apply_updates(p, u)
    np.testing.assert_allclose(adam.params[-1], p, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="hyper"):
        opt.run("sgd", J, jnp.array([1.0, 1.0]), 300, learning_rate=0.05, beta=0.9)


def test_input_checks():
    with pytest.raises(ValueError, match="learning_rate"):
        opt.adam(-1.0)
    with pytest.raises(ValueError, match="beta"):
        opt.heavy_ball(0.1, 1.0)
    with pytest.raises(ValueError, match="name"):
        opt.make("adamaxx", 0.1)
    with pytest.raises(ValueError, match="l2_mode"):
        opt.run("sgd", lambda x: jnp.sum(x**2), jnp.ones(2), 5, learning_rate=0.1, l2_mode="ridge")
    with pytest.raises(ValueError, match="params0"):
        opt.run("sgd", lambda x: jnp.sum(x**2), jnp.array([jnp.nan, 1.0]), 5, learning_rate=0.1)
    with pytest.raises(ValueError, match="n_steps"):
        opt.run("sgd", lambda x: jnp.sum(x**2), jnp.ones(2), 0, learning_rate=0.1)
    with pytest.raises(ValueError, match="weights"):
        opt.quadratic_problem(jnp.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="mu"):
        opt.heavy_ball_optimal(10.0, 1.0)
    with pytest.raises(ValueError, match="optimizer"):
        opt.with_l2("adam", 0.1)
    with pytest.raises(ValueError, match=r"transforms\[1\]"):
        opt.chain(opt.sgd(0.1), "adam")
    with pytest.raises(ValueError, match="max_norm"):
        opt.clip_by_global_norm(0.0)
    with pytest.raises(ValueError, match="errors"):
        opt.convergence_rate(jnp.zeros(10))


def test_heavy_ball_rate_prediction_matches_runs_over_a_sweep():
    w = jnp.array([1.0, 10.0, 100.0])
    for beta in (0.0, 0.5, 0.8, 0.9):
        r = opt.run("heavy_ball", opt.rotated_quadratic, jnp.ones(3), 300, learning_rate=0.01, beta=beta, args=(w,))
        measured = opt.convergence_rate(jnp.linalg.norm(r.params, axis=1))
        assert abs(measured - opt.heavy_ball_rate(0.01, beta, w)) < 5e-3, beta
    assert opt.heavy_ball_rate(0.01, 0.0, w) == pytest.approx(0.99, abs=1e-6)


def test_noisy_run_adagrad_step_decays_rmsprop_step_does_not():
    w = jnp.ones(50)
    out = {}
    for name in ("adagrad", "rmsprop"):
        _, us, gs = opt.noisy_run(name, opt.rotated_quadratic, jnp.zeros(50), jax.random.PRNGKey(0), sigma=2.0, n_steps=800,
                                  learning_rate=0.01, args=(w,))
        out[name] = np.asarray(jnp.mean(-us / gs, axis=1))
    k = np.arange(1, 801)
    np.testing.assert_allclose(out["adagrad"][99:], 0.01 / np.sqrt(0.1 + 4.0 * k[99:]), rtol=0.05)
    assert abs(out["rmsprop"][-200:].mean() / (0.01 / 2.0) - 1) < 0.05
    with pytest.raises(ValueError, match="diverged"):
        opt.noisy_run("sgd", opt.rotated_quadratic, jnp.zeros(5), jax.random.PRNGKey(0), sigma=1.0, n_steps=200,
                      learning_rate=3.0, args=(jnp.ones(5),))


def test_momentum_direction_variance_and_iterate_spread():
    """(1 - beta) v has variance (1 - beta)/(1 + beta) sigma^2; iterates spread like SGD at step alpha/(1 - beta)."""
    d, n, beta, lr = 200, 4000, 0.9, 0.002
    w = jnp.ones(d)
    ps, us, _ = opt.noisy_run("heavy_ball", opt.rotated_quadratic, jnp.zeros(d), jax.random.PRNGKey(1), sigma=1.0, n_steps=n,
                              learning_rate=lr, beta=beta, args=(w,))
    direction = -(1 - beta) * us[n // 2:] / lr
    assert abs(float(jnp.var(direction)) / ((1 - beta) / (1 + beta)) - 1) < 0.05
    assert abs(float(jnp.var(ps[n // 2:])) / (lr / (1 - beta) / 2) - 1) < 0.1


def test_continuous_limits_are_first_order():
    hs = np.array([0.1, 0.05, 0.025])
    for m in ("gd", "heavy_ball"):
        errs = [float(jnp.abs(jnp.subtract(*opt.continuous_limit(m, h, 12.0, delta=0.4)[1:])).max()) for h in hs]
        slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
        assert 0.85 < slope < 1.15, (m, slope)
    with pytest.raises(ValueError, match="delta"):
        opt.continuous_limit("heavy_ball", 0.1, 5.0, delta=3.0)


def test_quadratic_is_batched_and_matches_problem_closure():
    w, c = jnp.array([1.0, 4.0]), jnp.array([0.5, -1.0])
    pts = jnp.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]])
    J = opt.quadratic_problem(w, angle=0.3, center=c)
    np.testing.assert_allclose(opt.rotated_quadratic(pts, w, 0.3, c), jnp.stack([J(p) for p in pts]), rtol=1e-6)


def test_framework_optimizers_check_their_hyperparameters():
    with pytest.raises(ValueError, match="b2"):
        opt.nadam(0.1, b2=1.5)
    with pytest.raises(ValueError, match="eps"):
        opt.adamax(0.1, eps=0.0)
    with pytest.raises(ValueError, match="rho"):
        opt.adadelta(1.0, rho=-0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.adadelta(0.0)


def _ftrl_reference(grad_fn, w0, alpha, beta, l1, l2, n_steps):
    """McMahan et al. (2013), Algorithm 1, transcribed coordinate by coordinate in plain Python floats."""
    d = len(w0)
    z, n, w = [0.0] * d, [0.0] * d, list(map(float, w0))
    out = [list(w)]
    for _ in range(n_steps):
        g = [float(x) for x in grad_fn(np.array(w))]
        for i in range(d):
            sigma = ((n[i] + g[i] ** 2) ** 0.5 - n[i] ** 0.5) / alpha
            z[i] += g[i] - sigma * w[i]
            n[i] += g[i] ** 2
        for i in range(d):
            if abs(z[i]) <= l1:
                w[i] = 0.0
            else:
                sgn = 1.0 if z[i] > 0 else -1.0
                w[i] = -(z[i] - sgn * l1) / ((beta + n[i] ** 0.5) / alpha + l2)
        out.append(list(w))
    return np.array(out)


@pytest.mark.parametrize("l1", [0.0, 10.0])
def test_ftrl_matches_an_independent_transcription_of_mcmahan_algorithm_1(l1):
    A = np.array([[2.0, 0.3, 0.0, -0.5], [0.3, 1.0, 0.2, 0.0], [0.0, 0.2, 0.5, 0.1], [-0.5, 0.0, 0.1, 1.5]])
    b = np.array([1.0, -0.4, 0.05, 0.8])
    grad_np = lambda w: A @ w - b  # noqa: E731
    ref = _ftrl_reference(grad_np, [0.5, 0.5, -0.5, 0.0], 0.5, 1.0, l1, 0.1, 60)
    with jax.enable_x64(True):
        o = opt.ftrl(0.5, beta=1.0, l1=l1, l2=0.1)
        w = jnp.array([0.5, 0.5, -0.5, 0.0], jnp.float64)
        state = o.init(w)
        A64, b64 = jnp.asarray(A), jnp.asarray(b)
        ours = [np.asarray(w)]
        for _ in range(60):
            u, state = o.update(A64 @ w - b64, state, w)
            w = opt.apply_updates(w, u)
            ours.append(np.asarray(w))
    np.testing.assert_allclose(np.array(ours), ref, rtol=1e-10, atol=1e-12)
    if l1 > 0:
        assert np.any(ref[-1] == 0.0) and np.any(np.array(ours)[-1] == 0.0)   # l1 makes exact zeros
    assert np.linalg.norm(A @ ref[-1] - b) < np.linalg.norm(A @ ref[0] - b)


# -- L-BFGS against optax.lbfgs (same two-loop recursion, optax's zoom line search) ----------------------


def _lbfgs_iterates(o, loss, p0, n):
    vg = jax.value_and_grad(loss)
    upd = jax.jit(lambda g, s, p, v: o.update(g, s, p, value=v, grad=g, value_fn=loss))
    p, s, out = p0, o.init(p0), [p0]
    for _ in range(n):
        v, g = vg(p)
        u, s = upd(g, s, p, v)
        p = optax.apply_updates(p, u)
        out.append(p)
    return out


@pytest.mark.parametrize("memory", [2, 10])
def test_lbfgs_same_iterates_as_optax_on_a_pytree_problem(memory):
    """A smooth convex but non-quadratic loss on a dict of arrays, float64: every iterate equal to optax's."""
    with jax.enable_x64(True):
        k1, k2 = jax.random.split(jax.random.PRNGKey(3))
        X = jax.random.normal(k1, (40, 4), jnp.float64)
        y = jnp.sign(jax.random.normal(k2, (40,), jnp.float64))

        def loss(p):
            z = X @ p["W"] + p["b"]
            return jnp.mean(jnp.logaddexp(0.0, -y * z)) + 0.05 * jnp.sum(p["W"] ** 2) + 0.05 * p["b"] ** 2

        p0 = {"W": jnp.ones(4, jnp.float64), "b": jnp.asarray(0.5, jnp.float64)}
        a = _lbfgs_iterates(opt.lbfgs(memory_size=memory), loss, p0, 12)
        b = _lbfgs_iterates(optax.lbfgs(memory_size=memory), loss, p0, 12)
        for k, (pa, pb) in enumerate(zip(a, b)):
            for leaf in ("W", "b"):
                np.testing.assert_allclose(pa[leaf], pb[leaf], rtol=1e-9, atol=1e-12, err_msg=f"step {k}, {leaf}")
        g = jax.grad(loss)(a[-1])
        assert float(jnp.linalg.norm(g["W"])) < 1e-6    # and it converged


def test_lbfgs_two_loop_is_the_bfgs_matrix_and_beats_the_tuned_heavy_ball():
    """The two-loop recursion equals H = V^T H0 V + rho s s^T unrolled from the oldest pair; on the
    chapter's rotated quadratics (small: d = 8, kappa = 10 and 300) GD's average rate to 1e-4 is close to
    its predicted (kappa-1)/(kappa+1), and L-BFGS with m = d is faster than the heavy ball's predicted rate."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        d, m = 5, 3
        S, Y = rng.normal(size=(m, d)), rng.normal(size=(m, d))
        Y = Y + 3 * S                                    # s^T y > 0
        rho = 1 / np.sum(S * Y, axis=1)
        g = rng.normal(size=d)
        H = 0.7 * np.eye(d)
        for j in range(m):                               # oldest (slot 0) to newest (slot m-1)
            V = np.eye(d) - rho[j] * np.outer(Y[j], S[j])
            H = V.T @ H @ V + rho[j] * np.outer(S[j], S[j])
        ours = opt._two_loop(jnp.asarray(g), jnp.asarray(S), jnp.asarray(Y), jnp.asarray(rho), 0.7, m - 1)
        np.testing.assert_allclose(ours, H @ g, rtol=1e-10)

    def avg_rate(params, tol=1e-4):
        e = np.linalg.norm(np.asarray(params), axis=1)
        hit = np.nonzero(e <= tol * e[0])[0]
        assert hit.size
        return tol ** (1 / hit[0])

    x0 = jnp.ones(8)
    for kappa in (10.0, 300.0):
        args = (jnp.geomspace(1.0, kappa, 8), 0.3, 0.0)
        lr, q_gd = opt.gd_optimal(1.0, kappa)
        _, _, q_hb = opt.heavy_ball_optimal(1.0, kappa)
        r_gd = avg_rate(opt.run("sgd", opt.rotated_quadratic, x0, 3000, learning_rate=lr, args=args).params)
        r_lb = avg_rate(opt.lbfgs_run(opt.rotated_quadratic, x0, 100, memory_size=8, args=args).params)
        # never slower than predicted, and 1 - rate within 25 % of 1 - (kappa-1)/(kappa+1)
        assert r_gd <= q_gd + 1e-3 and (1 - r_gd) < 1.25 * (1 - q_gd), (kappa, r_gd, q_gd)
        assert r_lb < q_hb, (kappa, r_lb, q_hb)


def test_lbfgs_input_checks():
    with pytest.raises(ValueError, match="memory_size"):
        opt.lbfgs(memory_size=0)
    o = opt.lbfgs()
    p = jnp.ones(3)
    with pytest.raises(ValueError, match="value_fn"):
        o.update(p, o.init(p), p)
