"""Tracing Python functions into closed regions (as JAX's closed jaxprs and
MLIR's isolated regions): the function is called once on symbolic tensors,
the block's arguments; the ops it records that its results reach become the
region's body, and every other value the body reads is captured: an operand
of the op that holds the region, and a block argument inside it."""
from .engine import force_count
from .ir.core import Block, Operation, Region, Value
from .ir.registry import CONSTANT_OPS, family
from .recording import TRACES
from .tensor import Tensor


class TraceError(Exception):
    """A function could not be traced into a region (it forced a value)."""


def trace(body, arg_types):
    """(region, captures): `body(tensors)` is called on one symbolic tensor per
    type in `arg_types` and returns the values to yield; `captures` are the
    outer values the region reads, in the order of its extra block arguments."""
    block = Block(arg_types)
    forces = force_count()
    recorded = set()
    TRACES.append(recorded)
    try:
        outs = body([Tensor(a) for a in block.args])
    finally:
        TRACES.pop()
    if force_count() != forces:
        raise TraceError("the function forced a value while being traced")
    inside, order = _body(outs, block, recorded)
    captures, mapping = [], {}

    def inner(v):
        if inside.get(v) or v.owner is block:
            return v
        if v not in mapping:  # an outer value: captured as a new block argument
            captures.append(v)
            mapping[v] = Value(v.type, block, len(block.args))
            block.args.append(mapping[v])
        return mapping[v]

    for op in order:
        for o in op.operands:
            inner(o)
    yielded = [inner(v) for v in outs]
    block.ops = [op.clone(mapping) for op in order]
    block.ops.append(Operation("lazy.yield", [mapping.get(v, v) for v in yielded], []))
    return Region([block]), captures


def _constant(op):
    """Whether `op` is a constant: copied into a region that reads it rather
    than captured (a memoized scalar recorded by an earlier call is the same
    literal in every trace, so the region's structure does not depend on
    which call recorded it first)."""
    return op is not None and not op.operands and family(op) == CONSTANT_OPS


def _body(outs, block, recorded):
    """({value: inside the region?}, the region's ops in topological order):
    the ops the call recorded that `outs` reach (and constants they read),
    and the block's arguments."""
    inside, order = {}, []
    stack = [(v, False) for v in reversed(outs)]
    while stack:
        v, expanded = stack.pop()
        if v in inside:
            continue
        op = v.owner if v.data is None else None
        if v.owner is block or op not in recorded and not _constant(op):
            inside[v] = v.owner is block
            continue
        if not expanded:
            stack.append((v, True))
            stack.extend((o, False) for o in reversed(op.operands) if o not in inside)
            continue
        for r in op.results:
            inside[r] = True
        order.append(op)
    return inside, order
