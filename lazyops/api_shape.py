"""keras.ops shape, indexing and creation functions built on the view ops
(reshape, transpose, broadcast_to, slice, diagonal, windows), masks from
`arange` (fused elementwise work), and the library ops of `ir/ops_shape.py`."""
import builtins
import operator

import numpy as np

from .api import (_cast, _narrow, _shape_arg, _tensor, arange, broadcast_to,
                  convert_to_tensor, expand_dims, full, reshape, transpose, zeros, zeros_like)
from .indexing import getitem
from .inputs import as_array, forced_at_call
from .ir import dtypes as D
from .ir.shapes import broadcast_shapes, normalize_axis
from .recording import leaf, record
from .tensor import Tensor


def _axis(op, axis, ndim):
    """One axis (an int), normalized."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{op}: `axis` must be an int, got {axis!r}")
    return normalize_axis(op, int(axis), ndim)[0]


def _along(op, x, axis):
    """(x, axis) for a function along one axis, NumPy-style: `axis=None`
    works on the flattened x."""
    if axis is None:
        return ravel(x), 0
    return x, _axis(op, axis, x.ndim)


def _in_order(op, axes, ndim, arg):
    """Axes normalized in the order given (an int or a sequence), none repeated."""
    seq = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    out = [normalize_axis(op, a, ndim, arg)[0] for a in seq]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in `{arg}`={axes!r}")
    return out


def _index(op, v, what):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{op}: `{what}` must be an int, got {v!r}") from None


# ---------------------------------------------------------------- views

def moveaxis(x, source, destination):
    """`x` with axes `source` moved to positions `destination`: a view."""
    x = _tensor(x, "moveaxis")
    src = _in_order("moveaxis", source, x.ndim, "source")
    dst = _in_order("moveaxis", destination, x.ndim, "destination")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: `source` and `destination` must have the same number of "
                         f"elements, got {source!r} and {destination!r}")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(x, axis1, axis2):
    """`x` with axes `axis1` and `axis2` exchanged: a view."""
    x = _tensor(x, "swapaxes")
    a, b = _axis("swapaxes", axis1, x.ndim), _axis("swapaxes", axis2, x.ndim)
    perm = list(range(x.ndim))
    perm[a], perm[b] = b, a
    return transpose(x, perm)


def flip(x, axis=None):
    """`x` with the order of elements reversed along `axis` (all axes when None): a view."""
    x = _tensor(x, "flip")
    axes = range(x.ndim) if axis is None else normalize_axis("flip", axis, x.ndim)
    key = tuple(builtins.slice(None, None, -1) if i in axes else builtins.slice(None) for i in range(x.ndim))
    return getitem(x, key)


def ravel(x):
    """`x` flattened to one axis, in C order: a view."""
    x = _tensor(x, "ravel")
    return reshape(x, (x.size,))


def copy(x):
    """A tensor of `x`'s values now, with a buffer of its own.

    A NumPy array is copied (later writes into it do not change the tensor); a
    tensor's copy gets a buffer of its own, since results are writable (a lazy
    one's is an identity cast: passes remove it, the force gives the copy its
    own buffer)."""
    if isinstance(x, Tensor):
        if x.is_materialized:
            return Tensor(leaf(x._value.data.copy()))
        return Tensor(record("cast", [x._value], {"dtype": x._value.type.dtype}))
    if isinstance(x, np.ndarray) and (x.dtype in (np.float64, np.int64)
                                      or x.dtype.name in D.FLOAT8):
        return Tensor(leaf(x.copy()))  # Keras keeps a NumPy array's dtype here (np.copy)
    return convert_to_tensor(x, copy=True)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of `x` over `axis1` and `axis2` (shifted by `offset`): a view,
    the diagonal's axis last."""
    x = _tensor(x, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"diagonal: input must be at least 2-d, got shape {x.shape}")
    a, b = _axis("diagonal", axis1, x.ndim), _axis("diagonal", axis2, x.ndim)
    if a == b:
        raise ValueError(f"diagonal: `axis1` and `axis2` cannot be the same axis ({a})")
    attrs = {"offset": _index("diagonal", offset, "offset"), "axis1": a, "axis2": b}
    return Tensor(record("diagonal", [x._value], attrs))


