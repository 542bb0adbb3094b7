from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_parameters(alpha_star, beta_star):
    from course_lib.grading import GradingError, check_number
    a = check_number('q3', alpha_star, what='alpha_star')
    b = check_number('q3', beta_star, what='beta_star')
    if abs(a - 2 / 50.5) < 1e-06:
        raise GradingError("q3: alpha_star = 2/(L + mu) is gradient descent's best step; the heavy ball's is 4/(sqrt L + sqrt mu)^2")
    if abs(b - 9 / 11) < 1e-06:
        raise GradingError('q3: beta_star = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) is the rate; beta_star is its square')
    check_number('q3', a, expected=4 / (50 ** 0.5 + 0.5 ** 0.5) ** 2, rtol=1e-05, what='alpha_star')
    check_number('q3', b, expected=(9 / 11) ** 2, rtol=1e-05, what='beta_star')

@test_case(points=None, hidden=False)
def test_q3_rates_are_numbers(measured_rate, gd_rate):
    from course_lib.grading import GradingError, check_number
    r = check_number('q3', measured_rate, what='measured_rate')
    g = check_number('q3', gd_rate, what='gd_rate')
    if not (0 < r < 1 and 0 < g < 1):
        raise GradingError(f'q3: rates per step lie in (0, 1) for converging runs; got measured_rate = {r:.4g}, gd_rate = {g:.4g}')

