"""Result dtypes against Keras: every pair of input dtypes (Python scalars as
weak types) for the promoting binary ops, every input dtype for the unary
and reduction ops, and `lazyops.ir.dtypes.result_type` against
`keras.backend.result_type` for all pairs and triples.

Dtypes are metadata, known without forcing, so these tests build graphs and
never run them (fast, no kernels to compile). A few rows are forced at the end
to check that the computed array carries the declared dtype.
"""
import itertools

import numpy as np
import pytest

import lazyops as lo
from lazyops.ir import dtypes as D
from oracle import DTYPES, keras, keras_call, to_lazy, values, xfail_cases

# Tensor dtypes plus Python scalars (weak types).
SCALARS = {"pyint": 2, "pyfloat": 2.5, "pybool": True}
KINDS = list(DTYPES) + ["uint16", "uint32", "int64"] + list(SCALARS)


def _input(kind, shape=(2,)):
    if kind in SCALARS:
        return SCALARS[kind]
    return values(shape, kind, "pos")


def _compare(op, *inputs, **kwargs):
    """Keras's result dtype/shape vs lazyops's (metadata only, not forced)."""
    expected, err = keras_call(op, *inputs, **kwargs)
    largs = [to_lazy(a) for a in inputs]
    if err is not None:
        with pytest.raises((TypeError, ValueError, type(err))):
            getattr(lo, op)(*largs, **kwargs)
        return None
    t = getattr(lo, op)(*largs, **kwargs)
    assert isinstance(t, lo.Tensor)
    assert t.dtype == expected.dtype.name, \
        f"{op}{tuple(a if not hasattr(a, 'dtype') else a.dtype.name for a in inputs)}: " \
        f"dtype {t.dtype} != keras {expected.dtype.name}"
    assert tuple(t.shape) == expected.shape
    return t


# ---------------------------------------------------------------- binary pairs

BINARY_OPS = ["add", "subtract", "multiply", "divide", "floor_divide", "mod", "power",
              "maximum", "minimum", "arctan2", "where"]

KNOWN_PAIRS = {}


def _pair_cases():
    return [(f"{op}-{a}-{b}", (op, a, b))
            for op in BINARY_OPS for a in KINDS for b in KINDS]


@pytest.mark.parametrize("op,a,b", xfail_cases(_pair_cases(), KNOWN_PAIRS))
def test_binary_result_dtype(op, a, b):
    x1, x2 = _input(a), _input(b)
    if op == "where":
        _compare("where", np.array([True, False]), x1, x2)
    else:
        _compare(op, x1, x2)


NP_SCALARS = {"np.float64": np.float64(2.5), "np.float32": np.float32(2.5),
              "np.float16": np.float16(2.5), "np.int64": np.int64(2), "np.int8": np.int8(2),
              "np.uint8": np.uint8(2), "np.bool_": np.bool_(True)}


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("scalar", list(NP_SCALARS))
@pytest.mark.parametrize("op", ["add", "multiply", "divide", "maximum", "power", "mod"])
def test_numpy_scalar_operands(op, scalar, side):
    """NumPy scalars: np.float64 is a Python float (weak), the others are strong."""
    for d in DTYPES:
        x, s = _input(d), NP_SCALARS[scalar]
        _compare(op, *((x, s) if side == "right" else (s, x)))


# ---------------------------------------------------------------- unary / reductions

UNARY_OPS = ["negative", "absolute", "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p",
             "log2", "log10", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin", "arccos",
             "arctan", "sign", "floor", "ceil", "round", "trunc", "logical_not", "isnan",
             "isinf", "isfinite"]
REDUCE_OPS = ["sum", "mean", "max", "min", "prod", "amax", "amin", "any", "all", "var", "std",
              "argmax", "argmin"]

KNOWN_UNARY = {}


@pytest.mark.parametrize("op,kind", xfail_cases(
    [(f"{op}-{k}", (op, k)) for op in UNARY_OPS for k in KINDS], KNOWN_UNARY))
def test_unary_result_dtype(op, kind):
    x = _input(kind)
    if kind in SCALARS:
        # keras.ops.negative(2) on the NumPy backend returns np.negative(2), an int64
        # (and rsqrt(2.5) raises AttributeError): Keras applies no dtype rules to a bare
        # Python scalar here. lazyops converts it first, as convert_to_tensor does.
        x = keras.ops.convert_to_tensor(x)
    _compare(op, x)


