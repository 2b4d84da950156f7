"""keras.ops.while_loop, fori_loop, scan, map and vectorized_map.

A `scan` whose body is elementwise over its carries (a recurrence such as
`h = a * h + x_t`, each element of the carries its own independent chain) is
traced once into the region of a `lazy.scan` op and compiled as one loop
over the steps (see `_recurrence`); so is a `fori_loop` (a scan over its step
indices) and a `while_loop` whose test reads only scalar carries (`_while`,
a `lazy.while` op). A `map` or `vectorized_map` of an elementwise function is
that function's ops on the whole tensors (`_vectorized`). A scan or while
loop whose traced regions are anything else (reductions, reshapes) runs
their plans step by step on the arrays when forced (the op is a library
op to fusion, see `scheduler/recurrence.py`; `_scan_rule`, `_while_rule`),
in one compiled loop calling their kernels in order once they are
compiled (`codegen.driver`); so does a map of any other function (a scan
without carries). Either way the loop is an op of the graph: recording it
computes nothing, and `lazyops.function` replays it on new inputs.
Otherwise loops are driven from Python as Keras's NumPy backend drives
them: the body is called once per step on lazy tensors, and each step's
carries (and per-step outputs) are forced at its end, so the graph never
grows with the number of steps. Each step's body is one fused plan, found
by structure after the first step.
associative_scan lives in `lazyops/associative.py`."""
import numpy as np

from . import config, engine, regions
from .api import _tensor, shape, zeros
from .api_shape import broadcast_to, stack
from .codegen import driver  # (its classes used on first use only)
from .control import _leaves, _rebuild, _structure
from .engine import evaluate
from .ir import interpreter
from .ir.dtypes import is_int
from .ir.core import Function, Operation
from .ir.types import TensorType
from .recording import TracedValueError, record
from .scheduler.recurrence import elementwise_block, recurrence
from .tensor import Tensor, WeakInt


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply `body` to `loop_vars` while `cond(*loop_vars)` holds (at most
    `maximum_iterations` times); loop_vars a tensor or a tuple/list of them."""
    _callables("while_loop", cond=cond, body=body)
    many = isinstance(loop_vars, (tuple, list))
    carry = _tensors(tuple(loop_vars) if many else (loop_vars,), "while_loop", "loop_vars")
    compiled = _while(cond, body, carry, maximum_iterations)
    if compiled is not None:
        return type(loop_vars)(compiled) if many else compiled[0]
    steps = 0
    while maximum_iterations is None or steps < maximum_iterations:
        if not _truth(cond(*carry), "while_loop"):
            break
        out = body(*carry)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        carry = _next_carry("while_loop", carry, out)
        steps += 1
    return type(loop_vars)(carry) if many else carry[0]


def _while(cond, body, carry, maximum_iterations):
    """`while_loop` as one `lazy.while` op, where `cond` and `body` trace
    (into a scalar bool and carries like the initial ones). Compiled where
    `cond` is elementwise over the scalar carries (a counter, a tolerance)
    and `body` an elementwise recurrence (see `_recurrence`): every
    element's chain then runs the same steps; otherwise (a test reducing a
    vector) their plans run step by step when forced (`_while_rule`). None
    where they do not trace: the loop is driven from Python."""
    if not carry or (maximum_iterations is not None and int(maximum_iterations) < 0):
        return None
    types = [c._value.type for c in carry]
    found = {}

    def test(args):
        t = _tensor(cond(*args), "while_loop", "cond's result")
        found["test"] = (t.shape, t.dtype)
        return [t._value]

    def step(args):
        out = body(*args)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        found["new"] = [_tensor(t, "while_loop", "the body's result") for t in out]
        return [t._value for t in found["new"]]
    traced = _traced(test, types), _traced(step, types)
    if None in traced:
        return None
    (test_region, test_captures), (body_region, body_captures) = traced
    if found["test"] != ((), "bool") or \
            [(t.shape, t.dtype) for t in found["new"]] != [(c.shape, c.dtype) for c in carry]:
        return None
    attrs = {"carries": len(carry), "cond_captures": len(test_captures),
             "maximum_iterations": -1 if maximum_iterations is None else int(maximum_iterations)}
    operands = [c._value for c in carry] + list(test_captures) + list(body_captures)
    return tuple(Tensor(r) for r in _looped("while", operands, attrs, types,
                                            [test_region, body_region]))


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for i in range(lower, upper), from `init_val`."""
    _callables("fori_loop", body_fun=body_fun)
    carry = _tensors(init_val, "fori_loop", "init_val")
    lower, upper = int(lower), int(upper)
    if upper > lower:  # the step index as a scanned int32 array: compiled where elementwise
        steps = _tensor(np.arange(lower, upper, dtype="int32"), "fori_loop", "the step indices")

        def step(c, i):  # Keras's body gets Python ints: the index is weakly typed
            i = WeakInt(i._value)
            out = body_fun(i, c)
            if not all(_holds(d, lower, upper) for d in i.casts):
                raise OverflowError("an index beyond a dtype it meets")  # the loop as Keras's
            return out, None
        compiled = _recurrence(step, carry, steps, [steps], upper - lower, False)
        if compiled is not None:
            return compiled[0]
    for i in range(lower, upper):
        carry = _next_carry("fori_loop", carry, body_fun(i, carry))
    return carry


