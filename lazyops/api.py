"""The keras.ops functions. Each records ops into the IR; none computes.

Elementwise ops share one path (`_elementwise`) that applies the op's
registered promotion rule, inserts casts and checks broadcasting; composite
functions (var, std, clip, ...) are written in terms of primitives.
"""
import builtins
import math

import numpy as np

from .ir import dtypes as D
from .ir.registry import ELEMENTWISE_OPS, all_ops, family, lookup
from .ir.shapes import broadcast_shapes, normalize_axis, reduced_shape, size_of
from .ir.types import TensorType
from . import inputs
from .recording import binary_entry, leaf, record, record_binary, record_unary
from .tensor import ArrayArg, Tensor, WeakInt

# Python scalars with these values are recorded as IR constants, visible to
# canonicalization (x*1, x**2); any other scalar is a runtime argument, so a
# new value never compiles a new kernel.
_STATIC_SCALARS = frozenset({0.0, 1.0, -1.0, 2.0, 0.5})
_POWER_STATIC = _STATIC_SCALARS | frozenset(map(float, range(-4, 9)))


# ---------------------------------------------------------------- conversion

def is_tensor(x):
    """A lazyops tensor, or what Keras's NumPy backend takes as its tensor (a
    NumPy array or scalar)."""
    return isinstance(x, (Tensor, np.ndarray, np.generic))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None, copy=False):
    """A tensor of `x` (an array, a nested list, a scalar), in `dtype` if given.

    An array (NumPy, or anything exposing `__array_interface__`, the buffer
    protocol or `__dlpack__`) is referenced, not copied: the graph reads it
    when forced, so writes into it before then change the result;
    `copy=True` snapshots it. A dtype change (Keras turns 64-bit inputs into
    32-bit) is a cast fused into the consuming kernel."""
    if sparse or ragged:
        raise ValueError("convert_to_tensor: sparse and ragged tensors are not supported")
    if isinstance(x, Tensor):
        if type(x) is ArrayArg:  # a traced function's array argument: as the array
            src = x._value.type.dtype
            if src in D.FLOAT8:
                _refuse_float8(src)
            dtype = D.canonical_input(src) if dtype is None else \
                D.standardize(dtype, "convert_to_tensor")
            return _cast(Tensor(x._value), dtype)
        return x if dtype is None else cast(x, dtype)
    if type(x) is np.ndarray and dtype is None and not copy:
        canonical = _INPUT_DTYPES.get(x.dtype)
        if canonical is not None:  # the common case, memoized
            v = inputs.leaf_of(x)
            if v is not None:
                t = Tensor(v)
                return t if v.type.dtype == canonical else _cast(t, canonical)
    if dtype is not None:
        dtype = D.standardize(dtype, "convert_to_tensor")
    arr = inputs.as_array(x)
    if arr is not None and _float8(arr.dtype):
        _refuse_float8(arr.dtype)
    if arr is not None and arr.dtype != object:
        src = D.standardize(arr.dtype, "convert_to_tensor", "x")
        if arr.dtype.isnative:
            _INPUT_DTYPES[arr.dtype] = D.canonical_input(src)
            if _INPUT_DTYPES[arr.dtype] == src:
                _KEPT_DTYPES.add(arr.dtype)
        dtype = dtype or D.canonical_input(src)
        if not copy and inputs.referencable(arr):
            return _cast(Tensor(inputs.reference(arr)), dtype)
        x = arr
    elif dtype is None and isinstance(x, np.generic):
        dtype = D.canonical_input(D.standardize(x.dtype, "convert_to_tensor", "x"))
    elif isinstance(x, (list, tuple)):
        elements = _elements(x)  # raises naming the first ragged or non-numeric element
        if dtype is None:
            kinds = {D.python_scalar_kind(e) or _elem_dtype(e) for e in elements}
            dtype = D.result_type(*kinds) if kinds else D.FLOATX
    elif dtype is None:
        dtype = D.python_scalar_kind(x) or _elem_dtype(x)
        dtype = D.result_type(dtype)
    arr = np.array(x, dtype=dtype, order="C")  # the tensor's own buffer, writable as results are
    return Tensor(leaf(arr))


_INPUT_DTYPES = {}  # native NumPy dtype -> the dtype Keras converts it to
_KEPT_DTYPES = set()  # native NumPy dtypes Keras keeps


def _elem_dtype(e, at=""):
    if isinstance(e, complex):
        return "complex64"
    if isinstance(e, Tensor):
        return e.dtype
    if isinstance(e, (np.ndarray, np.generic)) and e.dtype.kind in "biufc":
        return D.standardize(e.dtype)
    where = f"element {at} " if at else ""
    raise TypeError(f"convert_to_tensor: cannot convert {where}{e!r} of type "
                    f"{type(e).__name__}: only numbers, booleans, arrays and tensors can be")


