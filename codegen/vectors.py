"""Full-width vectors for lazyops's own kernels on AVX-512 CPUs.

LLVM tunes Intel's AVX-512 CPUs to prefer 256-bit vectors (older ones lower
their clock for 512-bit work), so Numba's loops use half the lanes there.
For the compute-bound kernels (exp, tanh, sin, scans of exps) 512-bit vectors
measured 1.1-2.4x faster, and no slower on memory-bound ones. The preference
is LLVM's per-function attribute `"prefer-vector-width"`: while a lazyops
kernel compiles (`STATE.on`, set on the compiling thread by `compiling()` or,
a context manager costing a microsecond, directly around launches), the
kernel's functions get it as Numba adds them to a code library, so the
user's own Numba functions keep Numba's defaults. `LAZYOPS_WIDE_VECTORS=0`
turns it off.
"""
import contextlib
import os
import re
import threading

_ATTRIBUTE = '"prefer-vector-width"="512"'
# The functions holding a kernel's loops: the kernel (its module is named
# so, see cache.kernel_for) and the bodies Numba outlines from its prange
# loops. Helpers compiled meanwhile (Numba's runtime, `min`), which later
# code of the user's links too, stay as they are.
_OURS = re.compile(r"lazyops_kernel_|__numba_parfor_gufunc_")


class _State(threading.local):
    on = False  # a lazyops kernel is compiling on this thread


STATE = _State()
_enabled = []  # [bool] once decided


def enabled():
    """Whether kernels compile with 512-bit vectors preferred: on a CPU with
    AVX-512 whose Numba code libraries could be taught to (decided once)."""
    if not _enabled:
        _enabled.append(os.environ.get("LAZYOPS_WIDE_VECTORS", "1") != "0" and _has_avx512()
                        and _install())
    return _enabled[0]


def cache_tag():
    """What the kernel cache folder's name says of the vector width (kernels
    built either way must not share a folder)."""
    return "-zmm" if enabled() else ""


@contextlib.contextmanager
def compiling():
    """Compiles on this thread inside the block are lazyops kernels."""
    if not enabled():
        yield
        return
    before, STATE.on = STATE.on, True
    try:
        yield
    finally:
        STATE.on = before


def _has_avx512():
    import llvmlite.binding as ll
    from numba.core import config
    features = config.CPU_FEATURES
    if features is None:
        try:
            features = ll.get_host_cpu_features().flatten()
        except RuntimeError:  # a host LLVM cannot read features of
            return False
    return "+avx512f" in features.split(",")


def _install():
    """Wrap Numba's `CPUCodeLibrary.add_ir_module` so that it marks the
    defined functions of modules added while `compiling()`. False where that
    method is not there to wrap."""
    from numba.core import codegen
    original = getattr(codegen.CPUCodeLibrary, "add_ir_module", None)
    if original is None:
        return False

    def add_ir_module(self, ir_module):
        if STATE.on:
            for fn in ir_module.functions:
                if not fn.is_declaration and _OURS.search(fn.name):
                    # llvmlite names no key-value attributes; its set prints them as given
                    set.add(fn.attributes, _ATTRIBUTE)
        return original(self, ir_module)

    add_ir_module.__wrapped__ = original
    codegen.CPUCodeLibrary.add_ir_module = add_ir_module
    return True
