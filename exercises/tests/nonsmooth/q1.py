from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=None, hidden=False)
def test_q1_smooth_points(clarke_f):
    from course_lib.grading import call_safely, check_array

    def expected(x0):
        if x0 < 0:
            return [-1.0, -1.0]
        if x0 == 0:
            return [-1.0, 1.0]
        if x0 < 1:
            return [1.0, 1.0]
        if x0 == 1:
            return [-2.0, 1.0]
        return [-2.0, -2.0]
    for x0 in (-1.5, 0.5, 2.0):
        value = call_safely('q1', clarke_f, x0)
        check_array('q1', value, (2,), expected=expected(x0), at=f'x0 = {x0}', atol=1e-06)

@test_case(points=None, hidden=False)
def test_q1_kink_at_zero(clarke_f):
    from course_lib.grading import GradingError, call_safely, check_array
    value = call_safely('q1', clarke_f, 0.0)
    arr = check_array('q1', value, (2,), at='x0 = 0.0')
    if arr[0] > arr[1]:
        raise GradingError(f'q1: at x0 = 0.0 you returned [a, b] = {arr} with a > b; return the interval as [smaller, larger]')
    if arr[0] == arr[1]:
        raise GradingError(f'q1: at the kink x0 = 0.0 you returned the single slope {arr[0]:g}; the Clarke subdifferential at a kink is the whole segment between the left and right slopes')
    check_array('q1', arr, (2,), expected=[-1.0, 1.0], at='x0 = 0.0', atol=1e-06)