def extract_sequences(x, sequence_length, sequence_stride):
    """Windows of `sequence_length` along the last axis, every `sequence_stride`
    elements: shape `(..., num_windows, sequence_length)`, a view."""
    x = _tensor(x, "extract_sequences")
    n, s = (_index("extract_sequences", v, w) for v, w in
            ((sequence_length, "sequence_length"), (sequence_stride, "sequence_stride")))
    if x.ndim < 1 or n < 1 or s < 1 or n > x.shape[-1]:
        raise ValueError(f"extract_sequences: need sequence_length in [1, {x.shape[-1:]}] and "
                         f"sequence_stride >= 1 on an input of rank >= 1, got "
                         f"{sequence_length}, {sequence_stride} and shape {x.shape}")
    return Tensor(record("windows", [x._value], {"length": n, "stride": s}))


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-d tensors, as `np.meshgrid` (`indexing` "xy" or
    "ij"): a list of broadcast views."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij', got {indexing!r}")
    xs = [ravel(_tensor(a, "meshgrid")) for a in x]
    shape = [t.size for t in xs]
    if indexing == "xy" and len(xs) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(xs):
        pos = (1 - i if i < 2 else i) if indexing == "xy" and len(xs) > 1 else i
        view = [1] * len(xs)
        view[pos] = t.size
        out.append(broadcast_to(reshape(t, view), shape))
    return out


def get_item(x, key):
    """`x[key]` with NumPy indexing (ints, slices, None, Ellipsis, integer and boolean arrays)."""
    return getitem(_tensor(x, "get_item"), key)


# ---------------------------------------------------------------- masks

def _tri_mask(op, n, m, k, upper):
    """A (n, m) bool mask: j - i >= k (upper) or j - i <= k."""
    k = _index(op, k, "k")
    d = arange(m, dtype="int32")[None, :] - arange(n, dtype="int32")[:, None]
    return d >= k if upper else d <= k


def _masked(mask, x, other):
    """where(mask, x, other) in x's dtype (other has it): no promotion, so a
    64-bit x stays 64-bit as in NumPy."""
    return Tensor(record("where", [mask._value, x._value, other._value]))


def tril(x, k=0):
    """`x` with the elements above diagonal `k` of its last two axes set to 0."""
    x = _tensor(x, "tril")
    if x.ndim < 2:
        raise ValueError(f"tril: input must be at least 2-d, got shape {x.shape}")
    return _masked(_tri_mask("tril", *x.shape[-2:], k, False), x, zeros_like(x))


def triu(x, k=0):
    """`x` with the elements below diagonal `k` of its last two axes set to 0."""
    x = _tensor(x, "triu")
    if x.ndim < 2:
        raise ValueError(f"triu: input must be at least 2-d, got shape {x.shape}")
    return _masked(_tri_mask("triu", *x.shape[-2:], k, True), x, zeros_like(x))


def _creation_dtype(op, dtype):
    return D.standardize(dtype, op) if dtype is not None else D.FLOATX


def tri(N, M=None, k=0, dtype=None):
    """An `N` x `M` tensor of ones at and below diagonal `k`, zeros above, in
    `dtype` (float32 by default)."""
    n = _index("tri", N, "N")
    m = n if M is None else _index("tri", M, "M")
    return _cast(_tri_mask("tri", n, m, k, False), _creation_dtype("tri", dtype))


def eye(N, M=None, k=0, dtype=None):
    """An `N` x `M` tensor of ones on diagonal `k`, zeros elsewhere, in `dtype`
    (float32 by default)."""
    n = _index("eye", N, "N")
    m = n if M is None else _index("eye", M, "M")
    k = _index("eye", k, "k")
    d = arange(m, dtype="int32")[None, :] - arange(n, dtype="int32")[:, None]
    return _cast(d == k, _creation_dtype("eye", dtype))


def identity(n, dtype=None):
    """The `n` x `n` identity matrix, in `dtype` (float32 by default)."""
    return eye(n, dtype=dtype)


def empty(shape, dtype=None):
    """Keras's `empty` (uninitialized in NumPy): zeros here."""
    return zeros(_shape_arg("empty", shape), _creation_dtype("empty", dtype))


def diag(x, k=0):
    """The diagonal `k` of a 2-d `x` (a view), or a 2-d tensor with the 1-d `x` on
    diagonal `k` and zeros elsewhere."""
    x = _tensor(x, "diag")
    k = _index("diag", k, "k")
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: input must be 1-d or 2-d, got shape {x.shape}")
    n = x.shape[0] + builtins.abs(k)
    xp = pad(x, [(0, builtins.abs(k))]) if k else x
    values = xp[:, None] if k >= 0 else xp[None, :]
    d = arange(n, dtype="int32")[None, :] - arange(n, dtype="int32")[:, None]
    return _masked(d == k, broadcast_to(values, (n, n)), zeros((n, n), x.dtype))