@pytest.mark.parametrize("op,kind", [pytest.param(op, k, id=f"{op}-{k}")
                                     for op in REDUCE_OPS for k in KINDS if k not in SCALARS])
def test_reduction_result_dtype(op, kind):
    x = _input(kind, (2, 3))
    _compare(op, x)
    _compare(op, x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in SCALARS])
def test_other_ops_result_dtype(kind):
    x = _input(kind, (2, 3))
    _compare("clip", x, 0, 1)
    _compare("clip", x, 0.5, 1.5)
    for op in ("zeros_like", "ones_like"):
        _compare(op, x)
    _compare("full_like", x, 3)
    _compare("transpose", x)
    _compare("reshape", x, (3, 2))
    _compare("cast", x, "float16")
    for op in ("equal", "less", "logical_and", "logical_xor"):
        _compare(op, x, x)
    _compare("convert_to_tensor", x)


@pytest.mark.parametrize("args", [(3,), (3.0,), (1, 4), (1, 4.0), (0, 6, 2), (0.0, 2, 1),
                                  (np.int64(3),), (np.float64(3),), (np.int8(3),),
                                  (np.float16(3),), (True,)],
                         ids=lambda a: "-".join(type(v).__name__ for v in a))
def test_arange_result_dtype(args):
    _compare("arange", *args)


@pytest.mark.parametrize("dtype", [None, "float16", "int32", "uint8", "bool", "float64", "int64"])
def test_creation_result_dtype(dtype):
    _compare("zeros", (2, 3), dtype=dtype)
    _compare("ones", (2,), dtype=dtype)
    _compare("full", (2,), 1, dtype=dtype)


def test_declared_dtype_is_the_computed_dtype():
    """Forcing gives arrays of exactly the declared dtype, over one row of each table."""
    xs = {k: _input(k, (3,)) for k in ("int8", "uint8", "float16", "bool")}
    outs = [
        lo.add(xs["int8"], xs["uint8"]), lo.divide(xs["int8"], 2),
        lo.multiply(xs["float16"], 2.5), lo.power(xs["uint8"], 2),
        lo.floor_divide(xs["bool"], xs["bool"]), lo.mod(xs["bool"], xs["bool"]),
        lo.maximum(xs["bool"], xs["int8"]), lo.where(xs["bool"], xs["uint8"], 1.5),
        lo.arctan2(xs["int8"], xs["uint8"]), lo.sqrt(xs["uint8"]), lo.sum(xs["int8"]),
        lo.mean(xs["uint8"]), lo.var(xs["float16"]), lo.round(xs["bool"]),
    ]
    for t, a in zip(outs, lo.evaluate(*outs)):
        assert a.dtype.name == t.dtype, t


# ---------------------------------------------------------------- result_type

RT_KINDS = list(D.ALL) + [int, float, bool]
RT_NO_BF16 = [k for k in RT_KINDS if k != "bfloat16"]


def _name(k):
    return k if isinstance(k, str) else k.__name__


def _mismatches(combos):
    bad = []
    for combo in combos:
        try:
            exp = keras.backend.result_type(*combo)
        except Exception as e:  # noqa: BLE001
            exp = type(e).__name__
        try:
            got = D.result_type(*combo)
        except Exception as e:  # noqa: BLE001
            got = type(e).__name__
        if got != exp:
            bad.append(f"{tuple(map(_name, combo))}: lazyops {got}, keras {exp}")
    return bad


def test_result_type_singles_and_pairs():
    combos = [()] + [(a,) for a in RT_NO_BF16] + list(itertools.product(RT_NO_BF16, RT_NO_BF16))
    assert not _mismatches(combos)


@pytest.mark.parametrize("first", RT_NO_BF16, ids=_name)
def test_result_type_triples(first):
    assert not _mismatches((first, b, c) for b in RT_NO_BF16 for c in RT_NO_BF16)


def test_result_type_bfloat16():
    combos = [("bfloat16",)] + [c for c in itertools.product(RT_KINDS, RT_KINDS)
                                if "bfloat16" in c]
    combos += [c for c in itertools.product(RT_KINDS, repeat=3) if "bfloat16" in c]
    assert not _mismatches(combos)


