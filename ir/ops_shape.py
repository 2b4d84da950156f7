"""Shape and data-movement ops beyond reshape, transpose, broadcast_to and
slice. Views (diagonal, sliding windows) are index maps applied at launch,
as the others are; `concatenate` is piecewise (each element is one
operand's: it fuses with the work around it, see `codegen/pieces.py`); the
library ops (pad in modes other than constant, repeat, gathers and
scatters, linspace) are kernel boundaries that NumPy computes."""
import numpy as np

from .ops import _reg
from .registry import LIBRARY, PIECEWISE, VIEW
from .shapes import broadcast_shapes
from .types import TensorType


def _diagonal_shape(shape, offset, axis1, axis2):
    n1, n2 = shape[axis1], shape[axis2]
    n = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    return tuple(d for i, d in enumerate(shape) if i not in (axis1, axis2)) + (n,)


_reg("diagonal", [VIEW], 1, attrs={"offset": "int", "axis1": "int", "axis2": "int"},
     infer=lambda types, attrs: [TensorType(_diagonal_shape(types[0].shape, **attrs),
                                            types[0].dtype)],
     reference=lambda x, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2))


def _windows_shape(shape, length, stride):
    return shape[:-1] + ((shape[-1] - (length - stride)) // stride, length)


def _windows_ref(x, length, stride):
    shape = _windows_shape(x.shape, length, stride)
    strides = x.strides[:-1] + (stride * x.strides[-1], x.strides[-1])
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


# extract_sequences: frames of `length` elements every `stride` along the last axis
_reg("windows", [VIEW], 1, attrs={"length": "int", "stride": "int"},
     infer=lambda types, attrs: [TensorType(_windows_shape(types[0].shape, **attrs),
                                            types[0].dtype)],
     reference=_windows_ref)


def _concat_infer(types, attrs):
    axis = attrs["axis"]
    shape = list(types[0].shape)
    shape[axis] = sum(t.shape[axis] for t in types)
    return [TensorType(tuple(shape), types[0].dtype)]


def _concat_pieces(types, attrs):
    axis = attrs["axis"]
    offsets = np.cumsum([0] + [t.shape[axis] for t in types[:-1]])
    return axis, [int(o) for o in offsets]


_reg("concatenate", [PIECEWISE], None, attrs={"axis": "int"}, infer=_concat_infer,
     pieces=_concat_pieces, reference=lambda *xs, axis: np.concatenate(xs, axis=axis))


def _pad_ref(x, *value, widths, mode):
    pairs = list(zip(widths[::2], widths[1::2]))
    kw = {"constant_values": value[0]} if value else {}
    return np.pad(x, pairs, mode=mode, **kw)


# pad(x[, value]): widths are (before, after) pairs, flattened; the front end
# records the constant mode as concatenations, which fuse
_reg("pad", [LIBRARY], None, attrs={"widths": "ints", "mode": "str"},
     infer=lambda types, attrs: [TensorType(
         tuple(d + a + b for d, a, b in zip(types[0].shape, attrs["widths"][::2],
                                            attrs["widths"][1::2])), types[0].dtype)],
     reference=_pad_ref)


def _repeat_infer(types, attrs):
    shape, r, axis = list(types[0].shape), attrs["repeats"], attrs["axis"]
    shape[axis] = shape[axis] * r[0] if len(r) == 1 else sum(r)
    return [TensorType(tuple(shape), types[0].dtype)]


_reg("repeat", [LIBRARY], 1, attrs={"repeats": "ints", "axis": "int"}, infer=_repeat_infer,
     reference=lambda x, repeats, axis: np.repeat(
         x, repeats[0] if len(repeats) == 1 else repeats, axis=axis))


def _checked(op, f):
    """`f` with NumPy's IndexError re-raised naming the op: indices come from data."""
    def ref(*args, **attrs):
        try:
            return f(*args, **attrs)
        except IndexError as e:
            raise IndexError(f"{op}: an index in the data is out of range: {e}") from None
    return ref


def _take_infer(types, attrs):
    x, i = types
    a = attrs["axis"]
    return [TensorType(x.shape[:a] + i.shape + x.shape[a + 1:], x.dtype)]


_reg("take", [LIBRARY], 2, attrs={"axis": "int"}, infer=_take_infer,
     reference=_checked("take", lambda x, i, axis: np.take(x, i, axis=axis)))


def _along_infer(types, attrs):
    x, i = types
    shape = tuple(max(a, b) if k != attrs["axis"] else b
                  for k, (a, b) in enumerate(zip(x.shape, i.shape)))
    return [TensorType(shape, x.dtype)]


_reg("take_along_axis", [LIBRARY], 2, attrs={"axis": "int"}, infer=_along_infer,
     reference=_checked("take_along_axis",
                        lambda x, i, axis: np.take_along_axis(x, i, axis=axis)))


def _index_parts(key):
    """The parts of an `index` op's key text: "n" (None), "s<start>:<stop>:<step>",
    "i<int>", "a" (the next index array operand)."""
    return key.split(";") if key else []


def _index_shape(types, key):
    """NumPy's advanced indexing: the index arrays (and ints beside them)
    broadcast together; their shape replaces them where they are adjacent,
    else it goes first."""
    x, arrays = types[0].shape, [t.shape for t in types[1:]]
    out, adv_at, adv_parts, dim = [], None, [], 0
    for j, p in enumerate(_index_parts(key)):
        if p == "n":
            out.append(1)
            continue
        if p[0] == "s":
            a, b, c = (int(v) if v else None for v in p[1:].split(":"))
            out.append(len(range(*slice(a, b, c).indices(x[dim]))))
        else:
            adv_at = len(out) if adv_at is None else adv_at
            adv_parts.append(j)
        dim += 1
    b = broadcast_shapes("getitem", arrays + [()]) if arrays else ()
    if adv_parts and adv_parts[-1] - adv_parts[0] == len(adv_parts) - 1:
        return tuple(out[:adv_at]) + b + tuple(out[adv_at:])
    return b + tuple(out)


def _index_ref(x, *arrays, key):
    it = iter(arrays)
    k = []
    for p in _index_parts(key):
        if p == "n":
            k.append(None)
        elif p[0] == "s":
            k.append(slice(*(int(v) if v else None for v in p[1:].split(":"))))
        elif p[0] == "i":
            k.append(int(p[1:]))
        else:
            k.append(next(it))
    return x[tuple(k)]


_reg("index", [LIBRARY], None, attrs={"key": "str"},
     infer=lambda types, attrs: [TensorType(_index_shape(types, attrs["key"]), types[0].dtype)],
     reference=_checked("getitem", _index_ref))


def _ix(starts, shape):
    return np.ix_(*[np.arange(s, s + n) for s, n in zip(starts.reshape(-1), shape)])


# keras.ops.slice / slice_update: a block at start indices given as data
_reg("slice_at", [LIBRARY], 2, attrs={"shape": "ints"},
     infer=lambda types, attrs: [TensorType(tuple(attrs["shape"]), types[0].dtype)],
     reference=_checked("slice", lambda x, starts, shape: x[_ix(starts, shape)]))


def _slice_update_ref(x, starts, updates):
    out = x.copy()
    out[_ix(starts, updates.shape)] = updates
    return out


_reg("slice_update", [LIBRARY], 3, infer=lambda types, attrs: [types[0]],
     reference=_checked("slice_update", _slice_update_ref))


def _scatter_ref(indices, values, shape):
    out = np.zeros(shape, values.dtype)
    k = indices.shape[-1]
    np.add.at(out, tuple(indices.reshape(-1, k).T),
              values.reshape((-1,) + tuple(shape[k:])))
    return out


_reg("scatter", [LIBRARY], 2, attrs={"shape": "ints"},
     infer=lambda types, attrs: [TensorType(tuple(attrs["shape"]), types[1].dtype)],
     reference=_checked("scatter", _scatter_ref))

_SCATTER_UPDATE = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}


def _scatter_update_ref(x, indices, updates, reduction):
    out = x.copy()
    idx = tuple(np.asarray(indices).T)
    if reduction:
        _SCATTER_UPDATE[reduction].at(out, idx, updates)
    else:
        out[idx] = updates
    return out


_reg("scatter_update", [LIBRARY], 3, attrs={"reduction": "str"},
     infer=lambda types, attrs: [types[0]],
     reference=_checked("scatter_update", _scatter_update_ref))


def _space_infer(types, attrs):
    shape = list(np.broadcast_shapes(*[t.shape for t in types]))
    shape.insert(attrs["axis"] % (len(shape) + 1), attrs["num"])
    return [TensorType(tuple(shape), attrs["dtype"])]


def _linspace_ref(start, stop, num, endpoint, axis, dtype, base):
    if base:
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    return np.linspace(start, stop, num, endpoint, dtype=dtype, axis=axis)


# linspace and logspace (base != 0) between start and stop operands
_reg("linspace", [LIBRARY], 2, attrs={"num": "int", "endpoint": "bool", "axis": "int",
                                      "dtype": "dtype", "base": "scalar"},
     infer=_space_infer, reference=_linspace_ref)
