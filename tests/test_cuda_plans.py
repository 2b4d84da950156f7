"""The CUDA printer proves the loop-plan seam: the plans the CPU target
prints are printed for CUDA too, compiled for real to PTX (sm_90) and run
on tiny inputs under Numba's CUDA simulator, in a process of its own."""
import os
import subprocess
import sys

import pytest

from cuda_plans import cases, module_for

cuda_compiler = pytest.importorskip("numba.cuda")


@pytest.mark.parametrize("name", sorted(cases()))
def test_cuda_kernels_compile_to_ptx(name):
    from lazyops.codegen import cuda
    module, plan, *_ = module_for(cases()[name])
    for fn, sig in cuda.signatures(plan).items():
        ptx, _ = cuda_compiler.compile_ptx(getattr(module, fn), sig, cc=(9, 0))
        assert ".target sm_90" in ptx and f"{fn}" in ptx


def test_cuda_kernels_run_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    here = os.path.dirname(__file__)
    out = subprocess.run([sys.executable, os.path.join(here, "cuda_plans.py")], env=env,
                         capture_output=True, text=True, timeout=300, cwd=here)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(" ok") == len(cases())
