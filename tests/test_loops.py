"""while_loop, fori_loop, scan, map and vectorized_map against keras.ops
(NumPy backend): driven from Python, each step's carries forced at its end
(scans and fori_loops whose bodies are elementwise compile instead: see
test_scan_compiled.py)."""
import numpy as np
import pytest

import lazyops as lo
from oracle import K, assert_same, same_tree

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 4 - 1
X[2, 1] = np.nan


@pytest.mark.parametrize("ops_max", [None, 3])
def test_while_loop(ops_max):
    def run(ops):
        return ops.while_loop(lambda i, s: ops.less(i, 6),
                              lambda i, s: (ops.add(i, 1), ops.multiply(s, 1.5)),
                              (0, np.float32(1.0)), maximum_iterations=ops_max)
    same_tree(run(lo), run(K))
    single = lo.while_loop(lambda v: lo.sum(v) < 100, lambda v: v * 2.0 + 1.0,
                           lo.convert_to_tensor(np.ones(3, np.float32)))
    assert_same(single.numpy(), K.convert_to_numpy(K.while_loop(
        lambda v: K.sum(v) < 100, lambda v: K.add(K.multiply(v, 2.0), 1.0),
        np.ones(3, np.float32))))


def test_fori_loop_with_a_nested_carry():
    def run(ops):
        return ops.fori_loop(1, 5, lambda i, c: {"a": ops.add(c["a"], i),
                                                 "b": (ops.multiply(c["b"][0], 0.5),)},
                             {"a": np.float32(0), "b": (X,)})
    same_tree(run(lo), run(K))


@pytest.mark.parametrize("reverse", [False, True])
def test_scan(reverse):
    def f(ops):
        return lambda c, x: (ops.add(c, x["v"]), (ops.multiply(c, x["w"]), ops.sum(x["v"])))

    def run(ops):
        return ops.scan(f(ops), np.zeros(3, np.float32), {"v": X, "w": X[::-1].copy()},
                        reverse=reverse)
    same_tree(run(lo), run(K))
    got = lo.scan(lambda c, _: (c + 1, c * 2), np.int32(0), length=5)
    want = K.scan(lambda c, _: (K.add(c, 1), K.multiply(c, 2)), np.int32(0), length=5)
    same_tree(got, want)


def test_map_and_vectorized_map():
    same_tree(lo.map(lambda r: (lo.max(r), r * 2.0), X), K.map(lambda r: (K.max(r), r * 2.0), X))
    same_tree(lo.vectorized_map(lambda r: lo.exp(r) - 1.0, X),
              K.vectorized_map(lambda r: K.subtract(K.exp(r), 1.0), X))
    same_tree(lo.vectorized_map(lambda p: p[0] * p[1], [X, X + 1.0]),
              K.vectorized_map(lambda p: K.multiply(p[0], p[1]), [X, X + 1.0]))


def test_each_step_is_forced_so_graphs_stay_small():
    """A body that forces an outer value cannot be traced: the loop is driven
    from Python, each step's carries forced at its end."""
    steps = []
    half = lo.convert_to_tensor(X) * 0.0 + 0.5

    def body(v):
        steps.append(v.is_materialized)
        return v * float(half.numpy()[0, 0]) + 1.0
    _, out = lo.while_loop(lambda i, v: (i < 200) & ~lo.all(v > 1e30), lambda i, v: (i + 1, body(v)),
                           (0, lo.convert_to_tensor(X)))
    assert all(steps[1:]) and out.is_materialized
    want = X.copy()
    for _ in range(200):
        want = want * np.float32(0.5) + np.float32(1.0)
    assert_same(out.numpy(), want)


