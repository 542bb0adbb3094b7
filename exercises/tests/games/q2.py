from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_magnitude(second_eigenvalue):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    W = np.array([[0.1, 0.45, 0, 0.45], [0.45, 0.1, 0.45, 0], [0, 0.45, 0.1, 0.45], [0.45, 0, 0.45, 0.1]])
    v = check_number('q2', call_safely('q2', second_eigenvalue, W), what='second_eigenvalue(W) on a 4-ring')
    if abs(v - 1.0) < 1e-06:
        raise GradingError('q2: second_eigenvalue returned 1, the eigenvalue of the constant vector; leave it out')
    if abs(v - 0.1) < 1e-06:
        raise GradingError('q2: second_eigenvalue returned the second largest eigenvalue; take the largest magnitude (here of -0.8)')
    check_number('q2', v, expected=0.8, rtol=1e-06, what='second_eigenvalue(W) on a 4-ring')

@test_case(points=None, hidden=False)
def test_q2_ring8(gap_ring8):
    import numpy as np
    from course_lib.grading import GradingError, check_number
    lam = 1 / 3 + 2 / 3 * np.cos(2 * np.pi / 8)
    v = check_number('q2', gap_ring8, what='gap_ring8')
    if abs(v - lam) < 1e-06:
        raise GradingError('q2: gap_ring8 is lambda itself; the spectral gap is 1 - lambda')
    if abs(v - (1 - lam ** 2)) < 1e-06:
        raise GradingError('q2: gap_ring8 is 1 - lambda^2; the spectral gap is 1 - lambda')
    check_number('q2', v, expected=1 - lam, rtol=1e-06, what='gap_ring8')