def _elements(x):
    """The elements of nested lists and tuples `x`, in order (tensors forced).
    Raises naming the first element where the nesting is ragged (its shape
    is not the one the first elements give) or that is no number."""
    shape, e = [], x
    while isinstance(e, (list, tuple)):
        shape.append(len(e))
        if not e:
            break
        e = e[0]
    else:
        shape.extend(np.shape(e) if isinstance(e, (np.ndarray, Tensor)) else ())
    out, stack = [], [(x, ())]
    while stack:
        e, at = stack.pop()
        d = len(at)
        if isinstance(e, (list, tuple)):
            if d < len(shape) and len(e) == shape[d]:
                stack.extend(reversed([(c, at + (i,)) for i, c in enumerate(e)]))
                continue
            got = f"has length {len(e)}"
        else:
            if isinstance(e, Tensor):
                e = e.numpy()
            sub = np.shape(e) if isinstance(e, np.ndarray) else ()
            if D.python_scalar_kind(e) is None:
                _elem_dtype(e, _path(at))  # raises if no number
            if tuple(shape[d:]) == sub:
                out.append(e)
                continue
            got = f"has shape {sub}" if sub else f"is a scalar ({e!r})"
        first = (0,) * d
        want = f"has shape {tuple(shape[d:])}" if d < len(shape) else "is a scalar"
        raise ValueError(f"convert_to_tensor: ragged nested sequence: element {_path(at)} "
                         f"{got}, but element {_path(first)} {want}; every element at one "
                         "depth must have the same shape")
    return out


def _path(at):
    return "".join(f"[{i}]" for i in at)


def convert_to_numpy(x):
    """The value of `x` as a NumPy array (forces a lazy tensor).

    A tensor's array is its own buffer, writable and shared with the tensor (see
    `Tensor.numpy`); anything else goes through `np.array`."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.array(x)


# Functions that Keras's NumPy backend hands a NumPy array to NumPy as it is,
# so a float64 or int64 array keeps its 64 bits (elsewhere it converts first,
# to float32/int32, as `convert_to_tensor` does). Found by calling each
# keras.ops function on 64-bit arrays.
KEEPS_64 = frozenset("""
    absolute amax amin broadcast_to concatenate conj conjugate copy diag diagonal diff
    dtype expand_dims extract_sequences flip full_like get_item imag logsumexp max
    meshgrid min moveaxis nan_to_num negative ones_like pad ravel real reciprocal repeat
    reshape roll round scatter_update segment_max segment_sum select sign slice slice_update
    slogdet sort split squeeze stack stop_gradient sum swapaxes take take_along_axis tile
    top_k transpose tril triu unstack vstack zeros_like""".split())
_WIDE = frozenset([np.dtype("float64"), np.dtype("int64")])


def _float8(dt):
    """Whether NumPy dtype `dt` is one of the float8 types (ml_dtypes', so
    checked by name: ml_dtypes is imported only once a name needs it)."""
    return dt.itemsize == 1 and dt.kind in "fV" and dt.name in D.FLOAT8


def _tensor(x, op, arg="x"):
    if type(x) is Tensor:
        return x
    if type(x) is np.ndarray and (x.dtype in _WIDE and op in KEEPS_64 or _float8(x.dtype)) \
            and x.flags.aligned and x.dtype.isnative:
        return Tensor(inputs.reference(x))  # as Keras's NumPy backend passes them to NumPy
    if type(x) is ArrayArg and (x._value.type.dtype in ("float64", "int64") and op in KEEPS_64
                                or x._value.type.dtype in D.FLOAT8):
        return Tensor(x._value)  # (the array it stands for, likewise)
    try:
        return convert_to_tensor(x)
    except (TypeError, ValueError) as e:
        why = str(e).removeprefix("convert_to_tensor: ")
        raise TypeError(f"{op}: argument `{arg}` cannot be converted to a tensor: {why}") from None


def shape(x):
    """The static shape of `x` as a tuple of ints (known without forcing)."""
    return tuple(_tensor(x, "shape").shape)


def dtype(x):
    """The Keras dtype name of `x`, a plain string (no forcing)."""
    # Keras's plain name, not Tensor.dtype (a DType may reach an IR type where
    # a function passes its argument's `.dtype` along)
    return str(_tensor(x, "dtype")._value.type.dtype)


def cast(x, dtype):
    """`x` converted to `dtype`, as NumPy's `astype` converts.

    Fuses as an elementwise op; casts to and from float8 run as NumPy steps
    between kernels. complex128 is refused (use complex64)."""
    x = _tensor(x, "cast")
    dtype = D.standardize(dtype, "cast", allowed=D.ALL)
    if dtype == "complex128":
        raise TypeError("cast: complex128 tensors are not supported; cast to complex64")
    if dtype in D.FLOAT8 or x.dtype in D.FLOAT8:
        if x.dtype == dtype:
            return x
        # float8 is storage: NumPy (ml_dtypes) converts, outside kernels
        return Tensor(record("cast_storage", [x._value], {"dtype": dtype}))
    return _cast(x, dtype)


def _cast(x, dtype):
    if x._value.type.dtype == dtype:  # (the IR's name: no DType comparison on the hot path)
        return x
    return Tensor(record("cast", [x._value], {"dtype": dtype}))


_CONSTANTS = {}
_SCALAR_LEAVES = {}  # (dtype, value, sign) -> a runtime scalar's leaf (read-only 0-d array)


def _scalar_value(v, dtype, static, api):
    """A Python scalar as an IR constant (static) or a runtime 0-d argument.
    Constants have no operands and no data, so one recorded op per value and
    dtype serves every graph."""
    # 0 == 0.0 == -0.0: the sign keeps -0.0 apart; True == 1 but is a bool
    key = (dtype, v, math.copysign(1.0, v) if v == 0 else type(v))
    if v in static and not D.is_complex(dtype):  # complex constants have no text form
        c = _CONSTANTS.get(key)
        if c is None:
            value = _scalar_array(v, dtype, api).item()
            c = _CONSTANTS[key] = record("constant", [], {"value": value, "dtype": dtype})
        return c
    # a scalar used again (a loop's coefficients) shares its leaf
    c = _SCALAR_LEAVES.get(key)
    if c is None:
        a = _scalar_array(v, dtype, api)
        a.flags.writeable = False
        if len(_SCALAR_LEAVES) >= 4096:
            _SCALAR_LEAVES.clear()
        c = _SCALAR_LEAVES[key] = leaf(a)
    return c


def _scalar_array(v, dtype, api):
    try:
        return np.asarray(v, dtype=dtype)
    except OverflowError as e:
        raise OverflowError(f"{api}: Python scalar {v!r} does not fit dtype {dtype}: {e}") from None


# ---------------------------------------------------------------- elementwise

_COMPUTE = {}  # (op, operand kinds) -> the dtype it computes in


def _operands(name, args, argnames, api, static=_STATIC_SCALARS):
    """Apply op `name`'s promotion rule to `args`; returns cast operand values."""
    kinds, items = [], []
    for a, n in zip(args, argnames):
        ta = type(a)
        if ta is Tensor:
            kinds.append(a._value.type.dtype)
            items.append(a)
            continue
        k = ta if ta is float or ta is int else D.python_scalar_kind(a)
        if k is not None and k is not bool:
            kinds.append(k)
            items.append(a)
        elif ta is WeakInt:  # promoted as the Python int it stands for
            kinds.append(int)
            items.append(a)
        else:
            t = _tensor(a, api, n)
            kinds.append(t._value.type.dtype)  # the plain name (a DType would key caches)
            items.append(t)
    key = (name, *kinds)
    compute = _COMPUTE.get(key)
    if compute is None:
        compute = _compute_dtype(name, kinds, argnames, api)
        if len(_COMPUTE) < 1 << 14:
            _COMPUTE[key] = compute
    if name in _COMPARISONS and compute in D.INTS:
        compute = _compare_dtype(compute, items)
    values = []
    for t in items:
        if type(t) is Tensor:
            values.append(t._value if t._value.type.dtype == compute else _cast(t, compute)._value)
        elif type(t) is WeakInt:
            t.casts.add(compute)
            values.append(_cast(t, compute)._value)
        else:
            values.append(_scalar_value(t, compute, static, api))
    return values


