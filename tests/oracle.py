"""Differential-testing helpers: `keras.ops` on the NumPy backend is the oracle.

    check("add", a, b)            # numpy arrays / Python scalars, Keras signature

feeds Keras the inputs converted with `keras.ops.convert_to_tensor` (float64
becomes float32, int64 becomes int32, exactly as lazyops converts them) and
Python scalars as they are, feeds lazyops the same inputs converted with
`lazyops.convert_to_tensor`, and compares shape, dtype (exact name) and values.
If Keras raises, lazyops must raise at the call (TypeError or ValueError, or
the exception class Keras raised, e.g. OverflowError for a Python int that does
not fit the tensor's dtype).
"""
import math
import os
import warnings
import zlib

os.environ["KERAS_BACKEND"] = "numpy"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import ops as K  # noqa: E402

import lazyops as lo  # noqa: E402

assert keras.backend.backend() == "numpy", "KERAS_BACKEND must be set before keras is imported"

DTYPES = ("bool", "int8", "int16", "int32", "uint8", "float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "uint8")
FLOAT_DTYPES = ("float16", "float32", "float64")

# Tolerances by result dtype. float16 is 2 ulp at the top of a binade.
RTOL = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}
ATOL = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}

SPECIALS = (np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, -0.5, 1.5, -2.5, 1.0, -1.0)


def is_float(dtype):
    return "float" in str(dtype)


def is_int(dtype):
    return "int" in str(dtype)


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# ---------------------------------------------------------------- inputs

