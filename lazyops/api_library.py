"""keras.ops functions over library ops (sorting, statistics, products,
linear algebra, segments) and reductions composed of fused ops
(count_nonzero, average, logsumexp, trace, diff, outer). Functions whose
output shape depends on the data (nonzero, bincount, segment ops without
`num_segments`, one-argument where) force what they need at the call."""
import builtins
import collections
import functools

import numpy as np

from .api import (_cast, _narrow, _tensor, cast, convert_to_tensor, mean, multiply, not_equal,
                  reshape, sum)
from .api_shape import _axis, _index, _indices, diagonal, moveaxis, ravel
from .indexing import getitem
from .inputs import as_array as inputs_of, forced_at_call
from .ir import dtypes as D
from .ir.shapes import broadcast_shapes, normalize_axis
from .recording import record
from . import regions
from .tensor import Tensor


def _one(op, x, attrs, name=None):
    return Tensor(record(name or op, [x._value], attrs))


def _pair(op, x1, x2):
    """Both operands in Keras's result_type of their dtypes."""
    a, b = _tensor(x1, op, "x1"), _tensor(x2, op, "x2")
    dt = D.result_type(a.dtype, b.dtype)
    return _cast(a, dt), _cast(b, dt)


def _results(values):
    return tuple(Tensor(v) for v in values)


# ---------------------------------------------------------------- sorting and searching

def sort(x, axis=-1):
    """`x` sorted along `axis`; a library op (NumPy) between kernels."""
    x = _tensor(x, "sort")
    if x.ndim == 0:
        raise ValueError("sort: input must be at least 1-d")
    return _one("sort", x, {"axis": _axis("sort", axis, x.ndim)})


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (the flattened x by default), in `dtype`
    (default: x's; Keras's result_type, bool -> int32)."""
    return _cumulative("cumsum", x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis`, as `cumsum`."""
    return _cumulative("cumprod", x, axis, dtype)


def _cumulative(name, x, axis, dtype):
    x = _tensor(x, name)
    dt = D.result_type(D.standardize(dtype, name) if dtype is not None else x.dtype)
    dt = "int32" if dt == "bool" else dt
    if axis is None:
        x, axis = ravel(x), 0
    return scan_along(name, x, _axis(name, axis, x.ndim), dt)


def scan_along(name, x, axis, dtype):
    """Scan op `name` of tensor `x` along its (normalized) `axis`, in `dtype`."""
    if axis == x.ndim - 1:
        return _one(name, x, {"axis": axis, "dtype": dtype})
    # kernels scan the last axis: move the scanned one there and back (views)
    y = _one(name, moveaxis(x, axis, -1), {"axis": x.ndim - 1, "dtype": dtype})
    return moveaxis(y, -1, axis)


def argsort(x, axis=-1):
    """The int32 indices that sort `x` along `axis`; a library op."""
    x = _tensor(x, "argsort")
    if x.ndim == 0:
        return _cast(x, "int32") * 0
    return _one("argsort", x, {"axis": _axis("argsort", axis, x.ndim)})


def argpartition(x, kth, axis=-1):
    """Indices that partition `x` along `axis` around its `kth` element, as `np.argpartition`."""
    x = _tensor(x, "argpartition")
    a = _axis("argpartition", axis, x.ndim)
    k = _index("argpartition", kth, "kth")
    if not -x.shape[a] <= k < x.shape[a]:
        raise ValueError(f"argpartition: `kth`={k} is out of bounds for axis {a} of size "
                         f"{x.shape[a]}")
    return _one("argpartition", x, {"kth": k, "axis": a})


def top_k(x, k, sorted=True):
    """The `k` largest values of `x` along its last axis and their indices (int64),
    largest first when `sorted`; a library op."""
    x = _tensor(x, "top_k")
    k = _index("top_k", k, "k")
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: `k`={k} must be in [0, {x.shape[-1:]}] for an input of "
                         f"shape {x.shape}")
    return _results(record("top_k", [x._value], {"k": k, "sorted": bool(sorted)}))


