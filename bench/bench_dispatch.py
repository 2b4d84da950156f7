"""Dispatch cost: recording and forcing a small graph, warm.

The 4-op chain `(x*2+y)*0.5-x` on 1000 float32 elements, NumPy arrays in and
out: NumPy eager, recording alone (5 calls), record and force, and
`lazyops.function`. CPU time per call (`time.process_time`), best of rounds,
so that other processes on a shared machine disturb it less; compare ratios
from one run, not absolute times.

    python bench/bench_dispatch.py [--n 1000] [--calls 4000] [--rounds 7]
"""
import argparse
import time

import numpy as np

import lazyops as lo
from lazyops import engine


def per_call_us(f, calls, rounds):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(calls):
            f()
        best = min(best, (time.process_time() - t0) / calls * 1e6)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, y = (rng.random(args.n).astype("float32") for _ in range(2))

    def record():
        return (lo.convert_to_tensor(x) * 2 + y) * 0.5 - x

    fn = lo.function(lambda a, b: (a * 2 + b) * 0.5 - a)
    cases = {
        "numpy": lambda: (x * 2 + y) * 0.5 - x,
        "record": record,
        "record+force": lambda: record().numpy(),
        "function": lambda: fn(x, y),
    }
    want = cases["numpy"]()
    for name in ("record+force", "function"):  # warm as a long loop is (see bench_core.settle)
        # hot_seconds counts run time only; these forces are mostly recording
        end = time.perf_counter() + min(2.0, 20 * lo.config.get("hot_seconds"))
        while time.perf_counter() < end:
            cases[name]()
        lo.wait_for_kernels()
        for _ in range(8):
            cases[name]()
    for name in ("record+force", "function"):
        np.testing.assert_allclose(np.asarray(cases[name]()), want, rtol=1e-6)
    us = {k: per_call_us(f, args.calls, args.rounds) for k, f in cases.items()}
    for k, v in us.items():
        print(f"{k:>13}: {v:8.1f} us per call   ({us['numpy'] / v:.3f}x NumPy)")
    plan = engine.plan_of([record()._value])[0]
    print(f"the chain's plan runs {'compiled' if plan.small else 'on the NumPy interpreter'} "
          "(its measured faster path)")


if __name__ == "__main__":
    main()
