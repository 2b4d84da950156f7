"""Benchmark codegen.mathlib against NumPy and Numba's own np.<fn> in a prange loop.

    python bench/bench_mathlib.py [--n 10000000] [--repeat 7] [--funcs exp,log,tanh] [--all]

For every function and dtype (float32, float64) it times, on n elements:
  numpy    np.<fn>(a, out=o)                      (one thread)
  numba    @njit(parallel=True) prange loop calling np.<fn>
  mathlib  the same prange loop calling codegen.mathlib.<fn>
  ml-1t    a plain (serial) @njit loop calling codegen.mathlib.<fn>
and prints the median wall time of --repeat runs (and the minimum, which is
less sensitive to other processes on a shared machine) and the ratios
numpy/mathlib and numba/mathlib of the medians (> 1 means mathlib is faster).
On a loaded machine the prange timings mostly measure scheduling, so it also
prints the CPU time (time.thread_time, min) of the two single-threaded runs,
numpy and ml-1t, and their ratio: that compares the code per core.  It also checks
in the LLVM IR of each mathlib loop that the loop was vectorized (vector type
of the element dtype, e.g. <16 x float>) and that no libm call is left.
"""
import argparse
import os
import re
import sys
import time

import numpy as np
import numba
from numba import njit, prange

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from codegen import mathlib  # noqa: E402

# Input distributions: typical magnitudes (no denormal results, which cost a
# microcode assist per element on x86 whichever implementation produces them).
INPUTS = {
    "exp": lambda rng, n: rng.uniform(-10, 10, n),
    "expm1": lambda rng, n: rng.uniform(-10, 10, n),
    "log": lambda rng, n: np.exp(rng.uniform(-20, 20, n)),
    "log1p": lambda rng, n: np.exp(rng.uniform(-20, 5, n)) - 0.5,
    "log2": lambda rng, n: np.exp(rng.uniform(-20, 20, n)),
    "log10": lambda rng, n: np.exp(rng.uniform(-20, 20, n)),
    "tanh": lambda rng, n: rng.uniform(-5, 5, n),
    "sin": lambda rng, n: rng.uniform(-100, 100, n),
    "cos": lambda rng, n: rng.uniform(-100, 100, n),
}

_LOOP_SRC = """
def loop(a, out):
    for i in prange(a.shape[0]):
        out[i] = fn(a[i])
"""


def make_loop(fn, parallel=True):
    ns = {"prange": prange if parallel else range, "fn": fn}
    exec(_LOOP_SRC, ns)
    return njit(parallel=parallel)(ns["loop"])


def timeit(f, repeat):
    """(median wall, min wall, min CPU time of this thread) in seconds."""
    f()
    ts, cs = [], []
    for _ in range(repeat):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
        cs.append(time.thread_time() - c0)
    return float(np.median(ts)), float(np.min(ts)), float(np.min(cs))


def check_vectorized(loop, dtype):
    sig = [s for s in loop.signatures if s[0].dtype == numba.from_dtype(np.dtype(dtype))][0]
    ir = loop.inspect_llvm(sig)
    elt = "float" if dtype == np.float32 else "double"
    widths = sorted({int(w) for w in re.findall(r"<(\d+) x %s>" % elt, ir)})
    libm = sorted(set(re.findall(r"call [^@\n]*@(llvm\.(?:exp|exp2|log|log2|log10|sin|cos|pow)"
                                 r"\.[fv]\w*|(?:exp|expm1|log|log1p|log2|log10|tanh|sin|cos)f?)\(",
                                 ir)))
    return widths, libm


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--funcs", default="exp,log,tanh")
    ap.add_argument("--all", action="store_true", help="all mathlib functions")
    args = ap.parse_args(argv)
    funcs = list(INPUTS) if args.all else args.funcs.split(",")
    rng = np.random.default_rng(0)
    print(f"n={args.n}  threads={numba.get_num_threads()}  numba {numba.__version__}  "
          f"numpy {np.__version__}  load average {os.getloadavg()[0]:.1f}")
    print(f"times in ms: median of {args.repeat} (min in parentheses); ratios of medians")
    print(f"{'func':6s} {'dtype':8s} {'numpy':>14s} {'numba':>14s} {'mathlib':>14s} "
          f"{'ml-1t':>14s} {'np/ml':>6s} {'nb/ml':>6s} | {'cpu:np':>7s} {'ml-1t':>7s} "
          f"{'np/ml':>6s}  vector widths, libm calls (ml loop)")
    for name in funcs:
        npf = getattr(np, name)
        nb_loop = make_loop(npf)
        ml_loop = make_loop(getattr(mathlib, name))
        ml_serial = make_loop(getattr(mathlib, name), parallel=False)
        base = INPUTS[name](rng, args.n)
        for dtype in (np.float32, np.float64):
            a = base.astype(dtype)
            o = np.empty_like(a)
            t_np = timeit(lambda: npf(a, out=o), args.repeat)
            t_nb = timeit(lambda: nb_loop(a, o), args.repeat)
            t_ml = timeit(lambda: ml_loop(a, o), args.repeat)
            t_1t = timeit(lambda: ml_serial(a, o), args.repeat)
            widths, libm = check_vectorized(ml_loop, dtype)
            cell = lambda t: f"{t[0] * 1e3:6.2f} ({t[1] * 1e3:5.2f})"
            print(f"{name:6s} {np.dtype(dtype).name:8s} {cell(t_np):>14s} {cell(t_nb):>14s} "
                  f"{cell(t_ml):>14s} {cell(t_1t):>14s} {t_np[0] / t_ml[0]:6.2f} "
                  f"{t_nb[0] / t_ml[0]:6.2f} | {t_np[2] * 1e3:7.2f} {t_1t[2] * 1e3:7.2f} "
                  f"{t_np[2] / t_1t[2]:6.2f}  {widths} {libm if libm else 'no libm'}")


if __name__ == "__main__":
    main()
