"""Every op, compiled, against the reference interpreter.

Ops are batched into multi-output kernels (one per dtype and op family) so
the whole table costs a handful of compiles. Float dtypes run every
registered elementwise op, in the batches test_ops_keras compiles too (see
`op_batch`): float32 and float16 unary and float32 binary are the same
kernels there, compiled once per run.
"""
import numpy as np
import pytest

import lazyops as lo
from compiled import (BITWISE_OPS, FLOAT_BINARY_OPS, UNARY_OPS, assert_same, both_paths,
                      both_paths_named, op_batch)
from lazyops.engine import plan_of

# Integer and bool dtypes. Float math is left out: integer inputs are cast to
# float32 first, so it would compile the float32 code again; float dtypes run
# every registered op (UNARY_OPS, FLOAT_BINARY_OPS).
UNARY = ["negative", "absolute", "square", "sqrt", "sign", "floor", "ceil", "round", "trunc",
         "logical_not", "isnan", "isinf", "isfinite"]
BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "mod", "power", "maximum",
          "minimum", "arctan2", "equal", "not_equal", "less", "less_equal", "greater",
          "greater_equal", "logical_and", "logical_or", "logical_xor"]
REDUCE = ["sum", "prod", "max", "min", "mean", "any", "all", "argmax", "argmin"]
DTYPES = ["bool", "int8", "int32", "uint8", "float16", "float32", "float64"]


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("uint"):
        return rng.integers(0, 7, shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-6, 7, shape).astype(dtype)
    a = (rng.standard_normal(shape) * 3).astype(dtype)
    flat = a.reshape(-1)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5], dtype)
    k = min(len(special), flat.size // 4)
    flat[:k] = special[:k]
    return a


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_ops_compiled(dtype):
    x = lo.convert_to_tensor(sample(dtype, (7, 33), 1), dtype=dtype)
    y = lo.convert_to_tensor(sample(dtype, (7, 33), 2), dtype=dtype)
    if dtype.startswith("float"):
        unary, binary = op_batch(UNARY_OPS, x), op_batch(FLOAT_BINARY_OPS, x, y)
        refused = {op for op, t in {**unary, **binary}.items() if t is None}
        assert refused == BITWISE_OPS, refused  # as Keras: bitwise ops refuse floats
    else:
        unary = op_batch(UNARY, x)  # None: not defined for this dtype (negative of bool)
        binary = op_batch([b for b in BINARY if b != "arctan2"], x, y)
        if dtype.startswith("int"):  # integers to negative powers raise in NumPy and Keras
            binary["power"] = lo.power(x, lo.absolute(y))
    extra = {"where": lo.where(x > y, x, y), "clip": lo.clip(x, 1, 3),
             "cast f32": lo.cast(x, "float32"), "cast i16": lo.cast(x, "int16"),
             "cast bool": lo.cast(x, "bool"), "mul": x * 3,
             "sub": 2 - x if dtype != "bool" else x & y}
    # Float dtypes: one plan per batch, as test_ops_keras builds them (so the
    # same kernels); other dtypes: one plan, one kernel (the names are distinct).
    batches = [unary, binary, extra]
    if not dtype.startswith("float"):
        batches = [{**unary, **binary, **extra}]
    for batch in batches:
        with np.errstate(all="ignore"):
            out = both_paths_named({op: t for op, t in batch.items() if t is not None})
        for op, (g, w) in out.items():
            assert_same(g, w, f"{op}({dtype})")


@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8", "float16", "float32", "float64"])
def test_reductions_compiled(dtype):
    a = sample(dtype, (5, 6, 37), 3)
    if dtype.startswith("float"):
        # NaN propagation is tested separately. Replaced in NumPy, not with
        # lo.where (whose Python float makes float64 float32, as in Keras): so
        # float64 is reduced as float64, and float32's rows and full kernels
        # are those of test_regressions' NaN and inf cases (compiled once).
        a[np.isnan(a)] = 0.25
    x = lo.convert_to_tensor(a, dtype=dtype)
    outs = []
    for n in REDUCE:
        f = getattr(lo, n)
        outs.append(f(x, axis=-1))               # rows
        outs.append(f(x, axis=0 if n.startswith("arg") else (0, 2)))  # permuted rows
        outs.append(f(x))                         # full
    got, want, _ = both_paths(outs)
    names = [f"{n}[{k}]" for n in REDUCE for k in ("rows", "perm", "full")]
    for g, w, n in zip(got, want, names):
        if n.startswith(("sum", "mean", "prod")) and dtype.startswith("float"):
            np.testing.assert_allclose(g, w, rtol=1e-5, err_msg=n)  # summation order differs
            assert g.dtype == w.dtype
        else:
            assert_same(g, w, f"{n}({dtype})")


def test_nan_propagates_through_reductions():
    a = sample("float32", (4, 50), 5)
    a[1, 7] = np.nan
    a[2, :] = -0.0
    a[3, :] = np.nan
    x = lo.convert_to_tensor(a)
    outs = [lo.max(x, axis=1), lo.min(x, axis=1), lo.argmax(x, axis=1), lo.argmin(x, axis=1),
            lo.sum(x, axis=1), lo.argmax(x), lo.max(x)]
    got, want, _ = both_paths(outs)
    for g, w in zip(got, want):
        assert_same(g, w)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_regrouped_extremes_and_chunked_sums_across_blocks(dtype):
    """Max/min regroup through `rmax`/`rmin` and float32 sums add runs of
    SUM_CHUNK elements before a float64 add: over several parallel blocks
    (full: 5 blocks of 8192) and several runs per row (rows of 600), with
    NaN and inf at block and run edges, as accurate as NumPy's sums."""
    import keras
    from lazyops.codegen.cpu import BLOCK, SUM_CHUNK
    rng = np.random.default_rng(11)
    flat = rng.standard_normal(5 * BLOCK - 3).astype(dtype)
    rows = rng.standard_normal((9, 600)).astype(dtype)
    flat[BLOCK - 1], flat[2 * BLOCK] = np.inf, -np.inf
    rows[1, SUM_CHUNK - 1], rows[2, SUM_CHUNK], rows[3, 599] = np.nan, np.inf, -np.inf
    rows[4, :] = -0.0
    rows[4, 300] = 0.0
    nan_flat = flat.copy()
    nan_flat[3 * BLOCK] = np.nan
    fns = [lo.max, lo.min, lo.sum, lo.mean]
    outs = [f(a, axis=ax) for f in fns for a, ax in ((flat, None), (nan_flat, None), (rows, 1))]
    with lo.config.override(small_work=0, tiered=False), np.errstate(all="ignore"):
        got = lo.evaluate(*outs)
        want = [np.asarray(getattr(keras.ops, f.__name__)(a, axis=ax)) for f in fns
                for a, ax in ((flat, None), (nan_flat, None), (rows, 1))]
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == "float32" else 1e-13,
                                   atol=1e-4 if k >= 6 else 0, equal_nan=True, err_msg=str(k))
    # a cancelling float32 sum within an ulp of the sum of magnitudes
    x = rng.standard_normal((64, 3000)).astype("float32")
    with lo.config.override(small_work=0, tiered=False):
        g = lo.sum(x, axis=1).numpy()
    exact, scale = x.sum(1, dtype=np.float64), np.abs(x).sum(1, dtype=np.float64)
    assert (np.abs(g - exact) <= 2.0 ** -24 * scale).all()


