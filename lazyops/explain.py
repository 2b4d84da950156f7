"""`lazyops.explain`: what the engine does with a tensor's graph."""
import time

import numpy as np

from .engine import plan_of
from .ir.printer import print_function
from .tensor import Tensor

_BANDWIDTH = None


def copy_bandwidth():
    """Bytes per second of a large NumPy copy on this machine (read + write)."""
    global _BANDWIDTH
    if _BANDWIDTH is None:
        a = np.ones(1 << 23, np.float32)
        b = np.empty_like(a)
        best = min(_timed(lambda: np.copyto(b, a)) for _ in range(5))
        _BANDWIDTH = 2 * a.nbytes / best
    return _BANDWIDTH


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def explain(*tensors, analyze=False, print_result=True):
    """Show the IR as recorded (with source lines), after passes, the kernels
    the scheduler cut, and the generated source of each kernel. With
    `analyze=True` also run it and report per-kernel time, bytes moved and
    the fraction of copy bandwidth reached. Returns the text."""
    values = [t._value if isinstance(t, Tensor) else t for t in tensors]
    plan, pending, leaves = plan_of(values)
    if plan is None:
        text = "all tensors are materialized: nothing left to compute"
        if print_result:
            print(text)
        return text
    args = [leaf.data for leaf in leaves]
    out = ["=== recorded IR ===", plan.recorded,
           "=== after passes ===", plan.optimized,
           "=== kernels ===", print_function(plan.scheduled)]
    path = "compiled kernels" if plan.compiled_by_default() else \
        f"NumPy interpreter (work {plan.work} < small_work threshold)"
    out.append(f"default path at this size: {path}")
    sources = _sources(plan, args)
    for op in plan.kernels:
        out.append(_kernel_summary(op, sources.get(op)))
    if analyze:
        out.append(_analyze(plan, args))
    text = "\n".join(out)
    if print_result:
        print(text)
    return text


def _sources(plan, args):
    """Generated source per kernel for these inputs, without running anything."""
    f = plan.scheduled
    env = dict(zip(f.args, args))
    sources = {}
    for op in f.ops[:-1]:
        vals = [env[o] for o in op.operands]
        launcher = plan.launchers.get(op)
        if launcher is not None:
            sources[op] = launcher.explain_for(vals)
        for r in op.results:
            env[r] = np.empty(r.type.shape, r.type.dtype)
    return sources


def _kernel_summary(op, source):
    block = op.regions[0].block
    lines = sorted({o.loc.line for o in block.ops if o.loc is not None})
    files = sorted({o.loc.file for o in block.ops if o.loc is not None})
    where = f" from {', '.join(files)} line(s) {', '.join(map(str, lines))}" if lines else ""
    kind = "reduction" if op.attrs["axes"] else "elementwise"
    space = "x".join(map(str, op.attrs["space"])) or "scalar"
    body = [o.name.split(".")[1] for o in block.ops[:-1]]
    head = (f"--- {op.attrs['name']}: {kind} over {space}"
            + (f", reducing axes {list(op.attrs['axes'])}" if op.attrs["axes"] else "")
            + f"; {len(op.operands)} input(s), {len(op.results)} output(s){where}\n"
            + f"    ops: {' '.join(body)}")
    if source is None:
        return head + "\n    (runs on the NumPy interpreter: not compilable on this target)"
    form, plan, src = source
    listing = "\n".join("    " + line for line in plan.text().splitlines())
    return head + f"\n    loop plan:\n{listing}\n    generated source:\n" + src


def _analyze(plan, args):
    timings = []
    plan.run(args, compiled=True)  # warm: compile first
    t0 = time.perf_counter()
    plan.run(args, compiled=True, timings=timings)
    total = time.perf_counter() - t0
    bw = copy_bandwidth()
    rows = ["=== analysis (warm run) ===",
            f"total {total * 1e3:.3f} ms; copy bandwidth {bw / 1e9:.1f} GB/s"]
    for op, dt, vals, outs in timings:
        moved = sum(np.asarray(v).nbytes for v in vals) + sum(np.asarray(o).nbytes for o in outs)
        name = op.attrs.get("name", op.name)
        frac = moved / dt / bw if dt > 0 else float("nan")
        rows.append(f"{name:>8}: {dt * 1e3:9.3f} ms  {moved / 1e6:9.2f} MB moved  "
                    f"{moved / dt / 1e9 if dt > 0 else 0:6.1f} GB/s  ({frac:.0%} of copy bandwidth)")
    return "\n".join(rows)
