"""Library ops: kernel boundaries computed by NumPy (BLAS and LAPACK
underneath), each with its shape rule and the result dtype Keras's NumPy
backend gives (the front end casts operands to the compute dtype first)."""
import numpy as np

from . import dtypes as D
from .ops import _reg
from .registry import LIBRARY
from .shapes import broadcast_shapes, reduced_shape
from .types import TensorType


def library(name, arity, shape, dtype, reference, attrs=None, decompose=None):
    """Register a library op. `shape(types, **attrs)` gives the result shape
    (or a list of them, one per result), `dtype(types, **attrs)` the result
    dtype (or a list); `decompose`, where given, rewrites the cases kernels
    compute into fusable ops (None for the others)."""
    def infer(types, a):
        shapes, dts = shape(types, **a), dtype(types, **a)
        if isinstance(shapes, list):
            dts = dts if isinstance(dts, list) else [dts] * len(shapes)
            return [TensorType(tuple(s), d) for s, d in zip(shapes, dts)]
        return [TensorType(tuple(shapes), dts)]
    _reg(name, [LIBRARY], arity, attrs=attrs or {}, infer=infer, reference=reference,
         decompose=decompose)


def same(types, **a):
    return types[0].dtype


def fixed(dt):
    return lambda types, **a: dt


def first_shape(types, **a):
    return types[0].shape


# casts to and from float8 (storage only: kernels do not compute with it)
library("cast_storage", 1, first_shape, lambda types, dtype: dtype,
        lambda x, dtype: x.astype(dtype), {"dtype": "dtype"})

# ---------------------------------------------------------------- sorting and searching

library("sort", 1, first_shape, same, lambda x, axis: np.sort(x, axis=axis), {"axis": "int"})
library("argsort", 1, first_shape, fixed("int32"),
        lambda x, axis: np.argsort(x, axis=axis, kind="stable"), {"axis": "int"})
library("argpartition", 1, first_shape, fixed("int32"),
        lambda x, kth, axis: np.argpartition(x, kth, axis), {"kth": "int", "axis": "int"})

def _top_k_ref(x, k, sorted):
    if sorted:
        idx = np.argsort(x, axis=-1)[..., ::-1][..., :k]
    else:
        idx = np.argpartition(x, -k, axis=-1)[..., -k:]
    return np.take_along_axis(x, idx, axis=-1), idx


library("top_k", 1, lambda types, k, sorted: [types[0].shape[:-1] + (k,)] * 2,
        lambda types, **a: [types[0].dtype, "int64"], _top_k_ref, {"k": "int", "sorted": "bool"})


def _in_top_k_ref(targets, predictions, k):
    top = _top_k_ref(predictions, k, True)[0]
    return np.any(np.take_along_axis(predictions, targets[:, None], axis=-1) >= top, axis=-1)


library("in_top_k", 2, first_shape, fixed("bool"), _in_top_k_ref, {"k": "int"})
library("searchsorted", 2, lambda types, side: types[1].shape, fixed("int32"),
        lambda s, v, side: np.searchsorted(s, v, side=side), {"side": "str"})
library("digitize", 2, first_shape, fixed("int32"), lambda x, bins: np.digitize(x, bins))


def _bincount_ref(x, *weights, length):
    w = weights[0] if weights else None
    if x.ndim == 2:
        return np.stack([np.bincount(r, None if w is None else wr, length)
                         for r, wr in zip(x, w if w is not None else [None] * len(x))])
    return np.bincount(x, w, length)


library("bincount", None, lambda types, length: types[0].shape[:-1] + (length,),
        lambda types, **a: types[1].dtype if len(types) > 1 else "int32", _bincount_ref,
        {"length": "int"})


def _histogram_ref(x, bins, lo, hi):
    return np.histogram(x, bins=bins, range=(lo, hi))


library("histogram", 1, lambda types, bins, lo, hi: [(bins,), (bins + 1,)],
        lambda types, **a: ["int64", types[0].dtype if types[0].dtype.startswith("float")
                            else "float64"], _histogram_ref,
        {"bins": "int", "lo": "scalar", "hi": "scalar"})

# ---------------------------------------------------------------- statistics


def _reduced(types, axis, keepdims, **a):
    return reduced_shape(types[0].shape, axis, keepdims)


def _median_ref(x, axis, keepdims, dtype):
    return np.median(x, axis=tuple(axis), keepdims=keepdims).astype(dtype)


library("median", 1, _reduced, lambda types, dtype, **a: dtype, _median_ref,
        {"axis": "ints", "keepdims": "bool", "dtype": "dtype"})


def _quantile_shape(types, axis, keepdims, **a):
    return types[1].shape + reduced_shape(types[0].shape, axis, keepdims)


def _quantile_ref(x, q, axis, method, keepdims, dtype):
    return np.quantile(x, q, axis=tuple(axis), method=method, keepdims=keepdims).astype(dtype)


library("quantile", 2, _quantile_shape, lambda types, dtype, **a: dtype, _quantile_ref,
        {"axis": "ints", "method": "str", "keepdims": "bool", "dtype": "dtype"})


def _norm_ref(x, ord, axis, keepdims, dtype):
    ax = tuple(axis) if axis is not None and len(axis) > 1 else (axis[0] if axis else None)
    return np.linalg.norm(x, ord=ord, axis=ax, keepdims=keepdims).astype(dtype)


def _ord(o):
    """`ord` as NumPy takes it from its attribute text: "" (None), "fro",
    "nuc", or a number ("2", "-inf")."""
    return None if o == "" else (o if o in ("fro", "nuc") else float(o))