def test_views_and_broadcasts_compiled():
    a = sample("float32", (6, 5, 4), 6)
    x = lo.convert_to_tensor(a)
    r = lo.convert_to_tensor(sample("float32", (4,), 7))
    c = lo.convert_to_tensor(sample("float32", (6, 1, 1), 8))
    outs = [lo.transpose(x, (2, 0, 1)) * 2.0 + 1.5,
            x[::2, 1:, ::-1] - c[::2],
            lo.reshape(x * r, (30, 4)) + 0.25,
            lo.broadcast_to(r, (3, 4)) * 3.0,
            lo.expand_dims(x[:, 0, 0], 1) + c[:, 0],
            lo.squeeze(c) * 1.5,
            lo.sum(lo.transpose(x) * r[:, None, None], axis=(1, 2)),
            lo.arange(12) * 2 - 1,
            lo.arange(0.0, 1.0, 0.125) * x[0, 0, 0],
            lo.zeros((6, 5, 4)) + x,
            lo.full((3, 2), 7, dtype="int32") * 2]
    got, want, _ = both_paths(outs)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"case {k}")


def test_empty_and_scalar_shapes_compiled():
    e = lo.convert_to_tensor(np.zeros((0, 3), np.float32))
    s = lo.convert_to_tensor(np.float32(2.5))
    outs = [e * 2.0 + 1.5, lo.sum(e, axis=0), lo.sum(e), lo.mean(e, axis=1), s * 3.0,
            lo.exp(s), lo.sum(s), lo.any(e)]
    with np.errstate(all="ignore"):
        got, want, _ = both_paths(outs)
    for g, w in zip(got, want):
        assert_same(g, w)


