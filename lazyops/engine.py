"""Forcing: collect the graph, optimize, schedule, compile and run it.

A plan (optimized and scheduled function with its launchers) is cached by
the collected function's structural key, so a pipeline repeated in a loop
skips passes and scheduling; kernels are cached by structure in
`codegen.cache`, so a pipeline on new sizes compiles nothing.
"""
import contextlib
import gc
import operator
import time

import numpy as np

from . import config, inputs
from .recording import FORCES
from .codegen import background, backend
from .codegen.buffers import is_fresh
from .codegen.cache import build_report, builds
from .ir.core import build, walk
from .ir.registry import KERNEL_OPS, family
from .ir.interpreter import Program, quiet_fp, restore_fp, run_op
from .ir.printer import print_function

_plans = {}  # structural key (see ir.core.walk) -> plan
_by_node = {}  # recorded node id -> plan (see recording._node)
_MAX_PLANS = 512
# an argument's layout, as compiled step loops key their drivers (lazyops/loops.py)
LAYOUT = operator.attrgetter("__class__", "shape", "dtype", "strides")
_DATA = operator.attrgetter("data")
_TRIALS = 40  # timed runs, alternately compiled, of a small plan before it picks its path
# A compiled loop of more steps compiles before its first run: interpreted,
# each step is Python's (about 45 us for a few ops: 1M steps took 47 s,
# against a compile of about 1 s)
_INTERPRETED_STEPS = 10_000


