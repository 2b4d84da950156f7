"""Result buffers: large kernel outputs come from a pool of memory that
earlier results gave back when the last array viewing them died.

Fresh memory from the operating system is zeroed page by page on first
write: writing 40 MB into a new buffer took 7.6 ms where the same kernel
took 3.3 ms into a used one. A pipeline in a loop makes a result of the same
size each time and drops the last one, so its buffers come back here and are
handed out again, as JAX's and PyTorch's caching allocators do.

An array handed out views a `_Lease`, an object exposing the memory through
`__array_interface__`: NumPy makes the lease the base of every view of the
array, so the memory returns to the pool only when no view is left.
"""
import functools
import threading

import numpy as np

MIN_BYTES = 1 << 20  # smaller results: NumPy's allocator recycles them well
# Pooled buffers start on a cache line: NumPy's large arrays start 16 bytes
# past one, so every 64-byte vector store straddles two lines (a kernel's
# stores took 2-4% longer)
_ALIGN = 64
_pool = {}  # nbytes -> [uint8 buffers]
_lock = threading.Lock()
_held = [0]  # bytes the pool holds
_limit = [512 << 20]  # bytes the pool may hold (the `pool_bytes` setting)


class _Lease:
    """One pooled buffer lent out as an array of `shape` and `dtype`."""

    __slots__ = ("raw", "__array_interface__", "__weakref__")

    def __init__(self, raw, shape, dtype):
        self.raw = raw
        self.__array_interface__ = {
            "data": (raw.__array_interface__["data"][0], False), "shape": tuple(shape),
            "typestr": dtype.str, "descr": dtype.descr, "version": 3}

    def __del__(self):
        _give_back(self.raw)


def empty(shape, dtype):
    """A new array of `shape` and `dtype`, its memory pooled when large."""
    dtype = np.dtype(dtype)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    nbytes = dtype.itemsize
    for s in shape:
        nbytes *= s
    if nbytes < MIN_BYTES or dtype.hasobject or dtype.fields is not None:
        return np.empty(shape, dtype)
    raw = None
    with _lock:
        free = _pool.get(nbytes)
        if free:
            raw = free.pop()
            _held[0] -= nbytes
    if raw is None:
        big = np.empty(nbytes + _ALIGN, np.uint8)
        start = -big.__array_interface__["data"][0] % _ALIGN
        raw = big[start:start + nbytes]  # (a view: `big` lives as long as it)
    return np.asarray(_Lease(raw, shape, dtype))


def maker(shape, dtype):
    """A function of no arguments making new arrays of `shape` and `dtype`
    as `empty` does, with nothing in between for small ones."""
    dtype = np.dtype(dtype)
    if dtype.itemsize * int(np.prod(shape, dtype=np.int64)) < MIN_BYTES:
        return functools.partial(np.empty, shape, dtype)
    return functools.partial(empty, shape, dtype)


def is_fresh(a):
    """Whether `a` is a whole buffer `empty` handed out (or NumPy's own)."""
    return a.base is None or (type(a.base) is _Lease and a.base.__array_interface__["shape"]
                              == a.shape and a.base.raw.size == a.nbytes)


def _give_back(raw):
    if _pool is None or _lock is None:  # interpreter shutdown
        return
    with _lock:
        if _held[0] + raw.size > _limit[0]:
            return
        _pool.setdefault(raw.size, []).append(raw)
        _held[0] += raw.size


def set_limit(nbytes):
    """Hold at most `nbytes` of buffers from now on (the largest go first)."""
    with _lock:
        _limit[0] = nbytes
        for size in sorted(_pool, reverse=True):
            while _held[0] > nbytes and _pool[size]:
                _pool[size].pop()
                _held[0] -= size


def clear():
    """Drop every pooled buffer (the memory goes back to the system)."""
    with _lock:
        _pool.clear()
        _held[0] = 0


def info():
    """(buffers, bytes) the pool holds."""
    with _lock:
        return sum(map(len, _pool.values())), _held[0]
