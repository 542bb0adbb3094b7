from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_q3_round(dsgd_round):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    G = np.array([[0.5, 0.5], [1.0, -1.0], [0.0, 2.0], [-1.0, 0.0]])
    W = (np.eye(4) + np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1)) / 3
    got = check_array('q3', call_safely('q3', dsgd_round, X, G, W, 0.1), (4, 2), at='the public example')
    if np.allclose(got, W @ X - 0.1 * G, atol=1e-06):
        raise GradingError('q3: dsgd_round gossips first and then steps; here the local step comes first: W (X - eta G)')
    if np.allclose(got, X - 0.1 * G, atol=1e-06):
        raise GradingError('q3: dsgd_round forgets the gossip average W')
    check_array('q3', got, (4, 2), expected=W @ (X - 0.1 * G), atol=1e-06, at='the public example')

@test_case(points=None, hidden=False)
def test_q3_consensus(consensus_after):
    import numpy as np
    from course_lib.grading import GradingError, check_number
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    G = np.array([[0.5, 0.5], [1.0, -1.0], [0.0, 2.0], [-1.0, 0.0]])
    W = (np.eye(4) + np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1)) / 3
    X1 = W @ (X - 0.1 * G)
    want = np.mean(np.sum((X1 - X1.mean(0)) ** 2, axis=1))
    v = check_number('q3', consensus_after, what='consensus_after')
    if abs(v - 4 * want) < 0.0001 * want:
        raise GradingError('q3: consensus_after sums over the agents; the consensus error is the mean over the m agents')
    check_number('q3', v, expected=want, rtol=1e-05, what='consensus_after')