class Plan:
    """One collected function, optimized and scheduled, with its launchers.
    Passes and the scheduler work on copies: the recorded graph is never
    rewritten."""

    def __init__(self, func):
        # the passes, the scheduler and the code generator load with the
        # first plan, so that `import lazyops` stays light
        from .codegen.launch import Launcher
        from .ir.passes import default_pipeline
        from .scheduler import schedule
        # the recorded function, printed when explain() asks (printing costs
        # three times a copy: a plan of 3000 ops spent 0.25 s printing)
        self._recorded = func.clone()
        debug = config.get("debug") >= 3
        default_pipeline().run(func, callback=_print_pass if debug else None)
        self.reference = func  # optimized; the scheduler and interpreter leave it as it is
        self._optimized = None
        self.scheduled = schedule(func)
        self.kernels = [op for op in self.scheduled.ops if family(op) == KERNEL_OPS]
        target = backend(config.get("device"))
        self.launchers = {op: Launcher(op, target, config.SETTINGS) for op in self.kernels}
        self.work = sum(launcher.work for launcher in self.launchers.values())
        self.loop_steps = max([launcher.steps for launcher in self.launchers.values()],
                              default=1)
        self.steps, self.returns, direct = _steps(self.scheduled)
        self.numpy_ops = len(self.scheduled.ops) - 1 > len(self.kernels)
        # a plan of one kernel reading the arguments and returning its
        # results: its launcher, called without the sweep
        self.launcher = self.launchers[self.steps[0][0]] if direct is not False \
            and not self.numpy_ops else None
        # the arguments that launcher reads, by position; None: all, in order
        self.order = None if direct is False or direct == list(range(len(func.args))) \
            else direct
        self.fast = None  # the latest force's direct launch (see `direct`)
        self.by_leaves = None  # the same launch from a node's leaves (see `direct`)
        self.drivers = {}  # compiled step loops running this plan (see lazyops/loops.py)
        # run as a loop's step, as many times as a large plan's work
        # (lazyops/loops.py): compiled as a large plan is, not measured
        self.repeats = False
        self.done = (self, True)  # a direct launch's record on the values it computed
        self.program = None  # the interpreter's prepared form, made on first use
        self._constants = None  # see `constants`
        self.tier = None  # tiered: None (not yet run), "compiling", "ready"
        self.ran_compiled = None  # the latest run's path
        # small plans (see `_run_measured`): the path chosen (None: measuring),
        # interpreter time spent, best interpreted and compiled times, trials
        self.small = None
        self.spent, self.best, self.trials = 0.0, [float("inf"), float("inf")], 0

    @property
    def recorded(self):
        """The recorded function's text (explain's IR section)."""
        if not isinstance(self._recorded, str):
            self._recorded = print_function(self._recorded)
        return self._recorded

    @property
    def optimized(self):
        """The function's text after the passes (explain's passes section)."""
        if self._optimized is None:
            self._optimized = print_function(self.reference)
        return self._optimized

    def constants(self):
        """Ids of the arrays the plan keeps between runs (the interpreter's
        evaluated constants), which no result may hand out."""
        if self.program is None:
            return ()
        if self._constants is None:
            self._constants = frozenset(id(a) for a in self.program.template[self.program.nargs:]
                                        if a is not None)
        return self._constants

    def compiled_by_default(self):
        return self.big() or self.small is True

    def run(self, args, compiled=None, timings=None):
        """The outputs for `args`: compiled, on the interpreter, or (`compiled`
        None) as `small_work`, `hot_seconds` and `tiered` choose."""
        if compiled is None:
            settings = config.SETTINGS
            if self.work >= settings["small_work"] or self.repeats:
                if self.tier != "ready" and settings["tiered"]:
                    if self.loop_steps < _INTERPRETED_STEPS:
                        return self._run_tiered(args)
                    self.tier = "ready"  # compiled now: see _INTERPRETED_STEPS
                compiled = True
            elif self.small is not None:
                compiled = self.small
            elif settings["tiered"] and settings["hot_seconds"] and self.kernels:
                return self._run_measured(args, settings["hot_seconds"])
            else:
                compiled = False
        self.ran_compiled = compiled
        if not compiled:
            program = self.program
            if program is None:
                program = self.program = Program(self.reference)
            fast = program.fast  # its straight-line form, once it has one
            return fast(*args) if fast is not None else program.run(args)
        if timings is None:
            if self.launcher is not None:
                return self.launcher(self._read(args))
            return self._sweep(args, self._launch)
        return self._sweep(args, lambda op, vals: self._timed(op, vals, timings))

    def big(self):
        """Whether runs take the compiled path as a large plan does (tiered:
        interpreted while its kernels compile): work of `small_work` or
        more, or run as a loop's step (`repeats`)."""
        return self.repeats or self.work >= config.SETTINGS["small_work"]

    def direct(self, args):
        """A function of a later run's arguments giving its outputs by
        launching the plan's one kernel directly, where they are NumPy arrays
        laid out as `args` (shapes, dtypes, strides) and the settings
        (`config.VERSION`) are unchanged; None for any other run. None where
        the plan has no such launch or its runs go through `run` (a path
        still measured or compiling)."""
        settings = config.SETTINGS
        steady = self.tier == "ready" or not settings["tiered"] if self.big() else \
            self.small is True
        self.by_leaves = None
        if self.launcher is None or not steady or not self.ran_compiled:
            return None
        go = self.launcher.direct(self._read(args))
        if go is None:
            return None
        order = self.order
        same, take = _layout_checks(args, order)
        # a force of one value whose node found this plan: its leaves' arrays
        # checked and gathered by one generated function (see `launched`);
        # not where inputs are checksummed (that force verifies them), and
        # `take` refuses once any setting changes
        if not settings["check_inputs"]:
            self.by_leaves = take, go

        def fast(args):
            if not same(args):
                return None
            return go(args if order is None else [args[i] for i in order])
        return fast

    def _read(self, args):
        """The arguments the plan's one kernel reads, in its order."""
        return args if self.order is None else [args[i] for i in self.order]

    def _run_measured(self, args, hot_seconds):
        """A small plan's run while its faster path is unknown: interpreted
        (timed) until it has spent `hot_seconds` there, then interpreted while
        its kernels compile in the background, then `_TRIALS` timed runs
        alternating the paths; after them it keeps whichever path had the
        shorter best run among them."""
        if self.tier == "ready":  # trials alternate the paths, so both meet the same load
            compiled = self.trials % 2 == 0
            if self.trials == 0:
                self.best[0] = float("inf")
            t0 = time.perf_counter()
            try:
                outs = self.run(args, compiled=compiled)
            except Exception:  # noqa: BLE001 - the interpreter stays the reference
                if not compiled:
                    raise
                self.small = False
                return self.run(args, compiled=False)
            self.best[compiled] = min(self.best[compiled], time.perf_counter() - t0)
            self.trials += 1
            if self.trials >= _TRIALS:
                self.small = self.best[1] < self.best[0]
            return outs
        if self.tier == "compiling":
            return self.run(args, compiled=False)
        if self.spent >= hot_seconds:
            return self._run_tiered(args)
        t0 = time.perf_counter()
        outs = self.run(args, compiled=False)
        dt = time.perf_counter() - t0
        self.spent += dt
        self.best[0] = min(self.best[0], dt)
        return outs

    def _launch(self, op, vals):
        launcher = self.launchers.get(op)
        return launcher(vals) if launcher is not None else run_op(op, vals)

    def _timed(self, op, vals, timings):
        t0 = time.perf_counter()
        outs = self._launch(op, vals)
        timings.append((op, time.perf_counter() - t0, vals, outs))
        return outs

    def _sweep(self, args, step):
        """Run the scheduled ops in order, `step(op, operand arrays)` giving
        each op's results; intermediates die at their last reader."""
        if self.launcher is not None:  # one kernel reading the arguments, returning its results
            return list(step(self.steps[0][0], self._read(args)))
        env = list(args) + [None] * (self.returns[1] - len(args))
        # kernels raise no floating-point warnings: NumPy's ops (run_op) may
        token = quiet_fp() if self.numpy_ops else None
        try:
            for op, ins, outs, dead in self.steps:
                for i, r in zip(outs, step(op, [env[i] for i in ins])):
                    env[i] = r
                for i in dead:
                    env[i] = None
        finally:
            if token is not None:
                restore_fp(token)
        return [env[i] for i in self.returns[0]]

    def _run_tiered(self, args):
        """A run on the interpreter while the kernels compile in the
        background (in the compile worker: this process's GIL stays free).
        The scheduled kernels are interpreted, row-wise ones a chunk at a
        time; the first run queues their compiles, for the argument layouts
        it sees."""
        self.ran_compiled = False
        first = self.tier is None
        jobs = []
        # Larger chunks while the compile thread runs Python (Numba's
        # import, a load, a compile without the worker): each NumPy call
        # hands it the GIL, and taking it back can wait out the switch
        # interval (chunks of _CHUNK then took 200-500 ms; whole arrays
        # fault in fresh memory, up to 800 ms for GELU)
        chunk = _BUSY_CHUNK if background.busy() else _CHUNK

        def interpret(op, vals):
            launcher = self.launchers.get(op)
            if first and launcher is not None:
                jobs.append(launcher.ahead(vals))
            return run_op(op, vals, chunk)
        with np.errstate(all="ignore"):  # kernels interpreted by NumPy
            outs = self._sweep(args, interpret)
        if not first:
            return outs
        if None in jobs:  # a target that cannot compile ahead compiles on the next run
            self.tier = "ready"
        else:
            self.tier = "compiling"
            background.submit(lambda: self._compile(jobs))
        return outs

    def _compile(self, jobs):
        try:
            for job in jobs:
                job()
        finally:
            self.tier = "ready"  # a failed compile fails again, in the foreground


