"""The Three Humps hitting-time experiment: wall time and how much of the work is useful.

    python benchmarks/hitting_times.py            # chapter size and a larger size (several minutes)
    python benchmarks/hitting_times.py --quick    # chapter size only, no baseline run

Experiment (as in book/exit_times.md): SGD on ``course_lib.landscapes.three_humps``
with Gaussian noise ``N(0, sigma^2 I)``, ``sigma = 15``, started at the right
minimum; target: the ball of radius 0.5 around the global minimum; 12 step
sizes with ``J / eta`` equally spaced in [2.5, 6.5] (``J`` from the transition
graph); runs truncated at flow time ``eta * t = 5000``.  The product is the
data of the ``log(eta E[tau])`` vs ``1/eta`` figure, produced by
``course_lib.exit_times.hitting_time_sweep`` (since 2026-12-07 the chains of
all step sizes share one batch of slots, each with its own traced step; before,
one call of ``course_lib.simulate.hitting_times`` per step size).

Columns:

* **wall (cold)**: the whole sweep in a fresh process, compilation included
  (what the chapter pays); **wall (warm)**: the same sweep again, another key;
* **useful**: the fraction of the simulated chain-steps that belonged to chains
  not yet finished, ``sum_i min(tau_i, T_max) / work``, where ``work`` counts
  every row of every compiled chunk (padding rows included);
* **baseline**: the same experiment without compaction -- every chain stays in
  the batch until the last one has hit (a fixed-size loop over the same
  compiled chunk).  At the chapter size it is run and timed; at the larger size
  its work is computed exactly from the measured hitting times
  (``n * ceil(max tau / CHUNK) * CHUNK`` per step size) and its time estimated
  at the rate (chain-steps per CPU second) of the chapter-size baseline run
  (marked "est.").  The machine is shared: CPU seconds of this process are
  compared, wall times are shown but depend on other jobs.

Why the useful fraction cannot reach 100%: after every chunk of CHUNK steps
the surviving chains are packed into a batch whose size is the next power of
two (few compiled shapes), so a batch is on average only about
1 / (2 ln 2) = 72% full while the population decays geometrically.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="chapter size only, no baseline")
    p.add_argument("--large", type=int, default=1024, help="number of chains of the larger run (default 1024)")
    p.add_argument("--devices", type=int, default=1, help="XLA CPU devices (default 1, as in the chapter)")
    p.add_argument("--power-of-two-buckets", action="store_true",
                   help="also measure the former batch-size rule (powers of two) for comparison")
    return p.parse_args()


ARGS = parse_args()
if ARGS.devices > 1:
    flag = f"--xla_force_host_platform_device_count={ARGS.devices}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from course_lib import energy as en  # noqa: E402
from course_lib import exit_times as et  # noqa: E402
from course_lib import landscapes as L  # noqa: E402
from course_lib import noise, simulate  # noqa: E402

SIGMA, DELTA, T_MAX = 15.0, 0.5, 5000.0
GRAPH = et.three_humps_graph(SIGMA)
J = en.convergence_energy(GRAPH.B, GRAPH.target, GRAPH.start)
STEPS = J / np.linspace(2.5, 6.5, 12)
TARGET = jnp.asarray(L.THREE_HUMPS_MINIMA[:1])
NOISE = noise.gaussian(SIGMA)


def x_start(n: int) -> jax.Array:
    return jnp.tile(jnp.asarray(L.THREE_HUMPS_MINIMA[2:3], jnp.float32), (n, 1))


def sweep(n: int, seed: int) -> tuple[et.HittingSweep, float, float]:
    """The chapter's sweep with n chains; returns it, its wall time and its process CPU time."""
    t0, c0 = time.perf_counter(), time.process_time()
    sw = et.hitting_time_sweep(jax.random.PRNGKey(seed), L.three_humps, NOISE, x_start(n), STEPS,
                               centers=TARGET, delta=DELTA, max_time=T_MAX)
    return sw, time.perf_counter() - t0, time.process_time() - c0