def _compute_dtype(name, kinds, argnames, api):
    try:
        compute = _promote(lookup(name), tuple(kinds))
    except (TypeError, ValueError) as e:
        got = ", ".join(f"{n}={k if isinstance(k, str) else k.__name__}"
                        for n, k in zip(argnames, kinds))
        raise type(e)(f"{api}: {e} (got {got})") from None
    _check_supported(api, compute, name)
    return compute


_PROMOTED = {}
_COMPARISONS = frozenset(["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"])


def _compare_dtype(compute, items):
    """Comparisons with a Python int beyond the integer dtype hold exactly, as
    in NumPy 2: they compare in int64 (or float64 beyond it)."""
    info = np.iinfo(compute)
    outside = [a for a in items if not isinstance(a, Tensor) and isinstance(a, int)
               and not info.min <= a <= info.max]
    if not outside:
        return compute
    wide = np.iinfo("int64")
    fits = compute != "uint64" and builtins.all(wide.min <= a <= wide.max for a in outside)
    return "int64" if fits else "float64"


def _promote(d, kinds):
    """The op's promotion rule, memoized: it runs on every recorded call."""
    key = (d.name, kinds)
    out = _PROMOTED.get(key)
    if out is None:
        out = _PROMOTED[key] = d.promote(*kinds)
    return out


def _elementwise(name, args, argnames=("x1", "x2"), api=None, static=_STATIC_SCALARS):
    """Record elementwise op `name`: promote, cast, check broadcasting."""
    api = api or name
    values = _operands(name, args, argnames, api, static)
    try:
        return Tensor(record(name, values))
    except ValueError:
        # the error that names the call and its arguments
        broadcast_shapes(api, [v.type.shape for v in values], list(argnames))
        raise


def _fast_binary(name, x1, x2):
    """The common calls of a binary op, recorded without the general path:
    tensors and NumPy arrays of one dtype, and Python scalars that need no
    cast of the tensor, where the op's types were inferred before. None for
    anything else."""
    v1 = x1._value if type(x1) is Tensor else inputs.leaf_of(x1, _KEPT_DTYPES)
    if v1 is None:
        return None
    t2 = type(x2)
    if t2 is float or t2 is int:
        hit = _FAST_SCALARS.get((name, v1.type.key, x2, t2))
        if hit is None:
            hit = _fast_scalar(name, v1, x2, t2)
            if hit is None:
                return None
        v2, entry = hit
    else:
        v2 = x2._value if t2 is Tensor else inputs.leaf_of(x2, _KEPT_DTYPES)
        if v2 is None:
            return None
        entry = _FAST_PAIRS.get((name, v1.type.key, v2.type.key))
        if entry is None:
            entry = _fast_pair(name, v1, v2)
            if entry is None:
                return None
    return Tensor(record_binary(entry, v1, v2, 3))   # record_binary <- here <- f <- user


# (op, a tensor's type key, a Python scalar, its type) -> (the scalar's
# Value, the op's `binary_entry`), where the op computes in the tensor's dtype
_FAST_SCALARS = {}
# (op, type key, type key) -> the op's `binary_entry`, where both operands
# have the dtype the op computes in
_FAST_PAIRS = {}


