"""Differential tests of the library ops (sorting, statistics, products,
linear algebra, segments), the fused reductions built from primitives and
the data-dependent functions against keras.ops (NumPy backend)."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from oracle import K, assert_same, check, values

A2 = values((3, 4), "float32", "small")
A3 = values((2, 3, 4), "float32", "small")
SQ = values((3, 3), "float32", "small")
V4 = values((4,), "float32", "small")
I2 = values((3, 4), "int32", "small")
F = values((4, 5), "float32", "finite")
IDX = np.array([2, 0, 3], "int32")

CASES = [
    *[(f, (values((3, 4), dt, "small"),), kw) for f in ("cumsum", "cumprod")
      for dt in ("float32", "float64", "float16", "bfloat16", "int8", "int64", "uint8", "bool")
      for kw in ({}, {"axis": 0}, {"axis": -1, "dtype": "float32"}, {"dtype": "int16"})],
    ("cumsum", (np.float32(2.5),), {}), ("cumprod", (values((0, 3), "float32"),), {"axis": 0}),
    ("cumsum", (A3,), {"axis": 1}), ("cumprod", (values((2, 3, 4), "float32", "small"),),
                                     {"axis": -2}),
    ("sort", (A2,), {}), ("sort", (A3,), {"axis": 0}), ("sort", (I2,), {}),
    ("argsort", (F,), {}), ("argsort", (F,), {"axis": 0}),
    ("argpartition", (F, 1), {}), ("argpartition", (F, 2), {"axis": 0}),
    ("top_k", (F, 2), {}), ("top_k", (values((2, 3, 6), "float32", "finite"), 3), {}),
    ("in_top_k", (IDX, F[:3], 2), {}), ("in_top_k", (IDX, F[:3], 1), {}),
    ("searchsorted", (np.sort(V4), A2), {}), ("searchsorted", (np.sort(V4), A2), {"side": "right"}),
    ("digitize", (A2, np.array([-1.0, 0.0, 1.5], "float32")), {}),
    ("bincount", (np.array([0, 1, 1, 4], "int32"),), {}),
    ("bincount", (np.array([0, 1, 1, 4], "int32"),), {"weights": np.array([.5, 1, 2, 3], "float32"),
                                                     "minlength": 7}),
    ("bincount", (np.array([[0, 1], [2, 2]], "int32"),), {"minlength": 4}),
    ("histogram", (values((20,), "float32", "finite"),), {"bins": 5, "range": (-4.0, 4.0)}),
    ("median", (F,), {}), ("median", (F,), {"axis": 1, "keepdims": True}), ("median", (I2,), {}),
    ("quantile", (F, 0.3), {}), ("quantile", (F, np.array([0.1, 0.9], "float32")), {"axis": 0}),
    ("quantile", (F, 0.5), {"method": "nearest", "keepdims": True}), ("quantile", (I2, 0.5), {}),
    ("norm", (F,), {}), ("norm", (F,), {"axis": 1}), ("norm", (F,), {"ord": 1}),
    ("norm", (F,), {"ord": "fro"}), ("norm", (F,), {"ord": "nuc"}), ("norm", (F,), {"ord": 2}),
    ("norm", (V4,), {"ord": np.inf}), ("norm", (V4,), {"ord": 0.5}),
    ("norm", (A3,), {"axis": (0, 2), "keepdims": True}), ("norm", (I2,), {}),
    ("slogdet", (SQ,), {}), ("slogdet", (values((2, 3, 3), "float32", "small"),), {}),
    ("segment_sum", (F, np.array([0, 0, 2, 1], "int32")), {}),
    ("segment_sum", (F, np.array([0, -1, 2, 1], "int32")), {"num_segments": 4}),
    ("segment_max", (F, np.array([1, 1, 0, 0], "int32")), {}),
    ("segment_max", (I2[:, :3], np.array([0, 2, 2], "int32")), {}),
    ("dot", (A2, A2.T), {}), ("dot", (V4, V4), {}), ("dot", (A3, V4), {}), ("dot", (A2, 2.0), {}),
    ("dot", (A3, values((4, 2), "float32")), {}), ("dot", (I2, I2.T), {}),
    ("vdot", (A2, A2), {}), ("inner", (A2, A2), {}), ("inner", (V4, V4), {}),
    ("outer", (V4, A2), {}), ("outer", (I2[0], V4), {}),
    ("tensordot", (A3, A2, 2), {}), ("tensordot", (A3, A2, ([1, 2], [0, 1])), {}),
    ("tensordot", (A2, A2, 0), {}), ("tensordot", (A3, A3, ([0], [0])), {}),
    ("einsum", ("ij,kj->ik", A2, A2), {}), ("einsum", ("ijk->kj", A3), {}), ("einsum", ("ii", SQ), {}),
    ("einsum", ("...j,j", A3, V4), {}), ("einsum", ("ij,jk", A2, A2.T), {}),
    ("einsum", ("i,j->ij", V4, V4), {}), ("einsum", ("ij,ij->", I2, I2), {}),
    ("cross", (values((4, 3), "float32"), values((4, 3), "float32")), {}),
    ("cross", (values((3, 2), "float32"), values((3, 3), "float32")), {}),
    ("cross", (values((3, 4), "float32"), values((3, 4), "float32")), {"axis": 0}),
    ("correlate", (V4, values((2,), "float32")), {}),
    ("correlate", (V4, values((3,), "float32")), {"mode": "full"}),
    ("correlate", (I2[0], V4), {"mode": "same"}),
    ("count_nonzero", (A2,), {}), ("count_nonzero", (I2,), {"axis": 0}),
    ("count_nonzero", (A3,), {"axis": (0, 2)}),
    ("average", (A2,), {}), ("average", (A2,), {"axis": 1}),
    ("average", (A2,), {"axis": 1, "weights": V4}), ("average", (A2,), {"weights": A2 * 0 + 2}),
    ("average", (I2,), {"axis": 0, "weights": np.array([1, 2, 3], "float32")}),
    ("logsumexp", (A2,), {}), ("logsumexp", (A2,), {"axis": 1}),
    ("logsumexp", (A3,), {"axis": (0, 2), "keepdims": True}), ("logsumexp", (I2,), {"axis": 0}),
    ("logsumexp", (np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0]], "float32"),),
     {"axis": 1}),
    ("trace", (A2,), {}), ("trace", (A3, 1, 1, 2), {}), ("trace", (I2,), {}),
    ("trace", (values((3, 4), "uint8"),), {}), ("trace", (values((3, 3), "bool"),), {}),
    ("diff", (A2,), {}), ("diff", (A3, 2, 0), {}), ("diff", (I2, 1, 0), {}),
    ("diff", (values((3, 4), "bool"),), {}),
    ("stop_gradient", (A2,), {}), ("array", (A2,), {}), ("array", ([1, 2],), {}),
]


def _cid(case):
    name, args, kwargs = case
    return name + "-" + "-".join(str(getattr(a, "shape", a))[:14] for a in args) + \
        "-".join(f"{k}" for k in kwargs)


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[_cid(c) for c in CASES])
def test_library_op(name, args, kwargs):
    if name in ("top_k", "slogdet", "histogram"):
        want = [K.convert_to_numpy(t) for t in getattr(K, name)(
            *[K.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)]
        got = getattr(lo, name)(*args, **kwargs)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g.numpy(), w, rtol=1e-5, atol=1e-5)
        return
    check(name, *args, rtol=1e-5, atol=1e-5, **kwargs)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "float16", "float64"])
def test_library_dtypes(dtype):
    a = values((3, 4), dtype, "small")
    sq = values((3, 3), dtype, "small")
    for name, args in [("sort", (a,)), ("argsort", (a,)), ("median", (a,)), ("norm", (a,)),
                       ("dot", (a, a.T)), ("outer", (a[0], a[1])), ("inner", (a, a)),
                       ("vdot", (a, a)), ("einsum", ("ij,kj", a, a)), ("count_nonzero", (a,)),
                       ("average", (a,)), ("logsumexp", (a,)), ("trace", (a,)), ("diff", (a,)),
                       ("tensordot", (a, a, 2)), ("quantile", (a, 0.25)),
                       ("correlate", (a[0], a[1]))]:
        check(name, *args, rtol=2e-3 if dtype == "float16" else 1e-5, atol=1e-3)
    if dtype != "float16":
        got = lo.slogdet(lo.convert_to_tensor(sq))
        want = K.slogdet(K.convert_to_tensor(sq))
        for g, w in zip(got, want):
            assert_same(g.numpy(), K.convert_to_numpy(w), rtol=1e-5, atol=1e-5)


def test_nonzero_forces_and_gives_int32_indices():
    x = lo.convert_to_tensor(values((3, 4), "int8", "small")) * 1
    got = lo.nonzero(x)
    want = K.nonzero(K.convert_to_tensor(values((3, 4), "int8", "small")))
    assert len(got) == 2
    for g, w in zip(got, want):
        assert_same(g.numpy(), K.convert_to_numpy(w))


def _log1pexp(ops, style):
    """The keras.ops.custom_gradient documentation's example, in each of its
    three grad_fn styles."""
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)
        if style == "upstream":
            def grad(upstream):
                return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        elif style == "args or upstream":
            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        else:
            def grad(*args, upstream):
                return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad
    return log1pexp


@pytest.mark.parametrize("style", ["upstream", "args or upstream", "args and upstream"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_custom_gradient_forward_and_recorded_gradient(style, dtype):
    from lazyops.ir.core import collect
    from lazyops.ir.parser import parse_function
    from lazyops.ir.printer import print_function
    from lazyops.ir.verifier import verify
    x = values((5,), dtype, "small")
    got = _log1pexp(lo, style)(lo.convert_to_tensor(x))
    want = _log1pexp(K, style)(K.convert_to_tensor(x))
    op = got._value.owner
    assert op.name == "lazy.custom_gradient" and op.attrs == {"inputs": 1, "outputs": 1}
    (region,) = op.regions  # the gradient, traced: upstream * (1 - 1/(1+e)), e captured
    block = region.block
    assert block.args[0].type == got._value.type  # the upstream gradient
    assert any(a.type == got._value.type for a in block.args[1:])  # e, from outside
    names = [o.name for o in block.ops]
    assert names[-2:] == ["lazy.multiply", "lazy.yield"] and "lazy.divide" in names
    func, _ = collect([got._value])
    verify(func)
    assert print_function(parse_function(print_function(func))) == print_function(func)
    assert_same(got.numpy(), K.convert_to_numpy(want))
    assert "custom_gradient" not in engine.computed_by(got._value)[0].optimized


def test_custom_gradient_of_several_outputs_and_untraceable_gradients():
    x, y = V4, V4[::-1].copy()

    @lo.custom_gradient
    def both(a, b):
        return (a * b, a + b), lambda da, db: (da * b + db, da * a + db)
    p, s = both(lo.convert_to_tensor(x), y)
    assert len(p._value.owner.regions) == 1
    assert_same(p.numpy(), x * y)
    assert_same(s.numpy(), x + y)
    bad = {"wrong shape": lambda dy: dy[:2], "forces": lambda dy: dy * float(lo.sum(dy)),
           "raises": lambda dy: 1 / 0, "not a tensor": lambda dy: "gradient"}
    for why, grad in bad.items():
        @lo.custom_gradient
        def f(a):
            return a * 3, grad  # noqa: B023
        t = f(lo.convert_to_tensor(x))
        assert t._value.owner.regions == [], why  # recorded without a gradient region
        assert_same(t.numpy(), x * 3)
    with pytest.raises(TypeError, match="custom_gradient: the function must return"):
        lo.custom_gradient(lambda a: a)(lo.convert_to_tensor(x))


def test_vectorize():
    vf = lo.vectorize(lambda a, b: a + b if a > 0 else b)
    want = np.vectorize(lambda a, b: a + b if a > 0 else b)(V4, 1.0)
    np.testing.assert_array_equal(vf(lo.convert_to_tensor(V4), 1.0).numpy(), want)
    assert lo.ndim(A3) == 3 and lo.size(A3) == 24


def test_fused_reductions_are_one_kernel_and_compile():
    x = lo.convert_to_tensor(values((64, 100), "float32", "small"))
    outs = [lo.logsumexp(x, axis=1), lo.count_nonzero(x > 1, axis=0), lo.trace(x),
            lo.average(x, axis=1, weights=np.arange(100, dtype="float32"))]
    plan = engine.plan_of([outs[0]._value])[0]
    assert len(plan.kernels) == 1  # max; exp and sum; log, in one row kernel
    with lo.config.override(small_work=0, tiered=False):
        got = lo.evaluate(*outs)
    xn = np.asarray(x.numpy())
    want = [K.convert_to_numpy(K.logsumexp(xn, axis=1)), np.count_nonzero(xn > 1, axis=0),
            np.trace(xn), np.average(xn, axis=1, weights=np.arange(100, dtype="float32"))]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: lo.dot(A2, A2), ValueError, "dot: shapes"),
    (lambda: lo.tensordot(A2, A3, 2), ValueError, "tensordot"),
    (lambda: lo.einsum("ij,jk", A2, A2), ValueError, "einsum: subscript 'j'"),
    (lambda: lo.einsum("ij->k", A2), ValueError, "einsum: output subscript"),
    (lambda: lo.cross(A2, A2), ValueError, "cross: vectors"),
    (lambda: lo.slogdet(A2), ValueError, "slogdet: input must be square"),
    (lambda: lo.searchsorted(A2, V4), ValueError, "searchsorted: only 1-d"),
    (lambda: lo.top_k(V4, 9), ValueError, "top_k"),
    (lambda: lo.argpartition(V4, 9), ValueError, "argpartition"),
    (lambda: lo.bincount(np.array([-1, 2], "int32")), ValueError, "non-negative"),
    (lambda: lo.quantile(A2, 0.5, method="bogus"), ValueError, "quantile: unknown"),
    (lambda: lo.norm(A3, ord=2), ValueError, "norm"),
    (lambda: lo.correlate(A2, V4), ValueError, "correlate: inputs must be 1-d"),
    (lambda: lo.segment_sum(A2, np.array([0, 1], "int32")), ValueError, "segment_sum"),
    (lambda: lo.diff(A2, -1), ValueError, "diff"),
])
def test_errors_name_the_op(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_segment_ids_beyond_num_segments_raise_at_force():
    t = lo.segment_sum(F, np.array([0, 5, 1, 1], "int32"), num_segments=3)
    with pytest.raises(IndexError, match="segment_sum: a segment id"):
        t.numpy()


def test_one_argument_where_is_nonzero():
    c = values((3, 4), "float32") > 0
    got = lo.where(lo.convert_to_tensor(c))
    want = K.where(K.convert_to_tensor(c))
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        assert_same(g.numpy(), K.convert_to_numpy(w))
    with pytest.raises(ValueError, match="where: pass both"):
        lo.where(c, 1.0)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("kwargs", [{"initial": 5}, {"initial": -1.5, "axis": 0},
                                    {"initial": 2, "axis": 1, "keepdims": True}])
@pytest.mark.parametrize("x", [np.zeros((0, 3), "float32"), values((2, 3), "int32")],
                         ids=["empty", "int32"])
def test_max_min_initial(op, kwargs, x):
    check(op, x, **kwargs)


def test_explain_lists_what_was_read_at_the_call():
    x = lo.convert_to_tensor(values((3, 4), "float32")) * 2
    mask = lo.convert_to_tensor(values((3,), "float32")) > 0
    outs = [lo.nonzero(x > 0)[0] + 1, x[mask] * 3,
            lo.bincount(np.array([0, 2, 2], "int32")) * 2,
            lo.segment_sum(x, np.array([0, 0, 1], "int32")) + 1]
    for t, name in zip(outs, ["nonzero", "getitem (boolean mask)", "bincount", "segment_sum"]):
        text = str(lo.explain(t))
        assert "read at the call" in text and name in text and "test_ops_library.py" in text
    assert "read at the call" not in str(lo.explain(x + 1))


def test_vector_norms_fuse_into_kernels():
    """Vector norms and the Frobenius norm of floats decompose into fusable
    ops (compiled here over several runs of a row, NaN and inf in rows);
    matrix norms by SVD stay NumPy's; `x / norm(x)` is one kernel."""
    x = np.random.default_rng(3).standard_normal((5, 600)).astype("float32")
    x[1, 7], x[2, 300], x[3, 0] = np.inf, np.nan, 0.0
    cases = [dict(axis=-1), dict(axis=1, ord=1), dict(axis=1, ord=np.inf),
             dict(axis=1, ord=-np.inf), dict(axis=1, ord=0), dict(axis=1, ord=3, keepdims=True),
             dict(axis=0, ord=0.5), dict(ord="fro"), dict(), dict(axis=(0, 1), keepdims=True)]
    t = lo.convert_to_tensor(x)
    with lo.config.override(small_work=0, tiered=False), np.errstate(all="ignore"):
        got = lo.evaluate(*[lo.norm(t, **kw) for kw in cases])
        plan = engine.plan_of([lo.norm(t, axis=-1)._value])[0]
        assert plan.kernels and not plan.numpy_ops
        assert engine.plan_of([lo.norm(t, ord="nuc")._value])[0].kernels == []
        unit = t / lo.norm(t, axis=-1, keepdims=True)
        assert len(engine.plan_of([unit._value])[0].kernels) == 1
        assert_same(unit.numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)
    for g, kw in zip(got, cases):
        assert_same(g, np.asarray(K.norm(x, **kw)), rtol=1e-5, what=str(kw))
