"""Basic indexing (`t[...]`): ints, slices, None and Ellipsis become a
`slice` view followed by a `reshape`."""
import numpy as np

from .recording import record
from .tensor import Tensor


def _normalize_key(key, shape):
    key = key if isinstance(key, tuple) else (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(f"getitem: too many indices ({n_real}) for a tensor of rank {len(shape)}")
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (len(shape) - n_real))
        else:
            out.append(k)
    out.extend([slice(None)] * (len(shape) - sum(1 for k in out if k is not None)))
    return out


def getitem(t, key):
    shape = t.shape
    starts, stops, steps, new_shape = [], [], [], []
    dim = 0
    for k in _normalize_key(key, shape):
        if k is None:
            new_shape.append(1)
            continue
        n = shape[dim]
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            i = int(k)
            if not -n <= i < n:
                raise IndexError(f"getitem: index {i} is out of bounds for axis {dim} with size {n}")
            i %= n
            starts.append(i), stops.append(i + 1), steps.append(1)
        elif isinstance(k, slice):
            a, b, s = k.indices(n)
            starts.append(a), stops.append(b), steps.append(s)
            new_shape.append(len(range(a, b, s)))
        else:
            raise IndexError(f"getitem: unsupported index {k!r} of type {type(k).__name__}; "
                             "only ints, slices, None and ... are supported")
        dim += 1
    v = t._value
    if (starts, stops, steps) != ([0] * len(shape), list(shape), [1] * len(shape)):
        v = record("slice", [v], {"start": tuple(starts), "stop": tuple(stops), "step": tuple(steps)})
    if tuple(new_shape) != v.type.shape:
        v = record("reshape", [v], {"shape": tuple(new_shape)})
    return Tensor(v)
