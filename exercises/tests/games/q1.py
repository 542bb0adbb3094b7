from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_step(eg_step):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array
    M = np.array([[0.2, 1.0], [-1.0, 0.2]])
    q, z, eta = (np.array([0.5, -1.0]), np.array([1.0, 2.0]), 0.3)
    F = lambda u: M @ u + q
    got = check_array('q1', call_safely('q1', eg_step, M, q, z, eta), (2,), at='the public example')
    if np.allclose(got, z - eta * F(z), atol=1e-06):
        raise GradingError('q1: eg_step takes a plain gradient descent-ascent step; extragradient uses F at the trial point z - eta F(z)')
    zh = z - eta * F(z)
    if np.allclose(got, zh - eta * F(zh), atol=1e-06):
        raise GradingError('q1: eg_step starts the second step from the trial point; extragradient moves from z: z - eta F(z_half)')
    check_array('q1', got, (2,), expected=z - eta * F(zh), atol=1e-05, at='the public example')

@test_case(points=None, hidden=False)
def test_q1_factor(eg_factor_scalar):
    import numpy as np
    from course_lib.grading import GradingError, check_number
    v = check_number('q1', eg_factor_scalar, what='eg_factor_scalar')
    if abs(v - np.sqrt(1.25)) < 1e-06:
        raise GradingError("q1: eg_factor_scalar is the factor of gradient descent-ascent |1 - i eta|; extragradient's is |1 - i eta + (i eta)^2|")
    check_number('q1', v, expected=np.sqrt(0.75 ** 2 + 0.25), rtol=1e-06, what='eg_factor_scalar')