# elements per chunk of a row-wise kernel on the interpreter (tiered runs):
# its temporaries stay in the L2 cache; while the compile thread holds the
# GIL, fewer NumPy calls (see `_run_tiered`)
_CHUNK = 1 << 16
_BUSY_CHUNK = 1 << 20


def _layout_checks(args, order=None):
    """Two functions over a later run's inputs laid out as `args` (arrays of
    their classes, shapes, strides and dtypes; dtypes by identity: an equal
    dtype that is another object fails, which only costs the general path):
    `same(args)`, whether a list of arrays is and the settings are unchanged;
    and `take(leaves)`, the arrays of a list of leaf Values in the kernel's
    argument `order` (None: as they are) where they are so, else None. Written
    out per argument: half the time of comparing tuples of attributes, a
    third of a direct launch's Python."""
    n = len(args)
    names = ", ".join(f"a{i}" for i in range(n)) + ","
    env = {"V": config.VERSION, "version": config.VERSION[0]}
    tests = []
    for i, a in enumerate(args):
        env.update({f"C{i}": type(a), f"S{i}": a.shape, f"T{i}": a.strides, f"D{i}": a.dtype})
        tests.append(f"type(a{i}) is C{i} and a{i}.shape == S{i} and a{i}.strides == T{i} "
                     f"and a{i}.dtype is D{i}")
    test = " and ".join(tests + ["V[0] == version"])
    taken = ", ".join(f"a{i}" for i in (range(n) if order is None else order))
    src = (f"def same(args):\n    if len(args) != {n}:\n        return False\n"
           + (f"    {names} = args\n" if n else "") + f"    return {test}\n"
           f"def take(leaves):\n    if len(leaves) != {n}:\n        return None\n"
           + (f"    {names} = leaves\n" if n else "")
           + "".join(f"    a{i} = a{i}.data\n" for i in range(n))
           + f"    return [{taken}] if {test} else None\n")
    exec(src, env)  # noqa: S102  (our own text over our own names)
    return env["same"], env["take"]


def wait_for_kernels():
    """Block until the kernels compiling in the background (see the `tiered`
    setting) are ready."""
    background.wait()