@pytest.mark.parametrize("n", [1, 2, 3, 8, 33])
def test_associative_scan_groups_as_keras(n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    # one known op: a scan kernel in float64 (Keras adds float32 values, so
    # its float64 result holds float32 roundings)
    assert_same(lo.associative_scan(lo.add, x).numpy(),
                K.convert_to_numpy(K.associative_scan(K.add, x)), rtol=1e-6, atol=1e-6)
    y = np.random.default_rng(n + 1).standard_normal((2, n, 3)).astype(np.float32)
    pair = (lambda ops: lambda a, b: {"s": ops.add(a["s"], b["s"]),
                                      "m": ops.maximum(a["m"], b["m"])})
    # a tree of cheap ops: a left fold, whose float32 sums round in another order
    same_tree(lo.associative_scan(pair(lo), {"s": y, "m": y * 2}, reverse=True, axis=-2),
              K.associative_scan(pair(K), {"s": y, "m": y * 2}, reverse=True, axis=-2),
              rtol=1e-5, atol=1e-5)
    ints = np.arange(n, dtype=np.int32)[::-1].copy()
    same_tree(lo.associative_scan(lo.maximum, ints), K.associative_scan(K.maximum, ints))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: lo.associative_scan(lambda a, b: a[:1], X), ValueError,
     "associative_scan: `f` must keep"),
    (lambda: lo.associative_scan(lo.add, (X, X[:2])), ValueError, "same size along axis 0"),
    (lambda: lo.while_loop(lambda a: a < 3, lambda a: a + 0.5, 0), ValueError,
     "while_loop: the body returns .*float32.* but the carry is .*int32"),
    (lambda: lo.fori_loop(0, 2, lambda i, c: (c, c), X), ValueError, "fori_loop: the body"),
    (lambda: lo.scan(lambda c, x: (c, x), 0.0), ValueError, "scan: give `xs`"),
    (lambda: lo.scan(lambda c, x: c, 0.0, X), TypeError, r"scan: `f` must return \(carry, y\)"),
    (lambda: lo.scan(lambda c, x: (c, x), 0.0, X, unroll=0), ValueError, "unroll"),
    (lambda: lo.while_loop(lambda a: a, lambda a: a, lo.convert_to_tensor(X)), ValueError,
     "scalar boolean"),
    (lambda: lo.map(3, X), TypeError, "map: `f` must be a callable"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_nested_control_flow():
    """A cond inside a scan's body, a scan inside vectorized_map's function,
    a fori_loop inside a scan, a switch inside map: Keras's values, with
    the inner op recorded on the outer one's traced values."""
    xs = np.random.default_rng(3).standard_normal((6, 3)).astype(np.float32)
    xs[4, 2] = np.nan

    def cond_in_scan(ops):
        return ops.scan(lambda h, x: (ops.cond(ops.sum(x) > 0, lambda: h + x, lambda: h - x),
                                      h * 2.0), np.zeros(3, np.float32), xs)

    def scan_in_vmap(ops):
        return ops.vectorized_map(
            lambda r: ops.scan(lambda h, x: (h * 0.5 + x, h), np.float32(0), r)[0], xs)

    def fori_in_scan(ops):
        return ops.scan(lambda h, x: (ops.fori_loop(0, 3, lambda i, v: v * 0.5 + x, h), h),
                        np.ones(3, np.float32), xs)

    def switch_in_map(ops):
        return ops.map(lambda r: ops.switch(ops.cast(ops.argmax(r), "int32"),
                                            [lambda v: v + 1.0, lambda v: v * 2.0,
                                             lambda v: -v], r), xs)
    for run in (cond_in_scan, scan_in_vmap, fori_in_scan, switch_in_map):
        same_tree(run(lo), run(K))


def test_map_and_vectorized_map_of_reducing_functions_run_a_plan_per_slice():
    """A function that reduces or reshapes its slice is traced once and its
    plan runs once per slice on the arrays, as a scan without carries does:
    Keras's values, dtypes and structures."""
    xs = np.random.default_rng(4).standard_normal((30, 8)).astype(np.float32)
    xs[3, 2] = np.nan
    calls = []

    def normalize(ops):
        def f(r):
            calls.append(1)
            return r / ops.sum(ops.abs(r))
        return f
    same_tree(lo.map(normalize(lo), xs), K.map(normalize(K), xs))
    assert len(calls) == 2 + 30  # traced twice here (as elementwise, then as a scan), 30 in Keras
    same_tree(lo.map(lambda r: {"a": lo.max(r), "b": lo.reshape(r, (2, 4))}, xs),
              K.map(lambda r: {"a": K.max(r), "b": K.reshape(r, (2, 4))}, xs))
    same_tree(lo.vectorized_map(lambda r: lo.exp(r - lo.max(r)), xs),
              K.vectorized_map(lambda r: K.exp(r - K.max(r)), xs))
    same_tree(lo.vectorized_map(lambda rs: rs[0] * lo.mean(rs[1]), [xs, xs[::-1]]),
              K.vectorized_map(lambda rs: rs[0] * K.mean(rs[1]), [xs, xs[::-1]]))


def test_a_stepped_loop_leaves_the_values_it_reads_unmaterialized():
    """The loop computes the arrays of the lazy values its body reads (a
    captured lazy tensor) without materializing them: a value may be shared
    by other graphs (a memoized scalar constant), whose structure would
    change with it."""
    w = lo.convert_to_tensor(np.arange(3, dtype=np.float32)) * 0.5
    got = lo.scan(lambda h, x: (h / (lo.sum(lo.abs(h)) + 1.0) + x * w, None),
                  np.ones(3, np.float32), X)
    assert not w.is_materialized
    same_tree(got[0], K.scan(lambda h, x: (h / (K.sum(K.abs(h)) + 1.0) + x * w.numpy(), None),
                             np.ones(3, np.float32), X)[0])