def _holds(dtype, lower, upper):
    """Whether `dtype` holds every int in [lower, upper) exactly (a traced
    index cast into it is then the Python int Keras's body gets; beyond,
    NumPy raises or rounds, so the loop runs as Keras's does)."""
    if is_int(dtype):
        info = np.iinfo(dtype)
        return info.min <= lower and upper - 1 <= info.max
    exact = {"float16": 2 ** 11, "bfloat16": 2 ** 8, "float32": 2 ** 24, "float64": 2 ** 53}
    return dtype in exact and -exact[dtype] <= lower and upper - 1 <= exact[dtype]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """`carry, y = f(carry, x)` over the leading axis of `xs` (or `length`
    steps); returns the last carry and the stacked ys."""
    _callables("scan", f=f)
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: `unroll` must be a positive int or a bool, got {unroll!r}")
    if xs is None and length is None:
        raise ValueError("scan: give `xs` to scan over, or `length` when there is none")
    xs_leaves = [_tensor(x, "scan", "xs") for x in _leaves(xs)] if xs is not None else []
    n = int(length) if length is not None else shape(xs_leaves[0])[0]
    for x in xs_leaves:
        if not x.shape or x.shape[0] < n:
            raise ValueError(f"scan: every leaf of `xs` needs a leading axis of at least {n}, "
                             f"got shape {x.shape}")
    carry, ys = _tensors(init, "scan", "init"), []
    init_carry = carry
    compiled = _recurrence(f, carry, xs, xs_leaves, n, reverse)
    if compiled is not None:
        return compiled[0], _no_y(compiled[1], carry, n)
    for i in (reversed(range(n)) if reverse else range(n)):
        x = _rebuild(_structure(xs), iter([t[i] for t in xs_leaves])) if xs is not None else None
        out = f(carry, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"scan: `f` must return (carry, y), got {type(out).__name__}")
        y = _tensors(out[1], "scan", "y") if out[1] is not None else None
        carry = _next_carry("scan", carry, out[0], also=y)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _no_y(_stacked(ys, "scan"), init_carry, n)


def _no_y(ys, carry, n):
    """The stacked outputs; where `f` gives none, zeros like each leaf of the
    carry, one per step, in a list (Keras's NumPy backend stacks those)."""
    if ys is not None:
        return ys
    return [zeros((n,) + tuple(c.shape), c.dtype) for c in _leaves(carry)]