def test_result_type_accepts_numpy_dtypes():
    for d in (d for d in D.SUPPORTED if d not in D.FLOAT8):  # float8 promotes to nothing
        assert D.result_type(np.dtype(d)) == keras.backend.result_type(np.dtype(d))
        assert D.result_type(np.dtype(d), "int8") == keras.backend.result_type(d, "int8")


# NumPy arrays of 64 bits: the functions Keras's NumPy backend hands them to
# NumPy unconverted keep float64/int64, the others convert to 32 bits.
def _wide_cases():
    import runpy
    import pathlib
    from lazyops.api import KEEPS_64
    gen = runpy.run_path(str(pathlib.Path(__file__).resolve().parents[1] / "docs" / "gen_ops_table.py"))
    cases = []
    for name in sorted(KEEPS_64 | {"add", "exp", "mean", "maximum", "where", "clip"}):
        for dt in ("float64", "int64"):
            cases.append((name, dt, gen["_args"](name)))
    return cases


def _widen(a, dt):
    if isinstance(a, list):
        return [_widen(e, dt) for e in a]
    if isinstance(a, np.ndarray) and a.dtype.kind in "fi" and a.dtype != np.bool_:
        return a.astype(dt)
    return a


@pytest.mark.parametrize("name,dt,args", _wide_cases(),
                         ids=[f"{c[0]}-{c[1]}" for c in _wide_cases()])
def test_64_bit_numpy_inputs_as_keras(name, dt, args):
    from keras import ops as K
    args = tuple(_widen(a, dt) for a in args)
    if name == "dtype":
        assert lo.dtype(args[0]) == K.dtype(args[0]) == dt
        return
    try:
        want = getattr(K, name)(*args)
    except Exception:  # noqa: BLE001  (not a valid call for this dtype in Keras)
        return
    got = getattr(lo, name)(*args)
    wants = want if isinstance(want, (tuple, list)) else [want]
    gots = got if isinstance(got, (tuple, list)) else [got]
    for g, w in zip(gots, wants):
        g, w = np.asarray(g.numpy()), np.asarray(K.convert_to_numpy(w))
        assert g.dtype == w.dtype and g.shape == w.shape, (name, g.dtype, w.dtype)
        np.testing.assert_allclose(g.astype("float64"), w.astype("float64"), rtol=1e-6,
                                   atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dt", ["float64", "int64"])
def test_lazy_64_bit_tensors_as_keras(dt):
    """A 64-bit tensor (a cast's result; Keras's tensors are NumPy arrays) given
    to a function outside KEEPS_64 is converted to 32 bits, as Keras converts
    that function's argument; KEEPS_64 functions keep it."""
    from keras import ops as K
    x = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    for name in ["mean", "var", "std", "prod", "argmax", "argmin", "sum", "max", "min", "exp",
                 "sqrt", "negative", "absolute", "square", "sign", "floor", "log1p", "tanh",
                 "reciprocal", "isnan", "round", "clip", "rsqrt", "trunc", "expm1"]:
        extra = (0, 2) if name == "clip" else ()
        got = getattr(lo, name)(lo.cast(x, dt), *extra)
        with np.errstate(all="ignore"):
            want = np.asarray(getattr(K, name)(K.cast(x, dt), *extra))
        g = got.numpy()
        assert got.dtype == want.dtype.name == g.dtype.name, (name, got.dtype, want.dtype)
        np.testing.assert_allclose(g.astype("float64"), want.astype("float64"), rtol=1e-6,
                                   equal_nan=True, err_msg=name)
    assert lo.prod(lo.cast(x, dt), dtype="float64").dtype == "float64"
    # joins: append converts its arguments, concatenate, stack and vstack keep them
    for name in ["append", "concatenate", "stack", "vstack"]:
        args = (lo.cast(x, dt), lo.cast(x, dt))
        kargs = (K.cast(x, dt), K.cast(x, dt))
        got = lo.append(*args) if name == "append" else getattr(lo, name)(args)
        want = K.append(*kargs) if name == "append" else getattr(K, name)(kargs)
        assert got.dtype == np.asarray(want).dtype.name, (name, got.dtype)
