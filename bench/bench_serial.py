"""Where a kernel should stop waking threads: one launch of the same compiled
kernel on one thread and on all, over sizes (the `serial_work` setting sits
where the parallel one starts to win). Launches only (the plan is built and
compiled first), medians of interleaved rounds.

    python bench/bench_serial.py [--rounds 15]
"""
import argparse
import time

import numpy as np

import lazyops as lo
from lazyops import engine
from lazyops.codegen import cpu
from lazyops.codegen.launch import Launcher

WORKLOADS = {
    "chain": lambda x, y: (x * 2 + y) * 0.5 - x,
    "sumsq": lambda x, y: lo.sum((x - y) ** 2),
    "exp": lambda x, y: lo.exp(x) * y,
}


def launchers(name, n):
    """(one-thread launcher, parallel launcher, their argument arrays)."""
    rng = np.random.default_rng(0)
    x, y = (rng.random(n, dtype=np.float32) for _ in range(2))
    t = WORKLOADS[name](lo.convert_to_tensor(x), lo.convert_to_tensor(y))
    plan, _, leaves = engine.plan_of([t._value])
    (kernel,) = plan.kernels
    pair = [Launcher(kernel, cpu, {"serial_work": work}) for work in (1 << 62, 0)]
    return pair, [v.data for v in leaves]


def median_us(f, rounds, number):
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            f()
        ts.append((time.perf_counter() - t0) / number * 1e6)
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    print(f"{'workload':<8}{'n':>10}{'one thread':>14}{'parallel':>12}{'parallel/one':>14}")
    for name in WORKLOADS:
        for n in (8192, 32768, 65536, 131072, 262144, 524288, 1048576):
            (one, par), vals = launchers(name, n)
            one(vals), par(vals)  # compile both
            number = max(1, 200_000 // n)
            a = median_us(lambda: one(vals), args.rounds, number)
            b = median_us(lambda: par(vals), args.rounds, number)
            print(f"{name:<8}{n:>10}{a:>12.1f}us{b:>10.1f}us{b / a:>14.2f}")


if __name__ == "__main__":
    main()