# ---------------------------------------------------------------- library ops

def _common(op, xs, names):
    """Tensors of `xs` in the dtype Keras gives them together (64-bit ones
    narrowed first, outside KEEPS_64: `append` converts them)."""
    ts = [_narrow(_tensor(a, op, n), op) for a, n in zip(xs, names)]
    dts = {t.dtype for t in ts}
    dt = D.result_type(*dts) if len(dts) > 1 else ts[0].dtype
    return [_cast(t, dt) for t in ts]


def concatenate(xs, axis=0):
    """The tensors of `xs` joined along an existing `axis`, in their common dtype.

    Fuses with the elementwise work computing the pieces and reading the result."""
    xs = list(xs)
    if not xs:
        raise ValueError("concatenate: need at least one tensor")
    ts = _common("concatenate", xs, [f"xs[{i}]" for i in range(len(xs))])
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    a = _axis("concatenate", axis, nd)
    for i, t in enumerate(ts):
        if t.ndim != nd or builtins.any(d != e for j, (d, e) in enumerate(zip(t.shape, ts[0].shape))
                                        if j != a):
            raise ValueError(f"concatenate: xs[{i}] has shape {t.shape}, which does not match "
                             f"xs[0]'s {ts[0].shape} outside axis {a}")
    if len(ts) == 1:
        return ts[0]
    return Tensor(record("concatenate", [t._value for t in ts], {"axis": a}))


def stack(x, axis=0):
    """The tensors of `x` (one shape) joined along a new `axis`, in their common dtype."""
    xs = list(x)
    if not xs:
        raise ValueError("stack: need at least one tensor")
    ts = _common("stack", xs, [f"x[{i}]" for i in range(len(xs))])
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: all tensors must have one shape; x[{i}] has {t.shape}, "
                             f"x[0] has {ts[0].shape}")
    a = _axis("stack", axis, ts[0].ndim + 1)
    return concatenate([expand_dims(t, a) for t in ts], axis=a)


def vstack(xs):
    """The tensors of `xs` joined along the first axis (1-d ones as rows)."""
    ts = _common("vstack", list(xs), [f"xs[{i}]" for i in range(len(xs))])
    return concatenate([reshape(t, (1, -1)) if t.ndim < 2 else t for t in ts], axis=0)


def append(x1, x2, axis=None):
    """`x2` appended to `x1` along `axis` (both flattened when None)."""
    a, b = _common("append", [x1, x2], ["x1", "x2"])
    if axis is None:
        return concatenate([ravel(a), ravel(b)], axis=0)
    return concatenate([a, b], axis=axis)


def split(x, indices_or_sections, axis=0):
    """`x` cut along `axis` into `indices_or_sections` equal parts, or at the given
    indices: a list of views."""
    x = _tensor(x, "split")
    a = _axis("split", axis, x.ndim)
    n = x.shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: {k} sections do not divide axis {a} of size {n} equally")
        bounds = [n // k * i for i in range(k + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i) + (n if i < 0 else 0), 0), n)
                        for i in indices_or_sections] + [n]
    pre = (builtins.slice(None),) * a
    return [getitem(x, pre + (builtins.slice(lo, builtins.max(lo, hi)),))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def unstack(x, num=None, axis=0):
    """The slices of `x` along `axis`, as a list of views (`num`, if given, is checked)."""
    x = _tensor(x, "unstack")
    a = _axis("unstack", axis, x.ndim)
    if num is not None and num != x.shape[a]:
        raise ValueError(f"unstack: `num`={num} does not match axis {a} of size {x.shape[a]}")
    pre = (builtins.slice(None),) * a
    return [getitem(x, pre + (i,)) for i in range(x.shape[a])]


def roll(x, shift, axis=None):
    """`x` with its elements shifted by `shift` along `axis` (of the flattened `x`
    when None), wrapping around."""
    x = _tensor(x, "roll")
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts = [shift] if isinstance(shift, (int, np.integer)) else list(shift)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: `shift` and `axis` must have the same length, got {shift!r} "
                         f"and {axis!r}")
    for s, ax in zip(shifts, axes):
        a = _axis("roll", ax, x.ndim)
        n = x.shape[a]
        s = int(s) % n if n else 0
        if s:
            pre = (builtins.slice(None),) * a
            x = concatenate([getitem(x, pre + (builtins.slice(n - s, None),)),
                             getitem(x, pre + (builtins.slice(0, n - s),))], axis=a)
    return x