def _steps(func):
    """The scheduled ops as (op, operand slots, result slots, slots dead
    after it) over a flat list of values (arguments first); ((return slots),
    slot count); and whether the function is one op that reads the arguments
    in order and returns its results (run without the list)."""
    slot = {v: i for i, v in enumerate(func.args)}
    ops = func.ops[:-1]
    for op in ops:
        for v in op.results:
            slot[v] = len(slot)
    last, keep = {}, set(func.args) | set(func.returns)
    for k, op in enumerate(ops):
        for v in op.operands:
            if v not in keep:
                last[v] = k
    dead = [[] for _ in ops]
    for v, k in last.items():
        dead[k].append(slot[v])
    steps = [(op, [slot[v] for v in op.operands], [slot[v] for v in op.results], dead[k])
             for k, op in enumerate(ops)]
    # one op returning its results, reading arguments only: the order it reads them in
    direct = len(ops) == 1 and ops[0].results == list(func.returns) \
        and all(slot[v] < len(func.args) for v in ops[0].operands) \
        and [slot[v] for v in ops[0].operands]
    return steps, ([slot[v] for v in func.returns], len(slot)), direct


def _print_pass(name, func):
    print(f"// ----- IR after {name}\n{print_function(func)}")


def _plan(key, make_func):
    plan = _plans.get(key) if key is not None else None
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.pop(next(iter(_plans)))
        with _collector_paused():
            func = make_func()
            if key is None:  # graphs with regions key by their printed structure
                key = func.structural_key()
                plan = _plans.get(key)
            if plan is None:
                plan = _plans[key] = Plan(func)
    return plan


@contextlib.contextmanager
def _collector_paused():
    """Planning allocates tens of objects per op, most of them kept by the
    plan, and the cyclic collector's passes over them (and the heap behind,
    large once Numba is loaded) took a quarter to a third of a big plan's
    time (3000 ops: 325-464 ms, 230 ms paused). Planning makes no garbage
    cycles worth collecting meanwhile."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def plan_for(func):
    """The plan of `func` (built, or found by its printed structure)."""
    return _plan(None, lambda: func)


def clear_plans():
    """Forget every plan (kernels stay in `codegen.cache`); for tests."""
    _plans.clear()
    _by_node.clear()


def _pending(values):
    pending = [v for v in values if v.data is None]
    return list(dict.fromkeys(pending)) if len(pending) > 1 else pending


def plan_of(values):
    """(plan, pending values, leaves) for the unmaterialized `values`; the
    plan is None when everything is materialized. A single value whose
    recorded node is fresh finds its plan by the node's id; otherwise the
    graph is walked, and the function is built only when no plan exists for
    its structure."""
    if len(values) == 1:  # the common force: one tensor
        pending = values if values[0].data is None else []
    else:
        pending = _pending(values)
    if not pending:
        return None, pending, []
    node = pending[0].node if len(pending) == 1 else None
    if node is not None and node[2] >= FORCES[0]:
        plan = _by_node.get(node[0])
        if plan is not None:
            return plan, pending, node[1]
    order, leaves, key = walk(pending)
    plan = _plan(key, lambda: build(order, leaves, pending))
    if node is not None and node[2] >= FORCES[0] and len(leaves) == len(node[1]) \
            and all(a is b for a, b in zip(leaves, node[1])):
        if len(_by_node) >= 4 * _MAX_PLANS:
            _by_node.clear()
        _by_node[node[0]] = plan
    return plan, pending, leaves


def force_count():
    """How many graphs were forced so far (a trace checks none was)."""
    return FORCES[0]


def evaluate_values(values, compiled=None):
    plan, pending, leaves = plan_of(values)
    if plan is None:
        return
    FORCES[0] += 1
    settings = config.SETTINGS
    if settings["check_inputs"]:
        inputs.verify(leaves)
    args = list(map(_DATA, leaves))
    fast = plan.fast
    outs = fast(args) if fast is not None and compiled is None else None
    if outs is not None:
        _computed_directly(pending, outs, plan)
        return
    if settings["debug"]:
        outs = _run_reporting(plan, args, compiled, settings["debug"])
    else:
        outs = _run_keeping_direct(plan, args, compiled)
    done = (plan, plan.ran_compiled)
    given = set() if len(outs) > 1 else None  # results merged by CSE get one buffer each
    for v, out in zip(pending, outs):
        v.data = owned(out, v.type.shape, args, plan, given)
        v.owner = None  # drop the graph: later graphs read the buffer
        v.source = done


def launched(v):
    """Whether unforced `v` was computed by its known plan's direct launch
    (see `Plan.direct`): the common force of a loop, one fresh value, taken
    without the general path's lists (False: take that path)."""
    node = v.node
    if node is None or node[2] < FORCES[0]:
        return False
    plan = _by_node.get(node[0])
    launch = plan.by_leaves if plan is not None else None
    if launch is None:
        return False
    args = launch[0](node[1])
    if args is None:
        return False
    v.data = launch[1](args)[0]  # (the plan of one value returns one)
    FORCES[0] += 1
    v._owner = v.recipe = None  # (as `_computed_directly` does)
    v.source = plan.done
    return True


