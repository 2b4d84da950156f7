"""`lazyops.explain`: what the engine does with a tensor's graph, as an
`Explanation` (a one-line-per-kernel summary by default, any section on
request, the kernel graph as a picture); `lazyops.visualize` draws it."""
import time
from dataclasses import dataclass

import numpy as np

from . import config
from .engine import computed_by, plan_of
from .graph import Graph, kernel_graph
from .inputs import FORCED_AT_CALL
from .ir.core import walk
from .ir.printer import Names, print_function
from .ir.registry import CONSTANT_OPS, KERNEL_OPS, family
from .tensor import Tensor

# section -> its heading; "summary" (the default) has none, "all" is every
# section as one text with each kernel's loop plan and source under its head
SECTIONS = {"summary": None, "ir": "=== recorded IR ===", "passes": "=== after passes ===",
            "kernels": "=== kernels ===", "plan": "=== loop plans ===",
            "source": "=== generated source ==="}
_NOTHING = "all tensors are inputs: nothing was computed"
_NOT_COMPILABLE = "runs on the NumPy interpreter: not compilable on this target"
_FORMS = {"flat": "elementwise", "nd": "elementwise", "runs": "elementwise",
          "full": "reduction", "rows": "row", "cols": "column", "scan": "scan",
          "pieces": "elementwise in pieces"}  # loop-plan form -> kernel kind
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


def explain(*tensors, show="summary", analyze=False, print_result=False):
    """What the engine does (or did) with the tensors' graph, as an
    `Explanation` whose text a REPL or notebook shows (`print()` it in a
    script). `show`: "summary" (one line per kernel: kind, iteration space,
    source lines, ops), "ir" (as recorded, with source locations), "passes"
    (after the IR passes), "kernels" (as the scheduler cut them), "plan"
    (each kernel's loop plan), "source" (the generated code), "all", or a
    list of them. `analyze=True` also runs the graph and adds, per kernel,
    time, bytes moved, GB/s and the fraction of copy bandwidth reached.
    Tensors already forced show the plan that computed them. `.graph()`
    draws the kernel graph."""
    values = [t._value if isinstance(t, Tensor) else t for t in tensors]
    plan, pending, leaves = plan_of(values)
    if plan is None:
        views, notes, analysis = _forced_views(values), "", None
    else:
        args = [leaf.data for leaf in leaves]
        views = [_View(plan, f"default path at this size: {_default_path(plan)}",
                       _sources(plan, args))]
        notes = _forced_notes(pending)
        analysis = _analyze(plan, args, views[0]) if analyze else None
    result = Explanation(views, notes, analysis, show)
    if print_result:
        print(result)
    return result


def visualize(*tensors, filename=None, format=None):  # noqa: A002  (dask's name)
    """The kernel graph of the tensors (see `explain`) as a `Graph`: its
    inputs, kernels with their ops and source lines, the values passed
    between kernels, and its outputs. Jupyter shows it inline; with
    `filename` it is also written there, in `format` or the filename's
    suffix ("svg", "png", "pdf", ... rendered by Graphviz; "dot": the text)."""
    graph = explain(*tensors).graph()
    if filename is not None:
        graph.save(filename, format)
    return graph


@dataclass
class Step:
    """One scheduled op as `explain` lists it: a kernel (named k0, k1, ...)
    or an op run by NumPy between kernels (a library call, a scan, a view)."""
    op: object
    name: str
    kind: str          # elementwise, reduction, row, column; library, scan, view, ...
    space: tuple       # iteration space (a kernel) or result shape
    ops: list          # the ops fused in a kernel ([] for a NumPy step)
    where: str         # the user's source lines, "file.py:3,5-7"
    source: tuple = None  # (form, loop plan, generated source) of a kernel
    seconds: float = None  # analyze: time of the warm run
    moved: int = None      # analyze: bytes read and written


class _View:
    """One plan as `explain` shows it: `path` says how it runs (or ran),
    `missing` what a kernel without generated source does."""

    def __init__(self, plan, path, sources, missing=_NOT_COMPILABLE):
        self.plan, self.path, self.missing = plan, path, missing
        self.names = Names()
        self.scheduled = print_function(plan.scheduled, names=self.names)
        self.steps = {op: _step(op, sources.get(op)) for op in plan.scheduled.ops[:-1]
                      if family(op) != CONSTANT_OPS}


