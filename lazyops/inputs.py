"""User arrays as graph inputs: referenced, not copied.

An array given to an op or to `convert_to_tensor` becomes a leaf that holds
the array itself (strided, transposed and Fortran-ordered ones included), so
a graph reads the input when it is forced, as Dask does: writing into the
array before then changes the result. With `check_inputs` on (or
`LAZYOPS_DEBUG`), each referenced array is checksummed when recorded and
verified when a graph reading it is forced; so is the array of a forced
tensor when it is handed to the user (`Tensor.numpy()`, `np.asarray`,
`evaluate`), since the user may write into it (see `watch`).
"""
import collections
import weakref
import zlib

import numpy as np

from . import config
from .recording import leaf, user_location

# leaf Value -> (checksum, where it was recorded or handed out, "input" or "result")
_WATCHED = weakref.WeakKeyDictionary()
# id(array) -> its leaf, while some graph holds the leaf (which holds the
# array, so the id cannot be reused meanwhile): the same array passed to
# several ops is one graph input, read once by a fused kernel.
_LEAVES = {}  # id(array) -> weak reference to its leaf; dead ones are swept in bulk
_SWEEP = [1 << 12]  # sweep the dead references past this many entries
# The leaves of the latest small arrays stay alive after their graphs are
# forced, so a pipeline called again on the same small arrays (where
# recording costs as much as computing) finds them: at most _RECENT.maxlen
# arrays of at most _SMALL bytes each are kept from being freed meanwhile.
_RECENT = collections.deque(maxlen=16)
_SMALL = 1 << 16


def _sweep():
    for key in [k for k, ref in _LEAVES.items() if ref() is None]:
        del _LEAVES[key]
    _SWEEP[0] = max(1 << 12, 2 * len(_LEAVES))


def as_array(x):
    """`x` as an ndarray sharing its memory where it exposes one (NumPy
    arrays, `__array_interface__`, the buffer protocol, `__dlpack__`); None
    for anything else (Python scalars and lists)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (str, bytes, bytearray, np.generic)):
        return None
    if isinstance(x, memoryview) or hasattr(x, "__array_interface__") \
            or hasattr(x, "__array_struct__"):
        return np.asarray(x)
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x)
        except (BufferError, TypeError, RuntimeError, ValueError):
            pass  # not on the host: its own conversion below
    if hasattr(x, "__array__"):
        return np.asarray(x)
    return None


def referencable(a):
    """Kernels read native-endian, aligned buffers as they are."""
    return a.dtype.isnative and a.flags.aligned


def leaf_of(a, kept=None):
    """The leaf referencing ndarray `a`: its live one where one exists and
    no checksum is due (it was checked when made), else a new one (see
    `reference`); None where `a` is unaligned. With `kept` (dtypes): None
    too for anything but an ndarray of one of them."""
    if kept is not None and (type(a) is not np.ndarray or a.dtype not in kept):
        return None
    ref = _LEAVES.get(id(a))
    if ref is not None:
        v = ref()
        if v is not None and v.data is a and not config.SETTINGS["check_inputs"]:
            return v
    return reference(a) if a.flags.aligned else None


def reference(a):
    """The leaf holding the user's array `a` itself."""
    key = id(a)
    ref = _LEAVES.get(key)
    v = None if ref is None else ref()
    if v is None or v.data is not a:
        v = leaf(a)
        if a.nbytes <= _SMALL and not config.SETTINGS["check_inputs"]:
            _RECENT.append(v)  # (checked inputs are checksummed at each recording)
        if len(_LEAVES) > _SWEEP[0]:
            _sweep()
        # no callback: a dead reference is replaced or swept, more cheaply
        # than a callback per leaf would remove it
        _LEAVES[key] = weakref.ref(v)
    if config.SETTINGS["check_inputs"]:
        now, entry = _checksum(a), _WATCHED.get(v)
        if entry is not None and entry[0] != now:
            # written since that leaf was recorded: the graphs reading it
            # still find the write when forced; this recording reads anew
            v = leaf(a)
            _LEAVES[key] = weakref.ref(v)
        if v not in _WATCHED:
            _WATCHED[v] = (now, user_location(), "input")
    return v


def watch(v):
    """Checksum the buffer of materialized value `v` as its array is handed
    to the user, who may write into it: a graph reading `v` verifies it
    before it runs. The first hand-out counts (a later one may follow a
    write), as the first recording of an input array does."""
    if v not in _WATCHED:
        ref = _LEAVES.get(id(v.data))
        what = "input" if ref is not None and ref() is v else "result"
        _WATCHED[v] = (_checksum(v.data), user_location(), what)


def _checksum(a):
    return zlib.crc32(np.ascontiguousarray(a).reshape(-1).view(np.uint8))


def verify(leaves):
    """Raise if a referenced input changed since it was recorded."""
    for i, v in enumerate(leaves):
        entry = _WATCHED.get(v)
        if entry is None or _checksum(v.data) == entry[0]:
            continue
        checksum, loc, what = entry
        array = f"a {v.type.dtype} array of shape {v.type.shape}"
        if what == "input":
            where, snapshot = "recorded", "the input with `convert_to_tensor(x, copy=True)`"
        else:
            array, where, snapshot = (f"{array}, a forced tensor's value", "handed out",
                                      "a copy to write into (`t.numpy().copy()`)")
        at = f" ({where} at {loc.file}:{loc.line})" if loc else ""
        raise RuntimeError(
            f"lazyops: input {i} of this graph, {array}{at}, was written to after it was "
            f"{where} and before this graph was forced. Graphs read their inputs when "
            "forced, not when recorded: force the results that read it before writing "
            f"(`.numpy()`, `lazyops.evaluate`), or take {snapshot}.")


# values a function computed by reading data at its call (the output's shape
# depends on it) -> (function name, location): explain() lists them
FORCED_AT_CALL = weakref.WeakKeyDictionary()


def forced_at_call(tensors, op):
    """Note that `op` read data at the call to make `tensors` (see explain)."""
    loc = user_location(2)
    for t in tensors if isinstance(tensors, (tuple, list)) else [tensors]:
        FORCED_AT_CALL[t._value] = (op, loc)
    return tensors
