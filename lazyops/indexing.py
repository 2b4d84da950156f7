"""NumPy indexing (`t[...]`, `get_item`). Basic indices (ints, slices,
None, Ellipsis) become a `slice` view and a `reshape`. Integer arrays, lists
and integer tensors (0-d ones included) make an `index` op with NumPy's
advanced-indexing semantics; a boolean mask is forced at the call (how many
elements it selects decides the result's shape) and indexes by the positions
it selects."""
import numpy as np

from .inputs import as_array, forced_at_call
from .recording import leaf, record
from .tensor import Tensor


def _is_basic(k):
    return k is None or k is Ellipsis or isinstance(k, slice) or \
        (isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)))


def _advanced(k):
    """An index that is not basic, as an array: a boolean one stays boolean
    (a mask); None where it is no index at all."""
    if isinstance(k, Tensor):
        return k.numpy() if k.dtype == "bool" else k
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(k)
    arr = as_array(k)
    if arr is None and isinstance(k, (list, tuple)):
        try:
            arr = np.asarray(k)
        except ValueError:
            return None
    if arr is None or (arr.size and arr.dtype.kind not in "biu"):
        return None
    # an empty list is a float64 array: as NumPy, it indexes nothing
    return arr if arr.dtype.kind in "biu" else arr.astype(np.intp)


def _expand(key, shape):
    """The key as a list with Ellipsis expanded and advanced indices converted;
    boolean masks become the integer arrays of the positions they select."""
    ndim = len(shape)
    key = list(key) if isinstance(key, tuple) else [key]
    out = []
    for k in key:
        if _is_basic(k):
            out.append(k)
            continue
        a = _advanced(k)
        if a is None:
            raise IndexError(f"getitem: unsupported index {k!r} of type {type(k).__name__}; "
                             "use ints, slices, None, ..., integer arrays or boolean masks")
        is_mask = isinstance(a, np.ndarray) and a.dtype == np.bool_
        out.append(_ZeroDimMask(bool(a)) if is_mask and a.ndim == 0 else
                   _Mask(a) if is_mask else a)
    consumed = sum(_consumes(k) for k in out)
    if sum(1 for k in out if k is Ellipsis) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"getitem: too many indices ({consumed}) for a tensor of rank {ndim}")
    full, dim = [], 0
    for k in out:
        if k is Ellipsis:
            full.extend([slice(None)] * (ndim - consumed))
            dim += ndim - consumed
        elif isinstance(k, _Mask):
            covered = shape[dim:dim + k.a.ndim]
            if covered != k.a.shape:
                raise IndexError(f"getitem: a boolean mask of shape {k.a.shape} does not match "
                                 f"the indexed axes {dim}..{dim + k.a.ndim - 1} of shape {covered}")
            full.extend(np.nonzero(k.a))
            dim += k.a.ndim
        else:
            full.append(k)
            dim += _consumes(k)
    full.extend([slice(None)] * (ndim - dim))
    return full


def _consumes(k):
    """How many axes of the input index `k` walks."""
    if isinstance(k, _Mask):
        return k.a.ndim
    return int(k is not None and k is not Ellipsis and not isinstance(k, _ZeroDimMask))


class _Mask:
    """A boolean mask (at least 1-d): the positions it selects index its axes."""

    def __init__(self, a):
        self.a = a


class _ZeroDimMask:
    """x[True] / x[False]: a new axis of length 1 or 0, as in NumPy."""

    def __init__(self, value):
        self.value = value


def getitem(t, key):
    basic = _basic_key(key)
    if basic is not None:  # ints, slices, None and ... seen before on this type
        steps = _BASIC.get((t._value.type.key, basic))
        if steps is not None:
            v = t._value
            for name, attrs in steps:
                v = record(name, [v], attrs)
            return Tensor(v)
    full = _expand(key, t.shape)
    masks = [k for k in full if isinstance(k, _ZeroDimMask)]
    if masks:
        if len(masks) > 1 or not all(_is_basic(k) and not isinstance(k, (int, np.integer))
                                     for k in full if k is not masks[0]):
            # beside ints or arrays NumPy takes it as an advanced index (placement rules)
            raise IndexError("getitem: a 0-d boolean index is supported beside slices, None "
                             "and ... only")
        at = full.index(masks[0])
        pos = at
        r = _basic(t, [None if k is masks[0] else k for k in full])
        if masks[0].value:
            return r
        return _basic(r, [slice(None)] * pos + [slice(0, 0)] + [slice(None)] * (r.ndim - pos - 1))
    if all(_is_basic(k) for k in full):
        return _basic(t, full, basic)
    out = _gather(t, full)
    return forced_at_call(out, "getitem (boolean mask)") if _has_mask(key) else out


