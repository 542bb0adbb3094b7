from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_prediction(J_pred):
    import numpy as np
    from course_lib import landscapes
    from course_lib.grading import GradingError, check_number
    f = lambda p: float(landscapes.three_humps(np.asarray(p, dtype=np.float32)))
    s_l, s_r = landscapes.THREE_HUMPS_SADDLES
    m_r = landscapes.THREE_HUMPS_MINIMA[2]
    want = 2 * (f(s_l) - f(m_r)) / 15.0 ** 2
    got = check_number('q2', J_pred, what='J_pred')
    if abs(got - want / 2) < 0.001 * want:
        raise GradingError('q2: J_pred is half the expected value: climbing by Δf costs 2 Δf / σ²')
    if abs(got - 2 * (f(s_r) - f(m_r)) / 15.0 ** 2) < 0.001 * want:
        raise GradingError('q2: J_pred uses the lower saddle s_r; the prediction is the HIGHER saddle s_l minus m_r')
    check_number('q2', got, expected=want, rtol=0.001, what='J_pred')

@test_case(points=None, hidden=False)
def test_q2_estimate_on_the_data(estimate_J, steps, mean_tau):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_number
    got = check_number('q2', call_safely('q2', estimate_J, np.array(steps), np.array(mean_tau)), what='estimate_J(steps, mean_tau)')
    x, t = (1.0 / np.asarray(steps), np.asarray(mean_tau))
    want = np.polyfit(x, np.log(np.asarray(steps) * t), 1)[0]
    if abs(got - np.polyfit(x, np.log(t), 1)[0]) < 1e-06:
        raise GradingError('q2: you regressed log(tau) in steps; regress log(eta * tau), the time of the gradient flow')
    if abs(got - np.polyfit(np.asarray(steps), np.log(np.asarray(steps) * t), 1)[0]) < 1e-06:
        raise GradingError('q2: you regressed against eta; the rate is the slope against 1 / eta')
    check_number('q2', got, expected=want, rtol=0.0001, what='estimate_J(steps, mean_tau)')

@test_case(points=None, hidden=False)
def test_q2_J_hat(J_hat, steps, mean_tau):
    import numpy as np
    from course_lib.grading import check_number
    want = np.polyfit(1.0 / np.asarray(steps), np.log(np.asarray(steps) * np.asarray(mean_tau)), 1)[0]
    check_number('q2', J_hat, expected=want, rtol=0.0001, what='J_hat')

