"""lazyops.ir: types, SSA values and operations, the op registry, printer,
parser, verifier, passes and the NumPy reference interpreter."""
from . import ops as _ops  # noqa: F401  (registers every op)
from . import ops_bits as _ops_bits  # noqa: F401
from . import ops_math as _ops_math  # noqa: F401
from . import ops_shape as _ops_shape  # noqa: F401
from . import ops_library as _ops_library  # noqa: F401
from .core import Block, Function, Location, Operation, Region, Value, collect
from .registry import OpDef, all_ops, lookup
from .types import TensorType

__all__ = ["Block", "Function", "Location", "Operation", "Region", "Value", "collect",
           "OpDef", "all_ops", "lookup", "TensorType"]
