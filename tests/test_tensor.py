"""The lazy `Tensor` handle: metadata, Python operators (checked against the
keras.ops function each one stands for, as KerasTensor defines them),
indexing, forcing, repr, `evaluate`, and that forced graphs are released."""
import gc
import operator
import weakref

import numpy as np
import pytest

import lazyops as lo
from lazyops.ir.core import Operation
from oracle import K, assert_same, keras_call, values

# ---------------------------------------------------------------- metadata


@pytest.mark.parametrize("shape,dtype", [((), "float32"), ((3,), "int8"), ((2, 3, 4), "bool"),
                                         ((2, 0, 3), "uint8"), ((1, 1), "float16")])
def test_metadata(shape, dtype):
    x = values(shape, dtype, "any")
    t = lo.convert_to_tensor(x)
    lazy = lo.abs(t) if dtype != "bool" else lo.logical_not(t)
    for h in (t, lazy):
        assert h.shape == shape and isinstance(h.shape, tuple)
        assert all(type(d) is int for d in h.shape)
        assert h.dtype == dtype and isinstance(h.dtype, str)
        assert h.ndim == len(shape)
        assert h.size == int(np.prod(shape))
    assert not lazy.is_materialized  # metadata did not force anything
    if shape:
        assert len(t) == shape[0] == len(lazy)
    else:
        with pytest.raises(TypeError):
            len(t)


def test_tensor_methods():
    x = values((2, 3), "int16", "any")
    t = lo.convert_to_tensor(x)
    assert_same(t.T.numpy(), x.T)
    assert_same(t.astype("float16").numpy(), x.astype("float16"))
    assert_same(t.reshape(3, 2).numpy(), x.reshape(3, 2))
    assert_same(t.reshape((6,)).numpy(), x.reshape(6))
    assert_same((+t).numpy(), x)
    rows = list(t)
    assert len(rows) == 2 and all(isinstance(r, lo.Tensor) for r in rows)
    assert_same(rows[1].numpy(), x[1])


# ---------------------------------------------------------------- operators

BINOPS = {
    "+": (operator.add, "add"), "-": (operator.sub, "subtract"),
    "*": (operator.mul, "multiply"), "/": (operator.truediv, "divide"),
    "//": (operator.floordiv, "floor_divide"), "%": (operator.mod, "mod"),
    "**": (operator.pow, "power"), "==": (operator.eq, "equal"),
    "!=": (operator.ne, "not_equal"), "<": (operator.lt, "less"),
    "<=": (operator.le, "less_equal"), ">": (operator.gt, "greater"),
    ">=": (operator.ge, "greater_equal"), "&": (operator.and_, "bitwise_and"),
    "|": (operator.or_, "bitwise_or"), "^": (operator.xor, "bitwise_xor"),
}
# Reflected comparisons: `2 < t` calls `t.__gt__(2)`, i.e. greater(t, 2).
SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# (lhs kind, rhs kind): "t" lazy tensor, "np" NumPy array, "int"/"float" Python scalars.
OPERAND_PAIRS = [("t", "t"), ("t", "int"), ("int", "t"), ("t", "float"), ("float", "t"),
                 ("t", "np"), ("np", "t")]


def _operand(kind, dtype, seed):
    if kind == "int":
        return 3
    if kind == "float":
        return 1.5
    x = values((2, 3), dtype, "small" if seed == 1 else "nonzero", seed)
    if dtype.startswith("int") and seed == 2:
        x = np.abs(x).astype(dtype)  # non-negative exponents
    return x


