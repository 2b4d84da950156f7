"""The scalar vocabulary that elementwise templates in the op registry use,
implemented for Numba's CPU target with NumPy's exact semantics (NaN
propagation, signed zeros, integer division by zero).

Generated kernel modules do `from lazyops.codegen.scalar import *`. Results
are wrapped by the generated code in their result dtype, so helpers may
return a wider type.
"""
import math

import numpy as np
from numba import njit, types
from llvmlite import ir as llir
from numba.extending import intrinsic, overload

from . import mathlib
from .mathlib_wide import (NEAR, arccos, arcsin, arctan, arcsinh, arctanh,  # noqa: F401
                           cos_near, cos_split, cos_split_call, cosh, sin_near, sin_split,
                           sin_split_call, sinh, tan_near, tan_split, tan_split_call)

# Transcendentals: vectorizable polynomial implementations (within 1 ulp).
exp, expm1, log, log1p = mathlib.exp, mathlib.expm1, mathlib.log, mathlib.log1p
log2, log10, tanh, sin, cos = mathlib.log2, mathlib.log10, mathlib.tanh, mathlib.sin, mathlib.cos
tan, arctan2, arccosh = np.tan, np.arctan2, np.arccosh
sqrt, floor, ceil, trunc = np.sqrt, np.floor, np.ceil, np.trunc
isnan, isinf, isfinite = np.isnan, np.isinf, np.isfinite

_jit = njit(inline="always", error_model="numpy")


# float16 conversions are ordinary (not Numba-inlined) functions: inlining
# their bit manipulation into every use made kernels take seconds to compile;
# LLVM still inlines them where it pays.
@njit(cache=True)
def f16_to_f32(h):
    return mathlib.f16_to_f32(h)


@njit(cache=True)
def f32_to_f16(x):
    return mathlib.f32_to_f16(x)


@njit(cache=True)
def bf16_to_f32(h):
    """bfloat16 bits (uint16) as the float32 they stand for: the top half."""
    return mathlib.bitcast_i32_to_f32(np.uint32(h) << np.uint32(16))


@njit(cache=True)
def f32_to_bf16(x):
    """The bfloat16 bits nearest to float32 `x` (ties to even; NaN stays a
    quiet NaN of its sign), as ml_dtypes rounds."""
    u = np.uint32(mathlib.bitcast_f32_to_i32(np.float32(x)))
    if x != x:
        return np.uint16((u >> np.uint32(16)) | np.uint32(0x40))
    u = u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return np.uint16(u >> np.uint32(16))


@njit(cache=True)
def bf16_round(x):
    """Round a float32/float64 to the nearest bfloat16, held as float32."""
    return bf16_to_f32(f32_to_bf16(x))


@njit(cache=True)
def f16_round(x):
    """Round a float32/float64 to the nearest float16, held as float32."""
    return mathlib.f16_to_f32(mathlib.f32_to_f16(x))


# Accumulation that may be regrouped, so a reduction loop vectorizes: the
# `reassoc` flag lands on this one add (or multiply) when LLVM inlines it,
# while the kernel around it keeps NumPy's evaluation order.
@njit(fastmath={"reassoc"}, error_model="numpy")
def radd(acc, x):
    return acc + x


@njit(fastmath={"reassoc"}, error_model="numpy")
def rmul(acc, x):
    return acc * x


# Extremes that may be regrouped: LLVM vectorizes no reduction through an
# ordered select of floats, but does through `llvm.maximum`/`llvm.minimum`
# (NaN-propagating, -0.0 below +0.0: a tie of zeros gives the same zero in
# any order). Integers keep the select, which vectorizes.
def _float_extreme(name):
    def impl(typingctx, a, b):
        if not (isinstance(a, types.Float) and a == b):
            return None

        def codegen(context, builder, sig, args):
            t = args[0].type
            fn = builder.module.declare_intrinsic(name, [t], llir.FunctionType(t, [t, t]))
            return builder.call(fn, args)
        return a(a, b), codegen
    impl.__name__ = name.replace(".", "_")
    return intrinsic(impl)


