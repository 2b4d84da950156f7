"""Vectorizable float32 sinh, cosh, arcsinh, arctanh, arctan, arcsin, arccos
for generated Numba kernels: float64 formulas over `mathlib`'s float64
functions, rounded once. And float32 sin, cos and tan for elementwise
kernels (see codegen/cpu.py, `versioned_loop`): a float64 reduction where
it is exact (`sin_near`, `cos_near`, `tan_near`: |x| < NEAR), else
mathlib's full one, or libm's tan (`sin_split` & co. choose per element).

Their float64 error (a few float64 ulps) is far below a float32 half-ulp,
so the results are faithful (tests/test_mathlib.py); they vectorize 8 wide
where libm's scalar calls took 3-8x longer. float64 and integer arguments
call NumPy's functions (libm's, as Numba compiles them).
"""
import numpy as np
from numba import njit

from . import mathlib
from .mathlib import (F32, F64, _copysign_f32, _div, _jit, _mad, _make_dispatcher, cos_f64,
                      exp_f64, expm1_f64, log1p_f64, log_f64, sin_f64)

__all__ = ["sinh", "cosh", "arcsinh", "arctanh", "arctan", "arcsin", "arccos", "sin_near",
           "cos_near", "tan_near", "sin_split", "cos_split", "tan_split", "sin_split_call",
           "cos_split_call", "tan_split_call", "NEAR"]

_LN2 = 0.6931471805599453


@_jit
def sinh_f32(x):
    a = F64(abs(x))
    t = expm1_f64(a)
    q = _div(t, t + 1.0) if t < 1e300 else 1.0   # t / (t + 1), 1 at t = inf
    return _copysign_f32(F32(0.5 * (t + q)), x)  # (e^a - e^-a) / 2 without cancelling


@_jit
def cosh_f32(x):
    e = exp_f64(F64(abs(x)))
    return F32(0.5 * (e + _div(1.0, e)))


@_jit
def arcsinh_f32(x):
    a = F64(abs(x))
    z = a * a
    small = log1p_f64(a + _div(z, 1.0 + np.sqrt(1.0 + z)))
    large = log_f64(a) + _LN2                     # a > 2**30: sqrt(1 + a*a) == a
    r = large if a > 1073741824.0 else small
    return _copysign_f32(F32(r), x)


# atan(t) = t + t * z * sum_k (-1)^(k+1) z^k / (2k + 3), z = t^2 <= tan(pi/12)^2:
# twelve terms leave a truncation below 2**-50
_AT = [(-1.0) ** (k + 1) / (2 * k + 3) for k in range(12)]
_AT0, _AT1, _AT2, _AT3, _AT4, _AT5, _AT6, _AT7, _AT8, _AT9, _AT10, _AT11 = _AT
_TAN_PI12 = 0.2679491924311227
_SQRT3 = 1.7320508075688772
_PI6 = 0.5235987755982988
_PI2 = 1.5707963267948966


@_jit
def _atan_pos_f64(a):
    """atan(a) for float64 a >= 0 (inf and NaN included), to a few float64
    ulps: 1/a above 1, a shift by pi/6 above tan(pi/12), then the series."""
    inv = a > 1.0
    t = _div(1.0, a) if inv else a
    hi = t > _TAN_PI12
    t = _div(_mad(t, _SQRT3, -1.0), t + _SQRT3) if hi else t
    z = t * t
    p = _mad(_mad(_mad(_mad(_mad(_mad(_AT11, z, _AT10), z, _AT9), z, _AT8), z, _AT7), z, _AT6),
             z, _AT5)
    p = _mad(_mad(_mad(_mad(_mad(p, z, _AT4), z, _AT3), z, _AT2), z, _AT1), z, _AT0)
    r = _mad(t * z, p, t) + (_PI6 if hi else 0.0)
    return _PI2 - r if inv else r


@_jit
def arctan_f32(x):
    return _copysign_f32(F32(_atan_pos_f64(F64(abs(x)))), x)


@_jit
def arcsin_f32(x):
    a = F64(abs(x))
    r = _atan_pos_f64(_div(a, np.sqrt((1.0 - a) * (1.0 + a))))  # NaN beyond 1
    return _copysign_f32(F32(r), x)


@_jit
def arccos_f32(x):
    a = F64(x)
    return F32(2.0 * _atan_pos_f64(np.sqrt(_div(1.0 - a, 1.0 + a))))


@_jit
def arctanh_f32(x):
    a = F64(x)
    return F32(0.5 * log1p_f64(_div(a + a, 1.0 - a)))


sinh = _make_dispatcher("sinh", sinh_f32, None, np.sinh)
cosh = _make_dispatcher("cosh", cosh_f32, None, np.cosh)
arcsinh = _make_dispatcher("arcsinh", arcsinh_f32, None, np.arcsinh)
arctanh = _make_dispatcher("arctanh", arctanh_f32, None, np.arctanh)
arctan = _make_dispatcher("arctan", arctan_f32, None, np.arctan)
arcsin = _make_dispatcher("arcsin", arcsin_f32, None, np.arcsin)
arccos = _make_dispatcher("arccos", arccos_f32, None, np.arccos)


