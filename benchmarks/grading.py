"""Throughput of batch grading for credit: submissions per minute, with and without the sandbox.

Grades N copies of a solved notebook with ``course_lib.grading.grade_submissions``
(two workers, one per core) twice: sandboxed (bubblewrap, the default) and with
``unsafe_no_sandbox=True`` (same two-process split and limits, no namespaces),
both with the solution as trusted warm-up (a read-only cache of compiled JAX code
for the submissions; ``--no-warm-up`` measures without it), and prints
submissions per minute, CPU seconds per submission and the isolation overhead
(sandboxed / unsandboxed).  CPU time is the grading process's own plus each
sandbox's process tree (read from ``/proc`` when the sandbox closes; the
one-off warm-up notebook is not counted); the first run also pays the grading
process's one-off compilation of the tests' reference computations.  On a shared machine the wall-clock
rates reflect the load; the CPU-based rate estimates two idle cores.
Target: 300 submissions of one exercise in 15 minutes on 2 cores, i.e. >= 20 per minute.

    python benchmarks/grading.py                 # 12 copies of solutions/two_pillars.ipynb
    python benchmarks/grading.py --n 30 --exercise sgd --workers 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(n: int, exercise: str, workers: int, sandbox: bool, warm_up: bool) -> tuple[float, float, float, int]:
    from course_lib.grading import grade_submissions

    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    solution = ROOT / "solutions" / f"{exercise}.ipynb"
    try:
        paths = []
        for i in range(n):
            p = tmp / f"student{i:03d}.ipynb"
            shutil.copyfile(solution, p)
            paths.append(p)
        t0, c0 = time.perf_counter(), os.times()
        results = grade_submissions(paths, ROOT / "exercises" / "autograder" / f"{exercise}-autograder.zip",
                                    tmp / "scores.csv", workers=workers, unsafe_no_sandbox=not sandbox,
                                    warm_up=solution if warm_up else None)
        wall, c1 = time.perf_counter() - t0, os.times()
        own, boxes = (c1.user + c1.system) - (c0.user + c0.system), sum(r.cpu for r in results)
        full = sum(1 for r in results if r.total == max(r.total for r in results) and not r.error)
        return wall, own + boxes, boxes, full
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=12, help="copies of the solved notebook (default 12)")
    parser.add_argument("--exercise", default="two_pillars", help="exercise name (default two_pillars)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2 = cores)")
    parser.add_argument("--no-warm-up", action="store_true", help="no trusted warm-up, hence no compilation cache")
    args = parser.parse_args(argv)
    from course_lib.grading_batch import load_tests

    load_tests(ROOT / "exercises" / "autograder" / f"{args.exercise}-autograder.zip")  # parse once, outside the timing
    cores = os.cpu_count()
    print(f"grading {args.n} copies of solutions/{args.exercise}.ipynb with {args.workers} workers on {cores} cores, "
          f"{'no warm-up' if args.no_warm_up else 'solution as warm-up'} (load average before: {os.getloadavg()[0]:.1f})")
    rows = {}
    for label, sandbox in (("sandboxed (bwrap)", True), ("no sandbox", False)):
        wall, cpu, boxes, full = run(args.n, args.exercise, args.workers, sandbox, not args.no_warm_up)
        rows[label] = (wall, cpu)
        print(f"{label:>18}: {args.n} submissions in {wall:6.1f} s wall -> {60 * args.n / wall:5.1f} submissions/min; "
              f"{cpu:6.1f} s CPU = {cpu / args.n:.2f} CPU-s per submission ({boxes / args.n:.2f} in the submission's "
              f"processes) -> {60 * args.n / cpu * cores:5.1f}/min if all {cores} cores were free; {full}/{args.n} full marks")
    (w1, c1), (w0, c0) = rows["sandboxed (bwrap)"], rows["no sandbox"]
    print(f"isolation overhead: {w1 / w0:.2f}x wall time, {c1 / c0:.2f}x CPU time (same machine; load varies)")
    rate, cpu_rate = 60 * args.n / w1, 60 * args.n / c1 * cores
    print(f"target >= 20 submissions/min (300 in 15 min), sandboxed: wall-clock {'met' if rate >= 20 else 'NOT met'} "
          f"({rate:.1f}/min), CPU-based {'met' if cpu_rate >= 20 else 'NOT met'} ({cpu_rate:.1f}/min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
