from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_q1_example(reverse_sweep):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from course_lib.grading import call_safely, check_array

    def evaluate(program, x, np_module=np):
        v = list(x)
        for op, i, j in program:
            if op == 'add':
                v.append(v[i] + v[j])
            elif op == 'mul':
                v.append(v[i] * v[j])
            elif op == 'sin':
                v.append(np_module.sin(v[i]))
            elif op == 'exp':
                v.append(np_module.exp(v[i]))
        return v
    example = [('mul', 0, 1), ('sin', 3, 3), ('exp', 2, 2), ('mul', 5, 0), ('add', 4, 6)]
    x = [0.5, -1.2, 0.3]
    value = call_safely('q1', reverse_sweep, example, evaluate(example, x), 3)
    expected = jax.grad(lambda z: evaluate(example, [z[0], z[1], z[2]], jnp)[-1])(jnp.array(x))
    check_array('q1', value, (3,), expected=np.asarray(expected), at='the example program, x = [0.5, -1.2, 0.3]')

@test_case(points=None, hidden=False)
def test_q1_reused_register(reverse_sweep):
    import numpy as np
    from course_lib.grading import GradingError, call_safely, check_array

    def evaluate(program, x, np_module=np):
        v = list(x)
        for op, i, j in program:
            if op == 'add':
                v.append(v[i] + v[j])
            elif op == 'mul':
                v.append(v[i] * v[j])
            elif op == 'sin':
                v.append(np_module.sin(v[i]))
            elif op == 'exp':
                v.append(np_module.exp(v[i]))
        return v
    program = [('mul', 0, 1), ('mul', 2, 2), ('add', 3, 0)]
    x = [1.5, 2.0]
    value = call_safely('q1', reverse_sweep, program, evaluate(program, x), 2)
    expected = np.array([2 * 1.5 * 2.0 ** 2 + 1.0, 2 * 1.5 ** 2 * 2.0])
    arr = check_array('q1', value, (2,), at='f(x0, x1) = (x0 x1)^2 + x0, x = [1.5, 2.0]')
    if not np.allclose(arr, expected, rtol=1e-06):
        raise GradingError(f'q1: for f(x0, x1) = (x0 x1)^2 + x0 at x = [1.5, 2.0] you returned {arr}, expected {expected}; a register used by several instructions must *accumulate* (+=) all its contributions')