_fmaximum, _fminimum = _float_extreme("llvm.maximum"), _float_extreme("llvm.minimum")


def rmax(acc, x):
    return acc if acc > x else x


def rmin(acc, x):
    return acc if acc < x else x


@overload(rmax, inline="always")
def _rmax(acc, x):
    if isinstance(acc, types.Float) and acc == x:
        return lambda acc, x: _fmaximum(acc, x)
    return rmax


@overload(rmin, inline="always")
def _rmin(acc, x):
    if isinstance(acc, types.Float) and acc == x:
        return lambda acc, x: _fminimum(acc, x)
    return rmin


# Checks of a regrouped float scan (sums and products, see cpu.py `_scan`):
# a chunk of prefixes computed in blocks off the carried chain is kept only
# where none left the float's range (nor, for products, reached 0): the sum
# of `*_bad` over its prefixes is 0; a tile's carry is kept only where it is
# of the kind (NaN, +-inf, 0, finite) and, for products, about the size of
# the previous tile's end.
@_jit
def sum_bad(x):
    return np.float32(x - x)


@_jit
def product_bad(x):
    return np.float32(x - x) + np.float32(x == 0)


@_jit
def sum_carry_off(c, e, tol):
    if c != c or e != e:
        return (c != c) != (e != e)
    return (abs(c) == math.inf or abs(e) == math.inf) and c != e


@_jit
def product_carry_off(c, e, tol):
    if sum_carry_off(c, e, tol) or (c == 0) != (e == 0):
        return True
    return abs(e) < math.inf and abs(c - e) > tol * abs(e)


@_jit
def maximum(a, b):
    return a if (a > b or a != a) else b


@_jit
def minimum(a, b):
    return a if (a < b or a != a) else b


@_jit
def maximum_first(a, b):
    return a if (a >= b or a != a) else b


@_jit
def minimum_first(a, b):
    return a if (a <= b or a != a) else b


@_jit
def sign(a):
    if a > 0:
        return 1
    if a < 0:
        return -1
    return a - a  # +0 for either zero (as NumPy), NaN for NaN


@_jit
def erf(x):
    return math.erf(x)


@njit(cache=True, error_model="numpy")
def erfinv(y):
    """The inverse error function in float64: Giles' single-precision
    approximation, then two Newton steps on math.erf."""
    y = np.float64(y)
    if y == 0.0:
        return 0.0  # +0.0 for -0.0 too, as scipy
    if not -1.0 < y < 1.0:
        if y == 1.0:
            return np.inf
        if y == -1.0:
            return -np.inf
        return np.nan
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    x = p * y
    for _ in range(2):  # f(x) = erf(x) - y, f'(x) = 2/sqrt(pi) exp(-x^2)
        x -= (math.erf(x) - y) / (1.1283791670955126 * math.exp(-x * x))
    return x


@_jit
def logaddexp(a, b):
    """NumPy's logaddexp: equal arguments (infinities included) give
    a + log(2), NaN propagates."""
    if a == b:
        return a + 0.6931471805599453
    d = a - b
    if d > 0:
        return a + log1p(exp(-d))
    if d <= 0:
        return b + log1p(exp(d))
    return d


def left_shift(a, b):
    """NumPy's left_shift: 0 for a count outside [0, bits)."""


def right_shift(a, b):
    """NumPy's right_shift: for a count outside [0, bits), -1 for a negative
    a and 0 otherwise."""


@overload(left_shift, inline="always")
def _left_shift(a, b):
    bits = a.bitwidth
    return lambda a, b: (a - a) if (b < 0 or b >= bits) else (a << b)


@overload(right_shift, inline="always")
def _right_shift(a, b):
    bits = a.bitwidth
    return lambda a, b: ((a - a) - (a < 0)) if (b < 0 or b >= bits) else (a >> b)


def floor_divide(a, b):
    """NumPy's floor_divide."""


def mod(a, b):
    """NumPy's remainder: the result takes the divisor's sign."""


