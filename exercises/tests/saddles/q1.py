from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_example(stall_1e6):
    import numpy as np
    from course_lib.grading import GradingError, check_number
    want = np.log(500000.0) / np.log(1.05)
    v = check_number('q1', stall_1e6, what='stall_1e6')
    if abs(v - np.log(500000.0) / 0.05) < 0.001 * want:
        raise GradingError('q1: stall_1e6 uses the approximation log(1 + eta |lam|) ~ eta |lam|; use the exact growth factor')
    if abs(v - np.log(1e-06 / 0.5) / np.log(1.05)) < 0.001 * want:
        raise GradingError('q1: stall_1e6 is negative: the distance grows from y0 up to r, so k = log(r / y0) / log(1 + eta |lam|)')
    check_number('q1', v, expected=want, rtol=0.0001, what='stall_1e6')

@test_case(points=None, hidden=False)
def test_q1_function(stall_steps):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    want = np.log(0.1 / 0.001) / np.log(1.1)
    v = check_number('q1', call_safely('q1', stall_steps, 0.001, 0.1, -1.0, 0.1), what='stall_steps(1e-3, 0.1, -1.0, 0.1)')
    if abs(v - np.log(100.0) / 0.1) < 0.001 * want:
        raise GradingError('q1: stall_steps uses the approximation log(1 + eta |lam|) ~ eta |lam|; use the exact growth factor')
    check_number('q1', v, expected=want, rtol=0.0001, what='stall_steps(1e-3, 0.1, -1.0, 0.1)')

