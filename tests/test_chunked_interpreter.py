"""Kernels that compute each row alone (elementwise ones, and row reductions:
softmax, layer norm) on the interpreter a chunk of rows at a time (the tiered
first run, `ir.interpreter.run_chunked`): the same values and dtypes as the
whole-array run, bit for bit, broadcasts and strided inputs included; other
kernels (a reduction over the leading axis) run whole."""
import numpy as np
import pytest

import lazyops as lo
from lazyops.engine import plan_of
from lazyops.ir import interpreter

rng = np.random.default_rng(5)


def data(shape, dtype="float32"):
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[::17] = np.nan
    a.flat[5::23] = np.inf
    return a


A = data((37, 9))
B = data((37, 9))
ROW, COL = data((9,)), data((37, 1))
FLAT = data((1001,))
H = data((1001,), "float16")
T = data((9, 37)).T  # strided: a transposed NumPy array, read in place


def gelu(x):
    return 0.5 * x * (1.0 + lo.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def _softmax_and_max(x):
    m = lo.max(x, axis=-1, keepdims=True)
    e = lo.exp(x - m)
    return [e / lo.sum(e, axis=-1, keepdims=True), m]


def _layer_norm(x, g):
    d = x - lo.mean(x, axis=-1, keepdims=True)
    return d / lo.sqrt(lo.mean(d * d, axis=-1, keepdims=True) + 1e-5) * g


def _centered(x):
    return x - lo.mean(x, axis=-1, keepdims=True)


CASES = {  # name: (graph of tensors, whether its kernels chunk)
    "gelu, float64 cube inside": (lambda: [gelu(lo.convert_to_tensor(FLAT))], True),
    "float16 chain": (lambda: [lo.sqrt(lo.abs(lo.sin(lo.convert_to_tensor(H)) * 2.0 - 0.5))],
                      True),
    "row, column and scalar broadcasts": (
        lambda: [lo.convert_to_tensor(A) * ROW + COL - 1.5], True),
    "strided input": (lambda: [lo.exp(lo.convert_to_tensor(T)) * lo.convert_to_tensor(B)],
                      True),
    "two outputs": (lambda: [lo.convert_to_tensor(A) * 3.0,
                             lo.convert_to_tensor(A) + lo.convert_to_tensor(B)], True),
    "where on a comparison, integer cast": (
        lambda: [lo.where(lo.convert_to_tensor(A) > 0, lo.cast(lo.convert_to_tensor(B), "int32"),
                          7)], True),
    "row logsumexp": (lambda: [lo.logsumexp(lo.convert_to_tensor(A) * 2.0, axis=-1)], True),
    "row softmax and its max": (lambda: _softmax_and_max(lo.convert_to_tensor(A)), True),
    "layer norm": (lambda: [_layer_norm(lo.convert_to_tensor(B), ROW)], True),
    "column sums": (lambda: [lo.sum(lo.exp(lo.convert_to_tensor(A)), axis=0)], False),
    # NumPy sums a strided row alone in another order than among others
    "row means of a strided input": (lambda: [_centered(lo.convert_to_tensor(T))], False),
    "a full sum": (lambda: [lo.sum(lo.convert_to_tensor(A) * 2.0)], False),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("chunk", [7, 64])
def test_chunked_equals_whole(case, chunk, monkeypatch):
    graph, chunks = CASES[case]
    outs = graph()
    plan, _, leaves = plan_of([t._value for t in outs])
    args = [v.data for v in leaves]
    with np.errstate(all="ignore"):
        whole = plan._sweep(args, interpreter.run_op)
        ran = []
        real = interpreter.run_chunked
        monkeypatch.setattr(interpreter, "run_chunked",
                            lambda *a: ran.append(a[2]) or real(*a))
        chunked = plan._sweep(args, lambda op, vals: interpreter.run_op(op, vals, chunk))
    assert bool(ran) == chunks
    for w, c, t in zip(whole, chunked, outs):
        assert c.dtype == w.dtype == np.dtype(t.dtype) and c.shape == w.shape == tuple(t.shape)
        np.testing.assert_array_equal(c, w)  # NaN where NaN, bit for bit elsewhere


def test_small_kernels_run_whole(monkeypatch):
    ran = []
    monkeypatch.setattr(interpreter, "run_chunked", lambda *a: ran.append(a))
    plan, _, leaves = plan_of([(lo.convert_to_tensor(FLAT) * 2.0)._value])
    plan._sweep([v.data for v in leaves], lambda op, vals: interpreter.run_op(op, vals, 1000))
    assert not ran  # 1001 elements: fewer than two chunks


def test_first_tiered_run_chunks_its_elementwise_kernel(monkeypatch):
    """The first force of a new plan on the tiered path interprets chunked;
    its kernels compile in the background as before."""
    from lazyops import engine
    ran = []
    real = interpreter.run_chunked
    monkeypatch.setattr(interpreter, "run_chunked", lambda *a: ran.append(a[2]) or real(*a))
    monkeypatch.setattr(engine, "_CHUNK", 100)
    x = data((5003,))
    lo.wait_for_kernels()  # (a compile still running would make the first run whole)
    with lo.config.override(tiered=True, small_work=0):
        got = (lo.cos(lo.convert_to_tensor(x)) * -2.75 + 0.125).numpy()
        lo.wait_for_kernels()
    assert ran == [100]
    np.testing.assert_array_equal(got, np.cos(x) * np.float32(-2.75) + np.float32(0.125))


def test_strided_row_reductions_run_whole():
    """One strided row alone (a chunk of one row) sums in another order than
    among others; such kernels are interpreted whole (found in review)."""
    a = np.random.default_rng(1).standard_normal((70000, 4)).astype("float32").T
    plan, _, leaves = plan_of([_centered(lo.convert_to_tensor(a))._value])
    args = [v.data for v in leaves]
    with np.errstate(all="ignore"):
        whole = plan._sweep(args, interpreter.run_op)
        chunked = plan._sweep(args, lambda op, vals: interpreter.run_op(op, vals, 1 << 16))
    np.testing.assert_array_equal(chunked[0], whole[0])
    np.testing.assert_array_equal(whole[0], a - a.mean(-1, keepdims=True))