@pytest.mark.parametrize("pair", OPERAND_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
@pytest.mark.parametrize("sym", list(BINOPS))
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_binary_operator(sym, pair, dtype):
    pyop, kname = BINOPS[sym]
    a, b = _operand(pair[0], dtype, 1), _operand(pair[1], dtype, 2)
    la = lo.convert_to_tensor(a) if pair[0] == "t" else a
    lb = lo.convert_to_tensor(b) if pair[1] == "t" else b
    if pair[0] != "t" and sym in SWAPPED:  # reflected comparison
        expected, err = keras_call(getattr(K, BINOPS[SWAPPED[sym]][1]), b, a)
    else:
        expected, err = keras_call(kname, a, b)
    if err is not None:
        with pytest.raises((TypeError, ValueError, type(err))):
            pyop(la, lb)
        return
    got = pyop(la, lb)
    assert isinstance(got, lo.Tensor), f"{pair[0]} {sym} {pair[1]} gave {type(got).__name__}"
    assert not got.is_materialized
    assert_same(got.numpy(), expected, what=f"{pair[0]} {sym} {pair[1]}")


@pytest.mark.parametrize("dtype", ["float32", "int8", "bool", "uint8"])
def test_unary_operators(dtype):
    x = values((2, 3), dtype, "any")
    t = lo.convert_to_tensor(x)
    for pyop, kname in [(operator.neg, "negative"), (operator.abs, "absolute"),
                        (operator.invert, "bitwise_invert"), (operator.pos, None)]:
        expected, err = keras_call(kname, x) if kname else (x, None)
        if err is not None:
            with pytest.raises((TypeError, ValueError)):
                pyop(t)
            continue
        assert_same(pyop(t).numpy(), expected, what=f"{pyop.__name__}({dtype})")
    assert_same(abs(t).numpy(), keras_call("abs", x)[0])


def test_numpy_array_on_the_left_gives_a_tensor():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    t = lo.convert_to_tensor(np.ones((2, 3), "float32"))
    for r in (x + t, x - t, x * t, x / t, x ** t, x < t, x == t, x @ t.T):
        assert isinstance(r, lo.Tensor), type(r)
    assert_same((x - t).numpy(), x - 1)
    assert_same((np.float32(2) * t).numpy(), np.full((2, 3), 2, "float32"))


# ---------------------------------------------------------------- matmul

MATMUL = [
    ("float32", "float32", (2, 3), (3, 4)), ("float32", "float32", (3,), (3, 4)),
    ("float32", "float32", (2, 3), (3,)), ("float32", "float32", (3,), (3,)),
    ("float32", "float32", (2, 2, 3), (3, 4)), ("float32", "float32", (2, 1, 2, 3), (3, 3, 2)),
    ("int8", "int8", (2, 3), (3, 4)), ("int8", "uint8", (2, 3), (3, 2)),
    ("float16", "float32", (2, 3), (3, 2)), ("int32", "float32", (2, 3), (3, 2)),
    ("int16", "int16", (4, 3), (3, 2)), ("bool", "bool", (2, 3), (3, 2)),
    ("float16", "float16", (2, 3), (3, 2)), ("float32", "float32", (2, 0), (0, 3)),
]


@pytest.mark.parametrize("d1,d2,s1,s2", MATMUL,
                         ids=[f"{a}{'x'.join(map(str, s))}@{b}{'x'.join(map(str, r))}"
                              for a, b, s, r in MATMUL])
def test_matmul_operator(d1, d2, s1, s2):
    a, b = values(s1, d1, "small", 1), values(s2, d2, "small", 2)
    expected, err = keras_call("matmul", a, b)
    assert err is None
    got = lo.convert_to_tensor(a) @ lo.convert_to_tensor(b)
    assert got.dtype == expected.dtype.name and got.shape == expected.shape
    assert_same(got.numpy(), expected, atol=1e-5, what="@")
    assert_same(lo.matmul(a, b).numpy(), expected, atol=1e-5, what="matmul")
    assert_same((a @ lo.convert_to_tensor(b)).numpy(), expected, atol=1e-5, what="np @ t")


def test_matmul_int8_is_int32():
    a = np.full((2, 64), 127, "int8")
    b = np.full((64, 3), 127, "int8")
    t = lo.convert_to_tensor(a) @ lo.convert_to_tensor(b)
    assert t.dtype == "int32"
    assert_same(t.numpy(), K.convert_to_numpy(K.matmul(a, b)))
    assert int(t.numpy()[0, 0]) == 64 * 127 * 127


# ---------------------------------------------------------------- indexing

KEYS = [
    0, -1, 3, (1, 2), (-1, -2, -3), slice(None), slice(1, 3), slice(None, None, 2),
    slice(None, None, -1), slice(3, 0, -2), slice(-2, None), slice(10, 20), slice(None, -10),
    (slice(None), 2), (Ellipsis, 1), (1, Ellipsis), (None,), (None, 0, None),
    (slice(None), None, slice(1, None, 2)), (Ellipsis, None), (0, slice(None, None, -2), -1),
    (Ellipsis,), (slice(4, None, -1), Ellipsis, slice(None, None, 3)), np.int64(2),
    (1, 2, 3), (slice(-1, -5, -1),), (None, Ellipsis, None), (slice(0, 0),),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem(key):
    x = values((4, 5, 6), "float32", "finite")
    t = lo.convert_to_tensor(x)
    got = t[key]
    assert isinstance(got, lo.Tensor)
    assert got.shape == x[key].shape
    assert_same(got.numpy(), np.asarray(x[key]), what=f"t[{key!r}]")
    # on a lazy tensor too, and composed
    y = lo.exp(t)
    assert_same(y[key].numpy(), np.exp(x)[key], what=f"exp(t)[{key!r}]")


def test_getitem_chain_and_scalar_shapes():
    x = values((4, 5, 6), "int32", "any")
    t = lo.convert_to_tensor(x)
    assert_same(t[1:][::-1][:, 2][..., 1:4:2].numpy(), x[1:][::-1][:, 2][..., 1:4:2])
    assert_same(t[3, 4, 5].numpy(), np.asarray(x[3, 4, 5]))
    s = lo.convert_to_tensor(np.float32(2.5))
    assert_same(s[...].numpy(), np.asarray(np.float32(2.5)))
    assert_same(s[None].numpy(), np.asarray([2.5], "float32"))


# ---------------------------------------------------------------- forcing

def test_forcing_paths():
    x = values((2, 3), "float32", "finite")
    t = lo.convert_to_tensor(x)
    y = t * 2.0 + 1.0
    assert not y.is_materialized
    a = y.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (2, 3)
    assert y.is_materialized
    np.testing.assert_allclose(a, x * 2 + 1, rtol=1e-6)
    z = t - 1.0
    b = np.asarray(z)
    assert isinstance(b, np.ndarray) and b.dtype == np.float32
    np.testing.assert_allclose(b, x - 1, rtol=1e-6)
    assert np.asarray(t + 0.5, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(lo.convert_to_numpy(t * 1.0), x)
    np.testing.assert_array_equal(y.numpy(), a)  # forcing again gives the same values
    np.testing.assert_array_equal(np.array(t + 0.0), x)


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_python_scalar_conversion(shape):
    f = lo.convert_to_tensor(np.full(shape, 2.75, "float32"))
    assert float(f * 2.0) == 5.5 and type(float(f)) is float
    assert int(f) == 2 and type(int(f)) is int
    assert int(-f) == -2
    assert bool(f) is True and bool(f * 0.0) is False
    i = lo.convert_to_tensor(np.full(shape, 7, "int32"))
    assert int(i + 1) == 8 and float(i) == 7.0
    assert [10, 20, 30, 40, 50, 60, 70, 80][i] == 80  # __index__
    b = lo.convert_to_tensor(np.full(shape, 3.0, "float32")) > 2.0
    assert bool(b) is True
    if (lo.convert_to_tensor(np.full(shape, 1.0, "float32")) < 0.0):
        pytest.fail("bool() of a False comparison was True")


@pytest.mark.parametrize("shape", [(2,), (0,), (2, 3)])
def test_python_scalar_conversion_needs_size_1(shape):
    t = lo.convert_to_tensor(np.zeros(shape, "float32")) + 1.0
    for conv in (float, int, bool):
        with pytest.raises(TypeError, match="size 1"):
            conv(t)


def test_repr():
    x = lo.convert_to_tensor(np.array([[1.5, 2.0], [3.0, 4.0]], "float32"))
    y = lo.exp(x)
    r = repr(y)
    assert "<lazy" in r and "2x2" in r and "float32" in r and "exp" in r
    assert "test_tensor.py" in r  # the user's source location
    y.numpy()
    r = repr(y)
    assert "<lazy" not in r and "float32" in r and "(2, 2)" in r
    assert "4.48" in r  # exp(1.5) = 4.4817
    assert "scalar" in repr(lo.sin(lo.convert_to_tensor(np.float32(1.0))))
    big = repr(lo.convert_to_tensor(np.zeros((100, 100), "float32")))
    assert len(big) < 1000  # summarized
    assert "int8" in repr(lo.convert_to_tensor(np.zeros(3, "int8")))


def test_evaluate_forces_together():
    x = lo.convert_to_tensor(values((3, 4), "float32", "finite"))
    a = lo.sum(x * x, axis=1)
    b = lo.exp(x) - 1.0
    c = lo.cast(x > 0, "int8")
    out = lo.evaluate(a, b, c)
    assert isinstance(out, tuple) and len(out) == 3
    for t, arr in zip((a, b, c), out):
        assert isinstance(arr, np.ndarray)
        assert t.is_materialized
        assert t._value.owner is None and t._value.data is not None
        np.testing.assert_array_equal(arr, t.numpy())
        assert arr.dtype.name == t.dtype and arr.shape == t.shape
    xv = x.numpy()
    np.testing.assert_allclose(out[0], (xv * xv).sum(1), rtol=1e-6)
    np.testing.assert_array_equal(out[2], (xv > 0).astype("int8"))
    # evaluating already-forced tensors, duplicates and leaves is fine
    again = lo.evaluate(a, a, x)
    np.testing.assert_array_equal(again[0], out[0])
    np.testing.assert_array_equal(again[2], xv)
    assert lo.evaluate() == ()


def test_new_graph_on_forced_tensor_reads_its_buffer():
    x = lo.convert_to_tensor(np.arange(4, dtype="float32"))
    y = lo.exp(x) * 2.0
    ya = y.numpy()
    assert y._value.owner is None  # the graph behind y was dropped
    assert y._value.data is not None
    z = y + 1.0
    op = z._value.owner
    assert isinstance(op, Operation)
    assert any(v is y._value for v in op.operands)  # z's graph starts at y's buffer
    np.testing.assert_allclose(z.numpy(), ya + 1.0, rtol=1e-6)
    # The returned array is the tensor's buffer: a write is the tensor's new
    # value, read by graphs forced after it (as torch.Tensor.numpy()).
    ya[0] = 123.0
    assert y.numpy() is ya and y.numpy()[0] == 123.0
    np.testing.assert_allclose((y + 1.0).numpy()[0], 124.0)


def _count_ops():
    gc.collect()
    # type() rather than isinstance(): a dead weakref.proxy in the heap raises
    # ReferenceError on isinstance
    return sum(1 for o in gc.get_objects() if type(o) is Operation)


def test_forcing_in_a_loop_frees_old_graphs():
    x = lo.convert_to_tensor(np.zeros((8,), "float32"))
    first = x * 0.5
    early = weakref.ref(first._value)
    x = first + 1.0
    x.numpy()
    del first
    for _ in range(20):  # warm: plans and kernels for this structure exist now
        x = x * 0.5 + 1.0
        x.numpy()
    before = _count_ops()
    expected = np.float32(1.0)
    for _ in range(2000):
        x = x * 0.5 + 1.0
        x.numpy()
    gc.collect()
    assert early() is None, "an intermediate of the first step is still alive"
    assert _count_ops() - before < 50, "operations accumulate across forced steps"
    for _ in range(2020):
        expected = expected * np.float32(0.5) + np.float32(1.0)
    np.testing.assert_allclose(x.numpy(), np.full(8, expected), rtol=1e-6)


def test_unforced_chain_does_not_keep_forced_parents():
    """A long lazy chain forced once at the end works and then lets go of its graph."""
    x = lo.convert_to_tensor(np.ones((4,), "float32"))
    y = x
    for _ in range(3000):  # deep graph: collection must not recurse
        y = y * 1.0001 - 0.0001
    mid = weakref.ref(y._value.owner.operands[0])
    out = y.numpy()
    gc.collect()
    assert mid() is None
    np.testing.assert_allclose(out, np.ones(4), rtol=1e-5)


def test_bitwise_operators_are_numpys_logical_on_booleans_and_refused_on_floats():
    b = lo.convert_to_tensor(np.array([True, False, True]))
    c = lo.convert_to_tensor(np.array([True, True, False]))
    np.testing.assert_array_equal((~b).numpy(), [False, True, False])
    np.testing.assert_array_equal((b & c).numpy(), [True, False, False])
    np.testing.assert_array_equal((b | c).numpy(), [True, True, True])
    np.testing.assert_array_equal((b ^ c).numpy(), [False, True, True])
    i = np.array([1, 2, 3], "int32")
    t = lo.convert_to_tensor(i)
    for got, want in [(~t, ~i), (t & 1, i & 1), (t | b, i | b.numpy()), (t ^ t, i ^ i),
                      (i & t, i & i)]:
        assert_same(got.numpy(), want)
    f = lo.convert_to_tensor(np.ones(3, "float32"))
    for op in (lambda: ~f, lambda: f & 1, lambda: f | f):
        with pytest.raises(TypeError, match="float32"):
            op()
