from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_q3_shape_and_start(sgd):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import call_safely, check_array, probe

    @probe(name='sgd')
    def run_sgd(sgd, key, x0, step, n_steps, sigma, quadratic=False):
        import jax
        from course_lib import landscapes
        grad_fn = (lambda x: x) if quadratic else jax.jit(jax.grad(landscapes.himmelblau))
        return sgd(key, grad_fn, x0, step, n_steps, sigma)
    grad = jax.jit(jax.grad(landscapes.himmelblau))
    x0 = jnp.array([0.0, 0.0])
    path = call_safely('q3', run_sgd, sgd, jax.random.key(0), x0, 0.01, 5, 0.5)
    check_array('q3', path, (6, 2))
    check_array('q3', path[0], (2,), expected=x0, what='the first row of your output (it should be x0)')

@test_case(points=None, hidden=False)
def test_q3_matches_reference(sgd):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import call_safely, check_array, probe

    @probe(name='sgd')
    def run_sgd(sgd, key, x0, step, n_steps, sigma, quadratic=False):
        import jax
        from course_lib import landscapes
        grad_fn = (lambda x: x) if quadratic else jax.jit(jax.grad(landscapes.himmelblau))
        return sgd(key, grad_fn, x0, step, n_steps, sigma)
    grad = jax.jit(jax.grad(landscapes.himmelblau))
    key, x0, step, sigma = (jax.random.key(1), jnp.array([0.0, 0.0]), 0.01, 0.5)
    path = call_safely('q3', run_sgd, sgd, key, x0, step, 3, sigma)
    check_array('q3', path, (4, 2))
    x = x0
    for t in range(3):
        x = x - step * (grad(x) + sigma * jax.random.normal(jax.random.fold_in(key, t), x.shape))
        check_array('q3', path[t + 1], (2,), expected=x, what=f'your iterate x_{t + 1}')

@test_case(points=None, hidden=False)
def test_q3_converges(sgd):
    import jax
    import jax.numpy as jnp
    from course_lib import landscapes
    from course_lib.grading import call_safely, check_array, probe, GradingError

    @probe(name='sgd')
    def run_sgd(sgd, key, x0, step, n_steps, sigma, quadratic=False):
        import jax
        from course_lib import landscapes
        grad_fn = (lambda x: x) if quadratic else jax.jit(jax.grad(landscapes.himmelblau))
        return sgd(key, grad_fn, x0, step, n_steps, sigma)
    grad = jax.jit(jax.grad(landscapes.himmelblau))
    path = call_safely('q3', run_sgd, sgd, jax.random.key(42), jnp.array([0.0, 0.0]), 0.01, 100, 0.5)
    check_array('q3', path, (101, 2))
    distance = float(jnp.linalg.norm(path[-1] - jnp.array([3.0, 2.0])))
    if distance > 0.1:
        raise GradingError(f'q3: after 100 steps from (0, 0) with step 0.01, SGD should be near the minimum (3, 2), but your last iterate {path[-1]} is at distance {distance:.3g}')

