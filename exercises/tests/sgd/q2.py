from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_q2_one_step(saga_step):
    import jax
    import jax.numpy as jnp
    from course_lib import stochastic
    from course_lib.grading import GradingError, call_safely, check_array
    p = stochastic.make_problem(jax.random.PRNGKey(1), 'least_squares', 8, 3, reg=0.1)
    theta = jnp.array([0.5, -1.0, 2.0])
    table = p.example_grads(jnp.zeros(3))
    out = call_safely('q2', saga_step, p, theta, table, 2, 0.1)
    if not isinstance(out, tuple) or len(out) != 2:
        raise GradingError(f'q2: saga_step should return a pair (new_theta, new_table), got {type(out).__name__}')
    g = p.example_grads(theta)[2]
    old_mean = table.mean(0)
    new_theta = check_array('q2', out[0], (3,), what='new_theta')
    if abs(new_theta - (theta - 0.1 * g)).max() < 1e-05:
        raise GradingError("q2: new_theta is a plain SGD step; SAGA subtracts y_i and adds the table's average")
    new_mean = table.at[2].set(g).mean(0)
    if abs(new_theta - (theta - 0.1 * (g - table[2] + new_mean))).max() < 1e-05:
        raise GradingError('q2: new_theta uses the average of the updated table; use the old table')
    check_array('q2', new_theta, (3,), expected=theta - 0.1 * (g - table[2] + old_mean), atol=1e-05, what='new_theta')
    check_array('q2', out[1], (8, 3), expected=table.at[2].set(g), atol=1e-05, what='new_table')

