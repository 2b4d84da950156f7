"""Python operators and array methods of `Tensor`, attached from a table
(as JAX's `_array_operators`), so `tensor.py` imports no API module."""
from . import api
from .indexing import getitem
from .tensor import Tensor


def _bool_only(t, symbol):
    if t.dtype != "bool":
        raise TypeError(f"operator `{symbol}` on a {t.dtype} tensor: only boolean tensors "
                        "support it (logical); integer bitwise operators are not available")
    return t


# dunder name -> (API function, reflected?)
_BINARY = {
    "add": api.add, "sub": api.subtract, "mul": api.multiply, "truediv": api.divide,
    "floordiv": api.floor_divide, "mod": api.mod, "pow": api.power, "matmul": api.matmul,
}
_COMPARE = {"eq": api.equal, "ne": api.not_equal, "lt": api.less, "le": api.less_equal,
            "gt": api.greater, "ge": api.greater_equal}
# `& | ^ ~` are logical on booleans; integer bitwise ops are not recorded yet
_LOGICAL = {"and": (api.logical_and, "&"), "or": (api.logical_or, "|"),
            "xor": (api.logical_xor, "^")}



def _reflected(f):
    return lambda self, o: f(o, self)


def _logical(f, symbol, reflected):
    if reflected:
        return lambda self, o: f(o, _bool_only(self, symbol))
    return lambda self, o: f(_bool_only(self, symbol), o)


def _attach():
    for name, f in _BINARY.items():
        setattr(Tensor, f"__{name}__", f)   # f(x1, x2): self, other
        setattr(Tensor, f"__r{name}__", _reflected(f))
    for name, f in _COMPARE.items():
        setattr(Tensor, f"__{name}__", f)
    for name, (f, symbol) in _LOGICAL.items():
        setattr(Tensor, f"__{name}__", _logical(f, symbol, False))
        setattr(Tensor, f"__r{name}__", _logical(f, symbol, True))
    Tensor.__neg__ = lambda self: api.negative(self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: api.absolute(self)
    Tensor.__invert__ = lambda self: api.logical_not(_bool_only(self, "~"))
    Tensor.__getitem__ = getitem
    Tensor.T = property(lambda self: api.transpose(self))
    Tensor.astype = lambda self, dtype: api.cast(self, dtype)
    Tensor.reshape = lambda self, *shape: api.reshape(self, shape[0] if len(shape) == 1 else shape)


_attach()
