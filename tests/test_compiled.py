"""Every op, compiled, against the reference interpreter.

Ops are batched into multi-output kernels (one per dtype and op family) so
the whole table costs a handful of compiles.
"""
import numpy as np
import pytest

import lazyops as lo
from compiled import assert_same, both_paths
from lazyops.engine import plan_of

UNARY = ["negative", "absolute", "square", "sqrt", "sign", "floor", "ceil", "round", "trunc",
         "logical_not", "isnan", "isinf", "isfinite"]
# Float math: integer inputs are cast to float32 first, so these compile the
# same float32 code; they run on float dtypes only to keep compiles few.
FLOAT_UNARY = ["rsqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan",
               "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan"]
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


def _apply(names, fn):
    outs, used = [], []
    for n in names:
        try:
            outs.append(fn(n))
            used.append(n)
        except TypeError:
            pass  # not defined for this dtype (e.g. negative of bool), as in Keras
    return outs, used


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_ops_compiled(dtype):
    x = lo.convert_to_tensor(sample(dtype, (7, 33), 1), dtype=dtype)
    y = lo.convert_to_tensor(sample(dtype, (7, 33), 2), dtype=dtype)
    unary = UNARY + FLOAT_UNARY if dtype.startswith("float") else UNARY
    outs, used = _apply(unary, lambda n: getattr(lo, n)(x))
    # integers to negative powers raise in NumPy and Keras: use |y| there
    yp = lo.absolute(y) if dtype.startswith("int") else y
    binary = BINARY if dtype.startswith("float") else [b for b in BINARY if b != "arctan2"]
    bouts, bused = _apply(binary, lambda n: getattr(lo, n)(x, yp if n == "power" else y))
    extra = [lo.where(x > y, x, y), lo.clip(x, 1, 3), lo.cast(x, "float32"), lo.cast(x, "int16"),
             lo.cast(x, "bool"), x * 3, 2 - x if dtype != "bool" else x & y]
    with np.errstate(all="ignore"):
        got, want, _ = both_paths(outs + bouts + extra)
    for g, w, n in zip(got, want, used + bused + ["where", "clip", "cast", "cast", "cast", "mul", "sub"]):
        assert_same(g, w, f"{n}({dtype})")


@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8", "float16", "float32", "float64"])
def test_reductions_compiled(dtype):
    x = lo.convert_to_tensor(sample(dtype, (5, 6, 37), 3), dtype=dtype)
    if dtype.startswith("float"):
        x = lo.where(lo.isnan(x), 0.25, x)  # NaN propagation is tested separately
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
