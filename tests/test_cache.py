"""Kernels are cached by structure: new sizes and new scalar values compile nothing."""
import numpy as np

import lazyops as lo


def pipeline(x, y, lr):
    return lo.sum(((x * 2.0 + y) * lr - x) ** 2, axis=-1)


def test_new_lengths_and_scalars_compile_nothing():
    rng = np.random.default_rng(1)
    with lo.config.override(small_work=0):
        for n in (50, 64):  # warm: this structure at rank 2
            x = lo.convert_to_tensor(rng.standard_normal((3, n)).astype(np.float32))
            y = lo.convert_to_tensor(rng.standard_normal((3, n)).astype(np.float32))
            pipeline(x, y, 0.25).numpy()
        before = lo.cache_info()
        for n, lr in [(10, 0.1), (1000, 0.3), (7, 0.7), (4096, 1.7)]:
            xa = rng.standard_normal((5, n)).astype(np.float32)
            ya = rng.standard_normal((5, n)).astype(np.float32)
            got = pipeline(lo.convert_to_tensor(xa), lo.convert_to_tensor(ya), lr).numpy()
            want = np.sum(((xa * 2 + ya) * np.float32(lr) - xa) ** 2, axis=-1)
            np.testing.assert_allclose(got, want, rtol=1e-5)
        after = lo.cache_info()
    assert after["compiles"] == before["compiles"]
    assert after["kernels"] == before["kernels"]
    assert after["launches"] > before["launches"]


def test_cache_info_reports_counts_and_times():
    info = lo.cache_info()
    for key in ("compiles", "disk_loads", "hits", "launches", "compile_time", "run_time"):
        assert key in info


def test_repeated_pipeline_reuses_its_plan():
    from lazyops import engine
    x = lo.convert_to_tensor(np.ones(8, np.float32))
    (x * 3.0 + 1.0).numpy()
    n = len(engine._plans)
    for _ in range(5):
        (x * 3.0 + 1.0).numpy()
    assert len(engine._plans) == n


def test_second_process_loads_kernels_from_disk(tmp_path):
    import subprocess
    import sys
    code = ("import numpy as np, lazyops as lo\n"
            "lo.config.set(small_work=0)\n"
            "x = lo.convert_to_tensor(np.arange(10, dtype=np.float32))\n"
            "print((x * 3.0 - 1.0).numpy()[2]); print(lo.cache_info()['compiles'], lo.cache_info()['disk_loads'])\n")
    env = dict(__import__("os").environ, LAZYOPS_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[:2] == ["5.0", "1"]
    assert second.stdout.split() == ["5.0", "0", "1"]


def test_version_matches_the_package_metadata():
    import importlib.metadata

    from lazyops.codegen import cache
    assert cache.VERSION == importlib.metadata.version("lazyops")


def test_import_and_small_forces_leave_numba_unimported():
    """Numba is imported when a kernel is first compiled, not by `import lazyops`."""
    import subprocess
    import sys
    code = ("import sys, numpy as np, lazyops as lo; "
            "assert 'numba' not in sys.modules; "
            "(lo.exp(np.ones(8, 'float32')) * 2).numpy(); "
            "assert 'numba' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_cache_folder_hashes_every_module_kernels_call_into():
    """Numba's disk cache checks only a kernel's own file: the folder's name
    hashes the modules kernels call into (`codegen.cache.LIBRARY`), which
    must be every codegen module `scalar.py` imports (a stale kernel would
    keep an old function's code), and changes with any of them."""
    import ast
    import os
    from lazyops.codegen import cache
    here = os.path.dirname(cache.__file__)
    called, todo = set(), ["scalar"]
    while todo:
        name = todo.pop()
        if name in called:
            continue
        called.add(name)
        with open(os.path.join(here, name + ".py")) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                todo += [node.module] if node.module else [a.name for a in node.names]
    assert {n + ".py" for n in called} == set(cache.LIBRARY)


# Pipelines of every kind of kernel (elementwise math in several dtypes, row
# kernels, reductions along each axis, a scan, an arg-reduction), forced
# compiled and checked against NumPy in the child process that loads them.
_KINDS = r'''
import sys, numpy as np, lazyops as lo
from scipy import special
lo.config.set(small_work=0, tiered=False)
rng = np.random.default_rng(5)
x = rng.standard_normal(40000).astype(np.float32); x[8191] = np.nan
h = x[:20000].astype(np.float16)
i = rng.integers(-100, 100, 30000).astype(np.int32)
m = rng.standard_normal((64, 700)).astype(np.float32)
c = rng.standard_normal((5000, 16))
def check(got, want, rtol):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6)
t = lo.convert_to_tensor
check(lo.tanh(t(x)) * lo.exp(-t(x) * t(x)) + lo.log1p(lo.abs(t(x))) + lo.erf(t(x)),
      np.tanh(x) * np.exp(-x * x) + np.log1p(np.abs(x)) + special.erf(x).astype(np.float32), 1e-5)
check((lo.sin(t(h)) * 2 + 1).numpy(), np.sin(h) * 2 + 1, 2e-3)
check(((t(i) // 3) % 5 - t(i) ** 2).numpy(), (i // 3) % 5 - i ** 2, 0)
e = lo.exp(t(m) - lo.max(t(m), axis=-1, keepdims=True))
check((e / lo.sum(e, axis=-1, keepdims=True)).numpy(), np.exp(m - m.max(-1, keepdims=True)) /
      np.exp(m - m.max(-1, keepdims=True)).sum(-1, keepdims=True), 1e-5)
check(lo.sum(c, axis=0).numpy(), c.sum(0), 1e-10)
check(lo.max(t(x)).numpy(), np.max(x), 0)
check(lo.cumsum(t(x[:30000] * 0 + 1), axis=0).numpy(), np.cumsum(x[:30000] * 0 + 1), 1e-6)
check(lo.argmax(t(m), axis=1).numpy(), np.argmax(m, axis=1).astype(np.int32), 0)
info = lo.cache_info()
print(info["compiles"], info["disk_loads"], "numba.np.arraymath" in sys.modules)
'''


def test_a_fresh_process_runs_kernels_it_loads_before_any_compile():
    """A process that only loads kernels from disk skips Numba's registries
    (their imports hold the GIL for 0.3-0.5 s) and still computes right."""
    import subprocess
    import sys
    first = subprocess.run([sys.executable, "-c", _KINDS], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", _KINDS], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    compiles, loads, registries = second.stdout.split()
    assert (compiles, registries) == ("0", "False") and int(loads) >= 8, second.stdout
