"""Forcing: collect the graph, optimize, schedule, compile and run it.

A plan (optimized and scheduled function with its launchers) is cached by
the collected function's structural key, so a pipeline repeated in a loop
skips passes and scheduling; kernels are cached by structure in
`codegen.cache`, so a pipeline on new sizes compiles nothing.
"""
import time

import numpy as np

from . import config
from .codegen.cpu import Unsupported
from .codegen.launch import Launcher
from .ir.core import build, walk
from .ir.interpreter import interpret, run_op
from .ir.passes import default_pipeline
from .ir.printer import print_function
from .scheduler import schedule

_plans = {}
_MAX_PLANS = 512


class Plan:
    """One collected function, optimized and scheduled, with its launchers."""

    def __init__(self, func):
        self.recorded = print_function(func)
        debug = config.get("debug") >= 3
        default_pipeline().run(func, callback=_print_pass if debug else None)
        self.optimized = print_function(func)
        self.reference = func
        self.scheduled = schedule(func)
        self.kernels = [op for op in self.scheduled.ops if op.name == "lazy.kernel"]
        self.work = sum(int(np.prod(op.attrs["space"], dtype=np.int64)) for op in self.kernels)
        self.launchers = {}
        for op in self.kernels:
            try:
                self.launchers[id(op)] = Launcher(op)
            except Unsupported:
                pass  # the interpreter runs this kernel's region

    def compiled_by_default(self):
        return self.work >= config.get("small_work")

    def run(self, args, compiled=None, timings=None):
        if compiled is None:
            compiled = self.compiled_by_default()
        if not compiled:
            return interpret(self.reference, args)
        f = self.scheduled
        env = {id(a): x for a, x in zip(f.args, args)}
        with np.errstate(all="ignore"):
            for op in f.ops[:-1]:
                vals = [env[id(o)] for o in op.operands]
                launcher = self.launchers.get(id(op))
                t0 = time.perf_counter()
                outs = launcher(vals) if launcher is not None else run_op(op, vals)
                if timings is not None:
                    timings.append((op, time.perf_counter() - t0, vals, outs))
                for r, x in zip(op.results, outs):
                    env[id(r)] = x
        return [env[id(v)] for v in f.returns]


def _print_pass(name, func):
    print(f"// ----- IR after {name}\n{print_function(func)}")


def plan_for(func):
    """The cached plan for a function built by `walk`/`build` or `collect`."""
    return _plan(func.structural_key(), lambda: func)


def _plan(key, make_func):
    plan = _plans.get(key) if key is not None else None
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.pop(next(iter(_plans)))
        func = make_func()
        plan = Plan(func)
        _plans[key if key is not None else func.structural_key()] = plan
    return plan


def _pending(values):
    pending, seen = [], set()
    for v in values:
        if v.data is None and id(v) not in seen:
            seen.add(id(v))
            pending.append(v)
    return pending


def pending_graph(values):
    """The function computing the unmaterialized `values`, and its leaves."""
    pending = _pending(values)
    if not pending:
        return pending, None, None
    order, leaves, key = walk(pending)
    func = build(order, leaves, pending)
    func.key = key
    return pending, func, leaves


def evaluate_values(values, compiled=None):
    pending = _pending(values)
    if not pending:
        return
    order, leaves, key = walk(pending)
    # the function is built only when no plan exists for this structure
    plan = _plan(key, lambda: build(order, leaves, pending))
    debug = config.get("debug")
    timings = [] if debug else None
    t0 = time.perf_counter()
    outs = plan.run([leaf.data for leaf in leaves], compiled, timings)
    if debug:
        _report(plan, timings, time.perf_counter() - t0, debug)
    for v, out in zip(pending, outs):
        out = np.ascontiguousarray(out).reshape(v.type.shape)
        out.flags.writeable = False  # a buffer other graphs may read
        v.data = out
        v.owner = None  # drop the graph: later graphs read the buffer


def _report(plan, timings, total, level):
    path = "compiled" if timings else "interpreter"
    print(f"[lazyops] forced {len(plan.kernels)} kernel(s) via {path} in {total * 1e3:.3f} ms")
    for op, dt, vals, _ in timings or []:
        name = op.attrs.get("name", op.name)
        print(f"[lazyops]   {name:>8} {dt * 1e3:9.3f} ms  {op.name}")
        launcher = plan.launchers.get(id(op))
        if level >= 2 and launcher is not None:
            print(launcher.source_for(vals)[1])


def evaluate(*tensors):
    """Force several tensors in one schedule (shared subexpressions computed
    once); returns their NumPy arrays."""
    evaluate_values([t._value for t in tensors])
    return tuple(t._value.data for t in tensors)
