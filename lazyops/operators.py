"""Python operators, array methods and NumPy's dispatch protocols of `Tensor`,
attached from tables (as JAX's `_array_operators`), so `tensor.py` imports
no API module. Each method is a thin alias of the registered function of its
name, with NumPy's method signature."""
from . import api, api_library, api_shape, protocols
from .indexing import getitem
from .tensor import Tensor

# dunder name -> API function; `__rname__` is the same with operands swapped
_BINARY = {
    "add": api.add, "sub": api.subtract, "mul": api.multiply, "truediv": api.divide,
    "floordiv": api.floor_divide, "mod": api.mod, "pow": api.power, "matmul": api.matmul,
    # as in NumPy: logical on booleans, bitwise on integers, refused on floats
    "and": api.bitwise_and, "or": api.bitwise_or, "xor": api.bitwise_xor,
}
_COMPARE = {"eq": api.equal, "ne": api.not_equal, "lt": api.less, "le": api.less_equal,
            "gt": api.greater, "ge": api.greater_equal}
_UNARY = {"neg": api.negative, "abs": api.absolute, "invert": api.bitwise_invert}

# method -> (API function, the NumPy method's leading positional parameters it
# takes; the others are keywords: `t.sum(0, keepdims=True)`, as `a.sum` has
# `dtype` and `out` second and third)
_METHODS = {
    **{name: (getattr(api, name), ("axis",)) for name in
       ("sum", "mean", "max", "min", "std", "var", "argmax", "argmin", "any", "all")},
    "prod": (api.prod, ("axis", "dtype")),
    "cumsum": (api_library.cumsum, ("axis", "dtype")),
    "cumprod": (api_library.cumprod, ("axis", "dtype")),
    "argsort": (api_library.argsort, ("axis",)),
    "squeeze": (api.squeeze, ("axis",)),
    "astype": (api.cast, ("dtype",)),
    "round": (api.round, ("decimals",)),
    "clip": (api.clip, ("x_min", "x_max")),
    "ravel": (api_shape.ravel, ()),
    "copy": (api_shape.copy, ()),
    "dot": (api_library.dot, ("x2",)),
    "swapaxes": (api_shape.swapaxes, ("axis1", "axis2")),
    "diagonal": (api_shape.diagonal, ("offset", "axis1", "axis2")),
    "trace": (api_library.trace, ("offset", "axis1", "axis2")),
    "repeat": (api_shape.repeat, ("repeats", "axis")),
    "take": (api_shape.take, ("indices", "axis")),
}
# NumPy's method keyword -> the API function's parameter
_KEYWORDS = {"clip": {"min": "x_min", "max": "x_max"}}


def _method(name, f, positional):
    keywords = _KEYWORDS.get(name, {})

    def method(self, *args, **kwargs):
        if len(args) > len(positional):
            raise TypeError(f"Tensor.{name}() takes at most {len(positional)} positional "
                            f"arguments ({', '.join(positional) or 'none'}), got {len(args)}")
        kwargs = {keywords.get(k, k): v for k, v in kwargs.items()}
        return f(self, **dict(zip(positional, args)), **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"`{f.__name__}(self, ...)` with NumPy's `ndarray.{name}` signature."
    return method


def _shape_args(args):
    """`t.reshape(2, 3)` and `t.reshape((2, 3))` alike (so `transpose`)."""
    return args[0] if len(args) == 1 else args


def reshape(self, *shape):
    return api.reshape(self, _shape_args(shape))


def transpose(self, *axes):
    return api.transpose(self, _shape_args(axes) if axes else None)


def flatten(self):
    """A copy as one axis (ravel's value; lazily the same view)."""
    return api_shape.ravel(self)


def item(self, *args):
    """A Python scalar (forces), as `ndarray.item`."""
    return self.numpy().item(*args)


def tolist(self):
    """Nested Python lists (forces), as `ndarray.tolist`."""
    return self.numpy().tolist()


def _reflected(f):
    return lambda self, o: f(o, self)


def _attach():
    for name, f in _BINARY.items():
        setattr(Tensor, f"__{name}__", f)   # f(x1, x2): self, other
        setattr(Tensor, f"__r{name}__", _reflected(f))
    for name, f in _COMPARE.items():
        setattr(Tensor, f"__{name}__", f)
    for name, f in _UNARY.items():
        setattr(Tensor, f"__{name}__", f)
    Tensor.__pos__ = lambda self: self
    Tensor.__getitem__ = getitem
    Tensor.__copy__ = lambda self: api_shape.copy(self)  # its own buffer, as ndarray's
    for name, (f, positional) in _METHODS.items():
        setattr(Tensor, name, _method(name, f, positional))
    for f in (reshape, transpose, flatten, item, tolist):
        setattr(Tensor, f.__name__, f)
    Tensor.T = property(lambda self: api.transpose(self))
    Tensor.__array_ufunc__ = protocols.array_ufunc
    Tensor.__array_function__ = protocols.array_function


_attach()
