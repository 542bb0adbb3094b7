"""Throughput of the many-chain SGD simulator, against NumPy and against the RNG alone.

    python benchmarks/sgd_throughput.py            # full run (a few minutes)
    python benchmarks/sgd_throughput.py --quick    # smaller, fewer repeats
    python benchmarks/sgd_throughput.py --devices 1

Workload (the same for all three columns): SGD on Himmelblau's function with
isotropic Gaussian noise, ``x_{t+1} = x_t - eta (grad f(x_t) + sigma xi_t)``,
``xi_t ~ N(0, I_2)``, constant step ``eta = 0.01``, ``sigma = 1``, float32,
``n`` chains started uniformly in ``[-5, 5]^2``, divergence check
``|x|^2 < R^2`` every step, and the occupation histogram of every iterate on a
100 x 100 grid over ``[-6, 6]^2`` accumulated on the fly.

Columns:

* **JAX** -- the public simulator, ``course_lib.simulate.occupation_histogram``,
  timed end to end (argument checks, every compiled chunk, host transfers);
* **NumPy** -- a vectorized NumPy loop doing the same work per step: float32,
  struct-of-arrays layout, ``np.random.Generator(SFC64)`` (the fastest NumPy
  bit generator here) filling a preallocated buffer with
  ``standard_normal(dtype=float32)``, in-place ufuncs, the same divergence
  check and freeze, and ``np.bincount`` for the histogram.  NumPy is single
  threaded;
* **roofline** -- only drawing the same ``2 n T`` normal samples, in a jitted
  ``lax.scan`` with the same key schedule (``fold_in(key, t)``) and the same
  device configuration, accumulated into a carry so they are not optimised
  away.  Two samplers: ``course_lib.noise._normal`` (what the simulator uses:
  the same bits as ``jax.random.normal``, unrolled so that XLA fuses it) and
  stock ``jax.random.normal``.  "of roofline" is measured against the faster
  of the two.

Rates are chain-steps per second (for the roofline: samples / 2 per second).
The first call of each column (compilation for JAX) is timed separately and
excluded; each column is then repeated, the repetitions interleaved so that
load from other processes hits all columns alike, and the median is reported,
with the ratio of process CPU time to wall time (about 2 means both cores were
busy).

Both cores: unless ``--devices 1`` is given, the script sets
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` before importing JAX, so
the CPU shows up as two devices and the simulator splits the chains across them
(``course_lib.simulate.chain_sharding``).  Targets (from the issue): at 10^5
chains, JAX >= 3x NumPy and >= 80% of the roofline.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats (about a minute)")
    p.add_argument("--devices", type=int, default=2, help="number of XLA CPU devices (default 2: both cores)")
    p.add_argument("--repeats", type=int, default=None, help="timed repetitions per column (default 5, quick 3)")
    p.add_argument("--chains", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    return p.parse_args()


ARGS = parse_args()
if ARGS.devices > 1:
    # must happen before JAX is imported
    flag = f"--xla_force_host_platform_device_count={ARGS.devices}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from course_lib import landscapes, noise, simulate  # noqa: E402

STEP, SIGMA, RADIUS = 0.01, 1.0, 1e6
LOW, HIGH, BINS = (-6.0, -6.0), (6.0, 6.0), (100, 100)


def n_steps_for(n: int, quick: bool) -> int:
    """Steps per run: about 1e8 chain-steps at 1e5 chains, more steps for fewer chains."""
    steps = {1_000: 8192, 10_000: 2048}.get(n, 1024)
    return max(simulate.CHUNK, steps // 4) if quick else steps


def initial_points(n: int) -> np.ndarray:
    return np.asarray(jax.random.uniform(jax.random.key(1), (n, 2), minval=-5.0, maxval=5.0), np.float32)


# ---------------------------------------------------------------------------
# the three workloads
# ---------------------------------------------------------------------------


def run_jax(x0: np.ndarray, n_steps: int):
    return simulate.occupation_histogram(
        jax.random.key(0), landscapes.himmelblau, noise.gaussian(SIGMA), x0, STEP, n_steps,
        low=LOW, high=HIGH, n_bins=BINS, divergence_radius=RADIUS,
    )


def run_numpy(x0: np.ndarray, n_steps: int, seed: int = 0):
    """The same SGD + divergence check + occupation histogram, vectorized NumPy, float32."""
    f32 = np.float32
    n = x0.shape[0]
    rng = np.random.Generator(np.random.SFC64(seed))
    X = np.ascontiguousarray(x0.T)  # (2, n): contiguous coordinates
    x1, x2 = X[0], X[1]
    Z = np.empty((2, n), f32)
    a, b, u, v, r2 = (np.empty(n, f32) for _ in range(5))
    ij = np.empty((2, n), np.intp)
    flat = np.empty(n, np.intp)
    alive = np.ones(n, bool)
    all_alive = True
    total = BINS[0] * BINS[1]
    counts = np.zeros(total + 1, np.int64)
    n_samples = 0
    eta, sig, R2 = f32(STEP), f32(SIGMA), f32(RADIUS) ** 2
    scale = (np.asarray(BINS, f32) / (np.asarray(HIGH, f32) - np.asarray(LOW, f32)))[:, None]
    low = np.asarray(LOW, f32)[:, None]
    for _ in range(n_steps):
        rng.standard_normal(out=Z, dtype=f32)
        # gradient of Himmelblau: a = x1^2 + x2 - 11, b = x1 + x2^2 - 7,
        # g1 = 4 x1 a + 2 b, g2 = 2 a + 4 x2 b
        np.multiply(x1, x1, out=a); a += x2; a -= f32(11.0)
        np.multiply(x2, x2, out=b); b += x1; b -= f32(7.0)
        np.multiply(x1, a, out=u); u *= f32(4.0); u += b; u += b          # g1
        np.multiply(x2, b, out=v); v *= f32(4.0); v += a; v += a          # g2
        # x <- x - eta (g + sigma z), into the noise buffer
        Z *= sig; Z[0] += u; Z[1] += v; Z *= eta
        np.subtract(X, Z, out=Z)  # Z now holds the proposed iterate
        np.multiply(Z[0], Z[0], out=r2); np.multiply(Z[1], Z[1], out=a); r2 += a
        ok = r2 < R2
        if all_alive and ok.all():
            X, Z = Z, X
            x1, x2 = X[0], X[1]
        else:  # rare: freeze diverged chains at their last finite iterate
            alive &= ok
            all_alive = False
            np.copyto(X, Z, where=alive)
        # histogram of the new iterate
        np.subtract(X, low, out=Z); Z *= scale
        np.floor(Z, out=Z)
        ij[...] = Z  # float -> int, in place
        inside = (ij[0] >= 0) & (ij[0] < BINS[0]) & (ij[1] >= 0) & (ij[1] < BINS[1])
        if not all_alive:
            inside &= alive
        np.multiply(ij[0], BINS[1], out=flat); flat += ij[1]
        flat[~inside] = total
        counts += np.bincount(flat, minlength=total + 1)
        n_samples += n if all_alive else int(alive.sum())
    return counts[:total].reshape(BINS), n_samples, ~alive


def make_roofline(n: int, n_steps: int, sampler):
    """Jitted: draw the (n, 2) normals of every step, nothing else."""
    sharding = simulate.chain_sharding(n)

    @jax.jit
    def draw_all(key, acc):
        def body(acc, t):
            z = sampler(jax.random.fold_in(key, t), acc.shape, acc.dtype)
            if sharding is not None:
                z = jax.lax.with_sharding_constraint(z, sharding)
            return acc + z, None

        acc, _ = jax.lax.scan(body, acc, jnp.arange(n_steps))
        return acc

    acc0 = jnp.zeros((n, 2), jnp.float32)
    if sharding is not None:
        acc0 = jax.device_put(acc0, sharding)
    key = jax.random.key(0)
    return lambda: draw_all(key, acc0).block_until_ready()


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    w1, c1 = time.perf_counter(), time.process_time()
    return out, w1 - w0, c1 - c0


def check_same_work(jax_hist, np_result) -> float:
    """Total-variation distance between the two occupation measures (different
    random numbers, same distribution: small, not zero)."""
    counts, n_samples, diverged = np_result
    assert jax_hist.n_samples == n_samples, (jax_hist.n_samples, n_samples)
    assert not jax_hist.diverged.any() and not diverged.any()
    p = jax_hist.counts / jax_hist.counts.sum()
    q = counts / counts.sum()
    return 0.5 * float(np.abs(p - q).sum())


def main() -> None:
    repeats = ARGS.repeats or (3 if ARGS.quick else 5)
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"# SGD chain-steps per second: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} logical CPUs, {datetime.datetime.now().isoformat(timespec='minutes')}")
    print(f"# python {platform.python_version()}, jax {jax.__version__}, numpy {np.__version__}, "
          f"devices: {len(jax.devices())} ({jax.devices()[0].platform}), XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    print(f"# command: python {' '.join(sys.argv)}; repeats={repeats} (median), interleaved")
    if load0 is not None:
        print(f"# load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    # the simulator's sampler must give exactly jax.random.normal's numbers
    for shape in [(7, 2), (1000, 2), (3, 5, 4)]:
        k = jax.random.fold_in(jax.random.key(42), 3)
        same = np.array_equal(noise._normal(k, shape, jnp.float32), jax.random.normal(k, shape, jnp.float32))
        assert same, f"course_lib.noise._normal differs from jax.random.normal for shape {shape}"
    print("# course_lib.noise._normal == jax.random.normal bit for bit: checked")
    rows = []
    for n in ARGS.chains:
        T = n_steps_for(n, ARGS.quick)
        x0 = initial_points(n)
        work = n * T
        cols = {
            "jax": lambda: run_jax(x0, T),
            "numpy": lambda: run_numpy(x0, T),
            "roof_course": make_roofline(n, T, noise._normal),
            "roof_jax": make_roofline(n, T, jax.random.normal),
        }
        first, outs = {}, {}
        for name, fn in cols.items():
            outs[name], first[name], _ = timed(fn)
        tv = check_same_work(outs["jax"], outs["numpy"])
        walls = {k: [] for k in cols}
        cpus = {k: [] for k in cols}
        for _ in range(repeats):
            for name, fn in cols.items():
                _, w, c = timed(fn)
                walls[name].append(w)
                cpus[name].append(c / w)
        med = {k: statistics.median(v) for k, v in walls.items()}
        rate = {k: work / med[k] for k in cols}
        roof = max(rate["roof_course"], rate["roof_jax"])
        rows.append(dict(n=n, T=T, rate=rate, roof=roof, cpu={k: statistics.median(v) for k, v in cpus.items()},
                         first=first, tv=tv, spread={k: (min(v) / med[k], max(v) / med[k]) for k, v in walls.items()}))
        print(f"# n={n:>7,d}  T={T:>5d}  first call (compile) JAX {first['jax']:.2f} s, "
              f"roofline {first['roof_course']:.2f} s / {first['roof_jax']:.2f} s; "
              f"histograms JAX vs NumPy: total variation {tv:.4f}", flush=True)

    def m(x):
        return f"{x / 1e6:8.1f}"

    print()
    print("Rates in millions of chain-steps per second (median); cpu = process CPU time / wall time.")
    print()
    header = ("| chains | steps | JAX simulator | NumPy loop | roofline (course_lib normal) | roofline (jax.random.normal) "
              "| JAX / NumPy | JAX / roofline | cpu JAX | cpu NumPy | cpu roofline |")
    print(header)
    print("|" + "---:|" * (header.count("|") - 1))
    for r in rows:
        rt, c = r["rate"], r["cpu"]
        print(f"| {r['n']:,d} | {r['T']:d} | {m(rt['jax'])} | {m(rt['numpy'])} | {m(rt['roof_course'])} | "
              f"{m(rt['roof_jax'])} | {rt['jax'] / rt['numpy']:.2f}x | {rt['jax'] / r['roof']:.0%} | "
              f"{c['jax']:.2f} | {c['numpy']:.2f} | {c['roof_course']:.2f} |")
    print()
    print("Work per CPU-second (rate / cpu): what each column gets out of the CPU time it was given;")
    print("unlike wall-clock rates, these barely move when other processes compete for the cores.")
    print()
    print("| chains | JAX simulator | NumPy loop | roofline (course_lib normal) | JAX / NumPy | JAX / roofline |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        pc = {k: r["rate"][k] / max(r["cpu"][k], 1e-9) for k in ("jax", "numpy", "roof_course")}
        print(f"| {r['n']:,d} | {m(pc['jax'])} | {m(pc['numpy'])} | {m(pc['roof_course'])} | "
              f"{pc['jax'] / pc['numpy']:.2f}x | {pc['jax'] / pc['roof_course']:.0%} |")
    print()
    big = max(rows, key=lambda r: r["n"])
    ratio, frac = big["rate"]["jax"] / big["rate"]["numpy"], big["rate"]["jax"] / big["roof"]
    print(f"Targets at {big['n']:,d} chains:")
    print(f"  JAX >= 3x NumPy loop:      {ratio:.2f}x  -> {'MET' if ratio >= 3 else 'NOT MET'}")
    print(f"  JAX >= 80% of roofline:    {frac:.0%}  -> {'MET' if frac >= 0.8 else 'NOT MET'}")
    print(f"  uses both cores (cpu/wall of the simulator): {big['cpu']['jax']:.2f}")
    if load0 is not None:
        load1 = os.getloadavg()
        print(f"# load average at end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}"
              + ("  (other processes were competing for the CPU: absolute rates are depressed)" if max(load0[0], load1[0]) > (os.cpu_count() or 1) + 1.5 else ""))
    print("# min/max of the repetitions relative to the median (JAX, NumPy, roofline):")
    for r in rows:
        s = r["spread"]
        print(f"#   n={r['n']:>7,d}: " + ", ".join(f"{k} {s[k][0]:.2f}-{s[k][1]:.2f}" for k in ("jax", "numpy", "roof_course")))


if __name__ == "__main__":
    main()
