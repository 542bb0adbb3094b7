from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_q2_values(product_grad):
    import numpy as np
    from course_lib.grading import call_safely, check_array
    x = np.array([2.0, -1.0, 3.0, 0.5])
    value = call_safely('q2', product_grad, x.copy())
    check_array('q2', value, (4,), expected=np.array([-1.5, 3.0, -1.0, -6.0]), at=x)

@test_case(points=None, hidden=False)
def test_q2_zero_factor(product_grad):
    import numpy as np
    from course_lib.grading import call_safely, check_array
    x = np.array([2.0, 0.0, 3.0, 4.0])
    value = call_safely('q2', product_grad, x.copy())
    check_array('q2', value, (4,), expected=np.array([0.0, 24.0, 0.0, 0.0]), at=x)

