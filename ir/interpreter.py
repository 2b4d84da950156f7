"""NumPy reference interpreter: runs any function op by op from the registry's
reference implementations. It is the semantic oracle for compiled paths and
the fallback for what codegen does not compile."""
import numpy as np

from .registry import CONSTANT_OPS, KERNEL_OPS, TERMINATOR_OPS, family, lookup


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


class Program:
    """`func` prepared once for repeated interpretation: each op's reference
    and operand slots looked up, constants evaluated, results fixed up to
    their types only where a reference returns another type. The fast path
    for small graphs forced again and again."""

    def __init__(self, func):
        slot = {a: i for i, a in enumerate(func.args)}
        self.template = [None] * len(func.args)
        self.steps = []
        for op in func.ops:
            fam = family(op)
            if fam == TERMINATOR_OPS:
                self.returns = [slot[v] for v in op.operands]
                break
            ins = [slot[v] for v in op.operands]
            outs = []
            for r in op.results:
                slot[r] = len(self.template)
                self.template.append(None)
                outs.append((slot[r], np.dtype(r.type.dtype), r.type.shape))
            if fam == CONSTANT_OPS:
                (value,) = run_op(op, [])
                self.template[outs[0][0]] = value
            elif fam == KERNEL_OPS:
                block = op.regions[0].block
                self.steps.append((lambda *a, b=block: run_block(b, a), ins, {}, outs))
            else:
                self.steps.append((lookup(op.name).reference, ins, op.attrs, outs))

    def run(self, args):
        vals = list(args) + self.template[len(args):]
        with np.errstate(all="ignore"):
            for fn, ins, attrs, outs in self.steps:
                out = fn(*[vals[i] for i in ins], **attrs)
                if len(outs) == 1:
                    out = (out,)
                for o, (k, dtype, shape) in zip(out, outs):
                    if type(o) is not np.ndarray or o.dtype != dtype or o.shape != shape:
                        o = np.asarray(o).astype(dtype, copy=False).reshape(shape)
                    vals[k] = o
        return [vals[k] for k in self.returns]
