"""CUDA printer checks shared by the compile test and the simulator run
(`python tests/cuda_plans.py` runs every case under NUMBA_ENABLE_CUDASIM=1)."""
import importlib.util
import os
import sys
import tempfile

import numpy as np

import lazyops as lo
from lazyops.codegen import cuda
from lazyops.codegen.plan import build_plan
from lazyops.engine import plan_of


def cases():
    a = np.random.default_rng(0).random(1000).astype("float32")
    a[17] = np.nan
    x, y = lo.convert_to_tensor(a), lo.convert_to_tensor(a[::-1].copy())
    b = np.random.default_rng(1).integers(-50, 50, (40, 30)).astype("int32")
    z = lo.convert_to_tensor(b)
    return {
        "elementwise": [(x * 2 + y) * 0.5 - x, lo.exp(x), lo.maximum(x, y), lo.where(x > y, x, 1.0)],
        "strided": [lo.transpose(z) * 3 + 1],
        "full": [lo.sum(x), lo.max(x), lo.argmax(x), lo.mean(lo.exp(x)), lo.any(x > 0.99),
                 lo.exp(x) * 2],
        "full_int": [lo.sum(z), lo.min(z), lo.argmin(z), lo.prod(lo.sign(z))],
    }


def module_for(tensors):
    """(module, plan, call arguments, result arrays, interpreter results)."""
    plan, pending, leaves = plan_of([t._value for t in tensors])
    (launcher,) = plan.launchers.values()
    args = [leaf.data for leaf in leaves]
    form, rank, access, call_args, results = launcher.configure(args)
    p = build_plan(launcher.info, form, rank, access, cuda.SCALAR)
    path = os.path.join(tempfile.mkdtemp(), "kernel.py")
    with open(path, "w") as f:
        f.write(cuda.print_plan(p))
    spec = importlib.util.spec_from_file_location("kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, p, call_args, results, plan.run(args, compiled=False)


if __name__ == "__main__":
    assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    for name, tensors in cases().items():
        module, p, call_args, results, want = module_for(tensors)
        module.run(*call_args)
        for got, w in zip(results, want):
            np.testing.assert_allclose(got, w, rtol=1e-6, equal_nan=True, err_msg=name)
            assert got.dtype == w.dtype, name
        print(name, p.form, "ok")
    sys.exit(0)
