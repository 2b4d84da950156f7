"""Tests for codegen.mathlib: accuracy against NumPy and a higher-precision
reference, special values, float16 conversions and vectorization."""
import os
import re
import sys
import zlib

import numpy as np
import pytest

numba = pytest.importorskip("numba")
from numba import njit, prange, types  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from codegen import mathlib as ml  # noqa: E402
from codegen import mathlib_wide  # noqa: E402

FUNCS = ["exp", "expm1", "log", "log1p", "log2", "log10", "tanh", "sin", "cos"]
DTYPES = [np.float32, np.float64]
N = 100_000
# float64 references need an extended long double (x87 80-bit on x86 Linux).
EXTENDED_LD = np.finfo(np.longdouble).nmant >= 63


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _make_loop(fn):
    @njit
    def loop(a):
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = fn(a[i])
        return out
    return loop


@pytest.fixture(scope="module")
def kernels():
    """One serial njit loop per public function; each compiles once per dtype."""
    return {name: _make_loop(getattr(ml, name)) for name in FUNCS}


def ordered(v):
    """Map float bit patterns to integers that are monotonic in the value."""
    if v.dtype == np.float32:
        i = v.view(np.int32).astype(np.int64)
        return np.where(i < 0, np.int64(-2**31) - i, i)
    i = v.view(np.int64)
    return np.where(i < 0, np.iinfo(np.int64).min - i, i)


def ulp_diff(a, b):
    """Distance in ulps (number of representable values in between); NaN == NaN."""
    a = np.asarray(a)
    b = np.asarray(b).astype(a.dtype)
    d = np.abs((ordered(a) - ordered(b)).astype(np.float64))
    na, nb = np.isnan(a), np.isnan(b)
    d[na & nb] = 0.0
    d[na ^ nb] = np.inf
    return d


def reference(name, x):
    """Correctly rounded (up to rare double roundings) value of np.<name>(x)."""
    f = getattr(np, name)
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            return f(x.astype(np.float64)).astype(np.float32)
        return f(x.astype(np.longdouble)).astype(np.float64)


def _logu(rng, lo, hi, n, sign=True):
    v = rng.uniform(1.0, 2.0, n) * 2.0 ** rng.uniform(lo, hi, n)
    return v * rng.choice([-1.0, 1.0], n) if sign else v


def sample(name, dtype, rng, n=N):
    """n inputs over the whole float range plus the regions that matter."""
    f32 = dtype == np.float32
    emin, emax = (-149, 127) if f32 else (-1074, 1023)
    q = n // 4
    if name in ("exp", "expm1"):
        lo, hi = (-105.0, 89.5) if f32 else (-746.0, 710.0)
        parts = [rng.uniform(lo, hi, q), _logu(rng, emin, 3, q), rng.uniform(-2, 2, q),
                 rng.uniform(lo, lo + 20, q)]                       # denormal results
    elif name in ("log", "log2", "log10"):
        parts = [_logu(rng, emin, emax, 2 * q, sign=False), rng.uniform(0.5, 2.0, q),
                 1.0 + rng.uniform(-1e-3, 1e-3, q)]
    elif name == "log1p":
        parts = [_logu(rng, emin, emax, q, sign=False), -_logu(rng, emin, -1, q, sign=False),
                 rng.uniform(-1.0, 1.0, q), -1.0 + _logu(rng, -24 if f32 else -50, -1, q, sign=False)]
    elif name == "tanh":
        parts = [_logu(rng, emin, 6, 2 * q), rng.uniform(0.5, 0.75, q), rng.uniform(-12, 12, q)]
    else:  # sin, cos
        parts = [_logu(rng, emin, emax, 2 * q), rng.uniform(-20, 20, q),
                 (np.pi / 2) * rng.integers(-10**5, 10**5, q) + rng.uniform(-1e-4, 1e-4, q)]
    with np.errstate(all="ignore"):
        x = np.concatenate(parts).astype(dtype)
    return x[np.isfinite(x)]


