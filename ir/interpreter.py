"""NumPy reference interpreter: runs any function op by op from the registry's
reference implementations. It is the semantic oracle for compiled paths and
the fallback for what codegen does not compile."""
import numpy as np

from .registry import KERNEL_OPS, TERMINATOR_OPS, family, lookup


def run_op(op, args):
    """Evaluate one operation on NumPy arrays; returns a list of arrays."""
    if family(op) == KERNEL_OPS:
        return run_block(op.regions[0].block, args)
    out = lookup(op.name).reference(*args, **op.attrs)
    outs = out if isinstance(out, tuple) else (out,)
    return [np.asarray(o).astype(r.type.dtype, copy=False).reshape(r.type.shape)
            for o, r in zip(outs, op.results)]


def run_block(block, args):
    env = {id(a): v for a, v in zip(block.args, args)}
    for op in block.ops:
        vals = [env[id(o)] for o in op.operands]
        if family(op) == TERMINATOR_OPS:
            return vals
        for r, v in zip(op.results, run_op(op, vals)):
            env[id(r)] = v
    raise ValueError("block has no terminator")


def interpret(func, args):
    """Run `func` on `args` (NumPy arrays, one per function argument)."""
    args = [np.asarray(a) for a in args]
    for a, v in zip(func.args, args):
        if a.type.shape != v.shape or a.type.dtype != v.dtype.name:
            raise TypeError(f"interpret: argument {a.type} got array {v.shape} {v.dtype}")
    with np.errstate(all="ignore"):  # NumPy's inf/nan results, without warnings
        return run_block(func.body, args)
