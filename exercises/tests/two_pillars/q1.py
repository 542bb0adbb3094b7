from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=None, hidden=False)
def test_q1_origin(himmelblau_grad):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import call_safely, check_array
    x = jnp.array([0.0, 0.0])
    value = call_safely('q1', himmelblau_grad, x)
    expected = jax.grad(landscapes.himmelblau)(x)
    check_array('q1', value, (2,), expected=expected, at=x)

@test_case(points=None, hidden=False)
def test_q1_points(himmelblau_grad):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import call_safely, check_array
    for point in ([1.0, 2.0], [-2.0, 0.5], [3.0, 2.0]):
        x = jnp.array(point)
        value = call_safely('q1', himmelblau_grad, x)
        expected = jax.grad(landscapes.himmelblau)(x)
        check_array('q1', value, (2,), expected=expected, at=x)