def in_top_k(targets, predictions, k):
    """Whether each row's `targets` entry is among the `k` largest of `predictions` (bool)."""
    t = _indices("in_top_k", targets, "targets")
    p = _tensor(predictions, "in_top_k", "predictions")
    if p.ndim != 2 or t.shape != p.shape[:1]:
        raise ValueError(f"in_top_k: `predictions` must be 2-d and `targets` 1-d with one "
                         f"entry per row, got {p.shape} and {t.shape}")
    return Tensor(record("in_top_k", [t._value, p._value], {"k": _index("in_top_k", k, "k")}))


def searchsorted(sorted_sequence, values, side="left"):
    """Where `values` would be inserted into the 1-d `sorted_sequence` to keep it sorted (int32)."""
    s = _tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    v = _tensor(values, "searchsorted", "values")
    if s.ndim != 1:
        raise ValueError(f"searchsorted: only 1-d sorted sequences are supported, got shape "
                         f"{s.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: `side` must be 'left' or 'right', got {side!r}")
    return Tensor(record("searchsorted", [s._value, v._value], {"side": side}))


def digitize(x, bins):
    """The index of the bin of `bins` each element of `x` falls in (int32), as `np.digitize`."""
    x, b = _tensor(x, "digitize"), _tensor(bins, "digitize", "bins")
    if b.ndim != 1:
        raise ValueError(f"digitize: `bins` must be 1-d, got shape {b.shape}")
    return Tensor(record("digitize", [x._value, b._value]))


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each value of `x` (forced: the length is its maximum + 1)."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported")
    x = _indices("bincount", x, "x")
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: `x` must be 1-d or 2-d, got shape {x.shape}")
    data = x.numpy()
    if data.size and data.min() < 0:
        raise ValueError("bincount: `x` must be non-negative")
    length = builtins.max(int(data.max()) + 1 if data.size else 0, int(minlength))
    operands = [x._value]
    if weights is not None:
        w = _tensor(weights, "bincount", "weights")
        if w.shape != x.shape:
            raise ValueError(f"bincount: `weights` must have the shape of `x` {x.shape}, "
                             f"got {w.shape}")
        operands.append(_cast(w, D.result_type(x.dtype, w.dtype))._value)
    return forced_at_call(Tensor(record("bincount", operands, {"length": length})), "bincount")


def histogram(x, bins=10, range=None):  # noqa: A002  (keras.ops.histogram)
    """The counts of `x` (1-d) in `bins` equal bins over `range`, and the bin edges.

    Without `range` the edges depend on the data, so `x` is forced at the call."""
    x = _tensor(x, "histogram")
    if x.ndim != 1:
        raise ValueError(f"histogram: input must be 1-d, got shape {x.shape}")
    bins = _index("histogram", bins, "bins")
    if bins < 1:
        raise ValueError(f"histogram: `bins` must be positive, got {bins}")
    forced = range is None
    if forced:
        data = x.numpy()  # the edges depend on the data
        range = (float(data.min()), float(data.max())) if data.size else (0.0, 1.0)
    lo_, hi = (float(v) for v in range)
    if lo_ > hi:
        raise ValueError(f"histogram: `range` must be increasing, got {range!r}")
    out = _results(record("histogram", [x._value], {"bins": bins, "lo": lo_, "hi": hi}))
    return forced_at_call(out, "histogram") if forced else out


# ---------------------------------------------------------------- statistics

def _axes(op, axis, ndim):
    return normalize_axis(op, axis, ndim)


def median(x, axis=None, keepdims=False):
    """The median over `axis` (all axes when None), in a float dtype; a library op."""
    x = _tensor(x, "median")
    dt = D.result_type(x.dtype, float)
    return _one("median", x, {"axis": _axes("median", axis, x.ndim), "keepdims": bool(keepdims),
                              "dtype": dt})


