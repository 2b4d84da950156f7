"""Vectorizable float32/float64 math for generated Numba kernels.

Numba lowers ``np.exp``/``math.exp`` & co. to scalar libm calls, which stop the
LLVM loop vectorizer: a fused ``prange`` kernel that calls them runs several
times slower than NumPy's SIMD loops.  This module provides branch-free
implementations (range reduction + polynomial, exponent manipulation through
bit casts) that LLVM inlines and vectorizes 8/16 lanes wide.

Public API (all callable from ``@njit`` code; the element functions are also
callable from plain Python, where they fall back to NumPy):

* ``exp, expm1, log, log1p, log2, log10, tanh, sin, cos`` -- ``f(x)`` for a
  float32 or float64 scalar ``x``; the result has the dtype of ``x`` (an integer
  or bool argument is computed in float64).  Dispatch is an ``@overload`` with
  ``inline="always"`` onto ``<name>_f32`` / ``<name>_f64``, which are
  ``@njit(inline="always", fastmath=False)`` and may also be called directly.
* ``mathlib_wide`` builds float32 ``sinh, cosh, arcsinh, arctanh, arctan,
  arcsin, arccos`` on the float64 functions here (``_make_dispatcher`` with
  no float64 implementation).
* ``bitcast_f32_to_i32, bitcast_i32_to_f32, bitcast_f64_to_i64,
  bitcast_i64_to_f64`` -- intrinsics that reinterpret the bits (LLVM
  ``bitcast``); the integer argument may be any integer type (truncated or
  extended to the target width), the float argument must have the named width.
* ``f16_to_f32(h) -> float32`` for the IEEE half bit pattern ``h`` (any integer
  type, normally uint16) and ``f32_to_f16(x) -> uint16`` (round to nearest
  even, NaN/inf/denormals like ``ndarray.astype(np.float16)``; a float64
  argument is rounded directly, without double rounding; NaN payloads are
  kept as NumPy's software conversion keeps them, without quieting).  Numba's
  CPU target has no float16 arithmetic, so float16 arrays are handled as
  uint16 views.  ``f32_to_f16`` dispatches onto ``f32_to_f16_f32`` /
  ``f32_to_f16_f64``.

Accuracy (tests/test_mathlib.py): faithful -- never more than 1 ulp from the
correctly rounded result, for float32 and float64 over the whole range
(measured worst real errors 0.70-1.49 ulp; NumPy's own float32 SIMD exp, log,
log10 are up to 2-3 ulp off) -- and NumPy's results at special inputs (NaN,
+-inf, +-0, overflow, underflow to denormals/0, domain errors, signed zeros).

Every function is vectorizable: none calls libm.  ``sin``/``cos`` use an
integer Payne-Hanek reduction (2/pi bits from a per-exponent table, gathered)
for every argument, so huge arguments stay exact without a libm fallback;
their float32 loops vectorize 8 wide (64-bit integer products) instead of 16.
Polynomials use FMA where the target has it (``contract`` on fmul/fadd); the
sin/cos reduction calls ``llvm.fma`` explicitly, which is a libm call (correct
but slow) only on targets without FMA (e.g. ``NUMBA_CPU_NAME=generic``).

Caller requirements: these functions are inlined at the Numba IR level (LLVM
alone does not inline them into the loop, and then the loop does not
vectorize), so they are compiled with the *caller's* fastmath flags.  A kernel
that calls them must use ``fastmath=False`` or a flag set without ``nnan``,
``ninf``, ``nsz``, ``reassoc`` and ``afn`` (``contract`` and ``arcp`` are
tested harmless); otherwise the special-value handling and the error-free
transformations can be optimized away.  Inlining costs compile time at every
call site (roughly 0.2-0.5 s per function, ~1.5 s for float64 sin/cos).
float32 code keeps every constant and intermediate in float32 (apart from
integer bit manipulation), so float32 loops vectorize 16 wide with AVX-512 (8
with AVX2) and never promote to float64.
"""
import math

import numpy as np
from llvmlite import ir as llir
from numba import njit, types
from numba.extending import intrinsic, overload

__all__ = [
    "exp", "expm1", "log", "log1p", "log2", "log10", "tanh", "sin", "cos",
    "bitcast_f32_to_i32", "bitcast_i32_to_f32", "bitcast_f64_to_i64",
    "bitcast_i64_to_f64", "f16_to_f32", "f32_to_f16",
]

_jit = njit(inline="always", fastmath=False)

F32 = np.float32
F64 = np.float64
I64 = np.int64
I32 = np.int32   # explicit int32 casts let LLVM keep float32-path integer ops 32-bit


# --------------------------------------------------------------------------
# Intrinsics
# --------------------------------------------------------------------------

def _make_f2i(name, fty, ity, bits):
    def impl(typingctx, x):
        if not isinstance(x, types.Float) or x.bitwidth != bits:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], llir.IntType(bits))
        return ity(fty), codegen
    impl.__name__ = name
    return intrinsic(impl)


