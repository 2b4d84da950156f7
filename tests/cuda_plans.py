"""CUDA printer checks shared by the compile test and the simulator run.

`python tests/cuda_plans.py` runs every case under NUMBA_ENABLE_CUDASIM=1 or
on a real GPU; `--big` runs them on arrays of millions of elements (a real GPU
only), where the grid-stride loops and block merges all take part."""
import importlib.util
import os
import sys
import tempfile

import numpy as np

import lazyops as lo
from lazyops.codegen import cuda
from lazyops.codegen.plan import build_plan
from lazyops.engine import plan_of


def cases(n=1000, shape=(40, 30)):
    rng = np.random.default_rng(0)
    a = rng.random(n).astype("float32")
    c = a.copy()
    # one NaN (past the first grid stride when big), a distinct maximum elsewhere
    nan_at = 17 if n < 10_000 else 131_073
    a[nan_at] = np.nan
    c[n - 1 - nan_at] = 3.0
    x, y, c = (lo.convert_to_tensor(v) for v in (a, a[::-1].copy(), c))
    b = rng.integers(-50, 50, shape).astype("int32")
    z = lo.convert_to_tensor(b)
    return {
        "elementwise": [(x * 2 + y) * 0.5 - x, lo.exp(x), lo.maximum(x, y), lo.where(x > y, x, 1.0)],
        "strided": [lo.transpose(z) * 3 + 1],
        "full": [lo.max(x), lo.argmax(x), lo.any(x > 0.99), lo.exp(x) * 2],
        "full_clean": [lo.sum(c), lo.mean(lo.exp(c)), lo.argmax(c), lo.min(c), lo.argmin(c)],
        "full_int": [lo.sum(z), lo.min(z), lo.argmin(z), lo.prod(lo.sign(z))],
        # float to int as NumPy on x86 (NaN and out of range: the least value
        # where the GPU's conversion saturates)
        "cast_int": [lo.cast(x * 3e9, "int32"), lo.cast(x * 300, "uint8"),
                     lo.cast(x * 1e19, "int64")],
    }


def module_for(tensors):
    """(module, plan, call arguments, result arrays, interpreter results)."""
    plan, pending, leaves = plan_of([t._value for t in tensors])
    (launcher,) = plan.launchers.values()
    args = [leaf.data for leaf in leaves]
    form, rank, access, call_args, results = launcher.configure(args)
    # the CPU target takes a uniform input as a 0-d array; CUDA reads X[0]
    call_args = [a.reshape(1) if isinstance(a, np.ndarray) and a.ndim == 0 else a
                 for a in call_args]
    p = build_plan(launcher.info, form, rank, access, cuda.SCALAR)
    path = os.path.join(tempfile.mkdtemp(), "kernel.py")
    with open(path, "w") as f:
        f.write(cuda.print_plan(p))
    spec = importlib.util.spec_from_file_location("kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, p, call_args, results, plan.run(args, compiled=False)


if __name__ == "__main__":
    big = "--big" in sys.argv
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        from numba import cuda as numba_cuda
        assert numba_cuda.is_available(), "no GPU: set NUMBA_ENABLE_CUDASIM=1"
    for name, tensors in cases(**(dict(n=5_000_011, shape=(2003, 1501)) if big else {})).items():
        module, p, call_args, results, want = module_for(tensors)
        module.run(*call_args)
        for got, w in zip(results, want):
            # sums of millions of float32 terms: the block merges add in another order
            np.testing.assert_allclose(got, w, rtol=1e-5 if big else 1e-6, equal_nan=True,
                                       err_msg=name)
            assert got.dtype == w.dtype, name
        print(name, p.form, "ok")
    sys.exit(0)