_QUANTILE_METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                     "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                     "normal_unbiased", "lower", "higher", "midpoint", "nearest")


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles over `axis` with NumPy's `method`s, in a float dtype; a library op."""
    x = _tensor(x, "quantile")
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: unknown `method` {method!r}")
    dt = D.result_type(x.dtype, float)
    if x.dtype == "bool":
        x = _cast(x, D.FLOATX)
    qt = _tensor(q, "quantile", "q")
    qt = _cast(qt, "float64" if qt.dtype == "float64" else dt if D.is_float(qt.dtype) else "float64")
    return Tensor(record("quantile", [x._value, qt._value],
                         {"axis": _axes("quantile", axis, x.ndim), "method": method,
                          "keepdims": bool(keepdims), "dtype": dt}))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (keras.ops.norm)
    """The vector or matrix norm of `x` over `axis` (`ord` as `np.linalg.norm`),
    in a float dtype; a library op."""
    x = _tensor(x, "norm")
    dt = D.result_type(x.dtype, "float32") if not D.is_float(x.dtype) else x.dtype
    if axis is not None:
        axes = [_axis("norm", a, x.ndim) for a in (axis if isinstance(axis, (list, tuple))
                                                    else [axis])]
    else:
        axes = list(builtins.range(x.ndim)) if ord is None or x.ndim <= 2 else None
    if axes is None or len(axes) > 2 or (ord is not None and axis is None and x.ndim > 2):
        raise ValueError(f"norm: improper number of dimensions to norm (input shape {x.shape}, "
                         f"axis={axis!r}, ord={ord!r})")
    if ord is not None and ord not in ("fro", "nuc") and D.python_scalar_kind(ord) is None \
            and not isinstance(ord, (np.integer, np.floating)):
        raise ValueError(f"norm: invalid `ord` {ord!r}")
    if ord in ("fro", "nuc") and len(axes) != 2:
        raise ValueError(f"norm: ord={ord!r} needs a matrix (two axes), got axis={axis!r}")
    text = "" if ord is None else ord if isinstance(ord, str) else repr(float(ord))
    xs = _cast(x, dt)
    if axis is None and ord is None and x.ndim > 2:
        xs = reshape(xs, (x.size,))
    return Tensor(record("norm", [xs._value],
                         {"ord": text, "axis": axes if xs.ndim == x.ndim else [0],
                          "keepdims": bool(keepdims), "dtype": dt}))


def slogdet(x):
    """(sign, log|det|) of the square matrices in `x`; LAPACK through NumPy."""
    x = _tensor(x, "slogdet")
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"slogdet: input must be square matrices, got shape {x.shape}")
    if x.dtype == "float16":
        raise TypeError("slogdet: float16 is not supported (as in NumPy's linalg)")
    dt = x.dtype if D.is_float(x.dtype) else "float64"
    return _results(record("slogdet", [x._value], {"dtype": "float32" if dt == "float32" else dt}))


