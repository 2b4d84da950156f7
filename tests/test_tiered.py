"""Tiered first calls: the first force of a new compiled plan runs on the NumPy
interpreter while its kernels compile on a background thread; once they are
ready, forces run compiled. Each step must give NumPy's values."""
import os
import subprocess
import sys

import numpy as np
import pytest

import lazyops as lo
from lazyops import engine

N = 40_000  # more than one parallel block


@pytest.fixture
def tiered():
    with lo.config.override(tiered=True, small_work=0):
        yield
    lo.wait_for_kernels()


def computed_by(t):
    return engine.computed_by(t._value)


def softmax_rows(a):
    e = lo.exp(a - lo.max(a, axis=-1, keepdims=True))
    return e / lo.sum(e, axis=-1, keepdims=True)


def np_softmax_rows(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


CASES = {
    # a structure per case (sign, scale): each test meets a plan never run before
    "chain": (lambda x: (x * 2.0 + 1.5) * 0.25 - x,
              lambda x: (x * np.float32(2) + np.float32(1.5)) * np.float32(0.25) - x),
    "reduction with NaN at a block edge": (lambda x: lo.max(lo.sin(x) * 3.0),
                                           lambda x: np.max(np.sin(x) * np.float32(3))),
    "rows": (lambda x: softmax_rows(lo.reshape(x * -1.0, (200, 200))),
             lambda x: np_softmax_rows((x * np.float32(-1)).reshape(200, 200))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_first_call_interprets_then_kernels_run(tiered, case):
    f, ref = CASES[case]
    x = np.random.default_rng(3).standard_normal(N).astype(np.float32)
    if case.startswith("reduction"):
        x[8191:8193] = np.nan
    want = ref(x)
    before = lo.cache_info()["launches"]
    first = f(lo.convert_to_tensor(x))
    got = first.numpy()
    plan, ran_compiled = computed_by(first)
    assert not ran_compiled
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7, equal_nan=True)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert lo.cache_info()["launches"] == before  # nothing ran compiled
    lo.wait_for_kernels()
    assert plan.tier == "ready"
    later = f(lo.convert_to_tensor(x))
    got = later.numpy()
    assert computed_by(later) == (plan, True)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7, equal_nan=True)
    assert lo.cache_info()["launches"] > before


def test_forces_while_compiling_stay_on_the_interpreter(tiered):
    x = np.linspace(-3, 3, N, dtype=np.float32)
    def f():
        return lo.tanh(lo.convert_to_tensor(x) * 0.5 + 2.0) - x

    t = f()
    t.numpy()
    plan = computed_by(t)[0]
    if plan.tier == "compiling":  # forced again before the kernels are ready
        t2 = f()
        np.testing.assert_allclose(t2.numpy(), np.tanh(x * 0.5 + 2) - x, rtol=1e-6, atol=1e-6)
        assert computed_by(t2)[1] is False
    lo.wait_for_kernels()
    t3 = f()
    np.testing.assert_allclose(t3.numpy(), np.tanh(x * 0.5 + 2) - x, rtol=1e-6, atol=1e-6)
    assert computed_by(t3)[1] is True


def test_a_long_loop_compiles_before_its_first_run(tiered):
    """Interpreted, each step of a loop is Python's: a recurrence over more
    than `_INTERPRETED_STEPS` steps runs compiled from its first force."""
    n = engine._INTERPRETED_STEPS + 1
    xs = np.random.default_rng(5).standard_normal(n).astype(np.float32)
    _, ys = lo.scan(lambda h, x: (h * 0.625 + x,) * 2, np.float32(0.5), xs)
    got = ys.numpy()
    assert computed_by(ys)[1] is True
    h, want = np.float32(0.5), np.empty_like(xs)
    for t in range(n):
        h = h * np.float32(0.625) + xs[t]
        want[t] = h
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    short = lo.scan(lambda h, x: (h * 0.375 + x,) * 2, np.float32(0.5), xs[:1000])[1]
    short.numpy()
    assert computed_by(short)[1] is False  # interpreted while it compiles


def test_off_runs_compiled_at_once():
    x = np.arange(N, dtype=np.float32)
    with lo.config.override(tiered=False, small_work=0):
        t = lo.convert_to_tensor(x) * 3.0 - 7.0
        t.numpy()
    assert computed_by(t)[1] is True


def test_exit_waits_for_the_compile_and_fills_the_disk_cache(tmp_path):
    """A script that forces once and exits: its exit waits for the kernel it
    queued (no crash mid-compile), and a second process loads it from disk."""
    script = ("import sys, numpy as np, lazyops as lo\n"
              "x = np.arange(50000, dtype=np.float32)\n"
              "print(float(lo.sum(lo.sqrt(x) * 0.75 - 1.0)))\n"
              "if sys.argv[1:] == ['wait']:\n"
              "    lo.wait_for_kernels()\n"
              "    print(lo.cache_info()['disk_loads'], lo.cache_info()['compiles'])\n")
    env = dict(os.environ, LAZYOPS_TIERED="1", LAZYOPS_CACHE_DIR=str(tmp_path),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    runs = [subprocess.run([sys.executable, "-c", script, *arg], env=env, capture_output=True,
                           text=True, timeout=300) for arg in ([], ["wait"])]
    for r in runs:
        assert r.returncode == 0, r.stderr
    want = float(np.sum(np.sqrt(np.arange(50000, dtype=np.float32)) * 0.75 - 1.0, dtype=np.float64))
    for r in runs:
        assert float(r.stdout.split()[0]) == pytest.approx(want, rel=1e-5)
    loads, compiles = map(int, runs[1].stdout.split()[1:])
    assert (loads, compiles) == (1, 0), "the first process left its kernel on disk"


FORK_SCRIPT = """
import os, numpy as np, lazyops as lo
from lazyops import engine
x = np.linspace(0, 1, 40_000, dtype=np.float32)
(lo.convert_to_tensor(x) * 4.0 - 0.125).numpy()  # starts the compile thread, runs no kernel
pid = os.fork()  # (forking after a parallel kernel ran is unsafe with OpenMP)
if pid == 0:  # the child: a new structure reaches its kernels; its waits do not hang
    code = 1
    try:
        lo.cos(lo.convert_to_tensor(x) * 3.0).numpy()
        lo.wait_for_kernels()
        t = lo.cos(lo.convert_to_tensor(x) * 3.0)
        if np.allclose(t.numpy(), np.cos(x * 3), rtol=1e-6, atol=1e-6) \\
                and engine.computed_by(t._value)[1] is True:
            code = 0
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_compiles_on_its_own_thread(tmp_path):
    env = dict(os.environ, LAZYOPS_TIERED="1", LAZYOPS_CACHE_DIR=str(tmp_path),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    r = subprocess.run([sys.executable, "-c", FORK_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0"], r.stdout + r.stderr


def _small_plan_runs(f, x, forces):
    """Force `f(x)` `forces` times; the plan and the values of each force."""
    outs = []
    for _ in range(forces):
        t = f(lo.convert_to_tensor(x))
        outs.append(t.numpy())
        lo.wait_for_kernels()
    return computed_by(t)[0], outs


@pytest.mark.parametrize("faster", ["compiled", "interpreter"])
def test_hot_small_plan_keeps_the_faster_path(faster, monkeypatch):
    """A small plan interprets until it has spent `hot_seconds` there, then
    compiles in the background, times compiled runs, and keeps the faster
    path; every force gives NumPy's values."""
    x = np.random.default_rng(5).standard_normal(1000).astype(np.float32)
    x[7] = np.nan
    # a structure per case (runtime scalars are not part of it)
    three, half, quarters = np.float32(3), np.float32(0.5), np.float32(0.75)
    if faster == "compiled":
        f, want = (lambda t: (t * 3.0 + 0.5) * 0.75 - t), (x * three + half) * quarters - x
    else:
        f, want = (lambda t: (t * 3.0 - 0.5) * 0.75 + t), (x * three - half) * quarters + x
    if faster == "interpreter":  # make compiled launches slower than any interpreted run
        import time
        from lazyops.codegen.launch import Launcher
        real = Launcher.__call__
        monkeypatch.setattr(Launcher, "__call__",
                            lambda self, args: (time.sleep(0.01), real(self, args))[1])
    with lo.config.override(tiered=True, hot_seconds=1e-9, serial_work=1 << 14):
        plan, outs = _small_plan_runs(f, x, 3 + engine._TRIALS)
    assert plan.work < lo.config.get("small_work")
    for got in outs:
        np.testing.assert_array_equal(got, want)
    assert plan.trials == engine._TRIALS
    assert plan.small is (faster == "compiled")
    assert plan.best[1] < float("inf") and plan.best[0] < float("inf")
    text = str(lo.explain(f(lo.convert_to_tensor(x))))
    assert ("ran faster than the NumPy interpreter" in text) == (faster == "compiled")


def test_small_plans_stay_interpreted_without_tiering():
    x = np.random.default_rng(6).standard_normal(1000).astype(np.float32)
    with lo.config.override(tiered=False, hot_seconds=1e-9):
        plan, outs = _small_plan_runs(lambda t: (t - 5.0) * 0.75 / t, x, 4)
    assert plan.small is None and plan.tier is None and not plan.ran_compiled


def test_hot_seconds_is_checked():
    with pytest.raises(ValueError, match="hot_seconds"):
        lo.config.set(hot_seconds=-1)
    with pytest.raises(ValueError, match="hot_seconds"):
        lo.config.set(hot_seconds="fast")
