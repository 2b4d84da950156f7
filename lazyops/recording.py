"""Recording: each API call becomes a detached operation with its result
types inferred at once and the user's source location."""
import os
import sys

from .ir.core import Location, Operation, Value, signature
from .ir.registry import lookup
from .ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG_DIR, d) + os.sep for d in ("lazyops", "ir", "scheduler", "codegen"))


_files = {}  # code object -> its file's base name, or None inside lazyops


def user_location(depth=1):
    """File and line of the first caller frame outside lazyops, looking from
    the frame `depth` levels above the caller."""
    f = sys._getframe(depth)
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


# (op, then each operand's shape and dtype, then attribute items) ->
# (full name, result types, signature)
_inferred = {}


def record(name, operands, attrs=None, result_types=None):
    """Record a detached operation; returns the result Value(s)."""
    attrs = dict(attrs) if attrs else {}
    sig = None
    if result_types is None:
        try:
            key = (name, *[x for v in operands for x in (v.type.shape, v.type.dtype)],
                   *attrs.items())
            full, result_types, sig = _inferred[key]
        except TypeError:  # unhashable attributes (lists)
            full, result_types, sig = _infer(name, operands, attrs)
        except KeyError:
            if len(_inferred) > 1 << 16:
                _inferred.clear()
            full, result_types, sig = _inferred[key] = _infer(name, operands, attrs)
    else:
        full = lookup(name).full_name
    op = Operation.detached(full, list(operands), result_types, attrs, user_location(2), sig)
    return op.results[0] if len(op.results) == 1 else op.results


def record_binary(name, a, b, depth):
    """`record(name, [a, b])` for an op without attributes whose types were
    inferred before (the hot path of operators); None when they were not.
    `depth`: `sys._getframe(depth)` here is where the user's code should be."""
    ta, tb = a.type, b.type
    entry = _inferred.get((name, ta.shape, ta.dtype, tb.shape, tb.dtype))
    if entry is None:
        return None
    return Operation.detached(entry[0], [a, b], entry[1], {}, user_location(depth + 1),
                              entry[2]).results[0]


def _infer(name, operands, attrs):
    d = lookup(name)
    types = d.infer([v.type for v in operands], attrs)
    return d.full_name, types, signature(d.full_name, attrs, types)


_names = {}  # NumPy dtype -> its name (dtype.name is slow)


def leaf(array):
    """A Value holding a materialized buffer."""
    dt = array.dtype
    name = _names.get(dt) or _names.setdefault(dt, dt.name)
    return Value(TensorType(array.shape, name), data=array)
