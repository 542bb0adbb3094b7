from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_q3_step(anti_pgd_step):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array
    x, g, xn, xo = (np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([0.3, -0.1]), np.array([-0.2, 0.4]))
    got = check_array('q3', call_safely('q3', anti_pgd_step, x, g, 0.1, xn, xo), (2,), at='the public example')
    if np.allclose(got, x - 0.1 * g + xn, atol=1e-06):
        raise GradingError('q3: anti_pgd_step adds xi_new only: that is plain PGD; anti-PGD adds xi_new - xi_old')
    if np.allclose(got, x - 0.1 * g - xn + xo, atol=1e-06):
        raise GradingError('q3: anti_pgd_step adds xi_old - xi_new: the sign of the increment is reversed')
    check_array('q3', got, (2,), expected=x - 0.1 * g + xn - xo, atol=1e-06, at='the public example')

@test_case(points=None, hidden=False)
def test_q3_sum(sum_of_perturbations):
    import numpy as np
    from course_lib.grading import GradingError, check_array
    xis = np.array([[0.3, -0.1], [-0.2, 0.4], [0.5, 0.0], [0.1, -0.3]])
    got = check_array('q3', sum_of_perturbations, (2,), what='sum_of_perturbations')
    if np.allclose(got, xis.sum(0), atol=1e-06):
        raise GradingError("q3: sum_of_perturbations is the sum of the xi's, as for PGD; the anti-PGD increments telescope")
    check_array('q3', got, (2,), expected=xis[-1], atol=1e-06, what='sum_of_perturbations')

