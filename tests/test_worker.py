"""The compile worker (`codegen/worker.py`): a child process compiling
kernels into the disk cache for the compile-ahead thread. It only fills the
cache: whatever it does, the kernel is built in the user's process and its
results are right."""
import os
import subprocess
import sys

import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from lazyops.codegen import cache, worker

pytestmark = pytest.mark.skipif(not worker.ENABLED, reason="no compile worker here")

SOURCE = ("from numba import njit\n\n\n@njit(cache=True)\ndef kernel(x):\n"
          "    return x * {k} + 1.0\n")


def _request(folder, k):
    """A small kernel of its own (`k` tells it apart) and its arguments."""
    return str(folder), SOURCE.format(k=k), cache.describe([np.arange(3.0)])


@pytest.fixture
def fresh(monkeypatch):
    """A worker of this test's own, stopped after it."""
    worker.stop()
    monkeypatch.setattr(worker, "ENABLED", True)
    yield
    worker.stop()


def test_compiles_into_the_folder_then_finds_it_there(tmp_path, fresh):
    compiled, seconds = worker.compile_into(*_request(tmp_path, 2.5))
    assert compiled and seconds > 0
    assert (tmp_path / f"lazyops_kernel_{cache._key(SOURCE.format(k=2.5))}.py").exists()
    assert worker.compile_into(*_request(tmp_path, 2.5))[0] is False  # loaded, not compiled
    pid = worker._proc[0].pid
    worker.compile_into(*_request(tmp_path, 3.5))
    assert worker._proc[0].pid == pid  # one worker serves every request


def test_a_failed_compile_is_none_and_the_worker_goes_on(tmp_path, fresh):
    folder, _, described = _request(tmp_path, 1)
    assert worker.compile_into(folder, "def kernel(:\n", described) is None
    assert worker.compile_into(folder, SOURCE.format(k=4.5), ("not", "types")) is None
    pid = worker._proc[0].pid
    assert worker.compile_into(*_request(tmp_path, 5.5))[0]
    assert worker._proc[0].pid == pid


def test_a_dead_or_stalled_worker_is_replaced(tmp_path, fresh, monkeypatch):
    worker.compile_into(*_request(tmp_path, 6.5))
    dead = worker._proc[0]
    dead.kill()
    dead.wait()
    assert worker.compile_into(*_request(tmp_path, 7.5))[0]  # a new worker
    assert worker._proc[0] is not dead
    monkeypatch.setattr(worker, "TIMEOUT", 1e-3)  # no compile is that fast
    stalled = worker._proc[0]
    assert worker.compile_into(*_request(tmp_path, 8.5)) is None
    assert worker._proc[0] is None and stalled.poll() is not None  # stopped


def test_an_idle_worker_exits_and_the_next_compile_starts_one(tmp_path, fresh, monkeypatch):
    monkeypatch.setattr(worker, "IDLE", 0.2)
    worker.compile_into(*_request(tmp_path, 9.5))
    idle = worker._proc[0]
    idle.wait(timeout=60)
    assert worker.compile_into(*_request(tmp_path, 10.5))[0]
    assert worker._proc[0] is not idle


def test_a_worker_that_cannot_start_leaves_compiles_here(tmp_path, monkeypatch):
    worker.stop()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    monkeypatch.setattr(worker, "ENABLED", True)
    assert worker.compile_into(*_request(tmp_path, 11.5)) is None
    assert worker.ENABLED is False  # not tried again


def _tiered_force(f, folder):
    """Graph `f(x)` (of a structure new to this process) forced tiered with
    the disk cache in `folder` (new), then again once its kernel is ready: both
    results, how its kernel was built (the miss log), NumPy's result."""
    x = np.linspace(-3, 3, 50000, dtype=np.float32)
    with lo.config.override(tiered=True, small_work=1 << 15):
        first = f(lo.convert_to_tensor(x)).numpy()
        lo.wait_for_kernels()
        t = f(lo.convert_to_tensor(x))
        later = t.numpy()
    assert engine.computed_by(t._value)[1]  # compiled
    assert lo.cache_info()["cache_dir"].startswith(str(folder))
    return first, later, lo.cache_info()["misses"][-1]["how"], f(x)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LAZYOPS_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_tiered_first_call_compiles_in_the_worker_and_loads_here(fresh, folder):
    f = lambda x: np.sqrt(np.abs(x * 1.5)) - 0.25  # noqa: E731
    first, later, how, want = _tiered_force(f, folder)
    assert how == "worker"
    np.testing.assert_array_equal(first, want)
    np.testing.assert_array_equal(later, want)
    # as a new process finds it: on disk, loaded without asking a worker
    worker.stop()
    cache.clear_memory_cache()
    engine.clear_plans()
    first, later, how, want = _tiered_force(f, folder)
    assert how == "disk" and worker._proc[0] is None
    np.testing.assert_array_equal(later, want)


def test_a_failing_worker_costs_a_compile_here_never_a_result(fresh, folder, monkeypatch):
    monkeypatch.setattr(worker, "TIMEOUT", 1e-3)
    first, later, how, want = _tiered_force(lambda x: np.exp(-np.abs(x)) * 0.5 + x, folder)
    assert how == "compiled"
    for got in (first, later):  # (NumPy's exp and the kernel's may differ in an ulp)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_the_worker_prints_nothing_into_its_replies(tmp_path):
    """Numba's own prints (NUMBA_DEBUG_CACHE) go to the worker's stdout: not
    into the pipe that carries its replies."""
    script = ("import numpy as np\nfrom lazyops.codegen import cache, worker\n"
              f"print(worker.compile_into({str(tmp_path)!r}, {SOURCE.format(k=12.5)!r}, "
              "cache.describe([np.arange(3.0)]))[0])\n")
    env = dict(os.environ, NUMBA_DEBUG_CACHE="1")
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"]


def test_the_compile_thread_is_busy_running_python_not_waiting_on_the_worker():
    from lazyops.codegen import background
    seen = []

    def job():
        seen.append(background.busy())
        with background.waiting():
            seen.append(background.busy())
    background.submit(job)
    background.wait()
    assert seen == [True, False] and not background.busy()