def _computed_directly(pending, outs, plan):
    """Hand `plan`'s direct launch results `outs` to `pending` (each result a
    new buffer: no ownership checks), dropping their graphs."""
    for v, out in zip(pending, outs):
        v.data = out
        v._owner = v.recipe = None  # (`owner = None`, without the property)
        v.source = plan.done


def run_plan(plan, args, compiled=None):
    """`plan.run(args, compiled)`, directly where the latest compiled run's
    arguments were laid out as these (see `Plan.direct`); the outputs, which
    may be arguments or constants of the plan (see `owned`)."""
    fast = plan.fast
    outs = fast(args) if fast is not None and compiled is None else None
    return outs if outs is not None else _run_keeping_direct(plan, args, compiled)


def _run_keeping_direct(plan, args, compiled):
    """`plan.run`, keeping the direct launch of a compiled run (`Plan.direct`)
    for later runs on arguments laid out as these."""
    outs = plan.run(args, compiled)
    if plan.ran_compiled and plan.launcher is not None:
        plan.fast = plan.direct(args)
    return outs


def owned(out, shape, args, plan, given=None):
    """A plan's result `out` as an array of `shape` the user may write into:
    copied where it is memory a result must not share (read-only, an
    argument or a constant of the plan, or in `given`: a buffer already
    handed out by this run, as results merged by CSE share one)."""
    if type(out) is np.ndarray and (out.base is None or is_fresh(out)) and given is None \
            and out.shape == shape:
        flags = out.flags  # the common case: a fresh array the run allocated
        if flags.c_contiguous and flags.writeable and id(out) not in plan.constants():
            for a in args:
                if a is out:
                    break
            else:
                return out
    if type(out) is not np.ndarray or out.shape != shape or not out.flags.c_contiguous:
        out = np.ascontiguousarray(out).reshape(shape)
    if not out.flags.writeable or _held(out, args, plan) or \
            given is not None and (id(out) in given or given.add(id(out))):
        out = out.copy()
    return out


def _held(out, args, plan):
    """Whether `out` is memory a result must not share: an argument itself (a
    graph that simplified to its input: a view of an input, as `reshape`
    gives, stays one, as in NumPy) or a constant the plan keeps between runs."""
    held, a = plan.constants(), out
    while isinstance(a, np.ndarray):
        if id(a) in held:
            return True
        a = a.base
    return any(out is a for a in args)


def _run_reporting(plan, args, compiled, level):
    """`plan.run` with the timings and build log `LAZYOPS_DEBUG` prints."""
    timings = []
    mark = builds()
    t0 = time.perf_counter()
    outs = plan.run(args, compiled, timings)
    elapsed = time.perf_counter() - t0
    _report(plan, timings, elapsed, level)
    for line in build_report(mark, elapsed):
        print(f"[lazyops]   {line}")
    return outs


def computed_by(value):
    """(plan, ran compiled?) that computed a forced value, or None."""
    return value.source


def _report(plan, timings, total, level):
    path = "compiled" if timings else "interpreter"
    print(f"[lazyops] forced {len(plan.kernels)} kernel(s) via {path} in {total * 1e3:.3f} ms")
    for op, dt, vals, _ in timings or []:
        name = op.attrs.get("name", op.name)
        print(f"[lazyops]   {name:>8} {dt * 1e3:9.3f} ms  {op.name}")
        launcher = plan.launchers.get(op)
        if level >= 2 and launcher is not None:
            print(launcher.explain_for(vals)[2])


def evaluate(*tensors):
    """Force several tensors in one schedule (shared subexpressions computed
    once); returns their NumPy arrays."""
    evaluate_values([t._value for t in tensors])
    return tuple(t.numpy() for t in tensors)  # handed out: see `Tensor.numpy`