def special_inputs(dtype):
    fi = np.finfo(dtype)
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, 0.5, 10.0, -10.0,
            float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal),
            -float(fi.smallest_subnormal), float(fi.tiny) / 3, float(fi.max), -float(fi.max),
            1e-30, -1e-30, 1e-8, -1e-8, 3e-5, 0.625, -0.625, 9.0, 9.1, 19.0, 20.0, 22.0,
            30.0, -30.0, 100.0, -100.0, np.pi / 4, np.pi / 2, np.pi, 2 * np.pi, 1e6, 1e22,
            0.99999, 1.00001, -0.999999, -0.5, -2.0,
            # float32 exp/expm1 overflow and underflow thresholds
            88.72283, 88.72284, 89.0, -87.33654, -87.33655, -103.97207, -103.97208, -104.0,
            # float64 ones
            709.782712893384, 709.7827128933841, -708.3964185322641, -745.1332191019411,
            -745.1332191019412, -746.0, 1e300, 1e-300, 1e38, -1e38, 3.4e38]
    with np.errstate(all="ignore"):
        x = np.array(vals, dtype=np.float64).astype(dtype)
    neg_nan = np.array([np.nan], dtype=dtype)
    neg_nan = -neg_nan
    return np.concatenate([x, neg_nan])


def same_class(a, b):
    """Elementwise: both NaN, or equal infinities, or zeros of the same sign, or
    both finite nonzero."""
    both_nan = np.isnan(a) & np.isnan(b)
    inf_eq = np.isinf(a) & (a == b)
    zero_eq = (a == 0) & (b == 0) & (np.signbit(a) == np.signbit(b))
    fin = np.isfinite(a) & np.isfinite(b) & (a != 0) & (b != 0)
    return both_nan | inf_eq | zero_eq | fin


