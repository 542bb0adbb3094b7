from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=None, hidden=False)
def test_q1_constant_steps(flow_times):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array
    steps = jnp.full(4, 0.25)
    times = call_safely('q1', flow_times, steps)
    check_array('q1', times, (5,), expected=[0.0, 0.25, 0.5, 0.75, 1.0], what='flow_times', at='steps = [0.25] * 4')

@test_case(points=None, hidden=False)
def test_q1_vanishing_steps(flow_times):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array
    steps = jnp.array([1.0, 0.5, 0.25, 0.125])
    times = call_safely('q1', flow_times, steps)
    check_array('q1', times, (5,), expected=[0.0, 1.0, 1.5, 1.75, 1.875], what='flow_times', at=f'steps = {steps.tolist()}')

@test_case(points=None, hidden=False)
def test_q1_interpolation(theta_bar):
    import jax.numpy as jnp
    from course_lib.grading import call_safely, check_array
    steps = jnp.array([1.0, 0.5, 0.25])
    iterates = jnp.array([[0.0, 0.0], [2.0, 1.0], [2.0, 3.0], [0.0, 3.0]])
    for t, want in ((0.0, [0.0, 0.0]), (0.5, [1.0, 0.5]), (1.25, [2.0, 2.0]), (1.625, [1.0, 3.0])):
        value = call_safely('q1', theta_bar, steps, iterates, t)
        check_array('q1', value, (2,), expected=want, what='theta_bar', at=f't = {t} (steps {steps.tolist()})')

