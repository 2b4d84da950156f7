"""Recording: each API call becomes a detached operation with its result
types inferred at once and the user's source location."""
import os
import sys

from .ir.core import Location, Operation, Value
from .ir.registry import lookup
from .ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG_DIR, d) + os.sep for d in ("lazyops", "ir", "scheduler", "codegen"))


def user_location():
    """File and line of the first caller frame outside lazyops."""
    f = sys._getframe(1)
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
    op = Operation(d.full_name, operands, result_types, attrs, loc=user_location())
    return op.results[0] if len(op.results) == 1 else op.results


def leaf(array):
    """A Value holding a materialized buffer."""
    return Value(TensorType(array.shape, array.dtype.name), data=array)