# --------------------------------------------------------------------------
# accuracy
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", FUNCS)
def test_accuracy_random(kernels, name, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{name}-{np.dtype(dtype).name}".encode()))
    x = sample(name, dtype, rng)
    y = kernels[name](x)
    assert y.dtype == dtype
    with np.errstate(all="ignore"):
        y_np = getattr(np, name)(x)
    assert np.array_equal(np.isnan(y), np.isnan(y_np))
    d_np = ulp_diff(y, y_np)
    if dtype == np.float64 and not EXTENDED_LD:
        assert d_np.max() <= 2, (name, x[np.argmax(d_np)])
        return
    ref = reference(name, x)
    d_ref = ulp_diff(y, ref)
    worst = np.argmax(d_ref)
    # Faithful: never more than 1 ulp from the correctly rounded result.
    assert d_ref.max() <= 1, (name, x[worst], y[worst], ref[worst])
    # Within 2 ulp of NumPy wherever NumPy itself is faithful (NumPy's float32
    # SIMD exp/log/log10 are up to 2-3 ulp off, so there the gap can be larger).
    np_faithful = ulp_diff(y_np, ref) <= 1
    assert d_np[np_faithful].max() <= 2, (name, x[np_faithful][np.argmax(d_np[np_faithful])])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", FUNCS)
def test_special_values(kernels, name, dtype):
    x = special_inputs(dtype)
    y = kernels[name](x)
    with np.errstate(all="ignore"):
        y_np = getattr(np, name)(x)
    cls = same_class(y, y_np)
    assert cls.all(), [(x[i], y[i], y_np[i]) for i in np.nonzero(~cls)[0]]
    fin = np.isfinite(y) & (y != 0)
    if dtype == np.float64 and not EXTENDED_LD:
        assert ulp_diff(y[fin], y_np[fin]).max(initial=0) <= 2
    else:
        d = ulp_diff(y[fin], reference(name, x)[fin])
        assert d.max(initial=0) <= 1, [(x[fin][i], y[fin][i]) for i in np.nonzero(d > 1)[0]]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_specific_special_values(kernels, dtype):
    def call(name, v):
        return kernels[name](np.array([v], dtype=dtype))[0]

    fi = np.finfo(dtype)
    assert np.isnan(call("exp", np.nan)) and call("exp", np.inf) == np.inf
    assert call("exp", -np.inf) == 0 and call("exp", 1000.0) == np.inf
    assert call("exp", -1000.0) == 0 and call("exp", 0.0) == 1
    # the smallest denormal result
    sub = fi.smallest_subnormal
    xs = np.log(np.float64(sub)) + 0.1
    assert 0 < call("exp", xs) < 4 * sub
    assert call("log", 0.0) == -np.inf and call("log", -0.0) == -np.inf
    assert np.isnan(call("log", -1.0)) and call("log", np.inf) == np.inf
    assert np.isnan(call("log", -np.inf)) and call("log", 1.0) == 0
    assert ulp_diff(kernels["log"](np.array([sub, 3 * sub, fi.tiny / 7], dtype=dtype)),
                    reference("log", np.array([sub, 3 * sub, fi.tiny / 7], dtype=dtype))
                    ).max() <= 1                                  # log of denormals
    assert call("log2", np.float64(2.0) ** -140) == -140
    assert call("log2", 1024.0) == 10 and call("log10", 1000.0) == 3
    assert call("log1p", -1.0) == -np.inf and np.isnan(call("log1p", -2.0))
    for name in ("expm1", "log1p", "tanh", "sin"):
        r = call(name, -0.0)
        assert r == 0 and np.signbit(r), name
        r = call(name, 0.0)
        assert r == 0 and not np.signbit(r), name
    for name in ("expm1", "log1p", "tanh", "sin"):   # f(x) == x for tiny x
        assert call(name, 1e-30) == dtype(1e-30), name
    assert call("expm1", -np.inf) == -1 and call("expm1", np.inf) == np.inf
    assert call("tanh", np.inf) == 1 and call("tanh", -np.inf) == -1
    assert call("tanh", 50.0) == 1 and call("tanh", -50.0) == -1
    assert np.isnan(call("tanh", np.nan))
    for name in ("sin", "cos"):
        assert np.isnan(call(name, np.inf)) and np.isnan(call(name, -np.inf))
        assert np.isnan(call(name, np.nan))
    assert call("cos", 0.0) == 1 and call("cos", -0.0) == 1


def test_sin_cos_hard_arguments(kernels):
    """Arguments extremely close to multiples of pi/2 (large cancellation)."""
    x64 = np.array([6381956970095103 * 2.0**797, 1.5707963267948966, 3.141592653589793,
                    1e22, 1.7976931348623157e308, 5e15, 103993.0])
    # correctly rounded values (mpmath, 3000 bits)
    sin64 = [1.0, 1.0, 1.2246467991473532e-16, -0.8522008497671888, 0.004961954789184062,
             -0.901711760523585, -1.9129335778423752e-05]
    cos64 = [-4.687165924254628e-19, 6.123233995736766e-17, -1.0, 0.523214785395139,
             -0.9999876894265599, -0.432337716297638, 0.9999999998170342]
    assert np.array_equal(kernels["sin"](x64), np.array(sin64))
    assert np.array_equal(kernels["cos"](x64), np.array(cos64))
    x32 = np.array([1.5707964, 3.1415927, 16367173.0 * 2.0**72, 3.4028235e38, 71476.0625],
                   dtype=np.float32)
    sin32 = np.array([1.0, -8.742278e-08, 1.0, -0.5218765, -0.99313504], dtype=np.float32)
    cos32 = np.array([-4.371139e-08, -1.0, -1.6147698e-09, 0.853021, 0.116973445],
                     dtype=np.float32)
    assert np.array_equal(kernels["sin"](x32), sin32)
    assert np.array_equal(kernels["cos"](x32), cos32)


# --------------------------------------------------------------------------
# dispatch, typing, vectorization
# --------------------------------------------------------------------------

def test_result_types_and_python_fallback():
    from numba.core.registry import cpu_target
    tyctx = cpu_target.typing_context
    fnty = tyctx.resolve_value_type(ml.exp)
    for nbt in (types.float32, types.float64):
        assert tyctx.resolve_function_type(fnty, (nbt,), {}).return_type == nbt
    # (the vectorization test checks that float32 loops hold no float64 math)
    # a plain Python call falls back to NumPy
    for name in FUNCS:
        for dt in DTYPES:
            assert getattr(ml, name)(dt(0.75)) == getattr(np, name)(dt(0.75))


def test_integer_argument_is_float64():
    @njit
    def f(i):
        return ml.exp(i), ml.log(i)
    a, b = f(3)
    ref = reference("exp", np.array([3.0])), reference("log", np.array([3.0]))
    assert ulp_diff(np.array([a]), ref[0])[0] <= 1 and ulp_diff(np.array([b]), ref[1])[0] <= 1
    assert all(t == types.float64 for t in f.nopython_signatures[0].return_type)


def _vector_widths(ir, elt):
    return {int(w) for w in re.findall(r"<(\d+) x %s>" % elt, ir)}


_LIBM = re.compile(r"call [^@\n]*@(llvm\.(?:exp|exp2|log|log2|log10|sin|cos|pow)\.[fv]\w*|"
                   r"(?:exp|expm1|log|log1p|log2|log10|tanh|sin|cos)f?)\(")


def _host_has(feature):
    try:
        import llvmlite.binding as llvm
        return bool(llvm.get_host_cpu_features().get(feature, False))
    except Exception:  # pragma: no cover
        return False


@pytest.mark.parametrize("name", FUNCS)
def test_loops_vectorize_without_libm(kernels, name):
    if name in ("sin", "cos") and not _host_has("avx2"):
        pytest.skip("sin/cos need vector gathers (AVX2) to vectorize")
    loop = kernels[name]
    if len(loop.signatures) < 2:      # the accuracy tests were deselected
        for dt in DTYPES:
            loop(np.ones(4, dtype=dt))
    for sig in loop.signatures:
        ir = loop.inspect_llvm(sig)
        elt = "float" if sig[0].dtype == types.float32 else "double"
        assert max(_vector_widths(ir, elt), default=0) >= (4 if elt == "float" else 2), name
        assert not _LIBM.findall(ir), (name, _LIBM.findall(ir))
        if elt == "float":            # no float64 promotion in the float32 path
            body = ir[ir.index("vector.body"):]
            assert "double" not in body.split("\n}\n")[0], name


def test_prange_kernel_matches_serial(kernels):
    @njit(parallel=True)
    def fused(a, out):
        for i in prange(a.shape[0]):
            out[i] = ml.exp(a[i]) * ml.log(a[i] * a[i] + np.float32(1.0))

    a = np.random.default_rng(0).uniform(-20, 20, 5000).astype(np.float32)
    out = np.empty_like(a)
    fused(a, out)
    ref = kernels["exp"](a) * kernels["log"](a * a + np.float32(1.0))
    assert ulp_diff(out, ref).max() <= 1
    ir = fused.inspect_llvm(fused.signatures[0])
    assert max(_vector_widths(ir, "float"), default=0) >= 4
    assert not _LIBM.findall(ir)


# --------------------------------------------------------------------------
# bit casts and float16
# --------------------------------------------------------------------------

@njit
def _bitcasts(f, d):
    i = np.empty(f.shape[0], np.int32)
    ff = np.empty_like(f)
    j = np.empty(d.shape[0], np.int64)
    dd = np.empty_like(d)
    for k in range(f.shape[0]):
        i[k] = ml.bitcast_f32_to_i32(f[k])
        ff[k] = ml.bitcast_i32_to_f32(i[k])
    for k in range(d.shape[0]):
        j[k] = ml.bitcast_f64_to_i64(d[k])
        dd[k] = ml.bitcast_i64_to_f64(j[k])
    return i, ff, j, dd


def test_bitcasts():
    rng = np.random.default_rng(3)
    f = rng.integers(-2**31, 2**31, 10000, dtype=np.int64).astype(np.int32).view(np.float32)
    d = rng.integers(-2**63, 2**63 - 1, 10000, dtype=np.int64).view(np.float64)
    i, ff, j, dd = _bitcasts(f, d)
    assert np.array_equal(i, f.view(np.int32)) and np.array_equal(ff.view(np.int32), i)
    assert np.array_equal(j, d.view(np.int64)) and np.array_equal(dd.view(np.int64), j)


@njit
def _h2f(h):
    out = np.empty(h.shape[0], np.float32)
    for i in range(h.shape[0]):
        out[i] = ml.f16_to_f32(h[i])
    return out


@njit
def _f2h(x):
    out = np.empty(x.shape[0], np.uint16)
    for i in range(x.shape[0]):
        out[i] = ml.f32_to_f16(x[i])
    return out


def _assert_same_half_bits(got, expected):
    got, expected = got.view(np.uint16), expected.view(np.uint16)
    nan = (expected & 0x7C00) == 0x7C00
    nan &= (expected & 0x3FF) != 0
    assert np.array_equal(got[~nan], expected[~nan])
    # NaN: a NaN with the same sign (payloads match NumPy's software conversion)
    g = got[nan]
    assert np.all(((g & 0x7C00) == 0x7C00) & ((g & 0x3FF) != 0))
    assert np.array_equal(g & 0x8000, expected[nan] & 0x8000)


def test_f16_to_f32_exhaustive():
    h = np.arange(65536, dtype=np.uint16)
    got = _h2f(h)
    expected = h.view(np.float16).astype(np.float32)
    nan = np.isnan(expected)
    assert np.array_equal(got.view(np.uint32)[~nan], expected.view(np.uint32)[~nan])
    assert np.isnan(got[nan]).all()
    assert np.array_equal(np.signbit(got[nan]), np.signbit(expected[nan]))


def _f32_to_f16_inputs():
    rng = np.random.default_rng(5)
    anybits = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32)
    # exponents around the half range (denormals, normals, overflow)
    near = (rng.integers(0, 2**23, 300_000).astype(np.uint32)
            | (rng.integers(95, 145, 300_000).astype(np.uint32) << 23)
            | (rng.integers(0, 2, 300_000).astype(np.uint32) << 31))
    # exact ties between adjacent halves and their neighbours
    hb = np.arange(0, 0x7C00, dtype=np.uint32)
    lo = hb.astype(np.uint16).view(np.float16).astype(np.float64)
    hi = (hb + 1).astype(np.uint16).view(np.float16).astype(np.float64)
    ties = ((lo + hi) / 2).astype(np.float32)
    ties = np.concatenate([ties, np.nextafter(ties, np.float32(np.inf)),
                           np.nextafter(ties, np.float32(0))])
    specials = np.array([0x7F800000, 0x7FC00000, 0x7F800001, 0x7FA00000, 0x7F802000,
                         0x7FBFFFFF, 0x477FF000, 0x477FEFFF, 0x477FE000, 0x33000000,
                         0x33000001, 0x32FFFFFF, 0x387FE000, 0x387FF000, 0x00000001,
                         0x00000000], dtype=np.uint32)
    x = np.concatenate([anybits.view(np.float32), near.view(np.float32), ties,
                        specials.view(np.float32)])
    return np.concatenate([x, -x])


