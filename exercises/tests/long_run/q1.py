from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_by_hand(E_by_hand):
    from course_lib.grading import check_array
    check_array('q1', E_by_hand, (3,), expected=[5.0, 4.0, 2.0], atol=1e-06, what='E_by_hand')

@test_case(points=None, hidden=False)
def test_q1_code_on_the_example(energy_3, B):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array
    arr = check_array('q1', call_safely('q1', energy_3, np.array(B)), (3,), at='the B of the question')
    diff = arr - np.array([5.0, 4.0, 2.0])
    if np.ptp(diff) < 1e-06 and abs(diff[0]) > 1e-06:
        raise GradingError(f'q1: your energies {arr} differ from the expected ones by the same constant; return the weights of the trees themselves, not differences')
    check_array('q1', arr, (3,), expected=[5.0, 4.0, 2.0], atol=1e-06, at='the B of the question')