class Explanation:
    """What `explain` found. `str()` (and a REPL's display) is the sections
    chosen by `show`; each section is also an attribute (`.summary`, `.ir`,
    `.passes`, `.kernels`, `.plan`, `.source`, `.all`), `.steps` lists the
    kernels and NumPy steps, and `.graph()` draws them."""

    def __init__(self, views, notes, analysis, show):
        self._views, self._notes, self._analysis = views, notes, analysis
        self.show = _chosen(show)

    def __str__(self):
        if self.show == ["all"]:
            return self.section("all")
        return "\n".join(self.section(s) for s in self.show)

    __repr__ = __str__

    def section(self, name):
        """The text of one section (see `SECTIONS`, and "all")."""
        if not self._views:
            return _NOTHING
        if name == "all":
            text = "\n".join(_full(v) for v in self._views) + self._notes
            return text + ("\n" + _analysis_table(self._views, self._analysis)
                           if self._analysis else "")
        _chosen(name)
        body = "\n".join(_RENDER[name](v) for v in self._views)
        if name == "summary":
            return _summary_head(self._views, self._analysis) + body + self._notes + _HINT
        return f"{SECTIONS[name]}\n{body}"

    summary = property(lambda self: self.section("summary"))
    ir = property(lambda self: self.section("ir"))
    passes = property(lambda self: self.section("passes"))
    kernels = property(lambda self: self.section("kernels"))
    plan = property(lambda self: self.section("plan"))
    source = property(lambda self: self.section("source"))
    all = property(lambda self: self.section("all"))  # noqa: A003

    @property
    def steps(self):
        """The kernels and NumPy steps, in run order, of every plan shown."""
        return [s for v in self._views for s in v.steps.values()]

    def graph(self):
        """The kernel graph as a `Graph` (DOT text; rendered by Graphviz)."""
        return Graph(kernel_graph([(v.plan.scheduled, v.steps, v.names) for v in self._views]))


_HINT = ('\n(explain(..., show="all") for the IR, loop plans and generated source; '
         '.graph() draws the kernel graph)')


def _chosen(show):
    """`show` as a list of section names, checked."""
    names = [show] if isinstance(show, str) else list(show)
    for name in names:
        if name not in SECTIONS and name != "all":
            raise ValueError(f"explain: unknown section {name!r}; sections: "
                             f"{', '.join(SECTIONS)}, all")
    return names


def _step(op, source):
    """The `Step` of a scheduled op; `source` as `Launcher.explain_for` gives it."""
    if family(op) != KERNEL_OPS:
        return Step(op, op.name.split(".", 1)[1], family(op), op.results[0].type.shape, [],
                    _where([op]))
    body = op.regions[0].block.ops[:-1]
    if source is None:
        kind = "reduction" if op.attrs["axes"] else "elementwise"
    else:
        form, loop_plan, _ = source
        passes = len(loop_plan.passes)
        kind = _FORMS.get(form, form) + (f", {passes} passes" if passes > 1 else "")
    # constants are shared by graphs: their locations are where one was first recorded
    body = [o for o in body if family(o) != CONSTANT_OPS]
    return Step(op, op.attrs["name"], kind, tuple(op.attrs["space"]),
                [o.name.split(".")[1] for o in body], _where(body), source)


def _where(ops):
    """The source lines of `ops` by file: "model.py:3,5-7"."""
    lines = {}
    for o in ops:
        if o.loc is not None:
            lines.setdefault(o.loc.file, set()).add(o.loc.line)
    return "; ".join(f"{f}:{_ranges(sorted(ls))}" for f, ls in sorted(lines.items()))


def _ranges(numbers):
    parts, start = [], 0
    for i in range(1, len(numbers) + 1):
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            a, b = numbers[start], numbers[i - 1]
            parts.append(str(a) if a == b else f"{a}-{b}")
            start = i
    return ",".join(parts)


def _summary_head(views, analysis):
    steps = [s for v in views for s in v.steps.values()]
    kernels = sum(1 for s in steps if s.ops)
    head = f"{kernels} kernel{'s' * (kernels != 1)}"
    if len(steps) > kernels:
        head += f", {len(steps) - kernels} NumPy step{'s' * (len(steps) - kernels != 1)} between them"
    if analysis:
        total, bw = analysis
        head += f"; warm run {total * 1e3:.3f} ms (copy bandwidth {bw / 1e9:.1f} GB/s)"
    return head + "\n"


def _summary(view):
    """The path line, then one aligned line per step."""
    bw = copy_bandwidth() if any(s.seconds is not None for s in view.steps.values()) else None
    rows = [[s.name, s.kind, "x".join(map(str, s.space)) or "scalar"]
            + (_figures(s, bw) if bw else []) + [s.where, " ".join(s.ops)]
            for s in view.steps.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1]
             for r in rows]
    return "\n".join([view.path] + [line.rstrip() for line in lines])


