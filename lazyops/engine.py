"""Forcing: collect the graph, optimize, schedule, compile and run it.

A plan (optimized and scheduled function with its launchers) is cached by
the collected function's structural key, so a pipeline repeated in a loop
skips passes and scheduling; kernels are cached by structure in
`codegen.cache`, so a pipeline on new sizes compiles nothing.
"""
import os
import time

import numpy as np

from .codegen.cpu import Unsupported
from .codegen.launch import Launcher
from .ir.core import collect
from .ir.interpreter import interpret, run_op
from .scheduler import schedule

# Below this many elements of work a graph runs on the NumPy interpreter:
# thread start-up and launch overhead cost more than fusion saves.
SMALL_WORK = int(os.environ.get("LAZYOPS_SMALL_WORK", 1 << 15))

_plans = {}
_MAX_PLANS = 512


class Plan:
    def __init__(self, func):
        self.recorded = str(func)
        from .ir import passes as _passes
        _passes.default_pipeline().run(func)
        self.optimized = str(func)
        self.interpretable = func
        self.scheduled = schedule(func)
        self.work = sum(int(np.prod(op.attrs["space"], dtype=np.int64))
                        for op in self.scheduled.ops if op.name == "lazy.kernel")
        self.launchers = {}
        for op in self.scheduled.ops:
            if op.name == "lazy.kernel":
                try:
                    self.launchers[id(op)] = Launcher(op)
                except Unsupported:
                    pass  # the interpreter runs this kernel's region

    def run(self, args, compiled=None):
        if compiled is None:
            compiled = self.work >= SMALL_WORK
        if not compiled:
            return interpret(self.interpretable, args)
        f = self.scheduled
        env = {id(a): x for a, x in zip(f.args, args)}
        for op in f.ops[:-1]:
            vals = [env[id(o)] for o in op.operands]
            launcher = self.launchers.get(id(op))
            outs = launcher(vals) if launcher is not None else run_op(op, vals)
            for r, x in zip(op.results, outs):
                env[id(r)] = x
        return [env[id(v)] for v in f.returns]


def plan_for(func):
    key = func.structural_key()
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.pop(next(iter(_plans)))
        plan = _plans[key] = Plan(func)
    return plan


def evaluate_values(values, compiled=None):
    pending, seen = [], set()
    for v in values:
        if v.data is None and id(v) not in seen:
            seen.add(id(v))
            pending.append(v)
    if not pending:
        return
    func, leaves = collect(pending)
    plan = plan_for(func)
    outs = plan.run([leaf.data for leaf in leaves], compiled)
    for v, out in zip(pending, outs):
        out = np.ascontiguousarray(out).reshape(v.type.shape)
        out.flags.writeable = False  # a buffer other graphs may read
        v.data = out
        v.owner = None  # drop the graph: later graphs read the buffer


def evaluate(*tensors):
    """Force several tensors in one schedule; returns their NumPy arrays."""
    evaluate_values([t._value for t in tensors])
    return tuple(t._value.data for t in tensors)
