"""Unit tests of course_lib.implicit_bias: interpolants, GD limits, diagonal networks, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import implicit_bias as ib

KEY = jax.random.PRNGKey(0)


def _system(n=5, p=12, seed=0):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    A = jax.random.normal(k1, (n, p))
    return A, A @ jax.random.normal(k2, (p,))


def test_min_norm_solution_interpolates_and_is_orthogonal_to_the_kernel():
    A, b = _system()
    x = ib.min_norm_solution(A, b)
    np.testing.assert_allclose(A @ x, b, atol=1e-4)
    # any other solution x + z (z in ker A) is longer
    z = jax.random.normal(KEY, (12,))
    z = z - jnp.linalg.pinv(A) @ (A @ z)
    assert float(jnp.linalg.norm(x + z)) > float(jnp.linalg.norm(x))
    assert abs(float(x @ z)) < 1e-3


def test_gd_converges_to_the_predicted_limit():
    A, b = _system()
    step = 1.0 / float(jnp.linalg.eigvalsh(A.T @ A)[-1])
    for theta0 in (jnp.zeros(12), jax.random.normal(KEY, (12,))):
        path = ib.least_squares_gd(A, b, theta0, step, 3000)
        assert path.shape == (3001, 12)
        np.testing.assert_allclose(path[-1], ib.predicted_gd_limit(A, b, theta0), atol=2e-3)
    np.testing.assert_allclose(ib.predicted_gd_limit(A, b, jnp.zeros(12)), ib.min_norm_solution(A, b), atol=1e-5)


def test_min_l1_solution_recovers_a_sparse_vector():
    pb = ib.sparse_recovery_problem(jax.random.PRNGKey(1), n=20, p=40, k=3)
    x = ib.min_l1_solution(pb.A, pb.b)
    np.testing.assert_allclose(x, pb.beta_true, atol=1e-3)
    assert float(jnp.abs(x).sum()) < float(jnp.abs(ib.min_norm_solution(pb.A, pb.b)).sum())


def test_diagonal_network_moves_from_l1_to_l2_with_the_scale():
    pb = ib.sparse_recovery_problem(jax.random.PRNGKey(1), n=20, p=40, k=3)
    l1, l2 = ib.min_l1_solution(pb.A, pb.b), ib.min_norm_solution(pb.A, pb.b)
    small = ib.diagonal_network_gd(pb.A, pb.b, 1e-3, n_steps=10_000)
    large = ib.diagonal_network_gd(pb.A, pb.b, 3.0, n_steps=10_000)
    assert not bool(small.diverged) and not bool(large.diverged)
    assert float(jnp.linalg.norm(small.beta - l1)) < 0.1 < float(jnp.linalg.norm(small.beta - l2))
    assert float(jnp.linalg.norm(large.beta - l2)) < 0.1 < float(jnp.linalg.norm(large.beta - l1))
    assert small.losses.shape == (100,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ib.min_norm_solution(jnp.ones((3, 5)), jnp.ones(4)), "b must have shape"),
        (lambda: ib.predicted_gd_limit(jnp.ones((3, 5)), jnp.ones(3), jnp.ones(4)), "theta0 must have shape"),
        (lambda: ib.least_squares_gd(jnp.eye(2), jnp.ones(2), jnp.zeros(2), 5.0, 100), "diverged"),
        (lambda: ib.diagonal_network_gd(jnp.ones((2, 4)), jnp.ones(2), 0.0), "init_scale must be a positive"),
        (lambda: ib.diagonal_network_gd(jnp.ones((2, 4)), jnp.ones(2), 1.0, n_steps=150), "multiple of n_records"),
        (lambda: ib.sparse_recovery_problem(KEY, n=10, p=8), "underdetermined"),
    ],
)
def test_bad_input_raises_readable_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_widget_figure_does_not_recompile_when_the_scale_moves():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pb = ib.sparse_recovery_problem(jax.random.PRNGKey(1), n=8, p=16, k=2)
    l1, l2 = ib.min_l1_solution(pb.A, pb.b), ib.min_norm_solution(pb.A, pb.b)
    plt.close(ib.draw_diagonal_network(pb, -2.0, n_steps=1000, beta_l1=l1, beta_l2=l2))
    before = ib._diag._cache_size()
    fig = ib.draw_diagonal_network(pb, 0.25, n_steps=1000, beta_l1=l1, beta_l2=l2)
    assert "distance to" in fig.axes[0].get_title()
    plt.close(fig)
    assert ib._diag._cache_size() == before


def test_logistic_gd_and_max_margin_reject_bad_input():
    X = jnp.array([[1.0, 0.0], [-1.0, 0.2]])
    y = jnp.array([1.0, -1.0])
    with pytest.raises(ValueError, match="y must contain only labels"):
        ib.logistic_gd(X, jnp.array([1.0, 0.0]), jnp.zeros(2), 0.1, [1, 2])
    with pytest.raises(ValueError, match="record_at"):
        ib.logistic_gd(X, y, jnp.zeros(2), 0.1, [3, 2])
    with pytest.raises(ValueError, match="record_at"):
        ib.logistic_gd(X, y, jnp.zeros(2), 0.1, [0.5, 2.0])
    with pytest.raises(ValueError, match="theta0"):
        ib.logistic_gd(X, y, jnp.zeros(3), 0.1, [1, 2])
    with pytest.raises(ValueError, match="step"):
        ib.logistic_gd(X, y, jnp.zeros(2), -1.0, [1, 2])
    with pytest.raises(ValueError, match="x64"):
        ib.logistic_gd(X, y, jnp.zeros(2), 0.1, [1, 2], x64="yes")
    with pytest.raises(ValueError, match="not linearly separable"):
        ib.max_margin_direction(jnp.array([[1.0, 0.0], [2.0, 0.0]]), jnp.array([1.0, -1.0]))


def test_logistic_gd_records_float64_iterates_and_decreasing_loss():
    X = jnp.array([[1.0, 0.3], [-1.0, 0.2], [0.5, -1.0], [-0.7, -0.2]])
    y = jnp.array([1.0, -1.0, 1.0, -1.0])
    run = ib.logistic_gd(X, y, jnp.zeros(2), 0.5, np.array([1, 10, 100]))
    assert run.thetas.shape == (3, 2) and run.thetas.dtype == np.float64
    assert np.all(np.diff(run.losses) < 0)
    assert run.losses[0] < np.log(2.0)
