"""Dtypes: Keras names, IR short names, NumPy types and Keras's promotion lattice.

The lattice and the weak-type rules reproduce `keras.backend.result_type` for
non-TensorFlow backends: Python scalars are weak, and 64-bit results become 32-bit.
"""
import difflib
import functools

import numpy as np

FLOATX = "float32"

# Keras name -> IR short name.
SHORT = {
    "bool": "i1", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "ui8", "uint16": "ui16", "uint32": "ui32", "uint64": "ui64",
    "float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
    "float8_e4m3fn": "f8E4M3FN", "float8_e5m2": "f8E5M2",
    "complex64": "complex<f32>", "complex128": "complex<f64>",
}
LONG = {v: k for k, v in SHORT.items()}
ALL = tuple(SHORT)
INTS = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOATS = ("bfloat16", "float16", "float32", "float64")
# float8 (ml_dtypes): Keras's promotion refuses them, so binary arithmetic on
# them fails; the functions Keras's NumPy backend hands to NumPy as they are
# (abs, sum, sort, ...) run as NumPy steps between kernels.
FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
# complex64: the ops that accept it (the registry's `complex_ok`) run as
# NumPy steps between kernels; complex128 inputs become complex64, as in
# Keras, and complex128 appears only inside (comparisons with int32 compare
# in it, as NumPy does).
COMPLEX = ("complex64", "complex128")
# Dtypes tensors may have (bfloat16 and float8 through ml_dtypes; float8 only
# through the ops the registry's FLOAT8_OK names).
SUPPORTED = ALL
# Floats held as float32 inside kernels, rounded to their dtype after every op
# (as NumPy's float16 ufuncs and ml_dtypes' bfloat16 ones compute), and passed
# to kernels as their uint16 bits.
HALF = ("float16", "bfloat16")
# The names NumPy knows once ml_dtypes is imported (see `numpy_types`)
EXTENDED = ("bfloat16",) + FLOAT8


@functools.cache
def numpy_types():
    """Import ml_dtypes, which registers bfloat16 and the float8 types with
    NumPy. Importing it takes most of a second, so it is imported when a
    dtype name needs it (an array of those types implies it is loaded)."""
    import ml_dtypes  # noqa: F401

_BIT64_TO_32 = {"int64": "int32", "uint64": "uint32", "float64": "float32",
                "complex128": "complex64"}


def is_float(d):
    return d in FLOATS


def is_complex(d):
    return d in COMPLEX


def is_int(d):
    return d in INTS


def is_unsigned(d):
    return d.startswith("uint")


def to_numpy(d):
    return np.dtype(d)


def itemsize(d):
    return np.dtype(d).itemsize


def standardize(dtype, op="convert_to_tensor", arg="dtype", allowed=SUPPORTED):
    """Any dtype spelling (str, NumPy dtype or type, Python type) -> Keras name,
    one of `allowed`."""
    if dtype is None:
        return FLOATX
    name = _NAMED.get(dtype) if isinstance(dtype, str) else None
    if name is not None and name in allowed:  # a name seen before
        return name
    if dtype is bool:
        return "bool"
    if dtype is int:
        return "int32"
    if dtype is float:
        return "float32"
    if isinstance(dtype, str) and dtype in LONG:
        dtype = LONG[dtype]
    if isinstance(dtype, str) and dtype in EXTENDED:
        numpy_types()
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = getattr(dtype, "name", str(dtype))
    if name not in allowed:
        raise TypeError(f"{op}: unsupported dtype {dtype!r} for argument `{arg}`"
                        f"{_suggestion(dtype, allowed)}; supported dtypes are {', '.join(allowed)}")
    if isinstance(dtype, str) and len(_NAMED) < 1024:
        _NAMED[dtype] = name
    return name


_NAMED = {}  # a dtype's spelling as a string -> its name


def _suggestion(dtype, allowed):
    """The hint for a misspelt dtype name, " (did you mean 'float32'?)", else ""."""
    if not isinstance(dtype, str):
        return ""
    close = difflib.get_close_matches(dtype.lower(), allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _lattice():
    i_, f_ = "int", "float"
    return {
        "bool": [i_],
        "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
        "uint32": ["int64", "uint64"], "uint64": [f_],
        i_: ["uint8", "int8", "complex64"],
        "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": [f_],
        f_: ["bfloat16", "float16"],
        "bfloat16": ["float32"], "float16": ["float32"], "float32": ["float64", "complex64"],
        "float64": ["complex128"], "complex64": ["complex128"], "complex128": [],
    }


def _upper_bounds():
    lat = _lattice()
    ub = {n: {n} for n in lat}
    for n in lat:
        while True:
            new = set().union(*(lat[b] for b in ub[n]))
            if new <= ub[n]:
                break
            ub[n] |= new
    return ub


_UB = _upper_bounds()


@functools.lru_cache(maxsize=None)
def _lub(nodes):
    cub = set.intersection(*(_UB[n] for n in nodes))
    lub = (cub & set(nodes)) or {c for c in cub if cub <= _UB[c]}
    if len(lub) != 1:
        raise TypeError(f"no implicit promotion between dtypes {sorted(nodes)}")
    return lub.pop()


def _weak_kind(d):
    if d == "bool":
        return d
    return "float" if "float" in d else "int"


@functools.lru_cache(maxsize=None)
def result_type(*args):
    """Keras result_type. Each arg is a Keras dtype name, or the Python types
    `int`/`float`/`bool` standing for weak Python scalars."""
    if not args:
        return FLOATX
    dts = tuple(standardize(a, "result_type", allowed=ALL) for a in args)
    if any(d in FLOAT8 for d in dts):
        raise ValueError("float8 tensors are storage (as in Keras, which refuses implicit "
                        "conversions from them): cast them to a wider float first, e.g. "
                        "cast(x, 'float32')")
    weak = tuple(a is int or a is float for a in args)
    if len(dts) == 1:
        out, out_weak = dts[0], weak[0]
    elif len(set(dts)) == 1 and not all(weak):
        out, out_weak = dts[0], False
    elif all(weak):
        out, out_weak = _lub(frozenset(dts)), True
    else:
        out = _lub(frozenset(_weak_kind(d) if w else d for d, w in zip(dts, weak)))
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        out = {"i": "int32", "u": "uint32"}.get(out[0], FLOATX)
    return _BIT64_TO_32.get(out, out)


def python_scalar_kind(v):
    """The weak type standing for a Python scalar, or None."""
    if isinstance(v, (bool, np.bool_)):
        return bool
    if isinstance(v, int):
        return int
    if isinstance(v, float):
        return float
    return None


def canonical_input(d):
    """Dtype a converted array takes: 64-bit becomes 32-bit, as in Keras."""
    return _BIT64_TO_32.get(d, d)