def _recurrence(f, carry, xs, xs_leaves, n, reverse, only=None):
    """`scan` as one `lazy.scan` op, where its body traces (into carries
    like the initial ones). Compiled where the body is an elementwise
    recurrence: every carry of one shape S or a scalar, the body's ops
    elementwise (and constants) over values of shape S or scalars, and so
    its outputs. Each element of S is then an independent chain of n steps,
    which a kernel runs in parallel (scalar carries, which read only
    scalars, are the same in every chain). A body that is anything else
    (reductions, reshapes) runs its plan step by step when forced
    (`_scan_rule`). None where the body does not trace (Python control flow
    on traced values, a forced value): the loop is driven from Python. With
    `only` (a test of the traced region's block), None also where the body
    is no recurrence or fails the test."""
    carries = _leaves(carry)
    if n < 1:
        return None
    xs_leaves = [x if x.shape[0] == n else x[:n] for x in xs_leaves]
    slices = [TensorType(x.shape[1:], x.dtype) for x in xs_leaves]
    found = {}

    def body(args):
        c = _rebuild(_structure(carry), iter(args[:len(carries)]))
        x = _rebuild(_structure(xs), iter(args[len(carries):])) if xs is not None else None
        out = f(c, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise regions.TraceError("the body does not return (carry, y)")
        new = [_tensor(t, "scan", "the body's result") for t in _leaves(out[0])]
        ys = [_tensor(t, "scan", "y") for t in _leaves(out[1])] if out[1] is not None else []
        found.update(carry=_structure(out[0]), y=_structure(out[1]), has_y=out[1] is not None,
                     new=new, ys=ys)
        return [t._value for t in new + ys]
    traced = _traced(body, [c._value.type for c in carries] + slices)
    if traced is None:
        return None
    region, captures = traced
    if found["carry"] != _structure(carry) or \
            [(t.shape, t.dtype) for t in found["new"]] != [(c.shape, c.dtype) for c in carries]:
        return None  # the Python-driven loop reports the mismatch
    operands = [c._value for c in carries] + [x._value for x in xs_leaves] + list(captures)
    types = [c._value.type for c in carries] + [
        TensorType((n,) + y.shape, y.dtype) for y in found["ys"]]
    attrs = {"carries": len(carries), "xs": len(xs_leaves), "length": n, "reverse": bool(reverse)}
    if only is not None and not (
            recurrence(Operation("lazy.scan", operands, types, attrs, [region]))
            and only(region.block)):
        return None
    outs = iter([Tensor(r) for r in _looped("scan", operands, attrs, types, [region])])
    last = _rebuild(_structure(carry), outs)
    return last, (_rebuild(found["y"], outs) if found["has_y"] else None)


def _step_plan(region):
    """The plan of `region`'s body as a function of its block arguments
    returning what it yields, or None where it cannot be planned."""
    block = region.block.clone({})
    block.ops[-1] = Operation("func.return", list(block.ops[-1].operands), [])
    try:
        return engine.plan_for(Function("step", block))
    except Exception:  # noqa: BLE001 - the Python-driven loop runs it instead
        return None


def _repeated(plan, steps):
    """Mark `plan` as a loop's step where `steps` runs of it are a large
    plan's work: it compiles as one does (see `Plan.repeats`)."""
    if steps * plan.work >= config.get("small_work"):
        plan.repeats = True


# (loop op -> the step plans of its regions, or None): a cached plan runs the
# same op objects on every force
_STEP_PLANS = {}


def _step_plans(op):
    """The plans of loop op `op`'s regions, run step by step; None where it
    is a recurrence (a compiled loop's kernel, here interpreted while it
    compiles) or a region cannot be planned: the interpreter runs it."""
    plans = _STEP_PLANS.get(op, False)
    if plans is False:
        if len(_STEP_PLANS) > 256:
            _STEP_PLANS.clear()
        plans = None if recurrence(op) else [_step_plan(r) for r in op.regions]
        plans = _STEP_PLANS[op] = None if plans is None or None in plans else plans
    return plans


def _scan_rule(op, args):
    """`lazy.scan` run on the host (see `interpreter.REGION_RULES`): its
    body's plan step by step (`_step_scan`); a loop without steps, or one
    `_step_plans` leaves to it, the interpreter's way."""
    a = op.attrs
    plans = None if a["length"] < 1 else _step_plans(op)
    if plans is None:
        return interpreter.run_scan(op, args)
    k, j = a["carries"], a["xs"]
    return _step_scan(plans[0], list(args[:k]), list(args[k:k + j]), list(args[k + j:]),
                      a["length"], a["reverse"])


def _step_scan(plan, c, xs, caps, n, reverse):
    """The last carries, then the stacked step outputs, of a scan whose body
    is `plan` (on the carries, a step's slices, the captures), run step by
    step on the arrays (compiled once it is hot, as any plan), without
    recording or forcing a graph per step."""
    _repeated(plan, n)
    k = len(c)
    ys, drive = None, None
    for s, t in enumerate(reversed(range(n)) if reverse else range(n)):
        if drive and drive.ready:  # the rest of the steps in one compiled loop
            done = _drive(drive, drive.arguments(s, n, reverse, c, xs, caps, ys))
            if done is not None:
                c = done
                break
            drive = False
        args = c + [x[t, ...] for x in xs] + caps  # (0-d arrays, not NumPy scalars)
        outs = engine.run_plan(plan, args)
        if ys is None:
            ys = [np.empty((n,) + y.shape, y.dtype) for y in outs[k:]]
        if drive is None and _steady(plan):
            drive = _driver(plan, args, k, len(xs),
                            lambda d: d.arguments(0, n, reverse, c, xs, caps, ys)) or False
        c = list(outs[:k])
        for y, out in zip(ys, outs[k:]):
            y[t] = out
    # a last carry may be an argument or a constant the plan keeps: a copy
    return tuple([np.array(v, copy=True) for v in c] + ys)


def _driver(plan, args, k, m, sample):
    """The compiled step loop (`codegen.driver`) running `plan` as a scan's
    body on step arguments laid out as `args` (carries, slices, captures),
    compiled for `sample(driver)` (its arguments) in the background, or now
    with `tiered` off; None where the plan's launch is not plain (its kernel
    then runs from Python each step)."""
    key = tuple([engine.LAYOUT(a) for a in args])  # (`map` here is keras.ops.map)
    drive = plan.drivers.get(key)
    if drive is None:
        region = _region(plan, args, "")
        drive = plan.drivers[key] = region and driver.ScanDriver(
            region, k, m, len(args) - k - m, len(plan.returns[0]) - k)
        if drive:
            drive.compile(sample(drive), ahead=config.get("tiered"))
    return drive or None


def _drive(drive, args):
    """The last carries from compiled loop `drive`, or None where it fails
    (arguments of types it cannot take): the steps then run from Python,
    from the same carries (the loop works on copies)."""
    try:
        return drive(args)
    except Exception:  # noqa: BLE001
        drive.ready = False
        return None


def _steady(plan):
    """Whether `plan`'s latest run was compiled, kernels only (no NumPy
    step): its kernels' launches on a step's arrays are known."""
    return bool(plan.ran_compiled and plan.kernels and not plan.numpy_ops)


def _region(plan, args, tag):
    """`plan` as a `codegen.driver.Region` on step arguments laid out as
    `args`, where each kernel launches plainly on the arrays a step passes
    it (found by running the step once more); else None."""
    if not _steady(plan):
        return None
    launches = []

    def launch(op, vals):
        outs = plan.launchers[op](vals)
        replay = plan.launchers[op].replay_for(vals)
        plain = replay is not None and replay.plain and replay.plain[2] is not None
        launches.append(plain and (replay, vals, outs))
        return outs
    plan._sweep(args, launch)
    if not all(launches):
        return None
    kernels = [(replay, ins, outs, vals, results)
               for (replay, vals, results), (_, ins, outs, _) in zip(launches, plan.steps)]
    return driver.Region(tag, kernels, len(args), plan.returns[0])


def _while_rule(op, args):
    """`lazy.while` run on the host: its regions' plans step by step
    (`_step_while`), or as `_scan_rule` says."""
    plans = _step_plans(op)
    if plans is None:
        return interpreter.run_while(op, args)
    a = op.attrs
    k, j = a["carries"], a["carries"] + a["cond_captures"]
    limit = None if a["maximum_iterations"] < 0 else a["maximum_iterations"]
    return _step_while(*plans, list(args[:k]), list(args[k:j]), list(args[j:]), limit)


def _step_while(test_plan, body_plan, c, test_caps, body_caps, limit):
    """The last carries of a while loop whose test and body are these plans,
    run step by step on the arrays (see `_step_scan`), at most `limit` steps
    (None: no limit)."""
    for plan in (test_plan, body_plan):  # steps unknown: as many as a limit allows
        _repeated(plan, 1 << 30 if limit is None else limit)
    k = len(c)
    steps, drive = 0, None
    while limit is None or steps < limit:
        if drive and drive.ready:  # the rest of the steps in one compiled loop
            left = -1 if limit is None else limit - steps
            done = _drive(drive, drive.arguments(left, c, test_caps, body_caps))
            if done is not None:
                c = done
                break
            drive = False
        test_args, body_args = c + test_caps, c + body_caps
        if not engine.run_plan(test_plan, test_args)[0]:
            break
        c = list(engine.run_plan(body_plan, body_args)[:k])
        steps += 1
        if drive is None and _steady(test_plan) and _steady(body_plan):
            drive = _while_driver(test_plan, test_args, body_plan, body_args, k) or False
    return tuple([np.array(v, copy=True) for v in c])


def _while_driver(test_plan, test_args, body_plan, body_args, k):
    """The compiled loop (`codegen.driver`) running a while loop's test and
    body plans on arguments laid out as these; None where either's launch
    is not plain."""
    key = tuple([engine.LAYOUT(a) for a in test_args + body_args])
    drive = body_plan.drivers.get(key)
    if drive is None:
        test, body = _region(test_plan, test_args, "t"), _region(body_plan, body_args, "b")
        drive = body_plan.drivers[key] = test and body and driver.WhileDriver(
            test, body, k, len(test_args) - k, len(body_args) - k)
        if drive:
            drive.compile(drive.arguments(-1, body_args[:k], test_args[k:], body_args[k:]),
                          ahead=config.get("tiered"))
    return drive or None


def _traced(fn, types):
    """`regions.trace(fn, types)`, or None where tracing fails in any other
    way than Python control flow on a traced value (`TracedValueError`): the
    caller then runs `fn` step by step, as Keras does, raising its errors."""
    try:
        return regions.trace(fn, types)
    except TracedValueError:
        raise
    except Exception:  # noqa: BLE001 - any failure: the step-by-step path decides
        return None


def _looped(name, operands, attrs, types, regions_):
    """Record the loop op `name` holding `regions_`; its result values."""
    results = record(name, operands, attrs, result_types=types)
    results = results if isinstance(results, list) else [results]
    results[0].owner.regions = regions_
    for r in results:  # a node keys no region: such graphs key by printing
        r.node = None
    return results


def map(f, xs):  # noqa: A001  (keras.ops.map)
    """`f` applied to each slice of `xs` along its leading axis, stacked."""
    _callables("map", f=f)
    parts = [_tensor(x, "map", "xs") for x in _leaves(xs)]
    whole = _vectorized(lambda args: f(_rebuild(_structure(xs), iter(args))), parts)
    if whole is not None:
        return whole
    return scan(lambda _, x: ((), f(x)), (), xs)[1]


def vectorized_map(function, elements):
    """`function` applied to each element of `elements` along the leading
    axis (each slice of every tensor when `elements` is a tuple or list),
    stacked."""
    _callables("vectorized_map", function=function)
    many = isinstance(elements, (tuple, list))
    parts = [_tensor(e, "vectorized_map", "elements") for e in (elements if many else [elements])]
    whole = _vectorized(lambda args: function(list(args) if many else args[0]), parts)
    if whole is not None:
        return whole
    return scan(lambda _, x: ((), function(list(x) if many else x)), (),
                parts if many else parts[0])[1]


def _vectorized(call, parts):
    """The stacked results of `call(slices)` over the leading axis of `parts`
    as one graph over the whole tensors, where `call` traces into an
    elementwise region over slices of one shape S (values of shape S or
    scalars): its ops are recorded again on the whole tensors, so they fuse
    into one kernel over the leading axis and S. None otherwise."""
    if not parts or any(not p.shape or p.shape[1:] != parts[0].shape[1:]
                        or p.shape[0] != parts[0].shape[0] for p in parts) or parts[0].shape[0] < 1:
        return None
    space = parts[0].shape[1:]
    found = {}

    def body(args):
        out = call(args)
        found["structure"] = _structure(out)
        return [_tensor(t, "map", "f's result")._value for t in _leaves(out)]
    traced = _traced(body, [TensorType(space, p.dtype) for p in parts])
    if traced is None:
        return None
    region, captures = traced
    block = region.block
    if not elementwise_block(block, space):
        return None
    values = dict(zip(block.args, [p._value for p in parts] + list(captures)))
    for op in block.ops[:-1]:
        values[op.results[0]] = record(op.name, [values[v] for v in op.operands], op.attrs)
    n = parts[0].shape[0]
    outs = [broadcast_to(Tensor(values[v]), (n,) + tuple(space)) for v in block.ops[-1].operands]
    return _rebuild(found["structure"], iter(outs))


def _callables(api, **fns):
    for name, fn in fns.items():
        if not callable(fn):
            raise TypeError(f"{api}: `{name}` must be a callable, got {type(fn).__name__}")


def _tensors(tree, api, arg):
    """`tree` with every leaf a tensor."""
    return _rebuild(_structure(tree), iter([_tensor(t, api, arg) for t in _leaves(tree)]))


def _truth(c, api):
    t = _tensor(c, api, "cond's result")
    if t.size != 1:
        raise ValueError(f"{api}: `cond` must return a scalar boolean, got shape {t.shape}")
    return bool(t)


def _next_carry(api, carry, out, also=None):
    """`out` as the next carry: the structure, shapes and dtypes of `carry`
    (as in JAX), forced together with `also` (the step's other outputs)."""
    out = _tensors(out, api, "the body's result")
    want, got = _signature(carry), _signature(out)
    if want != got:
        raise ValueError(f"{api}: the body returns {_show(got)}, but the carry is "
                         f"{_show(want)}; they must match in structure, shapes and dtypes")
    pending = [t for t in _leaves(out) + (_leaves(also) if also is not None else [])
               if isinstance(t, Tensor) and not t.is_materialized]
    if pending:
        evaluate(*pending)
    return out


def _signature(tree):
    return _structure(tree), [(tuple(t.shape), t.dtype) for t in _leaves(tree)]


def _show(sig):
    structure, leaves = sig
    kind = "a tensor" if structure is None else structure[0].__name__
    return f"{kind} of {', '.join(f'{d}{list(s)}' for s, d in leaves) or 'nothing'}"


def _stacked(ys, api):
    """Each leaf of the per-step outputs stacked along a new leading axis."""
    if not ys or ys[0] is None:
        return None
    structure = _structure(ys[0])
    columns = zip(*[_leaves(y) for y in ys])
    return _rebuild(structure, iter([stack(list(c)) for c in columns]))


# forced loops that are no recurrence run their plans step by step
interpreter.REGION_RULES.update({"lazy.scan": _scan_rule, "lazy.while": _while_rule})
