"""The lazy `Tensor` handle: metadata at once, data on demand. Operators
and array methods are attached from a table (`operators.py`)."""
import numpy as np

from .engine import evaluate_values
from .ir import dtypes as D
from .ir.core import Operation

class Tensor:
    """A lazy handle: shape and dtype are known at once, data on demand."""

    __slots__ = ("_value", "__weakref__")
    __array_priority__ = 100  # NumPy defers `ndarray op Tensor` to us

    def __init__(self, value):
        self._value = value

    # -- metadata
    @property
    def shape(self):
        return self._value.type.shape

    @property
    def dtype(self):
        return self._value.type.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return self._value.type.size

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # -- forcing
    def numpy(self):
        evaluate_values([self._value])
        return self._value.data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _scalar(self, kind):
        if self.size != 1:
            raise TypeError(f"only tensors of size 1 can be converted to Python {kind.__name__}; "
                            f"this one has shape {self.shape}")
        return kind(self.numpy().reshape(()))

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __bool__(self):
        return self._scalar(bool)

    def __index__(self):
        if D.is_float(self.dtype):
            raise TypeError("a float tensor cannot be used as an index")
        return self._scalar(int)

    @property
    def is_materialized(self):
        return self._value.data is not None

    def __repr__(self):
        shape = "x".join(map(str, self.shape)) or "scalar"
        if self._value.data is not None:
            body = np.array2string(self._value.data, separator=", ", threshold=20,
                                   prefix="lazyops.Tensor(")
            return f"lazyops.Tensor({body}, shape={self.shape}, dtype={self.dtype})"
        op = self._value.owner
        src = f", from {op.name}" if isinstance(op, Operation) else ""
        if isinstance(op, Operation) and op.loc is not None:
            src += f" at {op.loc.file}:{op.loc.line}"
        return f"lazyops.Tensor(<lazy {shape} {self.dtype}{src}>)"

    def __hash__(self):
        return id(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
