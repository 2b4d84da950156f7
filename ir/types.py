"""Tensor types: a static shape and a dtype."""
from dataclasses import dataclass

from . import dtypes


@dataclass(frozen=True)
class TensorType:
    shape: tuple
    dtype: str  # Keras name, e.g. "float32"

    def __post_init__(self):
        if type(self.shape) is not tuple or not all(type(d) is int for d in self.shape):
            object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))

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
