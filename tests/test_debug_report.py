"""LAZYOPS_DEBUG=1: each force split into compile, disk load and run time,
each build with the part of its cache key that was new; cache_info() keeps
compile and load times apart."""
import collections
import os
import subprocess
import sys

from lazyops.codegen import cache

SCRIPT = """
import numpy as np, lazyops as lo
x = lo.convert_to_tensor(np.ones((64, 8), np.float32))
lo.sum(lo.exp(x) * 2, axis=1).numpy()
lo.sum(lo.exp(x.T) * 2, axis=1).numpy()
lo.sum(lo.exp(lo.convert_to_tensor(np.ones((64, 8), np.float16))) * 2, axis=1).numpy()
info = lo.cache_info()
print("cache_info", info["compiles"], info["disk_loads"], info["compile_time"] > 0,
      info["load_time"] > 0)
"""


def _run(cache_dir):
    env = dict(os.environ, LAZYOPS_CACHE_DIR=str(cache_dir), LAZYOPS_DEBUG="1",
               LAZYOPS_TIERED="0", LAZYOPS_SMALL_WORK="0")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_debug_splits_forces_and_says_why_kernels_were_built(tmp_path):
    first = _run(tmp_path)
    splits = [line for line in first if line.startswith("[lazyops]   compile ")]
    assert len(splits) == 3 and all("disk load 0.0 ms, run " in s for s in splits)
    builds = [line for line in first if line.startswith("[lazyops]   compiled in ")]
    assert len(builds) == 3, first
    assert "k0 (exp multiply sum), new kernel structure (float32 -> float32; form rows" \
        in builds[0]
    assert "k0 (exp multiply sum), new layout (form cols, rank 2, inputs elem) of a known " \
        "kernel; built before: form rows, rank 2, inputs elem" in builds[1]
    assert "new dtypes (float16 -> float16) of a known kernel structure; built before for " \
        "float32 -> float32" in builds[2]
    assert first[-1] == "cache_info 3 0 True False"
    second = _run(tmp_path)  # a second process loads the kernels from disk
    loads = [line for line in second if line.startswith("[lazyops]   loaded from disk in ")]
    assert len(loads) == 3 and "new kernel structure" in loads[0]
    assert all(line.startswith("[lazyops]   compile 0.0 ms, disk load ")
               for line in second if line.startswith("[lazyops]   compile "))
    assert second[-1] == "cache_info 0 3 False True"


def test_build_report_counts_this_threads_builds_and_lists_each_once(monkeypatch):
    misses = collections.deque([
        {"why": "a", "how": "compiled", "seconds": 0.5, "seq": 7, "background": False},
        {"why": "b", "how": "disk", "seconds": 0.25, "seq": 8, "background": False},
        {"why": "c", "how": "compiled", "seconds": 2.0, "seq": 9, "background": True}])
    monkeypatch.setattr(cache, "MISSES", misses)
    monkeypatch.setattr(cache, "_reported", [7])
    monkeypatch.setitem(cache.STATS, "compiles", 7)
    monkeypatch.setitem(cache.STATS, "disk_loads", 2)
    assert cache.build_report(6, 1.0) == [
        "compile 500.0 ms, disk load 250.0 ms, run 250.000 ms",
        "loaded from disk in 0.25 s: b",
        "compiled in the background in 2.00 s: c"]
    assert cache.build_report(9, 0.001) == ["compile 0.0 ms, disk load 0.0 ms, run 1.000 ms"]


def test_why_new_names_the_new_part_of_the_key(monkeypatch):
    monkeypatch.setattr(cache, "_seen", {})
    assert cache.why_new("k0", "s", "f32", "rows") == "k0, new kernel structure (f32; rows)"
    assert cache.why_new("k0", "s", "f32", "cols").startswith("k0, new layout (cols)")
    assert cache.why_new("k0", "s", "f16", "rows").startswith("k0, new dtypes (f16)")
    assert cache.why_new("k1", "t", "f16", "rows") == "k1, new kernel structure (f16; rows)"