def tile(x, repeats):
    """`x` repeated `repeats` times along each axis (a broadcast view, reshaped)."""
    x = _tensor(x, "tile")
    reps = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    if builtins.any(not isinstance(r, (int, np.integer)) or r < 0 for r in reps):
        raise ValueError(f"tile: `repeats` must be non-negative ints, got {repeats!r}")
    nd = builtins.max(x.ndim, len(reps))
    shape = (1,) * (nd - x.ndim) + x.shape
    reps = (1,) * (nd - len(reps)) + reps
    inter = [v for d in shape for v in (1, d)]
    full = [v for r, d in zip(reps, shape) for v in (int(r), d)]
    return reshape(broadcast_to(reshape(x, inter), full),
                   tuple(int(r) * d for r, d in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    """Each element of `x` repeated `repeats` times along `axis` (of the flattened
    `x` when None).

    One count is a view (broadcast and reshape); per-element counts are a library
    op, and a tensor of counts is forced at the call (the output's shape depends
    on it)."""
    x = _tensor(x, "repeat")
    x, a = _along("repeat", x, axis)
    if isinstance(repeats, (int, np.integer)):
        reps = [int(repeats)]
    else:
        # the output's shape depends on the counts: a lazy tensor of counts is forced here
        arr = repeats.numpy() if isinstance(repeats, Tensor) else as_array(repeats)
        reps = [int(v) for v in np.asarray(repeats if arr is None else arr).reshape(-1)]
        if len(reps) not in (1, x.shape[a]) or builtins.any(r < 0 for r in reps):
            raise ValueError(f"repeat: `repeats` must be one or {x.shape[a]} non-negative ints "
                             f"(axis {a}), got {repeats!r}")
    if len(set(reps)) == 1:  # one count: an index map (each element broadcast k times)
        k, shape = reps[0], x.shape
        out = reshape(broadcast_to(reshape(x, shape[:a + 1] + (1,) + shape[a + 1:]),
                                   shape[:a + 1] + (k,) + shape[a + 1:]),
                      shape[:a] + (shape[a] * k,) + shape[a + 1:])
    else:
        out = Tensor(record("repeat", [x._value], {"repeats": reps, "axis": a}))
    return forced_at_call(out, "repeat") if isinstance(repeats, Tensor) else out


_PAD_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
              "reflect", "symmetric", "wrap", "empty")


def pad(x, pad_width, mode="constant", constant_values=None):
    """`x` padded by `pad_width` with NumPy's `mode`s ("constant" with
    `constant_values`, "edge", "reflect", ...). The constant mode with one
    value is a concatenation with blocks of that value along each padded
    axis; "edge", "wrap", "reflect" and "symmetric", where each pad is at
    most one reflection (or copy) of the axis, are concatenations of views
    of `x` (slices, flips, a broadcast edge). Both fuse with the work around
    them; other modes are a library op between kernels."""
    x = _tensor(x, "pad")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown `mode` {mode!r}; one of {', '.join(_PAD_MODES)}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: `constant_values` can only be given when mode == 'constant', "
                         f"got mode={mode!r}")
    try:
        pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: `pad_width` {pad_width!r} does not fit an input of rank "
                         f"{x.ndim}") from None
    if (pairs < 0).any():
        raise ValueError(f"pad: `pad_width` must be non-negative, got {pad_width!r}")
    value = None if constant_values is None else np.asarray(constant_values).astype(x.dtype)
    if mode == "constant" and (value is None or value.ndim == 0) \
            and not D.is_complex(x.dtype) and x.dtype not in D.FLOAT8:
        fill = 0 if value is None else value
        for a in reversed(range(x.ndim)):  # the last axis innermost: outer blocks are whole rows
            blocks = [full(x.shape[:a] + (int(w),) + x.shape[a + 1:], fill, x.dtype, "pad")
                      if w else None for w in pairs[a]]
            parts = [p for p in (blocks[0], x, blocks[1]) if p is not None]
            x = concatenate(parts, axis=a) if len(parts) > 1 else x
        return x
    if mode in _VIEW_MODES and not D.is_complex(x.dtype) and x.dtype not in D.FLOAT8 \
            and builtins.all(_pad_views(mode, x.shape[a], *pairs[a]) for a in range(x.ndim)):
        return _padded(x, 0, [_pad_views(mode, x.shape[a], *pairs[a]) for a in range(x.ndim)])
    operands = [x._value]
    if value is not None:
        operands.append(leaf(value))
    return Tensor(record("pad", operands, {"widths": [int(v) for v in pairs.reshape(-1)],
                                           "mode": mode}))


