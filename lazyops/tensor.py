"""The lazy `Tensor` handle and recording of operations."""
import os
import sys

import numpy as np

from .ir import dtypes as D
from .ir.core import Location, Operation, Value
from .ir.registry import lookup
from .ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG_DIR, d) + os.sep for d in ("lazyops", "ir", "scheduler", "codegen"))


def _user_location():
    """File and line of the first caller frame outside lazyops."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_INTERNAL):
        f = f.f_back
    if f is None:
        return None
    return Location(os.path.basename(f.f_code.co_filename), f.f_lineno)


def record(name, operands, attrs=None, result_types=None):
    """Record a detached operation; returns the result Value(s)."""
    d = lookup(name)
    attrs = dict(attrs or {})
    if result_types is None:
        result_types = d.infer([v.type for v in operands], attrs)
    op = Operation(d.full_name, operands, result_types, attrs, loc=_user_location())
    return op.results[0] if len(op.results) == 1 else op.results


def leaf(array):
    """A Value holding a materialized buffer."""
    return Value(TensorType(array.shape, array.dtype.name), data=array)


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
        from .engine import evaluate_values
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

    # -- operators
    def __add__(self, o): return _api().add(self, o)
    def __radd__(self, o): return _api().add(o, self)
    def __sub__(self, o): return _api().subtract(self, o)
    def __rsub__(self, o): return _api().subtract(o, self)
    def __mul__(self, o): return _api().multiply(self, o)
    def __rmul__(self, o): return _api().multiply(o, self)
    def __truediv__(self, o): return _api().divide(self, o)
    def __rtruediv__(self, o): return _api().divide(o, self)
    def __floordiv__(self, o): return _api().floor_divide(self, o)
    def __rfloordiv__(self, o): return _api().floor_divide(o, self)
    def __mod__(self, o): return _api().mod(self, o)
    def __rmod__(self, o): return _api().mod(o, self)
    def __pow__(self, o): return _api().power(self, o)
    def __rpow__(self, o): return _api().power(o, self)
    def __matmul__(self, o): return _api().matmul(self, o)
    def __rmatmul__(self, o): return _api().matmul(o, self)
    def __neg__(self): return _api().negative(self)
    def __pos__(self): return self
    def __abs__(self): return _api().absolute(self)
    # `~ & | ^` are logical on booleans; integer bitwise ops are not recorded yet
    def __invert__(self): return _api().logical_not(_bool_only(self, "~"))
    def __and__(self, o): return _api().logical_and(_bool_only(self, "&"), o)
    def __rand__(self, o): return _api().logical_and(o, _bool_only(self, "&"))
    def __or__(self, o): return _api().logical_or(_bool_only(self, "|"), o)
    def __ror__(self, o): return _api().logical_or(o, _bool_only(self, "|"))
    def __xor__(self, o): return _api().logical_xor(_bool_only(self, "^"), o)
    def __rxor__(self, o): return _api().logical_xor(o, _bool_only(self, "^"))
    def __eq__(self, o): return _api().equal(self, o)
    def __ne__(self, o): return _api().not_equal(self, o)
    def __lt__(self, o): return _api().less(self, o)
    def __le__(self, o): return _api().less_equal(self, o)
    def __gt__(self, o): return _api().greater(self, o)
    def __ge__(self, o): return _api().greater_equal(self, o)

    def __getitem__(self, key):
        from .indexing import getitem
        return getitem(self, key)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def T(self):
        return _api().transpose(self)

    def astype(self, dtype):
        return _api().cast(self, dtype)

    def reshape(self, *shape):
        return _api().reshape(self, shape[0] if len(shape) == 1 else shape)


def _bool_only(t, symbol):
    if t.dtype != "bool":
        raise TypeError(f"operator `{symbol}` on a {t.dtype} tensor: only boolean tensors "
                        "support it (logical); integer bitwise operators are not available")
    return t


def _api():
    from . import api
    return api
