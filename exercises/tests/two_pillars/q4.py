from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_q4_bounds(L_smooth, problem):
    import jax
    import jax.numpy as jnp
    from course_lib.grading import GradingError, check_number
    L = check_number('q4', L_smooth, what='L_smooth')
    A = problem.features
    H = A.T @ A / problem.n + problem.reg * jnp.eye(problem.dim)
    lower = float(jnp.max(jnp.diag(H)))
    upper = float(jnp.trace(H))
    if not lower * (1 - 1e-05) <= L <= upper * (1 + 1e-05):
        raise GradingError(f'q4: L_smooth = {L:.6g} cannot be the largest eigenvalue of the Hessian: it must lie between the largest diagonal entry of the Hessian ({lower:.6g}) and its trace ({upper:.6g})')

