"""Vectorizable float32 sinh, cosh, arcsinh, arctanh, arctan, arcsin, arccos
for generated Numba kernels: float64 formulas over `mathlib`'s float64
functions, rounded once.

Their float64 error (a few float64 ulps) is far below a float32 half-ulp,
so the results are faithful (tests/test_mathlib.py); they vectorize 8 wide
where libm's scalar calls took 3-8x longer. float64 and integer arguments
call NumPy's functions (libm's, as Numba compiles them).
"""
import numpy as np

from .mathlib import (F32, F64, _copysign_f32, _div, _jit, _mad, _make_dispatcher, exp_f64,
                      expm1_f64, log1p_f64, log_f64)

__all__ = ["sinh", "cosh", "arcsinh", "arctanh", "arctan", "arcsin", "arccos"]

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
