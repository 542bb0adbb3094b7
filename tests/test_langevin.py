"""course_lib.langevin: the engine-driven mean-field Langevin run, entropy estimate, Stein's identity."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import langevin as lv
from course_lib import two_layer as tl

KEY = jax.random.PRNGKey(0)


def test_knn_entropy_of_gaussian_samples_matches_the_closed_form():
    for D, s in ((1, 1.0), (3, 0.5)):
        P = s * np.random.default_rng(0).standard_normal((2000, D))
        exact = 0.5 * D * math.log(2 * math.pi * math.e * s**2)
        assert lv.knn_entropy(P) == pytest.approx(exact, abs=0.05 * D)


def test_stein_laplacian_closed_form_equals_the_trace_of_the_hessian():
    teacher = tl.teacher_problem(n=16)
    p = tl.init_symmetric(KEY, 8, scale=0.7)
    eta = p.eta[None] * jnp.array([[1.0], [1.5]])
    W = jnp.stack([p.W, 0.8 * p.W])
    g2, lap = lv.stein_sides(eta, W, teacher.X, teacher.y, lam=0.05)
    m, d = p.W.shape

    def phi(th):
        q = tl.Params(th[:m], th[m:].reshape(m, d))
        return m * 0.5 * jnp.mean((tl.network(q, teacher.X, 1.0) - teacher.y) ** 2) + 0.025 * jnp.sum(th**2)

    for t in range(2):
        th = jnp.concatenate([eta[t], W[t].ravel()])
        np.testing.assert_allclose(lap[t], jnp.trace(jax.hessian(phi)(th)), rtol=1e-4)
        np.testing.assert_allclose(g2[t], jnp.sum(jax.grad(phi)(th) ** 2), rtol=1e-4)


def test_mean_field_langevin_free_energy_decreases_and_stein_identity_holds_at_stationarity():
    teacher = tl.teacher_problem()
    p = tl.init_symmetric(jax.random.fold_in(KEY, 6), 64, scale=0.3)
    tau, lam = 1e-2, 0.05
    run = lv.mean_field_langevin(jax.random.fold_in(KEY, 7), p, teacher.X, teacher.y, tau=tau, lam=lam,
                                 dt=0.1, n_steps=3000, every=100)
    assert run.eta.shape == (31, 64) and run.W.shape == (31, 64, 2)
    G = np.array([lv.free_energy(run.eta[t], run.W[t], teacher.X, teacher.y, tau=tau, lam=lam)[0] for t in (0, 10, 30)])
    assert G[1] < 0.2 * G[0] and abs(G[2] - G[1]) < 0.05 * G[0]
    g2, lap = lv.stein_sides(run.eta[15:], run.W[15:], teacher.X, teacher.y, lam=lam)
    assert abs(g2.mean() / (tau * lap.mean()) - 1) < 0.2
    # without noise the identity fails: the particles sit at a critical point of Phi
    cold = lv.mean_field_langevin(jax.random.fold_in(KEY, 7), p, teacher.X, teacher.y, tau=0.0, lam=lam,
                                  dt=0.1, n_steps=3000, every=100)
    g2c, lapc = lv.stein_sides(cold.eta[15:], cold.W[15:], teacher.X, teacher.y, lam=lam)
    assert g2c.mean() < 0.2 * tau * lapc.mean()


def test_bad_input_is_named():
    teacher = tl.teacher_problem(n=8)
    p = tl.init_symmetric(KEY, 4)
    with pytest.raises(ValueError, match="tau"):
        lv.mean_field_langevin(KEY, p, teacher.X, teacher.y, tau=-1.0, lam=0.1, dt=0.1, n_steps=10)
    with pytest.raises(ValueError, match="dt"):
        lv.mean_field_langevin(KEY, p, teacher.X, teacher.y, tau=0.1, lam=0.1, dt=0.0, n_steps=10)
    with pytest.raises(ValueError, match="n_steps"):
        lv.mean_field_langevin(KEY, p, teacher.X, teacher.y, tau=0.1, lam=0.1, dt=0.1, n_steps=2.5)
    with pytest.raises(ValueError, match="n_steps"):
        lv.mean_field_langevin(KEY, p, teacher.X, teacher.y, tau=0.1, lam=0.1, dt=0.1, n_steps=10**9)
    with pytest.raises(ValueError, match="points"):
        lv.knn_entropy(np.zeros((3, 2)), k=3)
    with pytest.raises(ValueError, match="repeated"):
        lv.knn_entropy(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="W must have"):
        lv.stein_sides(np.zeros((2, 4)), np.zeros((2, 3, 2)), teacher.X, teacher.y, lam=0.1)