_VIEW_MODES = ("edge", "wrap", "reflect", "symmetric")


def _padded(y, a, views):
    """`y` padded along axes a.. by `views` (see `_pad_views`): a block of
    views of `y` per combination of left, middle and right along those
    axes, as nested concatenations (outer axes outside), so that each block
    is one view of the input (its work fuses) and each concatenation a
    piece of the next."""
    if a == len(views):
        return y
    parts = [_padded(p, a + 1, views) for p in views[a](y, a) if p is not None]
    return concatenate(parts, axis=a) if len(parts) > 1 else parts[0]


def _pad_views(mode, n, lo, hi):
    """For a pad of `lo` and `hi` elements on an axis of `n` in `mode`: a
    function of (x, axis) giving [left block or None, x, right block or
    None] as views of x, where each block is one slice of x (flipped for
    the reflections); None where NumPy's pad repeats its pattern (a pad
    longer than one reflection, or an empty axis)."""
    lo, hi = int(lo), int(hi)
    if mode == "edge":
        spans = n >= 1 and ((0, 1), (n - 1, n))
    elif mode == "wrap":
        spans = lo <= n and hi <= n and ((n - lo, n), (0, hi))
    elif mode == "symmetric":
        spans = lo <= n and hi <= n and ((0, lo), (n - hi, n))
    else:  # reflect: the edge element is not repeated
        spans = lo <= n - 1 and hi <= n - 1 and ((1, lo + 1), (n - 1 - hi, n - 1))
    if not (lo or hi):
        return lambda x, a: [None, x, None]
    if not spans:
        return None
    flipped = mode in ("reflect", "symmetric")

    def block(x, a, span, width):
        if not width:
            return None
        b = getitem(x, (builtins.slice(None),) * a + (builtins.slice(*span),))
        if mode == "edge":
            return broadcast_to(b, x.shape[:a] + (width,) + x.shape[a + 1:])
        return flip(b, a) if flipped else b
    return lambda x, a: [block(x, a, spans[0], lo), x, block(x, a, spans[1], hi)]


def _indices(op, indices, arg="indices"):
    t = _tensor(indices, op, arg)
    if not D.is_int(t.dtype):
        raise TypeError(f"{op}: `{arg}` must be integers, got {t.dtype}")
    return t


def take(x, indices, axis=None):
    """The elements of `x` at `indices` along `axis` (of the flattened `x` when None).

    A library op; an index out of range raises `IndexError` when forced."""
    x = _tensor(x, "take")
    i = _indices("take", indices)
    x, a = _along("take", x, axis)
    return Tensor(record("take", [x._value, i._value], {"axis": a}))


def take_along_axis(x, indices, axis=None):
    """The elements of `x` at `indices` (of `x`'s rank) along `axis`, as `np.take_along_axis`."""
    x = _tensor(x, "take_along_axis")
    i = _indices("take_along_axis", indices)
    x, a = _along("take_along_axis", x, axis)
    if i.ndim != x.ndim:
        raise ValueError(f"take_along_axis: `indices` must have the rank of `x` ({x.ndim}), "
                         f"got shape {i.shape}")
    broadcast_shapes("take_along_axis",
                     [tuple(1 if k == a else d for k, d in enumerate(t.shape)) for t in (x, i)],
                     ["x", "indices"])
    return Tensor(record("take_along_axis", [x._value, i._value], {"axis": a}))


def _starts(op, start_indices, ndim):
    t = _indices(op, start_indices, "start_indices")
    if t.size != ndim:
        raise ValueError(f"{op}: `start_indices` needs one start per axis ({ndim}), got {t.size}")
    return t