def _has_mask(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, Tensor) and k.dtype == "bool" or
               isinstance(k, np.ndarray) and k.dtype == np.bool_ for k in parts)


# (type key, `_basic_key`) -> the (op, attributes) steps of a basic index
_BASIC = {}


def _basic_key(key):
    """A basic index as a hashable key (slices as their triples), or None
    where it is not one of ints, slices (of ints), None and ...."""
    out = []
    for k in key if type(key) is tuple else (key,):
        tk = type(k)
        if tk is slice:
            if not all(type(b) is int or b is None for b in (k.start, k.stop, k.step)):
                return None
            out.append((k.start, k.stop, k.step))
        elif tk is int or k is None or k is Ellipsis:
            out.append(k)
        else:
            return None
    return tuple(out)


def _basic(t, full, basic=None):
    shape = t.shape
    starts, stops, steps, new_shape = [], [], [], []
    dim = 0
    for k in full:
        if k is None:
            new_shape.append(1)
            continue
        n = shape[dim]
        if isinstance(k, (int, np.integer)):
            i = int(k)
            if not -n <= i < n:
                raise IndexError(f"getitem: index {i} is out of bounds for axis {dim} with size {n}")
            i %= n
            starts.append(i), stops.append(i + 1), steps.append(1)
        else:
            a, b, s = k.indices(n)
            starts.append(a), stops.append(b), steps.append(s)
            new_shape.append(len(range(a, b, s)))
        dim += 1
    v = t._value
    done = []
    if (starts, stops, steps) != ([0] * len(shape), list(shape), [1] * len(shape)):
        done.append(("slice", {"start": tuple(starts), "stop": tuple(stops), "step": tuple(steps)}))
        v = record("slice", [v], done[-1][1])
    if tuple(new_shape) != v.type.shape:
        done.append(("reshape", {"shape": tuple(new_shape)}))
        v = record("reshape", [v], done[-1][1])
    if basic is not None:
        if len(_BASIC) >= 4096:
            _BASIC.clear()
        _BASIC[t._value.type.key, basic] = done
    return Tensor(v)


def _gather(t, full):
    """An `index` op: the key's structure as text, its arrays as operands."""
    parts, operands, arrays = [], [t._value], []
    dim = 0
    for k in full:
        if k is None:
            parts.append("n")
            continue
        n = t.shape[dim]
        if isinstance(k, slice):
            parts.append("s" + ":".join("" if v is None else str(int(v))
                                        for v in (k.start, k.stop, k.step)))
        elif isinstance(k, (int, np.integer)):
            i = int(k)
            if not -n <= i < n:
                raise IndexError(f"getitem: index {i} is out of bounds for axis {dim} with size {n}")
            parts.append(f"i{i}")
        else:
            if isinstance(k, Tensor):
                if k.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64"):
                    raise IndexError(f"getitem: index tensors must be integers, got {k.dtype}")
                v = k._value
            else:
                if k.dtype.kind not in "iu":
                    raise IndexError(f"getitem: index arrays must be integers, got {k.dtype}")
                if k.size:
                    lo_, hi = int(k.min()), int(k.max())
                    if lo_ < -n or hi >= n:
                        bad = hi if hi >= n else lo_
                        raise IndexError(f"getitem: index {bad} is out of bounds for axis "
                                         f"{dim} with size {n}")
                v = leaf(np.array(k, dtype=np.int64 if k.dtype.kind == "u" and k.itemsize >= 8
                                  else k.dtype))
            parts.append("a")
            operands.append(v)
            arrays.append(v.type.shape)
        dim += 1
    try:
        np.broadcast_shapes(*arrays)
    except ValueError:
        raise IndexError(f"getitem: index arrays of shapes {', '.join(map(str, arrays))} cannot "
                         "be broadcast together") from None
    return Tensor(record("index", operands, {"key": ";".join(parts)}))
