#!/usr/bin/env python
"""Core benchmark: lazyops against NumPy eager, keras.ops (NumPy backend),
numexpr, JAX (CPU jit) and hand-written Numba kernels, side by side, on twelve
workloads.

    python bench/bench_core.py                        # all workloads, full size
    python bench/bench_core.py --scale 0.02 --repeats 2   # quick check
    python bench/bench_core.py --only chain,sumsq --memory --json out.json

Inputs are float32 NumPy arrays and enter every timed call as such (a
contender's conversion is part of its time); every call returns a NumPy
array.  Every contender is checked against a float64 NumPy reference before
it is timed; a contender that fails to import, fails to run or gives a wrong
answer is reported as such and the others go on.  See bench/README.md for
what the columns mean.

Timing method
-------------
* Per workload, each contender is called once (correctness check; this first
  call is also recorded as ``first_call_inproc_s`` in the JSON), then
  ``--warmup`` more times.  The number of calls per sample is calibrated so one
  sample lasts at least ``--min-sample-ms``.
* Then ``--repeats`` rounds: in each round every contender takes one sample;
  the order is shuffled from round to round (seeded) so slow drifts of the
  shared machine, and the state a contender's predecessor leaves (caches
  evicted by NumPy's temporaries, another library's spinning threads), hit
  every contender alike.  Reported: median (and min, IQR) of the
  per-call times over the rounds.  The garbage collector is off while timing.
* "lazyops 1st" is the first call in a *fresh subprocess*: import lazyops,
  build the inputs, then time one record+compile+run of the expression.  The
  subprocess gets empty NUMBA_CACHE_DIR and LAZYOPS_CACHE_DIR so no on-disk
  cache can make it warm.  "lazyops 1st/d" is the same with the normal on-disk
  caches, primed by one untimed subprocess
  (``--first-call-cache cold|disk|both``, default both).
* ``--memory``: per contender, a fresh subprocess makes the inputs, calls once
  (compiles), then measures the peak RSS growth of one more call.
"""
from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("KERAS_BACKEND", "numpy")  # before anything imports keras
# benchmark the working tree's lazyops (the script's own folder is sys.path[0])
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(1, _REPO_ROOT)

import numpy as np

CHILD_MARK = "@@LAZYOPS_BENCH_CHILD@@ "
F32 = np.float32


# --------------------------------------------------------------------------
# workloads: each expression is written once against a keras.ops-like
# namespace `ops` (numpy, jax.numpy, keras.ops or lazyops), with Python
# operators for the arithmetic.  NumPy eager, keras, lazyops, JAX and the
# float64 reference all run these; numexpr and Numba have their own versions.
# --------------------------------------------------------------------------

def f_chain(ops, x, y):
    return (x * 2 + y) * 0.5 - x


def f_sumsq(ops, x, y):
    return ops.sum((x - y) ** 2)


def f_logsumexp(ops, x):
    if hasattr(ops, "logsumexp"):  # lazyops and keras.ops have it
        return ops.logsumexp(x, axis=-1)
    m = ops.max(x, axis=-1, keepdims=True)
    return ops.log(ops.sum(ops.exp(x - m), axis=-1)) + m[:, 0]


def f_softmax_rows(ops, x):
    e = ops.exp(x - ops.max(x, axis=1, keepdims=True))
    return e / ops.sum(e, axis=1, keepdims=True)


def f_layernorm(ops, x, g, b):
    m = ops.mean(x, axis=-1, keepdims=True)
    d = x - m
    v = ops.mean(d * d, axis=-1, keepdims=True)
    return d / ops.sqrt(v + 1e-5) * g + b