def slice(inputs, start_indices, shape):  # noqa: A001  (keras.ops.slice)
    """The block of `inputs` of `shape` starting at `start_indices`.

    Static in-range starts make a view; tensor starts a library op."""
    x = _tensor(inputs, "slice", "inputs")
    shp = _shape_arg("slice", shape)
    if len(shp) != x.ndim:
        raise ValueError(f"slice: `shape` {shp} must have the rank of `inputs` ({x.ndim})")
    static = as_array(start_indices) if not isinstance(start_indices, Tensor) else None
    if static is None and isinstance(start_indices, (list, tuple)) and builtins.all(
            isinstance(s, (int, np.integer)) for s in start_indices):
        static = np.asarray(start_indices)
    if static is not None and static.size != x.ndim:
        raise ValueError(f"slice: `start_indices` needs one start per axis ({x.ndim}), got "
                         f"{static.size}")
    if static is not None and builtins.all(
            0 <= s and s + n <= d for s, n, d in zip(static.reshape(-1), shp, x.shape)):
        return getitem(x, tuple(builtins.slice(int(s), int(s) + n)
                                for s, n in zip(static.reshape(-1), shp)))
    starts = _starts("slice", start_indices, x.ndim)
    return Tensor(record("slice_at", [x._value, starts._value], {"shape": shp}))


def slice_update(inputs, start_indices, updates):
    """`inputs` with the block at `start_indices` replaced by `updates` (a new tensor)."""
    x = _tensor(inputs, "slice_update", "inputs")
    u = _cast(_tensor(updates, "slice_update", "updates"), x.dtype)
    if u.ndim != x.ndim:
        raise ValueError(f"slice_update: `updates` must have the rank of `inputs` ({x.ndim}), "
                         f"got shape {u.shape}")
    starts = _starts("slice_update", start_indices, x.ndim)
    return Tensor(record("slice_update", [x._value, starts._value, u._value]))


def scatter(indices, values, shape):
    """A zero tensor of `shape` with `values` added at `indices` (duplicates add up)."""
    i = _indices("scatter", indices)
    v = _tensor(values, "scatter", "values")
    shp = _shape_arg("scatter", shape)
    k = i.shape[-1] if i.ndim else 0
    if i.ndim < 1 or k > len(shp) or v.shape != i.shape[:-1] + shp[k:]:
        raise ValueError(f"scatter: `indices` {i.shape} and `values` {v.shape} do not fit "
                         f"`shape` {shp}: values must have shape indices.shape[:-1] + "
                         f"shape[indices.shape[-1]:]")
    return Tensor(record("scatter", [i._value, v._value], {"shape": shp}))


def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (a new tensor); `reduction`
    ("add", "max", "min", "mul") combines instead of replacing."""
    x = _tensor(inputs, "scatter_update", "inputs")
    i = _indices("scatter_update", indices)
    u = _cast(_tensor(updates, "scatter_update", "updates"), x.dtype)
    if reduction not in (None, "add", "max", "min", "mul"):
        raise ValueError(f"scatter_update: unsupported `reduction` {reduction!r}; one of "
                         "None, 'add', 'max', 'min', 'mul'")
    k = i.shape[-1] if i.ndim else 0
    if i.ndim < 1 or k > x.ndim or u.shape != i.shape[:-1] + x.shape[k:]:
        raise ValueError(f"scatter_update: `indices` {i.shape} and `updates` {u.shape} do not "
                         f"fit `inputs` {x.shape}")
    return Tensor(record("scatter_update", [x._value, i._value, u._value],
                         {"reduction": reduction or ""}))


def _space(op, start, stop, num, endpoint, dtype, axis, base):
    num = _index(op, num, "num")
    if num < 0:
        raise ValueError(f"{op}: `num` must be non-negative, got {num}")
    kinds = [getattr(v, "dtype", None) or D.python_scalar_kind(v) or type(v) for v in (start, stop)]
    dt = D.standardize(dtype, op) if dtype is not None else D.result_type(
        *[k if isinstance(k, type) else D.standardize(str(k)) for k in kinds], float)
    ends = [v._value if isinstance(v, Tensor) else leaf(np.asarray(v)) for v in (start, stop)]
    nd = len(np.broadcast_shapes(*[e.type.shape for e in ends]))
    return Tensor(record("linspace", ends, {"num": num, "endpoint": bool(endpoint),
                                            "axis": _axis(op, axis, nd + 1), "dtype": dt,
                                            "base": base}))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` (included unless
    `endpoint=False`), as `np.linspace`; `retstep=True` is not supported."""
    if retstep:
        raise ValueError("linspace: `retstep=True` is not supported (the step is "
                         "(stop - start) / (num - 1))")
    return _space("linspace", start, stop, num, endpoint, dtype, axis, 0)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """`base ** linspace(start, stop, num)`, as `np.logspace`."""
    if not base:
        raise ValueError("logspace: `base` must be non-zero")
    return _space("logspace", start, stop, num, endpoint, dtype, axis, base)
