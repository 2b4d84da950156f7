#!/usr/bin/env python
"""Concatenations fused with the work around them: `concatenate`, `pad`
(constant and reflect) and `roll` pipelines against NumPy eager, NumPy arrays in and a NumPy array out,
conversion inside the timed call; contenders interleaved, min over repeats.

    python bench/bench_concat.py [--repeats 7]
"""
import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "numpy")

import numpy as np  # noqa: E402


def cases(lo, rng):
    a, b = (rng.standard_normal(5_000_000, dtype=np.float32) for _ in range(2))
    x = rng.standard_normal((3000, 3000), dtype=np.float32)
    y = rng.standard_normal(10_000_000, dtype=np.float32)
    return {
        "concatenate([exp(a), b*2]) + 1, 2 x 5M": (
            lambda: (lo.concatenate([lo.exp(a), lo.convert_to_tensor(b) * 2]) + 1).numpy(),
            lambda: np.concatenate([np.exp(a), b * 2]) + 1),
        "pad(exp(x), 1) * 2, 3000x3000": (
            lambda: (lo.pad(lo.exp(x), 1) * 2).numpy(), lambda: np.pad(np.exp(x), 1) * 2),
        "pad(exp(x), 3, mode='reflect') * 2, 3000x3000": (
            lambda: (lo.pad(lo.exp(x), 3, mode="reflect") * 2).numpy(),
            lambda: np.pad(np.exp(x), 3, mode="reflect") * 2),
        "roll(y*2, 3) + 1, 10M": (
            lambda: (lo.roll(lo.convert_to_tensor(y) * 2, 3) + 1).numpy(),
            lambda: np.roll(y * 2, 3) + 1),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    import lazyops as lo
    for name, (lazy, eager) in cases(lo, np.random.default_rng(0)).items():
        np.testing.assert_allclose(lazy(), eager(), rtol=1e-6, err_msg=name)
        lo.wait_for_kernels()
        for _ in range(3):
            lazy()
        best = {"lazyops": float("inf"), "numpy": float("inf")}
        for _ in range(args.repeats):
            for k, f in (("lazyops", lazy), ("numpy", eager)):
                t0 = time.perf_counter()
                f()
                best[k] = min(best[k], time.perf_counter() - t0)
        print(f"{name}: lazyops {best['lazyops'] * 1e3:.2f} ms, NumPy {best['numpy'] * 1e3:.2f} ms, "
              f"{best['numpy'] / best['lazyops']:.2f}x NumPy")


if __name__ == "__main__":
    main()
