from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_energies(two_well_energies):
    import numpy as np
    from course_lib.chapters import long_run
    from course_lib.grading import GradingError, call_safely, check_array
    x_l, y, x_r = long_run.two_well_critical()
    f = lambda u: float(long_run.two_well(u))
    expected = [2 * (f(y) - f(x_r)) / 3.0 ** 2, 2 * (f(y) - f(x_l)) / 6.0 ** 2]
    arr = check_array('q2', call_safely('q2', two_well_energies, 6.0, 3.0), (2,), at='sigma1 = 6, sigma2 = 3')
    if np.allclose(arr, np.array(expected) / 2, rtol=0.0001):
        raise GradingError('q2: your energies are half the expected ones: climbing by Δf costs 2 Δf / σ²')
    a, b = (2 * (f(y) - f(x_l)), 2 * (f(y) - f(x_r)))
    mixups = ([a / 6.0 ** 2, b / 3.0 ** 2], [b / 6.0 ** 2, a / 3.0 ** 2], [a / 3.0 ** 2, b / 6.0 ** 2])
    if any((np.allclose(arr, m, rtol=0.0001) for m in mixups)):
        raise GradingError('q2: the energy of a minimum is the cost of the edge pointing TO it: E_left is the cost of climbing out of the right well (from x_r, with the right noise level sigma2)')
    check_array('q2', arr, (2,), expected=expected, rtol=0.0001, at='sigma1 = 6, sigma2 = 3')

@test_case(points=None, hidden=False)
def test_q2_dominant(dominant):
    from course_lib.grading import GradingError, call_safely
    for s1, s2, want in ((6.0, 3.0, 'right'), (3.0, 3.0, 'left')):
        got = call_safely('q2', dominant, s1, s2)
        if got not in ('left', 'right'):
            raise GradingError(f"q2: dominant({s1}, {s2}) returned {got!r}, expected the string 'left' or 'right'")
        if got != want:
            raise GradingError(f'q2: dominant({s1}, {s2}) returned {got!r}, which is not the well with the lower energy')