def values(shape, dtype, domain="any", seed=0):
    """A deterministic NumPy array of `shape` and `dtype` drawn from `domain`.

    Domains: "any" (wide, with NaN/inf/-0.0 and halves for floats; full range
    for 8-bit ints), "small" (|x| <= 3), "pos" (> 0), "unit" ([-1, 1] plus a
    few values outside), "nonzero" (ints without 0 and -1, floats any),
    "expo" (exponents: ints 0..3, floats in [-2, 2]), "finite" (floats without
    specials), "castable" (finite floats that fit every integer dtype).
    """
    shape = tuple(shape)
    rng = _rng(shape, dtype, domain, seed)
    n = math.prod(shape)
    dt = np.dtype(dtype)
    if dtype == "bool":
        out = rng.random(n) < 0.5
        if domain == "pos":
            out[:] = True
        return out.reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if domain == "any":
            lo_, hi = (info.min, info.max) if dt.itemsize == 1 else (-300, 300)
        elif domain in ("small", "unit"):
            lo_, hi = (-3, 3) if domain == "small" else (-1, 1)
        elif domain == "pos":
            lo_, hi = 1, 9
        elif domain == "nonzero":
            lo_, hi = -9, 9
        elif domain == "expo":
            lo_, hi = 0, 3
        elif domain in ("finite", "castable"):
            lo_, hi = -100, 100
        else:
            raise ValueError(domain)
        lo_ = max(lo_, info.min)
        out = rng.integers(lo_, hi, size=n, endpoint=True)
        if domain == "nonzero":
            out = np.where((out == 0) | (out == -1), 2 if dt.kind == "u" else -2, out)
            if dt.kind == "u":
                out = np.abs(out)
        return out.astype(dt).reshape(shape)
    # floats
    specials = list(SPECIALS)
    if domain in ("any", "nonzero"):
        out = rng.uniform(-4, 4, n)
    elif domain == "small":
        out = rng.uniform(-3, 3, n)
    elif domain == "pos":
        out = rng.uniform(0.1, 5, n)
        specials = [np.inf, 0.5, 1.0, 2.0]
    elif domain == "unit":
        out = rng.uniform(-1, 1, n)
        specials = [1.0, -1.0, -0.0, 0.0, 1.5, -2.0, np.nan, 0.5]
    elif domain == "expo":
        out = rng.uniform(-2, 2, n)
        specials = [0.0, 1.0, 2.0, 0.5, -1.0, 3.0, np.nan, np.inf, -np.inf]
    elif domain == "finite":
        out = rng.uniform(-4, 4, n)
        specials = [0.5, -1.5, 0.0, 2.5]
    elif domain == "castable":
        out = rng.uniform(0, 100, n)
        specials = [0.0, 0.5, 0.999, 99.5, 1.5]
    else:
        raise ValueError(domain)
    # Half-integers and small integers exercise rounding; specials go at
    # deterministic random positions, at most a third of the elements.
    k = min(len(specials), n // 3)
    if k:
        pos = rng.choice(n, size=k, replace=False)
        out[pos] = specials[:k]
    return out.astype(dt).reshape(shape)


def to_keras(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return K.convert_to_tensor(x)
    return x


def to_lazy(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return lo.convert_to_tensor(x)
    return x


def describe(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return f"array{tuple(x.shape)}:{x.dtype}"
    return repr(x)


# ---------------------------------------------------------------- oracle

def keras_call(fn, *args, **kwargs):
    """Run the Keras oracle: returns (array, None) or (None, exception)."""
    kfn = getattr(K, fn) if isinstance(fn, str) else fn
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = kfn(*[to_keras(a) for a in args], **kwargs)
            return K.convert_to_numpy(out), None
    except Exception as e:  # noqa: BLE001  (the oracle may raise anything)
        return None, e


def assert_same(got, expected, rtol=None, atol=None, signed_zero=True, what=""):
    """`got` (from lazyops) equals `expected` (from Keras) in shape, dtype and value."""
    expected = np.asarray(expected)
    assert isinstance(got, np.ndarray), \
        f"{what}: forcing returned {type(got).__name__}, not ndarray"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != expected {expected.shape}"
    assert got.dtype.name == expected.dtype.name, \
        f"{what}: dtype {got.dtype.name} != expected {expected.dtype.name}"
    if not is_float(expected.dtype):
        np.testing.assert_array_equal(got, expected, err_msg=what)
        return
    dt = expected.dtype.name
    rtol = RTOL[dt] if rtol is None else rtol
    atol = ATOL[dt] if atol is None else atol
    g, e = got.astype("float64"), expected.astype("float64")
    np.testing.assert_array_equal(np.isnan(g), np.isnan(e),
                                  err_msg=f"{what}: NaN positions differ")
    np.testing.assert_array_equal(np.where(np.isinf(g), np.sign(g), 0),
                                  np.where(np.isinf(e), np.sign(e), 0),
                                  err_msg=f"{what}: inf positions or signs differ")
    np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    if signed_zero:
        zeros = (g == 0) & (e == 0)
        np.testing.assert_array_equal(np.signbit(g[zeros]), np.signbit(e[zeros]),
                                      err_msg=f"{what}: signs of zeros differ")


def same_tree(got, want, **tolerances):
    """lazyops's result tree (tuples, lists, dicts of tensors) against Keras's:
    the same structure, and each leaf as `assert_same` compares it."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want)
        for k in want:
            same_tree(got[k], want[k], **tolerances)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            same_tree(g, w, **tolerances)
    else:
        assert_same(np.asarray(lo.convert_to_numpy(got)), np.asarray(K.convert_to_numpy(want)),
                    **tolerances)

def check(fn, *args, rtol=None, atol=None, signed_zero=True, lazy_fn=None, **kwargs):
    """Call `fn` (a keras.ops name) on both sides with `args` and compare.

    Returns the lazyops result Tensor, or None when both raised.
    """
    what = f"{fn if isinstance(fn, str) else fn.__name__}(" + ", ".join(
        [describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    expected, err = keras_call(fn, *args, **kwargs)
    lfn = lazy_fn or getattr(lo, fn)
    largs = [to_lazy(a) for a in args]
    if err is not None:
        try:
            t = lfn(*largs, **kwargs)
        except (TypeError, ValueError, type(err)):
            return None
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"{what}: Keras raised {type(err).__name__}: {err}; lazyops raised "
                        f"{type(e).__name__} (expected TypeError, ValueError or "
                        f"{type(err).__name__}): {e}")
        pytest.fail(f"{what}: Keras raised {type(err).__name__}: {err}; lazyops recorded "
                    f"{t!r} instead of raising at the call")
    t = lfn(*largs, **kwargs)
    assert isinstance(t, lo.Tensor), f"{what}: returned {type(t).__name__}, not a lazyops Tensor"
    # Metadata is known before forcing.
    assert tuple(t.shape) == expected.shape, \
        f"{what}: lazy shape {t.shape} != expected {expected.shape}"
    assert t.dtype == expected.dtype.name, \
        f"{what}: lazy dtype {t.dtype} != expected {expected.dtype.name}"
    got = lo.convert_to_numpy(t)
    assert_same(got, expected, rtol=rtol, atol=atol, signed_zero=signed_zero, what=what)
    return t


def reduction_atol(x, dtype):
    """Absolute tolerance for a sum-like reduction of `x` into `dtype`."""
    if not is_float(dtype):
        return None
    finite = np.abs(np.asarray(x, dtype="float64"))
    finite = finite[np.isfinite(finite)]
    scale = max(1.0, float(finite.sum()) if finite.size else 1.0)
    return RTOL[np.dtype(dtype).name] * scale


def xfail_cases(cases, known):
    """Wrap parametrize ids listed in `known` ({id: reason}) in strict xfail marks."""
    out = []
    for case_id, params in cases:
        marks = [pytest.mark.xfail(strict=True, reason=known[case_id])] if case_id in known else []
        out.append(pytest.param(*params, id=case_id, marks=marks))
    unknown = set(known) - {c for c, _ in cases}
    assert not unknown, f"xfail ids that match no case: {sorted(unknown)}"
    return out
