#!/usr/bin/env python
"""Core benchmark: lazyops against NumPy eager, numexpr, JAX (CPU jit) and
hand-written Numba kernels, side by side, on five workloads.

    python bench/bench_core.py                        # all workloads, 10M elements
    python bench/bench_core.py --size 2_000_000 --repeats 7 --json out.json
    python bench/bench_core.py --only chain,sumsq

Every contender is checked against a float64 NumPy reference before it is
timed; a contender that fails to import, fails to run or gives a wrong answer
is reported as such and the others go on.  See bench/README.md for what the
columns mean.

Timing method
-------------
* Per workload, each contender is called once (correctness check; this first
  call is also recorded as ``first_call_inproc_s`` in the JSON), then
  ``--warmup`` more times.  The number of calls per sample is calibrated so one
  sample lasts at least ``--min-sample-ms``.
* Then ``--repeats`` rounds: in each round every contender takes one sample;
  the order is rotated from round to round so slow drifts of the shared
  machine hit every contender alike.  Reported: median (and min, IQR) of the
  per-call times over the rounds.  The garbage collector is off while timing.
* "lazyops 1st" is the first call in a *fresh subprocess*: import lazyops,
  build the input tensors, then time one record+compile+run of the
  expression.  The subprocess gets empty NUMBA_CACHE_DIR and LAZYOPS_CACHE_DIR
  so no on-disk cache can make it warm.  "lazyops 1st/d" is the same with the
  normal on-disk caches, primed by one untimed subprocess
  (``--first-call-cache cold|disk|both``, default both).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# benchmark the working tree's lazyops (the script's own folder is sys.path[0])
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(1, _REPO_ROOT)

import numpy as np

FIRST_CALL_MARK = "@@LAZYOPS_FIRST_CALL@@ "
F32 = np.float32


# --------------------------------------------------------------------------
# workloads
# --------------------------------------------------------------------------

class Workload:
    def __init__(self, name, desc, shape, bytes_per_elem, rtol, atol_rel,
                 reduction=False):
        self.name = name
        self.desc = desc
        self.shape = shape
        # bytes a perfect fused kernel must move per element (inputs read once,
        # output written once); None = not bandwidth-relevant
        self.bytes_per_elem = bytes_per_elem
        self.rtol = rtol
        # absolute tolerance, relative to max|reference|
        self.atol_rel = atol_rel
        self.reduction = reduction

    @property
    def n(self):
        return int(np.prod(self.shape))


def make_workloads(args):
    n = args.size
    r, c = args.softmax_shape
    return {
        "chain": Workload("chain", "(x*2+y)*0.5-x", (n,), 12, 1e-4, 1e-5),
        "sumsq": Workload("sumsq", "sum((x-y)**2)", (n,), 8, 1e-4, 0.0,
                          reduction=True),
        "latency": Workload("latency", "(x*2+y)*0.5-x, per call",
                            (args.latency_size,), None, 1e-4, 1e-5),
        "softmax_rows": Workload(
            "softmax_rows",
            "e=exp(x-max(x,1,keepdims)); e/sum(e,1,keepdims)", (r, c), 8,
            1e-4, 1e-5),
        # sqrt near 0 turns float32 rounding (~6e-8 absolute) of its argument
        # into ~sqrt(6e-8)=2.4e-4 absolute error, so the atol is looser here.
        "transcendental": Workload(
            "transcendental", "sqrt(abs(sin(x)*2+cos(y)**2-0.5))*exp(-x*x)",
            (n,), 12, 1e-4, 1e-3),
    }


def make_inputs(wl, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(wl.shape, dtype=np.float32)
    y = rng.standard_normal(wl.shape, dtype=np.float32)
    return x, y


def reference(wl, x, y):
    """float64 NumPy reference, computed from the float32 inputs."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    if wl.name in ("chain", "latency"):
        return (x * 2 + y) * 0.5 - x
    if wl.name == "sumsq":
        return np.sum((x - y) ** 2)
    if wl.name == "softmax_rows":
        e = np.exp(x - np.max(x, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)
    if wl.name == "transcendental":
        return np.sqrt(np.abs(np.sin(x) * 2 + np.cos(y) ** 2 - 0.5)) * np.exp(-x * x)
    raise KeyError(wl.name)


# --------------------------------------------------------------------------
# contenders: each builder returns a zero-argument callable or raises
# --------------------------------------------------------------------------

def build_numpy(wl, x, y):
    if wl.name in ("chain", "latency"):
        return lambda: (x * 2 + y) * 0.5 - x
    if wl.name == "sumsq":
        return lambda: np.sum((x - y) ** 2)
    if wl.name == "softmax_rows":
        def run():
            e = np.exp(x - np.max(x, axis=1, keepdims=True))
            return e / np.sum(e, axis=1, keepdims=True)
        return run
    if wl.name == "transcendental":
        return lambda: np.sqrt(np.abs(np.sin(x) * 2 + np.cos(y) ** 2 - 0.5)) * np.exp(-x * x)
    raise KeyError(wl.name)


_LO = None
_LO_ERR = None


def import_lazyops():
    global _LO, _LO_ERR
    if _LO is None and _LO_ERR is None:
        try:
            import lazyops  # noqa: F401
            if getattr(lazyops, "__file__", None) is None:
                raise ImportError("lazyops is an empty namespace package "
                                  "(no lazyops/__init__.py yet)")
            _LO = lazyops
        except BaseException as e:  # SyntaxError, half-written package, ...
            if isinstance(e, KeyboardInterrupt):
                raise
            _LO_ERR = f"import lazyops failed: {type(e).__name__}: {e}"
    if _LO is None:
        raise RuntimeError(_LO_ERR)
    return _LO


def build_lazyops(wl, x, y):
    lo = import_lazyops()
    xt = lo.convert_to_tensor(x)
    yt = lo.convert_to_tensor(y)
    # every call records the expression from the tensor handles and forces it
    if wl.name in ("chain", "latency"):
        return lambda: ((xt * 2 + yt) * 0.5 - xt).numpy()
    if wl.name == "sumsq":
        return lambda: lo.sum((xt - yt) ** 2).numpy()
    if wl.name == "softmax_rows":
        def run():
            e = lo.exp(xt - lo.max(xt, axis=1, keepdims=True))
            return (e / lo.sum(e, axis=1, keepdims=True)).numpy()
        return run
    if wl.name == "transcendental":
        return lambda: (lo.sqrt(lo.abs(lo.sin(xt) * 2 + lo.cos(yt) ** 2 - 0.5))
                        * lo.exp(-xt * xt)).numpy()
    raise KeyError(wl.name)


def build_numexpr(wl, x, y):
    import numexpr as ne
    # constants are passed as float32 scalars: numexpr treats literal 0.5 as
    # double and would silently compute (and return) float64.
    d = {"x": x, "y": y, "c2": F32(2.0), "ch": F32(0.5)}
    if wl.name in ("chain", "latency"):
        return lambda: ne.evaluate("(x*c2+y)*ch-x", local_dict=d)
    if wl.name == "sumsq":
        return lambda: ne.evaluate("sum((x-y)**2)", local_dict=d)
    if wl.name == "softmax_rows":
        # hybrid: numexpr has no max-reduction and its axis sums are slow, so
        # the row reductions are NumPy and the element-wise parts numexpr.
        def run():
            m = np.max(x, axis=1, keepdims=True)
            e = ne.evaluate("exp(x-m)", local_dict={"x": x, "m": m})
            s = np.sum(e, axis=1, keepdims=True)
            return ne.evaluate("e/s", local_dict={"e": e, "s": s})
        return run
    if wl.name == "transcendental":
        return lambda: ne.evaluate(
            "sqrt(abs(sin(x)*c2+cos(y)**2-ch))*exp(-x*x)", local_dict=d)
    raise KeyError(wl.name)


def build_jax(wl, x, y):
    import jax
    import jax.numpy as jnp
    xj = jax.device_put(x)
    yj = jax.device_put(y)
    if wl.name in ("chain", "latency"):
        f = jax.jit(lambda a, b: (a * 2 + b) * 0.5 - a)
    elif wl.name == "sumsq":
        f = jax.jit(lambda a, b: jnp.sum((a - b) ** 2))
    elif wl.name == "softmax_rows":
        def sm(a, b):
            e = jnp.exp(a - jnp.max(a, axis=1, keepdims=True))
            return e / jnp.sum(e, axis=1, keepdims=True)
        f = jax.jit(sm)
    elif wl.name == "transcendental":
        f = jax.jit(lambda a, b: jnp.sqrt(jnp.abs(jnp.sin(a) * 2 + jnp.cos(b) ** 2 - 0.5))
                    * jnp.exp(-a * a))
    else:
        raise KeyError(wl.name)
    return lambda: f(xj, yj).block_until_ready()


_NUMBA_KERNELS = {}


def numba_kernels(fastmath):
    """Hand-written kernels: flat prange loops, float32 constants (a float64
    literal would promote the whole expression to float64 in Numba)."""
    if fastmath in _NUMBA_KERNELS:
        return _NUMBA_KERNELS[fastmath]
    from numba import njit, prange

    two = F32(2.0)
    half = F32(0.5)

    @njit(parallel=True, fastmath=fastmath)
    def chain(x, y, out):
        for i in prange(x.size):
            out[i] = (x[i] * two + y[i]) * half - x[i]

    @njit(parallel=True, fastmath=fastmath)
    def sumsq(x, y):
        acc = 0.0  # float64 accumulator
        for i in prange(x.size):
            d = x[i] - y[i]
            acc += d * d
        return acc

    @njit(parallel=True, fastmath=fastmath)
    def softmax_rows(x, out):
        rows, cols = x.shape
        for r in prange(rows):
            m = x[r, 0]
            for j in range(1, cols):
                if x[r, j] > m:
                    m = x[r, j]
            s = F32(0.0)
            for j in range(cols):
                e = math.exp(x[r, j] - m)
                out[r, j] = e
                s += e
            for j in range(cols):
                out[r, j] = out[r, j] / s

    @njit(parallel=True, fastmath=fastmath)
    def transcendental(x, y, out):
        for i in prange(x.size):
            a = x[i]
            c = math.cos(y[i])
            out[i] = math.sqrt(abs(math.sin(a) * two + c * c - half)) * math.exp(-a * a)

    k = dict(chain=chain, sumsq=sumsq, softmax_rows=softmax_rows,
             transcendental=transcendental)
    _NUMBA_KERNELS[fastmath] = k
    return k


def build_numba(wl, x, y, fastmath=True):
    k = numba_kernels(fastmath)
    if wl.name in ("chain", "latency"):
        kern = k["chain"]

        def run():
            out = np.empty_like(x)
            kern(x, y, out)
            return out
        return run
    if wl.name == "sumsq":
        kern = k["sumsq"]
        return lambda: F32(kern(x, y))
    if wl.name == "softmax_rows":
        kern = k["softmax_rows"]

        def run():
            out = np.empty_like(x)
            kern(x, out)
            return out
        return run
    if wl.name == "transcendental":
        kern = k["transcendental"]

        def run():
            out = np.empty_like(x)
            kern(x, y, out)
            return out
        return run
    raise KeyError(wl.name)


CONTENDERS = ["numpy", "lazyops", "numexpr", "jax", "numba"]
LABELS = {
    "numpy": "numpy eager",
    "lazyops": "lazyops warm",
    "lazyops_first": "lazyops 1st",
    "lazyops_first_disk": "lazyops 1st/d",
    "numexpr": "numexpr",
    "jax": "jax jit",
    "numba": "numba njit",
    "copyto": "[np.copyto]",
    "copy_fresh": "[x.copy()]",
}
SUMMARY_ORDER = ["lazyops", "lazyops_first", "lazyops_first_disk", "numexpr", "jax",
                 "numba"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def err_str(e):
    s = f"{type(e).__name__}: {e}".strip().splitlines()
    s = s[0] if s else type(e).__name__
    return s if len(s) <= 300 else s[:297] + "..."


def fmt_t(t):
    if t is None or not math.isfinite(t):
        return "-"
    if t >= 1:
        return f"{t:.3g} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    if t >= 1e-6:
        return f"{t * 1e6:.3g} us"
    return f"{t * 1e9:.3g} ns"


def fmt_x(r):
    if r is None or not math.isfinite(r):
        return "-"
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    if r >= 0.01:
        return f"{r:.2f}x"
    return f"{r:.1e}x"


def check_result(wl, out, ref):
    """Return (status, detail). status is 'ok', 'ok*' (right values, other
    dtype) or 'MISMATCH'."""
    try:
        a = np.asarray(out)
    except Exception as e:  # noqa: BLE001
        return "MISMATCH", f"not convertible to ndarray: {err_str(e)}"
    if wl.reduction:
        if a.size != 1:
            return "MISMATCH", f"expected a scalar, got shape {a.shape}"
        v = float(a.reshape(()))
        r = float(ref)
        rel = abs(v - r) / max(abs(r), 1e-300)
        if not math.isfinite(v) or rel > wl.rtol:
            return "MISMATCH", f"got {v:.9g}, want {r:.9g} (rel err {rel:.2e} > {wl.rtol:g})"
        detail = f"rel err {rel:.1e}"
    else:
        if a.shape != ref.shape:
            return "MISMATCH", f"shape {a.shape}, want {ref.shape}"
        af = a.astype(np.float64, copy=False)
        atol = wl.atol_rel * float(np.max(np.abs(ref)))
        bad = ~np.isclose(af, ref, rtol=wl.rtol, atol=atol)
        nbad = int(np.count_nonzero(bad))
        with np.errstate(invalid="ignore"):
            maxerr = float(np.nanmax(np.abs(af - ref))) if a.size else 0.0
        if nbad:
            return "MISMATCH", (f"{nbad}/{a.size} elements off (rtol {wl.rtol:g}, "
                                f"atol {atol:.2g}), max abs err {maxerr:.3g}")
        detail = f"max abs err {maxerr:.1e}"
    if a.dtype != np.float32:
        return "ok*", f"values ok but dtype {a.dtype} (not float32); {detail}"
    return "ok", detail


def busy_neighbours():
    """Runnable tasks on the machine that are not threads of this process
    (procs_running from /proc/stat minus our own running threads); None where
    /proc is unavailable.  Only an indicator: it is read between samples."""
    try:
        with open("/proc/stat") as f:
            total = next(int(l.split()[1]) for l in f if l.startswith("procs_running"))
        own = 0
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            if st[st.rindex(")") + 2] == "R":
                own += 1
        return max(0, total - own)
    except Exception:  # noqa: BLE001
        return None


def calibrate(fn, min_sample_s, warmup):
    ts = []
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    t1 = max(min(ts), 1e-9)
    return max(1, min(1_000_000, int(math.ceil(min_sample_s / t1))))


def sample(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def stats(samples):
    s = np.asarray(samples, dtype=np.float64)
    return {
        "median_s": float(np.median(s)),
        "min_s": float(s.min()),
        "p25_s": float(np.percentile(s, 25)),
        "p75_s": float(np.percentile(s, 75)),
        "samples_s": [float(v) for v in s],
    }


# --------------------------------------------------------------------------
# lazyops first call in a fresh subprocess
# --------------------------------------------------------------------------

def child_first_call(args):
    """Runs in the subprocess: print one JSON line with the first-call time."""
    res = {}
    try:
        wl = make_workloads(args)[args._first_call]
        x, y = make_inputs(wl, args.seed)
        t0 = time.perf_counter()
        try:
            lo = import_lazyops()
        finally:
            res["import_s"] = time.perf_counter() - t0
        fn = build_lazyops(wl, x, y)
        t0 = time.perf_counter()
        out = fn()
        res["first_call_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fn()
        res["second_call_s"] = time.perf_counter() - t0
        res["check"], res["check_detail"] = check_result(wl, out, reference(wl, x, y))
        try:
            res["cache_info"] = jsonable(lo.cache_info())
        except Exception as e:  # noqa: BLE001
            res["cache_info_error"] = err_str(e)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        res["error"] = err_str(e)
        res["traceback"] = traceback.format_exc(limit=6)
    sys.stdout.flush()
    print(FIRST_CALL_MARK + json.dumps(res), flush=True)


def run_first_call_subprocess(args, wl_name, cache_mode):
    """cache_mode 'cold': empty NUMBA_CACHE_DIR and LAZYOPS_CACHE_DIR, so the
    first call compiles from scratch.  'disk': the normal cache directories,
    primed by one untimed subprocess, so the first call measures a new process
    that finds its kernels on disk."""
    cmd = [sys.executable, os.path.abspath(__file__), "--_first-call", wl_name,
           "--size", str(args.size), "--seed", str(args.seed),
           "--latency-size", str(args.latency_size),
           "--softmax-shape", "x".join(map(str, args.softmax_shape))]
    env = dict(os.environ)

    def one():
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                               timeout=args.first_call_timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"subprocess timed out after {args.first_call_timeout}s"}
        wall = time.perf_counter() - t0
        for line in reversed(p.stdout.splitlines()):
            if line.startswith(FIRST_CALL_MARK):
                res = json.loads(line[len(FIRST_CALL_MARK):])
                res["subprocess_wall_s"] = wall
                return res
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-3:]
        return {"error": f"subprocess rc={p.returncode}: " + " | ".join(tail)}

    if cache_mode == "disk":
        one()  # prime the on-disk caches
        return one()
    with tempfile.TemporaryDirectory(prefix="lazyops_bench_cold_") as cache:
        env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
        env["LAZYOPS_CACHE_DIR"] = os.path.join(cache, "lazyops")
        return one()


FIRST_CALL_MODES = {
    "lazyops_first": ("cold", "fresh subprocess, empty NUMBA_CACHE_DIR and "
                              "LAZYOPS_CACHE_DIR (compiles from scratch)"),
    "lazyops_first_disk": ("disk", "fresh subprocess, on-disk kernel caches primed "
                                   "by an untimed subprocess"),
}


def jsonable(obj):
    try:
        json.dumps(obj)
        return obj
    except TypeError:
        if isinstance(obj, dict):
            return {str(k): jsonable(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [jsonable(v) for v in obj]
        return repr(obj)


# --------------------------------------------------------------------------
# one workload
# --------------------------------------------------------------------------

def run_workload(wl, args, contenders):
    la = loadavg()
    print(f"\n=== {wl.name}: {wl.desc}   shape={wl.shape} float32"
          f"   (load avg {la[0] if la else '?'}) ===", flush=True)
    x, y = make_inputs(wl, args.seed)
    ref = reference(wl, x, y)
    res = {"description": wl.desc, "shape": list(wl.shape), "n": wl.n,
           "dtype": "float32", "loadavg_before": la, "contenders": {}}
    C = res["contenders"]

    # -- lazyops first call, fresh subprocess (before anything heavy runs here)
    if "lazyops" in contenders and args.first_call:
        try:
            import_lazyops()
        except Exception as e:  # noqa: BLE001
            for key, (mode, _) in FIRST_CALL_MODES.items():
                if args.first_call_cache in (mode, "both"):
                    C[key] = {"error": err_str(e)}
        else:
            for key, (mode, desc) in FIRST_CALL_MODES.items():
                if args.first_call_cache not in (mode, "both"):
                    continue
                print(f"  lazyops first call (fresh subprocess, {mode} cache) ...",
                      flush=True)
                fc = [run_first_call_subprocess(args, wl.name, mode)
                      for _ in range(args.first_call_repeats)]
                good = [r for r in fc if "first_call_s" in r]
                entry = {"mode": desc, "runs": fc}
                if good:
                    entry["median_s"] = float(np.median([r["first_call_s"] for r in good]))
                    entry["check"] = good[0].get("check")
                    entry["check_detail"] = good[0].get("check_detail")
                else:
                    entry["error"] = fc[0].get("error", "no result")
                C[key] = entry

    # -- build + check (the check call is the in-process first call)
    fns = {}
    for name in contenders:
        entry = C.setdefault(name, {})
        try:
            if name == "numba":
                fn = build_numba(wl, x, y, fastmath=args.fastmath)
            else:
                fn = BUILDERS[name](wl, x, y)
            t0 = time.perf_counter()
            out = fn()
            entry["first_call_inproc_s"] = time.perf_counter() - t0
            entry["check"], entry["check_detail"] = check_result(wl, out, ref)
            del out
            fns[name] = fn
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            entry["error"] = err_str(e)
            if args.verbose:
                traceback.print_exc()

    # -- bandwidth references (timed in the same rounds, not contenders)
    refs = {}
    if wl.bytes_per_elem is not None:
        dst = np.empty_like(x)
        refs["copyto"] = lambda: np.copyto(dst, x)
        refs["copy_fresh"] = lambda: x.copy()
    for name in refs:
        C[name] = {"reference": True}
    timed = {**fns, **refs}

    # -- warmup + calibration
    numbers = {}
    for name, fn in list(timed.items()):
        try:
            numbers[name] = calibrate(fn, args.min_sample_ms / 1e3, args.warmup)
            C[name]["calls_per_sample"] = numbers[name]
        except Exception as e:  # noqa: BLE001
            C[name]["error"] = err_str(e)
            timed.pop(name)

    # -- interleaved rounds
    names = list(timed)
    samples = {n: [] for n in names}
    neighbours = []
    gc.collect()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for r in range(args.repeats):
            k = r % max(1, len(names))
            for name in names[k:] + names[:k]:
                if name not in timed:
                    continue
                if args.gap_ms > 0:
                    # let the previous contender's worker threads (OpenMP,
                    # XLA, numexpr) stop spinning before this sample starts
                    time.sleep(args.gap_ms / 1e3)
                nb = busy_neighbours()
                if nb is not None:
                    neighbours.append(nb)
                try:
                    samples[name].append(sample(timed[name], numbers[name]))
                except Exception as e:  # noqa: BLE001
                    C[name]["error"] = err_str(e)
                    timed.pop(name)
    finally:
        if gc_was:
            gc.enable()
    for name in names:
        if samples[name] and name in timed:
            C[name].update(stats(samples[name]))

    if neighbours:
        res["busy_neighbour_fraction"] = sum(1 for v in neighbours if v > 0) / len(neighbours)

    # -- ratios
    t_np = C.get("numpy", {}).get("median_s")
    for name, e in C.items():
        if t_np and e.get("median_s"):
            e["speedup_vs_numpy"] = t_np / e["median_s"]
    if wl.bytes_per_elem is not None and C.get("copyto", {}).get("median_s"):
        t_copy = C["copyto"]["median_s"]
        bw = 8 * wl.n / t_copy  # copyto reads 4 B and writes 4 B per element
        bound = wl.bytes_per_elem * wl.n / bw
        res["copy_bandwidth_GBps"] = bw / 1e9
        res["bytes_moved_per_elem"] = wl.bytes_per_elem
        res["bandwidth_bound_s"] = bound
        if C.get("copy_fresh", {}).get("median_s") and not wl.reduction:
            res["alloc_bound_s"] = (C["copy_fresh"]["median_s"]
                                    * wl.bytes_per_elem / 8)
        for name, e in C.items():
            if e.get("median_s") and name not in FIRST_CALL_MODES:
                e["fraction_of_bandwidth"] = bound / e["median_s"]
    print_workload(wl, res)
    return res


BUILDERS = {"numpy": build_numpy, "lazyops": build_lazyops,
            "numexpr": build_numexpr, "jax": build_jax}


def print_workload(wl, res):
    C = res["contenders"]
    hdr = (f"  {'contender':<14}{'median':>10}{'min':>10}{'IQR%':>7}"
           f"{'speedup':>9}{'%bw':>7}  {'check':<9}{'calls':>7}")
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    order = ["numpy", "lazyops", "lazyops_first", "lazyops_first_disk", "numexpr", "jax", "numba",
             "copyto", "copy_fresh"]
    notes = []
    for name in order:
        if name not in C:
            continue
        e = C[name]
        label = LABELS[name]
        if e.get("error") and not e.get("median_s"):
            msg = e["error"] if len(e["error"]) <= 100 else e["error"][:97] + "..."
            print(f"  {label:<14}ERROR: {msg}")
            continue
        med = e.get("median_s")
        iqr = ((e["p75_s"] - e["p25_s"]) / med * 100) if "p75_s" in e else None
        bwf = e.get("fraction_of_bandwidth")
        chk = "ref" if e.get("reference") else (e.get("check") or "-")
        calls = e.get("calls_per_sample")
        print(f"  {label:<14}{fmt_t(med):>10}{fmt_t(e.get('min_s')):>10}"
              f"{(f'{iqr:.0f}' if iqr is not None else '-'):>7}"
              f"{fmt_x(e.get('speedup_vs_numpy')):>9}"
              f"{(f'{bwf * 100:.0f}' if bwf else '-'):>7}  {chk:<9}"
              f"{(str(calls) if calls else '-'):>7}")
        if chk not in ("ok", "ref", "-"):
            notes.append(f"{label}: {chk}: {e.get('check_detail')}")
        if e.get("error"):
            notes.append(f"{label}: error during timing: {e['error']}")
    for key in FIRST_CALL_MODES:
        if key not in C or "runs" not in C[key]:
            continue
        r0 = C[key]["runs"][0]
        if "first_call_s" in r0:
            notes.append(
                f"{LABELS[key]} = {C[key]['mode']}: import {fmt_t(r0.get('import_s'))}, "
                f"first call {fmt_t(r0['first_call_s'])}, second call "
                f"{fmt_t(r0.get('second_call_s'))}; cache_info "
                f"{r0.get('cache_info', r0.get('cache_info_error'))}")
    if "bandwidth_bound_s" in res:
        notes.append(
            f"bandwidth: np.copyto {res['copy_bandwidth_GBps']:.1f} GB/s (8 B/elem) -> "
            f"bound for {wl.bytes_per_elem} B/elem = {fmt_t(res['bandwidth_bound_s'])}"
            + (f"; with a fresh output allocation (x.copy() scaled) "
               f"{fmt_t(res['alloc_bound_s'])}" if "alloc_bound_s" in res else ""))
    bf = res.get("busy_neighbour_fraction")
    if bf:
        notes.append(
            f"NOISE: another process was runnable before {bf:.0%} of the samples; "
            "multi-threaded contenders (numba, numexpr, jax, lazyops) lose a core "
            "and can be many times slower -- rerun on a quiet machine or use --threads 1")
    for n in notes:
        print("  * " + n)
    sys.stdout.flush()


def print_summary(results):
    cols = ["numpy"] + [c for c in SUMMARY_ORDER if c in ("lazyops", "numexpr", "jax", "numba")
                        or any(c in r.get("contenders", {}) for r in results.values())]
    print("\n=== summary: speedup vs NumPy eager (numpy_time / time; >1 = faster"
          " than NumPy; ! = wrong result, E = error) ===")
    line = f"  {'workload':<16}{'numpy':>10}" + "".join(
        f"{LABELS[c]:>14}" for c in cols[1:]) + f"{'%bw(best)':>11}"
    print(line)
    print("  " + "-" * (len(line) - 2))
    for wname, res in results.items():
        C = res["contenders"]
        row = f"  {wname:<16}{fmt_t(C.get('numpy', {}).get('median_s')):>10}"
        for c in cols[1:]:
            e = C.get(c)
            if e is None:
                cell = "n/a"
            elif e.get("speedup_vs_numpy") is not None:
                cell = fmt_x(e["speedup_vs_numpy"])
                if e.get("check") == "MISMATCH":
                    cell += "!"
            elif e.get("error"):
                cell = "E"
            else:
                cell = "-"
            row += f"{cell:>14}"
        fr = [e.get("fraction_of_bandwidth") for k, e in C.items()
              if k in cols and e.get("fraction_of_bandwidth")]
        row += f"{(f'{max(fr) * 100:.0f}%' if fr else '-'):>11}"
        print(row)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def parse_shape(s):
    parts = s.lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("shape must be ROWSxCOLS")
    return tuple(int(p.replace("_", "")) for p in parts)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=lambda s: int(s.replace("_", "")), default=10_000_000,
                   help="elements for chain, sumsq, transcendental (default 10_000_000)")
    p.add_argument("--repeats", type=int, default=11,
                   help="timed rounds per workload; medians over these (default 11)")
    p.add_argument("--warmup", type=int, default=2,
                   help="untimed calls after the check call (default 2)")
    p.add_argument("--min-sample-ms", type=float, default=20.0,
                   help="calls per sample are calibrated to last at least this (default 20)")
    p.add_argument("--gap-ms", type=float, default=0.0,
                   help="untimed sleep before each sample (default 0)")
    p.add_argument("--only", default=None,
                   help="workload name(s), comma separated: chain,sumsq,latency,"
                        "softmax_rows,transcendental")
    p.add_argument("--contenders", default=",".join(CONTENDERS),
                   help=f"comma separated subset of {','.join(CONTENDERS)}")
    p.add_argument("--json", metavar="PATH", default=None, help="write results as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency-size", type=lambda s: int(s.replace("_", "")), default=1000)
    p.add_argument("--softmax-shape", type=parse_shape, default=(4096, 1024),
                   help="ROWSxCOLS (default 4096x1024)")
    p.add_argument("--threads", type=int, default=None,
                   help="thread count for numba (and lazyops if it uses numba), numexpr "
                        "and OpenMP; 1 also makes XLA single-threaded. Default: "
                        "each library's own default (all cores)")
    p.add_argument("--no-fastmath", dest="fastmath", action="store_false",
                   help="compile the hand-written Numba kernels with fastmath=False")
    p.add_argument("--no-first-call", dest="first_call", action="store_false",
                   help="skip the fresh-subprocess lazyops first-call measurement")
    p.add_argument("--first-call-cache", choices=["cold", "disk", "both"], default="both",
                   help="lazyops 1st: 'cold' = empty NUMBA_CACHE_DIR/LAZYOPS_CACHE_DIR "
                        "(compile from scratch), 'disk' = primed on-disk caches "
                        "(row 'lazyops 1st/d'), 'both' (default)")
    p.add_argument("--first-call-repeats", type=int, default=1,
                   help="fresh subprocesses per workload for lazyops 1st (median)")
    p.add_argument("--first-call-timeout", type=float, default=600.0)
    p.add_argument("-v", "--verbose", action="store_true", help="print tracebacks")
    p.add_argument("--_first-call", dest="_first_call", default=None,
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def meta_info(args):
    m = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "args": {k: (list(v) if isinstance(v, tuple) else v)
                 for k, v in vars(args).items() if not k.startswith("_")},
        "timing": ("median over interleaved rounds (order rotated per round), "
                   "per-call time; gc disabled while timing"),
        "lazyops_first_call_mode": {k: v[1] + "; import and input conversion excluded"
                                    for k, v in FIRST_CALL_MODES.items()},
    }
    for mod in ("numba", "numexpr", "jax", "jaxlib"):
        try:
            m[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001
            m[mod] = f"unavailable ({err_str(e)})"
    try:
        import numba
        m["numba_num_threads"] = numba.config.NUMBA_NUM_THREADS
        m["numba_using_svml"] = bool(numba.config.USING_SVML)
    except Exception:  # noqa: BLE001
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
        m["numpy_simd"] = [k for k in ("AVX2", "AVX512F", "AVX512_SKX") if feats.get(k)]
    except Exception:  # noqa: BLE001
        pass
    m["loadavg_start"] = loadavg()
    try:
        import numexpr
        m["numexpr_threads"] = numexpr.get_num_threads()
    except Exception:  # noqa: BLE001
        pass
    return m


def apply_threads(n):
    """Must run before numba / numexpr / jax are imported."""
    os.environ["NUMBA_NUM_THREADS"] = str(n)
    os.environ["NUMEXPR_NUM_THREADS"] = str(n)
    os.environ["NUMEXPR_MAX_THREADS"] = str(max(n, 1))
    os.environ["OMP_NUM_THREADS"] = str(n)
    if n == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false"
                                   " intra_op_parallelism_threads=1").strip()


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        apply_threads(args.threads)
    if args._first_call:
        child_first_call(args)
        return 0

    workloads = make_workloads(args)
    if args.only:
        want = [w.strip() for w in args.only.split(",") if w.strip()]
        bad = [w for w in want if w not in workloads]
        if bad:
            print(f"unknown workload(s) {bad}; choose from {list(workloads)}",
                  file=sys.stderr)
            return 2
        workloads = {k: workloads[k] for k in want}
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    bad = [c for c in contenders if c not in CONTENDERS]
    if bad:
        print(f"unknown contender(s) {bad}; choose from {CONTENDERS}", file=sys.stderr)
        return 2
    if "numpy" not in contenders:
        contenders.insert(0, "numpy")  # the baseline of every ratio

    meta = meta_info(args)
    print("lazyops core benchmark")
    print(f"  python {meta['python']}, numpy {meta['numpy']}, numba {meta['numba']}, "
          f"numexpr {meta['numexpr']}, jax {meta['jax']}; {meta['cpu_count']} CPUs; "
          f"numba fastmath={args.fastmath}, SVML={meta.get('numba_using_svml')}, "
          f"threads={meta.get('numba_num_threads')}; numpy SIMD {meta.get('numpy_simd')}; "
          f"load avg {meta['loadavg_start']}")
    print(f"  {args.repeats} interleaved rounds, {args.warmup} warmups, "
          f">= {args.min_sample_ms:g} ms per sample; times are per call")
    print("  lazyops 1st = first call in a fresh subprocess (record + compile + run,"
          " import excluded) with empty kernel caches; lazyops 1st/d = same with the"
          " on-disk caches primed" if args.first_call else "  lazyops 1st: skipped")
    if "lazyops" in contenders:
        try:
            lo = import_lazyops()
            meta["lazyops"] = getattr(lo, "__version__", "?")
            print(f"  lazyops imported from {getattr(lo, '__file__', '?')}")
        except Exception as e:  # noqa: BLE001
            meta["lazyops"] = f"unavailable ({err_str(e)})"
            print(f"  lazyops: {err_str(e)} -- its columns will show errors")

    results = {}
    for wl in workloads.values():
        try:
            results[wl.name] = run_workload(wl, args, contenders)
        except Exception as e:  # noqa: BLE001
            print(f"  workload {wl.name} failed: {err_str(e)}")
            if args.verbose:
                traceback.print_exc()
            results[wl.name] = {"error": err_str(e), "contenders": {}}

    print_summary(results)

    try:
        import numba
        meta["numba_threading_layer"] = numba.threading_layer()
    except Exception:  # noqa: BLE001
        pass
    meta["loadavg_end"] = loadavg()

    cache_info = None
    if _LO is not None:
        try:
            cache_info = jsonable(_LO.cache_info())
            print(f"\nlazyops.cache_info(): {cache_info}")
        except Exception as e:  # noqa: BLE001
            cache_info = {"error": err_str(e)}
            print(f"\nlazyops.cache_info() failed: {err_str(e)}")
    else:
        print(f"\nlazyops.cache_info(): n/a ({_LO_ERR or 'lazyops not run'})")

    if args.json:
        out = {"meta": meta, "workloads": results, "lazyops_cache_info": cache_info}
        d = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(jsonable(out), f, indent=1)
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
