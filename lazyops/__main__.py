"""`python -m lazyops`: `demo` (a fused pipeline, its explain() and its speed
against NumPy eager), `info` (versions, threads, kernel cache, devices) and
`cache clear`. The demo's pipeline lines are its user code: explain() shows
them as `__main__.py` locations."""
import argparse
import os
import re
import shutil
import sys
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
    print(lo.explain((x * 2 + y) * 0.5 - x, show=["summary", "source"]))
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
    print(f"\nkernels compiled: {info['compiles']} ({info['compile_time']:.2f} s), loaded from "
          f"disk cache: {info['disk_loads']} ({info['load_time']:.2f} s); in the background: "
          "the first call runs on the NumPy interpreter while its kernels compile")


def info():
    """Versions, threads, the kernel cache and the devices."""
    import llvmlite
    import numba
    from .codegen.cache import cache_dir
    here = cache_dir()
    root = os.path.dirname(here)
    size, kernels = _usage(_cache_folders(root))
    print(f"lazyops {lo.__version__}, numba {numba.__version__}, llvmlite "
          f"{llvmlite.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"threads: {numba.get_num_threads()}, {_threading_layer()} threading layer")
    print(f"kernel cache: {root}: {size / 1e6:.1f} MB, {kernels} kernel(s); this version's "
          f"folder {os.path.basename(here)}: {_usage([here])[1]} kernel(s)")
    print(f"devices: {', '.join(_devices())}")


def _threading_layer():
    """The layer Numba's parallel kernels run on (known once one has run)."""
    import numba

    @numba.njit(parallel=True, cache=False)
    def touch(n):
        total = 0
        for i in numba.prange(n):
            total += i
        return total
    touch(2)
    return numba.threading_layer()


def _devices():
    devices = ["cpu"]
    try:
        from numba import cuda
        if cuda.is_available():
            devices += [f"cuda:{g.id} ({g.name.decode() if isinstance(g.name, bytes) else g.name})"
                        for g in cuda.gpus]
    except Exception:  # noqa: BLE001 - no CUDA driver or toolkit: CPU only
        pass
    return devices


def clear_cache():
    """Remove the kernel cache's versioned folders (only those: the root may
    be a folder the user shares with other files)."""
    from .codegen.cache import cache_dir
    root = os.path.dirname(cache_dir())
    folders = _cache_folders(root)
    size, kernels = _usage(folders)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    left = _usage(_cache_folders(root))
    print(f"kernel cache {root}: removed {len(folders)} folder(s), {kernels - left[1]} "
          f"kernel(s), freed {(size - left[0]) / 1e6:.1f} MB")


# the versioned folders lazyops makes in the cache root (see `codegen.cache.cache_dir`)
_VERSIONED = re.compile(r"^v[0-9].*-numba.*-numpy.*-py[0-9]+(-zmm)?$")


def _cache_folders(root):
    try:
        names = sorted(os.listdir(root))
    except OSError:  # no cache yet
        return []
    return [os.path.join(root, n) for n in names
            if _VERSIONED.match(n) and os.path.isdir(os.path.join(root, n))]


def _usage(folders):
    """(bytes, kernels) in `folders`."""
    size = kernels = 0
    for top in folders:
        for dirpath, _, files in os.walk(top):
            for f in files:
                try:
                    size += os.path.getsize(os.path.join(dirpath, f))
                except OSError:  # removed meanwhile by another process
                    continue
                kernels += f.startswith("lazyops_kernel_") and f.endswith(".py")
    return size, kernels


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lazyops",
                                description="lazyops: keras.ops as a lazy, fusing engine")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="{demo,info,cache}")
    d = sub.add_parser("demo", help="run a fused pipeline, explain it and time it against NumPy")
    d.add_argument("--size", type=int, default=10_000_000)
    d.add_argument("--repeats", type=int, default=15)
    sub.add_parser("info", help="versions, threads, the kernel cache folder and size, devices")
    c = sub.add_parser("cache", help="the kernel cache: `cache clear` empties it")
    c.add_argument("action", choices=["clear"])
    args = p.parse_args(argv)
    if args.cmd == "demo":
        demo(args.size, args.repeats)
    elif args.cmd == "info":
        info()
    else:
        clear_cache()


if __name__ == "__main__":
    main()
