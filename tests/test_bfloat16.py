"""bfloat16 (an ml_dtypes NumPy dtype, as Keras's NumPy backend uses it):
held as float32 inside kernels and rounded to bfloat16 after every op, as
ml_dtypes' ufuncs compute. Elementwise ops against keras.ops, compiled and
on the interpreter; reductions accumulate in float32 (NumPy with ml_dtypes
accumulates in bfloat16 and stagnates on long sums), so they are checked
against float64."""
import ml_dtypes
import numpy as np
import pytest

import lazyops as lo
from oracle import K
from test_ops_keras import BINARY, UNARY

BF16 = ml_dtypes.bfloat16
ROW = np.array([-0.0, 0.0, -0.4, 0.4, -1.5, 2.5, np.nan, np.inf, -np.inf, 0.5, -2.0, 3.7,
                0.9, -0.9, 1e-3, 7.5], "float32")
RHS = np.array([2.0, -0.0, 0.0, -3.0, 0.5, np.inf, 1.0, -np.inf, 2.0, np.nan, -0.5, 1.5,
                -1.0, 3.0, 0.25, -7.5], "float32")
# bitwise ops refuse floats, in both
SKIP = {"bitwise_invert", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift",
        "true_divide"}


def _same(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (what, got.dtype, want.dtype)
    g, w = got.astype("float64"), want.astype("float64")
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=what)
    np.testing.assert_allclose(g, w, rtol=1.6e-2, atol=1e-2, equal_nan=True, err_msg=what)


def _cases():
    return [(op, 1) for op in UNARY if op not in SKIP] + \
        [(op, 2) for op in BINARY if op not in SKIP]


@pytest.fixture(scope="module")
def forced():
    """{op: (interpreted, compiled)}: every op on bfloat16 tensors, each path forced at once."""
    x, y = lo.convert_to_tensor(ROW.astype(BF16)), lo.convert_to_tensor(RHS.astype(BF16))
    ts = {op: getattr(lo, op)(*([x, y][:n])) for op, n in _cases()}
    with np.errstate(all="ignore"):
        interp = lo.evaluate(*ts.values())
        with lo.config.override(small_work=0, tiered=False):
            comp = lo.evaluate(*[getattr(lo, op)(*([x, y][:n])) for op, n in _cases()])
    return {op: (i, c) for op, i, c in zip(ts, interp, comp)}


@pytest.mark.parametrize("op,n", _cases(), ids=[c[0] for c in _cases()])
def test_elementwise_as_keras(forced, op, n):
    args = [K.convert_to_tensor(ROW.astype(BF16)), K.convert_to_tensor(RHS.astype(BF16))][:n]
    with np.errstate(all="ignore"):
        want = K.convert_to_numpy(getattr(K, op)(*args))
    interp, comp = forced[op]
    _same(interp, want, f"interpreted {op}")
    _same(comp, want, f"compiled {op}")


def test_promotion_and_casts_as_keras():
    b = ROW.astype(BF16)
    for other in (np.float16, np.float32, np.int8, np.bool_):
        o = RHS.astype(other) if other is not np.bool_ else RHS > 0
        want = K.add(K.convert_to_tensor(b), K.convert_to_tensor(o))
        got = lo.add(b, o)
        assert got.dtype == K.convert_to_numpy(want).dtype.name
    for d in ("float32", "float16", "int32", "uint8", "bool"):
        with np.errstate(all="ignore"):
            want = K.convert_to_numpy(K.cast(K.convert_to_tensor(b), d))
        for small_work in (None, 0):
            with lo.config.override(**({} if small_work is None else
                                       {"small_work": 0, "tiered": False})):
                got = lo.cast(lo.convert_to_tensor(b), d).numpy()
            np.testing.assert_array_equal(got, want, err_msg=d)
    x = np.linspace(-3, 3, 50, dtype="float32")
    np.testing.assert_array_equal(lo.cast(x, "bfloat16").numpy(), x.astype(BF16))
    assert lo.add(b, 1.0).dtype == "bfloat16" and lo.exp(b).dtype == "bfloat16"


