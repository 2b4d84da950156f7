"""Tensor types: a static shape and a dtype."""
import itertools

from . import dtypes

_KEYS = {}  # (shape, dtype) -> key (see TensorType)
_next_key = itertools.count().__next__


class TensorType:
    """`tensor<4x8xf32>`: an immutable shape (tuple of ints) and a Keras dtype
    name. A plain slotted class: types are created for every recorded op.
    `key`: a small int naming the (shape, dtype) pair in this process, which
    hot caches hash instead of the pair (equal keys mean equal types)."""

    __slots__ = ("shape", "dtype", "key")

    def __init__(self, shape, dtype):
        if type(shape) is not tuple or not all(type(d) is int for d in shape):
            shape = tuple(int(d) for d in shape)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", dtype)
        key = _KEYS.get((shape, dtype))
        if key is None:
            if len(_KEYS) >= 1 << 16:
                _KEYS.clear()  # keys are never reused: a type made later gets a new one
            key = _KEYS[shape, dtype] = _next_key()
        object.__setattr__(self, "key", key)

    def __setattr__(self, name, value):
        raise AttributeError("TensorType is immutable")

    def __eq__(self, other):
        return (isinstance(other, TensorType) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"TensorType(shape={self.shape}, dtype={self.dtype!r})"

    @property
    def rank(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self):
        return self.size * dtypes.itemsize(self.dtype)

    def __str__(self):
        dims = "".join(f"{d}x" for d in self.shape)
        return f"tensor<{dims}{dtypes.SHORT[self.dtype]}>"

    def with_dtype(self, dtype):
        return TensorType(self.shape, dtype)
