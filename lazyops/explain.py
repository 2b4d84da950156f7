"""`lazyops.explain`: what the engine does with a tensor's graph."""
import time

import numpy as np

from . import config
from .engine import computed_by, plan_of
from .inputs import FORCED_AT_CALL
from .ir.core import walk
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
    the scheduler cut, each kernel's loop plan and generated source. With
    `analyze=True` also run it and report per-kernel time, bytes moved and
    the fraction of copy bandwidth reached. Tensors already forced show the
    plan that computed them. Returns the text."""
    values = [t._value if isinstance(t, Tensor) else t for t in tensors]
    plan, pending, leaves = plan_of(values)
    if plan is None:
        text = _explain_forced(values)
    else:
        args = [leaf.data for leaf in leaves]
        path = _default_path(plan)
        text = _render(plan, f"default path at this size: {path}", _sources(plan, args))
        text += _forced_notes(pending)
        if analyze:
            text += "\n" + _analyze(plan, args)
    if print_result:
        print(text)
    return text


def _forced_notes(values):
    """The values of the graph that a function made by reading data at its
    call (data-dependent shapes), where they came from."""
    ops, leaves, _ = walk(values)
    seen = [v for v in leaves + [r for op in ops for r in op.results] if v in FORCED_AT_CALL]
    if not seen:
        return ""
    lines = ["=== read at the call (the output's shape depends on the data) ==="]
    for v in seen:
        op, loc = FORCED_AT_CALL[v]
        where = f" at {loc.file}:{loc.line}" if loc else ""
        lines.append(f"  {op}{where}: forced its input when called; gave {v.type}")
    return "\n" + "\n".join(lines)


def _default_path(plan):
    if plan.small is False:
        return (f"NumPy interpreter (work {plan.work} < small_work; timed, it ran faster "
                "than its compiled kernels)")
    if plan.small is True:
        return (f"compiled kernels (work {plan.work} < small_work, but timed, they ran "
                "faster than the NumPy interpreter)")
    if not plan.compiled_by_default():
        return (f"NumPy interpreter (work {plan.work} < small_work threshold; after "
                "hot_seconds on it, its kernels compile and the faster path is kept)")
    if plan.tier == "compiling":
        return "compiled kernels once their background compile ends (NumPy interpreter until then)"
    if plan.tier is None and config.get("tiered"):
        return ("compiled kernels; the first force runs on the NumPy interpreter while "
                "they compile in the background (config tiered)")
    return "compiled kernels"


_NOT_COMPILABLE = "runs on the NumPy interpreter: not compilable on this target"


def _render(plan, path, sources, missing=_NOT_COMPILABLE):
    """The sections of `explain`; `missing`: what a kernel without a source did."""
    out = ["=== recorded IR ===", plan.recorded,
           "=== after passes ===", plan.optimized,
           "=== kernels ===", print_function(plan.scheduled), path]
    out += [_kernel_summary(op, sources.get(op), missing) for op in plan.kernels]
    return "\n".join(out)


def _explain_forced(values):
    """The plans that computed already forced values."""
    entries = dict.fromkeys(e for e in map(computed_by, values) if e is not None)
    if not entries:
        return "all tensors are inputs: nothing was computed"
    parts = []
    for plan, compiled in entries:
        if compiled:
            sources = {op: plan.launchers[op].explain_last() for op in plan.kernels}
            parts.append(_render(plan, "already forced: it ran as compiled kernels "
                                       "(each kernel's latest launch shown)",
                                 {k: v for k, v in sources.items() if v}))
        else:
            why = " (tiered: its kernels were compiling)" if plan.tier is not None else ""
            parts.append(_render(plan, f"already forced: it ran on the NumPy interpreter{why}",
                                 {}, "ran on the NumPy interpreter"))
    return "\n".join(parts)


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


def _kernel_summary(op, source, missing):
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
        return head + f"\n    ({missing})"
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
