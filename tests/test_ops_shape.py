"""Differential tests of the shape, indexing and creation ops against
keras.ops (NumPy backend): views, masks from `arange`, and library ops, on
the interpreter and compiled, and their errors."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from oracle import K, assert_same, check, values

A2 = values((3, 4), "float32")
A3 = values((2, 3, 4), "float32", "small")
V = values((3,), "float32", "small")
I2 = values((3, 4), "int32")

CASES = [
    ("moveaxis", (A3, 0, -1), {}), ("moveaxis", (A3, [0, 1], [2, 0]), {}),
    ("swapaxes", (A3, 0, 2), {}), ("swapaxes", (A3, -1, 1), {}),
    ("flip", (A3,), {}), ("flip", (A3,), {"axis": 1}), ("flip", (A3,), {"axis": (0, 2)}),
    ("ravel", (A3,), {}), ("copy", (A2,), {}),
    ("tril", (A2,), {}), ("tril", (A3, -1), {}), ("triu", (A2, 1), {}), ("triu", (A3,), {}),
    ("tril", (A2, 5), {}), ("triu", (A2, -5), {}),
    ("diagonal", (A2,), {}), ("diagonal", (A3, 1, 0, 2), {}), ("diagonal", (A3, -1, 2, 1), {}),
    ("diagonal", (A2, 7), {}),
    ("diag", (V,), {}), ("diag", (V, 2), {}), ("diag", (V, -1), {}), ("diag", (A2,), {}),
    ("diag", (A2, 1), {}), ("diag", (A2, -2), {}),
    ("roll", (A2, 1), {}), ("roll", (A2, -2, 1), {}), ("roll", (A3, (1, 2), (0, 2)), {}),
    ("roll", (A2, 13, 0), {}),
    ("tile", (A2, 2), {}), ("tile", (A2, (2, 1, 3)), {}), ("tile", (V, (2, 2)), {}),
    ("tile", (A3, (2, 1)), {}),
    ("repeat", (A2, 2), {}), ("repeat", (A2, 3, 1), {}), ("repeat", (A2, [1, 0, 2], 0), {}),
    ("repeat", (A2, [2, 2, 2], 0), {}), ("repeat", (A3, 0, -1), {}), ("repeat", (A3, [3], 1), {}),
    ("repeat", (np.float32(2.5), 3), {}),
    ("pad", (A2, 1), {}), ("pad", (A2, ((1, 2), (0, 1))), {}),
    ("pad", (A2, 1), {"mode": "reflect"}), ("pad", (A2, ((1, 1), (2, 0))), {"mode": "edge"}),
    ("pad", (A2, 2), {"constant_values": 7}), ("pad", (A3, ((0, 0), (1, 0), (0, 2))), {"mode": "wrap"}),
    ("concatenate", ([A2, A2],), {"axis": 1}), ("concatenate", ([A2, I2, A2],), {}),
    ("concatenate", ([I2, I2.astype("int8")],), {"axis": -1}),
    ("stack", ([V, V, V],), {}), ("stack", ([A2, A2],), {"axis": -1}),
    ("stack", ([I2, A2],), {"axis": 1}),
    ("append", (A2, A2), {}), ("append", (A2, I2), {"axis": 0}),
    ("vstack", ([V, V],), {}), ("vstack", ([A2, values((4,), "float32")],), {}),
    ("take", (A2, np.array([0, 2, -1], "int32")), {}),
    ("take", (A2, np.array([[0, 2], [1, 1]], "int32")), {"axis": 1}),
    ("take", (A3, np.array(1, "int32")), {"axis": -1}),
    ("take_along_axis", (A2, np.array([[0], [2], [1]], "int32")), {"axis": 1}),
    ("take_along_axis", (A2, np.array([[0, 1, 2, 0]], "int32")), {"axis": 0}),
    ("slice", (A2, (1, 0), (2, 2)), {}), ("slice", (A3, (0, 1, 1), (2, 2, 3)), {}),
    ("slice", (A2, np.array([1, 1], "int32"), (2, 3)), {}),
    ("slice_update", (A2, (1, 1), values((2, 2), "float32", "small", 3)), {}),
    ("slice_update", (A2, np.array([0, 2], "int32"), values((3, 2), "float32", "small", 4)), {}),
    ("scatter", (np.array([[0, 1], [2, 3], [0, 1]], "int32"), np.array([1.5, 2.0, 3.0], "float32"),
                 (3, 4)), {}),
    ("scatter", (np.array([[1], [0]], "int32"), values((2, 4), "float32"), (3, 4)), {}),
    ("scatter_update", (A2, np.array([[0, 1], [2, 3]], "int32"), np.array([9.0, 8.0], "float32")),
     {}),
    ("scatter_update", (A2, np.array([[1]], "int32"), values((1, 4), "float32")), {}),
    ("eye", (3,), {}), ("eye", (3, 4, 1), {}), ("eye", (4, 3, -2), {"dtype": "int32"}),
    ("identity", (3,), {}), ("identity", (2,), {"dtype": "bool"}),
    ("tri", (3,), {}), ("tri", (3, 4, -1), {}), ("tri", (2, 5, 2), {"dtype": "int8"}),
    ("linspace", (0, 1, 7), {}), ("linspace", (0.0, 10.0, 5), {"endpoint": False}),
    ("linspace", (2, 3, 4), {"dtype": "float16"}), ("linspace", (1, 9, 5), {"dtype": "int32"}),
    ("linspace", (V, V + 2, 4), {}), ("linspace", (V, 5.0, 3), {"axis": -1}),
    ("logspace", (0, 2, 5), {}), ("logspace", (0.0, 3.0, 4), {"base": 2}),
    ("extract_sequences", (A2, 2, 1), {}), ("extract_sequences", (A3, 3, 1), {}),
    ("extract_sequences", (values((2, 10), "float32"), 4, 3), {}),
    ("get_item", (A2, (1, slice(None, None, 2))), {}),
    ("get_item", (A3, (Ellipsis, None, 0)), {}),
]


def _cid(case):
    name, args, kwargs = case
    return name + "-" + "-".join(str(getattr(a, "shape", a))[:12] for a in args[1:])


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[_cid(c) for c in CASES])
def test_shape_op(name, args, kwargs):
    check(name, *args, **kwargs)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "float16", "float64"])
def test_views_and_masks_keep_dtypes(dtype):
    a = values((3, 4), dtype)
    for name, args in [("tril", (a, 1)), ("triu", (a,)), ("flip", (a,)), ("diagonal", (a,)),
                       ("roll", (a, 1)), ("tile", (a, 2)), ("repeat", (a, 2)),
                       ("pad", (a, 1)), ("moveaxis", (a, 0, 1)), ("diag", (a[0],))]:
        check(name, *args)
    if dtype != "float64":  # Keras keeps a list's float64 arrays float64 (not converted)
        check("concatenate", [a, a])
        check("stack", [a, a])
    check("eye", 3, dtype=dtype)
    check("tri", 3, dtype=dtype)


def _compare_lists(name, args, kwargs=None):
    kwargs = kwargs or {}
    want = [K.convert_to_numpy(t) for t in getattr(K, name)(
        *[K.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)]
    got = getattr(lo, name)(*[lo.convert_to_tensor(a) if isinstance(a, np.ndarray) else a
                              for a in args], **kwargs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_same(g.numpy(), np.asarray(w))


@pytest.mark.parametrize("args,kwargs", [((A2, 2, 1), {}), ((A3, [1, 2], -1), {}),
                                         ((A2, [0, 3, 3]), {}), ((A2, [-1], 1), {}),
                                         ((A2, 3), {})])
def test_split(args, kwargs):
    _compare_lists("split", args, kwargs)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unstack(axis):
    _compare_lists("unstack", (A3,), {"axis": axis})


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    x, y, z = (values((n,), "float32") for n in (2, 3, 4))
    _compare_lists("meshgrid", (x, y), {"indexing": indexing})
    _compare_lists("meshgrid", (x, y, z), {"indexing": indexing})
    _compare_lists("meshgrid", (x,), {"indexing": indexing})


def test_empty_has_the_shape_and_dtype():
    for kw in ({}, {"dtype": "int32"}):
        t = lo.empty((2, 3), **kw)
        want = K.convert_to_numpy(K.empty((2, 3), **kw))
        assert t.numpy().shape == want.shape and t.numpy().dtype == want.dtype


def test_copy_snapshots_a_numpy_array():
    a = np.arange(4, dtype="float32")
    t = lo.copy(a)
    a[0] = 99
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3])
    u = lo.convert_to_tensor(a) * 2
    c = lo.copy(u)  # results are writable, so a copy gets its own buffer
    np.testing.assert_array_equal(c.numpy(), u.numpy())
    assert not np.shares_memory(c.numpy(), u.numpy())


def kernel_ops(t):
    plan = engine.plan_of([t._value])[0]
    return {op.name.split(".", 1)[1] for k in plan.kernels for op in k.regions[0].block.ops}


def test_masks_and_views_fuse_into_one_kernel():
    x = lo.convert_to_tensor(values((64, 80), "float32"))
    t = lo.tril(lo.exp(x), -2) + lo.eye(64, 80) + lo.flip(lo.moveaxis(x, 0, 1), 0)[:, :64].T
    plan = engine.plan_of([t._value])[0]
    # one kernel over the matrix; the masks' index vectors are tiny kernels of their own
    big = [k for k in plan.kernels if tuple(k.attrs["space"]) == (64, 80)]
    assert len(big) == 1 and all(len(k.attrs["space"]) == 1 for k in plan.kernels if k not in big)
    assert {"where", "exp", "less_equal", "equal"} <= kernel_ops(t)
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    xn = np.asarray(x.numpy())
    want = np.tril(np.exp(xn), -2) + np.eye(64, 80, dtype="float32") \
        + np.flip(np.moveaxis(xn, 0, 1), 0)[:, :64].T
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-5)


def test_repeat_by_one_count_is_an_index_map_fused_into_its_kernel():
    x = values((3000, 7), "float32")
    x[1500, 3] = np.nan
    t = lo.repeat(lo.convert_to_tensor(x) * 2.0, 3, axis=1) + 1.0
    plan = engine.plan_of([t._value])[0]
    assert len(plan.kernels) == 1 and not any(
        op.name == "lazy.repeat" for op in plan.scheduled.ops)
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    np.testing.assert_array_equal(got, np.repeat(x * np.float32(2), 3, axis=1) + np.float32(1))


def test_library_ops_compiled_around_kernels():
    x = values((40, 50), "float32", "small")
    t = lo.concatenate([lo.exp(x), lo.roll(x, 3, 1) * 2], axis=0) + 1
    u = lo.pad(lo.tile(x, (1, 2)), 1, mode="reflect").sum(axis=0) if hasattr(lo.Tensor, "sum") \
        else lo.sum(lo.pad(lo.tile(x, (1, 2)), 1, mode="reflect"), axis=0)
    with lo.config.override(small_work=0, tiered=False):
        got_t, got_u = lo.evaluate(t, u)
    want_t = np.concatenate([np.exp(x), np.roll(x, 3, 1) * 2], 0) + 1
    want_u = np.pad(np.tile(x, (1, 2)), 1, mode="reflect").sum(0)
    np.testing.assert_allclose(got_t, want_t, rtol=2e-6)
    np.testing.assert_allclose(got_u, want_u, rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda: lo.take(A2, np.array([5], "int32"), axis=0), "take: an index in the data"),
    (lambda: lo.take_along_axis(A2, np.array([[9], [0], [0]], "int32"), axis=1),
     "take_along_axis: an index"),
    (lambda: lo.slice(A2, lo.convert_to_tensor(np.array([2, 0], "int32")), (2, 2)), "slice: an index"),
    (lambda: lo.scatter(np.array([[3, 0]], "int32"), np.array([1.0], "float32"), (3, 4)),
     "scatter: an index"),
])
def test_out_of_range_indices_in_data_raise_at_force(call, match):
    t = call()
    with pytest.raises(IndexError, match=match):
        t.numpy()


@pytest.mark.parametrize("call,exc,match", [
    (lambda: lo.moveaxis(A3, [0, 0], [1, 2]), ValueError, "moveaxis: repeated axis"),
    (lambda: lo.swapaxes(A3, 0, 3), ValueError, "swapaxes"),
    (lambda: lo.tril(V), ValueError, "tril: input must be at least 2-d"),
    (lambda: lo.diagonal(A2, 0, 1, 1), ValueError, "same axis"),
    (lambda: lo.concatenate([A2, A3]), ValueError, "concatenate: xs\\[1\\]"),
    (lambda: lo.concatenate([]), ValueError, "at least one"),
    (lambda: lo.stack([A2, V]), ValueError, "stack"),
    (lambda: lo.split(A2, 3, 1), ValueError, "split: 3 sections"),
    (lambda: lo.pad(A2, 1, mode="bogus"), ValueError, "pad: unknown `mode`"),
    (lambda: lo.pad(A2, -1), ValueError, "non-negative"),
    (lambda: lo.pad(A2, 1, mode="edge", constant_values=3), ValueError, "constant_values"),
    (lambda: lo.take(A2, np.array([0.5])), TypeError, "take: `indices` must be integers"),
    (lambda: lo.repeat(A2, [1, 2], 0), ValueError, "repeat"),
    (lambda: lo.tile(A2, -1), ValueError, "tile"),
    (lambda: lo.slice(A2, (0,), (1, 1)), ValueError, "slice"),
    (lambda: lo.scatter(np.array([[0, 1]], "int32"), np.ones(3, "float32"), (3, 4)), ValueError,
     "scatter"),
    (lambda: lo.linspace(0, 1, -1), ValueError, "linspace: `num`"),
    (lambda: lo.extract_sequences(A2, 9, 1), ValueError, "extract_sequences"),
    (lambda: lo.unstack(A2, num=5), ValueError, "unstack"),
])
def test_errors_name_the_op(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
