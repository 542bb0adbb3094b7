"""Run the chapters as a student would on Binder: one core, a fresh kernel each, timed and weighed.

    python benchmarks/chapters.py                    # every chapter of _toc.yml, then the budget table
    python benchmarks/chapters.py sgd ode            # only these chapters (the minimal notebook always runs)
    python benchmarks/chapters.py sgd --profile 8    # also the 8 slowest cells of each chapter
    python benchmarks/chapters.py --json out.json    # also write every measurement to a JSON file

Method.  Each notebook (a chapter converted from its MyST source with jupytext,
or the *minimal notebook*: import numpy, jax and matplotlib, jit one function,
draw one plot) is executed by ``nbclient`` in a fresh Python kernel, inside a
worker process started with ``taskset -c CPU`` (default CPU 0), so the kernel
and every thread of XLA share one core, as on Binder.  Two cells are added
around the chapter's own cells and are not counted in its time:

* a first cell registers a ``jax.monitoring`` listener that sums the durations
  of JAX's compilation events (tracing to a jaxpr, lowering to MLIR, XLA's
  backend compilation) and IPython hooks that record, for every cell, its wall
  time, the kernel's CPU time, the compile time and the number of XLA
  compilations it triggered;
* a last cell reads the kernel's peak resident memory (``ru_maxrss`` of the
  kernel process: the high-water mark of the whole run) and then times the
  sliders: for every interactive figure of the chapter
  (``course_lib.widgets.InteractiveFigure``), each slider is moved twice to a
  neighbouring value in the live kernel, and the time from the value change to
  the new image being in the output area is recorded (the widget's own
  ``observe`` callback: draw, PNG, display).  The widget's first draw (the
  static figure) has already happened when the chapter ran.

Columns: **wall** -- from kernel start to the end of the chapter's last cell
(what *Run All* costs a student, kernel start included); **cpu** -- CPU seconds
of the kernel over the same span; **compile** -- seconds of JAX compilation
(and the number of XLA compilations); **peak** -- peak memory of the kernel;
**x min** -- wall divided by the minimal notebook's wall measured in the same
run (the budget is 12x), and the same ratio for CPU time; **slider** -- the
slowest slider redraw of the chapter, wall and CPU milliseconds (the target is
200 ms of wall time on a quiet core).  The compile column sums the durations
JAX reports, which are wall-clock: on a loaded machine it grows like the wall
time and can exceed the CPU column.

Budget (Binder-grade chapters): wall <= 12 x the minimal notebook and
peak memory <= 1 GiB, on one core.  On a shared machine wall times grow with the
other jobs' load; CPU seconds barely do, so both are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WALL_RATIO_BUDGET = 12.0
PEAK_BUDGET_MIB = 1024.0
SLIDER_BUDGET_MS = 200.0

MINIMAL_CELLS = [
    "import numpy as np\nimport jax\nimport jax.numpy as jnp\nimport matplotlib.pyplot as plt",
    "f = jax.jit(lambda x: jnp.sin(x) ** 2 + x)\ny = f(jnp.linspace(0.0, 1.0, 100))\ny.block_until_ready();",
    "fig, ax = plt.subplots()\nax.plot(np.asarray(y))\nplt.show()",
]

# First cell: compile-time listener and per-cell hooks (kept in the kernel's namespace under one name).
PROLOGUE = r'''
import time as _t, resource as _r
import jax.monitoring as _jm

class _BenchProbe:
    EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
              "/jax/core/compile/jaxpr_to_mlir_module_duration",
              "/jax/core/compile/backend_compile_duration")
    def __init__(self):
        self.compile_s = 0.0
        self.n_backend = 0
        self.cells = []
        self._start = None
    def on_event(self, event, duration, **kw):
        if event in self.EVENTS:
            self.compile_s += duration
            if event == self.EVENTS[-1]:
                self.n_backend += 1
    @staticmethod
    def cpu():
        u = _r.getrusage(_r.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime
    def pre(self, info):
        self._start = (_t.perf_counter(), self.cpu(), self.compile_s, self.n_backend)
    def post(self, result):
        if self._start is None:
            return
        w0, c0, k0, n0 = self._start
        src = result.info.raw_cell if result.info is not None else ""
        self.cells.append({"wall": _t.perf_counter() - w0, "cpu": self.cpu() - c0,
                           "compile": self.compile_s - k0, "n_compiles": self.n_backend - n0,
                           "maxrss_mib": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024,
                           "source": src[:300]})
        self._start = None

_bench_probe = _BenchProbe()
_jm.register_event_duration_secs_listener(_bench_probe.on_event)
get_ipython().events.register("pre_run_cell", _bench_probe.pre)
get_ipython().events.register("post_run_cell", _bench_probe.post)
'''

# Last cell: peak memory, CPU, then slider redraw times; everything to the JSON file OUT.
EPILOGUE = r'''
import gc as _gc, json as _json, time as _t2, resource as _r2
get_ipython().events.unregister("pre_run_cell", _bench_probe.pre)
get_ipython().events.unregister("post_run_cell", _bench_probe.post)
_res = {"maxrss_mib": _r2.getrusage(_r2.RUSAGE_SELF).ru_maxrss / 1024, "cpu": _bench_probe.cpu(),
        "compile_s": _bench_probe.compile_s, "n_compiles": _bench_probe.n_backend,
        "cells": _bench_probe.cells, "widgets": []}
try:
    from course_lib.widgets import InteractiveFigure as _IF
except ImportError:
    _IF = None
if _IF is not None:
    def _is_figure(o):
        try:
            return isinstance(o, _IF)
        except ReferenceError:   # a dead weak proxy among the tracked objects
            return False
    for _i, _f in enumerate([o for o in _gc.get_objects() if _is_figure(o)]):
        _f.widget()
        _moves = []
        for _name, _s in _f._sliders.items():
            _c = _f.controls[_name]
            _vals = [_c.value + _c.step, _c.value] if _c.value + _c.step <= _c.max else [_c.value - _c.step, _c.value]
            for _v in _vals:
                _t0, _c0 = _t2.perf_counter(), _t2.process_time()
                _s.value = int(round(_v)) if _c.integer else float(_v)
                _moves.append({"control": _name, "value": _v, "ms": 1e3 * (_t2.perf_counter() - _t0),
                               "cpu_ms": 1e3 * (_t2.process_time() - _c0)})
        _res["widgets"].append({"controls": list(_f.controls), "alt": _f.alt[:80], "moves": _moves})
with open(OUT, "w") as _fh:
    _json.dump(_res, _fh)
'''


def chapters() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = []
    for part in toc["parts"]:
        for c in part["chapters"]:
            f = c["file"]
            src = ROOT / f"{f}.md"
            if f.startswith("book/") and src.exists() and "code-cell" in src.read_text():
                out.append(f.split("/", 1)[1])
    return out


def run_one(name: str, out_json: Path, timeout: float) -> None:
    """Worker (runs under taskset): execute one notebook, write measurements to ``out_json``."""
    import nbformat
    from nbclient import NotebookClient

    if name == "minimal":
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in MINIMAL_CELLS])
        cwd = ROOT / "book"
    else:
        import jupytext

        nb = jupytext.read(ROOT / "book" / f"{name}.md")
        cwd = ROOT / "book"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    raw = out_json.with_suffix(".kernel.json")
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROLOGUE))
    nb.cells.append(nbformat.v4.new_code_cell(f"OUT = {str(raw)!r}\n" + EPILOGUE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    t0 = time.perf_counter()
    last_done: dict[str, float] = {}

    # Time from kernel start to the end of the chapter's last cell: the epilogue cell is excluded.
    orig = client.async_execute_cell

    async def timed(cell, cell_index, *a, **k):
        if cell_index == len(nb.cells) - 1:
            last_done["t"] = time.perf_counter()
        return await orig(cell, cell_index, *a, **k)

    client.async_execute_cell = timed
    client.execute()
    total = time.perf_counter() - t0
    res = json.loads(raw.read_text())
    raw.unlink()
    res["wall"] = last_done.get("t", time.perf_counter()) - t0
    res["wall_with_probe"] = total
    res["name"] = name
    out_json.write_text(json.dumps(res))


def measure(name: str, cpu: str | None, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "res.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(out), "--timeout", str(timeout)]
        if cpu is not None:
            cmd = ["taskset", "-c", cpu, *cmd]
        env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="module://matplotlib_inline.backend_inline")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if proc.returncode != 0 or not out.exists():
            return {"name": name, "error": (proc.stdout + proc.stderr)[-3000:]}
        return json.loads(out.read_text())


def slider_stats(res: dict) -> tuple[float, float, str]:
    """The slowest slider redraw of a chapter: wall ms, its CPU ms, and which control and value."""
    worst, cpu, where = 0.0, 0.0, ""
    for w in res.get("widgets", []):
        for m in w["moves"]:
            if m["ms"] > worst:
                worst, cpu, where = m["ms"], m.get("cpu_ms", float("nan")), f"{m['control']}={m['value']:g}"
    return worst, cpu, where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="chapters (file names in book/ without .md); default: all")
    ap.add_argument("--cpu", default="0", help="CPU list for taskset (default 0); 'none' to run unpinned")
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="print the K slowest cells of each chapter")
    ap.add_argument("--json", type=Path, help="write all measurements to this file")
    ap.add_argument("--timeout", type=float, default=600.0, help="per-cell timeout (s)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        run_one(args.worker[0], Path(args.worker[1]), args.timeout)
        return 0

    names = args.names or chapters()
    unknown = [n for n in names if not (ROOT / "book" / f"{n}.md").exists()]
    if unknown:
        ap.error(f"unknown chapter(s) {unknown}; expected names among {chapters()}")
    cpu = None if args.cpu == "none" else args.cpu
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results = []
    for name in ["minimal", *names]:
        r = measure(name, cpu, args.timeout)
        results.append(r)
        if "error" in r:
            print(f"{name}: FAILED\n{r['error']}", file=sys.stderr)
        else:
            print(f"  ran {name}: wall {r['wall']:.1f} s, cpu {r['cpu']:.1f} s, peak {r['maxrss_mib']:.0f} MiB",
                  file=sys.stderr, flush=True)
    load1 = os.getloadavg()
    base = results[0]
    if "error" in base:
        print("the minimal notebook failed; no ratios", file=sys.stderr)
        return 1

    print(f"\nChapters on one core (taskset -c {args.cpu}), fresh kernel each; started {started}; "
          f"load average {load0[0]:.1f} before, {load1[0]:.1f} after, {os.cpu_count()} CPUs")
    print(f"minimal notebook: wall {base['wall']:.2f} s, cpu {base['cpu']:.2f} s, "
          f"compile {base['compile_s']:.2f} s, peak {base['maxrss_mib']:.0f} MiB\n")
    hdr = ("| chapter | wall (s) | cpu (s) | compile (s) | XLA compiles | peak (MiB) | wall / minimal | "
           "cpu / minimal | slowest slider redraw, wall / cpu (ms) | within budget |")
    print(hdr)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    all_ok = True
    for r in results[1:]:
        if "error" in r:
            print(f"| {r['name']} | failed | | | | | | | | no |")
            all_ok = False
            continue
        ratio = r["wall"] / base["wall"]
        cratio = r["cpu"] / base["cpu"]
        slider, slider_cpu, where = slider_stats(r)
        ok_t = ratio <= WALL_RATIO_BUDGET
        ok_m = r["maxrss_mib"] <= PEAK_BUDGET_MIB
        ok_s = slider <= SLIDER_BUDGET_MS
        ok = ok_t and ok_m and ok_s
        all_ok &= ok
        why = [] if ok else [s for s, good in (("time", ok_t), ("memory", ok_m), ("slider", ok_s)) if not good]
        sl = f"{slider:.0f} / {slider_cpu:.0f} ({where})" if r.get("widgets") else "no widget"
        print(f"| {r['name']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['compile_s']:.1f} | {r['n_compiles']} | "
              f"{r['maxrss_mib']:.0f} | {ratio:.1f}x | {cratio:.1f}x | {sl} | {'yes' if ok else 'NO: ' + ', '.join(why)} |")
    print(f"\nBudget: wall <= {WALL_RATIO_BUDGET:g} x minimal, peak <= {PEAK_BUDGET_MIB:.0f} MiB, "
          f"slider redraw <= {SLIDER_BUDGET_MS:.0f} ms -> {'ALL MET' if all_ok else 'NOT MET'}")
    if args.profile:
        for r in results[1:]:
            if "error" in r:
                continue
            print(f"\n{r['name']}: the {args.profile} slowest cells (wall / cpu / compile s, XLA compiles, peak MiB so far)")
            cells = sorted(enumerate(r["cells"]), key=lambda ic: -ic[1]["wall"])[: args.profile]
            for i, c in cells:
                first = next((ln for ln in c["source"].splitlines() if ln.strip() and not ln.startswith("#")), "")
                print(f"  cell {i:2d}: {c['wall']:6.2f} / {c['cpu']:6.2f} / {c['compile']:5.2f}  "
                      f"{c['n_compiles']:4d}  {c['maxrss_mib']:6.0f}  {first[:70]}")
    if args.json:
        args.json.write_text(json.dumps({"started": started, "cpu": args.cpu, "load": [load0, load1],
                                         "results": results}, indent=1))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