def _segment(op, data, segment_ids, num_segments, reduction):
    d = _tensor(data, op, "data")
    ids = _indices(op, segment_ids, "segment_ids")
    if ids.ndim != 1 or d.ndim < 1 or ids.shape[0] != d.shape[0]:
        raise ValueError(f"{op}: `segment_ids` must be 1-d with one id per row of `data`, got "
                         f"{ids.shape} and {d.shape}")
    if num_segments is None:
        vals = ids.numpy()  # the output's length is the largest id + 1
        num = int(vals.max()) + 1 if vals.size else 0
    else:
        num = _index(op, num_segments, "num_segments")
    out = Tensor(record("segment", [d._value, ids._value], {"num": num, "reduction": reduction}))
    return forced_at_call(out, op) if num_segments is None else out


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """The sums of the rows of `data` by `segment_ids`, one per segment.

    Without `num_segments` the count depends on the ids, so they are forced at
    the call."""
    return _segment("segment_sum", data, segment_ids, num_segments, "sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """The maxima of the rows of `data` by `segment_ids`, one per segment.

    Without `num_segments` the count depends on the ids, so they are forced at
    the call."""
    return _segment("segment_max", data, segment_ids, num_segments, "max")


# ---------------------------------------------------------------- fused compositions

def count_nonzero(x, axis=None):
    """The number of non-zero elements over `axis` (all axes when None), as int32; fused."""
    x = _tensor(x, "count_nonzero")
    if x.dtype in D.FLOAT8:  # nonzero-ness survives the exact widening
        x = cast(x, "float32")
    nonzero = x if x.dtype == "bool" else not_equal(x, 0)  # (a bool compared to 0 widens)
    return sum(cast(nonzero, "int32"), axis=axis)


def average(x, axis=None, weights=None):
    """The mean of `x` over `axis`, weighted by `weights` (the shape of `x`, or
    1-d along `axis`); fused."""
    x = _tensor(x, "average")
    if weights is None:
        return mean(_cast(x, D.result_type(x.dtype, float)), axis=axis)
    w = _tensor(weights, "average", "weights")
    dt = D.result_type(x.dtype, float, w.dtype)
    x, w = _cast(x, dt), _cast(w, dt)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1 or not isinstance(axis, int):
            raise ValueError(f"average: `weights` of shape {w.shape} must have the shape of `x` "
                             f"{x.shape}, or be 1-d along one `axis`")
        a = _axis("average", axis, x.ndim)
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"average: `weights` has length {w.shape[0]}, axis {a} of `x` has "
                             f"size {x.shape[a]}")
        w = reshape(w, tuple(w.shape[0] if i == a else 1 for i in builtins.range(x.ndim)))
    return sum(multiply(x, w), axis=axis) / sum(w, axis=axis)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal of `x` over `axis1` and `axis2` (shifted by `offset`); fused."""
    return sum(diagonal(_narrow(_tensor(x, "trace"), "trace"), offset, axis1, axis2), axis=-1)


def diff(a, n=1, axis=-1):
    """The `n`-th difference of `a` along `axis`, in `a`'s dtype; fused."""
    a = _tensor(a, "diff")
    ax = _axis("diff", axis, a.ndim)
    n = _index("diff", n, "n")
    if n < 0:
        raise ValueError(f"diff: order `n` must be non-negative, got {n}")
    pre = (builtins.slice(None),) * ax
    for _ in builtins.range(n):
        hi, lo_ = getitem(a, pre + (builtins.slice(1, None),)), getitem(a, pre + (builtins.slice(None, -1),))
        # in a's own dtype (np.diff): a 64-bit input stays 64-bit
        a = not_equal(hi, lo_) if a.dtype == "bool" else \
            Tensor(record("subtract", [hi._value, lo_._value]))
    return a


def outer(x1, x2):
    """The outer product of the flattened `x1` and `x2`; fused (a broadcast multiply)."""
    a, b = _pair("outer", x1, x2)
    return multiply(reshape(ravel(a), (a.size, 1)), reshape(ravel(b), (1, b.size)))


# ---------------------------------------------------------------- products

def dot(x1, x2):
    """The dot product of `x1` and `x2`, as `np.dot`; a library op (BLAS)."""
    a, b = _pair("dot", x1, x2)
    if a.ndim and b.ndim:
        k = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != k:
            raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned "
                             f"({a.shape[-1]} != {k})")
    return Tensor(record("dot", [a._value, b._value]))


def vdot(x1, x2):
    """The dot product of the flattened `x1` and `x2` (the first conjugated)."""
    a, b = _pair("vdot", x1, x2)
    if a.size != b.size:
        raise ValueError(f"vdot: inputs must have the same size, got {a.shape} and {b.shape}")
    return Tensor(record("vdot", [a._value, b._value]))


def inner(x1, x2):
    """The inner product of `x1` and `x2` over their last axes, as `np.inner`."""
    a, b = _pair("inner", x1, x2)
    if a.ndim and b.ndim and a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: last dimensions differ: {a.shape} and {b.shape}")
    return Tensor(record("inner", [a._value, b._value]))


def tensordot(x1, x2, axes=2):
    """The sum of products of `x1` and `x2` over `axes`, as `np.tensordot`."""
    a, b = _pair("tensordot", x1, x2)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: `axes`={n} is out of range for shapes {a.shape} and "
                             f"{b.shape}")
        aa, ba = list(builtins.range(a.ndim - n, a.ndim)), list(builtins.range(n))
    else:
        xa, xb = axes
        xa = [xa] if isinstance(xa, (int, np.integer)) else list(xa)
        xb = [xb] if isinstance(xb, (int, np.integer)) else list(xb)
        aa = [_axis("tensordot", v, a.ndim) for v in xa]
        ba = [_axis("tensordot", v, b.ndim) for v in xb]
    if len(aa) != len(ba) or builtins.any(a.shape[i] != b.shape[j] for i, j in zip(aa, ba)):
        raise ValueError(f"tensordot: shape mismatch for the summed axes: {a.shape} axes {aa}, "
                         f"{b.shape} axes {ba}")
    return Tensor(record("tensordot", [a._value, b._value], {"a_axes": aa, "b_axes": ba}))