# float32 sin, cos and tan reduced in float64 by pi/2 in two parts, pi/2's
# first 25 bits (so n * _PIO2_1 is exact for n < 2**28) and the next 53, as
# fdlibm's float functions reduce medium arguments; then fdlibm's float64
# kernels of degree 9 and 8 on |r| <= pi/4 (tan: their quotient, rounded
# once). Every float32 with |x| < NEAR comes within 0.501 ulp of the
# correctly rounded result, tan 0.502 (tested over every positive float32
# from 2**-20 to NEAR, every third for tan). Larger arguments need the full
# Payne-Hanek reduction (mathlib's sin/cos, 3x slower: 64-bit integer
# products, 8 lanes wide; libm's tan, one element at a time, 9x slower).
# The `split` functions choose per element; a loop computing both ways for
# every element costs their sum, so elementwise kernels run blocks with the
# near reduction alone where no argument is NEAR or more (other kernels call
# mathlib's sin and cos: both faithful, they may differ in the last bit).
NEAR = 268435456.0  # 2**28
_INVPIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079631090164184570e+00
_PIO2_1T = 1.58932547735281966916e-08
_S1, _S2 = -0.166666666416265235595, 0.0083333293858894631756
_S3, _S4 = -0.000198393348360966317347, 0.0000027183114939898219064
_C0, _C1 = -0.499999997251031003120, 0.0416666233237390631894
_C2, _C3 = -0.00138867637746099294692, 0.0000243904487962774090654


@_jit
def _reduced(x):
    """(sin r, cos r, n & 3) in float64, x = n * pi/2 + r, for float32 |x| < NEAR."""
    xd = F64(x)
    fn = np.floor(xd * _INVPIO2 + 0.5)
    r = (xd - fn * _PIO2_1) - fn * _PIO2_1T
    n = np.int64(fn if abs(fn) < 1e18 else 0.0) & 3  # (fn: NaN for inf and NaN)
    z = r * r
    w = z * z
    s = r + r * z * _mad(w, _mad(z, _S4, _S3), _mad(z, _S2, _S1))
    c = 1.0 + z * _C0 + w * _C1 + w * z * _mad(z, _C3, _C2)
    return s, c, n


_TINY = F32(0.000244140625)  # 2**-12: below, sin(x) and tan(x) round to x


@_jit
def sin_near_f32(x):
    s, c, n = _reduced(x)
    r = c if (n & 1) == 1 else s
    return x if abs(x) < _TINY else F32(-r if n >= 2 else r)


@_jit
def cos_near_f32(x):
    s, c, n = _reduced(x)
    r = s if (n & 1) == 1 else c
    return F32(-r if n == 1 or n == 2 else r)


@_jit
def tan_near_f32(x):  # tan(r), or -cot(r) an odd number of quarter turns away
    s, c, n = _reduced(x)
    r = -_div(c, s) if (n & 1) == 1 else _div(s, c)
    return x if abs(x) < _TINY else F32(r)


# The full reductions, each compiled once per process, not inlined: a split
# call computes one where an argument is far, in loops that run rarely and
# need not vectorize, and a kernel compiles only the near code (inlining
# both doubled the transcendental kernel's compile time). Not cached on disk:
# Numba's cache would check only this file, not mathlib's; kernels loaded
# from lazyops's cache hold their code.
_far = njit(fastmath=False)
_far_sin = _far(lambda x: mathlib.sin_f32(x))
_far_cos = _far(lambda x: mathlib.cos_f32(x))
_far_tan = _far(lambda x: np.tan(x))


def _split(near, far):
    """float32 `near(x)` below NEAR, `far(x)` (a call) from NEAR on."""
    @_jit
    def split(x):
        return near(x) if abs(x) < NEAR else far(x)
    return split


sin_near = _make_dispatcher("sin_near", sin_near_f32, sin_f64, np.sin)
cos_near = _make_dispatcher("cos_near", cos_near_f32, cos_f64, np.cos)
tan_near = _make_dispatcher("tan_near", tan_near_f32, None, np.tan)
sin_split = _make_dispatcher("sin_split", _split(sin_near_f32, _far_sin), sin_f64, np.sin)
cos_split = _make_dispatcher("cos_split", _split(cos_near_f32, _far_cos), cos_f64, np.cos)
tan_split = _make_dispatcher("tan_split", _split(tan_near_f32, _far_tan), None, np.tan)
# `split` as a call (compiled once per process and argument type), for the
# loops run again where an argument is far: a second inlined copy of the
# near code cost a kernel 0.4-0.9 s more to compile
_call = njit(fastmath=False)
sin_split_call = _call(lambda x: sin_split(x))
cos_split_call = _call(lambda x: cos_split(x))
tan_split_call = _call(lambda x: tan_split(x))