def _fast_scalar(name, v1, x, kind):
    """(The Value of Python scalar `x` beside tensor value `v1` in `name`,
    the op's entry), or None where it takes the general path (a cast, a wide
    comparison, types not inferred yet). Kept in `_FAST_SCALARS` except for
    zeros and NaN, which a dict cannot tell apart (-0.0 == 0.0) or find (nan
    != nan)."""
    dtype = v1.type.dtype
    if _COMPUTE.get((name, dtype, kind)) != dtype or name in _COMPARISONS and dtype in D.INTS:
        return None  # (an int comparison may widen: `_compare_dtype`)
    v = _scalar_value(x, dtype, _POWER_STATIC if name == "power" else _STATIC_SCALARS, name)
    entry = binary_entry(name, v1, v)
    if entry is None:
        return None
    if x != 0 and x == x:
        if len(_FAST_SCALARS) >= 4096:
            _FAST_SCALARS.clear()
        _FAST_SCALARS[(name, v1.type.key, x, kind)] = v, entry
    return v, entry


def _fast_pair(name, v1, v2):
    """The op's entry where both values have the dtype `name` computes in
    and their types were inferred before, else None."""
    d1 = v1.type.dtype
    if v2.type.dtype != d1 or _COMPUTE.get((name, d1, d1)) != d1:
        return None
    entry = binary_entry(name, v1, v2)
    if entry is not None:
        if len(_FAST_PAIRS) >= 4096:
            _FAST_PAIRS.clear()
        _FAST_PAIRS[(name, v1.type.key, v2.type.key)] = entry
    return entry


_FLOAT8_NOTE = ("float8 tensors are storage (as in Keras, which refuses implicit conversions "
                "from them): cast them to a wider float first, e.g. cast(x, 'float32')")


def _refuse_float8(dtype):
    raise ValueError(f"convert_to_tensor: {_FLOAT8_NOTE} (got a {dtype} array; ops take one "
                     "directly, as Keras's do)")


def _check_supported(api, dtype, name=None):
    if dtype in D.FLOAT8 and not (name and lookup(name).float8_ok):
        raise TypeError(f"{api}: {_FLOAT8_NOTE}")
    if dtype not in D.SUPPORTED:
        raise TypeError(f"{api}: dtype {dtype} is not supported")


def _narrow(x, api):
    """A 64-bit tensor given to a function outside KEEPS_64, as Keras's NumPy
    backend converts that function's argument: to 32 bits."""
    if type(x) is Tensor and x.dtype in _NARROW and api not in KEEPS_64:
        return _cast(x, _NARROW[x.dtype])
    return x


_NARROW = {"float64": "float32", "int64": "int32", "uint64": "uint32"}


# What each generated function computes: the first line of its docstring.
# The rest is read from the registry (`_op_doc`).
_WHAT = {
    "absolute": "The absolute value of each element.",
    "add": "`x1 + x2`, elementwise with broadcasting.",
    "arccos": "The inverse cosine of each element.",
    "arccosh": "The inverse hyperbolic cosine of each element.",
    "arcsin": "The inverse sine of each element.",
    "arcsinh": "The inverse hyperbolic sine of each element.",
    "arctan": "The inverse tangent of each element.",
    "arctan2": "The angle of the point (`x2`, `x1`), elementwise with broadcasting.",
    "arctanh": "The inverse hyperbolic tangent of each element.",
    "bitwise_and": "`x1 & x2` on integers and booleans, elementwise with broadcasting.",
    "bitwise_invert": "`~x` on integers and booleans, elementwise.",
    "bitwise_or": "`x1 | x2` on integers and booleans, elementwise with broadcasting.",
    "bitwise_xor": "`x1 ^ x2` on integers and booleans, elementwise with broadcasting.",
    "ceil": "The smallest integer not below each element.",
    "conjugate": "The complex conjugate of each element (the value itself for real dtypes).",
    "cos": "The cosine of each element.",
    "cosh": "The hyperbolic cosine of each element.",
    "divide": "`x1 / x2` (true division), elementwise with broadcasting.",
    "divide_no_nan": "`x1 / x2`, with 0 where `x2` is 0, elementwise with broadcasting.",
    "equal": "`x1 == x2`, elementwise with broadcasting.",
    "erf": "The error function of each element.",
    "erfinv": "The inverse error function of each element.",
    "exp": "`e ** x` for each element.",
    "expm1": "`exp(x) - 1` for each element, accurate near 0.",
    "floor": "The largest integer not above each element.",
    "floor_divide": "`x1 // x2`, elementwise with broadcasting.",
    "greater": "`x1 > x2`, elementwise with broadcasting.",
    "greater_equal": "`x1 >= x2`, elementwise with broadcasting.",
    "imag": "The imaginary part of each element (0 for real dtypes).",
    "isfinite": "Whether each element is finite (not NaN or infinite).",
    "isinf": "Whether each element is +inf or -inf.",
    "isnan": "Whether each element is NaN.",
    "left_shift": "`x1 << x2` on integers, elementwise with broadcasting.",
    "less": "`x1 < x2`, elementwise with broadcasting.",
    "less_equal": "`x1 <= x2`, elementwise with broadcasting.",
    "log": "The natural logarithm of each element.",
    "log10": "The base-10 logarithm of each element.",
    "log1p": "`log(1 + x)` for each element, accurate near 0.",
    "log2": "The base-2 logarithm of each element.",
    "logaddexp": "`log(exp(x1) + exp(x2))` without overflow, elementwise with broadcasting.",
    "logical_and": "The truth of `x1` and `x2`, elementwise with broadcasting.",
    "logical_not": "The negated truth of each element.",
    "logical_or": "The truth of `x1` or `x2`, elementwise with broadcasting.",
    "logical_xor": "The truth of exactly one of `x1`, `x2`, elementwise with broadcasting.",
    "maximum": "The larger of `x1` and `x2` (NaN if either is), elementwise with broadcasting.",
    "minimum": "The smaller of `x1` and `x2` (NaN if either is), elementwise with broadcasting.",
    "mod": "The remainder of `x1 // x2`, with the sign of `x2`, elementwise with broadcasting.",
    "multiply": "`x1 * x2`, elementwise with broadcasting.",
    "negative": "`-x` for each element.",
    "not_equal": "`x1 != x2`, elementwise with broadcasting.",
    "real": "The real part of each element (the value itself for real dtypes).",
    "reciprocal": "`1 / x` for each element (integer division for integers, as NumPy).",
    "right_shift": "`x1 >> x2` on integers, elementwise with broadcasting.",
    "sign": "-1, 0 or 1 by the sign of each element (NaN stays NaN).",
    "sin": "The sine of each element.",
    "sinh": "The hyperbolic sine of each element.",
    "sqrt": "The square root of each element.",
    "square": "`x * x` for each element.",
    "stop_gradient": "`x` itself (no gradients are computed here).",
    "subtract": "`x1 - x2`, elementwise with broadcasting.",
    "tan": "The tangent of each element.",
    "tanh": "The hyperbolic tangent of each element.",
    "trunc": "Each element rounded toward zero.",
    "all": "Whether every element is true, over `axis` (all axes when None).",
    "any": "Whether any element is true, over `axis` (all axes when None).",
    "logsumexp": "`log(sum(exp(x)))` over `axis` (all axes when None), without overflow.",
    "mean": "The arithmetic mean over `axis` (all axes when None).",
    "sum": "The sum over `axis` (all axes when None).",
    "var": "The population variance over `axis` (all axes when None).",
}