def _einsum_shape(subscripts, shapes):
    sub = subscripts.replace(" ", "")
    ins, arrow, out = sub.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    dims, ell = {}, ()
    for t, s in zip(terms, shapes):
        pre, dots, post = t.partition("...")
        k = len(s) - len(pre) - len(post) if dots else 0
        if k < 0 or (not dots and len(t) != len(s)):
            raise ValueError(f"einsum: subscripts {t!r} do not fit an operand of shape {s}")
        if dots:
            ell = broadcast_shapes("einsum", [ell, s[len(pre):len(pre) + k]])
        for c, d in zip(pre + post, s[:len(pre)] + s[len(pre) + k:]):
            if not c.isalpha():
                raise ValueError(f"einsum: invalid subscript {c!r} in {subscripts!r}")
            if dims.get(c, d) != d:
                raise ValueError(f"einsum: subscript {c!r} has sizes {dims[c]} and {d}")
            dims[c] = d
    if not arrow:
        counts = collections.Counter(c for t in terms for c in t if c.isalpha())
        out = ("..." if "..." in ins else "") + "".join(sorted(c for c, n in counts.items()
                                                               if n == 1))
    pre, dots, post = out.partition("...")
    missing = [c for c in pre + post if c not in dims]
    if missing:
        raise ValueError(f"einsum: output subscript {missing[0]!r} appears in no operand")
    return tuple(dims[c] for c in pre) + (ell if dots else ()) + tuple(dims[c] for c in post)


def einsum(subscripts, *operands):
    """The Einstein summation `subscripts` of `operands`, as `np.einsum` (int8 gives int32)."""
    ts = [_tensor(x, "einsum", f"operands[{i}]") for i, x in enumerate(operands)]
    dts = {t.dtype for t in ts}
    dt = "int32" if dts == {"int8"} else D.result_type(*dts)
    shape = _einsum_shape(subscripts, [t.shape for t in ts])
    return Tensor(record("einsum", [_cast(t, dt)._value for t in ts],
                         {"subscripts": subscripts, "shape": shape}))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 2- or 3-component vectors along the given axes, as `np.cross`."""
    a, b = _pair("cross", x1, x2)
    if a.dtype == "bool":
        raise TypeError("cross: boolean inputs are not supported (as in NumPy)")
    if axis is not None:
        axisa = axisb = axisc = axis
    ia, ib = _axis("cross", axisa, a.ndim), _axis("cross", axisb, b.ndim)
    na, nb = a.shape[ia], b.shape[ib]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {na} and {nb}")
    base = list(broadcast_shapes("cross", [a.shape[:ia] + a.shape[ia + 1:],
                                           b.shape[:ib] + b.shape[ib + 1:]], ["x1", "x2"]))
    if (na, nb) != (2, 2):
        base.insert(_axis("cross", axisc, len(base) + 1), 3)
    return Tensor(record("cross", [a._value, b._value],
                         {"axisa": ia, "axisb": ib, "axisc": int(axisc), "shape": tuple(base)}))


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of the 1-d `x1` and `x2` (`mode` "valid", "same" or "full")."""
    a, b = _tensor(x1, "correlate", "x1"), _tensor(x2, "correlate", "x2")
    dt = D.result_type(a.dtype, b.dtype)
    dt = "float64" if dt == "int64" else dt if dt in ("float16", "float64") else "float32"
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"correlate: inputs must be 1-d, got {a.shape} and {b.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full', got {mode!r}")
    return Tensor(record("correlate", [_cast(a, dt)._value, _cast(b, dt)._value], {"mode": mode}))


# ---------------------------------------------------------------- data-dependent shapes