def _forms():
    """Graphs covering every loop form, with NaN and infinities at block edges."""
    r = np.random.default_rng(11)
    x = r.standard_normal(3 * 8192 + 5).astype(np.float32)
    x[8191], x[8192], x[-1] = np.nan, np.inf, -np.inf
    a = r.standard_normal((300, 130)).astype(np.float32)
    a[7, 3] = np.nan
    t, ta = lo.convert_to_tensor(x), lo.convert_to_tensor(a)
    return {
        "flat": lo.exp(t * 0.5) - t,
        "nd": lo.transpose(ta) * 2.0 + 1.0,
        "full max": lo.max(lo.abs(t) * 3.0),
        "full sum": lo.sum(t * t),
        "argmin": lo.argmin(t),
        "rows softmax": lo.exp(ta - lo.max(ta, axis=1, keepdims=True)) / lo.sum(
            lo.exp(ta - lo.max(ta, axis=1, keepdims=True)), axis=1, keepdims=True),
        "cols": lo.sum(ta * ta, axis=0),
    }


@pytest.mark.parametrize("form", list(_forms()))
def test_one_thread_kernels_equal_parallel_ones(form):
    """Below `serial_work` a kernel runs on one thread; its loops are the same
    as the parallel one's (blocks, partials, merge order), so its results are
    equal bit for bit."""
    t = _forms()[form]
    plan, _, leaves = plan_of([t._value])
    args = [v.data for v in leaves]
    outs = {}
    for work in (0, 1 << 62):
        with lo.config.override(serial_work=work):
            outs[work] = plan.run(args, compiled=True)
            layouts = [launcher.last for launcher in plan.launchers.values()]
            assert all(layout[3] == (work > 0) for layout in layouts), layouts
    for par, one in zip(outs[0], outs[1 << 62]):
        np.testing.assert_array_equal(par, one)
    assert_same(outs[0][0], plan.run(args, compiled=False)[0], form)


def test_float32_sin_cos_tan_run_the_near_reduction_by_block():
    """An elementwise kernel computes float32 sin, cos and tan by the
    float64 reduction (`sin_near` & co.), and a block holding an argument of
    NEAR or more (2**28, 1e30, inf, NaN beside it) again element by element
    (`sin_split` & co.): every value is the `split` function's, whatever its
    neighbours, within one ulp of the correctly rounded value; a reversed
    input (the `nd` form) too."""
    from numba import njit

    from lazyops.codegen import mathlib_wide
    from lazyops.codegen.cpu import BLOCK

    @njit
    def split(a, b):
        out = np.empty_like(a)
        for i in range(a.size):
            out[i] = mathlib_wide.sin_split(a[i]) * np.float32(2) + mathlib_wide.cos_split(b[i]) \
                - mathlib_wide.tan_split(a[i] * np.float32(0.25))
        return out
    rng = np.random.default_rng(8)
    x = rng.uniform(-1e4, 1e4, 3 * BLOCK + 77).astype("float32")
    far = x.copy()
    far[[BLOCK, 2 * BLOCK - 1, 2 * BLOCK - 2, 3 * BLOCK + 5]] = [2.0 ** 28, 1e30, np.nan, -np.inf]
    with lo.config.override(small_work=0):
        for a in (x, far, far[::-1]):
            b = a[::-1].copy()
            t = lo.sin(a) * 2.0 + lo.cos(b) - lo.tan(a * 0.25)
            got = t.numpy()
            want = split(np.ascontiguousarray(a), b)
            assert np.array_equal(got, want, equal_nan=True)
            with np.errstate(invalid="ignore"):
                a64 = a.astype("float64")
                exact = np.sin(a64) * 2 + np.cos(b.astype("float64")) - np.tan(a64 * 0.25)
            fin = np.isfinite(exact) & (np.abs(a) < 1e8)
            np.testing.assert_allclose(got[fin], exact[fin], rtol=2e-6, atol=2e-6)
        src = str(lo.explain(lo.sin(x) * 2.0 + lo.cos(x[::-1].copy()), show="all"))
    assert "sin_near(" in src and "sin_split_call(" in src
    # the neighbours of a far argument keep their values
    same = np.ones(far.size, bool)
    same[[BLOCK, 2 * BLOCK - 1, 2 * BLOCK - 2, 3 * BLOCK + 5]] = False
    with lo.config.override(small_work=0):
        assert np.array_equal(lo.sin(x).numpy()[same], lo.sin(far).numpy()[same])
