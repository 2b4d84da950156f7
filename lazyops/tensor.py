"""The lazy `Tensor` handle: metadata at once, data on demand. Operators,
array methods and NumPy's dispatch protocols are attached from tables
(`operators.py`, `protocols.py`).

A forced tensor's array is handed to the user as it is (`numpy()`,
`np.asarray`, `evaluate`): writable and shared with the tensor, as
`torch.Tensor.numpy()` is, so a write into it changes the tensor's value and
what later forces of graphs reading it compute. With `check_inputs` on, a
handed-out array is checksummed and verified before each graph that reads it
runs (`inputs.watch`), as input arrays are.
"""
import html

import numpy as np

from . import config, inputs
from .engine import evaluate_values, launched
from .ir import dtypes as D
from .ir.core import Operation
from .recording import check_not_traced, leaf


class DType(str):
    """A tensor's dtype: its Keras name, a `str` (so code comparing it with
    names keeps working, with `str`'s hash), that also equals the NumPy dtype
    and scalar type it stands for: `t.dtype == np.float32` as for an array."""

    __slots__ = ()

    def __eq__(self, other):
        if isinstance(other, str):
            return str.__eq__(self, other)
        if isinstance(other, (np.dtype, type)):
            try:
                return self.numpy == np.dtype(other)
            except TypeError:  # a type NumPy has no dtype for
                return False
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = str.__hash__

    @property
    def numpy(self):
        """The NumPy dtype."""
        return np.dtype(str(self))

    def __getattr__(self, name):
        """The NumPy dtype's attributes: `t.dtype.kind`, `.itemsize`, `.name`."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.numpy, name)


_DTYPES = {}  # Keras name -> its DType


def _dtype(name):
    d = _DTYPES.get(name)
    if d is None:
        d = _DTYPES[name] = DType(name)
    return d


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
        return _DTYPES.get(self._value.type.dtype) or _dtype(self._value.type.dtype)

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
        """The value as a NumPy array: forced if needed, writable, and shared
        with the tensor (writing into it changes the tensor)."""
        v = self._value
        if v.data is None and not launched(v):
            evaluate_values([v])
        if config.SETTINGS["check_inputs"]:
            inputs.watch(v)
        return v.data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def _scalar(self, kind):
        check_not_traced(self._value, kind.__name__)
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

    def __format__(self, spec):
        """`f"{loss:.4f}"` on a size-1 tensor formats its value (forcing it)."""
        if not spec:
            return repr(self)
        if self.size != 1:
            raise TypeError(f"format spec {spec!r} on a tensor of shape {self.shape}: only "
                            "size-1 tensors take one (format `t.numpy()` elementwise instead)")
        return format(self.numpy().reshape(())[()], spec)

    # -- pickling: a tensor is its value (forced), as a materialized tensor
    def __reduce__(self):
        return _materialized, (self.numpy(),)

    def __deepcopy__(self, memo):
        return _materialized(self.numpy().copy())

    @property
    def is_materialized(self):
        return self._value.data is not None

    def _source(self):
        """'lazy.exp at model.py:12' for a lazy tensor, '' for a materialized one."""
        op = self._value.owner
        if not isinstance(op, Operation):
            return ""
        return op.name + (f" at {op.loc.file}:{op.loc.line}" if op.loc is not None else "")

    def __repr__(self):
        if self._value.data is not None:
            body = np.array2string(self._value.data, separator=", ", threshold=20,
                                   prefix="lazyops.Tensor(")
            return f"lazyops.Tensor({body}, shape={self.shape}, dtype={self.dtype})"
        shape = "x".join(map(str, self.shape)) or "scalar"
        src = self._source()
        return (f"lazyops.Tensor(<lazy {shape} {self.dtype}{', from ' + src if src else ''}: "
                "not computed yet; .numpy() computes it, lazyops.explain(t) shows how>)")

    def _repr_html_(self):
        """Jupyter: a small table, with the values once materialized."""
        rows = [("shape", self.shape), ("dtype", self.dtype)]
        if self._value.data is None:
            rows += [("state", "lazy (.numpy() computes it, lazyops.explain(t) shows how)"),
                     ("from", self._source() or "-")]
        else:
            rows.append(("state", "materialized"))
        cells = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(str(v))}</td>"
                        "</tr>" for k, v in rows)
        table = f"<table><caption>lazyops.Tensor</caption>{cells}</table>"
        if self._value.data is None:
            return table
        values = np.array2string(self._value.data, separator=", ", threshold=200)
        return f"{table}<pre>{html.escape(values)}</pre>"

    def __hash__(self):
        return id(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class WeakInt(Tensor):
    """A traced int32 0-d index standing for the Python int Keras passes
    (`fori_loop`'s body gets Python ints): in type promotion it is weak, as
    a Python int is (an int8 carry plus the index stays int8); `casts` notes
    the dtypes it was cast into, which the loop checks hold its indices."""

    __slots__ = ("casts",)

    def __init__(self, value):
        super().__init__(value)
        self.casts = set()


class ArrayArg(Tensor):
    """A NumPy array argument of a function `lazyops.function` traces, as a
    tensor of the array's own dtype: ops take it as they take the array
    (they narrow both alike), and `convert_to_tensor` converts it as it
    converts the array (float64 to float32 where no dtype is given)."""

    __slots__ = ()


def _materialized(array):
    """A tensor holding `array` (unpickling, deepcopy)."""
    return Tensor(leaf(array))
