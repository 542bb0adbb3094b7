from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_by_hand(J_by_hand):
    from course_lib.grading import GradingError, check_array
    arr = check_array('q1', J_by_hand, (2,), what='J_by_hand')
    if abs(arr[1] - 0.2) < 1e-06:
        raise GradingError('q1: J_by_hand[1] = 0.2 is J(2) alone: from K_2 SGD falls to K_1 for a cost of only 0.2, and must then pay J(1); take the max over i of J(i) - B(x, i)')
    check_array('q1', arr, (2,), expected=[1.0, 0.8], atol=1e-06, what='J_by_hand')

@test_case(points=None, hidden=False)
def test_q1_code_on_the_example(convergence_J, B):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    values = [check_number('q1', call_safely('q1', convergence_J, np.array(B), s), what=f'convergence_J(B, {s})') for s in (0, 1, 2)]
    if abs(values[2] - 0.2) < 1e-06:
        raise GradingError('q1: convergence_J(B, 2) = 0.2 is J(2) alone: take the max over all i of J(i) - B(x, i), SGD may first fall into another bad minimum')
    for s, want in zip((0, 1, 2), (0.0, 1.0, 0.8)):
        check_number('q1', values[s], expected=want, atol=1e-06, what=f'convergence_J(B, {s})')

