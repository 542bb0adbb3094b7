from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_q3_p6(product_mults):
    import numpy as np
    from course_lib.grading import GradingError, call_safely
    out = call_safely('q3', product_mults, 6)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise GradingError(f'q3: product_mults(6) returned {out!r}, expected a tuple (value_mults, gradient_mults)')
    try:
        got = tuple((int(v) for v in out))
    except (TypeError, ValueError):
        raise GradingError(f'q3: product_mults(6) returned {out!r}; both entries must be integers') from None
    if got[0] != 5:
        raise GradingError(f'q3: for p = 6 the value ab, abc, abcd, abcde, abcdef takes 5 multiplications, you said {got[0]}')
    if got[1] != 8:
        raise GradingError(f'q3: for p = 6 you count {got[1]} multiplications for the gradient; count the suffix products ef, def, cdef, bcdef and the products a*cdef, ab*def, abc*ef, abcd*f (multiplying by 1 is free)')

@test_case(points=None, hidden=False)
def test_q3_ratio(ratio_limit):
    from course_lib.grading import check_number
    check_number('q3', ratio_limit, what='ratio_limit')