def _norm_parts(rw, operands, attrs):
    """Vector norms (one axis) and the Frobenius norm of real floats as
    np.linalg.norm computes them, in fusable ops: sqrt(sum(x * x)), sum or
    extreme of |x|, count of nonzeros, (sum |x|**p)**(1/p). The others
    (matrix norms by SVD or of two reductions, complex or empty inputs to
    an extreme) stay NumPy's."""
    (x,) = operands
    dt, axis, keep = x.type.dtype, attrs["axis"], attrs["keepdims"]
    o = _ord(attrs["ord"])
    if not D.is_float(dt) or (len(axis) == 2 and o not in (None, "fro")) or len(axis) > 2 \
            or (len(axis) == 1 and isinstance(o, str)):
        return None
    if o in (np.inf, -np.inf) and any(x.type.shape[a] == 0 for a in axis):
        return None  # NumPy raises on an empty extreme

    def reduce(name, v):
        return rw.create(name, [v], {"axis": axis, "keepdims": keep})

    def const(value):
        return rw.create("constant", [], {"value": float(value), "dtype": dt})
    if o in (None, "fro", 2.0):
        return [rw.create("sqrt", [reduce("sum", rw.create("multiply", [x, x]))])]
    a = rw.create("absolute", [x])
    if o in (np.inf, -np.inf):
        return [reduce("max" if o > 0 else "min", a)]
    if o == 0:
        nonzero = rw.create("cast", [rw.create("not_equal", [x, const(0)])], {"dtype": dt})
        return [reduce("sum", nonzero)]
    if o == 1:
        return [reduce("sum", a)]
    powered = reduce("sum", rw.create("power", [a, const(o)]))
    return [rw.create("power", [powered, const(np.reciprocal(np.asarray(o, dt)))])]


library("norm", 1, lambda types, axis, keepdims, **a: reduced_shape(types[0].shape, axis, keepdims),
        lambda types, dtype, **a: dtype,
        lambda x, ord, axis, keepdims, dtype: _norm_ref(x, _ord(ord), axis, keepdims, dtype),
        {"ord": "str", "axis": "ints", "keepdims": "bool", "dtype": "dtype"},
        decompose=_norm_parts)


def _slogdet_ref(x, dtype):
    sign, logdet = np.linalg.slogdet(x)
    return sign.astype(dtype), logdet.astype(dtype)


library("slogdet", 1, lambda types, dtype: [types[0].shape[:-2]] * 2,
        lambda types, dtype: [dtype, dtype], _slogdet_ref, {"dtype": "dtype"})


def _segment_ref(data, ids, num, reduction):
    ok = ids >= 0
    vals, seg = data[ok], ids[ok]
    if (seg >= num).any():
        raise IndexError(f"segment_{reduction}: a segment id in the data is >= num_segments "
                         f"({num}): {int(seg.max())}")
    shape = (num,) + data.shape[1:]
    if reduction == "max":
        out = np.ones(shape, data.dtype) * -np.inf
        np.maximum.at(out, seg, vals)
    else:
        out = np.zeros(shape, data.dtype)
        np.add.at(out, seg, vals)
    return out


def _segment_dtype(types, reduction, **a):
    d = types[0].dtype
    return d if reduction == "sum" or d.startswith("float") else "float64"


library("segment", 2, lambda types, num, **a: (num,) + types[0].shape[1:], _segment_dtype,
        _segment_ref, {"num": "int", "reduction": "str"})

# ---------------------------------------------------------------- products


def _dot_shape(types):
    a, b = (t.shape for t in types)
    if not a or not b:
        return broadcast_shapes("dot", [a, b], ["x1", "x2"])
    if len(b) == 1:
        return a[:-1]
    return a[:-1] + b[:-2] + b[-1:]


library("dot", 2, lambda types: _dot_shape(types), same, np.dot)
library("vdot", 2, lambda types: (), same, np.vdot)


def _inner_shape(types):
    a, b = (t.shape for t in types)
    return a[:-1] + b[:-1] if a and b else broadcast_shapes("inner", [a, b], ["x1", "x2"])


library("inner", 2, lambda types: _inner_shape(types), same, np.inner)


def _tensordot_shape(types, a_axes, b_axes):
    a, b = (t.shape for t in types)
    return tuple(d for i, d in enumerate(a) if i not in a_axes) + \
        tuple(d for i, d in enumerate(b) if i not in b_axes)


library("tensordot", 2, _tensordot_shape, same,
        lambda x, y, a_axes, b_axes: np.tensordot(x, y, axes=(list(a_axes), list(b_axes))),
        {"a_axes": "ints", "b_axes": "ints"})

library("einsum", None, lambda types, subscripts, shape: shape, same,
        lambda *xs, subscripts, shape: np.einsum(subscripts, *xs),
        {"subscripts": "str", "shape": "ints"})

library("cross", 2, lambda types, shape, **a: shape, same,
        lambda x, y, axisa, axisb, axisc, shape: np.cross(x, y, axisa, axisb, axisc),
        {"axisa": "int", "axisb": "int", "axisc": "int", "shape": "ints"})


def _correlate_shape(types, mode):
    n, m = types[0].shape[0], types[1].shape[0]
    return ({"valid": max(n, m) - min(n, m) + 1, "same": max(n, m), "full": n + m - 1}[mode],)


library("correlate", 2, _correlate_shape, same, lambda x, y, mode: np.correlate(x, y, mode),
        {"mode": "str"})
