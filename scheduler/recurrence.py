"""Which loop ops compile as one recurrence kernel.

A `lazy.scan` or `lazy.while` whose regions are elementwise over its
carries' space S (every carry of shape S or a scalar, every op elementwise
on values of shape S or scalars) is a recurrence: each element of S is an
independent chain of steps, and one kernel runs the chains in parallel with
the body fused inside. Any other loop (a body that reduces, reshapes, reads
carries of several shapes) runs its regions' plans step by step on the
host; fusion leaves it alone, as a library op."""
from ..ir.dtypes import FLOAT8, is_complex
from ..ir.registry import CONSTANT_OPS, ELEMENTWISE_OPS, family


def carry_space(shapes):
    """The one shape other than () among `shapes` (() where all are), or None."""
    big = {tuple(s) for s in shapes} - {()}
    return () if not big else (big.pop() if len(big) == 1 else None)


def elementwise_block(block, space, args=None):
    """Whether every op of `block` is elementwise (or a constant) and every
    value it reads or yields has shape `space` or is a scalar (its block
    arguments: the shapes in `args`, where given)."""
    ok = {(), tuple(space)}
    for op in block.ops[:-1]:
        if family(op) not in (ELEMENTWISE_OPS, CONSTANT_OPS):
            return False
        for v in op.operands + op.results:
            if v.type.shape not in ok or is_complex(v.type.dtype) or v.type.dtype in FLOAT8:
                return False
    return all(a.type.shape in (args or ok) for a in block.args)


def recurrence(op):
    """Whether loop op `op` compiles as one recurrence kernel (see above)."""
    k = op.attrs["carries"]
    space = carry_space([v.type.shape for v in op.operands[:k]])
    if not k or space is None:
        return False
    if op.name == "lazy.while":
        test, body = (r.block for r in op.regions)
        return elementwise_block(test, (), {(), space}) and elementwise_block(body, space)
    body = op.regions[0].block
    ys = body.ops[-1].operands[k:]
    return elementwise_block(body, space) and all(y.type.shape in ((), space) for y in ys)