def test_f32_to_f16():
    x = _f32_to_f16_inputs()
    with np.errstate(all="ignore"):
        expected = x.astype(np.float16)
    _assert_same_half_bits(_f2h(x), expected)


def test_f64_to_f16():
    rng = np.random.default_rng(6)
    with np.errstate(all="ignore"):
        x32 = _f32_to_f16_inputs()[::4].astype(np.float64)
    hb = np.arange(0, 0x7C00, dtype=np.uint32)
    lo = hb.astype(np.uint16).view(np.float16).astype(np.float64)
    hi = (hb + 1).astype(np.uint16).view(np.float16).astype(np.float64)
    ties = (lo + hi) / 2
    x = np.concatenate([x32, rng.standard_normal(100_000) * 1e-5,
                        rng.standard_normal(100_000) * 3e4, ties,
                        np.nextafter(ties, 0), np.nextafter(ties, np.inf),
                        # double rounding trap: just above a tie by less than a float32 ulp
                        ties + ties * 2.0**-40,
                        np.array([0x7FF0000000000001, 0xFFF4000000000000, 0x7FF0040000000000],
                                 dtype=np.uint64).view(np.float64),
                        np.array([np.inf, 65520.0, 65519.99999, 1e300, 1e-300])])
    x = np.concatenate([x, -x])
    with np.errstate(all="ignore"):
        expected = x.astype(np.float16)
    _assert_same_half_bits(_f2h(x), expected)