def power(a, b):
    """NumPy's power; integer powers by repeated squaring with wrap-around."""


def round_half_even(x, decimals):
    """np.round for floats."""


def round_int(x, decimals):
    """np.round for integers (negative decimals round to tens, hundreds...)."""


@overload(floor_divide, jit_options={"error_model": "numpy"})
def _floor_divide(a, b):
    if isinstance(a, types.Float):
        def impl(a, b):
            if b == 0:
                return a / b
            m = np.fmod(a, b)
            div = (a - m) / b
            if m != 0 and ((b < 0) != (m < 0)):
                div -= 1
            if div == 0:
                return math.copysign(0.0, a / b)
            fd = np.floor(div)
            return fd + 1 if div - fd > 0.5 else fd
        return impl
    if isinstance(a, types.Boolean):
        return lambda a, b: 1 if (a and b) else 0
    return lambda a, b: (a - a) if b == 0 else a // b


@overload(mod, jit_options={"error_model": "numpy"})
def _mod(a, b):
    if isinstance(a, types.Float):
        def impl(a, b):
            m = np.fmod(a, b)
            if b == 0:
                return m
            if m != 0:
                return m + b if (b < 0) != (m < 0) else m
            return math.copysign(0.0, b)
        return impl
    return lambda a, b: (a - a) if b == 0 else a % b


@overload(power, jit_options={"error_model": "numpy"})
def _power(a, b):
    if isinstance(a, types.Float):
        return lambda a, b: a ** b
    if isinstance(a, types.Boolean):
        return lambda a, b: 1 if (a or not b) else 0

    def impl(a, b):
        if b < 0:
            if a == 1:
                return 1
            if a == -1:
                return -1 if b % 2 else 1
            return 0
        r, base, e = 1, a, b
        while e > 0:
            if e & 1:
                r = r * base
            base = base * base
            e >>= 1
        return r
    return impl


@overload(round_half_even, inline="always")
def _round_half_even(x, decimals):
    ft = np.float32 if x.bitwidth == 32 else np.float64

    def impl(x, decimals):
        if decimals == 0:
            return np.rint(x)
        if decimals > 0:
            f = ft(10.0 ** decimals)
            return np.rint(x * f) / f
        f = ft(10.0 ** -decimals)
        return np.rint(x / f) * f
    return impl


@njit(cache=True, error_model="numpy")
def round_half_even_f16(x, decimals):
    """round of a float16 value held as float32: NumPy's float16 loop rounds
    the scaled value to float16 before `rint`."""
    if decimals == 0:
        return np.rint(x)
    if decimals > 0:
        f = f16_round(np.float32(10.0 ** decimals))
        return np.rint(f16_round(x * f)) / f
    f = f16_round(np.float32(10.0 ** -decimals))
    return np.rint(f16_round(x / f)) * f


@overload(round_int, inline="always")
def _round_int(x, decimals):
    def impl(x, decimals):
        if decimals >= 0:
            return x
        f = 10.0 ** -decimals
        return np.rint(x / f) * f
    return impl


__all__ = ["f16_to_f32", "f32_to_f16", "f16_round", "bf16_to_f32", "f32_to_bf16", "bf16_round", "exp", "expm1", "log", "log1p", "log2", "log10", "tanh", "sin", "cos", "tan",
           "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh",
           "arctanh", "erf", "erfinv", "logaddexp", "left_shift", "right_shift", "sqrt", "floor", "ceil",
           "trunc", "isnan", "isinf", "isfinite", "maximum", "minimum", "maximum_first",
           "minimum_first", "sign", "floor_divide",
           "mod", "power", "round_half_even", "round_half_even_f16", "round_int", "radd", "rmul", "rmax", "rmin",
           "sum_bad", "product_bad", "sum_carry_off", "product_carry_off", "sin_near", "cos_near", "tan_near", "sin_split", "cos_split", "tan_split",
           "sin_split_call", "cos_split_call", "tan_split_call", "NEAR"]