def _make_i2f(name, fty, ity, bits):
    def impl(typingctx, x):
        if not isinstance(x, (types.Integer, types.Boolean)):
            return None

        def codegen(context, builder, sig, args):
            v = context.cast(builder, args[0], sig.args[0], ity)
            lty = llir.FloatType() if bits == 32 else llir.DoubleType()
            return builder.bitcast(v, lty)
        return fty(x), codegen
    impl.__name__ = name
    return intrinsic(impl)


bitcast_f32_to_i32 = _make_f2i("bitcast_f32_to_i32", types.float32, types.int32, 32)
bitcast_f64_to_i64 = _make_f2i("bitcast_f64_to_i64", types.float64, types.int64, 64)
bitcast_i32_to_f32 = _make_i2f("bitcast_i32_to_f32", types.float32, types.int32, 32)
bitcast_i64_to_f64 = _make_i2f("bitcast_i64_to_f64", types.float64, types.int64, 64)


@intrinsic
def _fma(typingctx, a, b, c):
    """a*b + c with a single rounding (llvm.fma; one instruction with FMA3)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        lty = context.get_value_type(sig.return_type)
        fn = builder.module.declare_intrinsic(
            "llvm.fma", [lty], llir.FunctionType(lty, [lty, lty, lty]))
        return builder.call(fn, args)
    return a(a, a, a), codegen


@intrinsic
def _div(typingctx, a, b):
    """a / b as a plain IEEE division (no ZeroDivisionError check, which would
    otherwise depend on the caller's error_model and stop vectorization)."""
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, sig, args):
        return builder.fdiv(args[0], args[1])
    return a(a, a), codegen


