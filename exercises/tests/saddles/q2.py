from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_floor(floor_first_order):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    S = np.array([[0.3, 0.1], [0.1, 0.2]])
    v = check_number('q2', call_safely('q2', floor_first_order, S, 0.05), what='floor_first_order(S_ex, 0.05)')
    if abs(v - 0.05 * 0.5 / 2) < 1e-09:
        raise GradingError('q2: floor_first_order is twice the expected value: the floor is gamma tr(S) / 4')
    check_number('q2', v, expected=0.05 * 0.5 / 4, rtol=1e-06, what='floor_first_order(S_ex, 0.05)')

@test_case(points=None, hidden=False)
def test_q2_constant(averaged_C):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    S = np.array([[0.3, 0.1], [0.1, 0.2]])
    want = 0.5 * np.trace(np.linalg.solve(H, S))
    v = check_number('q2', call_safely('q2', averaged_C, H, S), what='averaged_C(H_ex, S_ex)')
    if abs(v - 0.5 * np.trace(H @ S)) < 1e-09:
        raise GradingError('q2: averaged_C uses H S; the asymptotic covariance is H^{-1} S H^{-1}, so C = tr(H^{-1} S) / 2')
    if abs(v - 2 * want) < 1e-09:
        raise GradingError('q2: averaged_C is twice the expected value: the excess risk is (1/2) e^T H e')
    check_number('q2', v, expected=want, rtol=1e-06, what='averaged_C(H_ex, S_ex)')

@test_case(points=None, hidden=False)
def test_q2_k_equal(k_equal):
    import numpy as np
    from course_lib.grading import check_number
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    S = np.array([[0.3, 0.1], [0.1, 0.2]])
    want = 0.5 * np.trace(np.linalg.solve(H, S)) / (0.05 * np.trace(S) / 4)
    check_number('q2', k_equal, expected=want, rtol=0.0001, what='k_equal')

