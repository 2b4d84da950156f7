"""The on-disk kernel cache never breaks a run: corrupt entries are recompiled
and rewritten, an unusable or unsafe folder falls back to compiling in memory
after one warning, and concurrent processes share a folder safely."""
import glob
import os
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from lazyops.codegen import cache

X = np.arange(10, dtype=np.float32)


def forget():
    """Forget every kernel this process holds, so the next force loads from disk."""
    cache.clear_memory_cache()
    engine.clear_plans()


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A cache root, not yet created, chosen through LAZYOPS_CACHE_DIR."""
    path = tmp_path / "cache"
    monkeypatch.setenv("LAZYOPS_CACHE_DIR", str(path))
    forget()
    yield path
    forget()


def run(ops=("abs",)):
    """Force one compiled kernel, x -> ops -> * 2, check it against NumPy and
    return the change in the cache counters."""
    before = lo.cache_info()
    with lo.config.override(small_work=0):
        t, want = lo.convert_to_tensor(X), X
        for op in ops:
            t, want = getattr(lo, op)(t), getattr(np, op)(want)
        got = (t * 2).numpy()
    np.testing.assert_allclose(got, want * 2, rtol=1e-5)
    after = lo.cache_info()
    delta = {k: after[k] - before[k] for k in ("kernels", "compiles", "disk_loads")}
    assert delta["kernels"] == 1 and delta["compiles"] + delta["disk_loads"] == 1, delta
    return delta


def kernel_files():
    (fn,) = cache._kernels.values()
    return fn.stats.cache_path, fn.py_func.__code__.co_filename


def cache_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, cache.CacheWarning)]


COMPILED = {"kernels": 1, "compiles": 1, "disk_loads": 0}
LOADED = {"kernels": 1, "compiles": 0, "disk_loads": 1}


# -- corrupt entries are recompiled and rewritten

@pytest.mark.parametrize("corrupt", ["truncated", "garbage", "null_bytes"])
def test_corrupt_source_file_is_recompiled_and_rewritten(root, corrupt):
    assert run() == COMPILED
    _, source = kernel_files()
    good = open(source, "rb").read()
    bad = {"truncated": good[:len(good) // 2],
           "garbage": b"def kernel(m, n, [\n  garbage",
           "null_bytes": b"\x00" * len(good)}[corrupt]
    with open(source, "wb") as f:
        f.write(bad)
    forget()
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheWarning)
        assert run() == COMPILED  # Numba's saved machine code belongs to the old file
    assert open(source, "rb").read() == good
    forget()
    assert run() == LOADED  # the entry works again


@pytest.mark.parametrize("corrupt", ["index_garbage", "index_truncated", "data_garbage",
                                     "data_truncated"])
def test_corrupt_numba_files_are_recompiled(root, corrupt):
    assert run(("sqrt",)) == COMPILED
    folder, source = kernel_files()
    stem = os.path.splitext(os.path.basename(source))[0]
    (path,) = glob.glob(os.path.join(folder, stem + (".*.nbi" if "index" in corrupt else ".*.nbc")))
    good = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(good[:len(good) // 2] if "truncated" in corrupt else b"\x00garbage" * 8)
    forget()
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheWarning)
        assert run(("sqrt",)) == COMPILED
    forget()
    assert run(("sqrt",)) == LOADED  # saved afresh


# -- unusable folders: compile in memory after one warning

def assert_in_memory(folder, record, reason):
    (message,) = cache_warnings(record)
    assert str(folder) in message and reason in message, message
    assert not lo.cache_info()["disk_cache"]
    (fn,) = cache._kernels.values()
    assert fn.stats.cache_path is None  # no Numba disk cache
    assert not glob.glob(os.path.join(str(folder), "**", "*.py"), recursive=True)


def test_read_only_folder_compiles_in_memory(root, monkeypatch):
    folder = cache.cache_dir()
    os.makedirs(folder, 0o700)
    if os.geteuid() == 0:  # root writes through chmod: make os.access say no instead
        real = os.access
        monkeypatch.setattr(os, "access",
                            lambda p, mode, **kw: p != folder and real(p, mode, **kw))
    else:
        os.chmod(folder, 0o500)
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            assert run(("negative", "abs")) == COMPILED
    finally:
        os.chmod(folder, 0o700)
    assert_in_memory(folder, record, "not writable")


def test_folder_under_a_regular_file_warns_once_for_many_kernels(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("LAZYOPS_CACHE_DIR", str(tmp_path / "file" / "cache"))
    forget()
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for ops in [("abs",), ("abs", "sqrt"), ("abs", "negative")]:
                forget()
                assert run(ops) == COMPILED
                lo.cache_info()
        assert_in_memory(tmp_path / "file" / "cache", record, "Not a directory")
    finally:
        forget()


@pytest.mark.parametrize("case", ["root_world_writable", "folder_group_writable",
                                  "other_owner"])
def test_folder_other_users_can_write_is_refused(root, case, monkeypatch):
    folder = cache.cache_dir()
    os.makedirs(folder, 0o700)
    os.chmod(root, 0o700)
    if case == "root_world_writable":
        os.chmod(root, 0o777)
    elif case == "folder_group_writable":
        os.chmod(folder, 0o770)
    elif os.geteuid() == 0:
        os.chown(folder, 65534, 65534)
    else:
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert run(("negative",)) == COMPILED
    reason = "owned by another user" if case == "other_owner" else "writable by other users"
    assert_in_memory(folder, record, reason)


@pytest.mark.parametrize("failure", ["disk_full", "no_numba_locator"])
def test_failures_in_a_usable_folder_fall_back_to_memory(root, failure, monkeypatch):
    if failure == "disk_full":
        def mkstemp(*args, **kwargs):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(cache.tempfile, "mkstemp", mkstemp)
        reason = "No space left on device"
    else:  # Numba finds no folder to cache in: "no locator available"
        from numba.core import caching
        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        monkeypatch.setattr(impl, "_locator_classes", [])
        reason = "no locator available"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert run(("square",)) == COMPILED
        forget()
        assert run(("square", "abs")) == COMPILED
    (message,) = cache_warnings(record)
    assert cache.cache_dir() in message and reason in message, message
    assert not lo.cache_info()["disk_cache"]


# -- permissions and concurrency

def test_cache_folders_are_created_private(tmp_path, monkeypatch):
    root = tmp_path / "a" / "b" / "cache"
    monkeypatch.setenv("LAZYOPS_CACHE_DIR", str(root))
    forget()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", cache.CacheWarning)
            assert run(("exp", "negative")) == COMPILED
            assert lo.cache_info()["disk_cache"]
        _, source = kernel_files()
    finally:
        forget()
    folder = cache.cache_dir()
    assert os.path.dirname(source) == folder
    for path in (root, folder):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(source).st_mode) & 0o077 == 0


def test_two_processes_compile_the_same_new_kernel(tmp_path):
    # Both processes start on a missing cache root (they race to create the
    # folders) and, after a barrier, compile and save the same kernel.
    code = textwrap.dedent("""
        import os, sys, time
        import numpy as np, lazyops as lo
        barrier, me = sys.argv[1], sys.argv[2]
        open(os.path.join(barrier, me), "w").close()
        deadline = time.time() + 30
        while len(os.listdir(barrier)) < 2 and time.time() < deadline:
            time.sleep(0.005)
        lo.config.set(small_work=0)
        x = lo.convert_to_tensor(np.arange(10, dtype=np.float32))
        print(lo.sqrt(lo.abs(x * 3.0 - 5.0)).numpy().tolist())
    """)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = dict(os.environ, LAZYOPS_CACHE_DIR=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(barrier), str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    want = np.sqrt(np.abs(X * 3 - 5)).tolist()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "Warning" not in err, err
        np.testing.assert_allclose(eval(out), want, rtol=1e-6)
    sources = glob.glob(str(tmp_path / "cache" / "*" / "lazyops_kernel_*.py"))
    assert len(sources) == 1
    assert not glob.glob(str(tmp_path / "cache" / "*" / "*.tmp"))