def nonzero(x):
    """Indices of the non-zero elements, one int32 tensor per axis (forces `x`:
    how many there are depends on its values)."""
    x = _tensor(x, "nonzero")
    out = tuple(convert_to_tensor(i.astype("int32")) for i in np.nonzero(x.numpy()))
    return forced_at_call(out, "nonzero")


# ---------------------------------------------------------------- gradients and helpers

def custom_gradient(f):
    """Keras's decorator for a function with its own gradient.

    `f(*args)` returns (value, grad_fn); the call gives the forward value,
    recorded as a `custom_gradient` op whose region is `grad_fn` traced on
    symbolic upstream gradients (one per output), so a later autodiff can use
    it. A `grad_fn` that cannot be traced (it forces a
    value, raises, or returns other than one gradient of each input's shape
    and dtype per tensor argument) leaves the op without a region; the
    forward value is the same either way."""
    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out = f(*args, **kwargs)
        if not isinstance(out, tuple) or len(out) != 2 or not callable(out[1]):
            raise TypeError("custom_gradient: the function must return (value, grad_fn), "
                            f"got {type(out).__name__}")
        value, grad_fn = out
        many = isinstance(value, (tuple, list))
        outputs = [_tensor(v, "custom_gradient", "value") for v in (value if many else [value])]
        inputs = [_tensor(a, "custom_gradient", "args") for a in args
                  if isinstance(a, Tensor) or inputs_of(a) is not None]
        region, captures = _gradient_region(grad_fn, args, inputs, outputs, many)
        results = record("custom_gradient",
                         [t._value for t in inputs + outputs] + captures,
                         {"inputs": len(inputs), "outputs": len(outputs)})
        results = results if isinstance(results, list) else [results]
        if region is not None:
            results[0].owner.regions = [region]
            for r in results:  # a node keys no region: such graphs key by printing
                r.node = None
        tensors = [Tensor(r) for r in results]
        return type(value)(tensors) if many else tensors[0]
    return wrapped


def _gradient_region(grad_fn, args, inputs, outputs, many):
    """(region, captures) of `grad_fn` traced on one upstream per output, or
    (None, []) where it cannot be traced."""
    def body(upstream):
        try:
            grads = grad_fn(*upstream)
        except TypeError:  # the PyTorch-style signature: grad_fn(*args, upstream)
            grads = grad_fn(*args, upstream=tuple(upstream) if many else upstream[0])
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        grads = [_tensor(g, "custom_gradient", "grad_fn's result")._value for g in grads]
        if [g.type for g in grads] != [t._value.type for t in inputs]:
            raise regions.TraceError("the gradients do not match the inputs")
        return grads
    try:
        return regions.trace(body, [t._value.type for t in outputs])
    except Exception:  # noqa: BLE001 - Keras's NumPy backend never calls grad_fn
        return None, []


def vectorize(pyfunc, *, excluded=None, signature=None):
    """np.vectorize over the forced values of tensor arguments (a Python loop)."""
    vf = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    def wrapped(*args, **kwargs):
        def value(a):
            return a.numpy() if isinstance(a, Tensor) else a
        return convert_to_tensor(vf(*[value(a) for a in args],
                                    **{k: value(v) for k, v in kwargs.items()}))
    return wrapped


def ndim(x):
    """The number of axes of `x` (an int, no forcing)."""
    return len(_tensor(x, "ndim").shape)


def size(x):
    """The number of elements of `x` (an int, no forcing)."""
    return _tensor(x, "size").size


def array(x, dtype=None):
    """A tensor of `x` in `dtype`, as `convert_to_tensor` (arrays referenced, not copied)."""
    return convert_to_tensor(x, dtype=dtype)


__all__ = ["argpartition", "argsort", "array", "average", "bincount", "correlate",
           "count_nonzero", "cross", "cumprod", "cumsum", "custom_gradient", "diff", "digitize", "dot", "einsum",
           "histogram", "in_top_k", "inner", "median", "ndim", "nonzero", "norm",
           "outer", "quantile", "searchsorted", "segment_max", "segment_sum", "size", "slogdet",
           "sort", "tensordot", "top_k", "trace", "vdot", "vectorize"]
