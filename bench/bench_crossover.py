"""Where compiled kernels start to beat the NumPy interpreter path.

For the chain `(x*2+y)*0.5-x` and the reduction `sum((x-y)**2)` at growing
sizes, times one force (record + run) on each path and NumPy eager, as
medians of interleaved rounds. The `small_work` setting should sit where the
compiled path starts winning.

    python bench/bench_crossover.py [--repeats 30]
"""
import argparse
import time

import numpy as np

import lazyops as lo

SIZES = [100, 1_000, 4_000, 16_000, 32_000, 64_000, 256_000, 1_000_000]


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'workload':<8}{'n':>10}{'numpy':>11}{'interp':>11}{'compiled':>11}  faster path")
    for name in ("chain", "sumsq"):
        for n in SIZES:
            xa = rng.standard_normal(n, dtype=np.float32)
            ya = rng.standard_normal(n, dtype=np.float32)
            x, y = lo.convert_to_tensor(xa), lo.convert_to_tensor(ya)
            if name == "chain":
                def lazy():
                    return ((x * 2 + y) * 0.5 - x).numpy()

                def eager():
                    return (xa * 2 + ya) * 0.5 - xa
            else:
                def lazy():
                    return lo.sum((x - y) ** 2).numpy()

                def eager():
                    return np.sum((xa - ya) ** 2)
            runs = {"numpy": eager}
            for path, work in (("interp", 1 << 62), ("compiled", 0)):
                def run(work=work):
                    with lo.config.override(small_work=work):
                        lazy()
                runs[path] = run
            for f in runs.values():
                f()
            ts = {k: [] for k in runs}
            for _ in range(args.repeats):
                for k, f in runs.items():
                    ts[k].append(timed(f))
            med = {k: float(np.median(v)) for k, v in ts.items()}
            best = "compiled" if med["compiled"] < med["interp"] else "interp"
            print(f"{name:<8}{n:>10}" + "".join(f"{med[k] * 1e6:>9.1f}us" for k in runs) + f"  {best}")


if __name__ == "__main__":
    main()