def test_rounding_to_nearest_even_in_kernels():
    # float32 values halfway between bfloat16 neighbours, and NaN/inf/subnormals
    bits = np.array([0x3F808000, 0x3F818000, 0x3F80FFFF, 0x7F7FFFFF, 0x00010000, 0x80008000],
                    np.uint32)
    x = np.concatenate([bits.view(np.float32), [np.nan, -np.inf, -0.0]]).astype("float32")
    x = np.tile(x, 3000)
    with lo.config.override(small_work=0, tiered=False):
        got = lo.cast(lo.convert_to_tensor(x) * 1.0, "bfloat16").numpy()
    np.testing.assert_array_equal(got.view(np.uint16) & 0x7FBF, x.astype(BF16).view(np.uint16) & 0x7FBF)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod", "argmax", "var"])
def test_reductions_accumulate_in_float32(op):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.5, (64, 300)).astype(BF16)
    want = getattr(np, op)(a.astype("float64"), axis=1)
    for override in ({}, {"small_work": 0, "tiered": False}):
        with lo.config.override(**override):
            got = getattr(lo, op)(lo.convert_to_tensor(a), axis=1).numpy()
        kdt = K.convert_to_numpy(getattr(K, op)(K.convert_to_tensor(a[:2]), axis=1)).dtype
        assert got.dtype == kdt, (op, got.dtype, kdt)
        np.testing.assert_allclose(got.astype("float64"), want, rtol=1e-2)


@pytest.mark.parametrize("f8", ["float8_e4m3fn", "float8_e5m2"])
def test_float8_casts_as_keras(f8):
    x = np.array([1.5, -2.25, 300, np.nan, 1e6, -0.0, 0.1, -448], np.float32)
    f = lo.cast(x, f8)
    kf = K.cast(K.convert_to_tensor(x), f8)
    assert f.dtype == f8
    np.testing.assert_array_equal(f.numpy().view(np.uint8), K.convert_to_numpy(kf).view(np.uint8))
    for back in ("float32", "float16", "bfloat16", "int32", "uint8", "bool"):
        with np.errstate(all="ignore"):
            want = K.convert_to_numpy(K.cast(kf, back))
        got = lo.cast(f, back).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.astype("float64"), want.astype("float64"), err_msg=back)
    assert lo.reshape(f, (2, 4)).numpy().dtype == f8
    for call in (lambda: f + f, lambda: lo.mean(f), lambda: lo.exp(f)):
        with pytest.raises((TypeError, ValueError), match="float8|unsupported dtype"):
            call()


# The functions Keras's NumPy backend hands a float8 array to NumPy as it is
# (ml_dtypes computes, rounding to float8 at each step): NumPy steps here too.
FLOAT8_FUNCTIONS = [
    "absolute", "all", "amax", "amin", "any", "argsort", "conj", "conjugate", "copy",
    "count_nonzero", "diag", "diagonal", "diff", "flip", "imag", "isfinite", "isinf", "isnan",
    "logical_not", "max", "min", "nan_to_num", "negative", "ones_like", "ravel", "real",
    "reciprocal", "round", "sign", "sort", "squeeze", "stop_gradient", "sum", "transpose",
    "tril", "triu", "zeros_like"]


@pytest.mark.parametrize("f8", ["float8_e4m3fn", "float8_e5m2"])
@pytest.mark.parametrize("name", FLOAT8_FUNCTIONS)
def test_float8_functions_as_keras(f8, name):
    x = np.array([[1.5, -2.0, 0.25, np.nan, 3.0], [3, 4, -0.5, 0, 0.1]],
                 np.float32).astype(getattr(ml_dtypes, f8))
    want = K.convert_to_numpy(getattr(K, name)(x))  # Keras hands the array to NumPy
    lazy = lo.cast(lo.convert_to_tensor(x.astype("float32")), f8)
    for arg in (x, lazy):
        got = getattr(lo, name)(arg).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.astype("float64"), want.astype("float64"))
    with pytest.raises(ValueError, match="float8"):  # as K.convert_to_tensor(x)
        lo.convert_to_tensor(x)


