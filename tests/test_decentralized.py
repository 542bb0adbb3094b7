"""course_lib.decentralized: gossip matrices, spectral gaps, and D-SGD against its predicted stationary errors."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from course_lib import decentralized as dc

KEY = jax.random.PRNGKey(1)


@pytest.mark.parametrize("name", dc.GRAPHS)
def test_gossip_matrices_are_doubly_stochastic_on_the_graph(name):
    W = dc.gossip_matrix(name, 16)
    np.testing.assert_allclose(W, W.T)
    np.testing.assert_allclose(W.sum(0), 1.0)
    assert np.all(W >= 0)
    adj = dc.graph(name, 16)
    for j in range(16):
        for k in range(16):
            if j != k and not adj.has_edge(j, k):
                assert W[j, k] == 0.0
    assert 0.0 <= dc.second_eigenvalue(W) < 1.0


def test_ring_spectrum_in_closed_form():
    # Metropolis weights on a ring are 1/3: eigenvalues 1/3 + 2/3 cos(2 pi k / m)
    for m in (8, 16, 30):
        lam = max(abs(1 / 3 + 2 / 3 * np.cos(2 * np.pi * k / m)) for k in range(1, m))
        assert dc.second_eigenvalue(dc.gossip_matrix("ring", m)) == pytest.approx(lam, abs=1e-12)
    assert dc.second_eigenvalue(dc.gossip_matrix("complete", 16)) == pytest.approx(0.0, abs=1e-12)
    W = np.array([[0.1, 0.45, 0, 0.45], [0.45, 0.1, 0.45, 0], [0, 0.45, 0.1, 0.45], [0.45, 0, 0.45, 0.1]])
    assert dc.second_eigenvalue(W) == pytest.approx(0.8) and dc.spectral_gap(W) == pytest.approx(0.2)  # magnitude


def test_bad_input():
    with pytest.raises(ValueError, match="name"):
        dc.graph("star", 4)
    with pytest.raises(ValueError, match="square"):
        dc.graph("grid", 10)
    with pytest.raises(ValueError, match="W"):
        dc.second_eigenvalue(np.ones((2, 3)))


@pytest.fixture(scope="module")
def data():
    return dc.make_local_data(KEY, 16, 40, 4, heterogeneity=1.0, noise=0.5)


def test_gossip_alone_contracts_by_lambda_squared(data):
    X0 = np.asarray(jax.random.normal(KEY, (16, 4)))
    for name, T in (("ring", 100), ("path", 300), ("grid", 40)):  # long enough for the slowest mode, short of float32's floor
        W = dc.gossip_matrix(name, 16)
        r = dc.dsgd(KEY, data, W, 0.0, T, X0=X0)
        rate = (r.consensus[T] / r.consensus[T // 2]) ** (2 / T)
        assert rate == pytest.approx(dc.second_eigenvalue(W) ** 2, rel=0.01)
        assert np.all(r.consensus[1:] <= r.consensus[:-1] * dc.second_eigenvalue(W) ** 2 * (1 + 1e-4))


def test_stationary_consensus_and_optimization_errors(data):
    eta, T = 0.05, 4000
    cons = {}
    for i, name in enumerate(("path", "ring", "hypercube")):
        W = dc.gossip_matrix(name, 16)
        r = dc.dsgd(jax.random.fold_in(KEY, i), data, W, eta, T)
        st = dc.stationary_errors(data, W, eta)
        assert r.consensus[T // 2:].mean() == pytest.approx(st.consensus, rel=0.15)
        assert r.opt[T // 2:].mean() == pytest.approx(st.opt, rel=0.3)
        cons[name] = st.consensus
    assert cons["path"] > cons["ring"] > cons["hypercube"]  # the smaller the gap, the larger the disagreement
    c = dc.dsgd(KEY, data, dc.gossip_matrix("complete", 16), eta, 50)
    assert np.all(c.consensus[1:] < 1e-10)  # all-reduce: one consensus at every step


def test_heterogeneity_term_small_step_closed_form_and_gap_scaling(data):
    # for a small step the heterogeneity part is (eta^2 / m) |(I - W)^+ W Z|_F^2, Z the rows grad f_j(x*):
    # at most ~ eta^2 zeta^2 / gap^2 (Koloskova et al.); for random Z on a ring ~ gap^(-3/2)
    eta = 1e-3
    gaps, het = [], []
    for m in (8, 16, 32):
        d = dc.make_local_data(KEY, m, 40, 4, heterogeneity=1.0, noise=0.0)
        W = dc.gossip_matrix("ring", m)
        gaps.append(dc.spectral_gap(W))
        het.append(dc.stationary_errors(d, W, eta).consensus_het)
        a, y = np.asarray(d.a, np.float64), np.asarray(d.y, np.float64)
        xs = dc.optimum(d)
        Z = np.einsum("jia,ji->ja", a, np.einsum("jia,a->ji", a, xs) - y) / a.shape[1]
        closed = eta**2 / m * np.sum((np.linalg.pinv(np.eye(m) - W) @ W @ Z) ** 2)
        assert het[-1] == pytest.approx(closed, rel=0.1)
    slope = np.polyfit(np.log(gaps), np.log(het), 1)[0]
    assert -2.05 < slope < -1.2
