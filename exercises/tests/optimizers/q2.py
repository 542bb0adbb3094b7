from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_gaps(gap_sgd, gap_adam):
    from course_lib.grading import GradingError, check_number
    s = check_number('q2', gap_sgd, what='gap_sgd')
    a = check_number('q2', gap_adam, what='gap_adam')
    if s > 0.0001:
        raise GradingError(f'q2: gap_sgd = {s:.3g}; for SGD the two ways give the same iterates up to rounding (~1e-6): check that both runs use sgd with the same step')
    if a < 0.01:
        raise GradingError(f'q2: gap_adam = {a:.3g} is (almost) zero; for Adam, L2 and decoupled decay differ')

@test_case(points=None, hidden=False)
def test_q2_ridge_shape(ridge):
    from course_lib.grading import check_array
    check_array('q2', ridge, (3,), what='ridge')