def _op_doc(name):
    """The docstring of the function generated from registered op `name`:
    what it computes, then its kind and dtype rule as the registry has them."""
    d = lookup(name)
    arity = d.arity or 1
    kind = {1: "x", 2: "x1, x2"}[arity] if d.family == ELEMENTWISE_OPS else "x, axis, keepdims"
    rules = []
    for probe in ("bool", "int32", "float16", "float32"):
        try:
            compute = _promote(d, (probe,) * arity) if d.promote else probe
            attrs = {"axis": (0,), "keepdims": False} if "axis" in d.attrs else {}
            result = d.infer([TensorType((1,), compute)] * arity, attrs)[0].dtype
            rules.append(f"{probe} -> {result}")
        except (TypeError, ValueError):
            rules.append(f"{probe} refused")
    how = ("a reduction: fuses with the elementwise work feeding it and after it"
           if d.family != ELEMENTWISE_OPS else "fuses into kernels with its neighbours")
    takes = [t for t, ok in (("complex64", d.complex_ok), ("float8", d.float8_ok)) if ok]
    return "\n".join([
        _WHAT.get(name, f"keras.ops.{name}."), "",
        f"keras.ops.{name}({kind}): {how}. Dtypes (Keras's rules, operands of one dtype): "
        + ", ".join(rules) + "."
        + (f" Also takes {' and '.join(takes)} (as NumPy steps between kernels)."
           if takes else ""),
    ])


def _unary(name):
    def f(x):
        if type(x) is Tensor:  # the common call: a tensor the op computes on as it is
            v = x._value
            d = v.type.dtype
            if d not in _NARROW and _COMPUTE.get((name, d)) == d:
                v = record_unary(name, v, 2)  # record_unary <- f <- user
                if v is not None:
                    return Tensor(v)
        return _elementwise(name, [_narrow(x, name)], ("x",))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = _op_doc(name)
    return f


def _binary(name):
    def f(x1, x2):
        out = _fast_binary(name, x1, x2)
        return out if out is not None else _elementwise(name, [x1, x2])
    f.__name__ = f.__qualname__ = name
    f.__doc__ = _op_doc(name)
    return f


# Plain elementwise ops (no attributes, no special rule at the call) are
# generated from the registry: adding one is its registry entry.
_SPECIAL = {"rsqrt", "power", "round", "cast", "where", "nan_to_num"}


def _plain_elementwise():
    out = {}
    for full, d in all_ops().items():
        if family(full) == ELEMENTWISE_OPS and not d.attrs and d.name not in _SPECIAL:
            out[d.name] = {1: _unary, 2: _binary}[d.arity](d.name)
    return out


_PLAIN = _plain_elementwise()
globals().update(_PLAIN)

abs = absolute  # noqa: A001  (keras.ops.abs)
true_divide = divide


def rsqrt(x):
    """`1 / sqrt(x)` for each element.

    Like the Keras NumPy backend, integer and boolean inputs keep
    their dtype: the float64 result is cast back."""
    x = _narrow(_tensor(x, "rsqrt"), "rsqrt")
    if D.is_float(x.dtype):
        return _elementwise("rsqrt", [x], ("x",))
    return _cast(_elementwise("rsqrt", [_cast(x, "float64")], ("x",)), x.dtype)