# --------------------------------------------------------------------------
# float32-only functions, computed through the float64 primitives
# --------------------------------------------------------------------------

F32_FUNCS = ["sinh", "cosh", "arcsinh", "arctanh", "arctan", "arcsin", "arccos"]
_LIBM_F32 = re.compile(r"call [^@\n]*@(?:sinh|cosh|asinh|atanh|atan|asin|acos|exp|expm1|log|log1p)f?\(")


@pytest.mark.parametrize("name", F32_FUNCS)
def test_float32_functions_over_float64_are_faithful_vectorized_and_keep_special_values(name):
    loop = _make_loop(getattr(mathlib_wide, name))
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if name in ("arctanh", "arcsin", "arccos"):
        x = np.concatenate([rng.uniform(-1, 1, N), 1 - _logu(rng, -24, -1, N // 4, sign=False),
                            _logu(rng, -149, 0, N // 4)])
    else:
        x = np.concatenate([_logu(rng, -149, 7, N), rng.uniform(-90, 90, N // 4),
                            _logu(rng, -149, 127, N // 4)])
    with np.errstate(all="ignore"):
        x = x.astype(np.float32)
        x = np.concatenate([x[np.isfinite(x)], special_inputs(np.float32)])
        want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
        y_np = getattr(np, name)(x)
    y = loop(x)
    assert y.dtype == np.float32
    assert same_class(y, y_np).all(), [(a, b, c) for a, b, c in zip(x, y, y_np)
                                       if not same_class(np.array([b]), np.array([c]))[0]][:5]
    d = ulp_diff(y, want)
    assert d.max() <= 1, (name, x[np.argmax(d)], y[np.argmax(d)], want[np.argmax(d)])
    ir = loop.inspect_llvm(loop.signatures[0])
    assert max(_vector_widths(ir, "double"), default=0) >= 2, name
    assert not _LIBM_F32.findall(ir), name
    # float64 arguments keep NumPy's functions (libm's, as Numba calls them)
    np.testing.assert_allclose(loop(x.astype(np.float64)[:100]),
                               getattr(np, name)(x.astype(np.float64)[:100]), rtol=1e-15)


@pytest.mark.parametrize("name", ["sin_near", "cos_near", "tan_near", "sin_split", "cos_split",
                                  "tan_split"])
def test_float32_sin_cos_tan_by_the_float64_reduction(name):
    """`sin_near` & co. reduce by pi/2 in float64: within 0.502 ulp of
    the correctly rounded value below NEAR (2**28; tested there: every
    float32 in whole binades, arguments next to multiples of pi/2, random
    ones over the range), -0.0 and denormals kept; `sin_split` & co. take
    mathlib's full reduction (libm's tan) at NEAR and beyond (and for inf,
    NaN). The near ones vectorize without libm."""
    if not _host_has("avx2"):
        pytest.skip("the full reduction needs vector gathers (AVX2) to vectorize")
    loop = _make_loop(getattr(mathlib_wide, name))
    near = name.endswith("_near")
    ref = getattr(np, name.split("_")[0])
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    binades = [np.arange(np.float32(2.0 ** e).view(np.int32), np.float32(2.0 ** (e + 1)).view(
        np.int32), 7 if e > 0 else 97, dtype=np.int32).view(np.float32) for e in (-13, -1, 0, 2, 9, 17, 27)]
    k = rng.integers(1, 2 ** 27, 50_000)
    turns = (k * (np.pi / 2)).astype(np.float32)
    x = np.concatenate(binades + [turns, np.nextafter(turns, np.float32(0)), np.nextafter(turns, np.float32(np.inf)),
                                  _logu(rng, -149, 28, N).astype(np.float32)])
    x = x[np.abs(x) < mathlib_wide.NEAR]
    x = np.concatenate([x, -x, special_inputs(np.float32)])
    if near:
        x = x[~(np.abs(x) >= mathlib_wide.NEAR)]  # NaN stays
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64)).astype(np.float32)
    y = loop(x)
    assert y.dtype == np.float32 and same_class(y, want).all()
    d = ulp_diff(y, want)
    assert d.max() <= 1, (name, x[np.argmax(d)])
    fin = np.abs(x) < mathlib_wide.NEAR
    assert ulp_diff(y[fin], want[fin]).max() <= 1 and \
        (np.abs(y[fin].astype(np.float64) - ref(x[fin].astype(np.float64))) <=
         0.502 * np.spacing(np.abs(want[fin])).astype(np.float64)).all()
    if not near:  # beyond NEAR: the full reduction's values
        far = np.array([2.0 ** 28, -2.0 ** 28, 3.4028235e38, 16367173.0 * 2.0 ** 72, 1e30],
                       dtype=np.float32)
        full = _make_loop(getattr(ml, name.split("_")[0]) if not name.startswith("tan")
                          else njit(lambda v: np.tan(v)))
        assert np.array_equal(loop(far), full(far))
    else:
        ir = loop.inspect_llvm(loop.signatures[0])
        assert max(_vector_widths(ir, "double"), default=0) >= 2, name
        assert not _LIBM.findall(ir), name
