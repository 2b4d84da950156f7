"""lazyops: keras.ops as a lazy, fusing dataflow engine."""
from .api import *  # noqa: F401,F403
from .api import abs, all, any, max, min, round, sum  # noqa: F401  (shadow builtins on purpose)
from .engine import evaluate
from .tensor import Tensor

__version__ = "0.1.0"
