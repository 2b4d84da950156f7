"""Recording: each API call becomes a detached operation with its result
types inferred at once and the user's source location."""
import os
import sys

from .ir.core import Location, Operation, Value
from .ir.registry import lookup
from .ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG_DIR, d) + os.sep for d in ("lazyops", "ir", "scheduler", "codegen"))


_files = {}  # code object -> its file's base name, or None inside lazyops


def user_location():
    """File and line of the first caller frame outside lazyops."""
    f = sys._getframe(1)
    while f is not None:
        code = f.f_code
        try:
            name = _files[code]
        except KeyError:
            path = code.co_filename
            name = _files[code] = None if path.startswith(_INTERNAL) else os.path.basename(path)
        if name is not None:
            return Location(name, f.f_lineno)
        f = f.f_back
    return None


_inferred = {}  # (op, operand types, attributes) -> result types


def record(name, operands, attrs=None, result_types=None):
    """Record a detached operation; returns the result Value(s)."""
    d = lookup(name)
    attrs = dict(attrs or {})
    if result_types is None:
        types = tuple(v.type for v in operands)
        try:
            key = (d.name, types, tuple(attrs.items()))
            result_types = _inferred.get(key)
        except TypeError:  # unhashable attributes (lists)
            key = None
        if result_types is None:
            result_types = d.infer(list(types), attrs)
            if key is not None and len(_inferred) < 1 << 16:
                _inferred[key] = result_types
    op = Operation(d.full_name, operands, result_types, attrs, loc=user_location())
    return op.results[0] if len(op.results) == 1 else op.results


_names = {}  # NumPy dtype -> its name (dtype.name is slow)


def leaf(array):
    """A Value holding a materialized buffer."""
    dt = array.dtype
    name = _names.get(dt) or _names.setdefault(dt, dt.name)
    return Value(TensorType(array.shape, name), data=array)
