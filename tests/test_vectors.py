"""On AVX-512 CPUs lazyops's kernels prefer 512-bit vectors (LLVM's tuning
prefers 256 there); the user's own Numba functions keep Numba's defaults, and
kernels built either way never share a cache folder."""
import os

import numpy as np
import pytest
from numba import njit

import lazyops as lo
from lazyops import __main__ as cli, engine
from lazyops.codegen import cache, vectors

WIDE = '"prefer-vector-width"="512"'


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty cache root, so the kernel compiles here (and has LLVM IR)."""
    monkeypatch.setenv("LAZYOPS_CACHE_DIR", str(tmp_path))
    cache.clear_memory_cache()
    engine.clear_plans()
    yield
    cache.clear_memory_cache()
    engine.clear_plans()


def test_kernels_prefer_full_width_vectors_where_the_cpu_has_them(fresh):
    x = np.linspace(-4, 4, 5000, dtype=np.float32)
    with lo.config.override(small_work=0):
        got = (lo.tanh(lo.convert_to_tensor(x)) * 3).numpy()
    np.testing.assert_allclose(got, np.tanh(x) * 3, rtol=2e-6)
    (fn,) = cache._kernels.values()
    ir = fn.inspect_llvm(fn.signatures[0])
    assert (WIDE in ir) == vectors.enabled()
    if vectors.enabled():  # the float32 loop runs 16 lanes wide
        assert "<16 x float>" in ir


def test_the_users_numba_functions_keep_numbas_defaults(fresh):
    x = np.ones(3000, np.float32)
    with lo.config.override(small_work=0):
        (lo.exp(lo.convert_to_tensor(x)) + 1).numpy()  # a lazyops compile first

    @njit
    def double(a, out):
        for i in range(a.size):
            out[i] = a[i] * 2

    out = np.empty_like(x)
    double(x, out)
    assert WIDE not in double.inspect_llvm(double.signatures[0])


def test_the_cache_folder_says_the_vector_width():
    name = os.path.basename(cache.cache_dir())
    assert name.endswith("-zmm") == vectors.enabled()
    assert cli._VERSIONED.match(name)  # `python -m lazyops cache` lists and clears it
