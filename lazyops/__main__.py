"""`python -m lazyops demo [--size N]`: a fused pipeline, its explain(), and
its speed against NumPy eager."""
import argparse
import time

import numpy as np

import lazyops as lo


def _median_time(f, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def demo(size, repeats):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(size, dtype=np.float32)
    ya = rng.standard_normal(size, dtype=np.float32)
    x, y = lo.convert_to_tensor(xa), lo.convert_to_tensor(ya)

    def lazy_chain():
        return ((x * 2 + y) * 0.5 - x).numpy()

    def numpy_chain():
        return (xa * 2 + ya) * 0.5 - xa

    def lazy_sumsq():
        return lo.sum((x - y) ** 2).numpy()

    def numpy_sumsq():
        return np.sum((xa - ya) ** 2)

    print(f"lazyops demo: {size:,} float32 elements\n")
    lo.explain((x * 2 + y) * 0.5 - x)
    print()
    rows = []
    for name, lz, ref in [("(x*2+y)*0.5-x", lazy_chain, numpy_chain),
                          ("sum((x-y)**2)", lazy_sumsq, numpy_sumsq)]:
        t0 = time.perf_counter()
        got = lz()
        first = time.perf_counter() - t0
        np.testing.assert_allclose(got, ref(), rtol=1e-4)
        lo.wait_for_kernels()  # the first call ran on NumPy while they compiled
        np.testing.assert_allclose(lz(), ref(), rtol=1e-4)
        # interleave the two contenders so machine noise hits both alike
        t_lz, t_np = [], []
        for _ in range(repeats):
            t_lz.append(_median_time(lz, 1))
            t_np.append(_median_time(ref, 1))
        rows.append((name, first, np.median(t_lz), np.median(t_np)))
    print(f"{'pipeline':<16}{'first call':>12}{'lazyops':>12}{'NumPy':>12}{'speed-up':>10}")
    for name, first, tl, tn in rows:
        print(f"{name:<16}{first * 1e3:>10.1f}ms{tl * 1e3:>10.2f}ms{tn * 1e3:>10.2f}ms{tn / tl:>9.2f}x")
    info = lo.cache_info()
    print(f"\nkernels compiled: {info['compiles']}, loaded from disk cache: {info['disk_loads']}, "
          f"compile time {info['compile_time']:.2f} s (in the background: the first call runs "
          f"on the NumPy interpreter while its kernels compile)")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lazyops")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run a fused pipeline, explain it and time it against NumPy")
    d.add_argument("--size", type=int, default=10_000_000)
    d.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    if args.cmd == "demo":
        demo(args.size, args.repeats)


if __name__ == "__main__":
    main()