def power(x1, x2):
    """`x1 ** x2`, elementwise with broadcasting.

    A small static integer exponent (-4..8, and 0.5) is part of the kernel, so
    `x ** 2` becomes `x * x`; any other Python scalar is a runtime argument.
    Integers to negative integer powers raise, as in NumPy."""
    if isinstance(x2, int) and not isinstance(x2, bool) and x2 < 0:
        t = None if D.python_scalar_kind(x1) else _tensor(x1, "power", "x1")
        base = D.python_scalar_kind(x1) or t.dtype
        empty = t is not None and t.size == 0  # NumPy checks per element
        if _promote(lookup("power"), (base, int)) not in D.FLOATS and not empty:
            raise ValueError(f"power: integers to negative integer powers are not allowed "
                             f"(x1 has dtype {getattr(base, '__name__', base)}, x2={x2})")
    out = _fast_binary("power", x1, x2)
    return out if out is not None else _elementwise("power", [x1, x2], static=_POWER_STATIC)


def round(x, decimals=0):  # noqa: A001
    """Each element rounded to `decimals` decimal places (halves to even).

    Integers keep their dtype; booleans become float16 (Keras's NumPy backend)."""
    if not isinstance(decimals, int):
        raise TypeError(f"round: `decimals` must be an int, got {decimals!r}")
    x = _tensor(x, "round")
    if x.dtype == "bool" and decimals != 0:
        raise TypeError(f"round: boolean inputs can only be rounded with decimals=0, "
                        f"got decimals={decimals}")
    return Tensor(record("round", [x._value], {"decimals": decimals}))


def where(condition, x1=None, x2=None):
    """`x1` where `condition` holds, else `x2`, with broadcasting.

    With only `condition`, the indices of its true elements, one tensor per axis:
    how many there are depends on the data, so that form forces `condition` at
    the call."""
    if (x1 is None) != (x2 is None):
        raise ValueError("where: pass both `x1` and `x2`, or neither (the indices of the "
                         "non-zero elements of `condition`)")
    if x1 is None:
        # the indices of the true elements: how many there are depends on the data
        c = _tensor(condition, "where", "condition")
        out = tuple(Tensor(leaf(i)) for i in np.nonzero(c.numpy()))  # int64, as np.where
        return inputs.forced_at_call(out, "where")
    c = _cast(_tensor(condition, "where", "condition"), "bool")
    values = _operands("where", [x1, x2], ("x1", "x2"), "where")
    broadcast_shapes("where", [c.shape] + [v.type.shape for v in values],
                     ["condition", "x1", "x2"])
    return Tensor(record("where", [c._value] + values))


def clip(x, x_min, x_max):
    """`x` limited to [`x_min`, `x_max`] elementwise (booleans as int32)."""
    x = _narrow(_tensor(x, "clip"), "clip")
    dt = "int32" if x.dtype == "bool" else x.dtype
    if D.is_int(dt) and float in (D.python_scalar_kind(x_min), D.python_scalar_kind(x_max)):
        # np.clip of integers against a Python float works in float64, and
        # Keras casts the result back (a bound beyond the dtype wraps)
        return cast(clip(cast(x, "float64"), x_min, x_max), dt)
    bounds = [_bound(x_min, dt, "x_min"), _bound(x_max, dt, "x_max")]
    values = [cast(x, dt)._value] + [b._value for b in bounds]
    broadcast_shapes("clip", [v.type.shape for v in values], ["x", "x_min", "x_max"])
    return Tensor(record("clip", values))


def _bound(b, dt, arg):
    if D.python_scalar_kind(b) is not None:
        if D.is_int(dt):
            # as np.clip: a bound beyond the dtype on its own side is no bound;
            # on the other side it cannot be represented
            b, info = math.trunc(b), np.iinfo(dt)
            if not info.min <= b <= info.max:
                if (b < info.min) != (arg == "x_min"):
                    raise OverflowError(f"clip: `{arg}`={b} is out of bounds for {dt}")
                b = info.min if b < info.min else info.max
        return Tensor(leaf(np.asarray(b).astype(dt)))
    return cast(_tensor(b, "clip"), dt)


# ---------------------------------------------------------------- reductions

# (op, API name, operand type key, axis (None or an int), keepdims (a bool))
# -> the attributes they were recorded with, once checked
_REDUCED = {}


def _reduce(name, x, axis, keepdims, api=None):
    api = api or name
    x = _tensor(x, api)
    # the common calls only: `True` or `1.0` equal 1 as keys, and are refused
    # as axes; a keepdims of another type may not even hash
    key = (name, api, x._value.type.key, axis, keepdims) \
        if (axis is None or type(axis) is int) and type(keepdims) is bool else None
    attrs = _REDUCED.get(key) if key is not None else None
    if attrs is not None:
        v = record_unary(name, x._value, 3, attrs)  # record_unary <- here <- f <- user
        if v is not None:
            return Tensor(v)
    if x.ndim == 0 and name not in ("mean", "var", "std") and axis in (0, -1, (0,), (-1,), [0], [-1]):
        axis = None  # NumPy's ufunc reductions (not np.mean) take axis 0 or -1 on 0-d input
    axes = normalize_axis(api, axis, x.shape)
    if name in ("max", "min", "argmax", "argmin") and builtins.any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{api}: cannot reduce an empty axis (input shape {x.shape}, "
                         f"axis={axis!r}): the reduction has no identity")
    if name in ("max", "min", "argmax", "argmin") and x.size == 0 and axis is None:
        raise ValueError(f"{api}: cannot reduce an empty tensor of shape {x.shape}")
    attrs = {"axis": axes, "keepdims": bool(keepdims)}
    out = Tensor(record(name, [x._value], attrs))
    if key is not None:
        if len(_REDUCED) >= 4096:
            _REDUCED.clear()
        _REDUCED[key] = attrs
    return out


