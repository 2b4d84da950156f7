"""The kernel cache: in memory and on disk.

Kernels are keyed by a hash of their generated source, which depends on the
kernel's structure, dtypes, loop form and rank, never on concrete sizes.
Sources are written to a cache folder named after the lazyops, Numba and
NumPy versions and imported as modules, so Numba's own `cache=True` keeps
the compiled machine code: a second process loads kernels in milliseconds.
"""
import hashlib
import functools
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import time

import numba
import numpy as np


VERSION = importlib.metadata.version("lazyops")

STATS = {"kernels": 0, "compiles": 0, "disk_loads": 0, "hits": 0, "launches": 0,
         "compile_time": 0.0, "run_time": 0.0}

_kernels = {}


@functools.lru_cache(maxsize=None)
def _library_hash():
    """Hash of the code that generated kernels call into. Numba's cache checks
    only a kernel's own file, so a change here must change the folder."""
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("scalar.py", "mathlib.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


_DIR = None


def cache_dir():
    global _DIR
    root = os.environ.get("LAZYOPS_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lazyops")
    tag = (f"v{VERSION}-{_library_hash()}-numba{numba.__version__}-numpy{np.__version__}"
           f"-py{sys.version_info[0]}{sys.version_info[1]}")
    path = os.path.join(root, tag)
    if path != _DIR:
        os.makedirs(path, exist_ok=True)
        _DIR = path
    return path


def kernel_for(source):
    """The Numba dispatcher for `source`, built at most once per process."""
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    fn = _kernels.get(key)
    if fn is not None:
        STATS["hits"] += 1
        return fn
    modname = f"lazyops_kernel_{key}"
    path = os.path.join(cache_dir(), modname + ".py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)  # atomic: concurrent processes see whole files only
    importlib.invalidate_caches()
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    fn = module.kernel
    _kernels[key] = fn
    STATS["kernels"] += 1
    return fn


_disk_hits = {}  # kernel -> Numba disk-cache hits seen so far


def launch(fn, args):
    """Call a kernel, counting compiles (new signatures) and their time.
    Numba's statistics are read only when a call added a signature."""
    n = len(fn.signatures)
    t0 = time.perf_counter()
    fn(*args)
    dt = time.perf_counter() - t0
    STATS["launches"] += 1
    if len(fn.signatures) == n:
        STATS["run_time"] += dt
        return
    hits = sum(fn.stats.cache_hits.values())
    STATS["disk_loads" if hits > _disk_hits.get(fn, 0) else "compiles"] += 1
    _disk_hits[fn] = hits
    STATS["compile_time"] += dt


def cache_info():
    """Compile and cache counters, and compile versus run time (seconds)."""
    return dict(STATS, cached_kernels=len(_kernels), cache_dir=cache_dir())


def clear_memory_cache():
    """Forget in-memory kernels (the disk cache stays); for tests."""
    _kernels.clear()