def _figures(step, bw):
    if step.seconds is None:
        return ["", "", "", ""]
    rate = step.moved / step.seconds if step.seconds > 0 else 0.0
    return [f"{step.seconds * 1e3:.3f} ms", f"{step.moved / 1e6:.2f} MB",
            f"{rate / 1e9:.1f} GB/s", f"{rate / bw:.0%}"]


def _kernel_heads(view):
    """The scheduled IR, how it runs, and each kernel's head line."""
    return "\n".join([view.scheduled, view.path]
                     + [_kernel_head(s) for s in view.steps.values() if s.ops])


def _kernel_head(step):
    op = step.op
    axes = list(op.attrs["axes"])
    space = "x".join(map(str, op.attrs["space"])) or "scalar"
    return (f"--- {step.name}: {step.kind} over {space}"
            + (f", reducing axes {axes}" if axes else "")
            + f"; {len(op.operands)} input(s), {len(op.results)} output(s)"
            + (f" from {step.where}" if step.where else "")
            + f"\n    ops: {' '.join(step.ops)}")


def _loop_plans(view):
    return "\n".join(f"--- {s.name}\n" + (_indent(s.source[1].text()) if s.source
                                           else f"    ({view.missing})")
                     for s in view.steps.values() if s.ops)


def _generated(view):
    return "\n".join(f"--- {s.name}\n" + (s.source[2] if s.source else f"    ({view.missing})")
                     for s in view.steps.values() if s.ops)


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def _listing(step, missing):
    """A kernel's loop plan and generated source, under its head in "all"."""
    if step.source is None:
        return f"    ({missing})"
    _, loop_plan, src = step.source
    return f"    loop plan:\n{_indent(loop_plan.text())}\n    generated source:\n{src}"


def _full(view):
    """Every section of one plan, each kernel's plan and source under its head."""
    plan = view.plan
    out = [SECTIONS["ir"], plan.recorded, SECTIONS["passes"], plan.optimized,
           SECTIONS["kernels"], view.scheduled, view.path]
    out += [_kernel_head(s) + "\n" + _listing(s, view.missing)
            for s in view.steps.values() if s.ops]
    return "\n".join(out)


_RENDER = {"summary": _summary, "ir": lambda v: v.plan.recorded,
           "passes": lambda v: v.plan.optimized, "kernels": _kernel_heads,
           "plan": _loop_plans, "source": _generated}


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


def _forced_views(values):
    """The plans that computed already forced values."""
    entries = dict.fromkeys(e for e in map(computed_by, values) if e is not None)
    views = []
    for plan, compiled in entries:
        if compiled:
            sources = {op: plan.launchers[op].explain_last() for op in plan.kernels}
            views.append(_View(plan, "already forced: it ran as compiled kernels "
                                     "(each kernel's latest launch shown)",
                               {k: v for k, v in sources.items() if v}))
        else:
            why = " (tiered: its kernels were compiling)" if plan.tier is not None else ""
            views.append(_View(plan, f"already forced: it ran on the NumPy interpreter{why}",
                               {}, "ran on the NumPy interpreter"))
    return views


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


def _analyze(plan, args, view):
    """A warm compiled run's (total seconds, copy bandwidth); each step of
    `view` gets its time and bytes moved."""
    timings = []
    plan.run(args, compiled=True)  # warm: compile first
    t0 = time.perf_counter()
    plan.run(args, compiled=True, timings=timings)
    total = time.perf_counter() - t0
    for op, dt, vals, outs in timings:
        step = view.steps.get(op)
        if step is not None:
            step.seconds = dt
            step.moved = sum(np.asarray(v).nbytes for v in list(vals) + list(outs))
    return total, copy_bandwidth()


def _analysis_table(views, analysis):
    total, bw = analysis
    rows = ["=== analysis (warm run) ===",
            f"total {total * 1e3:.3f} ms; copy bandwidth {bw / 1e9:.1f} GB/s"]
    for step in (s for v in views for s in v.steps.values() if s.seconds is not None):
        dt, moved = step.seconds, step.moved
        frac = moved / dt / bw if dt > 0 else float("nan")
        rows.append(f"{step.name:>8}: {dt * 1e3:9.3f} ms  {moved / 1e6:9.2f} MB moved  "
                    f"{moved / dt / 1e9 if dt > 0 else 0:6.1f} GB/s  ({frac:.0%} of copy bandwidth)")
    return "\n".join(rows)