def prod(x, axis=None, keepdims=False, dtype=None):
    """The product over `axis` (all axes when None), multiplied in `dtype`
    when given (as `np.prod(..., dtype=)`)."""
    x = _narrow(x, "prod")
    if dtype is None:
        return _reduce("prod", x, axis, keepdims)
    dtype = D.standardize(dtype, "prod")  # multiply in `dtype`, as np.prod(dtype=) does
    return _cast(_reduce("prod", cast(_tensor(x, "prod"), dtype), axis, keepdims), dtype)


def _extreme(name, pick, x, axis, keepdims, initial):
    if initial is not None:
        x = _tensor(x, name)
        axes = normalize_axis(name, axis, x.shape)
        if builtins.any(x.shape[a] == 0 for a in axes):  # only `initial` is left
            shape = reduced_shape(x.shape, axes, keepdims)
            return broadcast_to(cast(initial, x.dtype), shape)
    t = _reduce(name, x, axis, keepdims)
    return t if initial is None else pick(t, cast(initial, t.dtype))


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    """The largest element over `axis` (all axes when None); NaN if any is NaN.

    `initial` is a lower bound, included in the maximum (it is the result over an
    empty axis)."""
    return _extreme("max", maximum, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    """The smallest element over `axis` (all axes when None); NaN if any is NaN.

    `initial` is an upper bound, included in the minimum (it is the result over an
    empty axis)."""
    return _extreme("min", minimum, x, axis, keepdims, initial)


def amax(x, axis=None, keepdims=False):
    """The largest element over `axis` (all axes when None), as `max`."""
    return _reduce("max", x, axis, keepdims, "amax")


def amin(x, axis=None, keepdims=False):
    """The smallest element over `axis` (all axes when None), as `min`."""
    return _reduce("min", x, axis, keepdims, "amin")


def std(x, axis=None, keepdims=False):
    """The population standard deviation over `axis` (all axes when None).

    Integers and booleans are computed in float32."""
    x = _narrow(_tensor(x, "std"), "std")
    if x.dtype == "bool" or D.is_int(x.dtype):
        x = _cast(x, D.FLOATX)
    return _reduce("std", x, axis, keepdims)


def _plain_reduction(name):
    def f(x, axis=None, keepdims=False):
        return _reduce(name, _narrow(x, name), axis, keepdims)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = _op_doc(name)
    return f


# Reductions whose call is only (x, axis, keepdims) are generated from the
# registry too; the others below add an argument or a rule at the call.
_SPECIAL_REDUCE = {"prod", "max", "min", "std", "argmax", "argmin"}
_PLAIN_REDUCE = {d.name: _plain_reduction(d.name) for full, d in all_ops().items()
                 if set(d.attrs) == {"axis", "keepdims"} and d.name not in _SPECIAL_REDUCE}
globals().update(_PLAIN_REDUCE)


def _arg(name, x, axis, keepdims):
    x = _narrow(_tensor(x, name), name)
    if axis is not None and not isinstance(axis, int):
        raise TypeError(f"{name}: `axis` must be an int or None, got {axis!r}")
    if x.ndim == 0:
        return Tensor(leaf(np.zeros((), "int32")))
    return _reduce(name, x, axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """The int32 index of the largest element along `axis` (of the flattened `x` when None)."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """The int32 index of the smallest element along `axis` (of the flattened `x` when None)."""
    return _arg("argmin", x, axis, keepdims)


# ---------------------------------------------------------------- shapes

def _view(name, x, attrs):
    return Tensor(record(name, [x._value], attrs))


def reshape(x, newshape):
    """`x` with shape `newshape` (one -1 is inferred): a view, no copy."""
    x = _tensor(x, "reshape")
    shp = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    unknown = [i for i, d in enumerate(shp) if d == -1]
    known = size_of([d for d in shp if d != -1])
    if len(unknown) > 1 or builtins.any(d < -1 for d in shp):
        raise ValueError(f"reshape: invalid `newshape` {newshape!r}")
    if unknown:
        if known == 0 or x.size % known:
            raise ValueError(f"reshape: cannot reshape input of shape {x.shape} "
                             f"into shape {tuple(newshape)}")
        shp = tuple(x.size // known if d == -1 else d for d in shp)
    if size_of(shp) != x.size:
        raise ValueError(f"reshape: cannot reshape input of shape {x.shape} (size {x.size}) "
                         f"into shape {tuple(newshape)}")
    if shp == x.shape:
        return x
    return _view("reshape", x, {"shape": shp})


def transpose(x, axes=None):
    """`x` with its axes permuted (reversed when `axes` is None): a view, no copy."""
    x = _tensor(x, "transpose")
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
    if sorted(a % x.ndim if -x.ndim <= a < x.ndim else -99 for a in perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: `axes`={axes!r} is not a permutation of the "
                         f"{x.ndim} axes of an input of shape {x.shape}")
    perm = tuple(a % x.ndim for a in perm)
    if perm == tuple(range(x.ndim)):
        return x
    return _view("transpose", x, {"perm": perm})


def expand_dims(x, axis):
    """`x` with size-1 axes inserted at `axis` (an int or a tuple): a view."""
    x = _tensor(x, "expand_dims")
    n = 1 if isinstance(axis, int) else len(axis)
    axes = normalize_axis("expand_dims", axis, x.ndim + n,
                          what=f"the output (the input has shape {x.shape})")
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(dims) for i in range(x.ndim + n)))


def squeeze(x, axis=None):
    """`x` without its size-1 axes (those in `axis`, or all of them): a view."""
    x = _tensor(x, "squeeze")
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axis("squeeze", axis, x.shape)
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: cannot squeeze axis {bad[0]} of size "
                             f"{x.shape[bad[0]]} (input shape {x.shape})")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def broadcast_to(x, shape):
    """`x` broadcast to `shape`: a view (an index map), never a copy."""
    x = _tensor(x, "broadcast_to")
    shp = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    ok = len(shp) >= x.ndim and builtins.all(
        d in (1, s) for d, s in zip(reversed(x.shape), reversed(shp)))
    if not ok:
        raise ValueError(f"broadcast_to: input of shape {x.shape} cannot be broadcast "
                         f"to shape {shp}")
    if shp == x.shape:
        return x
    return _view("broadcast_to", x, {"shape": shp})


# ---------------------------------------------------------------- creation

def _shape_arg(op, shape):
    shp = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if builtins.any(not isinstance(d, (int, np.integer)) or d < 0 for d in shp):
        raise ValueError(f"{op}: `shape` must be a tuple of non-negative ints, got {shape!r}")
    return tuple(int(d) for d in shp)


def full(shape, fill_value, dtype=None, _api="full"):
    """A tensor of `shape` filled with `fill_value`, in `dtype` (float32 by
    default): one value broadcast, nothing allocated until a kernel reads it."""
    shp = _shape_arg(_api, shape)
    dt = D.standardize(dtype, _api) if dtype is not None else D.FLOATX
    if isinstance(fill_value, Tensor):
        v = _cast(fill_value, dt)
    else:
        try:
            # as np.full: floats cast unsafely (-2.5 -> uint8 254); out-of-range ints are refused
            arr = np.asarray(fill_value)
            arr = arr.astype(dt) if arr.dtype.kind == "f" else np.array(fill_value, dtype=dt)
        except (OverflowError, ValueError, TypeError) as e:
            raise type(e)(f"{_api}: `fill_value`={fill_value!r} does not fit dtype {dt}: {e}") from None
        static = arr.ndim == 0 and not D.is_complex(dt) and float(arr) in _STATIC_SCALARS
        v = Tensor(record("constant", [], {"value": arr.item(), "dtype": dt})
                   if static else leaf(arr))
    return broadcast_to(v, shp)


def zeros(shape, dtype=None):
    """A tensor of `shape` filled with 0, in `dtype` (float32 by default)."""
    return full(shape, 0, dtype, "zeros")


def ones(shape, dtype=None):
    """A tensor of `shape` filled with 1, in `dtype` (float32 by default)."""
    return full(shape, 1, dtype, "ones")


def full_like(x, fill_value, dtype=None, _api="full_like"):
    """A tensor of `x`'s shape filled with `fill_value`, in `dtype` (default `x`'s)."""
    x = _tensor(x, _api)
    return full(x.shape, fill_value, dtype or x.dtype, _api)


def zeros_like(x, dtype=None):
    """A tensor of `x`'s shape filled with 0, in `dtype` (default `x`'s)."""
    return full_like(x, 0, dtype, "zeros_like")


def ones_like(x, dtype=None):
    """A tensor of `x`'s shape filled with 1, in `dtype` (default `x`'s)."""
    return full_like(x, 1, dtype, "ones_like")


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [`start`, `stop`) by `step`, as `np.arange`.

    The dtype is Keras's result type of the arguments (int32 for ints, float32
    for floats) unless given; the values are computed in a kernel, not stored."""
    if dtype is None:
        kinds = [D.python_scalar_kind(v) or _elem_dtype(v)
                 for v in (start, stop, step) if v is not None]
        dt = D.result_type(*kinds)
    else:
        dt = D.standardize(dtype, "arange")
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("arange: `step` must not be zero")
    n = builtins.max(0, math.ceil((float(stop) - float(start)) / float(step)))
    if dt == "bool":
        return convert_to_tensor(np.arange(start, stop, step, dtype=dt))
    # np.arange computes in the dtype's precision from start and step.
    st = np.asarray(start).astype(dt)
    delta = (np.asarray(start + step).astype(dt) - st) if D.is_float(dt) else np.asarray(step).astype(dt)
    return Tensor(record("iota", [leaf(st), leaf(delta)], {"size": n}))


# ---------------------------------------------------------------- library

def matmul(x1, x2):
    """The matrix product of `x1` and `x2` (NumPy's `matmul` rules).

    A library op run by NumPy (BLAS) between kernels; int8 operands give int32."""
    a, b = _tensor(x1, "matmul", "x1"), _tensor(x2, "matmul", "x2")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: inputs must be at least 1-d, got shapes {a.shape} and {b.shape}")
    dt = "int32" if (a.dtype == b.dtype == "int8") else D.result_type(a.dtype, b.dtype)
    return Tensor(record("matmul", [_cast(a, dt)._value, _cast(b, dt)._value]))


__all__ = sorted(list(_PLAIN) + list(_PLAIN_REDUCE) + [
    "abs", "amax", "amin", "arange", "argmax", "argmin", "broadcast_to", "cast", "clip",
    "convert_to_numpy", "convert_to_tensor", "dtype", "expand_dims", "full", "full_like",
    "is_tensor", "matmul", "max", "min", "ones", "ones_like", "power", "prod", "reshape",
    "round", "rsqrt", "shape", "squeeze", "std", "transpose", "true_divide", "where",
    "zeros", "zeros_like",
])
