"""lazyops: keras.ops as a lazy, fusing dataflow engine.

Calls record operations into an SSA IR and return lazy `Tensor` handles;
forcing (`.numpy()`, `convert_to_numpy`, `evaluate`) optimizes the graph,
fuses it into kernels, compiles them with Numba and runs them.
"""
from . import config, operators  # noqa: F401  (operators: attaches Tensor's)
from .api import *  # noqa: F401,F403
from .api import abs, all, any, max, min, round, sum  # noqa: F401  (keras.ops names)
from .api_math import (bitwise_left_shift, bitwise_not, bitwise_right_shift, conj,  # noqa: F401
                       isclose, nan_to_num, saturate_cast, select)
from .api_library import *  # noqa: F401,F403
from .api_shape import (append, concatenate, copy, diag, diagonal, empty,  # noqa: F401
                        extract_sequences, eye, flip, get_item, identity, linspace, logspace,
                        meshgrid, moveaxis, pad, ravel, repeat, roll, scatter, scatter_update,
                        slice, slice_update, split, stack, swapaxes, take, take_along_axis, tile,
                        tri, tril, triu, unstack, vstack)
from .codegen import cache as _cache
from .codegen.cache import cache_info
from .control import cond, switch
from .associative import associative_scan
from .loops import (fori_loop, map, scan, vectorized_map,  # noqa: A004
                    while_loop)
from .engine import evaluate, wait_for_kernels
from .explain import Explanation, explain, visualize
from .function import function
from .graph import Graph
from .tensor import Tensor

__version__ = _cache.VERSION