def baseline(n: int, seed: int) -> tuple[float, float, int, int]:
    """No compaction: one fixed batch of n chains, stepped in chunks until every chain has hit.

    Uses the simulator's own compiled chunk (``simulate._hit_chunk``) on the full batch.
    Returns (wall seconds, CPU seconds, work, useful chain-steps)."""
    t0, c0 = time.perf_counter(), time.process_time()
    work = useful = 0
    for j, eta in enumerate(STEPS):
        m = int(math.ceil(T_MAX / eta))
        key = jax.random.fold_in(jax.random.PRNGKey(seed), j)
        X = x_start(n)
        active = jnp.ones(n, bool)
        times = jnp.full(n, -1, jnp.int32)
        div = jnp.full(n, -1, jnp.int32)
        for t0_ in range(0, m, simulate.CHUNK):
            X, active, times, div = simulate._hit_chunk(
                L.three_humps, None, NOISE, jax.random.fold_in(key, t0_ // simulate.CHUNK), X, t0_, active, times, div,
                float(eta), 0.0, 1e6, TARGET, DELTA)
            work += n * simulate.CHUNK
            if not bool(jnp.any(active)):
                break
        t = np.asarray(times)
        useful += int(np.where((t >= 0) & (t <= m), t, m).sum())
    return time.perf_counter() - t0, time.process_time() - c0, work, useful


def power_of_two_bucket(n: int, multiple: int) -> int:
    """The former batch-size rule of simulate.hitting_times: the smallest power of two >= n (and >= multiple)."""
    return max(multiple, 1 << max(0, math.ceil(math.log2(max(n, 1)))))


def computed_baseline_work(sw: et.HittingSweep) -> int:
    work = 0
    for t, m in zip(sw.times, sw.max_steps):
        longest = int(m) if (t < 0).any() else int(t.max())
        work += t.size * int(math.ceil(max(longest, 1) / simulate.CHUNK)) * simulate.CHUNK
    return work


def main() -> None:
    print(f"# Three Humps hitting times -- {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.python_version()}, "
          f"jax {jax.__version__}, devices {len(jax.devices())}, os.cpu_count() = {os.cpu_count()}")
    print(f"J = {J:.5f}, steps {STEPS.max():.4f} .. {STEPS.min():.4f} (12), sigma = {SIGMA}, truncation eta*t = {T_MAX}")
    sizes = [160] if ARGS.quick else [160, ARGS.large]
    rows = []
    base_rate = None
    for n in sizes:
        sw, cold, _ = sweep(n, 1)
        sw2, warm, warm_cpu = sweep(n, 2)
        fit = et.fit_rate(sw2.steps, sw2.means())
        row = dict(n=n, cold=cold, warm=warm, warm_cpu=warm_cpu, work=int(sw2.work.sum()),
                   useful=sw2.useful_fraction(), slope=fit.slope / J, censored=int((sw2.times < 0).sum()))
        if not ARGS.quick and n == sizes[0]:
            bl_time, bl_cpu, bl_work, bl_useful = baseline(n, 2)
            base_rate = bl_work / bl_cpu
            row.update(bl_cpu=bl_cpu, bl_work=bl_work, bl_useful=bl_useful / bl_work, bl_est=False)
        elif base_rate is not None:
            bl_work = computed_baseline_work(sw2)
            row.update(bl_cpu=bl_work / base_rate, bl_work=bl_work,
                       bl_useful=float(sw2.useful.sum()) / bl_work, bl_est=True)
        rows.append(row)
        print(f"  n = {n}: done ({cold:.1f} s cold, {warm:.1f} s warm)", flush=True)
    print()
    print("| chains | wall cold (s) | wall warm (s) | CPU warm (s) | chain-steps | useful | fitted / predicted slope "
          "| baseline CPU (s) | baseline chain-steps | baseline useful | CPU speed-up vs baseline |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "bl_cpu" in r:
            est = " (est.)" if r["bl_est"] else ""
            bl = (f"{r['bl_cpu']:.1f}{est} | {r['bl_work']:.3g} | {r['bl_useful']:.0%} | "
                  f"{r['bl_cpu'] / r['warm_cpu']:.2f}x")
        else:
            bl = "- | - | - | -"
        print(f"| {r['n']} | {r['cold']:.1f} | {r['warm']:.1f} | {r['warm_cpu']:.1f} | {r['work']:.3g} | "
              f"{r['useful']:.0%} | {r['slope']:.2f} | {bl} |")
    if ARGS.power_of_two_buckets:
        original = simulate._bucket
        simulate._bucket = power_of_two_bucket  # the former rule, for comparison
        try:
            for n in sizes:
                sweep(n, 1)  # compile the new sizes
                sw3, warm3, cpu3 = sweep(n, 2)
                print(f"former power-of-two buckets, {n} chains: warm {warm3:.1f} s (CPU {cpu3:.1f} s), "
                      f"{int(sw3.work.sum()):.3g} chain-steps, useful {sw3.useful_fraction():.0%}")
        finally:
            simulate._bucket = original
    worst = min(r["useful"] for r in rows)
    print()
    print(f"Target: useful fraction >= 80%: measured {worst:.0%} -> {'MET' if worst >= 0.8 else 'NOT MET'}")


if __name__ == "__main__":
    main()