@pytest.mark.parametrize("name,args", [
    ("stack", lambda x: ([x, x],)), ("vstack", lambda x: ([x, x],)), ("unstack", lambda x: (x,)),
    ("nonzero", lambda x: (x,)), ("meshgrid", lambda x: (x[0], x[1])), ("where", lambda x: (x,))])
def test_float8_functions_of_several_results_as_keras(name, args):
    x = np.array([[1.5, -2.0, 0.25], [3, 0, -0.5]], np.float32).astype(ml_dtypes.float8_e4m3fn)
    want = getattr(K, name)(*args(x))
    got = getattr(lo, name)(*args(x))
    want, got = ([w] if not isinstance(w, (tuple, list)) else w for w in (want, got))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = g.numpy(), K.convert_to_numpy(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g.astype("float64"), w.astype("float64"))


def test_float8_arrays_through_lazyops_function():
    x = np.array([1.5, -2.0, np.nan, 0.25], np.float32).astype(ml_dtypes.float8_e5m2)
    fn = lo.function(lambda a: (lo.abs(a), lo.sort(a)))
    for _ in range(2):
        got = fn(x)
        np.testing.assert_array_equal(got[0].view(np.uint8), np.abs(x).view(np.uint8))
        np.testing.assert_array_equal(got[1].view(np.uint8), np.sort(x).view(np.uint8))


def test_float8_steps_between_kernels():
    x = np.linspace(-3, 3, 50000, dtype="float32")
    f = lo.cast(lo.convert_to_tensor(x) * 2, "float8_e5m2")
    t = lo.sum(lo.abs(f), axis=0), lo.cast(lo.sort(lo.negative(f)), "float32") + 1
    with lo.config.override(small_work=0, tiered=False):
        got = lo.evaluate(*t)
    f8 = (x * 2).astype(ml_dtypes.float8_e5m2)
    np.testing.assert_array_equal(got[0].astype("float64"), np.sum(np.abs(f8)).astype("float64"))
    np.testing.assert_array_equal(got[1], np.sort(-f8).astype("float32") + 1)


def test_float8_round_trip_between_kernels():
    x = np.linspace(-3, 3, 50000, dtype="float32")
    t = lo.cast(lo.cast(lo.convert_to_tensor(x) * 2, "float8_e4m3fn"), "float32") + 1
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    np.testing.assert_array_equal(got, (x * 2).astype(ml_dtypes.float8_e4m3fn).astype("float32") + 1)


def test_ml_dtypes_is_imported_when_a_dtype_name_needs_it():
    """Importing ml_dtypes takes most of a second, so lazyops imports it only
    when a dtype name needs it: a fresh process casts to bfloat16 and float8
    by name, runs a bfloat16 kernel and parses bf16 IR without importing it
    first."""
    import os
    import subprocess
    import sys
    code = """
import sys
import lazyops as lo
assert "ml_dtypes" not in sys.modules
from lazyops.ir.parser import parse_function
f = parse_function('func.func @f(%a: tensor<2xbf16>) -> tensor<2xbf16> {\\n  return %a\\n}')
with lo.config.override(small_work=0, tiered=False):
    t = (lo.cast(lo.arange(3.0), "bfloat16") * 2).numpy()
print(t.dtype, t.tolist(), lo.cast(lo.ones((2,)), "float8_e4m3fn").numpy().dtype)
"""
    env = dict(os.environ, KERAS_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["bfloat16", "[0.0,", "2.0,", "4.0]", "float8_e4m3fn"]