def f_gelu(ops, x):
    return 0.5 * x * (1 + ops.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def f_pairwise(ops, x, y):
    return ops.sum((x[:, None] - y[None, :]) ** 2, axis=1)


def f_colsum(ops, a):
    return ops.sum(a, axis=0)


def f_standardize(ops, a):
    return (a - ops.mean(a, axis=0)) / ops.std(a, axis=0)


def f_cumsum(ops, x):
    return ops.cumsum(x)


def f_cumsum_exp(ops, x):
    return ops.cumsum(ops.exp(x)) * 2


def f_transcendental(ops, x, y):
    return ops.sqrt(ops.abs(ops.sin(x) * 2 + ops.cos(y) ** 2 - 0.5)) * ops.exp(-x * x)


class Workload:
    def __init__(self, name, desc, formula, shapes, out_shape, rtol, atol_rel,
                 bandwidth=True):
        self.name = name
        self.desc = desc
        self.formula = formula      # formula(ops, *inputs)
        self.shapes = shapes        # one shape per float32 input
        self.out_shape = out_shape
        self.rtol = rtol
        # absolute tolerance, relative to max|reference|
        self.atol_rel = atol_rel
        # False: a copy-bandwidth bound means nothing here (latency, compute-bound)
        self.bandwidth = bandwidth

    @property
    def shape(self):
        return self.shapes[0]

    @property
    def n(self):
        return int(np.prod(self.shape))

    @property
    def reduction(self):
        return self.out_shape == ()

    @property
    def bytes_moved(self):
        """What a perfect fused kernel moves: inputs read once, output written once."""
        return 4 * (sum(int(np.prod(s)) for s in self.shapes) + int(np.prod(self.out_shape)))


# the 10M and 4096x1024-class workloads the summary's geomean runs over
GEOMEAN_WORKLOADS = ["chain", "sumsq", "softmax_rows", "logsumexp", "layernorm", "gelu",
                     "transcendental", "pairwise", "colsum", "standardize", "cumsum", "cumsum_exp"]


def scaled(v, f):
    return max(1, int(round(v * f)))


def make_workloads(args):
    s = args.scale  # scales element counts: rows of 2-D inputs, pairwise n by sqrt
    n = scaled(args.size, s)
    r, c = args.softmax_shape
    cr, cc = args.colsum_shape
    sr, sc = args.standardize_shape
    r, cr, sr = scaled(r, s), scaled(cr, s), scaled(sr, s)
    p = scaled(args.pairwise_size, math.sqrt(s))
    W = Workload
    return {w.name: w for w in [
        W("chain", "(x*2+y)*0.5-x", f_chain, [(n,)] * 2, (n,), 1e-4, 1e-5),
        W("sumsq", "sum((x-y)**2)", f_sumsq, [(n,)] * 2, (), 1e-4, 0.0),
        W("latency", "(x*2+y)*0.5-x, per call", f_chain, [(args.latency_size,)] * 2,
          (args.latency_size,), 1e-4, 1e-5, bandwidth=False),
        W("softmax_rows", "e=exp(x-max(x,1,keepdims)); e/sum(e,1,keepdims)",
          f_softmax_rows, [(r, c)], (r, c), 1e-4, 1e-5),
        W("logsumexp", "logsumexp(x, axis=-1)", f_logsumexp, [(r, c)], (r,), 1e-4, 1e-5),
        W("layernorm", "d=x-mean(x,-1,keepdims); d/sqrt(mean(d*d,-1,keepdims)+1e-5)*g+b",
          f_layernorm, [(r, c), (c,), (c,)], (r, c), 1e-4, 1e-5),
        W("gelu", "0.5*x*(1+tanh(0.7978845608*(x+0.044715*x**3)))", f_gelu,
          [(n,)], (n,), 1e-4, 1e-5),
        # O(n^2) work on 2n inputs: compute-bound, no bandwidth bound
        W("pairwise", "sum((x[:,None]-y[None,:])**2, axis=1)", f_pairwise,
          [(p,)] * 2, (p,), 1e-4, 1e-5, bandwidth=False),
        # NumPy adds the rows one after another in float32 (not pairwise):
        # its error grows with the rows, hence atol 1e-4*max|ref|
        W("colsum", "sum(a, axis=0)", f_colsum, [(cr, cc)], (cc,),
          1e-4, 1e-4),
        W("standardize", "(a-mean(a,0))/std(a,0)", f_standardize,
          [(sr, sc)], (sr, sc), 1e-4, 1e-5),
        # sqrt near 0 turns float32 rounding (~6e-8 absolute) of its argument
        # into ~sqrt(6e-8)=2.4e-4 absolute error, so the atol is looser here.
        W("transcendental", "sqrt(abs(sin(x)*2+cos(y)**2-0.5))*exp(-x*x)",
          f_transcendental, [(n,)] * 2, (n,), 1e-4, 1e-3),
        # a float32 running sum drifts from the float64 one by rounding at
        # each of its n steps, whatever the order: tolerances relative to the
        # largest partial sum
        W("cumsum", "cumsum(x)", f_cumsum, [(n,)], (n,), 1e-3, 1e-3),
        # ... and a running sum of positive terms most: NumPy's sequential
        # float32 cumsum of 10M exp(x) is 0.7% off at its end
        W("cumsum_exp", "cumsum(exp(x))*2", f_cumsum_exp, [(n,)], (n,), 1e-2, 1e-2),
    ]}


def make_inputs(wl, seed):
    """Standard normal float32 arrays, one per input shape (x, y, ...)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in wl.shapes]


def reference(wl, inputs):
    """float64 NumPy reference, computed from the float32 inputs."""
    return np.asarray(wl.formula(np, *[a.astype(np.float64) for a in inputs]))


# --------------------------------------------------------------------------
# contenders: each builder returns a zero-argument callable that takes the
# NumPy inputs and returns a NumPy array, or raises (NotApplicable: "n/a")
# --------------------------------------------------------------------------

class NotApplicable(Exception):
    pass


def build_numpy(wl, inputs):
    return lambda: wl.formula(np, *inputs)


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


def build_ops(ops, wl, inputs):
    """A keras.ops program: convert the NumPy inputs, record/run the
    expression, convert the result back, all inside the timed call."""
    f = wl.formula
    return lambda: ops.convert_to_numpy(f(ops, *[ops.convert_to_tensor(a) for a in inputs]))


def build_lazyops(wl, inputs):
    # convert_to_tensor references the arrays (no copy); every call records
    # the expression and forces it
    return build_ops(import_lazyops(), wl, inputs)


def build_lazyops_pre(wl, inputs):
    lo = import_lazyops()
    ts = [lo.convert_to_tensor(a) for a in inputs]  # once, outside the timing
    return lambda: wl.formula(lo, *ts).numpy()


def build_lazyops_fn(wl, inputs):
    # lazyops.function: traced once (in the check call), replayed on the arrays
    lo = import_lazyops()
    f = lo.function(functools.partial(wl.formula, lo))
    return lambda: f(*inputs)


def build_keras(wl, inputs):
    # the NumPy backend copies in convert_to_tensor and in every op's input
    # conversion, and convert_to_numpy copies the result
    from keras import ops as K
    return build_ops(K, wl, inputs)


def build_jax(wl, inputs):
    import jax
    import jax.numpy as jnp
    f = jax.jit(functools.partial(wl.formula, jnp))
    # NumPy in (transfer included), NumPy out
    return lambda: np.asarray(f(*inputs).block_until_ready())


def build_numexpr(wl, inputs):
    import numexpr as ne
    # constants are passed as float32 scalars: numexpr treats literal 0.5 as
    # double and would silently compute (and return) float64.
    d = dict(zip("xyzw", inputs), c2=F32(2.0), ch=F32(0.5), one=F32(1.0),
             k1=F32(0.7978845608), k3=F32(0.044715), eps=F32(1e-5))

    def ev(expr, **arrays):
        return ne.evaluate(expr, local_dict={**d, **arrays} if arrays else d)

    name = "chain" if wl.name == "latency" else wl.name
    if name == "chain":
        return lambda: ev("(x*c2+y)*ch-x")
    if name == "sumsq":
        return lambda: ev("sum((x-y)**2)")
    if name == "gelu":
        return lambda: ev("ch*x*(one+tanh(k1*(x+k3*x**3)))")
    if name == "transcendental":
        return lambda: ev("sqrt(abs(sin(x)*c2+cos(y)**2-ch))*exp(-x*x)")
    if name == "pairwise":
        xc, yr = inputs[0][:, None], inputs[1][None, :]
        return lambda: ev("sum((a-b)**2, axis=1)", a=xc, b=yr)
    if name == "colsum":
        return lambda: ev("sum(x, axis=0)")
    # hybrids: numexpr has no max/mean/std reduction and its axis sums are
    # slow, so the reductions below are NumPy and the element-wise parts numexpr.
    x = inputs[0]
    if name == "softmax_rows":
        def run():
            e = ev("exp(x-m)", m=np.max(x, axis=1, keepdims=True))
            return ev("e/s", e=e, s=np.sum(e, axis=1, keepdims=True))
        return run
    if name == "layernorm":
        g, b = inputs[1], inputs[2]

        def run():
            dd = ev("x-m", m=np.mean(x, axis=-1, keepdims=True))
            v = np.mean(ev("dd*dd", dd=dd), axis=-1, keepdims=True)
            return ev("dd/sqrt(v+eps)*g+b", dd=dd, v=v, g=g, b=b)
        return run
    if name == "standardize":
        return lambda: ev("(x-m)/s", m=np.mean(x, axis=0), s=np.std(x, axis=0))
    raise NotApplicable(f"no numexpr version of {wl.name}")


_NUMBA_KERNELS = {}


def numba_kernels(fastmath):
    """Hand-written kernels: prange loops, float32 constants (a float64
    literal would promote the whole expression to float64 in Numba), float64
    accumulators for sums."""
    if fastmath in _NUMBA_KERNELS:
        return _NUMBA_KERNELS[fastmath]
    from numba import njit, prange

    two, half, one = F32(2.0), F32(0.5), F32(1.0)
    k1, k3 = F32(0.7978845608), F32(0.044715)
    jit = njit(parallel=True, fastmath=fastmath)

    @jit
    def chain(x, y, out):
        for i in prange(x.size):
            out[i] = (x[i] * two + y[i]) * half - x[i]

    @jit
    def sumsq(x, y):
        acc = 0.0  # float64 accumulator
        for i in prange(x.size):
            d = x[i] - y[i]
            acc += d * d
        return acc

    @jit
    def softmax_rows(x, out):
        rows, cols = x.shape
        for r in prange(rows):
            m = x[r, 0]
            for j in range(1, cols):
                if x[r, j] > m:
                    m = x[r, j]
            s = 0.0
            for j in range(cols):
                e = math.exp(x[r, j] - m)
                out[r, j] = e
                s += e
            s32 = F32(s)
            for j in range(cols):
                out[r, j] = out[r, j] / s32

    @jit
    def layernorm(x, g, b, out):
        rows, cols = x.shape
        for r in prange(rows):
            s = 0.0
            for j in range(cols):
                s += x[r, j]
            m = F32(s / cols)
            v = 0.0
            for j in range(cols):
                d = x[r, j] - m
                v += d * d
            inv = F32(1.0 / math.sqrt(v / cols + 1e-5))
            for j in range(cols):
                out[r, j] = (x[r, j] - m) * inv * g[j] + b[j]

    @jit
    def gelu(x, out):
        for i in prange(x.size):
            v = x[i]
            out[i] = half * v * (one + math.tanh(k1 * (v + k3 * v * v * v)))

    @jit
    def pairwise(x, y, out):
        for i in prange(x.size):
            xi = x[i]
            acc = 0.0
            for j in range(y.size):
                d = xi - y[j]
                acc += d * d
            out[i] = acc

    @jit
    def colsum(a, out):
        rows, cols = a.shape
        nb = 16  # row blocks, each summing its rows into its own float64 row
        step = (rows + nb - 1) // nb
        part = np.zeros((nb, cols))
        for k in prange(nb):
            acc = part[k]
            for r in range(k * step, min(rows, (k + 1) * step)):
                row = a[r]
                for j in range(cols):
                    acc[j] += row[j]
        for j in range(cols):
            out[j] = part[:, j].sum()

    @jit
    def standardize(a, out):
        rows, cols = a.shape
        nb = 16  # row blocks with their own float64 sums of a and a*a
        step = (rows + nb - 1) // nb
        s1 = np.zeros((nb, cols))
        s2 = np.zeros((nb, cols))
        for k in prange(nb):
            acc1, acc2 = s1[k], s2[k]
            for r in range(k * step, min(rows, (k + 1) * step)):
                row = a[r]
                for j in range(cols):
                    v = float(row[j])
                    acc1[j] += v
                    acc2[j] += v * v
        m = np.empty(cols, np.float32)
        inv = np.empty(cols, np.float32)
        for j in range(cols):
            mean = s1[:, j].sum() / rows
            m[j] = mean
            # float64 sums: no cancellation in E[a*a]-mean^2 for this data
            inv[j] = 1.0 / math.sqrt(s2[:, j].sum() / rows - mean * mean)
        for r in prange(rows):
            for j in range(cols):
                out[r, j] = (a[r, j] - m[j]) * inv[j]

    @jit
    def logsumexp(x, out):
        rows, cols = x.shape
        for r in prange(rows):
            m = x[r, 0]
            for j in range(1, cols):
                if x[r, j] > m:
                    m = x[r, j]
            s = 0.0
            for j in range(cols):
                s += math.exp(x[r, j] - m)
            out[r] = F32(math.log(s) + m)

    def tiled_scan(pre, post):
        """A tiled parallel running sum: tile totals, their prefix, then each
        tile from its carry; `pre` maps an element before the sum, `post` after."""
        @jit
        def scan(x, out):
            n, tiles = x.size, 64
            tl = (n + tiles - 1) // tiles
            tot = np.zeros(tiles, np.float32)
            for t in prange(tiles):
                s = F32(0)
                for i in range(t * tl, min(n, (t + 1) * tl)):
                    s += pre(x[i])
                tot[t] = s
            carry = np.zeros(tiles, np.float32)
            for t in range(1, tiles):
                carry[t] = carry[t - 1] + tot[t - 1]
            for t in prange(tiles):
                s = carry[t]
                for i in range(t * tl, min(n, (t + 1) * tl)):
                    s += pre(x[i])
                    out[i] = post(s)
        return scan

    ident = njit(lambda v: v)

    @jit
    def transcendental(x, y, out):
        for i in prange(x.size):
            a = x[i]
            c = math.cos(y[i])
            out[i] = math.sqrt(abs(math.sin(a) * two + c * c - half)) * math.exp(-a * a)

    k = dict(chain=chain, latency=chain, sumsq=sumsq, softmax_rows=softmax_rows,
             logsumexp=logsumexp,
             layernorm=layernorm, gelu=gelu, pairwise=pairwise, colsum=colsum,
             standardize=standardize, transcendental=transcendental,
             cumsum=tiled_scan(ident, ident),
             cumsum_exp=tiled_scan(njit(lambda v: math.exp(v)), njit(lambda s: s * two)))
    _NUMBA_KERNELS[fastmath] = k
    return k


def build_numba(wl, inputs, fastmath=True):
    kern = numba_kernels(fastmath).get(wl.name)
    if kern is None:
        raise NotApplicable(f"no Numba kernel for {wl.name}")
    if wl.reduction:
        return lambda: F32(kern(*inputs))

    def run():
        out = np.empty(wl.out_shape, np.float32)
        kern(*inputs, out)
        return out
    return run


CONTENDERS = ["numpy", "lazyops", "lazyops_pre", "lazyops_fn", "keras", "numexpr", "jax",
              "numba"]
BUILDERS = {"numpy": build_numpy, "lazyops": build_lazyops,
            "lazyops_pre": build_lazyops_pre, "lazyops_fn": build_lazyops_fn, "keras": build_keras,
            "numexpr": build_numexpr, "jax": build_jax, "numba": build_numba}
LABELS = {
    "numpy": "numpy eager",
    "lazyops": "lazyops warm",
    "lazyops_pre": "lazyops pre",
    "lazyops_fn": "lazyops fn",
    "lazyops_first": "lazyops 1st",
    "lazyops_first_disk": "lazyops 1st/d",
    "keras": "keras numpy",
    "numexpr": "numexpr",
    "jax": "jax jit",
    "numba": "numba njit",
    "copyto": "[np.copyto]",
    "copy_fresh": "[x.copy()]",
    "bw_limit": "[bw limit]",
}
# table rows, in order
ORDER = ["numpy", "lazyops", "lazyops_pre", "lazyops_fn", "lazyops_first", "lazyops_first_disk",
         "keras", "numexpr", "jax", "numba"]


def build(name, wl, inputs, args):
    if name == "numba":
        return build_numba(wl, inputs, fastmath=args.fastmath)
    return BUILDERS[name](wl, inputs)


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
# child processes: lazyops first call, peak memory
# --------------------------------------------------------------------------

def child_cmd(args, *extra):
    """This script with the options that fix the inputs, plus extra."""
    argv = ["--size", str(args.size), "--scale", repr(args.scale),
            "--seed", str(args.seed), "--latency-size", str(args.latency_size),
            "--pairwise-size", str(args.pairwise_size)]
    for opt in ("softmax_shape", "colsum_shape", "standardize_shape"):
        argv += ["--" + opt.replace("_", "-"), "x".join(map(str, getattr(args, opt)))]
    if not args.fastmath:
        argv.append("--no-fastmath")
    return [sys.executable, os.path.abspath(__file__), *argv, *extra]


def child_main(body, args):
    """In the child: run body(args, res), print res as one marked JSON line."""
    res = {}
    try:
        body(args, res)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        res["error"] = err_str(e)
        res["traceback"] = traceback.format_exc(limit=6)
    sys.stdout.flush()
    print(CHILD_MARK + json.dumps(jsonable(res)), flush=True)


def run_child(cmd, env, timeout):
    """Run a child process; return the dict it printed, or an error."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"subprocess timed out after {timeout}s"}
    wall = time.perf_counter() - t0
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(CHILD_MARK):
            res = json.loads(line[len(CHILD_MARK):])
            res["subprocess_wall_s"] = wall
            return res
    tail = (p.stderr or p.stdout or "").strip().splitlines()[-3:]
    return {"error": f"subprocess rc={p.returncode}: " + " | ".join(tail)}


def child_first_call(args, res):
    """The first-call time of lazyops in this (fresh) process."""
    wl = make_workloads(args)[args._first_call]
    inputs = make_inputs(wl, args.seed)
    t0 = time.perf_counter()
    try:
        lo = import_lazyops()
    finally:
        res["import_s"] = time.perf_counter() - t0
    fn = build_lazyops(wl, inputs)
    t0 = time.perf_counter()
    out = fn()
    res["first_call_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fn()
    res["second_call_s"] = time.perf_counter() - t0
    if hasattr(lo, "wait_for_kernels"):  # tiered: kernels compile in the background
        lo.wait_for_kernels()
        res["kernels_ready_s"] = time.perf_counter() - t0
    res["check"], res["check_detail"] = check_result(wl, out, reference(wl, inputs))
    try:
        res["cache_info"] = lo.cache_info()
    except Exception as e:  # noqa: BLE001
        res["cache_info_error"] = err_str(e)


def run_first_call_subprocess(args, wl_name, cache_mode):
    """cache_mode 'cold': empty NUMBA_CACHE_DIR and LAZYOPS_CACHE_DIR, so the
    first call compiles from scratch.  'disk': the normal cache directories,
    primed by one untimed subprocess, so the first call measures a new process
    that finds its kernels on disk."""
    cmd = child_cmd(args, "--_first-call", wl_name)
    env = dict(os.environ)
    if cache_mode == "disk":
        run_child(cmd, env, args.first_call_timeout)  # prime the on-disk caches
        return run_child(cmd, env, args.first_call_timeout)
    with tempfile.TemporaryDirectory(prefix="lazyops_bench_cold_") as cache:
        env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
        env["LAZYOPS_CACHE_DIR"] = os.path.join(cache, "lazyops")
        return run_child(cmd, env, args.first_call_timeout)


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def maxrss_kb():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform == "darwin" else r  # bytes on macOS


def call_peak_mb(fn):
    """Peak RSS growth during one call (its result included) over the RSS
    before it, in MB.  On Linux the high-water mark VmHWM is reset first
    (clear_refs 5), so an earlier, higher peak (imports, a compile) cannot
    hide this call's; elsewhere ru_maxrss growth, which can."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status_kb("VmRSS")
        fn()
        return (status_kb("VmHWM") - before) / 1024, "VmHWM"
    except OSError:
        before = maxrss_kb()
        fn()
        return (maxrss_kb() - before) / 1024, "ru_maxrss"


def child_memory(args, res):
    """Peak memory of one contender in this (fresh) process, inputs made and
    the contender built (its imports done) first."""
    wl_name, name = args._memory.split(":")
    wl = make_workloads(args)[wl_name]
    inputs = make_inputs(wl, args.seed)
    fn = build(name, wl, inputs, args)
    res["first_call_peak_mb"], _ = call_peak_mb(fn)  # compiles (numba, jax, lazyops)
    if name.startswith("lazyops"):  # tiered: the measured call runs the kernels
        import_lazyops().wait_for_kernels()
    res["peak_mb"], res["memory_method"] = call_peak_mb(fn)


def run_memory_subprocess(args, wl_name, name):
    env = dict(os.environ)
    # blocks over 64 KB are mmapped and returned to the OS when freed, so
    # the RSS before a call holds no freed arrays that the call could reuse
    env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    return run_child(child_cmd(args, "--_memory", f"{wl_name}:{name}"), env,
                     args.first_call_timeout)


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
    print(f"\n=== {wl.name}: {wl.desc}   shapes={wl.shapes} float32"
          f"   (load avg {la[0] if la else '?'}) ===", flush=True)
    inputs = make_inputs(wl, args.seed)
    res = {"description": wl.desc, "shapes": [list(s) for s in wl.shapes],
           "n": wl.n, "dtype": "float32", "loadavg_before": la, "contenders": {}}
    C = res["contenders"]
    # lazyops first call, fresh subprocess (before anything heavy runs here)
    if "lazyops" in contenders and args.first_call:
        measure_first_calls(wl, args, C)
    fns = build_and_check(wl, inputs, args, contenders, C)
    timed = {**fns, **copy_references(wl, inputs, C)}
    time_rounds(timed, args, C, res)
    compute_ratios(wl, res)
    if args.memory:
        measure_memory(wl, args, fns, C)
    print_workload(wl, res)
    return res


def measure_first_calls(wl, args, C):
    try:
        import_lazyops()
    except Exception as e:  # noqa: BLE001
        for key, (mode, _) in FIRST_CALL_MODES.items():
            if args.first_call_cache in (mode, "both"):
                C[key] = {"error": err_str(e)}
        return
    for key, (mode, desc) in FIRST_CALL_MODES.items():
        if args.first_call_cache not in (mode, "both"):
            continue
        print(f"  lazyops first call (fresh subprocess, {mode} cache) ...", flush=True)
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


def build_and_check(wl, inputs, args, contenders, C):
    """Build each contender and check its first call (the in-process first
    call) against the float64 reference; return the callables that ran."""
    ref = reference(wl, inputs)
    fns = {}
    for name in contenders:
        entry = C.setdefault(name, {})
        try:
            fn = build(name, wl, inputs, args)
            t0 = time.perf_counter()
            out = fn()
            entry["first_call_inproc_s"] = time.perf_counter() - t0
            entry["check"], entry["check_detail"] = check_result(wl, out, ref)
            if name.startswith("lazyops"):
                # tiered: that call ran on NumPy while the kernels compiled; check them too
                settle(fn)
                out = fn()
                status, detail = check_result(wl, out, ref)
                if status == "MISMATCH":
                    entry["check"], entry["check_detail"] = status, f"compiled: {detail}"
            del out
            fns[name] = fn
        except NotApplicable as e:
            entry["n/a"] = str(e)
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            entry["error"] = err_str(e)
            if args.verbose:
                traceback.print_exc()
    return fns


def settle(fn):
    """Run a lazyops contender as a warm loop has: past its tiered first call
    and, for a small plan, past `hot_seconds` on the interpreter, its
    background compile and the timed runs that pick its path."""
    lo = import_lazyops()
    lo.wait_for_kernels()
    # hot_seconds counts run time only; a force of a tiny graph is mostly recording
    end = time.perf_counter() + min(2.0, 20 * lo.config.get("hot_seconds"))
    while time.perf_counter() < end:
        fn()
    lo.wait_for_kernels()
    for _ in range(8):
        fn()


def copy_references(wl, inputs, C):
    """Copies of the first (largest) input, timed in the same rounds as the
    contenders: the measured memory bandwidth."""
    if not wl.bandwidth:
        return {}
    x = inputs[0]
    dst = np.empty_like(x)
    refs = {"copyto": lambda: np.copyto(dst, x), "copy_fresh": lambda: x.copy()}
    for name in refs:
        C[name] = {"reference": True}
    return refs


def time_rounds(timed, args, C, res):
    """Warmup, calibration, then --repeats interleaved rounds."""
    numbers = {}
    for name, fn in list(timed.items()):
        try:
            numbers[name] = calibrate(fn, args.min_sample_ms / 1e3, args.warmup)
            C[name]["calls_per_sample"] = numbers[name]
        except Exception as e:  # noqa: BLE001
            C[name]["error"] = err_str(e)
            timed.pop(name)

    names = list(timed)
    samples = {n: [] for n in names}
    neighbours = []
    gc.collect()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for r in range(args.repeats):
            # a new order each round: a contender that always followed the
            # same one (NumPy eager, whose temporaries evict the caches and
            # leave the next Python code running cold) would pay for it alone
            order = list(names)
            random.Random(r).shuffle(order)
            for name in order:
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


def compute_ratios(wl, res):
    """Speed-ups over NumPy eager; the bandwidth limit: the bytes a perfect
    kernel moves at the measured np.copyto bandwidth."""
    C = res["contenders"]
    t_copy = C.get("copyto", {}).get("median_s")
    if t_copy:
        x_bytes = 4 * wl.n
        bw = 2 * x_bytes / t_copy  # copyto reads and writes x once
        bound = wl.bytes_moved / bw
        res["copy_bandwidth_GBps"] = bw / 1e9
        res["bytes_moved"] = wl.bytes_moved
        res["bandwidth_bound_s"] = bound
        C["bw_limit"] = {"reference": True, "median_s": bound}
        t_fresh = C.get("copy_fresh", {}).get("median_s")
        if t_fresh and int(np.prod(wl.out_shape)) == wl.n:  # output as large as x
            res["alloc_bound_s"] = t_fresh * wl.bytes_moved / (2 * x_bytes)
        for name, e in C.items():
            if e.get("median_s") and name not in FIRST_CALL_MODES:
                e["fraction_of_bandwidth"] = bound / e["median_s"]
    t_np = C.get("numpy", {}).get("median_s")
    for e in C.values():
        if t_np and e.get("median_s"):
            e["speedup_vs_numpy"] = t_np / e["median_s"]


def measure_memory(wl, args, fns, C):
    print("  peak memory (a fresh subprocess per contender) ...", flush=True)
    for name in fns:
        r = run_memory_subprocess(args, wl.name, name)
        if "peak_mb" in r:
            C[name].update({k: r[k] for k in ("peak_mb", "first_call_peak_mb",
                                              "memory_method")})
        else:
            C[name]["memory_error"] = r.get("error", "no result")


def print_workload(wl, res):
    C = res["contenders"]
    mem = any("peak_mb" in e for e in C.values())
    hdr = (f"  {'contender':<14}{'median':>10}{'min':>10}{'IQR%':>7}"
           f"{'speedup':>9}{'%bw':>7}  {'check':<9}{'calls':>7}"
           + (f"{'peak MB':>9}" if mem else ""))
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    notes = []
    for name in ORDER + ["copyto", "copy_fresh", "bw_limit"]:
        if name not in C:
            continue
        e = C[name]
        label = LABELS[name]
        if "n/a" in e:
            print(f"  {label:<14}n/a: {e['n/a']}")
            continue
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
              f"{(str(calls) if calls else '-'):>7}"
              + (f"{fmt_mb(e.get('peak_mb')):>9}" if mem else ""))
        if chk not in ("ok", "ref", "-"):
            notes.append(f"{label}: {chk}: {e.get('check_detail')}")
        if e.get("error"):
            notes.append(f"{label}: error during timing: {e['error']}")
        if e.get("memory_error"):
            notes.append(f"{label}: memory measurement failed: {e['memory_error']}")
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
            f"bw limit: {res['bytes_moved'] / 1e6:.3g} MB (inputs read once, output "
            f"written once) at the np.copyto bandwidth {res['copy_bandwidth_GBps']:.1f} GB/s"
            f" = {fmt_t(res['bandwidth_bound_s'])}"
            + (f"; with a fresh output allocation (x.copy() scaled) "
               f"{fmt_t(res['alloc_bound_s'])}" if "alloc_bound_s" in res else ""))
    if mem:
        notes.append("peak MB = RSS growth during one warm call, in a fresh subprocess, "
                     "result included, inputs excluded")
    bf = res.get("busy_neighbour_fraction")
    if bf:
        notes.append(
            f"NOISE: another process was runnable before {bf:.0%} of the samples; "
            "multi-threaded contenders (numba, numexpr, jax, lazyops) lose a core "
            "and can be many times slower -- rerun on a quiet machine or use --threads 1")
    for n in notes:
        print("  * " + n)
    sys.stdout.flush()


def fmt_mb(v):
    return "-" if v is None else f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"


def summary_cell(e):
    if e is None or "n/a" in e:
        return "n/a"
    if e.get("speedup_vs_numpy") is not None:
        return fmt_x(e["speedup_vs_numpy"]) + ("!" if e.get("check") == "MISMATCH" else "")
    return "E" if e.get("error") else "-"


def summarize(results):
    """Speed-ups over NumPy eager per workload, and per contender their
    geomean over the GEOMEAN_WORKLOADS it ran with a right result."""
    cols = [c for c in ORDER[1:] + ["bw_limit"]
            if any(c in r.get("contenders", {}) for r in results.values())]
    speedup = {w: {c: r["contenders"][c].get("speedup_vs_numpy")
                   for c in cols if c in r.get("contenders", {})}
               for w, r in results.items()}
    gm_wls = [w for w in GEOMEAN_WORKLOADS if w in results]
    geomean = {}
    for c in cols:
        xs = [speedup[w][c] for w in gm_wls if speedup[w].get(c)
              and results[w]["contenders"][c].get("check") != "MISMATCH"]
        geomean[c] = {"geomean": math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None,
                      "workloads": len(xs), "of": len(gm_wls)}
    return {"columns": cols, "speedup_vs_numpy": speedup, "geomean": geomean}


def print_summary(results, summary):
    cols = summary["columns"]
    w = {c: max(len(LABELS[c]) + 2, 9) for c in cols}
    print("\n=== summary: speedup vs NumPy eager (numpy_time / time; >1 = faster"
          " than NumPy; ! = wrong result, E = error; bw limit = a perfect kernel"
          " at copy bandwidth) ===")
    line = f"  {'workload':<16}{'numpy':>10}" + "".join(
        f"{LABELS[c].strip('[]'):>{w[c]}}" for c in cols)
    print(line)
    print("  " + "-" * (len(line) - 2))
    for wname, res in results.items():
        C = res["contenders"]
        print(f"  {wname:<16}{fmt_t(C.get('numpy', {}).get('median_s')):>10}"
              + "".join(f"{summary_cell(C.get(c)):>{w[c]}}" for c in cols))
    G = summary["geomean"]
    if any(g["of"] for g in G.values()):
        print("  " + "-" * (len(line) - 2))
        print(f"  {'geomean':<26}" + "".join(
            f"{fmt_x(G[c]['geomean']):>{w[c]}}" for c in cols))
        print(f"  {'  of workloads':<26}" + "".join(
            f"{str(G[c]['workloads']) + '/' + str(G[c]['of']):>{w[c]}}" for c in cols))
        print("  geomean over " + ", ".join(w for w in GEOMEAN_WORKLOADS if w in results)
              + " (those each contender ran with a right result)")
    print_memory_summary(results)


def print_memory_summary(results):
    cols = [c for c in ORDER if any("peak_mb" in r.get("contenders", {}).get(c, {})
                                    for r in results.values())]
    if not cols:
        return
    print("\n=== peak memory above inputs, MB (one warm call in a fresh subprocess;"
          " includes the result) ===")
    line = f"  {'workload':<16}{'inputs':>8}" + "".join(f"{LABELS[c]:>14}" for c in cols)
    print(line)
    print("  " + "-" * (len(line) - 2))
    for wname, res in results.items():
        C = res["contenders"]
        inputs_mb = sum(4 * math.prod(s) for s in res.get("shapes", [])) / 2**20
        print(f"  {wname:<16}{fmt_mb(inputs_mb):>8}" + "".join(
            f"{fmt_mb(C.get(c, {}).get('peak_mb')):>14}" for c in cols))


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def parse_int(s):
    return int(s.replace("_", ""))


def parse_shape(s):
    parts = s.lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("shape must be ROWSxCOLS")
    return tuple(int(p.replace("_", "")) for p in parts)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=parse_int, default=10_000_000,
                   help="elements for chain, sumsq, gelu, transcendental (default 10_000_000)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies every size but --latency-size: --size, the rows of "
                        "the 2-D shapes, and --pairwise-size by sqrt(scale) (its work is "
                        "n^2); e.g. 0.02 for a quick check (default 1)")
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
                        "softmax_rows,logsumexp,layernorm,gelu,pairwise,colsum,standardize,"
                        "transcendental")
    p.add_argument("--contenders", default=",".join(CONTENDERS),
                   help=f"comma separated subset of {','.join(CONTENDERS)}")
    p.add_argument("--json", metavar="PATH", default=None, help="write results as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency-size", type=parse_int, default=1000)
    p.add_argument("--softmax-shape", type=parse_shape, default=(4096, 1024),
                   help="ROWSxCOLS of softmax_rows and layernorm (default 4096x1024)")
    p.add_argument("--colsum-shape", type=parse_shape, default=(10_000, 1000),
                   help="ROWSxCOLS of colsum (default 10000x1000)")
    p.add_argument("--standardize-shape", type=parse_shape, default=(100_000, 64),
                   help="ROWSxCOLS of standardize (default 100000x64)")
    p.add_argument("--pairwise-size", type=parse_int, default=4096,
                   help="elements of x and y in pairwise (default 4096)")
    p.add_argument("--memory", action="store_true",
                   help="also measure each contender's peak memory (RSS growth of one "
                        "warm call) in a fresh subprocess per contender and workload")
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
    p.add_argument("--first-call-timeout", type=float, default=600.0,
                   help="seconds, for every child process (first call, --memory)")
    p.add_argument("-v", "--verbose", action="store_true", help="print tracebacks")
    p.add_argument("--_first-call", dest="_first_call", default=None,
                   help=argparse.SUPPRESS)
    p.add_argument("--_memory", dest="_memory", default=None, help=argparse.SUPPRESS)
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
        "timing": ("median over interleaved rounds (order shuffled per round), "
                   "per-call time; gc disabled while timing"),
        "lazyops_first_call_mode": {k: v[1] + "; import and input conversion excluded"
                                    for k, v in FIRST_CALL_MODES.items()},
    }
    for mod in ("numba", "numexpr", "jax", "jaxlib", "keras"):
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
        child_main(child_first_call, args)
        return 0
    if args._memory:
        child_main(child_memory, args)
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
          f"numexpr {meta['numexpr']}, jax {meta['jax']}, keras {meta['keras']} "
          f"(backend {os.environ.get('KERAS_BACKEND')}); {meta['cpu_count']} CPUs; "
          f"numba fastmath={args.fastmath}, SVML={meta.get('numba_using_svml')}, "
          f"threads={meta.get('numba_num_threads')}; numpy SIMD {meta.get('numpy_simd')}; "
          f"load avg {meta['loadavg_start']}")
    print(f"  {args.repeats} interleaved rounds, {args.warmup} warmups, "
          f">= {args.min_sample_ms:g} ms per sample; times are per call")
    print("  lazyops 1st = first call in a fresh subprocess (record + compile + run,"
          " import excluded) with empty kernel caches; lazyops 1st/d = same with the"
          " on-disk caches primed" if args.first_call else "  lazyops 1st: skipped")
    if {"lazyops", "lazyops_pre", "lazyops_fn"} & set(contenders):
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

    summary = summarize(results)
    print_summary(results, summary)

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
        out = {"meta": meta, "workloads": results, "summary": summary,
               "lazyops_cache_info": cache_info}
        d = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(jsonable(out), f, indent=1)
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
