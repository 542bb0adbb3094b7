"""Call every registered public function of course_lib with bad inputs, one argument at a time.

Usage::

    python tools/probe_inputs.py [--timeout 5] [--only PREFIX] [--json out.json] [--list]

(``PROBE_LIB=/path/containing/course_lib`` probes another copy, e.g. ``git archive`` of an older commit;
``PROBE_REGISTRY=/dir`` reads ``api_registry.py`` from there.)

Valid calls come from ``tests/api_registry.py``; each argument with a kind is
replaced in turn by the bad values of that kind (zero, negative, NaN, inf, 1e308,
a string, None, complex, bool, a wrong shape, an empty array, an unknown option,
an int where a PRNG key belongs, a fractional count, a huge count) and by the
function-specific bad values of the entry.  Each call is classified as

* ``named``   -- a ValueError/TypeError raised inside course_lib whose message names the argument;
* ``ok``      -- an extreme but legal value (1e308) that returned a finite result or flagged a divergence;
* ``unclear`` -- any other exception (a deep JAX/NumPy message, a message naming another argument);
* ``silent``  -- the call returned (a NaN/inf or a plausible wrong answer);
* ``hang``    -- no answer within ``--timeout`` seconds of CPU time (or 12 x that of wall time, at least
  a minute; the worker process is killed and restarted);
* ``crash``   -- the worker died (out of memory, segfault) or raised MemoryError.

The calls run in a worker subprocess, so a hang or a crash does not stop the probe.
Counts by class are printed at the end; ``--json`` writes every call's class.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# PROBE_REGISTRY: a directory holding a frozen copy of api_registry.py (so that edits during a run change nothing)
sys.path.insert(0, os.environ.get("PROBE_REGISTRY", str(ROOT / "tests")))

CLASSES = ("named", "ok", "unclear", "silent", "hang", "crash")


def _calls(only: str | None):
    import api_registry as reg

    out = []
    for name in sorted(reg.REGISTRY):
        if only and not name.startswith(tuple(only.split(","))):
            continue
        for i, (arg, value, must) in enumerate(reg.bad_calls(name, reg.REGISTRY[name])):
            out.append((name, i, arg, repr(value)[:60], must))
    return out


def _finite(obj, depth=0) -> bool:
    import numpy as np

    if depth > 6:
        return True
    if isinstance(obj, dict):
        return all(_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v, depth + 1) for v in obj)
    try:
        a = np.asarray(obj)
    except Exception:  # noqa: BLE001 -- not an array: nothing to check
        return True
    if a.dtype.kind in "fc":
        return bool(np.all(np.isfinite(a)))
    return True


def _no_inf(obj, depth=0):
    import numpy as np

    if depth > 6:
        return obj
    if isinstance(obj, dict):
        return {k: _no_inf(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_inf(v, depth + 1) for v in obj]
    try:
        a = np.asarray(obj)
    except Exception:  # noqa: BLE001 -- not an array
        return obj
    return np.where(a == np.inf, 0.0, a) if a.dtype.kind == "f" else obj


def classify_exception(exc: BaseException, arg: str) -> str:
    if isinstance(exc, MemoryError):
        return "crash"
    if not isinstance(exc, (ValueError, TypeError)):
        return "unclear"
    tb = traceback.extract_tb(exc.__traceback__)
    inner = tb[-1].filename if tb else ""
    in_lib = f"{os.sep}course_lib{os.sep}" in inner
    msg = str(exc)
    if in_lib and (f"{arg}" in msg.replace("`", "").replace("'", "")):
        return "named"
    return "unclear"


def run_one(name: str, index: int) -> tuple[str, str]:
    """Run one bad call in this process; return (class, short message)."""
    import api_registry as reg

    from course_lib.divergence import DivergenceWarning

    entry = reg.REGISTRY[name]
    arg, value, must = reg.bad_calls(name, entry)[index]
    kwargs = entry.make()
    value = reg.materialize(value, kwargs.get(arg))
    kwargs[arg] = value
    fn = reg.resolve(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = reg.call(name, kwargs) if hasattr(reg, "call") else fn(**kwargs)  # older registries: keywords only
        except Exception as exc:  # noqa: BLE001 -- classifying every failure is the point
            from course_lib.divergence import DivergenceError

            cls = classify_exception(exc, arg)
            if not must and (cls == "named" or isinstance(exc, DivergenceError)):
                cls = "ok"  # an extreme legal value refused by name or by the divergence policy
            return cls, f"{type(exc).__name__}: {str(exc)[:160]}"
    flagged = any(issubclass(w.category, DivergenceWarning) for w in caught)
    if must:
        return "silent", "returned" + (" (flagged divergence)" if flagged else "")
    if name in getattr(reg, "INF_MEANS_NO_EDGE", ()):  # +inf is a cost there (no transition); NaN still fails
        out = _no_inf(out)
    if flagged or _finite(out):
        return "ok", "finite or flagged"
    return "silent", "returned NaN/inf"


def worker() -> None:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    lib = os.environ.get("PROBE_LIB")
    if lib:  # probe another copy of course_lib (e.g. an older commit's), bypassing the editable install
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")
                            and "editable" not in getattr(f, "__name__", "")]
        sys.path.insert(0, lib)
        import course_lib

        assert Path(course_lib.__file__).resolve().is_relative_to(Path(lib).resolve()), course_lib.__file__
    # answers go to a private copy of stdout; whatever the library prints goes to stderr
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        name, index = line.split("\t")
        try:
            cls, msg = run_one(name, int(index))
        except MemoryError:
            cls, msg = "crash", "MemoryError"
        except BaseException as exc:  # noqa: BLE001 -- e.g. a failure in the registry itself
            cls, msg = "crash", f"probe error {type(exc).__name__}: {exc}"[:200]
        answers.write(json.dumps([cls, msg]) + "\n")
        answers.flush()


class Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def call(self, name: str, index: int, timeout: float):
        self.proc.stdin.write(f"{name}\t{index}\n")
        self.proc.stdin.flush()
        # the machine may be shared: a hang is `timeout` seconds of the worker's CPU time
        # (or 12 x timeout of wall time, at least a minute), not of wall time alone
        cpu0, t0 = self.cpu(), time.time()
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                break
            if self.cpu() - cpu0 > timeout or time.time() - t0 > max(60.0, 12 * timeout):
                return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else ("crash", "worker died")

    def cpu(self) -> float:
        """User + system CPU seconds of the worker so far (Linux /proc; wall-clock fallback)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return time.time()

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--timeout", type=float, default=5.0, help="CPU seconds per call before it counts as a hang")
    p.add_argument("--only", default=None, help="probe only functions whose name starts with one of these (comma-separated)")
    p.add_argument("--json", default=None, help="write every call's class to this file")
    p.add_argument("--list", action="store_true", help="print every call's class")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker()
        return 0
    calls = _calls(a.only)
    counts = collections.Counter()
    rows = []
    w = Worker()
    warmed = set()
    t0 = time.time()
    for name, index, arg, value, must in calls:
        # the first call of a function pays imports and compilation: give it a longer allowance
        timeout = a.timeout if name in warmed else max(a.timeout, 30.0)
        warmed.add(name)
        res = w.call(name, index, timeout)
        if res is None:
            w.kill()
            res = ("hang", f"no answer in {timeout:g} s")
            w = Worker()
            warmed.clear()  # a fresh worker pays imports and compilation again
        elif res[0] == "crash" and w.proc.poll() is not None:
            w = Worker()
            warmed.clear()
        cls, msg = res
        counts[cls] += 1
        rows.append(dict(function=name, arg=arg, value=value, must_raise=must, cls=cls, msg=msg))
        if a.list or cls in ("hang", "crash"):
            print(f"{cls:8s} {name}({arg}={value}) {msg}", flush=True)
    w.kill()
    import api_registry as reg

    total = sum(counts.values())
    n_funcs = len({r["function"] for r in rows})
    print(f"\n{total} calls over {n_funcs} functions in {time.time() - t0:.0f} s "
          f"({len(reg.PENDING)} public functions still PENDING in the registry, not probed)")
    for cls in CLASSES:
        print(f"  {cls:8s} {counts[cls]:6d}  {100 * counts[cls] / max(total, 1):5.1f} %")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