@intrinsic
def _mad(typingctx, a, b, c):
    """a*b + c for polynomial evaluation: fmul/fadd carrying only the LLVM
    ``contract`` flag, so they fuse into one FMA where the target has FMA and
    stay two IEEE operations elsewhere (the caller's fastmath flags are not
    added to instructions that already carry flags)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        m = builder.fmul(args[0], args[1])
        m.flags.append("contract")
        r = builder.fadd(m, args[2])
        r.flags.append("contract")
        return r
    return a(a, a, a), codegen


_bc_fi = bitcast_f32_to_i32
_bc_if = bitcast_i32_to_f32
_bc_dl = bitcast_f64_to_i64
_bc_ld = bitcast_i64_to_f64


@_jit
def _pow2_f32(k):
    """2**k as float32 for integer k in [-126, 127]."""
    return _bc_if(I32(k + 127) << 23)


@_jit
def _pow2_f64(k):
    """2**k as float64 for integer k in [-1022, 1023]."""
    return _bc_ld((k + 1023) << 52)


@_jit
def _copysign_f32(a, s):
    return _bc_if((_bc_fi(a) & 0x7FFFFFFF) | (_bc_fi(s) & -0x80000000))


@_jit
def _copysign_f64(a, s):
    return _bc_ld((_bc_dl(a) & 0x7FFFFFFFFFFFFFFF) | (_bc_dl(s) & I64(-0x8000000000000000)))


# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

_F32_RND = F32(12582912.0)          # 1.5 * 2**23: x + _F32_RND rounds x to an integer
_F32_RND_BITS = 0x4B400000
_F64_RND = 6755399441055744.0       # 1.5 * 2**52
_F64_RND_BITS = 0x4338000000000000

_INVLN2_F32 = F32(1.44269504)
_LN2HI_F32 = F32(0.693359375)       # 10 significant bits: k*_LN2HI_F32 is exact
_LN2LO_F32 = F32(-2.12194440e-4)
_INVLN2 = 1.4426950408889634
_LN2HI = 6.93147180369123816490e-01  # 0x3fe62e42fee00000
_LN2LO = 1.90821492927058770002e-10

# e^r = 1 + r + r^2 * P(r) on |r| <= ln2/2 (Cephes expf), ~1 ulp.
_EP0 = F32(5.0000001201E-1)
_EP1 = F32(1.6666665459E-1)
_EP2 = F32(4.1665795894E-2)
_EP3 = F32(8.3334519073E-3)
_EP4 = F32(1.3981999507E-3)
_EP5 = F32(1.9875691500E-4)

# fdlibm exp: R(r^2) with r*c/(2-c) form.
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08

# log(1+f) = f - f^2/2 + f^3 * P(f), f in [sqrt(.5)-1, sqrt(2)-1] (Cephes logf).
_LP0 = F32(3.3333331174E-1)
_LP1 = F32(-2.4999993993E-1)
_LP2 = F32(2.0000714765E-1)
_LP3 = F32(-1.6668057665E-1)
_LP4 = F32(1.4249322787E-1)
_LP5 = F32(-1.2420140846E-1)
_LP6 = F32(1.1676998740E-1)
_LP7 = F32(-1.1514610310E-1)
_LP8 = F32(7.0376836292E-2)

# fdlibm log.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01

_IVLN2HI = 1.44269504072144627571e+00   # 0x3ff7154765200000
_IVLN2LO = 1.67517131648865118353e-10
_IVLN10HI = 4.34294481878168880939e-01  # 0x3fdbcb7b15200000
_IVLN10LO = 2.50829467116452752298e-11
_LOG10_2HI = 3.01029995663611771306e-01  # 0x3fd34413509f6000
_LOG10_2LO = 3.69423907715893078616e-13
# float32 splits: hi has 12 significant bits so hi*hi products are exact.
_IVLN2HI_F32 = F32(1.4423828)
_IVLN2LO_F32 = F32(0.0003122284)
_IVLN10HI_F32 = F32(0.4342041)
_IVLN10LO_F32 = F32(9.038034e-05)
_LOG10_2HI_F32 = F32(0.3010254)
_LOG10_2LO_F32 = F32(4.605039e-06)

_SQRTHF_BITS_F32 = 0x3F3504F3            # sqrt(0.5)
_SQRTHF_BITS_F64 = 0x3FE6A09E667F3BCD


# --------------------------------------------------------------------------
# exp
# --------------------------------------------------------------------------

@_jit
def exp_f32(x):
    xc = F32(89.0) if x > F32(89.0) else x
    xc = F32(-104.0) if xc < F32(-104.0) else xc
    xc = xc if x == x else F32(0.0)
    t = xc * _INVLN2_F32 + _F32_RND
    k = I32(_bc_fi(t) - _F32_RND_BITS)
    kf = t - _F32_RND
    r = (xc - kf * _LN2HI_F32) - kf * _LN2LO_F32
    z = r * r
    p = _mad(_mad(_mad(_mad(_mad(_EP5, r, _EP4), r, _EP3), r, _EP2), r, _EP1), r, _EP0)
    p = _mad(p, z, r) + F32(1.0)
    # 2**k in two factors: k in [-150, 128] overflows/underflows (to denormals,
    # rounded once) exactly like the true result.
    k1 = I32(k >> 1)
    res = p * _pow2_f32(k1) * _pow2_f32(I32(k - k1))
    return res if x == x else x


@_jit
def exp_f64(x):
    xc = 710.0 if x > 710.0 else x
    xc = -746.0 if xc < -746.0 else xc
    xc = xc if x == x else 0.0
    t = xc * _INVLN2 + _F64_RND
    k = _bc_dl(t) - _F64_RND_BITS
    kf = t - _F64_RND
    hi = xc - kf * _LN2HI
    lo = kf * _LN2LO
    r = hi - lo
    z = r * r
    c = r - z * _mad(_mad(_mad(_mad(_P5, z, _P4), z, _P3), z, _P2), z, _P1)
    y = 1.0 - ((lo - _div(r * c, 2.0 - c)) - hi)
    k1 = k >> 1
    res = y * _pow2_f64(k1) * _pow2_f64(k - k1)
    return res if x == x else x


# --------------------------------------------------------------------------
# expm1
# --------------------------------------------------------------------------

# (e^r - 1 - r) / r^2 = sum r^n / (n+2)!, |r| <= ln2/2; Taylor to n = 11
# (truncation < 2**-56 relative).
_EM = [1.0 / math.factorial(n + 2) for n in range(12)]
_EM0, _EM1, _EM2, _EM3, _EM4, _EM5, _EM6, _EM7, _EM8, _EM9, _EM10, _EM11 = _EM


@_jit
def expm1_f32(x):
    xc = F32(89.0) if x > F32(89.0) else x
    xc = F32(-40.0) if xc < F32(-40.0) else xc
    xc = xc if x == x else F32(0.0)
    t = xc * _INVLN2_F32 + _F32_RND
    k = I32(_bc_fi(t) - _F32_RND_BITS)
    kf = t - _F32_RND
    hi = xc - kf * _LN2HI_F32
    lo = kf * _LN2LO_F32
    r = hi - lo
    c = (hi - r) - lo                     # r + c = hi - lo more exactly
    z = r * r
    q = _mad(_mad(_mad(_mad(_mad(_EP5, r, _EP4), r, _EP3), r, _EP2), r, _EP1), r, _EP0) * z
    p = r + (q + (c + c * r))             # expm1(r + c) ~ expm1(r) + c * e^r
    # 2**k * (p + 1) - 1 = 2 * (2**(k-1) * p + (2**(k-1) - 1/2)), one rounding.
    tk = _pow2_f32(I32(k - 1))
    res = F32(2.0) * (tk * p + (tk - F32(0.5)))
    res = p if k == 0 else res            # exact for denormal p
    res = x if x == F32(0.0) else res     # keeps -0.0
    return res if x == x else x


@_jit
def expm1_f64(x):
    xc = 710.0 if x > 710.0 else x
    xc = -60.0 if xc < -60.0 else xc
    xc = xc if x == x else 0.0
    t = xc * _INVLN2 + _F64_RND
    k = _bc_dl(t) - _F64_RND_BITS
    kf = t - _F64_RND
    hi = xc - kf * _LN2HI
    lo = kf * _LN2LO
    r = hi - lo
    c = (hi - r) - lo
    z = r * r
    z2 = z * z
    # Estrin scheme (shorter dependency chain than Horner)
    q01 = _mad(_mad(r, _EM3, _EM2), z, _mad(r, _EM1, _EM0))
    q23 = _mad(_mad(r, _EM7, _EM6), z, _mad(r, _EM5, _EM4))
    q45 = _mad(_mad(r, _EM11, _EM10), z, _mad(r, _EM9, _EM8))
    q = _mad(_mad(q45, z2, q23), z2, q01)
    p = r + (z * q + (c + c * r))
    tk = _pow2_f64(k - 1)
    res = 2.0 * (tk * p + (tk - 0.5))
    res = p if k == 0 else res
    res = x if x == 0.0 else res
    return res if x == x else x


# --------------------------------------------------------------------------
# log family
# --------------------------------------------------------------------------

@_jit
def _logpoly_f32(f):
    """f^3 * P(f) with log(1+f) = f - f^2/2 + f^3 P(f)."""
    z = f * f
    z2 = z * z
    # Estrin scheme
    p01 = _mad(_LP1, f, _LP0)
    p23 = _mad(_LP3, f, _LP2)
    p45 = _mad(_LP5, f, _LP4)
    p67 = _mad(_LP7, f, _LP6)
    p = _mad(_mad(_LP8, z2, _mad(p67, z, p45)), z2, _mad(p23, z, p01))
    return f * z * p


@_jit
def _split_f32(x):
    """x = 2**k * m with m in [sqrt(.5), sqrt(2)) for finite x > 0 (denormals too).

    Returns (k as float32, f = m - 1)."""
    sub = x < F32(1.1754944e-38)
    xs = x * F32(8388608.0) if sub else x          # 2**23
    ix = _bc_fi(xs)
    tmp = I32(ix - _SQRTHF_BITS_F32)
    k = I32(tmp >> 23)
    m = _bc_if(ix - (tmp & -8388608))               # clear exponent offset
    k = I32(k - 23) if sub else k
    return F32(k), m - F32(1.0)


@_jit
def _split_f64(x):
    sub = x < 2.2250738585072014e-308
    xs = x * 18014398509481984.0 if sub else x      # 2**54
    ix = _bc_dl(xs)
    tmp = ix - _SQRTHF_BITS_F64
    k = tmp >> 52
    m = _bc_ld(ix - (k << 52))
    k = k - 54 if sub else k
    return F64(k), m - 1.0


@_jit
def _log_special_f32(x, res):
    # x > 0 finite: res; +0/-0: -inf; x < 0: nan; +inf: inf; nan: nan.
    ok = (x > F32(0.0)) & (x < F32(np.inf))
    sp = F32(-np.inf) if x == F32(0.0) else (F32(np.nan) if x < F32(0.0) else x)
    return res if ok else sp


@_jit
def _log_special_f64(x, res):
    ok = (x > 0.0) & (x < np.inf)
    sp = -np.inf if x == 0.0 else (np.nan if x < 0.0 else x)
    return res if ok else sp


@_jit
def log_f32(x):
    kf, f = _split_f32(x)
    z = f * f
    y = _logpoly_f32(f) + kf * _LN2LO_F32 - F32(0.5) * z
    res = (f + y) + kf * _LN2HI_F32
    return _log_special_f32(x, res)


@_jit
def _log_r_f64(f):
    """fdlibm: (hfsq, s, R) with log(1+f) = f - hfsq + s*(hfsq + R)."""
    hfsq = 0.5 * f * f
    s = _div(f, 2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _mad(_mad(_LG6, w, _LG4), w, _LG2)
    t2 = z * _mad(_mad(_mad(_LG7, w, _LG5), w, _LG3), w, _LG1)
    return hfsq, s, t1 + t2


@_jit
def log_f64(x):
    dk, f = _split_f64(x)
    hfsq, s, R = _log_r_f64(f)
    res = dk * _LN2HI - ((hfsq - (s * (hfsq + R) + dk * _LN2LO)) - f)
    return _log_special_f64(x, res)


@_jit
def _log2_f32_pos(kf, f):
    z = f * f
    hfsq = F32(0.5) * z
    hi = f - hfsq
    hi = _bc_if(_bc_fi(hi) & -4096)                 # 12 significant bits
    lo = (f - hi) - hfsq + _logpoly_f32(f)
    val_hi = hi * _IVLN2HI_F32
    val_lo = (lo + hi) * _IVLN2LO_F32 + lo * _IVLN2HI_F32
    w = kf + val_hi
    val_lo = val_lo + ((kf - w) + val_hi)
    return val_lo + w


@_jit
def log2_f32(x):
    kf, f = _split_f32(x)
    return _log_special_f32(x, _log2_f32_pos(kf, f))


@_jit
def log10_f32(x):
    kf, f = _split_f32(x)
    z = f * f
    hfsq = F32(0.5) * z
    hi = f - hfsq
    hi = _bc_if(_bc_fi(hi) & -4096)
    lo = (f - hi) - hfsq + _logpoly_f32(f)
    val_hi = hi * _IVLN10HI_F32
    y2 = kf * _LOG10_2HI_F32
    val_lo = kf * _LOG10_2LO_F32 + (lo + hi) * _IVLN10LO_F32 + lo * _IVLN10HI_F32
    w = y2 + val_hi
    val_lo = val_lo + ((y2 - w) + val_hi)
    return _log_special_f32(x, val_lo + w)


@_jit
def log2_f64(x):
    dk, f = _split_f64(x)
    hfsq, s, R = _log_r_f64(f)
    hi = f - hfsq
    hi = _bc_ld(_bc_dl(hi) & I64(-4294967296))      # clear the low 32 bits
    lo = (f - hi) - hfsq + s * (hfsq + R)
    val_hi = hi * _IVLN2HI
    val_lo = (lo + hi) * _IVLN2LO + lo * _IVLN2HI
    w = dk + val_hi
    val_lo = val_lo + ((dk - w) + val_hi)
    return _log_special_f64(x, val_lo + w)


@_jit
def log10_f64(x):
    dk, f = _split_f64(x)
    hfsq, s, R = _log_r_f64(f)
    hi = f - hfsq
    hi = _bc_ld(_bc_dl(hi) & I64(-4294967296))
    lo = (f - hi) - hfsq + s * (hfsq + R)
    val_hi = hi * _IVLN10HI
    y2 = dk * _LOG10_2HI
    val_lo = dk * _LOG10_2LO + (lo + hi) * _IVLN10LO + lo * _IVLN10HI
    w = y2 + val_hi
    val_lo = val_lo + ((y2 - w) + val_hi)
    return _log_special_f64(x, val_lo + w)


@_jit
def log1p_f32(x):
    u = F32(1.0) + x
    # u + c == 1 + x exactly (Fast2Sum with the larger operand first).
    c = ((F32(1.0) - u) + x) if abs(x) <= F32(1.0) else ((x - u) + F32(1.0))
    uc = u if (u > F32(0.0)) & (u < F32(np.inf)) else F32(1.0)
    kf, f = _split_f32(uc)
    z = f * f
    y = _logpoly_f32(f) + (kf * _LN2LO_F32 + _div(c, uc)) - F32(0.5) * z
    res = (f + y) + kf * _LN2HI_F32
    # Specials: x == -1 -> -inf, x < -1 -> nan, +inf -> inf, nan -> nan, +-0 -> x.
    ok = (x > F32(-1.0)) & (x < F32(np.inf)) & (x != F32(0.0))
    sp = F32(-np.inf) if x == F32(-1.0) else (F32(np.nan) if x < F32(-1.0) else x)
    return res if ok else sp


@_jit
def log1p_f64(x):
    u = 1.0 + x
    c = ((1.0 - u) + x) if abs(x) <= 1.0 else ((x - u) + 1.0)
    uc = u if (u > 0.0) & (u < np.inf) else 1.0
    dk, f = _split_f64(uc)
    hfsq, s, R = _log_r_f64(f)
    res = dk * _LN2HI - ((hfsq - (s * (hfsq + R) + (dk * _LN2LO + _div(c, uc)))) - f)
    ok = (x > -1.0) & (x < np.inf) & (x != 0.0)
    sp = -np.inf if x == -1.0 else (np.nan if x < -1.0 else x)
    return res if ok else sp


# --------------------------------------------------------------------------
# tanh
# --------------------------------------------------------------------------

_TH0 = F32(-3.33332819422E-1)
_TH1 = F32(1.33314422036E-1)
_TH2 = F32(-5.37397155531E-2)
_TH3 = F32(2.06390887954E-2)
_TH4 = F32(-5.70498872745E-3)

# Cephes tanh: x + x^3 P(x^2)/Q(x^2) for |x| < 0.625.
_THP0 = -1.61468768441708447952E3
_THP1 = -9.92877231001918586564E1
_THP2 = -9.64399179425052238628E-1
_THQ0 = 4.84406305325125486048E3
_THQ1 = 2.23548839060100448583E3
_THQ2 = 1.12811678491632931402E2


@_jit
def tanh_f32(x):
    a = abs(x)
    z = a * a
    small = _mad(_mad(_mad(_mad(_mad(_TH4, z, _TH3), z, _TH2), z, _TH1), z, _TH0) * z, a, a)
    # from 0.625 up e^2a >= 3.49, so 1 - 2/(e^2a + 1) cancels little: exp, not expm1
    e = exp_f32(F32(2.0) * (F32(20.0) if a > F32(20.0) else a))
    large = F32(1.0) - _div(F32(2.0), e + F32(1.0))
    r = small if a < F32(0.625) else large
    return _copysign_f32(r, x)


@_jit
def tanh_f64(x):
    a = abs(x)
    z = a * a
    small = a + _div(a * z * _mad(_mad(_THP2, z, _THP1), z, _THP0),
                     _mad(_mad(z + _THQ2, z, _THQ1), z, _THQ0))
    t = expm1_f64(2.0 * (22.0 if a > 22.0 else a))
    large = 1.0 - _div(2.0, t + 2.0)
    r = small if a < 0.625 else large
    return _copysign_f64(r, x)


# --------------------------------------------------------------------------
# sin / cos
# --------------------------------------------------------------------------

def _two_over_pi_bits(nbits):
    """floor(2/pi * 2**nbits), exact (pure integer arithmetic, Machin's formula)."""
    prec = nbits + 64

    def atan_inv(n):
        # atan(1/n) * 2**prec
        total = term = (1 << prec) // n
        n2, k, sign = n * n, 1, -1
        while term:
            term //= n2
            total += sign * (term // (2 * k + 1))
            sign, k = -sign, k + 1
        return total
    pi = 16 * atan_inv(5) - 4 * atan_inv(239)       # pi * 2**prec (+- a few)
    return ((2 << (2 * prec)) // pi) >> 64


_TWO_OVER_PI_NBITS = 1300
_TWO_OVER_PI = _two_over_pi_bits(_TWO_OVER_PI_NBITS)


def _ph_table(first, nexp, bias_shift, nwords):
    """Row b - first (biased exponent b): W = the nwords*32 bits of 2/pi starting
    at bit E-1, E = b - bias_shift (bit i has weight 2**-i; bits i <= 0 are
    zero), as little-endian 32-bit words.  For x = M * 2**E (M the integer
    significand), x * 2/pi = (M * W mod 2**(32*nwords)) * 2**(2-32*nwords) mod 4
    up to an error below M * 2**(2-32*nwords)."""
    L = 32 * nwords
    tab = np.zeros((nexp - first, nwords), dtype=np.uint32)
    for b in range(first, nexp):
        t = (b - bias_shift - 1) + L - 1            # floor(2/pi * 2**t) mod 2**L
        if t < 0:
            continue
        w = (_TWO_OVER_PI >> (_TWO_OVER_PI_NBITS - t)) & ((1 << L) - 1)
        for j in range(nwords):
            tab[b - first, j] = (w >> (32 * j)) & 0xFFFFFFFF
    return tab


# Rows only for |x| >= pi/4 (biased exponents >= 126 / 1022); smaller |x| is
# not reduced.  The window is 96 bits for float32 (M has 24 bits, cancellation
# < 2**-30) and 192 bits for float64 (53-bit M, cancellation down to 2**-61.6).
_PH32_FIRST = 126
_PH64_FIRST = 1022
_PH32 = _ph_table(_PH32_FIRST, 256, 150, 3)
_PH64 = _ph_table(_PH64_FIRST, 2048, 1075, 6)

_M32 = 0xFFFFFFFF
_PIO4_F32 = F32(0.7853981633974483)
_PIO2HI_F32 = F32(1.5707964)
_PIO2LO_F32 = F32(-4.371139e-08)
_PIO2HI = 1.5707963267948966
_PIO2LO = 6.123233995736766e-17
_TWOM63_F32 = F32(2.0 ** -63)

# Cephes sinf/cosf kernels on |r| <= pi/4.
_SS0 = F32(-1.6666654611E-1)
_SS1 = F32(8.3321608736E-3)
_SS2 = F32(-1.9515295891E-4)
_CC0 = F32(4.166664568298827E-2)
_CC1 = F32(-1.388731625493765E-3)
_CC2 = F32(2.443315711809948E-5)

# fdlibm __kernel_sin / __kernel_cos.
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11


@_jit
def _rem_pio2_f32(ax):
    """|x| -> (n, r, rr): |x| = n*pi/2 + r + rr, |r + rr| <= pi/4 (approx.), exact
    Payne-Hanek reduction with integer arithmetic for every finite |x|."""
    ix = I64(_bc_fi(ax))
    be = ix >> 23
    m = (ix & 0x7FFFFF) | 0x800000
    row = be - _PH32_FIRST if be >= _PH32_FIRST else 0
    tab = _PH32
    w0 = I64(tab[row, 0])
    w1 = I64(tab[row, 1])
    w2 = I64(tab[row, 2])
    p0 = m * w0
    p1 = m * w1
    p2 = m * w2
    c1 = (p0 >> 32) + (p1 & _M32)
    r1 = c1 & _M32
    r2 = ((c1 >> 32) + (p1 >> 32) + p2) & _M32
    r0 = p0 & _M32
    n = ((r2 >> 30) + ((r2 >> 29) & 1)) & 3
    h = (r2 << 34) | (r1 << 2) | (r0 >> 30)          # fraction * 2**64, signed
    hs = h >> 1
    fh = F32(hs)
    fl = F32(hs - I64(fh))
    fh = fh * _TWOM63_F32
    fl = fl * _TWOM63_F32
    p = fh * _PIO2HI_F32
    pe = _fma(fh, _PIO2HI_F32, -p)
    rl = pe + (fh * _PIO2LO_F32 + fl * _PIO2HI_F32)
    r = p + rl
    rr = rl - (r - p)
    small = ax < _PIO4_F32
    return (0 if small else n), (ax if small else r), (F32(0.0) if small else rr)


@_jit
def _sincos_kernels_f32(r, rr):
    z = r * r
    s = r + (rr + r * z * _mad(_mad(_SS2, z, _SS1), z, _SS0))
    hz = F32(0.5) * z
    w = F32(1.0) - hz
    c = w + (((F32(1.0) - w) - hz) + (z * z * _mad(_mad(_CC2, z, _CC1), z, _CC0) - r * rr))
    return s, c


@_jit
def sin_f32(x):
    ax = abs(x)
    n, r, rr = _rem_pio2_f32(ax)
    s, c = _sincos_kernels_f32(r, rr)
    res = c if (n & 1) == 1 else s
    flip = ((n >> 1) & 1) ^ ((_bc_fi(x) >> 31) & 1)
    res = _bc_if(_bc_fi(res) ^ (flip << 31))
    return res if abs(x) < F32(np.inf) else x - x


@_jit
def cos_f32(x):
    ax = abs(x)
    n, r, rr = _rem_pio2_f32(ax)
    s, c = _sincos_kernels_f32(r, rr)
    res = s if (n & 1) == 1 else c
    flip = ((n + 1) >> 1) & 1
    res = _bc_if(_bc_fi(res) ^ (flip << 31))
    return res if ax < F32(np.inf) else x - x


@_jit
def _rem_pio2_f64(ax):
    ix = _bc_dl(ax)
    be = ix >> 52
    m = (ix & 0xFFFFFFFFFFFFF) | 0x10000000000000
    ml = m & _M32
    mh = m >> 32
    row = be - _PH64_FIRST if be >= _PH64_FIRST else 0
    tab = _PH64
    w0 = I64(tab[row, 0])
    w1 = I64(tab[row, 1])
    w2 = I64(tab[row, 2])
    w3 = I64(tab[row, 3])
    w4 = I64(tab[row, 4])
    w5 = I64(tab[row, 5])
    a0 = ml * w0
    a1 = ml * w1
    a2 = ml * w2
    a3 = ml * w3
    a4 = ml * w4
    a5 = ml * w5
    b0 = mh * w0
    b1 = mh * w1
    b2 = mh * w2
    b3 = mh * w3
    b4 = mh * w4
    # ml*wk may exceed 2**63 (wraps negative in int64): mask after the shift.
    col1 = ((a0 >> 32) & _M32) + (a1 & _M32) + (b0 & _M32)
    col2 = ((a1 >> 32) & _M32) + (a2 & _M32) + (b0 >> 32) + (b1 & _M32) + (col1 >> 32)
    col3 = ((a2 >> 32) & _M32) + (a3 & _M32) + (b1 >> 32) + (b2 & _M32) + (col2 >> 32)
    col4 = ((a3 >> 32) & _M32) + (a4 & _M32) + (b2 >> 32) + (b3 & _M32) + (col3 >> 32)
    col5 = ((a4 >> 32) & _M32) + (a5 & _M32) + (b3 >> 32) + (b4 & _M32) + (col4 >> 32)
    r1 = col1 & _M32
    r2 = col2 & _M32
    r3 = col3 & _M32
    r4 = col4 & _M32
    r5 = col5 & _M32
    n = ((r5 >> 30) + ((r5 >> 29) & 1)) & 3
    # 128 bits of the signed fraction: hi (signed) and lo (unsigned, 64 bits).
    hi = (r5 << 34) | (r4 << 2) | (r3 >> 30)
    lo = (r3 << 34) | (r2 << 2) | (r1 >> 30)
    neg = hi < 0
    # Magnitude: negate the 128-bit value when negative.
    nlo = ~lo + 1
    nhi = ~hi + (1 if lo == 0 else 0)
    mhi = nhi if neg else hi
    mlo = nlo if neg else lo
    hs = mhi >> 1
    h1 = F64(hs)
    rem = hs - I64(h1)
    t = (rem << 53) + ((mhi & 1) << 52) + ((mlo >> 12) & 0xFFFFFFFFFFFFF)
    l1 = F64(t)
    fh = h1 * 1.0842021724855044e-19               # 2**-63
    fl = l1 * 1.2037062152420224e-35               # 2**-116
    p = fh * _PIO2HI
    pe = _fma(fh, _PIO2HI, -p)
    rl = pe + (fh * _PIO2LO + fl * _PIO2HI)
    r = p + rl
    bb = r - p
    rr = (p - (r - bb)) + (rl - bb)
    r = -r if neg else r
    rr = -rr if neg else rr
    small = ax < 0.7853981633974483
    return (0 if small else n), (ax if small else r), (0.0 if small else rr)


@_jit
def _sincos_kernels_f64(x, y):
    z = x * x
    v = z * x
    r = _mad(_mad(_mad(_mad(_S6, z, _S5), z, _S4), z, _S3), z, _S2)
    s = x - ((z * (0.5 * y - v * r) - y) - v * _S1)
    w = z * z
    rc = z * _mad(_mad(_C3, z, _C2), z, _C1) + w * w * _mad(_mad(_C6, z, _C5), z, _C4)
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + (z * rc - x * y))
    return s, c


@_jit
def sin_f64(x):
    ax = abs(x)
    n, r, rr = _rem_pio2_f64(ax)
    s, c = _sincos_kernels_f64(r, rr)
    res = c if (n & 1) == 1 else s
    flip = ((n >> 1) & 1) ^ ((_bc_dl(x) >> 63) & 1)
    res = _bc_ld(_bc_dl(res) ^ (flip << 63))
    return res if ax < np.inf else x - x


@_jit
def cos_f64(x):
    ax = abs(x)
    n, r, rr = _rem_pio2_f64(ax)
    s, c = _sincos_kernels_f64(r, rr)
    res = s if (n & 1) == 1 else c
    flip = ((n + 1) >> 1) & 1
    res = _bc_ld(_bc_dl(res) ^ (flip << 63))
    return res if ax < np.inf else x - x


# --------------------------------------------------------------------------
# float16 <-> float32 (IEEE binary16 bit patterns held in integers)
# --------------------------------------------------------------------------

@_jit
def f16_to_f32(h):
    """IEEE half bits (low 16 bits of any integer) -> float32, exact."""
    hb = I64(h) & 0xFFFF
    sign = (hb & 0x8000) << 16
    e = (hb >> 10) & 0x1F
    mant = hb & 0x3FF
    normal = ((e + 112) << 23) | (mant << 13)
    # inf, and NaN with its payload kept unchanged (like NumPy's npy_half code)
    special = 0x7F800000 | (mant << 13)
    sub = _bc_fi(F32(mant) * F32(5.960464477539063e-08))   # mant * 2**-24
    bits = special if e == 31 else (normal if e != 0 else I64(sub))
    return _bc_if(bits | sign)


@_jit
def _f32_bits_to_f16(b):
    sign = (b >> 16) & 0x8000
    a = b & 0x7FFFFFFF
    # normal range: rebias and round to nearest even on the 13 dropped bits
    an = a - 0x38000000
    normal = (an + 0xFFF + ((an >> 13) & 1)) >> 13
    # below 2**-14: |x| + 0.5 rounds |x| to a multiple of 2**-24 (RNE)
    sub = I64(_bc_fi(_bc_if(a) + F32(0.5))) - 0x3F000000
    # NaN: top 10 payload bits, kept nonzero (NumPy's npy_floatbits_to_halfbits)
    nanm = (a >> 13) & 0x3FF
    nan = 0x7C00 | (nanm if nanm != 0 else 1)
    h = normal if a >= 0x38800000 else sub
    h = 0x7C00 if a >= 0x477FF000 else h
    h = nan if a > 0x7F800000 else h
    return np.uint16(h | sign)


@_jit
def f32_to_f16_f32(x):
    return _f32_bits_to_f16(I64(_bc_fi(x)))


@_jit
def f32_to_f16_f64(x):
    """float64 -> half bits, rounded once (like NumPy's float64 -> float16)."""
    b = _bc_dl(x)
    sign = (b >> 48) & 0x8000
    a = b & 0x7FFFFFFFFFFFFFFF
    an = a - 0x3F00000000000000                    # rebias 1023 -> 15
    normal = (an + 0x1FFFFFFFFFF + ((an >> 42) & 1)) >> 42
    sub = _bc_dl(_bc_ld(a) + 268435456.0) - 0x41B0000000000000   # + 2**28
    nanm = (a >> 42) & 0x3FF
    nan = 0x7C00 | (nanm if nanm != 0 else 1)
    h = normal if a >= 0x3F10000000000000 else sub
    h = 0x7C00 if a >= 0x40EFFE0000000000 else h
    h = nan if a > 0x7FF0000000000000 else h
    return np.uint16(h | sign)


def f32_to_f16(x):
    """float32 (or float64) -> IEEE half bits as uint16 (NumPy rounding)."""
    return np.asarray(x).astype(np.float16).view(np.uint16)[()]


@overload(f32_to_f16, inline="always")
def _ov_f32_to_f16(x):
    if x == types.float32:
        return lambda x: f32_to_f16_f32(x)
    if isinstance(x, (types.Float, types.Integer, types.Boolean)):
        return lambda x: f32_to_f16_f64(F64(x))


# --------------------------------------------------------------------------
# Dispatchers
# --------------------------------------------------------------------------

def _make_dispatcher(name, f32impl, f64impl, npfunc):
    """`name` for float32/float64 scalars in @njit code; without `f64impl`,
    float64 and integer arguments call `npfunc` as Numba compiles it."""
    def func(x):
        return npfunc(x)
    func.__name__ = name
    func.__qualname__ = name
    func.__doc__ = (f"Vectorizable {name}(x) for float32{'/float64' if f64impl else ''} "
                    f"scalars in @njit code (np.{npfunc.__name__} otherwise).")

    # Returning the implementations' Python functions (rather than a lambda
    # calling the dispatcher) saves one level of IR inlining at compile time.
    def ov(x):
        if x == types.float32:
            return f32impl.py_func
        if f64impl is None:
            return lambda x: npfunc(x)
        if x == types.float64:
            return f64impl.py_func
        if isinstance(x, (types.Integer, types.Boolean)):
            return lambda x: f64impl(F64(x))
    overload(func, inline="always")(ov)
    return func


exp = _make_dispatcher("exp", exp_f32, exp_f64, np.exp)
expm1 = _make_dispatcher("expm1", expm1_f32, expm1_f64, np.expm1)
log = _make_dispatcher("log", log_f32, log_f64, np.log)
log1p = _make_dispatcher("log1p", log1p_f32, log1p_f64, np.log1p)
log2 = _make_dispatcher("log2", log2_f32, log2_f64, np.log2)
log10 = _make_dispatcher("log10", log10_f32, log10_f64, np.log10)
tanh = _make_dispatcher("tanh", tanh_f32, tanh_f64, np.tanh)
sin = _make_dispatcher("sin", sin_f32, sin_f64, np.sin)
cos = _make_dispatcher("cos", cos_f32, cos_f64, np.cos)
